//! A log with one chunk copied over another (issue 29, damaged logs): two chunks hold the same
//! record ids. Record ids in one log never repeat, so the copy is read once, with a note naming
//! the chunk and the records it repeats, in every format of `events` and in `analyze`'s input
//! summary, and the answer does not depend on the thread count. The damaged file is made here
//! from a real log in testdata/evtx.

use std::collections::BTreeMap;

use crate::util::{run, run_json};

const HEADER: usize = 4096;
const CHUNK: usize = 65536;
const LOG: &str = "testdata/evtx/fukusuket_evtx-parser_Application.evtx";
const NOTE: &str = "chunk 1 repeats record ids";

/// The real log with its first chunk copied over its second.
fn copied_chunk(dir: &std::path::Path) -> String {
    let mut b = std::fs::read(LOG).unwrap();
    assert!(
        b.len() >= HEADER + 2 * CHUNK,
        "{LOG} has fewer than two chunks"
    );
    let first = b[HEADER..HEADER + CHUNK].to_vec();
    b[HEADER + CHUNK..HEADER + 2 * CHUNK].copy_from_slice(&first);
    let path = dir.join("copied-chunk.evtx");
    std::fs::write(&path, b).unwrap();
    path.to_str().unwrap().to_owned()
}

/// How often each record id is listed in `events --all --format jsonl` output.
fn id_counts(jsonl: &str) -> BTreeMap<u64, usize> {
    let mut counts = BTreeMap::new();
    for line in jsonl.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        *counts.entry(v["record_id"].as_u64().unwrap()).or_default() += 1;
    }
    counts
}

#[test]
fn a_copied_chunk_is_read_once_and_said() {
    let dir = tempfile::tempdir().unwrap();
    let path = copied_chunk(dir.path());

    let (code, out, err) = run(&["events", &path, "--all", "--format", "jsonl"]);
    assert_eq!(code, 0, "{err}");
    let counts = id_counts(&out);
    assert!(!counts.is_empty());
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "record ids listed twice: {twice:?}");
    assert!(err.contains(NOTE), "no note on stderr: {err}");

    // The intact log lists every record once too, and says nothing of repeats.
    let (_, intact, intact_err) = run(&["events", LOG, "--all", "--format", "jsonl"]);
    assert!(id_counts(&intact).values().all(|n| *n == 1));
    assert!(!intact_err.contains("repeats record ids"), "{intact_err}");

    for format in ["text", "csv"] {
        let (code, _, err) = run(&["events", &path, "--all", "--format", format]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(err.contains(NOTE), "{format}: no note: {err}");
    }
    // Activation events only (the pre-filter's reader): the same note.
    let (_, json) = run_json(&["events", &path, "--format", "json"]);
    let notes = json["inputs"][0]["notes"].to_string();
    assert!(notes.contains(NOTE), "{notes}");
    let records = json["inputs"][0]["records"].as_u64().unwrap();
    assert_eq!(
        records,
        counts.len() as u64,
        "the record count counts the copy"
    );
}

#[test]
fn analyze_reads_a_copied_chunk_once_at_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let path = copied_chunk(dir.path());
    let now = ["--now", "2026-01-01T00:00:00Z"];
    let mut outputs = Vec::new();
    for threads in ["1", "2"] {
        let mut args = vec!["analyze", &path, "--format", "json", "--threads", threads];
        args.extend(now);
        let (_, v) = run_json(&args);
        let warnings = v["inputs"][0]["warnings"].to_string();
        assert!(warnings.contains(NOTE), "{threads} thread(s): {warnings}");
        outputs.push(v);
    }
    assert_eq!(outputs[0], outputs[1], "--threads 1 and 2 differ");
}
