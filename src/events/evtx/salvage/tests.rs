use std::io::{Read, Seek, SeekFrom};

use super::*;
use crate::events::evtx::layout::CHUNK_MAGIC;

/// A chunk: its signature, its header's own size (128), then `fill`.
fn chunk(fill: u8) -> Vec<u8> {
    let mut c = vec![fill; CHUNK_SIZE];
    c[..8].copy_from_slice(CHUNK_MAGIC);
    c[CHUNK_HEADER_OWN_SIZE..CHUNK_HEADER_OWN_SIZE + 4].copy_from_slice(&128u32.to_le_bytes());
    c
}

/// A log of `chunks` chunks whose header is `header` (4 KiB).
fn log(header: &[u8], chunks: &[Vec<u8>]) -> Vec<u8> {
    let mut v = header.to_vec();
    v.resize(FILE_HEADER_SIZE, 0);
    for c in chunks {
        v.extend_from_slice(c);
    }
    v
}

fn read_all(mut r: impl Read) -> Vec<u8> {
    let mut v = Vec::new();
    r.read_to_end(&mut v).unwrap();
    v
}

#[test]
fn chunks_in_place_behind_a_damaged_signature_are_found() {
    let intact = log(b"ElfFile\0", &[chunk(1), chunk(2)]);
    assert!(is_log(&intact));
    assert_eq!(locate(&intact), Some(Layout::Aligned), "an intact log");
    let mut flipped = intact.clone();
    flipped[3] ^= 0x20;
    assert_eq!(locate(&flipped), Some(Layout::Aligned));
    assert!(is_log(&flipped));
    // Only its first bytes, as a file on disk is first looked at.
    assert!(is_log(flipped.get(..FILE_HEADER_SIZE + 8).unwrap()));
    // Text, binary without chunks, and nothing at all are no log.
    assert!(!is_log(b"License Status: Licensed\r\n"));
    assert!(!is_log(&[0u8; 9000]));
    assert!(!is_log(b""));
}

#[test]
fn a_damaged_header_is_read_through_a_patched_view_and_said() {
    let mut damaged = log(b"ElfFilE\0", &[chunk(1)]);
    damaged[HEADER_BLOCK_SIZE] = 0xFF;
    let note = header_damage(&damaged).unwrap();
    assert!(note.contains("signature, header block size"), "{note}");
    let mut intact = log(b"ElfFile\0", &[chunk(1)]);
    intact[HEADER_BLOCK_SIZE..HEADER_BLOCK_SIZE + 2].copy_from_slice(&4096u16.to_le_bytes());
    assert_eq!(header_damage(&intact), None);
    // Read in pieces, and after a seek: the repaired fields, every other byte as it was.
    let mut view = Patched::new(std::io::Cursor::new(damaged.clone()));
    let mut first = [0u8; 5];
    view.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"ElfFi");
    let rest = read_all(&mut view);
    assert_eq!(rest.get(..3).unwrap(), b"le\0");
    assert_eq!(
        rest.get(HEADER_BLOCK_SIZE - 5..HEADER_BLOCK_SIZE - 3)
            .unwrap(),
        &4096u16.to_le_bytes()
    );
    assert_eq!(rest.get(FILE_HEADER_SIZE - 5..).unwrap(), &chunk(1)[..]);
    view.seek(SeekFrom::Start(2)).unwrap();
    let mut two = [0u8; 2];
    view.read_exact(&mut two).unwrap();
    assert_eq!(&two, b"fF");
    // In memory, the same repair in place.
    let (image, note) = Image::new(damaged);
    assert!(note.is_some());
    let bytes = read_all(image);
    assert!(bytes.starts_with(MAGIC));
    assert_eq!(bytes.get(FILE_HEADER_SIZE..).unwrap(), &chunk(1)[..]);
}

#[test]
fn chunks_off_their_places_are_put_back_in_place() {
    // Bytes added before the first chunk, and 100 bytes lost from the second.
    let mut bytes = b"garbage\0".to_vec();
    bytes.resize(5000, 0);
    bytes.extend_from_slice(&chunk(1));
    let second = chunk(2);
    bytes.extend_from_slice(&second[..CHUNK_SIZE - 100]);
    bytes.extend_from_slice(&chunk(3)[..1000]);
    let Some(Layout::Scattered(at)) = locate(&bytes) else {
        panic!("not found off their places: {:?}", locate(&bytes));
    };
    let c = CHUNK_SIZE as u64;
    assert_eq!(at, [5000, 5000 + c, 5000 + 2 * c - 100]);
    let (mut image, note) = Image::new(bytes);
    assert!(note.unwrap().contains("3 chunk signature(s)"));
    let all = read_all(&mut image);
    // A header, two whole chunks (the short one padded with zeros) and the truncated last.
    assert_eq!(all.len(), FILE_HEADER_SIZE + 2 * CHUNK_SIZE + 1000);
    assert!(all.starts_with(MAGIC));
    let slot = |n: usize| &all[FILE_HEADER_SIZE + n * CHUNK_SIZE..];
    assert_eq!(&slot(0)[..CHUNK_SIZE], &chunk(1)[..]);
    assert_eq!(&slot(1)[..CHUNK_SIZE - 100], &second[..CHUNK_SIZE - 100]);
    assert!(
        slot(1)[CHUNK_SIZE - 100..CHUNK_SIZE]
            .iter()
            .all(|b| *b == 0)
    );
    assert_eq!(slot(2), &chunk(3)[..1000]);
    // The header's checksum is right: nothing but the repair is said.
    let sum = u32::from_le_bytes(all[124..128].try_into().unwrap());
    assert_eq!(sum, crc32fast::hash(&all[..120]));
    // Seeking from the end, as the evtx crate does.
    assert_eq!(image.seek(SeekFrom::End(0)).unwrap(), all.len() as u64);
    image
        .seek(SeekFrom::Start(FILE_HEADER_SIZE as u64))
        .unwrap();
    let mut sig = [0u8; 8];
    image.read_exact(&mut sig).unwrap();
    assert_eq!(&sig, CHUNK_MAGIC);
}

