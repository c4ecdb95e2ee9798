//! Damaged logs whose chunks are intact: a flipped bit in the `ElfFile` signature or a wrong
//! header block size, or bytes added or lost so that the chunks no longer lie where the format
//! puts them (after the 4 KiB header, every 64 KiB), must not lose a record of an intact chunk.
//! Such a log is recognised by its chunk signatures (`ElfChnk\0`, found by `scan.rs`) and read
//! chunk by chunk through a repaired view, from memory or from disk: [`Patched`] and
//! [`Repaired`] set the header's signature and block size right (every other byte as it is), and
//! [`Repaired`] puts chunks found off their places back in place; a note says what was repaired.
//! It knows the file's shape, not what is inside a chunk. `repeats.rs` finds chunks copied over
//! others (record ids read twice) from their headers, for readers to read them once.

mod repeats;
mod scan;

use std::io::{self, Read, Seek, SeekFrom};

pub(crate) use repeats::{Repeats, repeats};
#[cfg(test)]
use scan::locate;
pub(crate) use scan::{Layout, chunks_in_place, is_log, locate_in};

use super::layout::{CHUNK_SIZE, FILE_HEADER_SIZE, MAGIC};

/// Offset of the header block size (u16) in the file header; always 4096.
const HEADER_BLOCK_SIZE: usize = 40;
/// Offset of the chunk header's own size (u32); always 128.
const CHUNK_HEADER_OWN_SIZE: usize = 0x28;

/// The header fields a reader depends on, as they must be: the signature at 0 and the header
/// block size at [`HEADER_BLOCK_SIZE`].
fn expected(at: usize) -> Option<u8> {
    let block = u16::try_from(FILE_HEADER_SIZE)
        .unwrap_or(u16::MAX)
        .to_le_bytes();
    if let Some(b) = MAGIC.get(at) {
        return Some(*b);
    }
    at.checked_sub(HEADER_BLOCK_SIZE)
        .and_then(|i| block.get(i))
        .copied()
}

/// Which of those header fields are damaged in `head` (a file's first bytes), in words.
fn damaged_fields(head: &[u8]) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !head.starts_with(MAGIC) {
        out.push("signature");
    }
    let block = head
        .get(HEADER_BLOCK_SIZE..HEADER_BLOCK_SIZE + 2)
        .and_then(|b| b.try_into().ok())
        .map(u16::from_le_bytes);
    if block.is_some_and(|b| usize::from(b) != FILE_HEADER_SIZE) {
        out.push("header block size");
    }
    out
}

/// The note for a log whose header (`head`, its first bytes) is damaged; `None` when it is not.
pub(crate) fn header_damage(head: &[u8]) -> Option<String> {
    let fields = damaged_fields(head);
    (!fields.is_empty()).then(|| {
        format!(
            "the file header is damaged ({}): the log was read chunk by chunk from its chunk signatures",
            fields.join(", ")
        )
    })
}

/// A stream of a log on disk with the header fields readers depend on set right; every other
/// byte as it is (an intact log reads unchanged).
#[derive(Debug)]
pub(crate) struct Patched<R> {
    inner: R,
    pos: u64,
}

impl<R> Patched<R> {
    pub(crate) fn new(inner: R) -> Patched<R> {
        Patched { inner, pos: 0 }
    }
}

impl<R: Read> Read for Patched<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        patch(self.pos, buf.get_mut(..n).unwrap_or(&mut []));
        self.pos += n as u64;
        Ok(n)
    }
}

/// Sets the header fields readers depend on right in `buf`, a log's bytes from `start`.
fn patch(start: u64, buf: &mut [u8]) {
    if let Ok(start) = usize::try_from(start)
        && start < HEADER_BLOCK_SIZE + 2
    {
        let header = buf.len().min(HEADER_BLOCK_SIZE + 2 - start);
        for (i, b) in buf.iter_mut().take(header).enumerate() {
            if let Some(e) = expected(start + i) {
                *b = e;
            }
        }
    }
}

