//! SIEM, shipper and telemetry exports (`testdata/events/siem/`): every shape the field-alias
//! table names decodes to the same activation events and raises the same finding, the report
//! says which shape and aliases supplied the values, and the two real exports are read.

use crate::util::{run, run_json};

const DIR: &str = "testdata/events/siem";

/// Each fixture, the shape the report must name, and whether its records carry record ids.
const SHAPES: &[(&str, &str, bool)] = &[
    ("splunk-export.json", "Splunk export", true),
    ("splunk-export.csv", "Splunk export", true),
    ("sentinel-event.csv", "Log Analytics Event table", false),
    ("kibana-ecs.csv", "Elastic winlogbeat", true),
    (
        "splunk-classic.json",
        "Splunk WinEventLog key=value event",
        true,
    ),
    (
        "splunk-classic-raw.txt",
        "Splunk WinEventLog key=value event",
        true,
    ),
    ("sentinel-event.json", "Log Analytics Event table", false),
    (
        "sentinel-windowsevent.json",
        "Sentinel WindowsEvent table",
        true,
    ),
    ("elastic-ecs.ndjson", "Elastic winlogbeat", true),
    (
        "wazuh-alerts.json",
        "Wazuh / OpenSearch alert document",
        true,
    ),
    ("gelf.ndjson", "Graylog GELF message", true),
    (
        "graylog-winlogbeat.json",
        "Graylog Sidecar winlogbeat",
        true,
    ),
    ("nxlog.ndjson", "NXLog im_msvistalog", true),
    ("openwec.ndjson", "OpenWEC json", true),
    ("fluent-bit-winevtlog.ndjson", "Fluent Bit winevtlog", true),
    ("fluent-bit-winlog.ndjson", "Fluent Bit winlog", true),
    ("get-eventlog-convertto-json.json", "Get-EventLog", true),
    ("win32-ntlogevent.json", "Win32_NTLogEvent", true),
];

/// The format the input summary names for a fixture.
fn format_of(file: &str) -> &'static str {
    if file.ends_with(".csv") {
        "csv"
    } else if file.ends_with(".txt") {
        "key-value-text"
    } else {
        "json"
    }
}

/// The decoded events of a file: id, machine, time, record id, decoded fields.
fn decoded(path: &str) -> Vec<String> {
    let (code, out, err) = run(&["events", "--format", "jsonl", path]);
    assert_eq!(code, 0, "{path}: {err}");
    out.lines()
        .map(|l| {
            let e: serde_json::Value = serde_json::from_str(l).unwrap();
            assert_eq!(e["source"]["format"], format_of(path), "{path}");
            format!(
                "{} {} {} {} {} {}",
                e["event_id"], e["machine"], e["provider"], e["time"], e["record_id"], e["fields"]
            )
        })
        .collect()
}

