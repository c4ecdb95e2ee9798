//! Writes Windows `.evtx` files: a file header, 64 KiB chunks with their string and template
//! tables, records whose content is binary XML built from template definitions and substitution
//! arrays, and every CRC32 checksum Windows' readers check. Streams to any `Write + Seek`:
//! memory holds one chunk, whatever the file's size.
//!
//! Layout facts: MS-EVEN6 (file header, chunk header, event record, binary XML) and libyal's
//! "Windows XML Event Log (EVTX) format" notes; the System element as real Application-log
//! records show it (research/domain-facts.md §1).
//!
//! ```no_run
//! use kmsdiag::{EvtxWriter, FileState, Record};
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let file = std::io::BufWriter::new(std::fs::File::create("Application.evtx")?);
//! let mut w = EvtxWriter::new(file, 1)?;
//! w.write(&Record {
//!     provider: "Microsoft-Windows-Security-SPP".into(),
//!     event_id: 12288,
//!     channel: "Application".into(),
//!     computer: "ws001.contoso.com".into(),
//!     data: vec!["0x0, 0x0, kms01:1688, …".into()],
//!     ..Record::default()
//! })?;
//! w.finish(FileState::default())?;
//! # Ok(()) }
//! ```

mod binxml;

use std::io::{Seek, SeekFrom, Write};

use chrono::{DateTime, Utc};

use crate::events::evtx::layout::{
    CHUNK_HEADER_SIZE, CHUNK_MAGIC, CHUNK_SIZE, FILE_HEADER_SIZE, FILETIME_TICKS,
    FILETIME_UNIX_OFFSET, MAGIC, RECORD_HEADER_SIZE, RECORD_MAGIC, RECORD_OVERHEAD, chunk_header,
    file_header,
};
use binxml::{Content, EncodeError, Encoder, Instance, Node, Tables, TemplateSpec, Value, ty};

/// The event schema namespace every record's root element declares.
const EVENT_NS: &str = "http://schemas.microsoft.com/win/2004/08/events/event";
/// Keywords of classic (ReportEvent-style) events, as SPP's records carry them.
pub(crate) const KEYWORDS_CLASSIC: u64 = 0x0080_0000_0000_0000;

/// One event to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub provider: String,
    /// `{E23B33B0-…}` form; omitted from the record when `None`.
    pub provider_guid: Option<String>,
    pub event_source_name: Option<String>,
    pub event_id: u16,
    pub qualifiers: Option<u16>,
    pub version: u8,
    /// 1 critical, 2 error, 3 warning, 4 information.
    pub level: u8,
    pub task: u16,
    pub opcode: u8,
    pub keywords: u64,
    pub time_created: DateTime<Utc>,
    pub process_id: u32,
    pub thread_id: u32,
    pub channel: String,
    pub computer: String,
    /// The `<Data>` strings of `<EventData>`, in order; empty strings are kept.
    pub data: Vec<String>,
}

impl Default for Record {
    fn default() -> Self {
        Record {
            provider: String::new(),
            provider_guid: None,
            event_source_name: None,
            event_id: 0,
            qualifiers: None,
            version: 0,
            level: 4,
            task: 0,
            opcode: 0,
            keywords: KEYWORDS_CLASSIC,
            time_created: DateTime::<Utc>::UNIX_EPOCH,
            process_id: 0,
            thread_id: 0,
            channel: String::new(),
            computer: String::new(),
            data: Vec::new(),
        }
    }
}

/// The header flags of a finished file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FileState {
    /// The log was not closed cleanly (a copy of a live log): header flag 0x1.
    pub dirty: bool,
    /// The log reached its maximum size and old records were overwritten: header flag 0x2.
    pub full: bool,
}

