//! Logs whose file header is damaged: a flipped bit in the `ElfFile` signature or a wrong header
//! block size must not lose a log whose chunks are intact. Such a log is recognised by its chunk
//! signatures (`ElfChnk\0`) — where the format puts them (after the 4 KiB header, every 64 KiB),
//! or anywhere when bytes were added or lost — and read chunk by chunk through a repaired view:
//! [`Patched`] (the header's signature and block size set right, every other byte as it is) or
//! [`Image`] (chunks found off their places put back into place), with a note that says so.
//! It knows the file's shape, not what is inside a chunk.

use std::io::{self, Read, Seek, SeekFrom};

use super::layout::{CHUNK_HEADER_SIZE, CHUNK_MAGIC, CHUNK_SIZE, FILE_HEADER_SIZE, MAGIC};

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

/// Where the chunks of a log without its signature lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Where the format puts them: only the header is damaged.
    Aligned,
    /// Elsewhere (bytes were added or lost): each chunk signature's offset, in file order.
    Scattered(Vec<usize>),
}

/// Whether `bytes` (a whole input, or a file's first bytes) are an `.evtx` log: its signature,
/// or, the header damaged, chunk signatures.
pub(crate) fn is_log(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC) || locate(bytes).is_some()
}

/// Where the chunks of `bytes` lie when its signature is missing; `None` for an intact log and
/// for bytes that hold no chunk.
pub(crate) fn locate(bytes: &[u8]) -> Option<Layout> {
    if bytes.starts_with(MAGIC) {
        return None;
    }
    let aligned = |at: &usize| {
        at.checked_sub(FILE_HEADER_SIZE)
            .is_some_and(|d| d % CHUNK_SIZE == 0)
    };
    // Text is searched only where the format puts chunks: a log is binary content.
    let found = if crate::input::encoding::looks_binary(bytes) {
        chunk_signatures(bytes)
    } else {
        (FILE_HEADER_SIZE..bytes.len())
            .step_by(CHUNK_SIZE)
            .filter(|&at| bytes.get(at..).is_some_and(|b| b.starts_with(CHUNK_MAGIC)))
            .collect()
    };
    if found.is_empty() {
        return None;
    }
    if found.iter().all(aligned) {
        return Some(Layout::Aligned);
    }
    // Off its place, a signature counts only with a plausible chunk header behind it (its own
    // size, 128): the text of a record could hold the eight bytes.
    let plausible: Vec<usize> = found
        .into_iter()
        .filter(|&at| {
            aligned(&at) || super::cursor::u32_at(bytes, at + CHUNK_HEADER_OWN_SIZE) == Some(128)
        })
        .collect();
    // A file of n bytes holds about n / 64 KiB chunks; more are no log's.
    let most = bytes.len() / CHUNK_SIZE + 64;
    (!plausible.is_empty()).then(|| Layout::Scattered(plausible.into_iter().take(most).collect()))
}

/// The offsets of `ElfChnk\0` in `bytes`, at least a chunk header apart (found by their first
/// byte, `E`).
fn chunk_signatures(bytes: &[u8]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(rest) = bytes.get(from..) {
        let Some(i) = rest.iter().position(|&b| b == b'E') else {
            break;
        };
        let at = from + i;
        if bytes.get(at..).is_some_and(|b| b.starts_with(CHUNK_MAGIC)) {
            out.push(at);
            from = at + CHUNK_HEADER_SIZE;
        } else {
            from = at + 1;
        }
    }
    out
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
        let start = self.pos;
        self.pos += n as u64;
        if let Ok(start) = usize::try_from(start)
            && start < HEADER_BLOCK_SIZE + 2
        {
            let header = n.min(HEADER_BLOCK_SIZE + 2 - start);
            for (i, b) in buf.iter_mut().take(header).enumerate() {
                if let Some(e) = expected(start + i) {
                    *b = e;
                }
            }
        }
        Ok(n)
    }
}

impl<R: Seek> Seek for Patched<R> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        self.pos = self.inner.seek(to)?;
        Ok(self.pos)
    }
}

/// A log in memory, repaired: the header fields set right in place, or — chunks found off their
/// places — the chunks put back in place after a new header (read on demand, not copied).
#[derive(Debug)]
pub(crate) struct Image {
    bytes: Vec<u8>,
    /// Chunks off their places: the new header and each chunk's extent in `bytes`.
    rebuilt: Option<Rebuilt>,
    pos: u64,
}

