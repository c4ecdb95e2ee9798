//! Where a log's chunks lie. Where the format puts them (after the 4 KiB header, every 64 KiB)
//! is checked first, one signature at a time; only when a place holds something else than a
//! chunk signature or an unused chunk (wholly zero) is the whole log searched for `ElfChnk\0`, a
//! block at a time (memory does not grow with the log's size), and a signature off its place
//! counts only with a plausible chunk header behind it. It knows the file's shape, not what is
//! inside a chunk.

use std::io::{self, Read, Seek, SeekFrom};

use super::super::layout::{CHUNK_HEADER_SIZE, CHUNK_MAGIC, CHUNK_SIZE, FILE_HEADER_SIZE, MAGIC};
use super::CHUNK_HEADER_OWN_SIZE;

/// How much of a log is searched at once.
const BLOCK: usize = 1 << 20;
/// The bytes a signature needs behind it to be judged: up to its header's own size.
const JUDGED: usize = CHUNK_HEADER_OWN_SIZE + 4;

/// Where the chunks of a log lie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Layout {
    /// Where the format puts them (those that are there).
    Aligned,
    /// Elsewhere (bytes were added or lost): each chunk signature's offset, in file order.
    Scattered(Vec<u64>),
}

/// Whether `bytes` (a whole input, or a file's first bytes) are an `.evtx` log: its signature,
/// or, the header damaged, chunk signatures.
pub(crate) fn is_log(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC) || locate(bytes).is_some()
}

/// Where the chunks of `bytes` lie; `None` for bytes that are no log (neither the file
/// signature nor a chunk).
pub(crate) fn locate(bytes: &[u8]) -> Option<Layout> {
    locate_in(&mut io::Cursor::new(bytes), bytes.len() as u64, u64::MAX)
        .ok()
        .flatten()
}

/// Where the chunks of the log `src` (`len` bytes) lie; `None` when it is no log. A search for
/// signatures off their places goes no further than `search` bytes into it.
pub(crate) fn locate_in<R: Read + Seek>(
    src: &mut R,
    len: u64,
    search: u64,
) -> io::Result<Option<Layout>> {
    let head = read_at(src, 0, 8192)?;
    let intact = head.starts_with(MAGIC);
    let (in_place, all_hold) = places(src, len)?;
    if all_hold && (intact || in_place) {
        return Ok(Some(Layout::Aligned));
    }
    // Text is searched only where the format puts chunks: a log is binary content.
    if !crate::input::encoding::looks_binary(&head) {
        return Ok((intact || in_place).then_some(Layout::Aligned));
    }
    let found = signatures(src, len.min(search), len)?;
    if found.is_empty() {
        return Ok(intact.then_some(Layout::Aligned));
    }
    if found.iter().all(|&at| aligned(at)) {
        return Ok(Some(Layout::Aligned));
    }
    Ok(Some(Layout::Scattered(found)))
}

/// Whether each place the format puts chunks at in the log on disk at `path` holds a chunk
/// signature or an unused (zeroed) chunk: then its chunk ranges can be read on their own.
pub(crate) fn chunks_in_place(path: &std::path::Path) -> bool {
    let Ok(mut file) = std::fs::File::open(path) else {
        return false;
    };
    let len = file.metadata().map_or(0, |m| m.len());
    places(&mut file, len).is_ok_and(|(_, all)| all)
}

/// Whether `at` is where the format puts a chunk.
fn aligned(at: u64) -> bool {
    at.checked_sub(FILE_HEADER_SIZE as u64)
        .is_some_and(|d| d % CHUNK_SIZE as u64 == 0)
}

/// Whether any of the places the format puts chunks at holds a chunk signature, and whether each
/// holds a signature or an unused chunk (64 KiB of zeros).
fn places<R: Read + Seek>(src: &mut R, len: u64) -> io::Result<(bool, bool)> {
    let mut any = false;
    let mut at = FILE_HEADER_SIZE as u64;
    while at < len {
        let sig = read_at(src, at, CHUNK_MAGIC.len())?;
        if sig == CHUNK_MAGIC {
            any = true;
        } else if !sig.iter().all(|&b| b == 0)
            || !read_at(src, at, CHUNK_SIZE)?.iter().all(|&b| b == 0)
        {
            // Unused only when wholly zero (as the evtx crate skips it): the zeros at a place
            // can be a moved chunk's.
            return Ok((any, false));
        }
        at += CHUNK_SIZE as u64;
    }
    Ok((any, true))
}

/// The offsets of the chunk signatures among the first `search` bytes of `src` (`len` long), at
/// least a chunk header apart: each one where the format puts chunks, or elsewhere with a
/// plausible header (its own size, 128: the text of a record could hold the eight bytes). A
/// file of n bytes holds about n / 64 KiB chunks; more are no log's.
fn signatures<R: Read + Seek>(src: &mut R, search: u64, len: u64) -> io::Result<Vec<u64>> {
    let most = usize::try_from(len / CHUNK_SIZE as u64).unwrap_or(usize::MAX) + 64;
    let finder = memchr::memmem::Finder::new(CHUNK_MAGIC);
    let mut out: Vec<u64> = Vec::new();
    let mut from = 0u64;
    while from < search && out.len() < most {
        // Each block overlaps the next by what a signature needs to be judged.
        let block = read_at(src, from, BLOCK + JUDGED)?;
        let starts = block.len().min(BLOCK);
        for i in finder.find_iter(&block) {
            if i >= starts {
                break;
            }
            let at = from + i as u64;
            if out
                .last()
                .is_some_and(|&l| at < l + CHUNK_HEADER_SIZE as u64)
            {
                continue;
            }
            let own = block
                .get(i + CHUNK_HEADER_OWN_SIZE..i + JUDGED)
                .and_then(|b| b.try_into().ok())
                .map(u32::from_le_bytes);
            if aligned(at) || own == Some(128) {
                out.push(at);
                if out.len() >= most {
                    break;
                }
            }
        }
        if block.len() <= BLOCK {
            break;
        }
        from += BLOCK as u64;
    }
    Ok(out)
}

/// Up to `n` bytes of `src` from `at` (fewer at its end).
pub(super) fn read_at<R: Read + Seek>(src: &mut R, at: u64, n: usize) -> io::Result<Vec<u8>> {
    src.seek(SeekFrom::Start(at))?;
    let mut buf = Vec::new();
    buf.try_reserve_exact(n)
        .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    src.take(n as u64).read_to_end(&mut buf)?;
    Ok(buf)
}