/// Why a file could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot write the .evtx file: {0}")]
    Io(#[from] std::io::Error),
    #[error("record {record_id} ({what}) does not fit in a 64 KiB chunk")]
    RecordTooLarge { record_id: u64, what: &'static str },
    #[error("an .evtx file holds at most 65,535 chunks (about 4 GiB)")]
    TooManyChunks,
}

/// A UTC time as a FILETIME (100 ns ticks since 1601-01-01); times before 1601 become 0.
pub(crate) fn filetime(t: DateTime<Utc>) -> u64 {
    let secs = t.timestamp().saturating_add(FILETIME_UNIX_OFFSET);
    u64::try_from(secs)
        .ok()
        .and_then(|s| s.checked_mul(FILETIME_TICKS))
        .and_then(|s| s.checked_add(u64::from(t.timestamp_subsec_nanos() / 100)))
        .unwrap_or(0)
}

struct Chunk {
    buf: Vec<u8>,
    free: usize,
    last_record: usize,
    first_id: Option<u64>,
    last_id: u64,
    tables: Tables,
}

impl Chunk {
    fn new() -> Self {
        let mut buf = vec![0u8; CHUNK_SIZE];
        if let Some(magic) = buf.get_mut(..8) {
            magic.copy_from_slice(CHUNK_MAGIC);
        }
        Chunk {
            buf,
            free: CHUNK_HEADER_SIZE,
            last_record: CHUNK_HEADER_SIZE,
            first_id: None,
            last_id: 0,
            tables: Tables::default(),
        }
    }

    fn is_empty(&self) -> bool {
        self.first_id.is_none()
    }

    /// Fills in the chunk header and its checksums.
    fn seal(&mut self) -> &[u8] {
        let first = self.first_id.unwrap_or(0);
        let put = |buf: &mut [u8], at: usize, bytes: &[u8]| {
            if let Some(slot) = buf.get_mut(at..at + bytes.len()) {
                slot.copy_from_slice(bytes);
            }
        };
        let b = &mut self.buf;
        put(b, 8, &first.to_le_bytes());
        put(b, 16, &self.last_id.to_le_bytes());
        put(b, 24, &first.to_le_bytes());
        put(b, 32, &self.last_id.to_le_bytes());
        put(b, 40, &128u32.to_le_bytes());
        put(b, 44, &offset(self.last_record).to_le_bytes());
        put(
            b,
            chunk_header::FREE_SPACE,
            &offset(self.free).to_le_bytes(),
        );
        for (i, h) in self.tables.name_heads.iter().enumerate() {
            put(b, 128 + i * 4, &h.to_le_bytes());
        }
        for (i, h) in self.tables.template_heads.iter().enumerate() {
            put(b, 384 + i * 4, &h.to_le_bytes());
        }
        let data = crc32fast::hash(b.get(CHUNK_HEADER_SIZE..self.free).unwrap_or(&[]));
        put(b, chunk_header::DATA_CHECKSUM, &data.to_le_bytes());
        let mut h = crc32fast::Hasher::new();
        h.update(b.get(..chunk_header::CHECKSUMMED_HEAD).unwrap_or(&[]));
        h.update(
            b.get(chunk_header::CHECKSUMMED_TABLES..CHUNK_HEADER_SIZE)
                .unwrap_or(&[]),
        );
        put(
            b,
            chunk_header::HEADER_CHECKSUM,
            &h.finalize().to_le_bytes(),
        );
        &self.buf
    }
}

fn offset(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

/// Writes records into an `.evtx` file, one chunk in memory at a time.
pub struct EvtxWriter<W: Write + Seek> {
    out: W,
    chunk: Chunk,
    chunks_written: u64,
    next_id: u64,
}

impl<W: Write + Seek> EvtxWriter<W> {
    /// Starts a file whose first record gets id `first_record_id` (greater than 1 for a log whose
    /// oldest records have been overwritten).
    pub fn new(mut out: W, first_record_id: u64) -> Result<Self, WriteError> {
        out.write_all(&[0u8; FILE_HEADER_SIZE])?;
        Ok(EvtxWriter {
            out,
            chunk: Chunk::new(),
            chunks_written: 0,
            next_id: first_record_id.max(1),
        })
    }

    /// Appends one record and returns its event record id.
    pub fn write(&mut self, record: &Record) -> Result<u64, WriteError> {
        let id = self.next_id;
        let encoded = match encode(&mut self.chunk, record, id) {
            Ok(Some(bytes)) => bytes,
            Ok(None) => {
                if self.chunk.is_empty() {
                    return Err(WriteError::RecordTooLarge {
                        record_id: id,
                        what: "too large",
                    });
                }
                self.flush_chunk()?;
                match encode(&mut self.chunk, record, id) {
                    Ok(Some(bytes)) => bytes,
                    Ok(None) => {
                        return Err(WriteError::RecordTooLarge {
                            record_id: id,
                            what: "too large",
                        });
                    }
                    Err(EncodeError::TooLong(what)) => {
                        return Err(WriteError::RecordTooLarge {
                            record_id: id,
                            what,
                        });
                    }
                }
            }
            Err(EncodeError::TooLong(what)) => {
                return Err(WriteError::RecordTooLarge {
                    record_id: id,
                    what,
                });
            }
        };
        let start = self.chunk.free;
        if let Some(slot) = self.chunk.buf.get_mut(start..start + encoded.len()) {
            slot.copy_from_slice(&encoded);
        }
        self.chunk.last_record = start;
        self.chunk.free = start + encoded.len();
        self.chunk.first_id.get_or_insert(id);
        self.chunk.last_id = id;
        self.next_id += 1;
        Ok(id)
    }

    fn flush_chunk(&mut self) -> Result<(), WriteError> {
        if self.chunks_written >= u64::from(u16::MAX) {
            return Err(WriteError::TooManyChunks);
        }
        let bytes = self.chunk.seal();
        self.out.write_all(bytes)?;
        self.chunks_written += 1;
        self.chunk = Chunk::new();
        Ok(())
    }

    /// Writes the last chunk and the file header; returns the sink.
    pub fn finish(mut self, state: FileState) -> Result<W, WriteError> {
        if !self.chunk.is_empty() {
            self.flush_chunk()?;
        }
        let mut h = [0u8; 128];
        h[..8].copy_from_slice(MAGIC);
        h[8..16].copy_from_slice(&0u64.to_le_bytes());
        h[16..24].copy_from_slice(&self.chunks_written.saturating_sub(1).to_le_bytes());
        h[24..32].copy_from_slice(&self.next_id.to_le_bytes());
        h[32..36].copy_from_slice(&128u32.to_le_bytes());
        h[36..38].copy_from_slice(&1u16.to_le_bytes());
        h[38..40].copy_from_slice(&3u16.to_le_bytes());
        h[40..42].copy_from_slice(&4096u16.to_le_bytes());
        let count = u16::try_from(self.chunks_written).map_err(|_| WriteError::TooManyChunks)?;
        h[file_header::CHUNK_COUNT..file_header::CHUNK_COUNT + 2]
            .copy_from_slice(&count.to_le_bytes());
        let flag = |on: bool, bit: u32| if on { bit } else { 0 };
        let flags = flag(state.dirty, file_header::DIRTY) | flag(state.full, file_header::FULL);
        h[file_header::FLAGS..file_header::FLAGS + 4].copy_from_slice(&flags.to_le_bytes());
        let sum = crc32fast::hash(&h[..file_header::CHECKSUMMED]);
        h[file_header::CHECKSUM..file_header::CHECKSUM + 4].copy_from_slice(&sum.to_le_bytes());
        self.out.seek(SeekFrom::Start(0))?;
        self.out.write_all(&h)?;
        self.out.seek(SeekFrom::End(0))?;
        self.out.flush()?;
        Ok(self.out)
    }
}

/// Encodes a record at the chunk's free offset; `None` when it does not fit there (the chunk's
/// tables are then as before).
fn encode(chunk: &mut Chunk, r: &Record, id: u64) -> Result<Option<Vec<u8>>, EncodeError> {
    let start = chunk.free;
    let base = offset(start + RECORD_HEADER_SIZE);
    chunk.tables.begin();
    let data: Vec<Value<'_>> = r.data.iter().map(|d| Value::Str(d)).collect();
    let event_data = Instance {
        key: format!("EventData\0{}", r.data.len()),
        definition: event_data_template,
        spec: TemplateSpec {
            literals: Vec::new(),
            count: r.data.len(),
        },
        values: data,
    };
    let system = Instance {
        key: format!(
            "System\0{}\0{}\0{}\0{}\0{}",
            r.provider,
            r.provider_guid.as_deref().unwrap_or(""),
            r.event_source_name.as_deref().unwrap_or(""),
            r.channel,
            r.computer
        ),
        definition: system_template,
        spec: TemplateSpec {
            literals: vec![
                r.provider.clone(),
                r.provider_guid.clone().unwrap_or_default(),
                r.event_source_name.clone().unwrap_or_default(),
                r.channel.clone(),
                r.computer.clone(),
            ],
            count: 0,
        },
        values: vec![
            Value::U16(r.event_id),
            r.qualifiers.map_or(Value::Null, Value::U16),
            Value::U8(r.version),
            Value::U8(r.level),
            Value::U16(r.task),
            Value::U8(r.opcode),
            Value::HexU64(r.keywords),
            Value::FileTime(filetime(r.time_created)),
            Value::U64(id),
            Value::U32(r.process_id),
            Value::U32(r.thread_id),
            Value::BinXml(Box::new(event_data)),
        ],
    };
    let mut enc = Encoder::new(base, &mut chunk.tables);
    let result = enc.fragment(&system);
    let body = std::mem::take(&mut enc.out);
    if let Err(e) = result {
        chunk.tables.rollback();
        return Err(e);
    }
    let size = body.len() + RECORD_OVERHEAD;
    if start + size > CHUNK_SIZE {
        chunk.tables.rollback();
        return Ok(None);
    }
    chunk.tables.commit();
    let size32 = offset(size);
    let mut rec = Vec::with_capacity(size);
    rec.extend_from_slice(&RECORD_MAGIC);
    rec.extend_from_slice(&size32.to_le_bytes());
    rec.extend_from_slice(&id.to_le_bytes());
    rec.extend_from_slice(&filetime(r.time_created).to_le_bytes());
    rec.extend_from_slice(&body);
    rec.extend_from_slice(&size32.to_le_bytes());
    Ok(Some(rec))
}

fn element(
    name: &'static str,
    attributes: Vec<(&'static str, Content)>,
    children: Vec<Node>,
) -> Node {
    Node::Element {
        name,
        attributes,
        children,
    }
}

fn sub(id: u16, ty: u8) -> Content {
    Content::Sub {
        id,
        ty,
        optional: false,
    }
}

fn opt(id: u16, ty: u8) -> Content {
    Content::Sub {
        id,
        ty,
        optional: true,
    }
}

fn text(s: &str) -> Node {
    Node::Content(Content::Text(s.to_owned()))
}

/// The record template: `<Event><System>…</System>%11</Event>`, with the provider, channel and
/// computer as literals (as Windows bakes them into its per-chunk templates) and the rest as
/// substitutions 0–10; substitution 11 is the `<EventData>` fragment.
fn system_template(spec: &TemplateSpec) -> Node {
    let lit = |i: usize| spec.literals.get(i).cloned().unwrap_or_default();
    let mut provider = vec![("Name", Content::Text(lit(0)))];
    if !lit(1).is_empty() {
        provider.push(("Guid", Content::Text(lit(1))));
    }
    if !lit(2).is_empty() {
        provider.push(("EventSourceName", Content::Text(lit(2))));
    }
    let system = element(
        "System",
        Vec::new(),
        vec![
            element("Provider", provider, Vec::new()),
            element(
                "EventID",
                vec![("Qualifiers", opt(1, ty::UINT16))],
                vec![Node::Content(sub(0, ty::UINT16))],
            ),
            element(
                "Version",
                Vec::new(),
                vec![Node::Content(sub(2, ty::UINT8))],
            ),
            element("Level", Vec::new(), vec![Node::Content(sub(3, ty::UINT8))]),
            element("Task", Vec::new(), vec![Node::Content(sub(4, ty::UINT16))]),
            element("Opcode", Vec::new(), vec![Node::Content(sub(5, ty::UINT8))]),
            element(
                "Keywords",
                Vec::new(),
                vec![Node::Content(sub(6, ty::HEXINT64))],
            ),
            element(
                "TimeCreated",
                vec![("SystemTime", sub(7, ty::FILETIME))],
                Vec::new(),
            ),
            element(
                "EventRecordID",
                Vec::new(),
                vec![Node::Content(sub(8, ty::UINT64))],
            ),
            element("Correlation", Vec::new(), Vec::new()),
            element(
                "Execution",
                vec![
                    ("ProcessID", sub(9, ty::UINT32)),
                    ("ThreadID", sub(10, ty::UINT32)),
                ],
                Vec::new(),
            ),
            element("Channel", Vec::new(), vec![text(&lit(3))]),
            element("Computer", Vec::new(), vec![text(&lit(4))]),
            element("Security", Vec::new(), Vec::new()),
        ],
    );
    element(
        "Event",
        vec![("xmlns", Content::Text(EVENT_NS.to_owned()))],
        vec![system, Node::Content(opt(11, ty::BINXML))],
    )
}

/// `<EventData><Data>%0</Data>…</EventData>` for `count` strings.
fn event_data_template(spec: &TemplateSpec) -> Node {
    let data = (0..spec.count)
        .map(|i| {
            let id = u16::try_from(i).unwrap_or(u16::MAX);
            element("Data", Vec::new(), vec![Node::Content(opt(id, ty::STRING))])
        })
        .collect();
    element("EventData", Vec::new(), data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn record(i: u32) -> Record {
        Record {
            provider: "Microsoft-Windows-Security-SPP".into(),
            provider_guid: Some("{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}".into()),
            event_source_name: Some("Software Protection Platform Service".into()),
            event_id: 12288,
            qualifiers: Some(16384),
            channel: "Application".into(),
            computer: format!("ws{:03}.contoso.com", i % 3),
            time_created: DateTime::from_timestamp(1_780_000_000 + i64::from(i) * 60, 0)
                .unwrap_or_default(),
            data: vec![format!("0x0, 0x0, kms01:1688, {i}"), String::new()],
            ..Record::default()
        }
    }

    #[test]
    fn filetime_of_the_unix_epoch() {
        assert_eq!(
            filetime(DateTime::<Utc>::UNIX_EPOCH),
            116_444_736_000_000_000
        );
    }

    #[test]
    fn chunks_roll_over_and_checksums_hold() {
        let mut w = EvtxWriter::new(Cursor::new(Vec::new()), 1).unwrap();
        for i in 0..2000 {
            w.write(&record(i)).unwrap();
        }
        let bytes = w.finish(FileState::default()).unwrap().into_inner();
        assert_eq!((bytes.len() - FILE_HEADER_SIZE) % CHUNK_SIZE, 0);
        let chunks = (bytes.len() - FILE_HEADER_SIZE) / CHUNK_SIZE;
        assert!(chunks > 1, "2000 records span several chunks");
        assert_eq!(
            u32::from_le_bytes(bytes[124..128].try_into().unwrap()),
            crc32fast::hash(&bytes[..120])
        );
        for c in 0..chunks {
            let ch = &bytes[FILE_HEADER_SIZE + c * CHUNK_SIZE..][..CHUNK_SIZE];
            assert_eq!(&ch[..8], b"ElfChnk\0");
            let free = u32::from_le_bytes(ch[48..52].try_into().unwrap()) as usize;
            let data = u32::from_le_bytes(ch[52..56].try_into().unwrap());
            assert_eq!(data, crc32fast::hash(&ch[512..free]));
        }
    }

    #[test]
    fn a_record_larger_than_a_chunk_is_refused() {
        let mut w = EvtxWriter::new(Cursor::new(Vec::new()), 1).unwrap();
        let mut r = record(0);
        r.data = vec!["x".repeat(30_000), "y".repeat(30_000)];
        assert!(matches!(
            w.write(&r),
            Err(WriteError::RecordTooLarge { .. })
        ));
        // The writer is still usable.
        w.write(&record(1)).unwrap();
    }
}
