//! One chunk: its records scanned by the pre-filter (`record.rs` decides each), or — when the
//! chunk is truncated or holds something the pre-filter does not read — the whole chunk handed
//! to a fallback (the `evtx` crate) together with the [`Decline`] that says why; what the chunk
//! gave is one [`Part`], with its checksums checked. It knows one chunk, not the file around it
//! (`file.rs`).

use super::cursor::{OutOfChunk, u32_at, u64_at};
use super::decline::Decline;
use super::layout::{
    CHUNK_HEADER_SIZE, CHUNK_MAGIC, CHUNK_SIZE, RECORD_HEADER_SIZE, RECORD_MAGIC, RECORD_OVERHEAD,
    chunk_header, chunk_offset,
};
use super::record::decode_record;
use super::template::{Kept, Select, Templates};
use crate::events::RawEvent;

/// What a chunk read by the crate yields: its kept records (numbered from 0 within the chunk),
/// what could not be read, its record count.
pub(crate) type ChunkRead = (Vec<RawEvent>, Vec<Damage>, u64);

/// Something in a chunk that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The record's position within its chunk, when one record is meant: said as its position
    /// in the file once the records before the chunk are counted.
    pub record: Option<u64>,
    /// What is wrong (said after `record #N ` when a record is meant).
    pub what: String,
}

impl Damage {
    /// Damage that is not one record's.
    pub fn said(what: String) -> Damage {
        Damage { record: None, what }
    }
}

/// What reading keeps from one chunk to the next: the records written for the last chunk,
/// written over by the next (a host log's hundreds of thousands of records allocate their
/// strings once per reader, not once each), and the substitution descriptors.
#[derive(Debug, Default)]
pub(super) struct Scratch {
    records: Vec<RawEvent>,
    /// How many of `records` the last chunk wanted.
    wanted: usize,
    subs: [Vec<(usize, usize, u8)>; 2],
    /// Templates kept from one chunk for the next.
    pub(super) kept: Vec<Kept>,
}

impl Scratch {
    /// The records the last chunk scanned wanted, in file order.
    pub(super) fn wanted(&self) -> &[RawEvent] {
        self.records.get(..self.wanted).unwrap_or(&[])
    }
}

/// One chunk: how many records it holds, or why the crate must read it; the records `select`
/// wants are written into `scratch` (see [`Scratch::wanted`]), the chunk's templates kept in
/// `templates`.
pub(super) fn scan_chunk(
    chunk: &[u8],
    select: &Select<'_>,
    templates: &mut Templates,
    scratch: &mut Scratch,
) -> Result<u64, Decline> {
    scratch.wanted = 0;
    if !chunk.starts_with(CHUNK_MAGIC) {
        return Err(Decline::ChunkMagic);
    }
    let free = u32_at(chunk, chunk_header::FREE_SPACE).ok_or(Decline::FreeSpace)? as usize;
    if free < CHUNK_HEADER_SIZE || free > chunk.len() {
        return Err(Decline::FreeSpace);
    }
    let mut pos = CHUNK_HEADER_SIZE;
    let mut n = 0u64;
    while pos + RECORD_OVERHEAD <= free {
        if chunk.get(pos..pos + 4).ok_or(OutOfChunk)? != RECORD_MAGIC {
            return Err(Decline::RecordMagic);
        }
        let size = u32_at(chunk, pos + 4).ok_or(OutOfChunk)? as usize;
        if size < RECORD_OVERHEAD || pos + size > free {
            return Err(Decline::RecordSize);
        }
        let copy = u32_at(chunk, pos + size - 4).ok_or(OutOfChunk)? as usize;
        if copy != size {
            return Err(Decline::RecordSizeCopy);
        }
        let id = u64_at(chunk, pos + 8).ok_or(OutOfChunk)?;
        let e = match scratch.records.get_mut(scratch.wanted) {
            Some(e) => e,
            None => scratch.records.push_mut(RawEvent::default()),
        };
        let body = pos + RECORD_HEADER_SIZE;
        if decode_record(
            chunk,
            body,
            size - RECORD_OVERHEAD,
            templates,
            select,
            &mut scratch.subs,
            e,
        )? {
            e.record_id = e.record_id.or(Some(id));
            e.index = n;
            scratch.wanted += 1;
        }
        n += 1;
        pos += size;
    }
    if pos != free {
        return Err(Decline::RecordsEnd);
    }
    Ok(n)
}