#[test]
fn every_shape_decodes_the_same_events() {
    let reference = decoded(&format!("{DIR}/openwec.ndjson"));
    assert_eq!(reference.len(), 4, "{reference:#?}");
    assert!(
        reference[0].starts_with("12288 \"PC01.contoso.com\""),
        "{reference:#?}"
    );
    assert!(
        reference[0].contains("\"result\":\"0xC004F074\""),
        "{reference:#?}"
    );
    assert!(
        reference[1].contains("\"result\":\"0xC004F074\""),
        "{reference:#?}"
    );
    assert!(
        reference[2].contains("\"reason\":\"RulesEngine\""),
        "{reference:#?}"
    );
    for (file, _, record_ids) in SHAPES {
        let mut got = decoded(&format!("{DIR}/{file}"));
        if !record_ids {
            let expected: Vec<String> = reference
                .iter()
                .map(|r| r.replace(" 4711 ", " null ").replace(" 4712 ", " null "))
                .map(|r| r.replace(" 4713 ", " null ").replace(" 4714 ", " null "))
                .collect();
            assert_eq!(got, expected, "{file}");
            continue;
        }
        // The GELF host and the Event XML agree on the machine; nothing else may differ.
        got.sort();
        let mut want = reference.clone();
        want.sort();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn every_shape_raises_the_finding_and_names_its_aliases() {
    for (file, shape, _) in SHAPES {
        let path = format!("{DIR}/{file}");
        let (code, r) = run_json(&[
            "analyze",
            "--format",
            "json",
            "--now",
            "2025-07-02T00:00",
            &path,
        ]);
        assert_eq!(code, 1, "{file}: failing machines exit 1");
        let ids: Vec<&str> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert!(ids.contains(&"kms-unreachable"), "{file}: {ids:?}");
        assert!(!ids.contains(&"input-unreadable"), "{file}: {ids:?}");
        let input = &r["inputs"][0];
        assert_eq!(input["format"], format_of(file), "{file}");
        assert_eq!(input["status"], "read", "{file}");
        let warnings = input["warnings"].to_string();
        assert!(warnings.contains(shape), "{file}: {warnings}");
        assert!(
            warnings.contains("event id from `") || warnings.contains("whole event from `"),
            "{file}: {warnings}"
        );
    }
}

#[test]
fn the_real_exports_are_read() {
    for (file, ids, shape) in [
        ("virtualclient-siem-001.json", &[16384][..], "VirtualClient"),
        (
            "harfanglab-siem-003.json",
            &[16384, 16394][..],
            "HarfangLab",
        ),
    ] {
        let path = format!("{DIR}/{file}");
        let (code, out, err) = run(&["events", "--format", "jsonl", &path]);
        assert_eq!(code, 0, "{file}: {err}");
        let mut got: Vec<u64> = out
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["event_id"]
                    .as_u64()
                    .unwrap()
            })
            .collect();
        got.sort_unstable();
        assert_eq!(got, ids, "{file}");
        let (code, r) = run_json(&["analyze", "--format", "json", &path]);
        assert_eq!(code, 0, "{file}: benign");
        let errors: Vec<&serde_json::Value> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["severity"] == "error")
            .collect();
        assert!(errors.is_empty(), "{file}: {errors:?}");
        assert_eq!(r["inputs"][0]["status"], "read", "{file}");
        assert!(
            r["inputs"][0]["warnings"].to_string().contains(shape),
            "{file}"
        );
    }
    // The restart schedule's payload came from the `event data` object's param1/param2.
    let (_, out, _) = run(&[
        "events",
        "--format",
        "jsonl",
        &format!("{DIR}/harfanglab-siem-003.json"),
    ]);
    assert!(
        out.contains("\"restart_at\":\"2022-11-12T06:42:29Z\""),
        "{out}"
    );
    assert!(out.contains("\"reason\":\"RulesEngine\""), "{out}");
}

/// A large NDJSON export is read record by record: many lines, each with its own line number;
/// metadata lines are passed over and a broken line is counted, not fatal.
#[test]
fn ndjson_is_read_line_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.json");
    let one = std::fs::read_to_string(format!("{DIR}/elastic-ecs.ndjson")).unwrap();
    let first = one.lines().next().unwrap();
    let mut text = String::from("{\"messages\":[{\"type\":\"INFO\",\"text\":\"export\"}]}\n");
    for _ in 0..2000 {
        text.push_str(first);
        text.push('\n');
    }
    text.push_str("{\"@timestamp\":\n");
    std::fs::write(&path, &text).unwrap();
    let (code, out, err) = run(&["events", "--format", "jsonl", path.to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    let lines: Vec<serde_json::Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2000);
    assert_eq!(lines[0]["source"]["line"], 2);
    assert_eq!(lines[1999]["source"]["line"], 2001);
    assert!(err.contains("2000 record(s)"), "{err}");
}

#[test]
fn every_siem_fixture_is_pinned() {
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|f| !f.ends_with(".py") && !f.ends_with(".tsv"))
        .collect();
    files.sort();
    for f in files {
        let (_, out, _) = run(&["events", "--format", "jsonl", &format!("{DIR}/{f}")]);
        insta::assert_snapshot!(format!("siem-{f}"), out);
    }
}
