//! `kmsdiag analyze`: reads the time and filter flags into the pipeline's options, runs the
//! analysis with a progress bar, and writes the report (to stdout or atomically to `-o FILE`)
//! through [`report::render`] with the view's filter (`--only`, `--min-severity`). The exit
//! status follows `--fail-on` over every finding, filtered or not. A run that fails (a bad flag,
//! no readable input) writes no report, neither on stdout nor to `-o FILE` (the previous report
//! there stays as it was); its error goes to stderr.

use std::io::{self, Write};

use clap::ValueEnum;

use super::{cpus, error};
use crate::cli::ExitStatus;
use crate::cli::output::write_atomic;
use crate::cli::progress::Bar;
use crate::cli::time::time_flag;
use crate::cli::{AnalyzeArgs, FailOn, MinSeverity, OnlyArg, ReportFormatArg};
use crate::model::{InputStatus, Report, Verdict};
use crate::pipeline::{Options, analyze_with_progress, has_readable_input};
use crate::report::{self, Detail, Filter, ReportFormat, Style, View};
use crate::rules::{Rules, Severity};

/// `kmsdiag analyze`. `style` is the one for where the report goes (stdout or the `-o` file).
pub(crate) fn run(
    args: &AnalyzeArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let opts = match options(args) {
        Ok(opts) => opts,
        Err(status) => return Ok(status),
    };
    let format = match report_format(args.format, args.output.as_deref()) {
        Ok(f) => f,
        Err(message) => return Ok(error(&message)),
    };
    let report = analyze_with_progress(rules, &args.paths, &opts, &Bar::for_stderr());
    warn_unreadable(&report);
    let view = View {
        style: *style,
        zone: args.tz,
        detail: if args.quiet {
            Detail::Quiet
        } else if args.verbose {
            Detail::Verbose
        } else {
            Detail::Normal
        },
        filter: filter(args),
    };
    // A run that read nothing says so on stderr and writes no report: an empty report on stdout
    // would read as "nothing wrong" to whatever consumes it.
    if !has_readable_input(&report) {
        let status = no_readable_input();
        if let Some(path) = &args.output {
            report::diagnostic(
                "note",
                &format!("{} was left as it was: the run failed", path.display()),
            );
        }
        return Ok(status);
    }
    if let Some(path) = &args.output {
        let mut bytes = Vec::new();
        report::render(&mut bytes, format, &view, &report)?;
        if let Err(e) = write_atomic(path, &bytes) {
            let hint = if matches!(
                e.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::PermissionDenied
            ) {
                "; check that the directory exists and is writable"
            } else {
                ""
            };
            return Ok(error(&format!(
                "cannot write {}: {e}{hint}",
                path.display()
            )));
        }
    } else {
        report::render(out, format, &view, &report)?;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Informational),
        FailOn::Never => None,
    };
    let fails = threshold.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if fails {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}

/// The report filter from `--only` and `--min-severity`.
fn filter(args: &AnalyzeArgs) -> Filter {
    let only: Vec<Verdict> = args
        .only
        .iter()
        .map(|o| match o {
            OnlyArg::Failing => Verdict::Failing,
            OnlyArg::Warning => Verdict::Warning,
            OnlyArg::Unknown => Verdict::Unknown,
            OnlyArg::Ok => Verdict::Ok,
        })
        .collect();
    let min = args.min_severity.map(|s| match s {
        MinSeverity::Info => Severity::Informational,
        MinSeverity::Warning => Severity::Warning,
        MinSeverity::Error => Severity::Error,
    });
    Filter::new(&only, min)
}

/// Says that no input could be read; the run fails.
fn no_readable_input() -> ExitStatus {
    error(
        "no readable input: none of the given paths holds anything kmsdiag reads (event logs and their XML, JSON, CSV or text exports, SIEM exports of them, slmgr or ospp.vbs output, a WMI licensing inventory, or for a named file any text that mentions a result code)",
    )
}

