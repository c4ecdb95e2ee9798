//! Subcommand handlers: each takes its parsed arguments, calls the library, and writes the
//! answer through a renderer. They return the exit status; they never exit themselves.

use std::io::{self, Write};

use crate::ExitStatus;
use crate::cli::{
    AlsoForm, AnalyzeArgs, CountFormat, EventsArgs, EventsFormat, FailOn, Format, HostCountArgs,
    LookupArgs, RulesCommand, SlmgrArgs, SynthArgs,
};
use crate::hresult;
use crate::lookup::{self, Answer, LookupError};
use crate::report::{self, Style};
use crate::rules::{self, Category, Level, Rules, RulesError};

/// Loads the rule table, reporting every problem when it cannot.
pub fn load_rules(dir: Option<&std::path::Path>) -> Result<Rules, ExitStatus> {
    match Rules::load(dir) {
        Ok(r) => Ok(r),
        Err(RulesError::Invalid { problems }) => {
            for p in problems.iter().filter(|p| p.level == Level::Error) {
                report::diagnostic_raw(&p.to_string());
            }
            report::diagnostic(
                "error",
                "the rules cannot be loaded; fix the problems above (`kmsdiag rules lint DIR` lists them)",
            );
            Err(ExitStatus::Error)
        }
        Err(e) => {
            report::diagnostic("error", &e.to_string());
            Err(ExitStatus::Error)
        }
    }
}

