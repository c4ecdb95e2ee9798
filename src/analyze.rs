//! The analysis pipeline: inputs → decoded snapshots → diagnosis → report. Decides which decoder
//! reads each input (by content), which time the report is relative to, and turns unreadable
//! inputs into `input-unreadable` findings while everything else is still analyzed.

use std::path::PathBuf;

use chrono::NaiveDateTime;

use crate::correlate;
use crate::diagnose::{self, DEFAULT_EXPIRY_WINDOW_DAYS, stamp};
use crate::events::evtx_fast::{self, Part};
use crate::events::{ActivationEvent, Keep};
use crate::input::{self, InputFile};
use crate::model::snapshot::LicenseSnapshot;
use crate::model::{InputSummary, Report, SCHEMA};
use crate::rules::Rules;
use crate::slmgr::{SlmgrError, SlmgrReader};
use crate::zone::Zone;

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
pub trait Progress: Sync {
    /// Before the first file: how many files and bytes there are to read.
    fn begin(&self, _files: usize, _bytes: u64) {}
    /// After each file, with its size.
    fn advance(&self, _bytes: u64) {}
    /// After the last file.
    fn end(&self) {}
}

/// No progress reporting.
pub struct Silent;

impl Progress for Silent {}

/// What the inputs hold, decoded.
#[derive(Debug, Clone, Default)]
pub struct Inputs {
    pub snapshots: Vec<LicenseSnapshot>,
    /// Activation events of every event log, sorted (machine, time, record id) and without
    /// duplicates (the same record read from two exports of one log counts once).
    pub events: Vec<ActivationEvent>,
    pub summaries: Vec<InputSummary>,
}

/// Reads every input and decodes what it can, on one thread.
pub fn read_inputs(rules: &Rules, paths: &[PathBuf]) -> Inputs {
    read_inputs_with(rules, paths, 1, &Silent)
}

/// What reading one input gave.
type ReadOne = (Vec<LicenseSnapshot>, Vec<ActivationEvent>, InputSummary);

/// `.evtx` files on disk are read in ranges of this many chunks (2 MiB), so one large log keeps
/// every thread busy; smaller files are read whole.
const RANGE_CHUNKS: u64 = 32;

/// A piece of reading work: a whole input, or a chunk range of a large `.evtx` file.
enum Unit {
    File(usize),
    Range {
        file: usize,
        path: std::sync::Arc<str>,
        disk: std::sync::Arc<std::path::Path>,
        chunks: std::ops::Range<u64>,
        bytes: u64,
    },
}

/// What a unit gave.
enum Outcome {
    File(Box<ReadOne>),
    Range(Result<Vec<Part<ActivationEvent>>, crate::events::EventReadError>),
}

/// The units' outcomes put together in unit order as soon as each one and all before it are
/// done: a large file's ranges join its events (and are freed) while later ranges are still
/// being read, so the file's events are never held twice.
struct Assembly {
    /// Outcomes done ahead of `cursor`, waiting for the units before them.
    waiting: Vec<Option<Outcome>>,
    cursor: usize,
    results: Vec<ReadOne>,
    /// The large file whose ranges are being joined.
    ranged: Option<Ranged>,
}

/// A large file being joined from its ranges.
struct Ranged {
    file: usize,
    path: std::sync::Arc<str>,
    disk: std::sync::Arc<std::path::Path>,
    parts: crate::events::EvtxParts,
}

impl Assembly {
    fn new(units: &[Unit], files: usize) -> Assembly {
        Assembly {
            waiting: units.iter().map(|_| None).collect(),
            cursor: 0,
            results: Vec::with_capacity(files),
            ranged: None,
        }
    }

    /// Unit `i` is done: takes in every outcome now in order.
    fn done(&mut self, units: &[Unit], i: usize, outcome: Outcome) {
        if let Some(slot) = self.waiting.get_mut(i) {
            *slot = Some(outcome);
        }
        while let Some(o) = self.waiting.get_mut(self.cursor).and_then(Option::take) {
            self.take(units.get(self.cursor), o);
            self.cursor += 1;
        }
    }

