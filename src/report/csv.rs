//! Rendering an analysis report as CSV: one row per finding and machine it concerns (and one row
//! for each machine without findings), what needs doing first (findings about no machine, then
//! the machines failing, warning, unknown, ok), every cell safe to open in a spreadsheet. The
//! size stays linear in the report's: a finding's long texts (a clone finding names every clone)
//! are whole on its first row and cut short on the rows of its other machines.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use super::{View, csv_cell, csv_error};
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

/// Characters of a finding's explanation and next steps kept on the rows after its first.
const REPEATED_TEXT: usize = 200;

/// `text` as a row after a finding's first carries it: whole when short, else its first
/// [`REPEATED_TEXT`] characters and a pointer to the whole.
fn repeated(text: &str) -> String {
    match text.char_indices().nth(REPEATED_TEXT) {
        None => text.to_owned(),
        Some((cut, _)) => format!(
            "{}… (cut here: the whole text is on this finding's first row)",
            text.get(..cut).unwrap_or(text)
        ),
    }
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
    // `first`: the finding's first row, which carries its texts whole.
    let finding_cells = |f: &Finding, first: bool| -> [String; 9] {
        let codes: Vec<String> = f.codes.iter().map(ToString::to_string).collect();
        let steps = f.next_steps.join(" | ");
        let (explanation, steps) = if first {
            (cell(&f.explanation), cell(&steps))
        } else {
            (cell(&repeated(&f.explanation)), cell(&repeated(&steps)))
        };
        [
            cell(&f.id),
            severity_name(f.severity).to_owned(),
            codes.join(" "),
            cell(&f.title),
            explanation,
            steps,
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
    // finding about it (in the report's order, most severe first) or one row without. A
    // finding's first row carries its texts whole.
    let mut about: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, f) in r.findings.iter().enumerate() {
        for name in &f.machines {
            about.entry(name.as_str()).or_default().push(i);
        }
    }
    let mut written = vec![false; r.findings.len()];
    for (i, f) in r.findings.iter().enumerate() {
        if f.machines.is_empty() {
            write(&mut out, machine_cells(None, ""), finding_cells(f, true))?;
            if let Some(w) = written.get_mut(i) {
                *w = true;
            }
        }
    }
    for m in &r.machines {
        let found = about.get(m.name.as_str()).map_or(&[][..], Vec::as_slice);
        for &i in found {
            let Some(f) = r.findings.get(i) else { continue };
            let first = written.get(i).is_some_and(|w| !w);
            write(
                &mut out,
                machine_cells(Some(m), &m.name),
                finding_cells(f, first),
            )?;
            if let Some(w) = written.get_mut(i) {
                *w = true;
            }
        }
        if found.is_empty() {
            write(
                &mut out,
                machine_cells(Some(m), &m.name),
                Default::default(),
            )?;
        }
    }
    // A finding's machine that is no machine of the report (unless a filter left it out).
    if r.triage.filter.is_none() {
        let by_name: HashSet<&str> = r.machines.iter().map(|m| m.name.as_str()).collect();
        for (i, f) in r.findings.iter().enumerate() {
            for name in f.machines.iter().filter(|n| !by_name.contains(n.as_str())) {
                let first = written.get(i).is_some_and(|w| !w);
                write(&mut out, machine_cells(None, name), finding_cells(f, first))?;
                if let Some(w) = written.get_mut(i) {
                    *w = true;
                }
            }
        }
    }
    out.flush()
}