/// `kmsdiag lookup`.
pub fn lookup(
    args: &LookupArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let category = match args.category.as_deref().map(|c| (c, Category::parse(c))) {
        Some((c, None)) => {
            let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            report::diagnostic(
                "error",
                &format!("`{c}` is not a category; use one of {}", all.join(", ")),
            );
            return Ok(ExitStatus::Error);
        }
        Some((_, Some(c))) => Some(c),
        None => None,
    };
    if let Some(value) = &args.flags {
        return match lookup::decode_flags(rules, value) {
            Ok(f) => {
                match args.format {
                    Format::Text => report::lookup::write_flags(out, style, &f)?,
                    Format::Json => {
                        report::lookup::write_json(out, std::slice::from_ref(&f), false)?;
                    }
                }
                Ok(if f.unknown_bits.is_empty() {
                    ExitStatus::Ok
                } else {
                    ExitStatus::Findings
                })
            }
            Err(e) => {
                report::diagnostic(
                    "error",
                    &e.to_string().replace("an error code", "a flags value"),
                );
                Ok(ExitStatus::Error)
            }
        };
    }
    if args.list || args.search.is_some() {
        let query = args
            .search
            .as_ref()
            .map(|w| w.join(" "))
            .unwrap_or_default();
        let found = lookup::search(rules, &query, category);
        match args.format {
            Format::Text => report::lookup::write_listing(out, style, &found)?,
            Format::Json => report::lookup::write_json(out, &found, true)?,
        }
        if found.is_empty() {
            report::diagnostic("note", &format!("no code matches \"{query}\""));
            return Ok(ExitStatus::Findings);
        }
        return Ok(ExitStatus::Ok);
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut status = ExitStatus::Ok;
    for input in &args.codes {
        if hresult::is_label_word(input) {
            continue;
        }
        match lookup::resolve(rules, input) {
            Ok(a) => {
                if !a.known {
                    status = status.max(ExitStatus::Findings);
                }
                answers.push(a);
            }
            Err(e) => {
                report::diagnostic("error", &error_text(&e));
                status = ExitStatus::Error;
            }
        }
    }
    if answers.is_empty() && status == ExitStatus::Ok {
        report::diagnostic("error", "no code given: pass a code such as 0xC004F038");
        return Ok(ExitStatus::Error);
    }
    match args.format {
        Format::Text => report::lookup::write_answers(out, style, &answers)?,
        Format::Json if !answers.is_empty() => report::lookup::write_json(out, &answers, false)?,
        Format::Json => {}
    }
    Ok(status)
}

fn error_text(e: &LookupError) -> String {
    e.to_string()
}

/// `kmsdiag rules ...`.
pub fn rules_command(
    cmd: &RulesCommand,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    match cmd {
        RulesCommand::Lint { dir, format } => {
            let (checked, problems) = match dir {
                None => ("built-in rules".to_owned(), rules::lint_embedded()),
                Some(d) => match rules::lint_dir(d) {
                    Ok(p) => (d.display().to_string(), p),
                    Err(e) => {
                        report::diagnostic("error", &e.to_string());
                        return Ok(ExitStatus::Error);
                    }
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
        // Needs the loaded rules: dispatched from `run`.
        RulesCommand::Test { .. } => Ok(ExitStatus::Error),
    }
}

/// `kmsdiag rules test`: every finding's samples through the real analysis.
pub fn rules_test(
    rules: &Rules,
    only: Option<&str>,
    format: Format,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let mut results = Vec::new();
    for f in rules.findings() {
        if only.is_some_and(|o| o != f.id) {
            continue;
        }
        for s in &f.samples {
            let now = s.now.as_deref().and_then(parse_now);
            let opts = crate::analyze::Options {
                now,
                ..crate::analyze::Options::default()
            };
            let name = format!("sample:{}:{}", f.id, s.name);
            let report = crate::analyze::analyze_input(rules, &name, s.input.as_bytes(), &opts);
            let passed = report.findings.iter().any(|x| {
                x.id == f.id
                    && s.machine.as_deref().is_none_or(|m| {
                        x.machines
                            .iter()
                            .any(|n| crate::correlate::same_machine(n, m))
                    })
            });
            let raised = report
                .findings
                .iter()
                .map(|x| format!("{}@{}", x.id, x.machines.join(",")))
                .collect();
            results.push(report::rules_test::SampleResult {
                finding: f.id.clone(),
                sample: s.name.clone(),
                passed,
                raised,
            });
        }
    }
    if only.is_some() && results.is_empty() {
        report::diagnostic("error", "no samples for that finding id");
        return Ok(ExitStatus::Error);
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    match format {
        Format::Json => report::rules_test::write_json(out, &results)?,
        Format::Text => report::rules_test::write_text(out, &results)?,
    }
    Ok(if failed == 0 {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}

/// Reads `--now`: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD HH:MM[:SS]`.
pub fn parse_now(s: &str) -> Option<chrono::NaiveDateTime> {
    let t = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = chrono::NaiveDateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A time flag's value; `Err` (after saying so) when it is not a time.
fn time_flag(flag: &str, value: Option<&str>) -> Result<Option<chrono::NaiveDateTime>, ()> {
    match value {
        None => Ok(None),
        Some(v) => parse_now(v).map(Some).ok_or_else(|| {
            report::diagnostic(
                "error",
                &format!("{flag} `{v}` is not a time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"),
            );
        }),
    }
}

/// `kmsdiag analyze`.
pub fn analyze(
    args: &AnalyzeArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let Ok(now) = time_flag("--now", args.now.as_deref()) else {
        return Ok(ExitStatus::Error);
    };
    let (Ok(since), Ok(until)) = (
        time_flag("--since", args.since.as_deref()),
        time_flag("--until", args.until.as_deref()),
    ) else {
        return Ok(ExitStatus::Error);
    };
    let opts = crate::analyze::Options {
        now,
        window_days: i64::from(args.expiry_window),
        since,
        until,
        machines: args.machines.clone(),
        threads: args.threads.map_or_else(cpus, usize::from),
        zone: args.tz,
    };
    let bar = crate::cli::progress::Bar::for_stderr();
    let report = crate::analyze::analyze_with_progress(rules, &args.paths, &opts, &bar);
    for i in report.inputs.iter().filter(|i| i.status == "unreadable") {
        // Errors name their file; say it once.
        let e = i.error.as_deref().unwrap_or("could not be read");
        let line = if e.starts_with(&i.path) {
            e.to_owned()
        } else {
            format!("{}: {e}", i.path)
        };
        report::diagnostic("warning", &line);
    }
    let view = report::View {
        style: *style,
        zone: args.tz,
        detail: if args.quiet {
            report::Detail::Quiet
        } else if args.verbose {
            report::Detail::Verbose
        } else {
            report::Detail::Normal
        },
    };
    if let Some(path) = &args.output {
        let mut bytes = Vec::new();
        report::render(&mut bytes, args.format, &view, &report)?;
        if let Err(e) = crate::cli::output::write_atomic(path, &bytes) {
            report::diagnostic(
                "error",
                &format!(
                    "cannot write {}: {e}; check that the directory exists and is writable",
                    path.display()
                ),
            );
            return Ok(ExitStatus::Error);
        }
    } else {
        report::render(out, args.format, &view, &report)?;
    }
    // The report (saying what could not be read) is still written.
    if !crate::analyze::has_readable_input(&report) {
        report::diagnostic(
            "error",
            "no readable input: none of the given paths holds anything kmsdiag reads (event logs: .evtx, event XML, JSON, CSV or text exports; slmgr /dli, /dlv, /xpr, /ato output)",
        );
        return Ok(ExitStatus::Error);
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(crate::rules::Severity::Error),
        FailOn::Warning => Some(crate::rules::Severity::Warning),
        FailOn::Info => Some(crate::rules::Severity::Informational),
        FailOn::Never => None,
    };
    let fails = threshold.is_some_and(|t| report.findings.iter().any(|f| f.severity >= t));
    Ok(if fails {
        ExitStatus::Findings
    } else {
        ExitStatus::Ok
    })
}

/// `kmsdiag slmgr`.
pub fn slmgr(
    args: &SlmgrArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let mut snapshots = Vec::new();
    let mut status = ExitStatus::Ok;
    let reader = crate::slmgr::SlmgrReader::new(rules);
    for mut f in crate::input::collect(&args.paths) {
        f.load();
        let parsed = f
            .bytes
            .map_err(|e| format!("{}: {e}", f.path))
            .and_then(|b| reader.parse(&f.path, &b).map_err(|e| e.to_string()));
        match parsed {
            Ok(s) => snapshots.extend(s),
            Err(e) => {
                report::diagnostic("error", &e);
                status = ExitStatus::Error;
            }
        }
    }
    match args.format {
        Format::Text => report::snapshot::write_text(out, style, &snapshots)?,
        Format::Json => report::snapshot::write_json(out, &snapshots)?,
    }
    Ok(status)
}

/// `kmsdiag events`.
pub fn events(
    args: &EventsArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let mut all = Vec::new();
    let mut inputs = Vec::new();
    for mut f in crate::input::collect(&args.paths) {
        f.load();
        let read_failed = f.bytes.is_err();
        let result = f
            .bytes
            .map_err(|e| format!("{}: {e}", f.path))
            .and_then(|b| {
                crate::events::read_input(
                    rules,
                    &f.path,
                    b,
                    f.disk.as_deref(),
                    if args.all {
                        crate::events::Keep::All
                    } else {
                        crate::events::Keep::Activation
                    },
                )
            });
        match result {
            Ok((evs, stats, format)) => {
                all.extend(evs);
                inputs.push(report::events::EventsInput {
                    path: f.path,
                    format: Some(format),
                    stats,
                    error: None,
                });
            }
            Err(e) => {
                // A file in a directory or zip that is no event log is skipped quietly; a named
                // one, or one that could not be read at all, is an error.
                if f.explicit || read_failed {
                    report::diagnostic("error", &e);
                }
                inputs.push(report::events::EventsInput {
                    path: f.path,
                    format: None,
                    stats: crate::events::ReadStats::default(),
                    error: Some(e),
                });
            }
        }
    }
    crate::events::sort(&mut all);
    match args.format {
        EventsFormat::Jsonl => report::events::write_jsonl(out, &all)?,
        EventsFormat::Json => report::events::write_json(out, &inputs, &all)?,
        EventsFormat::Text => report::events::write_text(out, style, &all)?,
        EventsFormat::Csv => report::events::write_csv(out, &all)?,
    }
    if args.format != EventsFormat::Json {
        report::events::write_notes(&inputs);
    }
    let readable = inputs.iter().any(|i| i.format.is_some());
    let named_failed = inputs
        .iter()
        .any(|i| i.format.is_none() && args.paths.iter().any(|p| p.to_string_lossy() == i.path));
    Ok(if !readable || named_failed {
        ExitStatus::Error
    } else {
        ExitStatus::Ok
    })
}

/// `kmsdiag synth`.
pub fn synth(args: &SynthArgs, rules: &Rules, out: &mut dyn Write) -> io::Result<ExitStatus> {
    let path = args.scenario.display().to_string();
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => {
            report::diagnostic("error", &format!("{path}: {e}"));
            return Ok(ExitStatus::Error);
        }
    };
    let scenario = match crate::synth::Scenario::parse(&path, &text) {
        Ok(s) => s,
        Err(e) => {
            report::diagnostic("error", &e.to_string());
            return Ok(ExitStatus::Error);
        }
    };
    if !(args.scale.is_finite() && args.scale > 0.0 && args.scale <= 10_000.0) {
        report::diagnostic(
            "error",
            "--scale must be a number above 0 and at most 10000",
        );
        return Ok(ExitStatus::Error);
    }
    let opts = crate::synth::Options {
        seed: args.seed,
        scale: args.scale,
        xml: args.also.contains(&AlsoForm::Xml),
        noise_per_day: args.noise_per_day,
    };
    match crate::synth::generate(rules, &scenario, &opts, &args.out) {
        Ok((expected, written)) => {
            report::synth::write_summary(out, expected.machines.len(), &written, &args.out)?;
            Ok(ExitStatus::Ok)
        }
        Err(e) => {
            report::diagnostic("error", &e.to_string());
            Ok(ExitStatus::Error)
        }
    }
}

/// The threads to use when not told: one per CPU.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `kmsdiag host-count`.
pub fn host_count(
    args: &HostCountArgs,
    rules: &Rules,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let Ok(now) = time_flag("--now", args.now.as_deref()) else {
        return Ok(ExitStatus::Error);
    };
    let inputs = crate::analyze::read_inputs(rules, &args.paths);
    let newest = inputs.events.iter().filter_map(|e| e.time).max();
    let Some(now) = now.map(|n| n.and_utc()).or(newest) else {
        report::diagnostic("error", "no readable event log among the inputs");
        return Ok(ExitStatus::Error);
    };
    let corr = crate::correlate::correlate(&inputs.events, now, cpus());
    let hosts: Vec<&crate::correlate::HostView> = corr
        .hosts
        .iter()
        .filter(|h| !h.requests.is_empty())
        .collect();
    if hosts.is_empty() {
        report::diagnostic("error", "no KMS host records (event 12290) in the inputs");
        return Ok(ExitStatus::Error);
    }
    match args.format {
        CountFormat::Text => report::host_count::write_text(out, &hosts)?,
        CountFormat::Csv => report::host_count::write_csv(out, &hosts)?,
        CountFormat::Json => report::host_count::write_json(out, &hosts)?,
    }
    Ok(ExitStatus::Ok)
}