    fn take(&mut self, unit: Option<&Unit>, outcome: Outcome) {
        let file = match unit {
            Some(Unit::Range { file, .. }) => Some(*file),
            _ => None,
        };
        if self.ranged.as_ref().map(|r| r.file) != file {
            self.close();
        }
        match (outcome, unit) {
            (Outcome::File(r), _) => self.results.push(*r),
            (
                Outcome::Range(r),
                Some(Unit::Range {
                    file, path, disk, ..
                }),
            ) => self
                .ranged
                .get_or_insert_with(|| Ranged {
                    file: *file,
                    path: path.clone(),
                    disk: disk.clone(),
                    parts: crate::events::EvtxParts::default(),
                })
                .parts
                .add(r),
            // A range's outcome always comes from a range unit.
            (Outcome::Range(_), _) => {}
        }
    }

    /// The large file being joined is complete.
    fn close(&mut self) {
        let Some(r) = self.ranged.take() else {
            return;
        };
        let mut summary = blank_summary(&r.path);
        let events = summarize(r.parts.finish(&r.path, &r.disk), &mut summary).unwrap_or_default();
        self.results.push((Vec::new(), events, summary));
    }

    /// Every unit has run: the outcomes still waiting (behind a unit that never finished, from a
    /// reading thread that died) are taken too, in order.
    fn finish(mut self, units: &[Unit]) -> Vec<ReadOne> {
        let rest = std::mem::take(&mut self.waiting);
        for (i, o) in rest.into_iter().enumerate().skip(self.cursor) {
            if let Some(o) = o {
                self.take(units.get(i), o);
            }
        }
        self.close();
        self.results
    }
}

/// Splits the inputs into units: large `.evtx` files on disk into ranges of `range` chunks, the
/// rest whole.
fn plan(files: &[InputFile], range: u64) -> Vec<Unit> {
    let range = range.max(1);
    let mut units = Vec::new();
    for (i, f) in files.iter().enumerate() {
        let (Some(disk), Ok(head)) = (&f.disk, &f.bytes) else {
            units.push(Unit::File(i));
            continue;
        };
        let size = f.size();
        let chunks = evtx_fast::chunk_count(size);
        if chunks <= range || !head.starts_with(crate::events::evtx::MAGIC) {
            units.push(Unit::File(i));
            continue;
        }
        let path: std::sync::Arc<str> = std::sync::Arc::from(f.path.as_str());
        let disk: std::sync::Arc<std::path::Path> = std::sync::Arc::from(disk.as_path());
        let mut start = 0;
        while start < chunks {
            let end = start.saturating_add(range).min(chunks);
            let from = if start == 0 {
                0
            } else {
                evtx_fast::chunk_offset(start)
            };
            units.push(Unit::Range {
                file: i,
                path: path.clone(),
                disk: disk.clone(),
                chunks: start..end,
                bytes: evtx_fast::chunk_offset(end).min(size).saturating_sub(from),
            });
            start = end;
        }
    }
    units
}

/// Reads every input on up to `threads` threads. Files are read whole, or — large `.evtx` files —
/// in chunk ranges put back together in file order, so the answer is the same whatever the
/// thread count.
pub fn read_inputs_with(
    rules: &Rules,
    paths: &[PathBuf],
    threads: usize,
    progress: &dyn Progress,
) -> Inputs {
    read_inputs_in(rules, paths, threads, progress, RANGE_CHUNKS)
}

