//! Reading many inputs at once: files and ranges of large `.evtx` logs are read on up to
//! `threads` threads and put back in input order, so the answer is the same at any thread count.

use std::path::PathBuf;

use crate::events::evtx::{self, Part};
use crate::events::{ActivationEvent, Keep};
use crate::input::{self, InputFile};
use crate::model::InputSummary;
use crate::model::snapshot::LicenseSnapshot;
use crate::rules::Rules;
use crate::slmgr::SlmgrReader;

use super::read::{blank_summary, dedup_events, read_one, summarize};
use super::{Progress, Silent};

/// What the inputs hold, decoded.
#[derive(Debug, Clone, Default)]
pub(crate) struct Inputs {
    pub snapshots: Vec<LicenseSnapshot>,
    /// Activation events of every event log, sorted (machine, time, record id) and without
    /// duplicates (the same record read from two exports of one log counts once).
    pub events: Vec<ActivationEvent>,
    pub summaries: Vec<InputSummary>,
}

/// Reads every input and decodes what it can, on one thread.
pub(crate) fn read_inputs(rules: &Rules, paths: &[PathBuf]) -> Inputs {
    read_inputs_with(rules, paths, 1, &Silent)
}

/// What reading one input gave.
pub(super) type ReadOne = (Vec<LicenseSnapshot>, Vec<ActivationEvent>, InputSummary);

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
        let chunks = evtx::chunk_count(size);
        // Chunks off their places (bytes added or lost) are found by reading the whole file.
        if chunks <= range || !evtx::salvage::is_log(head) || !evtx::salvage::chunks_in_place(disk)
        {
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
                evtx::chunk_offset(start)
            };
            units.push(Unit::Range {
                file: i,
                path: path.clone(),
                disk: disk.clone(),
                chunks: start..end,
                bytes: evtx::chunk_offset(end).min(size).saturating_sub(from),
            });
            start = end;
        }
    }
    units
}

/// Reads every input on up to `threads` threads. Files are read whole, or — large `.evtx` files —
/// in chunk ranges put back together in file order, so the answer is the same whatever the
/// thread count.
pub(crate) fn read_inputs_with(
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

    /// A chunk copied over another (its records read twice) is read once whichever range holds
    /// the copy, with the same note (issue 29).
    #[test]
    fn a_copied_chunk_is_read_once_in_chunk_ranges_too() {
        let rules = Rules::load(None).unwrap();
        let mut b = std::fs::read("testdata/evtx/fukusuket_evtx-parser_Application.evtx").unwrap();
        let (head, chunk) = (4096, 65536);
        let first = b.get(head..head + chunk).unwrap().to_vec();
        b.get_mut(head + 3 * chunk..head + 4 * chunk)
            .unwrap()
            .copy_from_slice(&first);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("copied.evtx");
        std::fs::write(&path, b).unwrap();
        let files = [path];
        let whole = read_inputs_in(&rules, &files, 1, &Silent, u64::MAX);
        let mut ids: Vec<_> = whole.events.iter().filter_map(|e| e.record_id).collect();
        let n = ids.len();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), n, "record ids repeat");
        let said = format!("{:?}", whole.summaries);
        assert!(said.contains("chunk 3 repeats record ids"), "{said}");
        for (threads, range) in [(1, 1), (2, 1), (2, 3)] {
            let ranged = read_inputs_in(&rules, &files, threads, &Silent, range);
            assert_eq!(ranged.events, whole.events, "ranges of {range}");
            assert_eq!(ranged.summaries, whole.summaries, "ranges of {range}");
        }
    }
}
