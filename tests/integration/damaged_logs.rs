//! Damaged `.evtx` logs lose only what is damaged (issue 29, item 1 and its property): a flipped
//! bit in the file signature or a wrong header field still reads every record of every chunk,
//! with a note, through `kmsdiag events` and `kmsdiag analyze`, from disk and from standard
//! input; random damage inside one chunk loses no record of another chunk; binary content that is
//! no log is an input error, never text. The damaged files are made here from real logs
//! (testdata/evtx, and ../shared/samples/evtx when it is beside the checkout, as in CI).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::util::{kmsdiag, run, run_json};

const SAMPLES: &str = "../shared/samples/evtx";
/// A real Application log whose licensing service logged (activation events to analyze).
const APPLICATION: &str = "testdata/evtx/samples_Application_no_crc32.evtx";
const NOTE: &str = "the file header is damaged";

/// The real logs: testdata's, and the shared samples when present.
pub(crate) fn real_logs() -> Vec<PathBuf> {
    let mut v = Vec::new();
    for dir in ["testdata/evtx", SAMPLES] {
        let Ok(rd) = std::fs::read_dir(dir) else {
            eprintln!("note: {dir} not found; its logs are not damaged here");
            continue;
        };
        let mut files: Vec<PathBuf> = rd
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "evtx"))
            .collect();
        files.sort();
        v.extend(files);
    }
    assert!(v.len() >= 3, "{v:?}");
    v
}

/// The record ids `kmsdiag events --all` lists for `path` (`-`: `stdin` given), and the notes on
/// the input.
pub(crate) fn listed_ids(path: &str, stdin: Option<Vec<u8>>) -> (BTreeSet<u64>, String) {
    let mut cmd = kmsdiag();
    cmd.args(["events", "--all", "--format", "json", path]);
    if let Some(bytes) = stdin {
        cmd.write_stdin(bytes);
    }
    let out = cmd.output().unwrap();
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(0), "{path}: {err}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["record_id"].as_u64().unwrap())
        .collect();
    (ids, v["inputs"][0]["notes"].to_string())
}

#[test]
fn a_flipped_signature_bit_loses_no_record() {
    let dir = tempfile::tempdir().unwrap();
    for (n, log) in real_logs().iter().enumerate() {
        let original = std::fs::read(log).unwrap();
        let (want, _) = listed_ids(log.to_str().unwrap(), None);
        assert!(!want.is_empty(), "{}", log.display());
        // One bit of the signature, a different one for each log.
        let mut flipped = original.clone();
        flipped[n % 8] ^= 1 << (n % 7);
        let path = dir.path().join(format!("flipped-{n}.log"));
        std::fs::write(&path, &flipped).unwrap();
        let (got, err) = listed_ids(path.to_str().unwrap(), None);
        assert_eq!(got, want, "{} read from disk", log.display());
        assert!(err.contains(NOTE), "{err}");
        let (got, err) = listed_ids("-", Some(flipped));
        assert_eq!(got, want, "{} read from standard input", log.display());
        assert!(err.contains(NOTE), "{err}");
    }
}

#[test]
fn a_log_with_a_damaged_header_is_analyzed_as_the_log_it_is() {
    let original = std::fs::read(APPLICATION).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let args = |p: &str| {
        [
            "analyze",
            "--format",
            "json",
            "--fail-on",
            "warning",
            "--now",
            "2025-07-05",
            p,
        ]
        .map(str::to_owned)
    };
    let run_on = |p: &str| {
        let a = args(p);
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        run_json(&a)
    };
    let (want_code, want) = run_on(APPLICATION);
    // The signature, and the header block size the evtx crate counts chunks by.
    let mut signature = original.clone();
    signature[0] ^= 0x04;
    let mut block_size = original.clone();
    block_size[40..42].copy_from_slice(&0xF000u16.to_le_bytes());
    for (what, bytes) in [("signature", signature), ("header block size", block_size)] {
        let path = dir.path().join("Application.evtx");
        std::fs::write(&path, &bytes).unwrap();
        let (code, got) = run_on(path.to_str().unwrap());
        assert_eq!(
            code, want_code,
            "{what}: the exit status follows the findings"
        );
        assert_eq!(got["machines"], want["machines"], "{what}");
        assert_eq!(got["findings"], want["findings"], "{what}");
        let input = &got["inputs"][0];
        assert_eq!(input["format"], "evtx", "{what}: {input}");
        let warnings = input["warnings"].to_string();
        assert!(
            warnings.contains(&format!("{NOTE} ({what})")),
            "{what}: {warnings}"
        );
    }
}