#[test]
fn chunks_moved_behind_an_intact_header_are_found_and_its_header_kept() {
    // An intact header (a chunk count, a flag), 300 bytes added inside the first of three chunks.
    let mut header = b"ElfFile\0".to_vec();
    header.resize(FILE_HEADER_SIZE, 0);
    header[40..42].copy_from_slice(&4096u16.to_le_bytes());
    header[42] = 3;
    header[120] = 1;
    let intact = log(&header, &[chunk(1), chunk(2), chunk(3)]);
    assert_eq!(locate(&intact), Some(Layout::Aligned));
    let at = FILE_HEADER_SIZE + 1000;
    let mut moved = intact[..at].to_vec();
    moved.extend_from_slice(&[7u8; 300]);
    moved.extend_from_slice(&intact[at..]);
    let c = CHUNK_SIZE as u64;
    let f = FILE_HEADER_SIZE as u64;
    assert_eq!(
        locate(&moved),
        Some(Layout::Scattered(vec![f, f + c + 300, f + 2 * c + 300]))
    );
    let (image, note) = Image::new(moved.clone());
    let note = note.unwrap();
    assert!(note.starts_with("the log's chunks are not where"), "{note}");
    assert!(
        note.contains("3 chunk signature(s) found, the first off its place at offset 0x11"),
        "{note}"
    );
    let all = read_all(image);
    // The log's own header, the chunks back in place.
    assert!(all[..FILE_HEADER_SIZE] == header[..]);
    assert!(all[FILE_HEADER_SIZE + CHUNK_SIZE..] == intact[FILE_HEADER_SIZE + CHUNK_SIZE..]);
    // The same from disk.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moved.evtx");
    std::fs::write(&path, &moved).unwrap();
    assert!(!chunks_in_place(&path));
    let (view, disk_note) = open(&path).unwrap();
    assert_eq!(disk_note.as_deref(), Some(note.as_str()));
    assert!(read_all(view) == all);
    std::fs::write(&path, &intact).unwrap();
    assert!(chunks_in_place(&path));
    let (view, intact_note) = open(&path).unwrap();
    assert_eq!(intact_note, None);
    assert!(read_all(view) == intact);
}

#[test]
fn zeros_where_a_chunk_belongs_are_an_unused_chunk_only_when_wholly_zero() {
    // The places of the chunks after a shift can hold zeros of a moved chunk (its unused tail).
    let mut header = b"ElfFile\0".to_vec();
    header.resize(FILE_HEADER_SIZE, 0);
    let mut quiet = chunk(0);
    quiet[CHUNK_SIZE - 600..].fill(9);
    let intact = log(&header, &[chunk(1), quiet, vec![0; CHUNK_SIZE]]);
    assert_eq!(locate(&intact), Some(Layout::Aligned), "an unused chunk");
    let mut moved = intact.clone();
    moved.splice(FILE_HEADER_SIZE + 100..FILE_HEADER_SIZE + 100, [5u8; 64]);
    let Some(Layout::Scattered(at)) = locate(&moved) else {
        panic!("{:?}", locate(&moved));
    };
    assert_eq!(at.len(), 2);
}

#[test]
fn the_search_is_bounded_and_takes_a_block_at_a_time() {
    // Signatures across the blocks the search reads, and a limit on how far it goes.
    let mut bytes = vec![0u8; 3 * (1 << 20) + 5000];
    bytes[..8].copy_from_slice(b"ElfFilX\0");
    let c = chunk(4);
    let starts = [777usize, (1 << 20) - 20, 2 * (1 << 20) + 3];
    for &s in &starts {
        bytes[s..s + 64].copy_from_slice(&c[..64]);
    }
    let len = bytes.len() as u64;
    let mut src = std::io::Cursor::new(&bytes);
    let want: Vec<u64> = starts.iter().map(|&s| s as u64).collect();
    assert_eq!(
        locate_in(&mut src, len, u64::MAX).unwrap(),
        Some(Layout::Scattered(want.clone()))
    );
    assert_eq!(
        locate_in(&mut src, len, 1 << 20).unwrap(),
        Some(Layout::Scattered(want[..2].to_vec())),
        "no further than asked"
    );
}