impl<R: Seek> Seek for Patched<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

/// A log in memory, repaired (see [`Repaired`]).
pub(crate) type Image = Repaired<io::Cursor<Vec<u8>>>;

impl Image {
    /// `bytes` as a readable log, with what was repaired (`None` for an intact log).
    pub(crate) fn new(bytes: Vec<u8>) -> (Image, Option<String>) {
        let len = bytes.len() as u64;
        let mut src = io::Cursor::new(bytes);
        let layout = locate_in(&mut src, len, u64::MAX).unwrap_or(None);
        Repaired::with(src, len, layout)
    }
}

/// A log repaired for reading, read from `inner` as it is read (a file on disk is never loaded):
/// the header fields set right, or — chunks found off their places — the chunks put back in
/// place after a header (the log's own when its signature is intact, else a new one).
#[derive(Debug)]
pub(crate) struct Repaired<R> {
    inner: R,
    /// Chunks off their places: the header and each chunk's extent in `inner`.
    rebuilt: Option<Rebuilt>,
    pos: u64,
    /// Where `inner` is (a seek only when a read starts elsewhere).
    at: u64,
    len: u64,
}

/// Opens the log at `path` for reading, repaired, with what was repaired (`None` for an intact
/// log). Its chunks are looked for where they lie, a block at a time.
pub(crate) fn open(
    path: &std::path::Path,
) -> io::Result<(Repaired<std::fs::File>, Option<String>)> {
    let mut file = std::fs::File::open(path)?;
    let len = file.metadata()?.len();
    let layout = locate_in(&mut file, len, u64::MAX)?;
    file.seek(SeekFrom::Start(0))?;
    Ok(Repaired::with(file, len, layout))
}

impl<R: Read + Seek> Repaired<R> {
    fn with(mut inner: R, len: u64, layout: Option<Layout>) -> (Repaired<R>, Option<String>) {
        let head = scan::read_at(&mut inner, 0, FILE_HEADER_SIZE).unwrap_or_default();
        let mut note = header_damage(&head);
        let rebuilt = if let Some(Layout::Scattered(at)) = layout {
            let first = at.iter().copied().find(|&a| {
                a.checked_sub(FILE_HEADER_SIZE as u64)
                    .is_none_or(|d| d % CHUNK_SIZE as u64 != 0)
            });
            let r = Rebuilt::new(&head, len, &at);
            let what = if head.starts_with(MAGIC) {
                "the log's chunks are not where the format puts them"
            } else {
                "the file header is damaged and its chunks are not where the format puts them"
            };
            note = Some(format!(
                "{what} (bytes were added or lost): {} chunk signature(s) found, the first off its place at offset 0x{:x}; each was read where it is",
                r.chunks.len(),
                first.unwrap_or(0)
            ));
            Some(r)
        } else {
            None
        };
        let len = rebuilt.as_ref().map_or(len, |r| r.len);
        let _ = inner.seek(SeekFrom::Start(0));
        let view = Repaired {
            inner,
            rebuilt,
            pos: 0,
            at: 0,
            len,
        };
        (view, note)
    }
}

#[derive(Debug)]
struct Rebuilt {
    header: Vec<u8>,
    /// Each chunk's start and end in the log: to the next signature, the log's end or 64 KiB.
    chunks: Vec<(u64, u64)>,
    /// The virtual file's length: the last chunk stays short when the file ends inside it.
    len: u64,
}