/// The pipeline's options from the flags; `Err` (after saying why) when a time flag is not a
/// time.
fn options(args: &AnalyzeArgs) -> Result<Options, ExitStatus> {
    let now = time_flag("--now", args.now.as_deref()).map_err(|e| error(&e.to_string()))?;
    let (since, until) = match (
        time_flag("--since", args.since.as_deref()),
        time_flag("--until", args.until.as_deref()),
    ) {
        (Ok(since), Ok(until)) => (since, until),
        // Both are said, so one run shows every bad bound.
        (since, until) => {
            for e in [since.err(), until.err()].into_iter().flatten() {
                report::diagnostic("error", &e.to_string());
            }
            return Err(ExitStatus::Error);
        }
    };
    Ok(Options {
        now,
        window_days: i64::from(args.expiry_window),
        since,
        until,
        machines: args.machines.clone(),
        machine_names: args.machine_names.clone(),
        threads: args.threads.map_or_else(cpus, usize::from),
        zone: args.tz,
    })
}

/// A warning on stderr for each input that could not be read, naming its file once.
fn warn_unreadable(report: &Report) {
    for i in report
        .inputs
        .iter()
        .filter(|i| i.status == InputStatus::Unreadable)
    {
        // Errors name their file; say it once.
        let e = i.error.as_deref().unwrap_or("could not be read");
        let line = if e.starts_with(&i.path) {
            e.to_owned()
        } else {
            format!("{}: {e}", i.path)
        };
        report::diagnostic("warning", &line);
    }
}

/// The report's format: `--format` when given, else what the `-o` file's extension names, else
/// text. A `--format` the extension contradicts (`-o report.html --format json`) is refused
/// rather than writing JSON into an `.html` file.
fn report_format(
    flag: Option<ReportFormatArg>,
    output: Option<&std::path::Path>,
) -> Result<ReportFormat, String> {
    let by_extension = output
        .and_then(|p| p.extension())
        .and_then(|e| e.to_str())
        .and_then(|e| match e.to_ascii_lowercase().as_str() {
            "html" | "htm" => Some(ReportFormatArg::Html),
            "json" => Some(ReportFormatArg::Json),
            "jsonl" | "ndjson" => Some(ReportFormatArg::Jsonl),
            "csv" => Some(ReportFormatArg::Csv),
            "md" | "markdown" => Some(ReportFormatArg::Md),
            "txt" | "text" => Some(ReportFormatArg::Text),
            _ => None,
        });
    match (flag, by_extension) {
        (Some(f), Some(e)) if f != e => Err(format!(
            "--format {} contradicts the file name {}: leave --format out, or name the file for the format",
            f.to_possible_value()
                .map_or_else(String::new, |v| v.get_name().to_owned()),
            output.map_or_else(String::new, |p| crate::report::sanitize(
                &p.display().to_string(),
                true
            )
            .into_owned()),
        )),
        (Some(f), _) | (None, Some(f)) => Ok(f.into()),
        (None, None) => Ok(ReportFormat::Text),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_format_follows_the_flag_else_the_file_name_else_text() {
        let p = |s: &'static str| Some(std::path::Path::new(s));
        assert_eq!(report_format(None, p("r.HTML")), Ok(ReportFormat::Html));
        assert_eq!(report_format(None, p("r.jsonl")), Ok(ReportFormat::Jsonl));
        assert_eq!(report_format(None, p("r.report")), Ok(ReportFormat::Text));
        assert_eq!(report_format(None, None), Ok(ReportFormat::Text));
        assert_eq!(
            report_format(Some(ReportFormatArg::Csv), None),
            Ok(ReportFormat::Csv)
        );
        assert_eq!(
            report_format(Some(ReportFormatArg::Md), p("r.md")),
            Ok(ReportFormat::Md)
        );
        assert!(report_format(Some(ReportFormatArg::Json), p("r.html")).is_err());
    }
}