#[test]
fn binary_content_is_an_input_error_never_text() {
    let dir = tempfile::tempdir().unwrap();
    // A program's bytes: a header, then code and tables full of zero bytes and controls.
    let mut program = b"\x7fELF\x02\x01\x01\0".to_vec();
    let mut x = 0x2545_f491_u32;
    program.extend((0..200_000).map(|_| {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        if x.is_multiple_of(3) {
            0
        } else {
            x.to_le_bytes()[1]
        }
    }));
    let bin = dir.path().join("kmsdiag-copy");
    std::fs::write(&bin, &program).unwrap();
    let (code, out, err) = run(&["analyze", "--fail-on", "warning", bin.to_str().unwrap()]);
    assert_eq!(code, 2, "nothing could be read: {out}");
    assert!(err.contains("binary content"), "{err}");
    assert!(!out.contains("UNKNOWN"), "no machine from a program: {out}");
    // Beside a readable input: an input-unreadable finding, exit 1.
    let (code, r) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--fail-on",
        "never",
        bin.to_str().unwrap(),
        "testdata/slmgr/en-mak-licensed-dli.txt",
    ]);
    assert_eq!(code, 0, "--fail-on never");
    let input = &r["inputs"][0];
    assert_eq!(input["status"], "unreadable", "{input}");
    assert!(r["findings"].to_string().contains("input-unreadable"));
    // Found in a folder it is skipped, as other files no reader takes are: with nothing else
    // there, the run prints its error and no report, and does not call the file unreadable.
    let (code, out, err) = run(&["analyze", "--format", "json", dir.path().to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        !err.contains("binary content"),
        "skipped, not unreadable: {err}"
    );
    // `events` and `slmgr` read no text from it either.
    let (code, _, err) = run(&["events", bin.to_str().unwrap()]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["slmgr", bin.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("binary content"), "{err}");
    // UTF-16 text (zero bytes in every other place) is text.
    let mut utf16 = vec![0xFF, 0xFE];
    for u in std::fs::read_to_string("testdata/slmgr/en-mak-licensed-dli.txt")
        .unwrap()
        .encode_utf16()
    {
        utf16.extend_from_slice(&u.to_le_bytes());
    }
    let text = dir.path().join("dli-utf16.txt");
    std::fs::write(&text, &utf16).unwrap();
    let (code, r) = run_json(&["analyze", "--format", "json", text.to_str().unwrap()]);
    assert!(code < 2, "{r}");
    assert_eq!(r["inputs"][0]["format"], "slmgr");
}

/// A small deterministic generator (xorshift64): the same cases on every run.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % (n.max(1) as u64)).unwrap()
    }
}

pub(crate) const HEADER: usize = 4096;
pub(crate) const CHUNK: usize = 65536;
/// Chunks of each log the damage is tried on: a window of the log, so that a few hundred cases
/// stay quick whatever the logs' sizes.
const WINDOW: usize = 4;

/// A window of the log `bytes`: its header and up to [`WINDOW`] chunks from a chunk `rng`
/// picks among those with a signature.
pub(crate) fn window(rng: &mut Rng, bytes: &[u8]) -> Vec<u8> {
    let slots = (bytes.len().saturating_sub(HEADER)) / CHUNK;
    let used: Vec<usize> = (0..slots)
        .filter(|k| bytes[HEADER + k * CHUNK..].starts_with(b"ElfChnk\0"))
        .collect();
    let first = used[rng.below(used.len())];
    let end = (first + WINDOW).min(slots);
    let mut v = bytes[..HEADER].to_vec();
    v.extend_from_slice(&bytes[HEADER + first * CHUNK..HEADER + end * CHUNK]);
    v
}

