//! The time flags read back every time kmsdiag writes: the JSON report's `now`, an evidence
//! `time` (RFC 3339 with `Z`), and the text report's `YYYY-MM-DD HH:MM`, fed to `--now`,
//! `--since` and `--until`, give an analysis (exit 0 or 1), never a usage error (2).

use crate::util::{run, run_json};

const FLEET: &str = "testdata/fleets/mixed";

/// The report's `now` and the first and last evidence times, as kmsdiag wrote them.
fn times_from_a_report() -> (String, String, String) {
    let (code, r) = run_json(&["analyze", "--format", "json", FLEET]);
    assert!(code == 0 || code == 1, "exit {code}");
    let now = r["now"].as_str().unwrap().to_owned();
    let times: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["evidence"].as_array().unwrap().iter())
        .filter_map(|e| e["time"].as_str().map(str::to_owned))
        .collect();
    assert!(!times.is_empty(), "no evidence time in the report");
    let first = times.iter().min().unwrap().clone();
    let last = times.iter().max().unwrap().clone();
    (now, first, last)
}

#[test]
fn the_json_reports_own_times_are_accepted_by_every_time_flag() {
    let (now, first, last) = times_from_a_report();
    assert!(last.ends_with('Z'), "{last}");
    for args in [
        vec!["--now", now.as_str()],
        vec!["--now", last.as_str()],
        vec!["--since", first.as_str()],
        vec!["--until", last.as_str()],
        vec![
            "--now",
            now.as_str(),
            "--since",
            first.as_str(),
            "--until",
            last.as_str(),
        ],
    ] {
        let mut full = vec!["analyze", "--format", "json"];
        full.extend_from_slice(&args);
        full.push(FLEET);
        let (code, out, err) = run(&full);
        assert!(code == 0 || code == 1, "{args:?}: exit {code}\n{err}");
        let r: serde_json::Value = serde_json::from_str(&out).unwrap();
        if args[0] == "--now" {
            // Read back as the same instant: the report's now is the flag's time.
            assert_eq!(
                r["now"].as_str().unwrap().trim_end_matches('Z'),
                args[1].trim_end_matches('Z'),
                "{args:?}"
            );
        }
    }
    // host-count takes --now too.
    let (code, _, err) = run(&["host-count", "--now", &last, FLEET]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn the_text_reports_times_and_offsets_are_accepted() {
    let (_, out, _) = run(&["analyze", FLEET]);
    let shown = out
        .split_whitespace()
        .collect::<Vec<_>>()
        .windows(2)
        .map(|w| format!("{} {}", w[0], w[1]))
        .find(|s| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").is_ok())
        .expect("the text report shows a time");
    for v in [
        shown.as_str(),
        "2026-10-14T10:12:00+02:00",
        "2026-10-14T03:12-0500",
    ] {
        let (code, _, err) = run(&["analyze", "--now", v, FLEET]);
        assert!(code == 0 || code == 1, "--now {v}: exit {code}\n{err}");
    }
    // An offset is converted to UTC.
    let (_, r) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--now",
        "2026-10-14T10:12:00+02:00",
        FLEET,
    ]);
    assert_eq!(r["now"].as_str().unwrap(), "2026-10-14T08:12:00");
}

#[test]
fn a_bad_time_is_a_usage_error_that_lists_the_forms() {
    let (code, _, err) = run(&["analyze", "--until", "14/10/2026", FLEET]);
    assert_eq!(code, 2);
    assert!(err.contains("--until `14/10/2026` is not a time"), "{err}");
    assert!(err.contains("2026-03-31T12:00:00.5Z"), "{err}");
}