/// [`read_inputs_with`], large `.evtx` files read in ranges of `range` chunks.
fn read_inputs_in(
    rules: &Rules,
    paths: &[PathBuf],
    threads: usize,
    progress: &dyn Progress,
    range: u64,
) -> Inputs {
    let files = input::collect(paths);
    progress.begin(files.len(), files.iter().map(InputFile::size).sum());
    let units = plan(&files, range);
    let threads = threads.clamp(1, 64).min(units.len().max(1));
    let files: Vec<std::sync::Mutex<Option<InputFile>>> = files
        .into_iter()
        .map(|f| std::sync::Mutex::new(Some(f)))
        .collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let done = std::sync::Mutex::new(Assembly::new(&units, files.len()));
    let work = || {
        let reader = SlmgrReader::new(rules);
        loop {
            let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let Some(unit) = units.get(i) else { break };
            let outcome = match unit {
                Unit::File(f) => {
                    let Some(file) = files
                        .get(*f)
                        .and_then(|m| m.lock().ok())
                        .and_then(|mut m| m.take())
                    else {
                        continue;
                    };
                    let size = file.size();
                    let r = read_one(rules, &reader, file);
                    progress.advance(size);
                    Outcome::File(Box::new(r))
                }
                Unit::Range {
                    path,
                    disk,
                    chunks,
                    bytes,
                    ..
                } => {
                    let keep = Keep::Ids(crate::model::ids::event::CORRELATED);
                    let r = crate::events::evtx_part(rules, path, disk, chunks.clone(), keep);
                    progress.advance(*bytes);
                    Outcome::Range(r)
                }
            };
            if let Ok(mut d) = done.lock() {
                d.done(&units, i, outcome);
            }
        }
    };
    if threads == 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    progress.end();
    let mut results = match done.into_inner() {
        Ok(d) => d.finish(&units),
        Err(_) => Vec::new(),
    };
    let mut out = Inputs::default();
    // The largest input's events are the base (moved, not copied; often the only log); the
    // order does not matter, the sort below decides it.
    if let Some(largest) = results
        .iter_mut()
        .max_by_key(|(_, e, _)| e.len())
        .map(|(_, e, _)| std::mem::take(e))
    {
        out.events = largest;
    }
    out.events
        .reserve_exact(results.iter().map(|(_, e, _)| e.len()).sum());
    for (snaps, events, summary) in results {
        out.snapshots.extend(snaps);
        out.events.extend(events);
        out.summaries.push(summary);
    }
    crate::events::sort(&mut out.events);
    dedup_events(&mut out.events);
    out
}

/// Drops events read twice (an `.evtx` and its XML export, two copies of one log): same machine,
/// provider, id, record id and time, or, without a record id, the same payload at the same time.
fn dedup_events(events: &mut Vec<ActivationEvent>) {
    // Sorted by machine, time and record id: copies of one record sit in one run of equal keys.
    // In place: the events kept are moved to the front.
    let same_slot = |a: &ActivationEvent, b: &ActivationEvent| {
        a.time == b.time
            && a.record_id == b.record_id
            && crate::events::same_machine_name(a.machine(), b.machine())
    };
    let same_event = |a: &ActivationEvent, b: &ActivationEvent| {
        a.provider() == b.provider()
            && a.event_id == b.event_id
            && a.log() == b.log()
            && (a.record_id.is_some() || a.payload.raw().eq(b.payload.raw()))
    };
    let mut kept = 0;
    let mut run_start = 0;
    for i in 0..events.len() {
        let (front, rest) = events.split_at_mut(i);
        let Some(e) = rest.first() else { break };
        let front = front.get(..kept).unwrap_or(&[]);
        if front.last().is_none_or(|l| !same_slot(l, e)) {
            run_start = kept;
        }
        let dup = front
            .get(run_start..)
            .is_some_and(|run| run.iter().any(|k| same_event(k, e)));
        if !dup {
            // Nearly every event is kept where it is: no swap (a write) for those.
            if kept != i {
                events.swap(kept, i);
            }
            kept += 1;
        }
    }
    events.truncate(kept);
}

fn read_events(
    rules: &Rules,
    path: &str,
    disk: Option<&std::path::Path>,
    bytes: Vec<u8>,
    summary: &mut InputSummary,
) -> Option<Vec<ActivationEvent>> {
    let read = crate::events::read_input(
        rules,
        path,
        bytes,
        disk,
        Keep::Ids(crate::model::ids::event::CORRELATED),
    );
    summarize(read, summary)
}

