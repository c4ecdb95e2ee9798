//! Damaged and hostile inputs (testdata/hostile/, outcomes in its cases.toml): each is analyzed
//! to the outcome written down for it, no report carries a raw control character, and inputs
//! too large to commit are generated here and must finish within a memory bound that the
//! process measures itself (`KMSDIAG_PEAK_MEMORY`).

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::util::{kmsdiag, run};

const DIR: &str = "testdata/hostile";
const NOW: &str = "2026-10-21";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    file: String,
    why: String,
    exit: i32,
    status: Option<String>,
    statuses: Option<BTreeMap<String, String>>,
    attempts: u64,
    findings: Vec<String>,
    warning: Option<String>,
}

fn cases() -> Vec<Case> {
    crate::util::cases(DIR)
}

#[test]
fn every_hostile_file_has_its_outcome() {
    let cases = cases();
    let mut problems = Vec::new();
    for c in &cases {
        let path = format!("{DIR}/{}", c.file);
        let (code, out, err) = run(&["analyze", "--format", "json", "--now", NOW, &path]);
        // A run that reads nothing writes no report: only its error and the input's, on stderr.
        if out.is_empty() {
            let mut say = |what: String| problems.push(format!("{} ({}): {what}", c.file, c.why));
            if code != 2 || c.exit != 2 || c.status.as_deref() != Some("unreadable") {
                say(format!("exit {code} without a report; stderr: {err}"));
            }
            if !err.contains("no readable input") {
                say(format!("stderr does not say why: {err}"));
            }
            if let Some(w) = c.warning.as_deref().filter(|w| !err.contains(*w)) {
                say(format!("stderr does not say {w:?}: {err}"));
            }
            continue;
        }
        let r: serde_json::Value = serde_json::from_str(&out)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}); stderr: {err}", c.file));
        let mut say = |what: String| problems.push(format!("{} ({}): {what}", c.file, c.why));
        if code != c.exit {
            say(format!("exit {code}, expected {}", c.exit));
        }
        let inputs = r["inputs"].as_array().unwrap();
        let got: BTreeMap<String, String> = inputs
            .iter()
            .map(|i| {
                let p = i["path"].as_str().unwrap();
                let entry = p.split_once('!').map_or("", |(_, e)| e);
                (entry.to_owned(), i["status"].as_str().unwrap().to_owned())
            })
            .collect();
        let want = match (&c.status, &c.statuses) {
            (Some(s), None) => BTreeMap::from([(String::new(), s.clone())]),
            (None, Some(m)) => m.clone(),
            _ => panic!("{}: give status or statuses", c.file),
        };
        if got != want {
            say(format!("statuses {got:?}, expected {want:?}"));
        }
        let attempts = r["attempts"]["total"].as_u64().unwrap_or(0);
        if attempts != c.attempts {
            say(format!("{attempts} attempts, expected {}", c.attempts));
        }
        let mut ids: Vec<String> = r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_owned())
            .collect();
        ids.sort();
        ids.dedup();
        if ids != c.findings {
            say(format!("findings {ids:?}, expected {:?}", c.findings));
        }
        if let Some(w) = &c.warning {
            let said = inputs.iter().any(|i| {
                i["warnings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .chain(std::iter::once(&i["error"]))
                    .any(|x| x.as_str().is_some_and(|x| x.contains(w.as_str())))
            });
            if !said {
                say(format!("no warning or error says {w:?}"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Every file in the folder has a case (the generator and the scenario are sources).
    let mut files: Vec<String> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !matches!(n.as_str(), "make.py" | "base.toml" | "cases.toml"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = cases.iter().map(|c| c.file.clone()).collect();
    listed.sort();
    assert_eq!(
        files, listed,
        "every file in testdata/hostile/ needs a case"
    );
}

#[test]
fn no_report_of_a_hostile_file_carries_a_raw_control_character() {
    for c in cases() {
        let path = format!("{DIR}/{}", c.file);
        for format in ["text", "json", "jsonl", "csv", "md", "html"] {
            let out = kmsdiag()
                .args([
                    "analyze", "--now", NOW, "--color", "never", "--format", format, &path,
                ])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(c.exit), "{} {format}", c.file);
            let text = String::from_utf8(out.stdout).unwrap();
            let bad = text.chars().find(|ch| {
                (ch.is_control() && !matches!(ch, '\n' | '\r' | '\t'))
                    || matches!(ch, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
            });
            assert!(
                bad.is_none(),
                "{} {format}: raw {bad:?} in the report",
                c.file
            );
            if format == "csv" {
                let mut rows = csv::Reader::from_reader(text.as_bytes());
                for row in rows.records() {
                    for cell in &row.unwrap() {
                        assert!(
                            !cell.trim_start().starts_with(['=', '+', '-', '@']),
                            "{}: formula-like CSV cell {cell:?}",
                            c.file
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn commas_in_a_logged_client_name_do_not_shift_the_fields() {
    let (code, out, err) = run(&[
        "events",
        "--format",
        "json",
        &format!("{DIR}/xml-comma-in-client-name.xml"),
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let fields = &v["events"][0]["fields"];
    assert_eq!(fields["client_name"], "evil,name,with,commas", "{fields}");
    assert_eq!(fields["cmid"], "11111111-2222-4333-8444-555555555555");
    assert_eq!(fields["license_status"], 1);
}

/// Runs `kmsdiag analyze` on `path` and returns (exit, stderr, peak memory in KiB).
fn analyze_measured(path: &Path) -> (i32, String, u64) {
    let out = kmsdiag()
        .env("KMSDIAG_PEAK_MEMORY", "1")
        .args(["analyze", "--format", "json", "--now", NOW])
        .arg(path)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let kib = err
        .lines()
        .find_map(|l| l.strip_prefix("note: peak memory: "))
        .and_then(|v| v.trim_end_matches(" kB").trim().parse().ok())
        .unwrap_or(0);
    (out.status.code().unwrap_or(-1), err, kib)
}

const INFO: &str = "0xC004F074, 0x0, kms01.contoso.com:1688, 99999999-2222-4333-8444-555555555555, 2026/10/11 08:00, 0, 2, 43200, 73111121-5638-40f6-bc11-f1d7b0d64300, 25";

fn event(rid: u32, data: &str) -> String {
    format!(
        r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-SPP"/><EventID Qualifiers="16384">12288</EventID><TimeCreated SystemTime="2026-10-11T08:00:00Z"/><EventRecordID>{rid}</EventRecordID><Channel>Application</Channel><Computer>pc-big</Computer></System><EventData><Data>{data}</Data></EventData></Event>"#
    )
}

#[test]
fn a_60_mb_text_node_is_read_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big-node.xml");
    let mut xml = String::with_capacity(61 << 20);
    xml.push_str("<Events>");
    xml.push_str(&event(1, INFO));
    xml.push_str(&event(2, &"A".repeat(60 << 20)));
    xml.push_str(&event(3, INFO));
    xml.push_str("</Events>\n");
    std::fs::write(&path, &xml).unwrap();
    drop(xml);
    let (code, err, kib) = analyze_measured(&path);
    assert!(code == 0 || code == 1, "{code}: {err}");
    assert!(kib > 0, "no peak memory reported: {err}");
    // The file is held once as bytes and once as text while it is read; never many copies.
    assert!(kib < 600 * 1024, "peak {kib} KiB for a 60 MB input");
}

#[test]
fn a_3_gb_single_line_is_refused_without_reading_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("huge-line.txt");
    // Sparse: takes no disk space.
    let f = std::fs::File::create(&path).unwrap();
    f.set_len(3 << 30).unwrap();
    drop(f);
    let (code, err, kib) = analyze_measured(&path);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("larger than"), "{err}");
    assert!(kib < 200 * 1024, "peak {kib} KiB");
}

#[test]
fn many_events_cost_memory_by_event_not_by_quadratic_work() {
    // 20,000 activation events in one XML file: finishes (no quadratic join) and stays bounded.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("many.xml");
    let mut xml = String::from("<Events>");
    for i in 0..20_000u32 {
        let minutes = i * 7;
        let (d, h, m) = (1 + minutes / 1440 % 28, minutes / 60 % 24, minutes % 60);
        let info = INFO.replace("2026/10/11 08:00", &format!("2026/10/{d:02} {h:02}:{m:02}"));
        xml.push_str(&event(i + 1, &info).replace(
            "2026-10-11T08:00:00Z",
            &format!("2026-10-{d:02}T{h:02}:{m:02}:00Z"),
        ));
    }
    xml.push_str("</Events>\n");
    std::fs::write(&path, &xml).unwrap();
    let (code, err, kib) = analyze_measured(&path);
    assert!(code == 0 || code == 1, "{code}: {err}");
    assert!(kib < 400 * 1024, "peak {kib} KiB for 20,000 events");
}
