//! Chunks that repeat record ids: a chunk copied over another leaves a log with two chunks
//! holding the same records. Record ids within one log are unique and increasing (a circular log
//! never reuses them), so a chunk whose header's record-id range overlaps the ranges of the
//! chunks before it is a copy: [`repeats`] finds such chunks from their headers alone (the same
//! answer whatever records a reader keeps) and says which records each one repeats.

use std::collections::BTreeMap;
use std::io::{self, Read, Seek, SeekFrom};

use super::super::layout::{CHUNK_MAGIC, CHUNK_SIZE, chunk_offset};

/// Offset of the chunk header's first event record identifier (u64); the last follows.
const FIRST_RECORD_ID: usize = 0x18;
/// Chunk header bytes read: the signature through the last record identifier.
const HEAD: usize = 0x28;
/// Most chunks named one by one; the count is always complete.
const MAX_LISTED: usize = 20;

/// What [`repeats`] found: a note per repeating chunk, and how many records they repeat.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Repeats {
    pub notes: Vec<String>,
    pub records: u64,
}

/// The chunks of the log `view` (a repaired view: chunk `n` at [`chunk_offset`]) whose records
/// repeat record ids of earlier chunks, from the chunk headers' first and last record ids.
/// Chunks without a signature or with an impossible range are passed over.
pub(crate) fn repeats<R: Read + Seek>(view: &mut R) -> io::Result<Repeats> {
    let len = view.seek(SeekFrom::End(0))?;
    // Ranges of record ids read so far, disjoint and merged: start -> end (inclusive).
    let mut seen: BTreeMap<u64, u64> = BTreeMap::new();
    let mut out = Repeats::default();
    let mut chunks = 0usize;
    let mut number = 0u64;
    while chunk_offset(number).saturating_add(HEAD as u64) <= len {
        let at = chunk_offset(number);
        view.seek(SeekFrom::Start(at))?;
        let mut head = [0u8; HEAD];
        view.read_exact(&mut head)?;
        if let Some((first, last)) = range(&head)
            && let Some((low, high, n)) = overlap(&mut seen, first, last)
        {
            chunks += 1;
            out.records += n;
            if out.notes.len() < MAX_LISTED {
                out.notes.push(format!(
                    "chunk {number} repeats record ids {low}-{high} of an earlier chunk ({n} record(s), a copied chunk): they are read once"
                ));
            }
        }
        number += 1;
    }
    if chunks > out.notes.len() {
        out.notes.push(format!(
            "{} more chunk(s) repeat record ids of earlier chunks: they are read once",
            chunks - out.notes.len()
        ));
    }
    view.seek(SeekFrom::Start(0))?;
    Ok(out)
}

/// A chunk header's record-id range, when it has its signature and a range a chunk can hold.
fn range(head: &[u8; HEAD]) -> Option<(u64, u64)> {
    if !head.starts_with(CHUNK_MAGIC) {
        return None;
    }
    let id = |at: usize| {
        head.get(at..at + 8)
            .and_then(|b| b.try_into().ok())
            .map(u64::from_le_bytes)
    };
    let (first, last) = (id(FIRST_RECORD_ID)?, id(FIRST_RECORD_ID + 8)?);
    // A record takes more than one byte: a chunk cannot hold more ids than it has bytes.
    (first >= 1 && first <= last && last - first < CHUNK_SIZE as u64).then_some((first, last))
}

/// Adds `first..=last` to `seen`; the ids it shares with `seen` (lowest, highest, how many), if
/// any.
fn overlap(seen: &mut BTreeMap<u64, u64>, first: u64, last: u64) -> Option<(u64, u64, u64)> {
    let mut shared: Option<(u64, u64, u64)> = None;
    let (mut start, mut end) = (first, last);
    let touching: Vec<(u64, u64)> = seen
        .range(..=last)
        .rev()
        .take_while(|(_, e)| **e >= first)
        .map(|(s, e)| (*s, *e))
        .collect();
    for (s, e) in touching {
        seen.remove(&s);
        let (low, high) = (s.max(first), e.min(last));
        let n = high - low + 1;
        shared = Some(match shared {
            None => (low, high, n),
            Some((l, h, c)) => (l.min(low), h.max(high), c + n),
        });
        start = start.min(s);
        end = end.max(e);
    }
    seen.insert(start, end);
    shared
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(first: u64, last: u64) -> Vec<u8> {
        let mut c = vec![0u8; CHUNK_SIZE];
        c[..8].copy_from_slice(CHUNK_MAGIC);
        c[FIRST_RECORD_ID..FIRST_RECORD_ID + 8].copy_from_slice(&first.to_le_bytes());
        c[FIRST_RECORD_ID + 8..HEAD].copy_from_slice(&last.to_le_bytes());
        c
    }

    fn log(chunks: &[Vec<u8>]) -> io::Cursor<Vec<u8>> {
        let mut b = vec![0u8; super::super::super::layout::FILE_HEADER_SIZE];
        for c in chunks {
            b.extend_from_slice(c);
        }
        io::Cursor::new(b)
    }

    #[test]
    fn a_copied_chunk_is_named_with_the_records_it_repeats() {
        let mut view = log(&[chunk(1, 25), chunk(1, 25), chunk(26, 40)]);
        let r = repeats(&mut view).unwrap();
        assert_eq!(r.records, 25);
        assert_eq!(r.notes.len(), 1);
        assert!(r.notes[0].starts_with("chunk 1 repeats record ids 1-25"));
        assert_eq!(view.position(), 0);
    }

    #[test]
    fn increasing_and_wrapped_chunks_repeat_nothing() {
        let mut view = log(&[
            chunk(50, 60),
            chunk(61, 70),
            chunk(1, 49),
            vec![0; CHUNK_SIZE],
        ]);
        assert_eq!(repeats(&mut view).unwrap(), Repeats::default());
    }

    #[test]
    fn a_partial_overlap_across_two_chunks_counts_each_shared_id_once() {
        let mut view = log(&[chunk(1, 10), chunk(11, 20), chunk(5, 15), chunk(5, 15)]);
        let r = repeats(&mut view).unwrap();
        assert_eq!(r.records, 22);
        assert!(r.notes[0].contains("record ids 5-15"), "{:?}", r.notes);
    }

    #[test]
    fn an_impossible_range_is_passed_over() {
        let mut view = log(&[chunk(1, 10), chunk(10, 1), chunk(0, 5), chunk(1, u64::MAX)]);
        assert_eq!(repeats(&mut view).unwrap(), Repeats::default());
    }
}
