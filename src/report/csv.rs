//! Rendering an analysis report as CSV: one row per finding and machine it concerns (and one row
//! for each machine without findings), what needs doing first (findings about no machine, then
//! the machines failing, warning, unknown, ok), every cell safe to open in a spreadsheet.

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{View, csv_cell, csv_error};
use crate::model::names::same_machine;
use crate::model::{Finding, Machine, Report, severity_name};

/// The header row.
pub(crate) const COLUMNS: [&str; 15] = [
    "as_of",
    "machine",
    "verdict",
    "role",
    "license_status",
    "kms_host",
    "finding",
    "severity",
    "codes",
    "title",
    "explanation",
    "next_steps",
    "evidence_count",
    "first_evidence",
    "last_evidence",
];

fn evidence_cell(view: &View, f: &Finding, last: bool) -> String {
    let e = if last {
        f.evidence.last()
    } else {
        f.evidence.first()
    };
    e.map(|e| {
        let mut at = e.path.clone();
        if let Some(l) = e.line {
            let _ = write!(at, ":{l}");
        }
        if let Some(id) = e.record_id {
            let _ = write!(at, " #{id}");
        }
        if let Some(t) = &e.time {
            at.push(' ');
            at.push_str(&view.zone.show(t));
        }
        format!("{at}  {}", e.excerpt)
    })
    .unwrap_or_default()
}

/// Writes the report as CSV.
pub(crate) fn write_csv(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    // Control characters (escape sequences, bidi overrides) are made visible, then formula
    // starts neutralised.
    let cell = csv_cell;
    out.write_record(COLUMNS).map_err(csv_error)?;
    let machine_cells = |m: Option<&Machine>, name: &str| -> [String; 5] {
        [
            cell(name),
            m.map(|m| m.verdict.as_str()).unwrap_or_default().to_owned(),
            m.map_or("", |m| m.role.as_str()).to_owned(),
            m.map_or("", |m| m.license_status.as_str()).to_owned(),
            cell(m.and_then(|m| m.kms_host.as_deref()).unwrap_or_default()),
        ]
    };
    let finding_cells = |f: &Finding| -> [String; 9] {
        let codes: Vec<String> = f.codes.iter().map(ToString::to_string).collect();
        [
            cell(&f.id),
            severity_name(f.severity).to_owned(),
            codes.join(" "),
            cell(&f.title),
            cell(&f.explanation),
            cell(&f.next_steps.join(" | ")),
            f.evidence.len().to_string(),
            cell(&evidence_cell(view, f, false)),
            cell(&evidence_cell(view, f, true)),
        ]
    };
    let write = |out: &mut csv::Writer<&mut dyn Write>, m: [String; 5], f: [String; 9]| {
        let mut row = Vec::with_capacity(COLUMNS.len());
        row.push(cell(&r.now));
        row.extend(m);
        row.extend(f);
        out.write_record(row).map_err(csv_error)
    };
    // What needs doing first: the findings about no machine (an input that could not be read),
    // then the machines in report order (failing, warning, unknown, ok), each with a row per
    // finding about it or one row without.
    for f in r.findings.iter().filter(|f| f.machines.is_empty()) {
        write(&mut out, machine_cells(None, ""), finding_cells(f))?;
    }
    for m in &r.machines {
        let mut any = false;
        for f in r
            .findings
            .iter()
            .filter(|f| f.machines.iter().any(|n| same_machine(n, &m.name)))
        {
            let name = f
                .machines
                .iter()
                .find(|n| same_machine(n, &m.name))
                .map_or(m.name.as_str(), String::as_str);
            write(&mut out, machine_cells(Some(m), name), finding_cells(f))?;
            any = true;
        }
        if !any {
            write(
                &mut out,
                machine_cells(Some(m), &m.name),
                Default::default(),
            )?;
        }
    }
    // A finding's machine that is no machine of the report (unless a filter left it out).
    if r.triage.filter.is_none() {
        for f in &r.findings {
            for name in f
                .machines
                .iter()
                .filter(|n| !r.machines.iter().any(|m| same_machine(&m.name, n)))
            {
                write(&mut out, machine_cells(None, name), finding_cells(f))?;
            }
        }
    }
    out.flush()
}
