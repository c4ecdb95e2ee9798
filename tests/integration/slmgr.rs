//! `kmsdiag analyze` and `kmsdiag slmgr` over the slmgr fixtures: every fixture's expected machines,
//! findings, exit status and encoding (testdata/slmgr/cases.toml), snapshots of what is read and
//! reported, and the behaviours around them.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::util::{kmsdiag, run, run_json};

const DIR: &str = "testdata/slmgr";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    encoding: Option<String>,
    now: String,
    exit: i32,
    machines: Vec<String>,
    findings: Vec<String>,
}

fn cases() -> Vec<Case> {
    crate::util::cases(DIR)
}

#[test]
fn every_fixture_has_a_case_and_every_case_a_fixture() {
    let files: BTreeSet<String> = std::fs::read_dir(DIR)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    let named: BTreeSet<String> = cases().into_iter().map(|c| c.file).collect();
    assert_eq!(files, named);
}

#[test]
fn every_fixture_gives_its_expected_verdicts_findings_and_exit_status() {
    let mut failures = Vec::new();
    for c in cases() {
        let path = format!("{DIR}/{}", c.file);
        let (code, out, err) = run(&["analyze", "--now", &c.now, "--format", "json", &path]);
        // A file nothing could read gives no report: its error is on stderr.
        if out.is_empty() {
            if code != 2 || c.exit != 2 || !err.contains("no readable input") {
                failures.push(format!("{}: exit {code} and no report: {err}", c.file));
            }
            continue;
        }
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        let machines: Vec<String> = r["machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                format!(
                    "{} {} {} {}",
                    m["name"].as_str().unwrap(),
                    m["verdict"].as_str().unwrap(),
                    m["role"].as_str().unwrap(),
                    m["license_status"].as_str().unwrap()
                )
            })
            .collect();
        let findings: BTreeSet<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                format!(
                    "{}/{}",
                    f["id"].as_str().unwrap(),
                    f["severity"].as_str().unwrap()
                )
            })
            .collect();
        let expected: BTreeSet<String> = c.findings.iter().cloned().collect();
        let encoding = r["inputs"][0]["encoding"].as_str().map(str::to_owned);
        if code != c.exit
            || machines != c.machines
            || findings != expected
            || encoding != c.encoding
        {
            failures.push(format!(
                "{}: exit {code} (want {}), machines {machines:?} (want {:?}), findings {findings:?} (want {expected:?}), encoding {encoding:?} (want {:?})",
                c.file, c.exit, c.machines, c.encoding
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn what_is_read_from_each_fixture_is_pinned() {
    for c in cases() {
        let path = format!("{DIR}/{}", c.file);
        let (_, out, _) = run(&["slmgr", "--format", "json", &path]);
        insta::assert_snapshot!(format!("slmgr-{}", c.file), out);
    }
}

#[test]
fn each_fixture_report_is_pinned() {
    for c in cases() {
        let path = format!("{DIR}/{}", c.file);
        let (_, out, _) = run(&["analyze", "--now", &c.now, "--format", "json", &path]);
        insta::assert_snapshot!(format!("report-{}", c.file), out);
    }
}

#[test]
fn text_report_reads_like_a_helpdesk_summary() {
    let (code, out, _) = run(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00",
        &format!("{DIR}/en-transcript-two-machines.txt"),
        &format!("{DIR}/en-win2012r2-kms-host-dlv.txt"),
    ]);
    assert_eq!(code, 1);
    insta::assert_snapshot!("report-text-two-machines-and-host", out);
}

#[test]
fn report_json_has_the_contract_fields() {
    let (_, r) = run_json(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00",
        "--format",
        "json",
        &format!("{DIR}/en-server2019-notification-utf16le.txt"),
    ]);
    assert_eq!(r["schema"], "kmsdiag.report/1");
    for key in ["inputs", "machines", "hosts", "findings"] {
        assert!(r[key].is_array(), "{key}");
    }
    let m = &r["machines"][0];
    for key in [
        "name",
        "role",
        "license_status",
        "channel",
        "verdict",
        "findings",
        "products",
    ] {
        assert!(!m[key].is_null(), "machine.{key}");
    }
    assert_eq!(m["channel"], "VOLUME_KMSCLIENT");
    let p = &m["products"][0];
    for key in ["name", "channel", "license_status", "partial_key"] {
        assert!(!p[key].is_null(), "product.{key}");
    }
    let f = &r["findings"][0];
    for key in [
        "id",
        "severity",
        "machines",
        "codes",
        "title",
        "explanation",
        "next_steps",
        "evidence",
    ] {
        assert!(!f[key].is_null(), "finding.{key}");
    }
    assert_eq!(f["codes"][0], "0xC004F00F");
    let e = &f["evidence"][0];
    assert_eq!(
        e["path"],
        format!("{DIR}/en-server2019-notification-utf16le.txt")
    );
    assert!(e["line"].is_u64() && e["excerpt"].is_string());
}

#[test]
fn a_directory_is_read_recursively_and_unknown_files_in_it_are_skipped() {
    let (code, r) = run_json(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00",
        "--format",
        "json",
        DIR,
    ]);
    assert_eq!(code, 1);
    let inputs = r["inputs"].as_array().unwrap();
    let skipped: Vec<&str> = inputs
        .iter()
        .filter(|i| i["status"] == "skipped")
        .map(|i| i["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        skipped,
        [format!("{DIR}/not-slmgr.txt"), format!("{DIR}/cases.toml")]
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect::<Vec<_>>()
    );
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["id"] != "input-unreadable")
    );
    let names: Vec<&str> = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    // A stable order: problems first (failing, warning, unknown, ok), then by name with numbers
    // compared as numbers.
    let rank = |v: &str| {
        ["failing", "warning", "unknown", "ok"]
            .iter()
            .position(|x| *x == v)
    };
    let natural = |n: &str| {
        let mut key = String::new();
        let mut digits = String::new();
        for c in n.to_lowercase().chars().chain(std::iter::once('\0')) {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            if !digits.is_empty() {
                key.push_str(&"0".repeat(20usize.saturating_sub(digits.len())));
                key.push_str(&digits);
                digits.clear();
            }
            key.push(c);
        }
        key
    };
    let keys: Vec<(Option<usize>, String)> = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                rank(m["verdict"].as_str().unwrap()),
                natural(m["name"].as_str().unwrap()),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "machines are in a stable order");
    assert_eq!(
        names.len(),
        cases().iter().map(|c| c.machines.len()).sum::<usize>()
    );
}

