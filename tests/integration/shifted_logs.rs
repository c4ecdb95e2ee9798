//! Logs whose chunks are no longer where the format puts them (issue 29, after item 1): bytes
//! added or lost inside a chunk or before the first one, behind an intact or a damaged file
//! header, and a log too large to be read whole with its header damaged and its chunks moved.
//! Every record of every chunk the damage did not touch is still read, by both readers, with a
//! note. The damaged files are made here from real logs (testdata/evtx and the shared samples).

use std::collections::BTreeSet;

use crate::damaged_logs::{
    CHUNK, HEADER, Rng, ids_by_chunk, ids_read, listed_ids, real_logs, window,
};
use crate::util::kmsdiag;

const MOVED: &str = "not where the format puts them (bytes were added or lost)";

/// `original` with `n` bytes added (`add`) or removed at `at`.
fn shift(original: &[u8], at: usize, n: usize, add: bool) -> Vec<u8> {
    let mut v = original[..at].to_vec();
    if add {
        v.extend((0..n).map(|i| u8::try_from(i % 251).unwrap()));
        v.extend_from_slice(&original[at..]);
    } else {
        v.extend_from_slice(&original[(at + n).min(original.len())..]);
    }
    v
}

/// Bytes added or lost inside one chunk of each real log (or before its first chunk), its file
/// header intact or its signature flipped: every record of every other chunk is read by both
/// readers, and the note says what happened.
#[test]
fn bytes_added_or_lost_lose_no_record_of_another_chunk() {
    let rules = kmsdiag::Rules::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shifted.evtx");
    let mut rng = Rng(0x5_1f7e_d029);
    let mut cases = 0;
    for log in &real_logs() {
        let original = window(&mut rng, &std::fs::read(log).unwrap());
        let by_chunk = ids_by_chunk(&rules, &original, &path);
        for case in 0..6 {
            // In the header (every chunk moves), or inside chunk k past its header.
            let k = if case == 0 {
                None
            } else {
                Some(rng.below(by_chunk.len()))
            };
            let at = match k {
                None => 512 + rng.below(HEADER - 1024),
                Some(k) => HEADER + k * CHUNK + 1024 + rng.below(CHUNK - 2048),
            };
            let add = rng.below(2) == 0;
            let n = 1 + rng.below(700);
            let mut bytes = shift(&original, at, n, add);
            if case == 5 {
                bytes[rng.below(8)] ^= 1 << rng.below(8);
            }
            std::fs::write(&path, &bytes).unwrap();
            let (got_all, got_selected) = ids_read(&rules, &path);
            for (j, (all, selected)) in by_chunk.iter().enumerate() {
                if Some(j) == k {
                    continue;
                }
                for (reader, want, got) in [
                    ("evtx crate", all, &got_all),
                    ("pre-filter", selected, &got_selected),
                ] {
                    let missing: BTreeSet<&u64> = want.difference(got).collect();
                    assert!(
                        missing.is_empty(),
                        "{}: {n} byte(s) {} at 0x{at:x} (chunk {k:?}, case {case}) lost {} record(s) of chunk {j} ({reader})",
                        log.display(),
                        if add { "added" } else { "removed" },
                        missing.len()
                    );
                }
            }
            // What `kmsdiag events` says, from disk and from standard input.
            let (ids, notes) = listed_ids(path.to_str().unwrap(), None);
            assert_eq!(ids, got_all, "{}", log.display());
            // A note when a chunk signature moved (a chunk after k; unused chunks hold none).
            let moved_at_all = (k.map_or(0, |k| k + 1)..by_chunk.len())
                .any(|j| original[HEADER + j * CHUNK..].starts_with(b"ElfChnk\0"));
            if moved_at_all {
                assert!(notes.contains(MOVED), "{}: {notes}", log.display());
            }
            if case % 2 == 0 {
                let (ids, notes) = listed_ids("-", Some(bytes));
                assert_eq!(ids, got_all, "{} from standard input", log.display());
                if moved_at_all {
                    assert!(notes.contains(MOVED), "{notes}");
                }
            }
            cases += 1;
        }
    }
    assert!(cases >= 18, "{cases}");
}

/// A log larger than kmsdiag reads whole (64 MiB), its header damaged and its chunks off their
/// places: read from disk a chunk at a time (a sparse file: quick to make), each chunk's records
/// listed, with the note.
#[test]
fn a_large_log_with_a_damaged_header_and_moved_chunks_is_read_from_disk() {
    let original = std::fs::read("testdata/evtx/samples_Application_no_crc32.evtx").unwrap();
    let (want, _) = listed_ids("testdata/evtx/samples_Application_no_crc32.evtx", None);
    let chunk = &original[HEADER..HEADER + CHUNK];
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("large.evtx");
    let mut header = original[..HEADER].to_vec();
    header[1] ^= 0x10;
    let far = 70 * 1024 * 1024 + 123;
    {
        use std::io::{Seek, SeekFrom, Write};
        let mut f = std::fs::File::create(&path).unwrap();
        f.write_all(&header).unwrap();
        f.seek(SeekFrom::Start(5000)).unwrap();
        f.write_all(chunk).unwrap();
        f.seek(SeekFrom::Start(far)).unwrap();
        f.write_all(chunk).unwrap();
    }
    let out = kmsdiag()
        .args([
            "events",
            "--all",
            "--format",
            "json",
            path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let events = v["events"].as_array().unwrap();
    // The one chunk twice: a copy, its records read once and the copy said (issue 29).
    assert_eq!(events.len(), want.len(), "{}", v["inputs"]);
    let notes = v["inputs"][0]["notes"].to_string();
    assert!(notes.contains("chunk 1 repeats record ids"), "{notes}");
    assert!(notes.contains("the file header is damaged"), "{notes}");
    assert!(notes.contains(MOVED), "{notes}");
    assert!(notes.contains("2 chunk signature(s)"), "{notes}");
}

/// Every format of `kmsdiag events` says what JSON says in `notes` and `damaged`: the repair,
/// the damaged items and their count (on stderr, so that CSV and JSONL stay data; the text
/// listing's last line counts them too), with hostile bytes in the path neutralised.
#[test]
fn every_events_format_says_what_was_salvaged_and_damaged() {
    let original = std::fs::read("testdata/evtx/fukusuket_evtx-parser_Application.evtx").unwrap();
    // 300 bytes lost inside the first chunk: its records are damaged, the others moved.
    let bytes = shift(&original, HEADER + 5000, 300, false);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("moved\u{1b}]0;title\u{7}\u{202e}.evtx");
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_str().unwrap();
    let out = kmsdiag()
        .args(["events", "--all", "--format", "json", p])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let input = &v["inputs"][0];
    let count = input["damaged_count"].as_u64().unwrap();
    assert!(count > 0, "{input}");
    let first_damage = input["damaged"][0].as_str().unwrap().to_owned();
    for format in ["text", "csv", "jsonl"] {
        let out = kmsdiag()
            .args(["events", "--all", "--format", format, p])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(MOVED), "{format}: {err}");
        assert!(
            err.contains(&format!("{count} damaged item(s) skipped")),
            "{format}: {err}"
        );
        assert!(err.contains(&first_damage), "{format}: {err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{7}') && !err.contains('\u{202e}'),
            "{format}: controls in {err:?}"
        );
        let stdout = String::from_utf8(out.stdout).unwrap();
        if format == "text" {
            let last = stdout.lines().last().unwrap();
            assert!(
                last.contains(&format!("{count} damaged item(s) in 1 input(s)")),
                "{last}"
            );
        } else {
            assert!(!stdout.contains("damaged item"), "{format}: data only");
        }
    }
}
