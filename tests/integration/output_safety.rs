//! Output safety across every subcommand and format (issue 29, items 3, 4, 6 and 7): a hostile
//! Computer name is neutralised everywhere it is shown, JSON escapes C1 controls and line
//! separators, a closed pipe ends quietly with the run's own status, and a failed run leaves the
//! previous `-o` report untouched.

use std::io::Read;
use std::path::Path;
use std::process::Stdio;

use crate::util::kmsdiag;

/// A machine name that tries everything: a formula start, an OSC title (ESC ] 0 ; … BEL), a
/// screen clear (ESC [2J), a C1 CSI (U+009B), NEL (U+0085), a right-to-left override (U+202E)
/// and the line and paragraph separators (U+2028, U+2029).
const NAME: &str =
    "=pc\u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}31m\u{85}nel\u{202E}rlo\u{2028}ls\u{2029}ps\u{7f}";

/// A host name with a C1 CSI and NEL of its own.
const HOST: &str = "kms\u{9b}2J\u{85}host";

fn event(id: u32, rid: u32, computer: &str, data: &str) -> String {
    format!(
        r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-SPP"/><EventID Qualifiers="16384">{id}</EventID><TimeCreated SystemTime="2026-10-11T08:00:00Z"/><EventRecordID>{rid}</EventRecordID><Channel>Application</Channel><Computer>{computer}</Computer></System><EventData><Data>{data}</Data></EventData></Event>"#
    )
}

/// Event XML with a client request from [`NAME`] to [`HOST`] and the host's record of it.
fn hostile_xml(dir: &Path) -> String {
    let path = dir.join("hostile-names.xml");
    let cmid = "99999999-2222-4333-8444-555555555555";
    let sku = "73111121-5638-40f6-bc11-f1d7b0d64300";
    let xml = format!(
        "<Events>{}{}</Events>\n",
        event(
            12288,
            1,
            NAME,
            &format!(
                "0xC004F074, 0x0, {HOST}:1688, {cmid}, 2026/10/11 08:00, 0, 2, 43200, {sku}, 25"
            )
        ),
        event(
            12290,
            2,
            HOST,
            &format!("0x0,25,{NAME},{cmid},2026/10/11 8:00,0,2,43200,{sku}")
        ),
    );
    std::fs::write(&path, xml).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The first character that would act on a terminal or split a line-based reader.
fn raw_hidden(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
            || matches!(
                c,
                '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{2028}' | '\u{2029}'
            )
    })
}

/// Whether some string in `v` contains `needle`.
fn holds(v: &serde_json::Value, needle: &str) -> bool {
    match v {
        serde_json::Value::String(s) => s.contains(needle),
        serde_json::Value::Array(a) => a.iter().any(|x| holds(x, needle)),
        serde_json::Value::Object(o) => o.values().any(|x| holds(x, needle)),
        _ => false,
    }
}