#[test]
fn unreadable_named_inputs_are_findings_and_the_rest_is_still_analyzed() {
    let (code, r) = run_json(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00",
        "--format",
        "json",
        "/nonexistent/kmsdiag/x.txt",
        &format!("{DIR}/en-mak-licensed-dli.txt"),
    ]);
    assert_eq!(code, 1, "an unreadable input is an error finding");
    assert_eq!(r["machines"].as_array().unwrap().len(), 1);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "input-unreadable")
        .unwrap();
    assert_eq!(f["evidence"][0]["path"], "/nonexistent/kmsdiag/x.txt");

    let (code, _, err) = run(&["analyze", "/nonexistent/kmsdiag/x.txt"]);
    assert_eq!(code, 2, "no readable input at all");
    assert!(err.contains("no readable input"), "{err}");
    let (code, _, err) = run(&["analyze", &format!("{DIR}/not-slmgr.txt")]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not-slmgr.txt: not a format kmsdiag reads"),
        "{err}"
    );
}

#[test]
fn fail_on_and_now_options() {
    let warning_only = format!("{DIR}/en-retail-initial-grace-dlv.txt");
    assert_eq!(run(&["analyze", "--now", "2025-07-05", &warning_only]).0, 0);
    assert_eq!(
        run(&[
            "analyze",
            "--now",
            "2025-07-05",
            "--fail-on",
            "warning",
            &warning_only
        ])
        .0,
        1
    );
    let failing = format!("{DIR}/en-unlicensed.txt");
    assert_eq!(run(&["analyze", "--fail-on", "never", &failing]).0, 0);
    let (code, _, err) = run(&["analyze", "--now", "yesterday", &failing]);
    assert_eq!(code, 2);
    assert!(err.contains("--now `yesterday` is not a time"), "{err}");
    // Without --now the newest trusted time in the input is "now".
    let (_, r) = run_json(&["analyze", "--format", "json", &failing]);
    assert_eq!(
        (r["now"].as_str(), r["now_source"].as_str()),
        (Some("2025-07-04T16:30:00"), Some("input"))
    );
    // The window moves the warning line.
    assert_eq!(
        run(&[
            "analyze",
            "--now",
            "2025-07-05",
            "--expiry-window",
            "10",
            "--fail-on",
            "warning",
            &warning_only
        ])
        .0,
        1
    );
}

