//! The acceptance test of the correlation: on every committed synth fleet, `kmsdiag analyze`
//! raises exactly the findings `expected.json` lists for each machine (no missing, no extra) and
//! gives the verdict they imply; on the healthy fleet nothing at all.

use std::collections::BTreeMap;
use std::path::Path;

use crate::util::{FLEETS, fleets, run_json};

fn analyze(fleet: &str) -> (i32, serde_json::Value, serde_json::Value) {
    let dir = Path::new(FLEETS).join(fleet);
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("expected.json")).unwrap()).unwrap();
    let now = expected["now"]
        .as_str()
        .unwrap()
        .trim_end_matches('Z')
        .to_owned();
    let (code, report) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--now",
        &now,
        dir.to_str().unwrap(),
    ]);
    (code, report, expected)
}

#[test]
fn every_fleet_gets_exactly_its_expected_findings() {
    let mut problems = Vec::new();
    for fleet in fleets() {
        let (_, report, expected) = analyze(&fleet);
        let got: BTreeMap<String, (String, Vec<String>)> = report["machines"]
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
                (
                    m["name"].as_str().unwrap().to_ascii_lowercase(),
                    (m["verdict"].as_str().unwrap().to_owned(), f),
                )
            })
            .collect();
        for m in expected["machines"].as_array().unwrap() {
            let name = m["name"].as_str().unwrap().to_ascii_lowercase();
            let want: Vec<String> = m["findings"]
                .as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_str().unwrap().to_owned())
                .collect();
            let want = (m["verdict"].as_str().unwrap().to_owned(), want);
            match got.get(&name) {
                Some(g) if *g == want => {}
                g => problems.push(format!("{fleet}/{name}: expected {want:?}, got {g:?}")),
            }
        }
        // Every machine analyzed is one the fleet collected logs of.
        for name in got.keys() {
            if !expected["machines"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m["name"].as_str().unwrap().eq_ignore_ascii_case(name))
            {
                problems.push(format!("{fleet}: a machine nobody collected: {name}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_healthy_fleet_raises_nothing() {
    let (code, report, _) = analyze("healthy");
    assert_eq!(code, 0);
    assert!(
        report["findings"].as_array().unwrap().is_empty(),
        "{}",
        report["findings"]
    );
    for m in report["machines"].as_array().unwrap() {
        assert_eq!(m["verdict"], "ok", "{m}");
    }
}

#[test]
fn findings_carry_the_events_that_prove_them() {
    let (code, report, _) = analyze("firewall");
    assert_eq!(code, 1);
    let f = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "kms-request-not-received")
        .unwrap();
    let ev = f["evidence"].as_array().unwrap();
    assert!(!ev.is_empty());
    for e in ev {
        assert!(
            e["path"].as_str().unwrap().ends_with("Application.evtx"),
            "{e}"
        );
        assert!(e["record_id"].as_u64().is_some(), "{e}");
        assert!(e["excerpt"].as_str().unwrap().starts_with("12288 "), "{e}");
    }
    assert!(
        f["explanation"]
            .as_str()
            .unwrap()
            .contains("kms01.contoso.com:1688")
    );
}

#[test]
fn an_evtx_and_its_xml_export_count_once() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = crate::util::run(&[
        "synth",
        "testdata/scenarios/response-lost.toml",
        "--out",
        dir.path().to_str().unwrap(),
        "--also",
        "xml",
    ]);
    assert_eq!(code, 0, "{err}");
    let (_, with_xml) = run_json(&["analyze", "--format", "json", dir.path().to_str().unwrap()]);
    let (_, evtx_only) = run_json(&[
        "analyze",
        "--format",
        "json",
        &format!("{FLEETS}/response-lost"),
    ]);
    let ids = |r: &serde_json::Value| -> Vec<(String, String)> {
        r["machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| (m["name"].to_string(), m["findings"].to_string()))
            .collect()
    };
    assert_eq!(ids(&with_xml), ids(&evtx_only));
}

#[test]
fn the_report_carries_attempts_inventory_and_the_count_timeline() {
    let (_, r, _) = analyze("mixed");
    let a = &r["attempts"];
    let total = a["total"].as_u64().unwrap();
    assert!(total > 0);
    assert_eq!(
        total,
        a["activated"].as_u64().unwrap()
            + a["rejected"].as_u64().unwrap()
            + a["no_response"].as_u64().unwrap()
    );
    // The branch behind the firewall: requests the host's (covering) log never saw.
    assert!(a["host_not_received"].as_u64().unwrap() > 0);
    // The host keeps 150 records, so the earliest requests fall before its log.
    assert!(a["host_not_covered"].as_u64().unwrap() > 0, "{a}");
    assert!(a["rejected_by_code"]["0xC004F06C"].as_u64().unwrap() > 0);
    let inv = r["kms_inventory"].as_array().unwrap();
    assert_eq!(inv.len(), 1);
    assert_eq!(inv[0]["server"], "kms01.contoso.com:1688");
    assert_eq!(inv[0]["logs_supplied"], true);
    let host = &r["hosts"][0];
    let timeline = host["count_timeline"].as_array().unwrap();
    assert!(timeline.len() >= 8, "{host}");
    assert!(
        timeline.iter().all(|d| d["partial"] == true),
        "a 10-day log is never a full window"
    );
    assert!(host["log_from"].as_str().unwrap() > "2026-10-05");
}

#[test]
fn machine_and_time_filters() {
    let d = format!("{FLEETS}/mixed");
    let (code, r) = run_json(&["analyze", "--format", "json", "--machine", "br1", &d]);
    assert_eq!(code, 1);
    let names: Vec<&str> = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["br1.contoso.com"]);
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["machines"][0] == "br1.contoso.com")
    );
    // Before the BIOS fault started (day 8), ws02 renewed fine.
    let (_, early) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--until",
        "2026-10-12",
        "--now",
        "2026-10-12",
        "--machine",
        "ws02.contoso.com",
        &d,
    ]);
    assert_eq!(
        early["machines"][0]["findings"].as_array().unwrap().len(),
        0,
        "{early}"
    );
    let (code, _, err) = crate::util::run(&["analyze", "--since", "not-a-date", &d]);
    assert_eq!(code, 2);
    assert!(err.contains("--since"), "{err}");
}

#[test]
fn host_count_prints_the_timeline() {
    let d = format!("{FLEETS}/count-stuck");
    let (code, out, err) = crate::util::run(&["host-count", &d]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("kms01.contoso.com: count 12 now"), "{out}");
    let (code, csv, _) = crate::util::run(&["host-count", "--format", "csv", &d]);
    assert_eq!(code, 0);
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("host,day,count,partial"));
    assert!(
        lines
            .last()
            .unwrap()
            .starts_with("kms01.contoso.com,2026-10-14,12,"),
        "{csv}"
    );
    let (code, v) = run_json(&["host-count", "--format", "json", &d]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["count_now"], 12);
    let (code, _, err) =
        crate::util::run(&["host-count", "testdata/slmgr/en-mak-licensed-dli.txt"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn the_report_is_the_same_on_any_number_of_threads() {
    for format in ["text", "json", "jsonl", "csv", "md", "html"] {
        let run = |threads: &str| {
            crate::util::run(&[
                "analyze",
                "--color",
                "never",
                "--format",
                format,
                "--threads",
                threads,
                FLEETS,
            ])
        };
        let (c1, one, _) = run("1");
        let (c4, four, _) = run("4");
        assert_eq!(c1, c4);
        assert!(one.len() > 10_000, "every fleet at once");
        assert!(one == four, "{format}: --threads 1 and 4 differ");
    }
}
