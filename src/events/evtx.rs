//! Binary `.evtx` files, through the `evtx` crate, one thread, records in file order. Damaged
//! files (bad chunk magic, bad string cache, zeroed checksums, dirty or truncated files) yield
//! every record the crate can read; each one it cannot is counted with its position.

use std::sync::Arc;

use evtx::{EvtxChunkData, EvtxParser, ParserSettings};

use super::RawEvent;

/// The first bytes of every `.evtx` file.
pub const MAGIC: &[u8] = b"ElfFile\0";

/// What an `.evtx` file's header and size say about its state: notes (a stale header checksum,
/// the dirty flag of a log copied while open, a chunk count that differs from what the file holds)
/// and, when the file ends inside a chunk, the damage that truncation is. `header` is the first
/// 4096 bytes (or fewer, for a file that short).
pub fn header_notes(header: &[u8], file_len: u64) -> (Vec<String>, Option<String>) {
    let mut notes = Vec::new();
    let u16_at = |o: usize| {
        header
            .get(o..o + 2)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_le_bytes)
    };
    let u32_at = |o: usize| {
        header
            .get(o..o + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    if let (Some(stored), Some(covered)) = (u32_at(124), header.get(..120))
        && stored != crc32fast::hash(covered)
    {
        notes.push(format!(
            "the file header's checksum (0x{stored:08x}) does not match its content: the header was changed or the copy is inconsistent; records were read anyway"
        ));
    }
    if u32_at(120).is_some_and(|f| f & 1 == 1) {
        notes.push(
            "the log is marked dirty (copied while the Event Log service had it open): its newest records may be missing"
                .to_owned(),
        );
    }
    let body = file_len.saturating_sub(4096);
    let whole = body / 65536;
    let truncated = !body.is_multiple_of(65536);
    // Logs are often larger than their used chunks; only a claim beyond the file is worth saying
    // (and a truncated file says so itself).
    if let Some(claimed) = u16_at(42)
        && u64::from(claimed) > whole
        && !truncated
    {
        notes.push(format!(
            "the file header claims {claimed} chunk(s); the file holds {whole}: the chunks present were read"
        ));
    }
    let damage = truncated.then(|| {
        format!(
            "the file is truncated: it ends {} byte(s) into chunk {whole} (file offset 0x{:x}); records after that point are lost",
            body % 65536,
            4096 + whole * 65536
        )
    });
    (notes, damage)
}

/// Reads the records of an `.evtx` image in memory (an entry of a zip). Returns the events and
/// what could not be read; an `Err` when the file header itself cannot be read.
pub fn read(
    bytes: Vec<u8>,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), String> {
    let parser =
        EvtxParser::from_buffer(bytes).map_err(|e| format!("not a readable .evtx file: {e}"))?;
    Ok(records(parser, keep))
}

/// Reads an `.evtx` file from disk, chunk by chunk: memory does not grow with the file's size.
/// Only the records `keep` accepts are returned (the rest are read and dropped at once); the
/// count of all records read comes third.
pub fn read_file(
    path: &std::path::Path,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), String> {
    let parser =
        EvtxParser::from_path(path).map_err(|e| format!("not a readable .evtx file: {e}"))?;
    Ok(records(parser, keep))
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

/// Reads an `.evtx` file through the pre-filter (`evtx_fast`): only the records `select` picks
/// are decoded; chunks the pre-filter cannot read are parsed by the crate, keeping what `keep`
/// accepts. Same answer as [`read_file`], without rendering the other records.
pub fn read_file_selected(
    path: &std::path::Path,
    select: &super::evtx_fast::Select<'_>,
    keep: &dyn Fn(&RawEvent) -> bool,
    notes: &mut Vec<String>,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), String> {
    let file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    let input = std::io::BufReader::with_capacity(1 << 16, file);
    read_selected(input, select, keep, notes)
}

/// [`read_file_selected`] for an image in memory. Chunk checksums that do not match are noted in
/// `notes` (the records are read anyway).
pub fn read_selected(
    input: impl std::io::Read,
    select: &super::evtx_fast::Select<'_>,
    keep: &dyn Fn(&RawEvent) -> bool,
    notes: &mut Vec<String>,
) -> Result<(Vec<RawEvent>, Vec<String>, u64), String> {
    let settings = Arc::new(
        ParserSettings::new()
            .num_threads(1)
            .validate_checksums(false),
    );
    let mut fallback = |data: Vec<u8>, first_index: u64, number: u64| {
        chunk_with_crate(data, first_index, number, &settings, keep)
    };
    super::evtx_fast::read(input, select, &mut fallback, notes)
}

/// One chunk parsed by the crate: its kept records, what could not be read, its record count.
fn chunk_with_crate(
    data: Vec<u8>,
    first_index: u64,
    number: u64,
    settings: &Arc<ParserSettings>,
    keep: &dyn Fn(&RawEvent) -> bool,
) -> (Vec<RawEvent>, Vec<String>, u64) {
    let mut events = Vec::new();
    let mut damaged = Vec::new();
    let mut n = 0u64;
    // Like the crate's own file iteration, a chunk that cannot be read counts as one item.
    let offset = 4096 + number * 65536;
    let mut chunk_data = match EvtxChunkData::new(data, false) {
        Ok(c) => c,
        Err(e) => {
            damaged.push(format!("chunk {number} at file offset 0x{offset:x}: {e}"));
            return (events, damaged, 1);
        }
    };
    let mut chunk = match chunk_data.parse(Arc::clone(settings)) {
        Ok(c) => c,
        Err(e) => {
            damaged.push(format!("chunk {number} at file offset 0x{offset:x}: {e}"));
            return (events, damaged, 1);
        }
    };
    for record in chunk.iter() {
        let index = first_index + n;
        n += 1;
        match record.and_then(evtx::EvtxRecord::into_json_value) {
            Ok(r) => take(&r, index, keep, &mut events, &mut damaged),
            Err(e) => damaged.push(format!("record #{index} (chunk {number}): {e}")),
        }
    }
    (events, damaged, n)
}
