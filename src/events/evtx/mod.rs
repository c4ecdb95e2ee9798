//! Binary `.evtx` files. Two readers share this folder. The `evtx` crate reads every record
//! (this file): one thread, records in file order; damaged files (bad chunk magic, bad string
//! cache, zeroed checksums, dirty or truncated files) yield every record the crate can read, and
//! each one it cannot is counted with its position. The pre-filter (the other files) reads only
//! the records a [`Select`] picks and hands each chunk it does not read itself to the crate,
//! saying why ([`Decline`]): the same answer, faster. Layout: MS-EVEN6 §2.2.
//!
//! The pre-filter, leaf first: `layout.rs` (the format's constants, shared with `evtx_writer`),
//! `cursor.rs` (bytes and UTF-16), `decline.rs` (why a chunk goes to the crate), `template.rs`
//! (template definitions), `values.rs` (substitution values), `record.rs` (one record),
//! `chunk.rs` (one chunk), `file.rs` (a file's chunks in order). `salvage.rs` finds the chunks
//! of a log whose header is damaged and gives both readers a repaired view of it. This file joins
//! the pre-filter to the crate.

mod chunk;
mod cursor;
mod decline;
pub(crate) mod file;
pub(crate) mod layout;
mod record;
pub(crate) mod salvage;
mod template;
mod values;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use evtx::{EvtxChunkData, EvtxParser, ParserSettings};

use super::RawEvent;
pub(crate) use chunk::{ChunkRead, Damage, Part};
#[cfg(test)]
pub(crate) use decline::Decline;
pub(crate) use decline::Declines;
pub(crate) use file::{LogRead, Positioned, Tally, header};
pub use layout::chunk_count;
pub(crate) use layout::{MAGIC, chunk_offset};
pub use template::Select;

/// Why an `.evtx` file could not be read at all (a damaged chunk or record is no error: it is
/// counted and the rest is read). The path is added by the caller's error.
#[derive(Debug, thiserror::Error)]
pub enum EvtxError {
    /// The file header is unreadable, or the `evtx` crate refused the file (its reason).
    #[error("not a readable .evtx file: {0}")]
    NotEvtx(String),
    #[error("not a readable .evtx file: no ElfFile signature")]
    NoSignature,
    #[error("cannot open: {0}")]
    Open(std::io::Error),
    #[error("cannot read: {0}")]
    Read(std::io::Error),
}

/// Reads the records of an `.evtx` log through its repaired view ([`salvage::Image`] in memory,
/// [`salvage::open`] on disk, read chunk by chunk: memory does not grow with the log's size).
/// Returns the events and what could not be read; an `Err` when the file header itself cannot be
/// read.
pub(crate) fn read<R: std::io::Read + std::io::Seek>(
    view: R,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), EvtxError> {
    let parser = EvtxParser::from_read_seek(view).map_err(|e| EvtxError::NotEvtx(e.to_string()))?;
    Ok(records(parser, keep))
}

/// Reads an `.evtx` file from disk, chunk by chunk: memory does not grow with the file's size.
/// Only the records `keep` accepts are returned (the rest are read and dropped at once); the
/// count of all records read comes third. A damaged header, and chunks off their places, are
/// read as if they were right (`salvage::Repaired`).
pub fn read_file(
    path: &std::path::Path,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), EvtxError> {
    let (view, _) = salvage::open(path).map_err(EvtxError::Open)?;
    read(view, keep)
}