/// Fills an event log's input summary from what reading it gave; its events.
fn summarize(
    read: Result<crate::events::EventsRead, crate::events::EventReadError>,
    summary: &mut InputSummary,
) -> Option<Vec<ActivationEvent>> {
    match read {
        Ok((events, stats, format)) => {
            summary.format = format;
            summary.status = if stats.damaged_count > 0 {
                "partial"
            } else {
                "read"
            };
            // The events of an input share one `Arc` per machine name: a run of one is taken
            // once (a host log's hundreds of thousands of events name one machine).
            let mut machines: Vec<&str> = Vec::new();
            let mut last: Option<&std::sync::Arc<str>> = None;
            for m in events.iter().map(ActivationEvent::machine) {
                if last.is_none_or(|l| !std::sync::Arc::ptr_eq(l, m)) {
                    machines.push(m);
                    last = Some(m);
                }
            }
            machines.sort_unstable();
            machines.dedup();
            summary.machines = machines.into_iter().map(str::to_owned).collect();
            summary.lines = u32::try_from(stats.records).unwrap_or(u32::MAX);
            summary.warnings.extend(stats.notes);
            if stats.damaged_count > 0 {
                summary.warnings.push(format!(
                    "{} damaged record(s) or chunk(s) could not be read; the rest was analyzed",
                    stats.damaged_count
                ));
                summary.warnings.extend(stats.damaged);
            }
            Some(events)
        }
        Err(e) => {
            summary.format = "event-log";
            summary.error = Some(e.to_string());
            None
        }
    }
}

/// The summary of an input before anything is known of it.
fn blank_summary(path: &str) -> InputSummary {
    InputSummary {
        path: path.to_owned(),
        format: "unknown",
        status: "unreadable",
        encoding: None,
        languages: Vec::new(),
        machines: Vec::new(),
        lines: 0,
        not_understood: Vec::new(),
        warnings: Vec::new(),
        error: None,
    }
}

fn read_one(
    rules: &Rules,
    reader: &SlmgrReader,
    f: InputFile,
) -> (Vec<LicenseSnapshot>, Vec<ActivationEvent>, InputSummary) {
    let mut summary = blank_summary(&f.path);
    let mut f = f;
    f.load();
    let InputFile {
        path,
        explicit,
        bytes,
        disk,
        deferred: _,
    } = f;
    let bytes = match bytes {
        Ok(b) => b,
        Err(e) => {
            summary.error = Some(e);
            return (Vec::new(), Vec::new(), summary);
        }
    };
    // Binary event logs never go through the text decoders.
    if bytes.starts_with(crate::events::evtx::MAGIC) {
        let events =
            read_events(rules, &path, disk.as_deref(), bytes, &mut summary).unwrap_or_default();
        return (Vec::new(), events, summary);
    }
    match reader.parse(&path, &bytes) {
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
            (snaps, Vec::new(), summary)
        }
        Err(e) => {
            if crate::events::detect(&bytes).is_some() {
                let events = read_events(rules, &path, disk.as_deref(), bytes, &mut summary)
                    .unwrap_or_default();
                return (Vec::new(), events, summary);
            }
            if matches!(e, SlmgrError::NotSlmgr { .. }) && !explicit {
                summary.status = "skipped";
            }
            summary.error = Some(match e {
                SlmgrError::NotSlmgr { .. } => unrecognized(&path, &bytes),
                other @ SlmgrError::TooLarge { .. } => other.to_string(),
            });
            (Vec::new(), Vec::new(), summary)
        }
    }
}

/// Why an input is neither slmgr output nor an event log, in words that say what to do.
fn unrecognized(path: &str, bytes: &[u8]) -> String {
    let evtx_name = std::path::Path::new(path)
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("evtx"));
    if bytes.is_empty() {
        format!("{path}: the file is empty")
    } else if evtx_name {
        format!(
            "{path}: named .evtx but not an event log file (no ElfFile signature at its start); export the log again with Event Viewer or `wevtutil epl`"
        )
    } else {
        format!(
            "{path}: neither slmgr output (/dli, /dlv, /xpr, /ato) nor an event log export kmsdiag reads (.evtx, event XML, evtx_dump or Get-WinEvent JSON, Event Viewer CSV/text, Export-Csv, Format-List)"
        )
    }
}

/// The full analysis of the given inputs.
pub fn analyze(rules: &Rules, paths: &[PathBuf], opts: &Options) -> Report {
    analyze_with_progress(rules, paths, opts, &Silent)
}

