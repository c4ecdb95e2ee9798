//! The real pastes of `testdata/pastes/` (texts people posted while asking for help, with an
//! expert's reading of each in `EXPECT.tsv`) read as the expert reads them. The same check as
//! `../shared/tools/check-pastes.py`: license status, channel, codes and findings of the
//! `analyze` JSON report, and the events `kmsdiag events` decodes.

use std::collections::BTreeSet;

use crate::util::run;

const DIR: &str = "testdata/pastes";

/// Pastes kmsdiag does not read right yet, each with what it lacks. The test fails when one of
/// them starts passing too, so the list only shrinks.
const NOT_YET: &[(&str, &str)] = &[];

fn rows() -> Vec<std::collections::BTreeMap<String, String>> {
    let text = std::fs::read_to_string(format!("{DIR}/EXPECT.tsv")).unwrap();
    let mut lines = text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    lines
        .map(|l| {
            header
                .iter()
                .zip(l.split('\t'))
                .map(|(h, v)| ((*h).to_owned(), v.trim().to_owned()))
                .collect()
        })
        .collect()
}

fn list(v: Option<&String>) -> Vec<String> {
    match v.map(String::as_str) {
        None | Some("" | "-") => Vec::new(),
        Some(v) => v.split(',').map(|x| x.trim().to_owned()).collect(),
    }
}

/// `0x` + 1-8 hex digits, written as eight upper-case digits.
fn canon(code: &str) -> Option<String> {
    let hex = code
        .trim()
        .strip_prefix("0x")
        .or_else(|| code.trim().strip_prefix("0X"))?;
    u32::from_str_radix(hex, 16)
        .ok()
        .map(|v| format!("0x{v:08X}"))
}

fn codes_in(text: &str, into: &mut BTreeSet<String>) {
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices("0x") {
        let digits = bytes
            .get(i + 2..)
            .unwrap_or(&[])
            .iter()
            .take_while(|b| b.is_ascii_hexdigit())
            .count();
        if (1..=8).contains(&digits) {
            into.extend(text.get(i..i + 2 + digits).and_then(canon));
        }
    }
}

fn channel(c: &str) -> String {
    let c: String = c.split_whitespace().collect::<String>().to_uppercase();
    match c.as_str() {
        "VOLUME:GVLK" => "VOLUME_KMSCLIENT".into(),
        "VOLUME:MAK" => "VOLUME_MAK".into(),
        "OEM:DM" => "OEM_DM".into(),
        "OEM:SLP" => "OEM_SLP".into(),
        "OEM:NONSLP" => "OEM_NONSLP".into(),
        "RETAIL:TB:EVAL" => "TIMEBASED_EVAL".into(),
        _ => c,
    }
}

/// What is wrong with kmsdiag's reading of one paste; empty when it reads it right.
fn check(row: &std::collections::BTreeMap<String, String>) -> Vec<String> {
    let path = format!("{DIR}/{}", row["file"]);
    let (code, out, err) = run(&["analyze", &path, "--format", "json", "--fail-on", "never"]);
    assert!(code < 100, "{path}: crashed: {err}");
    // A paste nothing could read gives no report, only its error.
    if out.is_empty() {
        return vec![format!("no report (exit {code}): {}", err.trim())];
    }
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    let mut why = Vec::new();
    let (mut ids, mut errors) = (BTreeSet::new(), BTreeSet::new());
    let (mut statuses, mut channels, mut codes) =
        (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
    let empty = Vec::new();
    let mut findings: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .unwrap_or(&empty)
        .iter()
        .collect();
    for group in ["machines", "hosts"] {
        for m in report[group].as_array().unwrap_or(&empty) {
            findings.extend(m["findings"].as_array().unwrap_or(&empty));
            statuses.extend(m["license_status"].as_str().map(str::to_owned));
            for p in m["products"].as_array().unwrap_or(&empty) {
                statuses.extend(p["license_status"].as_str().map(str::to_owned));
                for k in ["channel", "product_key_channel"] {
                    channels.extend(p[k].as_str().map(channel));
                }
                codes.extend(p["notification_reason"].as_str().and_then(canon));
            }
        }
    }
    for f in findings {
        let id = f.as_str().or(f["id"].as_str()).unwrap_or("").to_owned();
        if matches!(f["severity"].as_str(), Some("error" | "critical")) {
            errors.insert(id.clone());
        }
        for c in f["codes"].as_array().unwrap_or(&empty) {
            codes.extend(c.as_str().and_then(canon));
        }
        ids.insert(id);
    }
    if ids.contains("input-unreadable") {
        why.push("input-unreadable raised".to_owned());
    }
    let name = &row["file"];
    let want_events = list(row.get("event_ids"));
    let mut events = BTreeSet::new();
    if !want_events.is_empty() || name.starts_with("event-") || name.starts_with("siem-") {
        let (_, out, _) = run(&["events", &path, "--format", "jsonl"]);
        for line in out.lines().filter(|l| !l.trim().is_empty()) {
            let e: serde_json::Value = serde_json::from_str(line).unwrap();
            events.extend(e["event_id"].as_u64().map(|i| i.to_string()));
            if let Some(fields) = e["fields"].as_object() {
                for v in fields.values() {
                    codes_in(&v.to_string(), &mut codes);
                }
            }
        }
    }
    let status = row["license_status_any_product"].to_lowercase();
    if status != "-" && !statuses.contains(&status) {
        why.push(format!(
            "license status {status} expected, got {statuses:?}"
        ));
    }
    let ch = &row["channel_any_product"];
    if ch != "-" && !channels.contains(&channel(ch)) {
        why.push(format!("channel {ch} expected, got {channels:?}"));
    }
    for c in list(row.get("codes")) {
        let c = canon(&c).unwrap_or(c);
        if !codes.contains(&c) {
            why.push(format!("code {c} not carried"));
        }
    }
    for f in list(row.get("findings")) {
        if f == "none" {
            if !errors.is_empty() {
                why.push(format!("healthy input but error finding(s) {errors:?}"));
            }
        } else if let Some(not) = f.strip_prefix('!') {
            if ids.contains(not) {
                why.push(format!("finding {not} must not be raised"));
            }
        } else if !ids.contains(&f) {
            why.push(format!("finding {f} missing"));
        }
    }
    for e in want_events {
        if !events.contains(&e) {
            why.push(format!("event {e} not decoded"));
        }
    }
    why
}

#[test]
fn every_real_paste_reads_as_the_expert_reads_it() {
    let rows = rows();
    assert!(rows.len() >= 34, "{} rows", rows.len());
    let mut wrong = Vec::new();
    let mut fixed = Vec::new();
    for row in &rows {
        let why = check(row);
        let known = NOT_YET.iter().any(|(f, _)| *f == row["file"]);
        match (why.is_empty(), known) {
            (false, false) => wrong.push(format!("{}: {}", row["file"], why.join("; "))),
            (true, true) => fixed.push(row["file"].clone()),
            _ => {}
        }
    }
    assert!(wrong.is_empty(), "pastes read wrong:\n{}", wrong.join("\n"));
    assert!(
        fixed.is_empty(),
        "read right now; take them off NOT_YET: {fixed:?}"
    );
}