fn records<T: std::io::Read + std::io::Seek>(
    parser: EvtxParser<T>,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> (Vec<RawEvent>, Vec<String>, u64) {
    // Checksums are not enforced: exports and copies of live logs often carry stale ones, and a
    // record that parses is worth reading.
    let mut parser = parser.with_configuration(
        ParserSettings::new()
            .num_threads(1)
            .validate_checksums(false),
    );
    let mut events = Vec::new();
    let mut damaged = Vec::new();
    let mut total = 0u64;
    for (index, record) in parser.records_json_value().enumerate() {
        total += 1;
        match record {
            Ok(r) => take(&r, index as u64, keep, &mut events, &mut damaged),
            Err(e) => damaged.push(format!("record #{index}: {e}")),
        }
    }
    (events, damaged, total)
}

/// One record the crate rendered: into a raw event at position `index`, kept when `keep` says.
fn take(
    r: &evtx::SerializedEvtxRecord<serde_json::Value>,
    index: u64,
    keep: &dyn Fn(&RawEvent) -> bool,
    events: &mut Vec<RawEvent>,
    damaged: &mut Vec<String>,
) {
    let Some(mut e) = super::json::from_value(&r.data) else {
        damaged.push(format!("record {}: no System/EventID", r.event_record_id));
        return;
    };
    e.index = index;
    e.record_id = e.record_id.or(Some(r.event_record_id));
    e.time_created = e.time_created.or_else(|| {
        let nanos = u32::try_from(r.timestamp.subsec_nanosecond()).unwrap_or(0);
        chrono::DateTime::from_timestamp(r.timestamp.as_second(), nanos)
    });
    if keep(&e) {
        events.push(e);
    }
}

/// Reads an `.evtx` file through the pre-filter: only the records `select` picks are decoded;
/// chunks the pre-filter cannot read are parsed by the crate, keeping what `keep` accepts. Same
/// answer as [`read_file`], in the same shape, without rendering the other records.
pub fn read_file_selected(
    path: &std::path::Path,
    select: &Select<'_>,
    keep: &dyn Fn(&RawEvent) -> bool,
    notes: &mut Vec<String>,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), EvtxError> {
    // Unbuffered: the reader asks for whole chunks (64 KiB) after the header (4 KiB), so each
    // read goes straight into its buffer (a buffer in between would copy every chunk twice).
    let (view, note) = salvage::open(path).map_err(EvtxError::Open)?;
    notes.extend(note);
    read_selected(view, select, keep, &mut <[RawEvent]>::to_vec, notes)
        .map(|read| (read.events, read.damaged, read.records))
}

/// [`read_file_selected`] for any stream (a repaired view, in memory or on disk), each chunk's records passed
/// through `convert` as soon as the chunk is read. Chunk checksums that do not match are noted
/// in `notes` (the records are read anyway).
pub(crate) fn read_selected<T: Positioned>(
    input: impl std::io::Read,
    select: &Select<'_>,
    keep: &dyn Fn(&RawEvent) -> bool,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
    notes: &mut Vec<String>,
) -> Result<LogRead<T>, EvtxError> {
    let settings = crate_settings();
    let mut fallback =
        |data: Vec<u8>, number: u64| chunk_with_crate(data, number, &settings, select, keep);
    file::read(input, select, &mut fallback, convert, notes)
}

/// Chunks `chunks` of an `.evtx` file on disk, read like [`read_selected`] reads a whole file;
/// their [`Part`]s, in order, go to a [`Tally`] with those of the other ranges.
pub(crate) fn read_chunks<T>(
    path: &std::path::Path,
    chunks: std::ops::Range<u64>,
    select: &Select<'_>,
    keep: &dyn Fn(&RawEvent) -> bool,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
) -> Result<Vec<Part<T>>, EvtxError> {
    let settings = crate_settings();
    let mut fallback =
        |data: Vec<u8>, number: u64| chunk_with_crate(data, number, &settings, select, keep);
    file::read_chunks(path, chunks, select, &mut fallback, convert)
}

/// The crate's settings for chunks the pre-filter hands it.
fn crate_settings() -> Arc<ParserSettings> {
    Arc::new(
        ParserSettings::new()
            .num_threads(1)
            .validate_checksums(false),
    )
}

/// One chunk parsed by the crate: its kept records, what could not be read, its record count,
/// records numbered from 0 within the chunk. The crate finds the records (its way through a
/// damaged chunk is the answer), and the pre-filter still decides each one where it can: a
/// record `select` does not want is not rendered, one it wants and reads is taken as it reads
/// it; only the records it cannot read are rendered by the crate — in a chunk declined for one
/// record's shape, that record and not the chunk's hundred others.
fn chunk_with_crate(
    data: Vec<u8>,
    number: u64,
    settings: &Arc<ParserSettings>,
    select: &Select<'_>,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> ChunkRead {
    let mut events = Vec::new();
    let mut damaged: Vec<Damage> = Vec::new();
    let mut n = 0u64;
    // Like the crate's own file iteration, a chunk that cannot be read counts as one item.
    let offset = chunk_offset(number);
    let mut chunk_data = match EvtxChunkData::new(data, false) {
        Ok(c) => c,
        Err(e) => {
            damaged.push(Damage::said(format!(
                "chunk {number} at file offset 0x{offset:x}: {e}"
            )));
            return (events, damaged, 1);
        }
    };
    let mut chunk = match chunk_data.parse(Arc::clone(settings)) {
        Ok(c) => c,
        Err(e) => {
            damaged.push(Damage::said(format!(
                "chunk {number} at file offset 0x{offset:x}: {e}"
            )));
            return (events, damaged, 1);
        }
    };
    let bytes: &[u8] = chunk.data;
    let mut reader = RecordReader::default();
    let mut said = Vec::new();
    for record in chunk.iter() {
        let index = n;
        n += 1;
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                damaged.push(Damage {
                    record: Some(index),
                    what: format!("(chunk {number}): {e}"),
                });
                continue;
            }
        };
        match reader.decide(bytes, &record, select) {
            Decided::Unwanted => {}
            Decided::Read(mut e) => {
                e.index = index;
                if keep(&e) {
                    events.push(*e);
                }
            }
            Decided::Unread => match record.into_json_value() {
                Ok(r) => {
                    take(&r, index, keep, &mut events, &mut said);
                    damaged.extend(said.drain(..).map(Damage::said));
                }
                Err(e) => damaged.push(Damage {
                    record: Some(index),
                    what: format!("(chunk {number}): {e}"),
                }),
            },
        }
    }
    (events, damaged, n)
}

