//! The analysis pipeline: inputs → decoded snapshots → diagnosis → report. Decides which decoder
//! reads each input (by content), which time the report is relative to, and turns unreadable
//! inputs into `input-unreadable` findings while everything else is still analyzed.

use std::path::PathBuf;

use chrono::NaiveDateTime;

use crate::diagnose::{self, DEFAULT_EXPIRY_WINDOW_DAYS, stamp};
use crate::input::{self, InputFile};
use crate::model::{Evidence, Finding, InputSummary, Report, SCHEMA};
use crate::rules::{Rules, Severity};
use crate::slmgr::{SlmgrError, SlmgrReader};
use crate::snapshot::LicenseSnapshot;

/// How to analyze.
#[derive(Debug, Clone)]
pub struct Options {
    /// The time the report is relative to; `None`: the newest trusted time in the input, else
    /// the clock.
    pub now: Option<NaiveDateTime>,
    /// Days before an end date at which to warn.
    pub window_days: i64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: None,
            window_days: DEFAULT_EXPIRY_WINDOW_DAYS,
        }
    }
}

/// Reads every input and decodes what it can.
pub fn read_inputs(rules: &Rules, paths: &[PathBuf]) -> (Vec<LicenseSnapshot>, Vec<InputSummary>) {
    let mut snapshots = Vec::new();
    let mut summaries = Vec::new();
    let reader = SlmgrReader::new(rules);
    for f in input::collect(paths) {
        let (snaps, summary) = read_one(&reader, f);
        snapshots.extend(snaps);
        summaries.push(summary);
    }
    (snapshots, summaries)
}

fn read_one(reader: &SlmgrReader, f: InputFile) -> (Vec<LicenseSnapshot>, InputSummary) {
    let mut summary = InputSummary {
        path: f.path.clone(),
        format: "unknown",
        status: "unreadable",
        encoding: None,
        languages: Vec::new(),
        machines: Vec::new(),
        lines: 0,
        not_understood: Vec::new(),
        warnings: Vec::new(),
        error: None,
    };
    let bytes = match f.bytes {
        Ok(b) => b,
        Err(e) => {
            summary.error = Some(e);
            return (Vec::new(), summary);
        }
    };
    match reader.parse(&f.path, &bytes) {
        Ok(snaps) => {
            summary.format = "slmgr";
            summary.encoding = snaps.first().map(|s| s.encoding.clone());
            for s in &snaps {
                for l in &s.languages {
                    if !summary.languages.contains(l) {
                        summary.languages.push(l.clone());
                    }
                }
                summary.machines.push(
                    s.machine
                        .clone()
                        .unwrap_or_else(|| diagnose::machine_from_path(&s.path)),
                );
                summary.lines = summary.lines.saturating_add(s.lines_read);
                summary
                    .not_understood
                    .extend(s.not_understood.iter().cloned());
                summary.warnings.extend(s.warnings.iter().cloned());
            }
            summary.status = if summary.not_understood.iter().any(|n| n.taken_as.is_none()) {
                "partial"
            } else {
                "read"
            };
            (snaps, summary)
        }
        Err(e) => {
            if let Some(format) = crate::events::detect(&bytes) {
                // An event log is readable, just not diagnosed by this version: say so plainly.
                summary.format = format;
                summary.status = "skipped";
                summary.error = Some(format!(
                    "{}: an event log ({format}); `kmsdiag events` lists its activation events, `analyze` does not diagnose event logs yet",
                    f.path
                ));
                return (Vec::new(), summary);
            }
            if matches!(e, SlmgrError::NotSlmgr { .. }) && !f.explicit {
                summary.status = "skipped";
            }
            summary.error = Some(e.to_string());
            (Vec::new(), summary)
        }
    }
}

/// The full analysis of the given inputs.
pub fn analyze(rules: &Rules, paths: &[PathBuf], opts: &Options) -> Report {
    let (snapshots, inputs) = read_inputs(rules, paths);
    build_report(rules, snapshots, inputs, opts)
}

/// Diagnoses decoded snapshots into a report.
pub fn build_report(
    rules: &Rules,
    snapshots: Vec<LicenseSnapshot>,
    inputs: Vec<InputSummary>,
    opts: &Options,
) -> Report {
    let observed = snapshots
        .iter()
        .filter_map(LicenseSnapshot::observed_at)
        .max();
    let (now, now_source) = match (opts.now, observed) {
        (Some(n), _) => (n, "flag"),
        (None, Some(o)) => (o, "input"),
        (None, None) => (chrono::Local::now().naive_local(), "clock"),
    };
    let machines = diagnose::group_machines(snapshots);
    let mut d = diagnose::diagnose(rules, &machines, now, opts.window_days);
    d.findings.extend(unreadable_findings(rules, &inputs));
    Report {
        schema: SCHEMA,
        now: stamp(now),
        now_source,
        inputs,
        machines: d.machines,
        hosts: d.hosts,
        findings: d.findings,
    }
}

fn unreadable_findings(rules: &Rules, inputs: &[InputSummary]) -> Vec<Finding> {
    let rule = rules.finding("input-unreadable");
    inputs
        .iter()
        .filter(|i| i.status == "unreadable")
        .map(|i| {
            let why = i
                .error
                .clone()
                .unwrap_or_else(|| "could not be read".to_owned());
            Finding {
                id: "input-unreadable".to_owned(),
                severity: rule.map_or(Severity::Error, |r| r.severity),
                machines: Vec::new(),
                codes: Vec::new(),
                title: rule.map_or_else(
                    || "An input could not be read".to_owned(),
                    |r| r.title.clone(),
                ),
                explanation: format!("{why}. {}", rule.map_or("", |r| r.explanation.as_str())),
                next_steps: rule.map_or_else(Vec::new, |r| r.next_steps.clone()),
                evidence: vec![Evidence {
                    path: i.path.clone(),
                    line: None,
                    record_id: None,
                    time: None,
                    excerpt: crate::report::sanitize(&why, true).into_owned(),
                }],
            }
        })
        .collect()
}

/// Whether anything at all was read.
pub fn has_readable_input(report: &Report) -> bool {
    report
        .inputs
        .iter()
        .any(|i| matches!(i.status, "read" | "partial"))
}