/// [`analyze`], telling `progress` how reading goes.
pub fn analyze_with_progress(
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
    let report = build_report(rules, snapshots, &events, summaries, opts);
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
    let reader = SlmgrReader::new(rules);
    let f = InputFile {
        path: name.to_owned(),
        explicit: true,
        bytes: Ok(bytes.to_vec()),
        disk: None,
        deferred: None,
    };
    let (snapshots, mut events, summary) = read_one(rules, &reader, f);
    crate::events::sort(&mut events);
    dedup_events(&mut events);
    window(&mut events, opts);
    build_report(rules, snapshots, &events, vec![summary], opts)
}

/// Diagnoses decoded snapshots and events into a report.
pub fn build_report(
    rules: &Rules,
    snapshots: Vec<LicenseSnapshot>,
    events: &[ActivationEvent],
    inputs: Vec<InputSummary>,
    opts: &Options,
) -> Report {
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
        (Some(n), _) => (n, "flag"),
        (None, Some(o)) => (o, "input"),
        (None, None) => (chrono::Local::now().naive_local(), "clock"),
    };
    let machines = diagnose::group_machines(snapshots);
    let corr = correlate::correlate(events, now.and_utc(), opts.threads, rules.kms());
    let mut d = diagnose::diagnose(
        rules,
        &diagnose::Scope {
            machines: &machines,
            events,
            correlation: &corr,
            inputs: &inputs,
            now,
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
            (m.attempts, m.attempts_omitted) = diagnose::attempt_records(c);
        }
    }
    if !opts.machines.is_empty() {
        let wanted = |n: &str| opts.machines.iter().any(|m| correlate::same_machine(m, n));
        d.machines.retain(|m| wanted(&m.name));
        d.hosts.retain(|h| wanted(&h.name));
        d.findings
            .retain(|f| f.machines.is_empty() || f.machines.iter().any(|n| wanted(n)));
    }
    Report {
        schema: SCHEMA,
        now: stamp(now),
        now_source,
        inputs,
        machines: d.machines,
        hosts: d.hosts,
        findings: d.findings,
        attempts,
        kms_inventory,
    }
}

/// Whether anything at all was read.
pub fn has_readable_input(report: &Report) -> bool {
    report
        .inputs
        .iter()
        .any(|i| matches!(i.status, "read" | "partial"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.evtx` fixture, the damaged ones included.
    fn evtx_fixtures() -> Vec<PathBuf> {
        fn walk(d: &std::path::Path, out: &mut Vec<PathBuf>) {
            let Ok(rd) = std::fs::read_dir(d) else { return };
            for e in rd.flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "evtx") {
                    out.push(p);
                }
            }
        }
        let mut v = Vec::new();
        walk(std::path::Path::new("testdata"), &mut v);
        v.sort();
        v
    }

    #[test]
    fn reading_in_chunk_ranges_gives_the_whole_files_answer() {
        let rules = Rules::load(None).unwrap();
        let files = evtx_fixtures();
        assert!(files.len() > 20, "{}", files.len());
        let split = files
            .iter()
            .filter(|f| std::fs::metadata(f).is_ok_and(|m| m.len() > 4096 + 65536))
            .count();
        assert!(split > 10, "too few fixtures span several chunks: {split}");
        // Each file alone (its damage notes are its own), then all at once.
        for f in files
            .iter()
            .map(std::slice::from_ref)
            .chain([files.as_slice()])
        {
            let whole = read_inputs_in(&rules, f, 1, &Silent, u64::MAX);
            // Positions are file-wide: no two events of one file share one.
            let mut at: Vec<(&str, u64)> = whole
                .events
                .iter()
                .map(|e| (e.source.path(), e.source.index))
                .collect();
            at.sort_unstable();
            let n = at.len();
            at.dedup();
            assert_eq!(at.len(), n, "{}: positions repeat", f[0].display());
            for (threads, range) in [(1, 1), (2, 1), (2, 3)] {
                let ranged = read_inputs_in(&rules, f, threads, &Silent, range);
                let what = format!(
                    "{} file(s) from {}, ranges of {range}",
                    f.len(),
                    f[0].display()
                );
                assert_eq!(ranged.events, whole.events, "{what}");
                assert_eq!(ranged.summaries, whole.summaries, "{what}");
            }
        }
    }
}