/// What one chunk gave, its records numbered from 0 within the chunk.
#[derive(Debug)]
pub(crate) struct Part<T> {
    /// The records `select` picked (after the caller's conversion).
    pub events: Vec<T>,
    /// What could not be read.
    pub damaged: Vec<Damage>,
    /// How many records the chunk holds.
    pub records: u64,
    /// Why the pre-filter handed the chunk to the fallback, when it did.
    pub declined: Option<Decline>,
    /// Which checksums do not match, with where the chunk is.
    pub(super) bad_sum: Option<String>,
    /// The chunk was whole (the file did not end inside it).
    pub(super) whole: bool,
}

/// Reads one chunk, `buf` being its bytes as far as the file has them (a full chunk is 64 KiB; a
/// shorter one is the file's truncated end), its wanted records passed through `convert`.
/// Chunks the pre-filter cannot scan are given to `fallback` (the crate), which returns the same
/// triple for that chunk, counting from 0.
pub(super) fn chunk<T>(
    buf: &[u8],
    number: u64,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    scratch: &mut Scratch,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
) -> Part<T> {
    let at = chunk_offset(number);
    let mut part = Part {
        events: Vec::new(),
        damaged: Vec::new(),
        records: 0,
        declined: None,
        bad_sum: None,
        whole: buf.len() == CHUNK_SIZE,
    };
    let scanned = if part.whole {
        // Empty (zeroed) chunks occur in the middle of dirty files: nothing to read.
        if buf.iter().all(|b| *b == 0) {
            return part;
        }
        part.bad_sum = bad_checksums(buf)
            .map(|what| format!("chunk {number} at file offset 0x{at:x} ({what})"));
        let mut templates = Templates::with_kept(std::mem::take(&mut scratch.kept));
        let n = scan_chunk(buf, select, &mut templates, scratch);
        scratch.kept = templates.kept;
        n
    } else {
        // A truncated last chunk: said, and the crate decides what can be read of it.
        part.damaged.push(Damage::said(format!(
            "the file is truncated: it ends {} byte(s) into chunk {number} (file offset 0x{at:x}); records after that point are lost",
            buf.len()
        )));
        Err(Decline::Truncated)
    };
    match scanned {
        Ok(records) => {
            part.events = convert(scratch.wanted());
            part.records = records;
        }
        Err(why) => {
            part.declined = Some(why);
            let (events, damaged, records) = fallback(buf.to_vec(), number);
            part.events = convert(&events);
            part.damaged.extend(damaged);
            part.records = records;
        }
    }
    part
}

/// Which of a chunk's checksums do not match: `header`, `data` or both; `None` when both do or
/// the chunk is not one (its magic is wrong, which the readers report themselves).
fn bad_checksums(chunk: &[u8]) -> Option<&'static str> {
    use chunk_header::{CHECKSUMMED_HEAD, CHECKSUMMED_TABLES, DATA_CHECKSUM, HEADER_CHECKSUM};
    if !chunk.starts_with(CHUNK_MAGIC) {
        return None;
    }
    let free = usize::try_from(u32_at(chunk, chunk_header::FREE_SPACE)?).ok()?;
    let data = chunk.get(CHUNK_HEADER_SIZE..free.clamp(CHUNK_HEADER_SIZE, CHUNK_SIZE))?;
    let data_ok = u32_at(chunk, DATA_CHECKSUM)? == crc32fast::hash(data);
    let mut h = crc32fast::Hasher::new();
    h.update(chunk.get(..CHECKSUMMED_HEAD)?);
    h.update(chunk.get(CHECKSUMMED_TABLES..CHUNK_HEADER_SIZE)?);
    let header_ok = u32_at(chunk, HEADER_CHECKSUM)? == h.finalize();
    match (header_ok, data_ok) {
        (true, true) => None,
        (false, true) => Some("header"),
        (true, false) => Some("data"),
        (false, false) => Some("header and data"),
    }
}
