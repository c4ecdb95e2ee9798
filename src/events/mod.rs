//! Event logs in the forms helpdesks receive — binary `.evtx`, event XML, `evtx_dump` JSON,
//! `Get-WinEvent` and Event Viewer exports — read into one stream of normalized,
//! source-referenced [`ActivationEvent`]s.
//!
//! [`read_input`] reads one input: [`detect()`] names its format by content, the reader of
//! that format turns it into [`RawEvent`]s (the System fields and the `<Data>` strings, nothing
//! decoded), and the normalizer (`normalize`) keeps the activation providers' events and decodes
//! their payloads by the catalogue in `rules/events.toml`. Readers know formats, not events. The
//! event types are the model's (`model::event`), re-exported here; a read that fails is an
//! [`EventReadError`].

mod detect;
pub(crate) mod evtx;
pub(crate) mod json;
pub(crate) mod message;
mod normalize;
pub(crate) mod payload;
pub(crate) mod shipper;
pub(crate) mod stream;
pub(crate) mod tabular;
pub(crate) mod xml;

use std::sync::Arc;

use serde::Serialize;

use crate::model::InputFormat;
use crate::rules::Rules;
use normalize::Normalizer;

pub use crate::model::event::RawEvent;
pub(crate) use crate::model::event::{ActivationEvent, Context, EventSource, Origin};
pub(crate) use crate::model::names::cmp_ignore_case;
pub(crate) use detect::detect;
pub(crate) use normalize::normalize_all;

pub(crate) use crate::model::payload::{FieldValue, Fields};

/// What reading one input produced, for the per-input summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct ReadStats {
    pub records: u64,
    pub activation_events: u64,
    /// Records or chunks that could not be read, each with where and why.
    pub damaged: Vec<String>,
    /// How many damaged items there were in all (the list is capped).
    pub damaged_count: u64,
    /// What the reader had to assume (for example local times read as UTC).
    pub notes: Vec<String>,
    /// `.evtx` chunks the pre-filter handed to the `evtx` crate, counted by why (not reported).
    #[serde(skip)]
    pub declined: evtx::Declines,
}

/// JSON records normalized at a time (the raw records of a large export are never all held).
const JSON_BATCH: usize = 4096;

/// Most damage messages listed per input; the count is always complete.
const MAX_DAMAGE_LISTED: usize = 50;

impl ReadStats {
    pub(crate) fn damage(&mut self, what: String) {
        self.damaged_count += 1;
        if self.damaged.len() < MAX_DAMAGE_LISTED {
            self.damaged.push(what);
        }
    }
}

/// Sorts events by machine, time and record id (then source), so output never depends on the
/// order inputs were read in. No two events share a source position, so the order is total and
/// an unstable sort (no buffer of half the events) gives the one answer.
pub(crate) fn sort(events: &mut [ActivationEvent]) {
    events.sort_unstable_by(|a, b| {
        same_name(a.machine(), b.machine())
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.record_id.cmp(&b.record_id))
            // Lazily: comparing sources compares their paths.
            .then_with(|| a.source.cmp(&b.source))
    });
}

/// [`cmp_ignore_case`] for names shared by the events of one input: the same `Arc` answers at
/// once. Events' machine names are compared so once the fleet's [`crate::model::names::Directory`]
/// has given each machine one name (the loose comparison is the directory's).
pub(crate) fn same_name(a: &Arc<str>, b: &Arc<str>) -> std::cmp::Ordering {
    if Arc::ptr_eq(a, b) {
        std::cmp::Ordering::Equal
    } else {
        cmp_ignore_case(a, b)
    }
}

/// Which events of an input to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep<'a> {
    /// Every event, other providers' too (decoded as raw strings only).
    All,
    /// The activation providers' events.
    Activation,
    /// The activation providers' events with these ids (what a consumer reads; the rest is
    /// dropped as soon as it is read, so memory holds only these).
    Ids(&'a [u32]),
}

impl Keep<'_> {
    /// Whether a raw event with this id is kept (the provider is decided by the normalizer).
    fn wants(self, event_id: u32) -> bool {
        match self {
            Keep::Ids(ids) => ids.contains(&event_id),
            _ => true,
        }
    }
}

