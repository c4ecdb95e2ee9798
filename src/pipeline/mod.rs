//! The analysis pipeline: inputs → readers → snapshots and events → correlation → diagnosis →
//! report. Which reader takes each input (`read`), reading many inputs and large logs on several
//! threads put back in input order (`schedule`), the fleet's machine names (`identity`), and the
//! time the report is relative to.

mod identity;
mod read;
mod schedule;

use std::path::PathBuf;

use chrono::NaiveDateTime;

use crate::correlate;
use crate::diagnose::{self, DEFAULT_EXPIRY_WINDOW_DAYS, stamp};
use crate::events::ActivationEvent;
use crate::input::InputFile;
use crate::model::snapshot::LicenseSnapshot;
use crate::model::{InputSummary, NowSource, Report, SCHEMA};
use crate::rules::Rules;
use crate::slmgr::SlmgrReader;
use crate::zone::Zone;

pub(crate) use schedule::{Inputs, read_inputs, read_inputs_with};

use read::{dedup_events, read_one};

/// How to analyze.
#[derive(Debug, Clone)]
pub struct Options {
    /// The time the report is relative to; `None`: the newest trusted time in the input, else
    /// the clock.
    pub now: Option<NaiveDateTime>,
    /// Days before an end date at which to warn.
    pub window_days: i64,
    /// Only events at or after this time (UTC) are analyzed.
    pub since: Option<NaiveDateTime>,
    /// Only events at or before this time (UTC) are analyzed.
    pub until: Option<NaiveDateTime>,
    /// Report only these machines (all events still take part in the correlation).
    pub machines: Vec<String>,
    /// `--machine-name FILE=NAME`: the machine of an input that names none.
    pub machine_names: Vec<(String, String)>,
    /// Files read at once.
    pub threads: usize,
    /// The zone explanations give event times in (`--tz`).
    pub zone: Zone,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            now: None,
            window_days: DEFAULT_EXPIRY_WINDOW_DAYS,
            since: None,
            until: None,
            machines: Vec::new(),
            machine_names: Vec::new(),
            threads: 1,
            zone: Zone::Utc,
        }
    }
}

/// Keeps the events within `--since`/`--until`.
fn window(events: &mut Vec<ActivationEvent>, opts: &Options) {
    if opts.since.is_none() && opts.until.is_none() {
        return;
    }
    events.retain(|e| {
        e.time.is_some_and(|t| {
            let t = t.naive_utc();
            opts.since.is_none_or(|s| t >= s) && opts.until.is_none_or(|u| t <= u)
        })
    });
}

/// Told how reading the inputs goes (for a progress bar). Called from the reading threads.
pub(crate) trait Progress: Sync {
    /// Before the first file: how many files and bytes there are to read.
    fn begin(&self, _files: usize, _bytes: u64) {}
    /// After each file, with its size.
    fn advance(&self, _bytes: u64) {}
    /// After the last file.
    fn end(&self) {}
}

/// No progress reporting.
pub(crate) struct Silent;

impl Progress for Silent {}

/// [`analyze`], telling `progress` how reading goes.
pub(crate) fn analyze_with_progress(
    rules: &Rules,
    paths: &[PathBuf],
    opts: &Options,
    progress: &dyn Progress,
) -> Report {
    let Inputs {
        snapshots,
        mut events,
        summaries,
    } = read_inputs_with(rules, paths, opts.threads, progress);
    window(&mut events, opts);
    let report = build_report(rules, snapshots, &mut events, summaries, opts);
    drop_aside(events);
    report
}

/// Events of a large run are freed on a thread of their own, while the caller writes the report
/// (a process that ends first simply ends); a few are freed here.
fn drop_aside(events: Vec<ActivationEvent>) {
    const ASIDE_FROM: usize = 20_000;
    if events.len() >= ASIDE_FROM {
        // If no thread can be started, the closure and the events are dropped here.
        let _ = std::thread::Builder::new().spawn(move || drop(events));
    }
}

/// The analysis of one in-memory input (a rule sample, a pasted text), named `name`.
pub fn analyze_input(rules: &Rules, name: &str, bytes: &[u8], opts: &Options) -> Report {
    analyze_inputs(rules, &[(name, bytes)], opts)
}

/// The analysis of in-memory inputs read together (a rule sample of several files: a licensing
/// inventory and a host's log), each named by its `&str`.
pub(crate) fn analyze_inputs(rules: &Rules, inputs: &[(&str, &[u8])], opts: &Options) -> Report {
    analyze_inputs_with(rules, &SlmgrReader::new(rules), inputs, opts)
}