fn stdout_of(args: &[&str]) -> (i32, String) {
    let out = kmsdiag().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn a_hostile_computer_name_is_neutralised_by_every_subcommand_and_format() {
    let dir = tempfile::tempdir().unwrap();
    let path = hostile_xml(dir.path());
    let mut runs: Vec<(String, Vec<&str>)> = Vec::new();
    for f in ["text", "json", "jsonl", "csv"] {
        runs.push((f.to_owned(), vec!["events", "--format", f, &path]));
    }
    for f in ["text", "json", "jsonl", "csv", "md", "html"] {
        runs.push((
            f.to_owned(),
            vec!["analyze", "--now", "2026-10-12", "--format", f, "-v", &path],
        ));
    }
    for f in ["text", "csv", "json"] {
        runs.push((f.to_owned(), vec!["host-count", "--format", f, &path]));
    }
    for (format, args) in &runs {
        let (code, out) = stdout_of(args);
        assert!(code < 2, "{args:?}: exit {code}");
        let what = format!("{} {format}", args[0]);
        assert!(
            raw_hidden(&out).is_none(),
            "{what}: raw {:?} in {out:?}",
            raw_hidden(&out)
        );
        match format.as_str() {
            "json" => {
                let v: serde_json::Value = serde_json::from_str(&out).unwrap();
                assert!(
                    holds(&v, NAME) || holds(&v, HOST),
                    "{what}: the name reads back"
                );
                assert!(out.contains("\\u009b") && out.contains("\\u0085"), "{what}");
            }
            "jsonl" => {
                for line in out.lines() {
                    let _: serde_json::Value = serde_json::from_str(line).unwrap();
                }
            }
            "csv" => {
                let mut rows = csv::Reader::from_reader(out.as_bytes());
                for row in rows.records() {
                    for cell in &row.unwrap() {
                        assert!(
                            !cell.trim_start().starts_with(['=', '+', '@']),
                            "{what}: formula-like cell {cell:?}"
                        );
                    }
                }
                assert!(out.contains("\\u{9b}"), "{what}: {out}");
            }
            _ => {}
        }
    }
}

/// Many events from many machines: output beyond a pipe's buffer (64 KiB) in every format.
fn big_xml(dir: &Path) -> String {
    let path = dir.join("many.xml");
    let mut xml = String::from("<Events>");
    for i in 0..300 {
        xml.push_str(&event(
            12288,
            i,
            &format!("pc-{i:04}.contoso.example"),
            "0xC004F074, 0x0, kms01.contoso.com:1688, 99999999-2222-4333-8444-555555555555, 2026/10/11 08:00, 0, 2, 43200, 73111121-5638-40f6-bc11-f1d7b0d64300, 25",
        ));
    }
    xml.push_str("</Events>\n");
    std::fs::write(&path, xml).unwrap();
    path.to_str().unwrap().to_owned()
}

/// Runs kmsdiag, reads a few bytes of its output and closes the pipe; returns (exit, stderr).
fn closed_early(args: &[&str]) -> (i32, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("kmsdiag"))
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = child.stdout.take().unwrap();
    let mut first = [0u8; 64];
    stdout.read_exact(&mut first).unwrap();
    drop(stdout);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_pipe_ends_quietly_with_the_runs_own_status() {
    let dir = tempfile::tempdir().unwrap();
    let path = big_xml(dir.path());
    let mut runs: Vec<Vec<&str>> = Vec::new();
    for f in ["text", "json", "jsonl", "csv"] {
        runs.push(vec!["events", "--format", f, &path]);
    }
    for f in ["text", "json", "jsonl", "csv", "md", "html"] {
        runs.push(vec![
            "analyze",
            "--now",
            "2026-10-12",
            "-v",
            "--format",
            f,
            &path,
        ]);
    }
    runs.push(vec!["lookup", "--list", "--format", "json"]);
    for args in &runs {
        let (normal, out) = stdout_of(args);
        assert!(out.len() > 1 << 16, "{args:?}: only {} bytes", out.len());
        let (code, err) = closed_early(args);
        assert_eq!(code, normal, "{args:?}: {err}");
        assert!(!err.contains("cannot write"), "{args:?}: {err}");
    }
}

fn temporaries(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".kmsdiag-"))
        .collect()
}

#[test]
fn a_failed_run_leaves_the_previous_report_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let input = hostile_xml(dir.path());
    let report = dir.path().join("report.html");
    let report_arg = report.to_str().unwrap();
    let (code, _) = stdout_of(&["analyze", "--format", "html", "-o", report_arg, &input]);
    assert!(code < 2);
    let good = std::fs::read(&report).unwrap();
    assert!(good.len() > 1000);
    let missing = dir.path().join("wrong/path");
    for args in [
        // No readable input (a typo in the path).
        vec![
            "analyze",
            "--format",
            "html",
            "-o",
            report_arg,
            missing.to_str().unwrap(),
        ],
        // A usage error.
        vec!["analyze", "--now", "yesterday", "-o", report_arg, &input],
        vec!["analyze", "--format", "pdf", "-o", report_arg, &input],
        // A format the file name contradicts (JSON into report.html).
        vec!["analyze", "--format", "json", "-o", report_arg, &input],
    ] {
        let out = kmsdiag().args(&args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert_eq!(std::fs::read(&report).unwrap(), good, "{args:?}");
        assert!(temporaries(dir.path()).is_empty(), "{args:?}");
    }
    let err = kmsdiag()
        .args(["analyze", "-o", report_arg, missing.to_str().unwrap()])
        .output()
        .unwrap()
        .stderr;
    assert!(
        String::from_utf8_lossy(&err).contains("was left as it was"),
        "the user is told the report was kept"
    );
    // A run that succeeds still replaces it, and leaves no temporary file.
    std::fs::write(&report, b"old").unwrap();
    let (code, _) = stdout_of(&["analyze", "-o", report_arg, &input]);
    assert!(code < 2);
    assert!(
        std::fs::read(&report)
            .unwrap()
            .starts_with(b"<!DOCTYPE html>"),
        "without --format, the file name says html"
    );
    assert!(temporaries(dir.path()).is_empty());
    let json = dir.path().join("report.json");
    let (code, _) = stdout_of(&["analyze", "-o", json.to_str().unwrap(), &input]);
    assert!(code < 2);
    assert!(std::fs::read(&json).unwrap().starts_with(b"{"));
}