impl evtx::Positioned for ActivationEvent {
    fn shift(&mut self, by: u64) {
        self.source.index += by;
    }
}

/// Calls `f` with the `.evtx` pre-filter's choice for `keep`: activation providers, the ids kept.
pub fn with_select<R>(rules: &Rules, keep: Keep<'_>, f: impl FnOnce(&evtx::Select<'_>) -> R) -> R {
    let cat = rules.events();
    let provider = |p: &str| cat.provider(p).is_some();
    let event_id = |id: u32| keep.wants(id);
    f(&evtx::Select {
        provider: &provider,
        event_id: &event_id,
    })
}

/// Why an input could not be read as an event log. Each names its input, and its message starts
/// with the path: the path is said once, here.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EventReadError {
    /// The content is none of the formats [`detect()`] recognises.
    #[error(
        "{path}: not an event log export kmsdiag reads (.evtx, event XML, evtx_dump or Get-WinEvent JSON, Event Viewer CSV/text, Export-Csv, Format-List)"
    )]
    NotAnEventLog { path: String },
    /// The `.evtx` file on disk could not be opened to read its header.
    #[error("{path}: cannot open: {source}")]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    /// The `.evtx` reader refused the file: its header, or the file itself, unreadable (the
    /// reader's reason, which says where when it knows).
    #[error("{path}: {reason}")]
    Evtx {
        path: String,
        #[source]
        reason: evtx::EvtxError,
    },
}

impl EventReadError {
    fn evtx(path: &str) -> impl FnOnce(evtx::EvtxError) -> EventReadError {
        move |reason| EventReadError::Evtx {
            path: path.to_owned(),
            reason,
        }
    }
}

/// What reading an event log gave: its events, what reading them found, and its format.
pub(crate) type EventsRead = (Vec<ActivationEvent>, ReadStats, InputFormat);

/// Reads one event-log input: the events `keep` selects and what reading it found. `Err` when
/// the input is not an event log kmsdiag reads, or its header is unreadable.
pub(crate) fn read_input(
    rules: &Rules,
    path: &str,
    bytes: Vec<u8>,
    disk: Option<&std::path::Path>,
    keep: Keep<'_>,
) -> Result<EventsRead, EventReadError> {
    let format = detect(rules, &bytes).ok_or_else(|| EventReadError::NotAnEventLog {
        path: path.to_owned(),
    })?;
    let mut notes = Vec::new();
    let mut declined = evtx::Declines::default();
    let mut norm = Normalizer::new(rules, path, format, keep);
    let (events, damaged, counted) = match format {
        InputFormat::Evtx => {
            let mut convert = |raws: &[RawEvent]| norm.convert(raws);
            // A damaged log is read through a repaired view, and says so. On disk, `bytes` are
            // the file's first bytes: the file is read where it is, chunk by chunk.
            let read = if let Some(file) = disk {
                drop(bytes);
                let (view, note) = evtx::salvage::open(file)
                    .map_err(|e| EventReadError::evtx(path)(evtx::EvtxError::Open(e)))?;
                notes.extend(note);
                read_evtx(rules, view, keep, &mut convert, &mut notes)
            } else {
                let (image, note) = evtx::salvage::Image::new(bytes);
                notes.extend(note);
                read_evtx(rules, image, keep, &mut convert, &mut notes)
            };
            let (mut read, repeats) = read.map_err(EventReadError::evtx(path))?;
            declined = read.declined;
            let repeated = read_once(&mut read.events, repeats, &mut notes);
            (
                read.events,
                read.damaged,
                read.records.saturating_sub(repeated),
            )
        }
        InputFormat::Xml => {
            let (decoded, note) = crate::input::encoding::decode_utf8_standard(&bytes);
            notes.extend(note);
            let (raws, damaged) = xml::read(&decoded.text);
            let n = raws.len() as u64;
            (norm.convert(&raws), damaged, n)
        }
        InputFormat::Json => {
            let (decoded, note) = crate::input::encoding::decode_utf8_standard(&bytes);
            drop(bytes);
            notes.extend(note);
            let read = batched(&mut norm, keep, |each| {
                json::read_each(&decoded.text, rules.fields(), each)
            });
            notes.extend(read.1.notes);
            (read.0, read.1.damaged, read.1.records)
        }
        InputFormat::Csv
            if tabular::detect(&detect::head(&bytes, 8192), rules.eventviewer_labels())
                .is_none() =>
        {
            // A SIEM's CSV: rows through the field-alias table.
            let text = crate::input::encoding::decode(&bytes, &|_| 0).text;
            drop(bytes);
            let read = batched(&mut norm, keep, |each| {
                shipper::csv::read_each(&text, rules.fields(), each)
            });
            notes.extend(read.1.notes);
            (read.0, read.1.damaged, read.1.records)
        }
        InputFormat::KeyValueText => {
            let text = crate::input::encoding::decode(&bytes, &|t| {
                usize::from(shipper::classic::looks_like(t))
            })
            .text;
            drop(bytes);
            let read = batched(&mut norm, keep, |each| {
                shipper::classic::read_each(&text, rules.fields(), each)
            });
            notes.extend(read.1.notes);
            (read.0, read.1.damaged, read.1.records)
        }
        _ => {
            let text = crate::input::encoding::decode(&bytes, &|t| {
                usize::from(tabular::detect(t, rules.eventviewer_labels()).is_some())
            })
            .text;
            notes.push(
                "times are as the exporting machine displayed them (its local time, no zone); they are read as UTC"
                    .to_owned(),
            );
            let (raws, damaged) = tabular::read(format, &text, rules.eventviewer_labels());
            let n = raws.len() as u64;
            (norm.convert(&raws), damaged, n)
        }
    };
    let mut stats = stats(counted, damaged, notes, &events);
    stats.declined = declined;
    Ok((events, stats, format))
}

