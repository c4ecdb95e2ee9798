//! Archive bombs (issue 29, item 2): one budget bounds an archive and the archives inside it —
//! entries, unpacked bytes, the ratio of the whole tree, nesting — and entries are unpacked one
//! at a time as they are read. Each shape is generated here; each is refused with its reason,
//! quickly, and in bounded memory (measured by the process itself, `KMSDIAG_PEAK_MEMORY`).

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::util::kmsdiag;

/// Peak memory any archive may take, in KiB.
const MEMORY_KIB: u64 = 256 * 1024;
/// Time any bomb may take (a debug build on a busy machine).
const QUICK: Duration = Duration::from_mins(1);

fn deflated() -> zip::write::SimpleFileOptions {
    zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated)
}

/// A zip of `n` copies of one deflated entry (`data`), packed once and copied as packed.
fn copies(n: usize, data: &[u8]) -> Vec<u8> {
    let mut one = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut one);
        w.start_file("one", deflated()).unwrap();
        w.write_all(data).unwrap();
        w.finish().unwrap();
    }
    let mut src = zip::ZipArchive::new(one).unwrap();
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        for i in 0..n {
            let f = src.by_index_raw(0).unwrap();
            w.raw_copy_file_rename(f, format!("entry{i:05}.txt"))
                .unwrap();
        }
        w.finish().unwrap();
    }
    out.into_inner()
}

/// A zip of `entries` (name, bytes), stored as they are.
fn stored(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut out);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in entries {
            w.start_file(name.as_str(), opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    out.into_inner()
}

/// `kmsdiag analyze` on `path`: exit, the report, stderr, peak memory (KiB) and time taken.
fn analyze(path: &Path) -> (i32, serde_json::Value, String, u64, Duration) {
    let start = Instant::now();
    let out = kmsdiag()
        .env("KMSDIAG_PEAK_MEMORY", "1")
        .args(["analyze", "--format", "json", "--now", "2026-10-21"])
        .arg(path)
        .output()
        .unwrap();
    let took = start.elapsed();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib = err
        .lines()
        .find_map(|l| l.strip_prefix("note: peak memory: "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    // A run that reads nothing writes no report (exit 2): its inputs' errors are the warnings on
    // stderr, given here as the report's inputs.
    let report = if out.stdout.is_empty() {
        let inputs: Vec<serde_json::Value> = err
            .lines()
            .filter_map(|l| l.strip_prefix("warning: "))
            .map(|e| serde_json::json!({ "error": e }))
            .collect();
        serde_json::json!({ "inputs": inputs })
    } else {
        serde_json::from_slice(&out.stdout).unwrap()
    };
    (out.status.code().unwrap(), report, err, kib, took)
}

fn errors(r: &serde_json::Value) -> Vec<String> {
    r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|i| i["error"].as_str())
        .map(str::to_owned)
        .collect()
}

#[test]
fn many_small_entries_of_zeros_are_refused_by_the_whole_archives_ratio() {
    // 1,024 entries of 1 MiB of zeros: about 1 MB packed, 1 GiB unpacked; no entry is over
    // 1 MiB, so only the ratio of the whole archive tells.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zeros.zip");
    std::fs::write(&path, copies(1024, &vec![0u8; 1 << 20])).unwrap();
    let (code, r, err, kib, took) = analyze(&path);
    assert_eq!(code, 2, "nothing else to read: {err}");
    let errors = errors(&r);
    assert_eq!(errors.len(), 1, "one refusal for the archive: {errors:?}");
    assert!(
        errors[0].contains("unpack to 1073741824 bytes") && errors[0].contains("zip bomb"),
        "{errors:?}"
    );
    assert!(kib > 0 && kib < MEMORY_KIB, "peak {kib} KiB");
    assert!(took < QUICK, "{took:?}");
}

#[test]
fn nested_archives_of_empty_entries_share_one_entry_budget() {
    // 8 archives of 10,000 empty entries each, inside one.
    let inner = copies(10_000, b"");
    let outer: Vec<(String, Vec<u8>)> = (0..8)
        .map(|i| (format!("inner{i}.zip"), inner.clone()))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("entries.zip");
    std::fs::write(&path, stored(&outer)).unwrap();
    let (code, r, err, kib, took) = analyze(&path);
    assert_eq!(code, 2, "empty entries are no input: {err}");
    let inputs = r["inputs"].as_array().unwrap().len();
    assert!(inputs <= 10_010, "{inputs} inputs");
    let errors = errors(&r);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("7 more entries not read") && e.contains("10000 entries in all")),
        "{errors:?}"
    );
    assert!(kib > 0 && kib < MEMORY_KIB, "peak {kib} KiB");
    assert!(took < QUICK, "{took:?}");
}

#[test]
fn a_bomb_inside_an_archive_counts_against_the_outer_archive() {
    // The outer archive is stored (ratio 1:1); the one inside holds 64 entries of 1 MiB zeros:
    // the tree unpacks to 64 MiB from about 70 KB.
    let inner = copies(64, &vec![0u8; 1 << 20]);
    let slmgr = std::fs::read("testdata/slmgr/en-mak-licensed-dli.txt").unwrap();
    let outer = stored(&[
        ("a-dli.txt".to_owned(), slmgr),
        ("b-logs.zip".to_owned(), inner),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested-bomb.zip");
    std::fs::write(&path, outer).unwrap();
    let (code, r, err, kib, took) = analyze(&path);
    assert_eq!(code, 1, "the bomb is an input-unreadable finding: {err}");
    let inputs = r["inputs"].as_array().unwrap();
    let refused = inputs
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("!b-logs.zip"))
        .unwrap_or_else(|| panic!("{inputs:?}"));
    assert!(
        refused["error"].as_str().unwrap().contains("zip bomb"),
        "{refused}"
    );
    assert_eq!(
        r["machines"].as_array().unwrap().len(),
        1,
        "the rest is read"
    );
    assert!(kib > 0 && kib < MEMORY_KIB, "peak {kib} KiB");
    assert!(took < QUICK, "{took:?}");
}

#[test]
fn an_archive_that_lists_too_many_entries_is_not_opened() {
    // 100,001 empty entries (ZIP64): listing them alone would take memory.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("listed.zip");
    std::fs::write(&path, copies(100_001, b"")).unwrap();
    let (code, r, err, kib, _) = analyze(&path);
    assert_eq!(code, 2, "{err}");
    let errors = errors(&r);
    assert!(errors[0].contains("lists 100001 entries"), "{errors:?}");
    assert!(kib > 0 && kib < 64 * 1024, "peak {kib} KiB");
}