#[test]
fn standard_input_is_read_with_dash() {
    let text = std::fs::read(format!("{DIR}/en-unlicensed.txt")).unwrap();
    let out = kmsdiag()
        .args(["slmgr", "--format", "json", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v[0]["path"], "<stdin>");
    assert_eq!(v[0]["products"][0]["license_status"], "unlicensed");
}

#[test]
fn labels_in_unknown_languages_are_recovered_from_values_and_listed() {
    let (_, v) = run_json(&[
        "slmgr",
        "--format",
        "json",
        &format!("{DIR}/ja-JP-kms-client-dlv-shiftjis.txt"),
    ]);
    let p = &v[0]["products"][0];
    assert_eq!(p["activation_id"], "73111121-5638-40f6-bc11-f1d7b0d64300");
    assert_eq!(p["channel"], "VOLUME_KMSCLIENT");
    assert_eq!(p["partial_product_key"], "2YT43");
    assert_eq!(p["notification_reason"], "0xC004F009");
    let nu = v[0]["not_understood"].as_array().unwrap();
    // Of its 10 lines only the license status has a published Japanese label (rules/slmgr.toml).
    assert_eq!(
        nu.len(),
        9,
        "every line but the license status is listed as not understood by its label"
    );
    assert!(
        nu.iter().all(|n| n["taken_as"].is_string()),
        "and each value was recognised"
    );
}

#[test]
fn the_slmgr_command_reports_files_that_are_not_slmgr_output() {
    let (code, out, err) = run(&[
        "slmgr",
        &format!("{DIR}/not-slmgr.txt"),
        &format!("{DIR}/en-mak-licensed-dli.txt"),
    ]);
    assert_eq!(code, 2);
    assert!(out.contains("Windows(R), Professional edition"), "{out}");
    assert!(err.contains("not-slmgr.txt: not slmgr output"), "{err}");
}

/// The findings `analyze` raises for `text` (written as `name` in a temporary folder).
fn findings_of(name: &str, text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let (_, r) = run_json(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00Z",
        "--format",
        "json",
        path.to_str().unwrap(),
    ]);
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn dns_auto_discovery_failing_on_an_unactivated_client_is_kms_dns_srv_missing() {
    let path = format!("{DIR}/en-win11-kms-client-dns-discovery-failed.txt");
    let text = std::fs::read_to_string(&path).unwrap();
    let (_, r) = run_json(&["analyze", "--now", "2025-07-05", "--format", "json", &path]);
    let f = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "kms-dns-srv-missing")
        .expect("kms-dns-srv-missing is raised");
    assert_eq!(
        f["evidence"][0]["excerpt"],
        "DNS auto-discovery: KMS name not available"
    );
    assert!(
        f["next_steps"].to_string().contains("_vlmcs._tcp"),
        "{}",
        f["next_steps"]
    );

    // The same line on a licensed client: it activated, nothing to say about discovery.
    let licensed = text.replace(
        "License Status: Initial grace period\r\nTime remaining: 28800 minute(s) (20 day(s))",
        "License Status: Licensed\r\nVolume activation expiration: 256320 minute(s) (178 day(s))",
    );
    assert_ne!(licensed, text);
    let ids = findings_of("licensed.txt", &licensed);
    assert!(!ids.iter().any(|i| i == "kms-dns-srv-missing"), "{ids:?}");

    // A host set by hand (/skms): discovery is not used.
    let manual = text.replace(
        "    DNS auto-discovery: KMS name not available\r\n",
        "    Registered KMS machine name: kms01.corp.contoso.com:1688\r\n    DNS auto-discovery: KMS name not available\r\n",
    );
    assert_ne!(manual, text);
    let ids = findings_of("manual.txt", &manual);
    assert!(!ids.iter().any(|i| i == "kms-dns-srv-missing"), "{ids:?}");
    assert!(ids.iter().any(|i| i == "grace-expiring"), "{ids:?}");
}