/// [`analyze_inputs`] with an slmgr reader built once for many analyses (rule samples, fuzzing).
pub(crate) fn analyze_inputs_with(
    rules: &Rules,
    reader: &SlmgrReader,
    inputs: &[(&str, &[u8])],
    opts: &Options,
) -> Report {
    let mut snapshots = Vec::new();
    let mut events = Vec::new();
    let mut summaries = Vec::new();
    for (name, bytes) in inputs {
        let f = InputFile {
            path: (*name).to_owned(),
            explicit: true,
            bytes: Ok(bytes.to_vec()),
            disk: None,
            deferred: None,
        };
        let (s, e, summary) = read_one(rules, reader, f);
        snapshots.extend(s);
        events.extend(e);
        summaries.push(summary);
    }
    crate::events::sort(&mut events);
    dedup_events(&mut events);
    window(&mut events, opts);
    build_report(rules, snapshots, &mut events, summaries, opts)
}

/// Diagnoses decoded snapshots and events into a report.
pub(crate) fn build_report(
    rules: &Rules,
    mut snapshots: Vec<LicenseSnapshot>,
    events: &mut Vec<ActivationEvent>,
    inputs: Vec<InputSummary>,
    opts: &Options,
) -> Report {
    identity::apply_flags(events, &mut snapshots, &opts.machine_names);
    let names = identity::unify(events);
    let events: &[ActivationEvent] = events;
    let newest_event = events
        .iter()
        .filter_map(|e| e.time)
        .max()
        .map(|t| t.naive_utc());
    let observed = snapshots
        .iter()
        .filter_map(LicenseSnapshot::observed_at)
        .chain(newest_event)
        .max();
    let (now, now_source) = match (opts.now, observed) {
        (Some(n), _) => (n, NowSource::Flag),
        (None, Some(o)) => (o, NowSource::Input),
        (None, None) => (chrono::Local::now().naive_local(), NowSource::Clock),
    };
    let mut machines = diagnose::group_machines(snapshots);
    identity::flagged_sources(&mut machines, &opts.machine_names);
    // Without `--now` each machine is judged at its own newest evidence, each host's count at
    // its log's newest record.
    let at = match now_source {
        NowSource::Flag => correlate::AsOf::Fixed(now.and_utc()),
        _ => correlate::AsOf::OwnLog(now.and_utc()),
    };
    let corr = correlate::correlate_with(events, &names, at, opts.threads, rules.kms());
    let times = (now_source != NowSource::Flag).then(|| {
        let t = diagnose::MachineTimes::of(&machines, &corr);
        for m in &mut machines {
            m.as_of = t.get(&m.name);
        }
        t
    });
    let mut d = diagnose::diagnose(
        rules,
        &diagnose::Scope {
            machines: &machines,
            events,
            correlation: &corr,
            inputs: &inputs,
            now,
            times: times.as_ref(),
            window_days: opts.window_days,
            zone: opts.zone,
        },
    );
    let (attempts, kms_inventory) = diagnose::summarize(&corr);
    // Exact names first (one lookup each); only a name without a match is compared the slow way
    // (`ws01` and `ws01.contoso.com` are one machine).
    let by_name: std::collections::HashMap<String, usize> = corr
        .clients
        .iter()
        .enumerate()
        .map(|(i, c)| (c.name.to_ascii_lowercase(), i))
        .collect();
    for m in &mut d.machines {
        let client = by_name
            .get(&m.name.to_ascii_lowercase())
            .and_then(|i| corr.clients.get(*i))
            .or_else(|| {
                corr.clients
                    .iter()
                    .find(|c| correlate::same_machine(&c.name, &m.name))
            });
        if let Some(c) = client {
            (m.attempts, m.attempts_omitted) = diagnose::attempt_records(events, c);
        }
    }
    if !opts.machines.is_empty() {
        let wanted = |n: &str| opts.machines.iter().any(|m| correlate::same_machine(m, n));
        d.machines.retain(|m| wanted(&m.name));
        d.hosts.retain(|h| wanted(&h.name));
        d.findings
            .retain(|f| f.machines.is_empty() || f.machines.iter().any(|n| wanted(n)));
    }
    let triage = diagnose::triage(rules, &d.machines, &d.findings);
    Report {
        schema: SCHEMA,
        now: stamp(now),
        now_source,
        triage,
        inputs,
        machines: d.machines,
        hosts: d.hosts,
        findings: d.findings,
        attempts,
        kms_inventory,
    }
}

/// Whether anything at all was read.
pub(crate) fn has_readable_input(report: &Report) -> bool {
    report.inputs.iter().any(|i| i.status.was_read())
}