/// Random damage inside chunk `k`: bit flips, zeroed runs, or the file cut inside it; with the
/// signature also flipped now and then. Returns the bytes and whether the file was cut.
fn damage(rng: &mut Rng, original: &[u8], k: usize) -> (Vec<u8>, bool) {
    let mut v = original.to_vec();
    let start = HEADER + k * CHUNK;
    let mut cut = false;
    for _ in 0..=rng.below(4) {
        let at = start + rng.below(CHUNK);
        match rng.below(5) {
            0 | 1 => v[at] ^= 1 << rng.below(8),
            2 | 3 => {
                let end = (at + 1 + rng.below(512)).min(start + CHUNK);
                v[at..end].fill(0);
            }
            _ => {
                v.truncate(at);
                cut = true;
                break;
            }
        }
    }
    if rng.below(4) == 0 {
        v[rng.below(8)] ^= 1 << rng.below(8);
    }
    (v, cut)
}

/// The record ids each reader gives for the log at `path`: the evtx crate's (what
/// `kmsdiag events --all` lists) and the pre-filter's (what `kmsdiag analyze` reads), the latter
/// only of the activation providers (`wanted`).
pub(crate) fn ids_read(rules: &kmsdiag::Rules, path: &Path) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let all = kmsdiag::read_file(path, &|_| true)
        .map(|(raws, _, _)| raws.iter().filter_map(|r| r.record_id).collect())
        .unwrap_or_default();
    let selected = kmsdiag::with_select(rules, kmsdiag::Keep::Activation, |select| {
        let mut notes = Vec::new();
        kmsdiag::read_file_selected(path, select, &|_| true, &mut notes)
            .map(|(raws, _, _)| {
                raws.iter()
                    .filter(|r| (select.provider)(&r.provider))
                    .filter_map(|r| r.record_id)
                    .collect()
            })
            .unwrap_or_default()
    });
    (all, selected)
}

/// The records each reader gives for each chunk of `log` on its own (the header and that chunk).
pub(crate) fn ids_by_chunk(
    rules: &kmsdiag::Rules,
    log: &[u8],
    path: &Path,
) -> Vec<(BTreeSet<u64>, BTreeSet<u64>)> {
    (0..(log.len() - HEADER) / CHUNK)
        .map(|k| {
            let mut one = log[..HEADER].to_vec();
            one.extend_from_slice(&log[HEADER + k * CHUNK..HEADER + (k + 1) * CHUNK]);
            std::fs::write(path, &one).unwrap();
            ids_read(rules, path)
        })
        .collect()
}

/// For random damage inside one chunk of each real log (bit flips, zeroed runs, the file cut
/// inside it, with the signature flipped too now and then), every record of every other chunk
/// (of every chunk before it, when the file was cut) is still read, by both readers.
#[test]
fn damage_inside_one_chunk_loses_no_record_of_another() {
    let rules = kmsdiag::Rules::embedded().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("damaged.evtx");
    let mut rng = Rng(0x00dd_c0ff_ee29);
    let logs = real_logs();
    // A few hundred cases in all, whatever the number of logs.
    let per_log = (240 / logs.len()).max(8);
    let mut cases = 0;
    for log in &logs {
        let original = window(&mut rng, &std::fs::read(log).unwrap());
        let by_chunk = ids_by_chunk(&rules, &original, &path);
        for _ in 0..per_log {
            let k = rng.below(by_chunk.len());
            let (bytes, cut) = damage(&mut rng, &original, k);
            std::fs::write(&path, &bytes).unwrap();
            let (got_all, got_selected) = ids_read(&rules, &path);
            // The records of the chunks the damage could not touch.
            let untouched = by_chunk
                .iter()
                .enumerate()
                .filter(|(j, _)| *j != k && !(cut && *j > k));
            for (j, (all, selected)) in untouched {
                for (reader, want, got) in [
                    ("evtx crate", all, &got_all),
                    ("pre-filter", selected, &got_selected),
                ] {
                    let missing: Vec<&u64> = want.difference(got).collect();
                    assert!(
                        missing.is_empty(),
                        "{}: damage in chunk {k} of the window (cut: {cut}) lost {} record(s) of chunk {j} ({reader}), first {:?}",
                        log.display(),
                        missing.len(),
                        missing.first()
                    );
                }
            }
            cases += 1;
        }
    }
    assert!(cases >= 200, "{cases}");
}
