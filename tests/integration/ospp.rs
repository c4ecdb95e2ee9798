//! `kmsdiag analyze` on Office `ospp.vbs` output: the real pastes of `testdata/pastes/` whose
//! names start with `ospp-`, each checked against its row of `EXPECT.tsv` (the expert's reading:
//! a licence status and channel some product carries, the codes the diagnosis carries, findings
//! that must or must not be raised), and the other shapes of `testdata/ospp/`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::util::run_json;

const PASTES: &str = "testdata/pastes";

fn analyze(path: &str) -> Value {
    run_json(&[
        "analyze",
        path,
        "--format",
        "json",
        "--fail-on",
        "never",
        "--now",
        "2026-01-15",
    ])
    .1
}

/// (id, severity, codes) of every finding, top level and per machine.
fn findings(report: &Value) -> Vec<(String, String, Vec<String>)> {
    let list = |v: &Value| -> Vec<(String, String, Vec<String>)> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|f| {
                let id = f.get("id")?.as_str()?.to_owned();
                let sev = f
                    .get("severity")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned();
                let codes = f
                    .get("codes")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|c| c.as_str().map(str::to_owned))
                    .collect();
                Some((id, sev, codes))
            })
            .collect()
    };
    list(&report["findings"])
}

fn products(report: &Value) -> Vec<Value> {
    report["machines"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|m| m["products"].as_array().cloned().unwrap_or_default())
        .collect()
}

fn split(v: &str) -> Vec<&str> {
    if v == "-" || v.is_empty() {
        Vec::new()
    } else {
        v.split(',').map(str::trim).collect()
    }
}

#[test]
fn every_ospp_paste_reads_as_the_expert_reads_it() {
    let expect = std::fs::read_to_string(format!("{PASTES}/EXPECT.tsv")).unwrap();
    let mut header: Option<Vec<&str>> = None;
    let mut checked = 0;
    for line in expect
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let cols: Vec<&str> = line.split('\t').collect();
        let Some(h) = &header else {
            header = Some(cols);
            continue;
        };
        let get = |name: &str| {
            h.iter()
                .position(|c| *c == name)
                .and_then(|i| cols.get(i).copied())
                .unwrap_or("-")
        };
        let file = get("file");
        if !file.starts_with("ospp-") {
            continue;
        }
        checked += 1;
        let report = analyze(&format!("{PASTES}/{file}"));
        let inputs = report["inputs"].as_array().unwrap();
        assert!(
            inputs.iter().all(|i| i["format"] == "ospp"),
            "{file}: read by {inputs:?}"
        );
        let fs = findings(&report);
        let ids: BTreeSet<&str> = fs.iter().map(|f| f.0.as_str()).collect();
        let prods = products(&report);
        let status = get("license_status_any_product");
        if status != "-" {
            assert!(
                prods.iter().any(|p| p["license_status"] == status),
                "{file}: no product {status}: {prods:?}"
            );
        }
        let channel = get("channel_any_product");
        if channel != "-" {
            assert!(
                prods.iter().any(|p| p["channel"]
                    .as_str()
                    .is_some_and(|c| c.eq_ignore_ascii_case(channel))),
                "{file}: no product on {channel}: {prods:?}"
            );
        }
        for code in split(get("codes")) {
            let carried = fs.iter().any(|f| f.2.iter().any(|c| c == code))
                || prods.iter().any(|p| p["notification_reason"] == code);
            assert!(carried, "{file}: {code} not carried: {fs:?}");
        }
        for f in split(get("findings")) {
            match f.strip_prefix('!') {
                Some(not) => assert!(!ids.contains(not), "{file}: {not} raised"),
                None if f == "none" => assert!(
                    fs.iter().all(|x| x.1 != "error"),
                    "{file}: error finding on a healthy input: {fs:?}"
                ),
                None => assert!(ids.contains(f), "{file}: {f} missing: {ids:?}"),
            }
        }
        assert!(!ids.contains("input-unreadable"), "{file}");
    }
    assert_eq!(checked, 7, "the ospp pastes of EXPECT.tsv");
}

/// A product licensed or in a grace period with time left never raises an error.
#[test]
fn healthy_and_in_grace_office_raises_no_error() {
    for (file, status, verdict) in [
        ("dstatus-kms-licensed-zh-banner.txt", "licensed", "ok"),
        ("dstatusall-subscription-licensed.txt", "licensed", "ok"),
        ("otp-zh-licence-list-grace.txt", "initial-grace", "warning"),
    ] {
        let report = analyze(&format!("testdata/ospp/{file}"));
        let fs = findings(&report);
        assert!(fs.iter().all(|f| f.1 != "error"), "{file}: {fs:?}");
        assert!(
            !fs.iter().any(|f| f.0 == "unlicensed-rfm"),
            "{file}: {fs:?}"
        );
        let m = &report["machines"][0];
        assert_eq!(m["license_status"], status, "{file}");
        assert_eq!(m["verdict"], verdict, "{file}: {m}");
        assert!(
            products(&report).iter().all(|p| p["family"] == "office"),
            "{file}"
        );
    }
}

#[test]
fn an_activation_run_and_a_kms_history_are_read_as_attempts() {
    // One licence activated: the leftover grace licence's failure is a warning, no alarm.
    let report = analyze("testdata/ospp/act-grace-failed-kms-activated.txt");
    let fs = findings(&report);
    assert!(
        fs.iter()
            .any(|f| f.1 == "warning" && f.2.contains(&"0xC004F017".to_owned())),
        "{fs:?}"
    );
    assert!(fs.iter().all(|f| f.1 != "error"), "{fs:?}");
    // The newest attempt of the history failed: the KMS host cannot be reached.
    let report = analyze("testdata/ospp/dhistorykms-kms-unreachable.txt");
    let m = &report["machines"][0];
    assert_eq!(m["name"], "PC042");
    let fs = findings(&report);
    assert!(
        fs.iter()
            .any(|f| f.0 == "kms-unreachable" && f.1 == "error"),
        "{fs:?}"
    );
}
