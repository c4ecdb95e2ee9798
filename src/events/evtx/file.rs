//! A whole `.evtx` file through the pre-filter: its header checked, its chunks read one after
//! the other (or a range of them through a handle of its own, so several threads can share one
//! file), and the chunks' [`Part`]s put back in file order by a [`Tally`], which every read ends
//! in: positions made file-wide, damage, checksum notes and declined chunks gathered. It knows
//! the file's shape, not what is inside a chunk (`chunk.rs`).

use std::io::Read;

use super::EvtxError;
use super::chunk::{ChunkRead, Part, Scratch, chunk};
use super::cursor::u32_at;
use super::decline::Declines;
use super::layout::{CHUNK_SIZE, FILE_HEADER_SIZE, MAGIC, chunk_offset, file_header};
use super::template::Select;
use crate::events::RawEvent;

/// Something read from a log that knows its position among the log's records, so a chunk read on
/// its own (numbering its records from 0) can be placed once the records before it are counted.
pub trait Positioned {
    /// Moves the position `by` records later.
    fn shift(&mut self, by: u64);
}

impl Positioned for RawEvent {
    fn shift(&mut self, by: u64) {
        self.index += by;
    }
}

/// What reading a log through the pre-filter gives.
#[derive(Debug)]
pub struct LogRead<T> {
    /// The records `select` picked (after the caller's conversion), in file order.
    pub events: Vec<T>,
    /// What could not be read, each with where.
    pub damaged: Vec<String>,
    /// How many records the log holds.
    pub records: u64,
    /// The chunks the pre-filter handed to the crate, counted by why.
    pub declined: Declines,
}

/// Chunk checksum mismatches listed by name; the count is always complete.
const BAD_SUMS_LISTED: usize = 5;

/// The chunks of one file put back together in file order: positions made file-wide, damage,
/// checksum notes and declined chunks gathered. Sequential and parallel reading both end here,
/// so they give the same answer.
#[derive(Debug)]
pub(crate) struct Tally<T> {
    events: Vec<T>,
    damaged: Vec<String>,
    records: u64,
    whole_chunks: u64,
    bad_sums: Vec<String>,
    bad_count: usize,
    truncated: bool,
    declined: Declines,
}

impl<T> Default for Tally<T> {
    fn default() -> Self {
        Tally {
            events: Vec::new(),
            damaged: Vec::new(),
            records: 0,
            whole_chunks: 0,
            bad_sums: Vec::new(),
            bad_count: 0,
            truncated: false,
            declined: Declines::default(),
        }
    }
}

impl<T: Positioned> Tally<T> {
    /// Adds the next chunk. Nothing after a truncated chunk counts: the file ended there.
    pub(crate) fn add(&mut self, part: Part<T>) {
        if self.truncated {
            return;
        }
        let before = self.records;
        self.events.extend(part.events.into_iter().map(|mut e| {
            e.shift(before);
            e
        }));
        self.damaged
            .extend(part.damaged.into_iter().map(|d| match d.record {
                Some(r) => format!("record #{} {}", before + r, d.what),
                None => d.what,
            }));
        self.records += part.records;
        if let Some(s) = part.bad_sum {
            self.bad_count += 1;
            if self.bad_sums.len() < BAD_SUMS_LISTED {
                self.bad_sums.push(s);
            }
        }
        if let Some(why) = part.declined {
            self.declined.add(why);
        }
        if part.whole {
            self.whole_chunks += 1;
        } else {
            self.truncated = true;
        }
    }

    /// The events, what could not be read, the number of records and the declined chunks; what
    /// the file header and the chunks' checksums say goes to `notes`.
    pub(crate) fn finish(self, header: &[u8], notes: &mut Vec<String>) -> LogRead<T> {
        // Logs are often larger than their used chunks; only a claim beyond the file is worth
        // saying (and a truncated file says so itself).
        let claimed = header
            .get(file_header::CHUNK_COUNT..file_header::CHUNK_COUNT + 2)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u16::from_le_bytes);
        if u64::from(claimed) > self.whole_chunks && !self.truncated {
            notes.push(format!(
                "the file header claims {claimed} chunk(s); the file holds {}: the chunks present were read",
                self.whole_chunks
            ));
        }
        if self.bad_count > 0 {
            let n = self.bad_count;
            let more = if n > BAD_SUMS_LISTED {
                format!(" and {} more", n - BAD_SUMS_LISTED)
            } else {
                String::new()
            };
            notes.push(format!(
                "{n} chunk(s) with checksums that do not match their content: {}{more}; their records were read anyway",
                self.bad_sums.join(", ")
            ));
        }
        LogRead {
            events: self.events,
            damaged: self.damaged,
            records: self.records,
            declined: self.declined,
        }
    }
}