/// What the pre-filter made of one record the crate found.
enum Decided {
    /// `select` does not want it.
    Unwanted,
    /// Wanted, and read.
    Read(Box<RawEvent>),
    /// The pre-filter cannot read it: the crate renders it.
    Unread,
}

/// The pre-filter's reading of single records the crate found, in a chunk it declined: the
/// chunk's templates, parsed as records use them.
#[derive(Default)]
struct RecordReader {
    templates: template::Templates,
    subs: [Vec<(usize, usize, u8)>; 2],
    event: RawEvent,
}

impl RecordReader {
    /// What the pre-filter makes of `record`.
    fn decide(
        &mut self,
        chunk: &[u8],
        record: &evtx::EvtxRecord<'_>,
        select: &Select<'_>,
    ) -> Decided {
        let (Ok(at), Ok(size)) = (
            usize::try_from(record.binxml_offset),
            usize::try_from(record.binxml_size),
        ) else {
            return Decided::Unread;
        };
        match record::decode_record(
            chunk,
            at,
            size,
            &mut self.templates,
            select,
            &mut self.subs,
            &mut self.event,
        ) {
            Ok(true) => {}
            Ok(false) => return Decided::Unwanted,
            Err(_) => return Decided::Unread,
        }
        let mut e = Box::new(self.event.clone());
        // As `take` completes what the crate renders: the record header's id and time.
        e.record_id = e.record_id.or(Some(record.event_record_id));
        e.time_created = e.time_created.or_else(|| {
            let nanos = u32::try_from(record.timestamp.subsec_nanosecond()).unwrap_or(0);
            chrono::DateTime::from_timestamp(record.timestamp.as_second(), nanos)
        });
        Decided::Read(e)
    }
}