#[derive(Debug)]
struct Rebuilt {
    header: Vec<u8>,
    /// Each chunk's start and end in `bytes`: to the next signature, the file's end or 64 KiB.
    chunks: Vec<(usize, usize)>,
    /// The virtual file's length: the last chunk stays short when the file ends inside it.
    len: u64,
}

impl Image {
    /// `bytes` as a readable log, with what was repaired (`None` for an intact log).
    pub(crate) fn new(mut bytes: Vec<u8>) -> (Image, Option<String>) {
        let mut note = header_damage(&bytes);
        let rebuilt = if let Some(Layout::Scattered(at)) = locate(&bytes) {
            let r = Rebuilt::new(&bytes, &at);
            note = Some(format!(
                "the file header is damaged and its chunks are not where the format puts them (bytes were added or lost): {} chunk signature(s) found, the first at offset 0x{:x}; each was read where it is",
                r.chunks.len(),
                at.first().copied().unwrap_or(0)
            ));
            Some(r)
        } else {
            for (i, b) in bytes.iter_mut().take(HEADER_BLOCK_SIZE + 2).enumerate() {
                if let Some(e) = expected(i) {
                    *b = e;
                }
            }
            None
        };
        let image = Image {
            bytes,
            rebuilt,
            pos: 0,
        };
        (image, note)
    }

    fn len(&self) -> u64 {
        self.rebuilt
            .as_ref()
            .map_or(self.bytes.len() as u64, |r| r.len)
    }
}

impl Rebuilt {
    fn new(bytes: &[u8], at: &[usize]) -> Rebuilt {
        let mut chunks = Vec::with_capacity(at.len());
        for (i, &start) in at.iter().enumerate() {
            let next = at.get(i + 1).copied().unwrap_or(bytes.len());
            let end = next.min(start + CHUNK_SIZE).min(bytes.len());
            chunks.push((start, end));
        }
        // The last chunk keeps its length when the file ends inside it (a truncated chunk);
        // every other one is 64 KiB, zeros after its bytes.
        let last = chunks.last().map_or(0, |&(s, e)| e - s);
        let whole = chunks.len().saturating_sub(1) * CHUNK_SIZE;
        let len = (FILE_HEADER_SIZE + whole + last) as u64;
        let mut header = vec![0u8; FILE_HEADER_SIZE];
        for (i, b) in header.iter_mut().take(HEADER_BLOCK_SIZE + 2).enumerate() {
            if let Some(e) = expected(i) {
                *b = e;
            }
        }
        // Header size 128, version 3.1, its checksum right: the header says nothing more.
        put(&mut header, 32, &128u32.to_le_bytes());
        put(&mut header, 36, &1u16.to_le_bytes());
        put(&mut header, 38, &3u16.to_le_bytes());
        let sum = crc32fast::hash(header.get(..120).unwrap_or(&[]));
        put(&mut header, 124, &sum.to_le_bytes());
        Rebuilt {
            header,
            chunks,
            len,
        }
    }

    /// Copies the virtual file's bytes at `pos` into `buf`; how many.
    fn read_at(&self, bytes: &[u8], pos: u64, buf: &mut [u8]) -> usize {
        let Ok(pos) = usize::try_from(pos) else {
            return 0;
        };
        if pos >= usize::try_from(self.len).unwrap_or(usize::MAX) {
            return 0;
        }
        if pos < FILE_HEADER_SIZE {
            return copy(self.header.get(pos..).unwrap_or(&[]), buf);
        }
        let into = pos - FILE_HEADER_SIZE;
        let (slot, off) = (into / CHUNK_SIZE, into % CHUNK_SIZE);
        let Some(&(start, end)) = self.chunks.get(slot) else {
            return 0;
        };
        let have = end - start;
        if off < have {
            copy(bytes.get(start + off..end).unwrap_or(&[]), buf)
        } else {
            let zeros = (CHUNK_SIZE - off).min(buf.len());
            buf.iter_mut().take(zeros).for_each(|b| *b = 0);
            zeros
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

impl Read for Image {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if let Some(r) = &self.rebuilt {
            r.read_at(&self.bytes, self.pos, buf)
        } else {
            let at = usize::try_from(self.pos).unwrap_or(usize::MAX);
            copy(self.bytes.get(at..).unwrap_or(&[]), buf)
        };
        self.pos += n as u64;
        Ok(n)
    }
}

impl Seek for Image {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(p) => Some(p),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        self.pos = target.ok_or_else(|| io::Error::from(io::ErrorKind::InvalidInput))?;
        Ok(self.pos)
    }
}

#[cfg(test)]
mod tests;