/// Reads and checks an `.evtx` file header: the header's bytes, and what they say about the
/// file's state goes to `notes`.
pub(crate) fn header(mut input: impl Read, notes: &mut Vec<String>) -> Result<Vec<u8>, EvtxError> {
    let mut header = vec![0u8; FILE_HEADER_SIZE];
    input
        .read_exact(&mut header)
        .map_err(|e| EvtxError::NotEvtx(e.to_string()))?;
    if !header.starts_with(MAGIC) {
        return Err(EvtxError::NoSignature);
    }
    notes.extend(header_notes(&header));
    Ok(header)
}

/// Fills `buf` from `input` as far as it goes; the number of bytes read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, EvtxError> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(buf.get_mut(filled..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(EvtxError::Read(e)),
        }
    }
    Ok(filled)
}

/// Reads an `.evtx` stream chunk by chunk: the records `select` picks (with their position among
/// all records in `index`), each chunk's passed through `convert` as soon as it is read, what
/// could not be read, the number of records and why chunks went to `fallback` (those it cannot
/// scan).
pub fn read<T: Positioned>(
    mut input: impl Read,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
    notes: &mut Vec<String>,
) -> Result<LogRead<T>, EvtxError> {
    let header = header(&mut input, notes)?;
    let mut tally = Tally::default();
    each_chunk(&mut input, 0.., select, fallback, convert, &mut |p| {
        tally.add(p);
    })?;
    Ok(tally.finish(&header, notes))
}

/// Reads the chunks numbered `chunks` one after the other from `input` (positioned at the
/// first), until the file ends; each one's part, its records passed through `convert`, goes to
/// `sink`.
fn each_chunk<T>(
    input: &mut impl Read,
    chunks: impl Iterator<Item = u64>,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
    sink: &mut dyn FnMut(Part<T>),
) -> Result<(), EvtxError> {
    let mut buf = vec![0u8; CHUNK_SIZE];
    let mut scratch = Scratch::default();
    for number in chunks {
        let filled = fill(input, &mut buf)?;
        if filled == 0 {
            break;
        }
        let buf = buf.get(..filled).unwrap_or(&[]);
        sink(chunk(buf, number, select, fallback, &mut scratch, convert));
        if filled < CHUNK_SIZE {
            break;
        }
    }
    Ok(())
}

/// Reads chunks `chunks` of an `.evtx` file on disk through a handle of its own (so several
/// threads can read one file at once), each passed through `convert`; the parts go to a
/// [`Tally`] in file order.
pub(crate) fn read_chunks<T>(
    path: &std::path::Path,
    chunks: std::ops::Range<u64>,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
) -> Result<Vec<Part<T>>, EvtxError> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(EvtxError::Open)?;
    file.seek(SeekFrom::Start(chunk_offset(chunks.start)))
        .map_err(EvtxError::Read)?;
    let mut parts = Vec::new();
    each_chunk(&mut file, chunks, select, fallback, convert, &mut |p| {
        parts.push(p);
    })?;
    Ok(parts)
}

/// What the file header says about the file's state: a stale header checksum, the dirty flag of a
/// log copied while open.
fn header_notes(header: &[u8]) -> Vec<String> {
    let mut notes = Vec::new();
    if let (Some(stored), Some(covered)) = (
        u32_at(header, file_header::CHECKSUM),
        header.get(..file_header::CHECKSUMMED),
    ) && stored != crc32fast::hash(covered)
    {
        notes.push(format!(
            "the file header's checksum (0x{stored:08x}) does not match its content: the header was changed or the copy is inconsistent; records were read anyway"
        ));
    }
    if u32_at(header, file_header::FLAGS).is_some_and(|f| f & file_header::DIRTY != 0) {
        notes.push(
            "the log is marked dirty (copied while the Event Log service had it open): its newest records may be missing"
                .to_owned(),
        );
    }
    notes
}