/// Reads a log through its repaired `view`: every record through the `evtx` crate
/// ([`Keep::All`]), else through the pre-filter; with the chunks that repeat earlier chunks'
/// records ([`evtx::salvage::repeats`], for [`read_once`]).
fn read_evtx<R: std::io::Read + std::io::Seek>(
    rules: &Rules,
    mut view: R,
    keep: Keep<'_>,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<ActivationEvent>,
    notes: &mut Vec<String>,
) -> Result<(evtx::LogRead<ActivationEvent>, evtx::salvage::Repeats), evtx::EvtxError> {
    let repeats = evtx::salvage::repeats(&mut view).map_err(evtx::EvtxError::Read)?;
    let wanted = |r: &RawEvent| keep.wants(r.event_id);
    let read = if matches!(keep, Keep::All) {
        evtx::read(view, &wanted).map(|(raws, damaged, records)| evtx::LogRead {
            events: convert(&raws),
            damaged,
            records,
            declined: evtx::Declines::default(),
        })
    } else {
        with_select(rules, keep, |select| {
            evtx::read_selected(view, select, &wanted, convert, notes)
        })
    };
    read.map(|r| (r, repeats))
}

/// A log's records read once: when chunk headers show a chunk repeating earlier chunks' record
/// ids (`repeats`: a chunk copied over another — ids in one log never repeat), an event whose
/// record id an earlier record of the log (a lower position) already has is dropped, and the
/// repeating chunks are said in `notes`. An intact log costs nothing here (the ids are not
/// mapped). Returns how many records to take off the log's count.
fn read_once(
    events: &mut Vec<ActivationEvent>,
    repeats: evtx::salvage::Repeats,
    notes: &mut Vec<String>,
) -> u64 {
    if repeats.notes.is_empty() {
        return 0;
    }
    let mut first: std::collections::HashMap<u64, u64> = std::collections::HashMap::new();
    for e in events.iter() {
        if let Some(id) = e.record_id {
            let at = first.entry(id).or_insert(e.source.index);
            *at = (*at).min(e.source.index);
        }
    }
    events.retain(|e| {
        e.record_id
            .is_none_or(|id| first.get(&id).is_none_or(|at| *at == e.source.index))
    });
    notes.extend(repeats.notes);
    repeats.records
}

