//! Machines as the field names them (issue 27): exports that carry no machine name, named by
//! their per-machine folder; short names and DNS names of one machine; a renamed machine that is
//! not a clone; a true clone pair that still is; snapshots of different years each judged at its
//! own time.

use std::collections::BTreeMap;

use crate::util::{run, run_json};

const IDENTITY: &str = "testdata/identity";

fn analyze(dir: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    let path = format!("{IDENTITY}/{dir}");
    let mut args = vec!["analyze", "--format", "json"];
    args.extend_from_slice(extra);
    args.push(&path);
    run_json(&args)
}

/// Each machine: (name source, verdict, findings).
fn machines(report: &serde_json::Value) -> BTreeMap<String, (String, String, Vec<String>)> {
    report["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            let findings = m["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap().to_owned())
                .collect();
            (
                m["name"].as_str().unwrap().to_owned(),
                (
                    m["name_source"].as_str().unwrap().to_owned(),
                    m["verdict"].as_str().unwrap().to_owned(),
                    findings,
                ),
            )
        })
        .collect()
}

fn finding_ids(report: &serde_json::Value) -> Vec<String> {
    report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn csv_exports_in_per_machine_folders_are_named_by_their_folder() {
    let (code, report) = analyze("csv-folders", &[]);
    assert_eq!(code, 0, "{report:#}");
    let m = machines(&report);
    let names: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(names, ["PC01", "PC02", "kms01"]);
    for (name, (source, verdict, findings)) in &m {
        assert_eq!(source, "folder", "{name}");
        assert_eq!(verdict, "ok", "{name}");
        assert!(findings.is_empty(), "{name}: {findings:?}");
    }
    let ids = finding_ids(&report);
    assert!(!ids.contains(&"duplicate-cmid".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"kms-host-unknown".to_owned()), "{ids:?}");
    // Every request was found in the host's log, which names the clients by their DNS names.
    for m in report["machines"].as_array().unwrap() {
        for a in m["attempts"].as_array().into_iter().flatten() {
            assert_eq!(a["host_seen"], "received", "{a}");
        }
    }
}

#[test]
fn a_log_named_export_without_a_folder_is_named_with_the_flag() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("Application.csv");
    std::fs::copy(
        format!("{IDENTITY}/csv-folders/PC01/Application.csv"),
        &file,
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let (_, plain) = run_json(&["analyze", "--format", "json", path]);
    // Taken from a folder that is no machine's: the temporary folder's name, said to be so.
    assert_eq!(plain["machines"][0]["name_source"], "folder");
    let (code, named) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--machine-name",
        "Application.csv=PC01",
        path,
    ]);
    assert_eq!(code, 0);
    assert_eq!(named["machines"][0]["name"], "PC01");
    assert_eq!(named["machines"][0]["name_source"], "flag");
    let (code, _, err) = run(&["analyze", "--machine-name", "PC01", path]);
    assert_eq!(code, 2, "not FILE=NAME: {err}");
}

#[test]
fn a_renamed_machine_is_one_machine_with_a_note_not_a_clone() {
    let (code, report) = analyze("renamed", &[]);
    let m = machines(&report);
    let names: Vec<&str> = m.keys().map(String::as_str).collect();
    assert_eq!(names, ["app01.corp.example.net", "kms01.corp.example.net"]);
    let (_, verdict, findings) = &m["app01.corp.example.net"];
    assert_eq!(verdict, "ok");
    assert_eq!(findings, &["machine-renamed"]);
    assert_eq!(finding_ids(&report), ["machine-renamed"]);
    let note = &report["findings"][0];
    assert_eq!(note["severity"], "info");
    assert!(
        note["explanation"]
            .as_str()
            .unwrap()
            .contains("EC2AMAZ-7Q3K9LD"),
        "{note}"
    );
    assert_eq!(code, 0, "an informational note fails nothing");
    // Its six requests, under both names, are one machine's, each found in the host's log.
    let attempts = report["machines"][0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 6);
    assert!(attempts.iter().all(|a| a["host_seen"] == "received"));
}

#[test]
fn a_true_clone_pair_still_shares_a_cmid_and_each_keeps_its_own_verdict() {
    let (code, report) = analyze("clone-pair", &[]);
    assert_eq!(code, 1);
    assert_eq!(finding_ids(&report), ["duplicate-cmid"]);
    let m = machines(&report);
    for clone in ["lab-a.corp.example.net", "lab-b.corp.example.net"] {
        let (_, verdict, findings) = &m[clone];
        assert_eq!(verdict, "ok", "{clone}: licensed and working, not FAILING");
        assert_eq!(findings, &["duplicate-cmid"]);
    }
    // The harm is the host's: it counts two machines as one.
    let (_, verdict, findings) = &m["kms01.corp.example.net"];
    assert_eq!(verdict, "warning");
    assert_eq!(findings, &["duplicate-cmid"]);
    assert!(
        report["findings"][0]["machines"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!("kms01.corp.example.net"))
    );
}

#[test]
fn short_names_dollar_and_dns_names_of_one_client_are_one_machine() {
    // The client's own log is an Event Viewer CSV in a folder named `PC01$`; the host names it
    // by its DNS name.
    let dir = tempfile::tempdir().unwrap();
    let pc = dir.path().join("PC01$");
    let kms = dir.path().join("kms01");
    std::fs::create_dir_all(&pc).unwrap();
    std::fs::create_dir_all(&kms).unwrap();
    std::fs::copy(
        format!("{IDENTITY}/csv-folders/PC01/Application.csv"),
        pc.join("Application.csv"),
    )
    .unwrap();
    std::fs::copy(
        format!("{IDENTITY}/csv-folders/kms01/Key Management Service.csv"),
        kms.join("Key Management Service.csv"),
    )
    .unwrap();
    let (_, report) = run_json(&["analyze", "--format", "json", dir.path().to_str().unwrap()]);
    let ids = finding_ids(&report);
    assert!(!ids.contains(&"duplicate-cmid".to_owned()), "{ids:?}");
    assert!(!ids.contains(&"kms-host-unknown".to_owned()), "{ids:?}");
}

#[test]
fn snapshots_of_different_years_each_get_the_verdict_they_get_alone() {
    let mut files: Vec<String> = std::fs::read_dir("testdata/slmgr")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "txt"))
        .map(|p| p.to_str().unwrap().to_owned())
        .collect();
    files.sort();
    let verdicts = |r: &serde_json::Value| -> BTreeMap<String, String> {
        machines(r)
            .into_iter()
            .map(|(n, (_, v, _))| (n, v))
            .collect()
    };
    let mut alone = BTreeMap::new();
    let mut years = std::collections::BTreeSet::new();
    for f in &files {
        let (code, out, _) = run(&["analyze", "--format", "json", f]);
        // A file nothing can read gives no report.
        if code == 2 && out.is_empty() {
            continue;
        }
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        // Only snapshots that carry their own time: the others are judged by the clock alone.
        if r["now_source"] != "input" {
            continue;
        }
        years.insert(r["now"].as_str().unwrap()[..4].to_owned());
        alone.extend(verdicts(&r));
    }
    assert!(years.len() >= 2, "fixtures of one year only: {years:?}");
    let mut args = vec!["analyze", "--format", "json"];
    args.extend(files.iter().map(String::as_str));
    let (_, batch) = run_json(&args);
    let together = verdicts(&batch);
    for (name, verdict) in &alone {
        assert_eq!(together.get(name), Some(verdict), "{name}");
    }
}
