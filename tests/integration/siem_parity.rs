//! SIEM parity (issue 26): one small synth fleet (`testdata/parity/siem-fleet.toml`: a host and
//! seven clients whose faults raise seven different findings) exported through every SIEM /
//! shipper shape `kmsdiag synth --export all` writes. `kmsdiag analyze` on each export alone
//! gives the findings of the fleet's `.evtx` alone (ids, machines, severities, verdicts, and the
//! evidence records), and each export with the fleet's `slmgr /dlv` snapshots gives exactly
//! `expected.json`. What a shape cannot carry is stated here, not faked: the Log Analytics
//! `Event` table has no record id, so its evidence names none.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::util::run_json;

const SCENARIO: &str = "testdata/parity/siem-fleet.toml";

/// Shapes without a record id column.
const NO_RECORD_IDS: &[&str] = &["sentinel-event-json.json", "sentinel-event-csv.csv"];

/// machine → (verdict, finding ids); finding (id, severity, machines) → evidence
/// (record id, time, excerpt).
type Machines = BTreeMap<String, (String, Vec<String>)>;
type Findings = BTreeMap<(String, String, Vec<String>), Vec<(Option<u64>, String, String)>>;

fn analyze(now: &str, paths: &[PathBuf], record_ids: bool) -> (Machines, Findings) {
    let mut args = vec!["analyze", "--format", "json", "--now", now];
    args.extend(paths.iter().map(|p| p.to_str().unwrap()));
    let (code, r) = run_json(&args);
    assert!(code == 0 || code == 1, "{paths:?}: exit {code}");
    for input in r["inputs"].as_array().unwrap() {
        assert_eq!(input["status"], "read", "{input}");
    }
    let machines = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let mut f: Vec<String> = m["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            f.sort();
            let name = m["name"].as_str().unwrap().to_ascii_lowercase();
            (name, (m["verdict"].as_str().unwrap().to_owned(), f))
        })
        .collect();
    let findings = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let mut on: Vec<String> = f["machines"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m.as_str().unwrap().to_ascii_lowercase())
                .collect();
            on.sort();
            let mut evidence: Vec<(Option<u64>, String, String)> = f["evidence"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| {
                    (
                        e["record_id"].as_u64().filter(|_| record_ids),
                        e["time"].as_str().unwrap_or_default().to_owned(),
                        e["excerpt"].as_str().unwrap_or_default().to_owned(),
                    )
                })
                .collect();
            evidence.sort();
            let key = (
                f["id"].as_str().unwrap().to_owned(),
                f["severity"].as_str().unwrap().to_owned(),
                on,
            );
            (key, evidence)
        })
        .collect();
    (machines, findings)
}

fn files(dir: &Path, pick: &dyn Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() && p.file_name().is_some_and(|n| n != "exports") {
            out.extend(files(&p, pick));
        } else if pick(&p) {
            out.push(p);
        }
    }
    out.sort();
    out
}

#[test]
fn every_siem_export_gives_the_findings_of_the_evtx() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = crate::util::run(&[
        "synth",
        SCENARIO,
        "--out",
        dir.path().to_str().unwrap(),
        "--export",
        "all",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("wrote "), "{out}");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("expected.json")).unwrap()).unwrap();
    let now = expected["now"].as_str().unwrap().trim_end_matches('Z');
    let want: Machines = expected["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let f = m["findings"].as_array().unwrap();
            let f = f.iter().map(|x| x.as_str().unwrap().to_owned()).collect();
            let name = m["name"].as_str().unwrap().to_ascii_lowercase();
            (name, (m["verdict"].as_str().unwrap().to_owned(), f))
        })
        .collect();
    let ext = |e: &'static str| move |p: &Path| p.extension().is_some_and(|x| x == e);
    let evtx = files(dir.path(), &ext("evtx"));
    let slmgr = files(dir.path(), &ext("txt"));
    let (evtx_machines, evtx_findings) = analyze(now, &evtx, true);
    // The fleet raises what it was built to, so parity means something.
    let ids: std::collections::BTreeSet<&str> =
        evtx_findings.keys().map(|(id, _, _)| id.as_str()).collect();
    assert!(ids.len() >= 7, "{ids:?}");
    let with_slmgr = [evtx.clone(), slmgr.clone()].concat();
    assert_eq!(analyze(now, &with_slmgr, true).0, want, "the .evtx");

    let mut exports = files(&dir.path().join("exports"), &|_| true);
    assert_eq!(exports.len(), 16, "{exports:?}");
    let mut problems = Vec::new();
    // The evidence without record ids, in the order `analyze` sorts it by.
    let strip = |f: &Findings| -> Findings {
        f.iter()
            .map(|(k, v)| {
                let mut v: Vec<_> = v.iter().map(|e| (None, e.1.clone(), e.2.clone())).collect();
                v.sort();
                (k.clone(), v)
            })
            .collect()
    };
    for export in exports.drain(..) {
        let name = export.file_name().unwrap().to_string_lossy().into_owned();
        let record_ids = !NO_RECORD_IDS.contains(&name.as_str());
        let (machines, findings) = analyze(now, std::slice::from_ref(&export), record_ids);
        let base = if record_ids {
            evtx_findings.clone()
        } else {
            strip(&evtx_findings)
        };
        if machines != evtx_machines {
            problems.push(format!(
                "{name}: machines {machines:?}\n  .evtx: {evtx_machines:?}"
            ));
        }
        for key in findings.keys().chain(base.keys()) {
            let (got, evtx) = (findings.get(key), base.get(key));
            if got != evtx {
                problems.push(format!("{name}: {key:?}: {got:?}\n  .evtx: {evtx:?}"));
            }
        }
        let mut paths = vec![export.clone()];
        paths.extend(slmgr.iter().cloned());
        let (machines, _) = analyze(now, &paths, record_ids);
        if machines != want {
            problems.push(format!(
                "{name} + slmgr: {machines:?}\n  expected.json: {want:?}"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn no_export_is_written_unless_asked_and_unknown_shapes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (code, _, err) = crate::util::run(&["synth", SCENARIO, "--out", out]);
    assert_eq!(code, 0, "{err}");
    assert!(!dir.path().join("exports").exists());
    let (code, _, err) = crate::util::run(&[
        "synth",
        SCENARIO,
        "--out",
        out,
        "--export",
        "ecs,splunk-xml",
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("splunk-xml") && err.contains("splunk-json"),
        "{err}"
    );
    let (code, _, err) =
        crate::util::run(&["synth", SCENARIO, "--out", out, "--export", "gelf,ECS"]);
    assert_eq!(code, 0, "{err}");
    let mut got: Vec<String> = std::fs::read_dir(dir.path().join("exports"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    got.sort();
    assert_eq!(got, ["ecs.ndjson", "gelf.ndjson"]);
}
