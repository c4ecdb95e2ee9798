//! `kmsdiag rules lint` and `kmsdiag rules test`: check rule files, and run every finding's
//! samples through the real analysis. The problems are written by [`report::problems`], the
//! sample outcomes by [`report::rules_test`].

use std::io::{self, Write};
use std::path::Path;

use super::error;
use crate::cli::ExitStatus;
use crate::cli::Format;
use crate::cli::time::parse_time;
use crate::correlate::same_machine;
use crate::pipeline::{Options, analyze_inputs_with};
use crate::report::rules_test::SampleResult;
use crate::report::{self, Style};
use crate::rules::{self, Level, Rules};

/// `kmsdiag rules lint [DIR]`: the built-in rules, or the rule files in `dir`. It needs no loaded
/// rule table, so it runs when the table (or `--rules DIR`) is broken.
pub(crate) fn lint(
    dir: Option<&Path>,
    format: Format,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let (checked, problems) = match dir {
        None => ("built-in rules".to_owned(), rules::lint_embedded()),
        Some(d) => match rules::lint_dir(d) {
            Ok(p) => (d.display().to_string(), p),
            Err(e) => return Ok(error(&e.to_string())),
        },
    };
    match format {
        Format::Text => report::problems::write_text(out, style, &checked, &problems)?,
        Format::Json => report::problems::write_json(out, &checked, &problems)?,
    }
    Ok(if problems.iter().any(|p| p.level == Level::Error) {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// `kmsdiag rules test`: every finding's samples (or only those of finding `only`) through the
/// real analysis; each passes when it raises its finding (for its machine, when it names one).
pub(crate) fn test(
    rules: &Rules,
    only: Option<&str>,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let mut results = Vec::new();
    let reader = crate::slmgr::SlmgrReader::new(rules);
    for f in rules.findings() {
        if only.is_some_and(|o| o != f.id) {
            continue;
        }
        for s in &f.samples {
            let opts = Options {
                now: s.now.as_deref().and_then(parse_time),
                ..Options::default()
            };
            let name = format!("sample:{}:{}", f.id, s.name);
            let names: Vec<String> = (0..=s.also.len())
                .map(|i| {
                    if i == 0 {
                        name.clone()
                    } else {
                        format!("{name}:{i}")
                    }
                })
                .collect();
            let inputs: Vec<(&str, &[u8])> = std::iter::once(&s.input)
                .chain(s.also.iter())
                .zip(&names)
                .map(|(text, n)| (n.as_str(), text.as_bytes()))
                .collect();
            let report = analyze_inputs_with(rules, &reader, &inputs, &opts);
            let passed = report.findings.iter().any(|x| {
                x.id == f.id
                    && s.machine
                        .as_deref()
                        .is_none_or(|m| x.machines.iter().any(|n| same_machine(n, m)))
            });
            let raised = report
                .findings
                .iter()
                .map(|x| format!("{}@{}", x.id, x.machines.join(",")))
                .collect();
            results.push(SampleResult {
                finding: f.id.clone(),
                sample: s.name.clone(),
                passed,
                raised,
            });
        }
    }
    if only.is_some() && results.is_empty() {
        return Ok(error("no samples for that finding id"));
    }
    match format {
        Format::Json => report::rules_test::write_json(out, &results)?,
        Format::Text => report::rules_test::write_text(out, &results)?,
    }
    Ok(if results.iter().all(|r| r.passed) {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}