/// Runs a streaming reader, normalizing the records `keep` wants a batch at a time (the raw
/// records of a large export are never all held).
fn batched(
    norm: &mut Normalizer<'_>,
    keep: Keep<'_>,
    read: impl FnOnce(&mut dyn FnMut(RawEvent)) -> json::JsonRead,
) -> (Vec<ActivationEvent>, json::JsonRead) {
    let mut events = Vec::new();
    let mut batch: Vec<RawEvent> = Vec::new();
    let done = read(&mut |raw| {
        if keep.wants(raw.event_id) {
            batch.push(raw);
            if batch.len() >= JSON_BATCH {
                events.extend(norm.convert(&batch));
                batch.clear();
            }
        }
    });
    events.extend(norm.convert(&batch));
    (events, done)
}

fn stats(
    records: u64,
    damaged: Vec<String>,
    notes: Vec<String>,
    events: &[ActivationEvent],
) -> ReadStats {
    let mut stats = ReadStats {
        records,
        notes,
        activation_events: events.len() as u64,
        ..ReadStats::default()
    };
    for d in damaged {
        stats.damage(d);
    }
    stats
}

/// One chunk range of a large `.evtx` file on disk, read on its own (on any thread) for
/// [`EvtxParts`]: the parts of the file's chunks `chunks`, their events normalized.
pub(crate) fn evtx_part(
    rules: &Rules,
    path: &str,
    file: &std::path::Path,
    chunks: std::ops::Range<u64>,
    keep: Keep<'_>,
) -> Result<Vec<evtx::Part<ActivationEvent>>, EventReadError> {
    let wanted = |r: &RawEvent| keep.wants(r.event_id);
    let mut norm = Normalizer::new(rules, path, InputFormat::Evtx, keep);
    with_select(rules, keep, |select| {
        evtx::read_chunks(file, chunks, select, &wanted, &mut |raws| {
            norm.convert(raws)
        })
    })
    .map_err(EventReadError::evtx(path))
}

/// A large `.evtx` file read in parts by [`evtx_part`] over consecutive chunk ranges, put back
/// together range by range as they are read, in file order (each range's memory is freed for the
/// next): the same answer [`read_input`] gives for the whole file.
#[derive(Default)]
pub(crate) struct EvtxParts {
    tally: evtx::Tally<ActivationEvent>,
    failed: Option<EventReadError>,
}

impl EvtxParts {
    /// The next range of the file.
    pub(crate) fn add(&mut self, range: Result<Vec<evtx::Part<ActivationEvent>>, EventReadError>) {
        match range {
            Ok(parts) => {
                for p in parts {
                    self.tally.add(p);
                }
            }
            Err(e) => {
                self.failed.get_or_insert(e);
            }
        }
    }

    /// The file's events and what reading it produced, or the first range's failure.
    pub(crate) fn finish(
        self,
        path: &str,
        file: &std::path::Path,
    ) -> Result<EventsRead, EventReadError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let mut notes = Vec::new();
        let mut input = std::fs::File::open(file).map_err(|source| EventReadError::Open {
            path: path.to_owned(),
            source,
        })?;
        let mut head = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(&mut input, evtx::layout::FILE_HEADER_SIZE as u64),
            &mut head,
        )
        .map_err(|e| EventReadError::evtx(path)(evtx::EvtxError::Read(e)))?;
        notes.extend(evtx::salvage::header_damage(&head));
        let repaired = evtx::salvage::Patched::new(std::io::Cursor::new(head));
        let header = evtx::header(repaired, &mut notes).map_err(EventReadError::evtx(path))?;
        let read = self.tally.finish(&header, &mut notes);
        let mut events = read.events;
        // The ranges are joined: a chunk repeating another in any range is found here (a file
        // is read in ranges only when its chunks are in place: the file is its own view).
        let repeats = evtx::salvage::repeats(&mut input)
            .map_err(|e| EventReadError::evtx(path)(evtx::EvtxError::Read(e)))?;
        let repeated = read_once(&mut events, repeats, &mut notes);
        events.shrink_to_fit();
        let records = read.records.saturating_sub(repeated);
        let mut stats = stats(records, read.damaged, notes, &events);
        stats.declined = read.declined;
        Ok((events, stats, InputFormat::Evtx))
    }
}