impl Rebuilt {
    /// The view of a log of `len` bytes whose first bytes are `head`, chunks at `at`.
    fn new(head: &[u8], len: u64, at: &[u64]) -> Rebuilt {
        let mut chunks = Vec::with_capacity(at.len());
        for (i, &start) in at.iter().enumerate() {
            let next = at.get(i + 1).copied().unwrap_or(len);
            let end = next.min(start + CHUNK_SIZE as u64).min(len);
            chunks.push((start, end));
        }
        // The last chunk keeps its length when the file ends inside it (a truncated chunk);
        // every other one is 64 KiB, zeros after its bytes.
        let last = chunks.last().map_or(0, |&(s, e)| e - s);
        let whole = (chunks.len().saturating_sub(1) * CHUNK_SIZE) as u64;
        let len = FILE_HEADER_SIZE as u64 + whole + last;
        let mut header = vec![0u8; FILE_HEADER_SIZE];
        if head.starts_with(MAGIC) {
            // The log's own header: what it says (its checksum, flags, chunk count) still holds.
            copy(head, &mut header);
        } else {
            // Header size 128, version 3.1, its checksum right: the header says nothing more.
            put(&mut header, 32, &128u32.to_le_bytes());
            put(&mut header, 36, &1u16.to_le_bytes());
            put(&mut header, 38, &3u16.to_le_bytes());
        }
        for (i, b) in header.iter_mut().take(HEADER_BLOCK_SIZE + 2).enumerate() {
            if let Some(e) = expected(i) {
                *b = e;
            }
        }
        if !head.starts_with(MAGIC) {
            let sum = crc32fast::hash(header.get(..120).unwrap_or(&[]));
            put(&mut header, 124, &sum.to_le_bytes());
        }
        Rebuilt {
            header,
            chunks,
            len,
        }
    }

    /// Reads the virtual file's bytes at `pos` into `buf` from `inner`; how many.
    fn read_at<R: Read + Seek>(
        &self,
        inner: &mut R,
        pos: u64,
        buf: &mut [u8],
    ) -> io::Result<usize> {
        if pos >= self.len {
            return Ok(0);
        }
        let Some(into) = pos.checked_sub(FILE_HEADER_SIZE as u64) else {
            let at = usize::try_from(pos).unwrap_or(usize::MAX);
            return Ok(copy(self.header.get(at..).unwrap_or(&[]), buf));
        };
        let (slot, off) = (into / CHUNK_SIZE as u64, into % CHUNK_SIZE as u64);
        let Some(&(start, end)) = usize::try_from(slot).ok().and_then(|s| self.chunks.get(s))
        else {
            return Ok(0);
        };
        let have = end - start;
        if off < have {
            let n = usize::try_from(have - off)
                .unwrap_or(usize::MAX)
                .min(buf.len());
            inner.seek(SeekFrom::Start(start + off))?;
            inner.read(buf.get_mut(..n).unwrap_or(&mut []))
        } else {
            let zeros = usize::try_from(CHUNK_SIZE as u64 - off)
                .unwrap_or(0)
                .min(buf.len());
            buf.iter_mut().take(zeros).for_each(|b| *b = 0);
            Ok(zeros)
        }
    }
}

fn put(buf: &mut [u8], at: usize, value: &[u8]) {
    if let Some(dst) = buf.get_mut(at..at + value.len()) {
        dst.copy_from_slice(value);
    }
}

fn copy(src: &[u8], buf: &mut [u8]) -> usize {
    let n = src.len().min(buf.len());
    if let (Some(d), Some(s)) = (buf.get_mut(..n), src.get(..n)) {
        d.copy_from_slice(s);
    }
    n
}

impl<R: Read + Seek> Read for Repaired<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if let Some(r) = &self.rebuilt {
            // Chunks are read where they lie: `inner` is positioned by each read.
            self.at = u64::MAX;
            r.read_at(&mut self.inner, self.pos, buf)?
        } else {
            if self.at != self.pos {
                self.inner.seek(SeekFrom::Start(self.pos))?;
            }
            let n = self.inner.read(buf)?;
            patch(self.pos, buf.get_mut(..n).unwrap_or(&mut []));
            self.at = self.pos + n as u64;
            n
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl<R> Seek for Repaired<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len.checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests;
