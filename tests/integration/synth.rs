//! `kmsdiag synth`: the committed fleets are exactly what the generator makes from their
//! scenarios (so they cannot drift), output is deterministic per seed, the event XML carries the
//! same events as the .evtx, and both independent readers accept every committed log.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::run;

const SCENARIOS: &str = "testdata/scenarios";
const FLEETS: &str = "testdata/fleets";

fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    fn walk(root: &Path, d: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(SCENARIOS)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    v.sort();
    v
}

fn synth(scenario: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "synth",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    let (code, stdout, err) = run(&args);
    assert_eq!(code, 0, "{}: {err}", scenario.display());
    assert!(stdout.starts_with("wrote "), "{stdout}");
}

#[test]
fn committed_fleets_are_byte_identical_to_a_fresh_generation() {
    let list = scenarios();
    assert!(list.len() >= 11, "the issue's fleets are all there");
    for s in list {
        let name = s.file_stem().unwrap().to_string_lossy().into_owned();
        let dir = tempfile::tempdir().unwrap();
        synth(&s, dir.path(), &[]);
        let fresh = files(dir.path());
        let committed = files(&Path::new(FLEETS).join(&name));
        assert_eq!(
            fresh.keys().collect::<Vec<_>>(),
            committed.keys().collect::<Vec<_>>(),
            "{name}: the file list differs; regenerate with `kmsdiag synth {} --out {FLEETS}/{name}`",
            s.display()
        );
        for (k, v) in &fresh {
            assert!(
                committed[k] == *v,
                "{name}/{k} differs from a fresh generation; regenerate the fleet"
            );
        }
        assert!(fresh.contains_key("expected.json"));
    }
}

#[test]
fn the_seed_decides_the_bytes() {
    let s = Path::new(SCENARIOS).join("count-stuck.toml");
    let (a, b, c) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    synth(&s, a.path(), &["--seed", "42"]);
    synth(&s, b.path(), &["--seed", "42"]);
    synth(&s, c.path(), &["--seed", "43"]);
    assert_eq!(files(a.path()), files(b.path()));
    assert_ne!(files(a.path()), files(c.path()));
}

#[test]
fn scale_multiplies_the_fleet() {
    let s = Path::new(SCENARIOS).join("count-stuck.toml");
    let dir = tempfile::tempdir().unwrap();
    synth(&s, dir.path(), &["--scale", "3", "--noise-per-day", "0"]);
    let exp: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("expected.json")).unwrap()).unwrap();
    let host = exp["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["role"] == "kms-host")
        .unwrap();
    // 36 distinct machines seen: enough for client editions, so nobody is stuck any more.
    assert_eq!(host["host_count"], 36);
    assert!(host["findings"].as_array().unwrap().is_empty(), "{host}");
}

#[test]
fn event_xml_carries_the_same_events_as_the_evtx() {
    let s = Path::new(SCENARIOS).join("mixed.toml");
    let dir = tempfile::tempdir().unwrap();
    synth(&s, dir.path(), &["--also", "xml"]);
    let mut evtx = Vec::new();
    let mut xml = Vec::new();
    for (k, _) in files(dir.path()) {
        let p = dir.path().join(&k).to_string_lossy().into_owned();
        if k.ends_with(".evtx") {
            evtx.push(p);
        } else if k.ends_with(".xml") {
            xml.push(p);
        }
    }
    assert!(!evtx.is_empty() && evtx.len() == xml.len());
    let events = |paths: &[String]| {
        let mut args = vec!["events", "--all", "--format", "jsonl"];
        args.extend(paths.iter().map(String::as_str));
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{err}");
        let mut v: Vec<serde_json::Value> = out
            .lines()
            .map(|l| {
                let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
                v.as_object_mut().unwrap().remove("source");
                v
            })
            .collect();
        v.sort_by_key(std::string::ToString::to_string);
        v
    };
    let (a, b) = (events(&evtx), events(&xml));
    assert!(a.len() > 1000);
    assert_eq!(a, b);
}

#[test]
fn committed_logs_pass_both_readers() {
    let python = crate::evtx_writer::python_evtx();
    for (k, _) in files(Path::new(FLEETS)) {
        if !k.ends_with(".evtx") {
            continue;
        }
        let path = Path::new(FLEETS).join(&k);
        let mut parser = evtx::EvtxParser::from_path(&path)
            .unwrap()
            .with_configuration(
                evtx::ParserSettings::new()
                    .num_threads(1)
                    .validate_checksums(true),
            );
        let recs: Vec<_> = parser.records().collect();
        assert!(
            recs.iter().all(Result::is_ok),
            "{k}: a record the crate cannot read"
        );
        let n = recs.len();
        if let Some(py) = &python {
            let (header_ok, chunks_ok, _, _, recs) =
                crate::evtx_writer::read_with_python(py, &path);
            assert!(
                header_ok && chunks_ok,
                "{k}: python-evtx rejects a checksum"
            );
            assert_eq!(recs.len(), n, "{k}");
        }
    }
}

#[test]
fn bad_scenarios_are_refused_with_the_file_named() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("bad.toml");
    std::fs::write(&p, "start = \"2026-01-01T00:00:00Z\"\ndays = 0\n").unwrap();
    let (code, _, err) = run(&[
        "synth",
        p.to_str().unwrap(),
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("bad.toml") && err.contains("days"), "{err}");
}
