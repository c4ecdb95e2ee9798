//! The report formats against the real binary: every format over every committed fleet
//! (snapshots; fleets.rs checks they are byte-identical at any thread count), `-o` written
//! atomically, exit statuses, the JSON contract pinned to docs/report-schema.md, hostile strings made harmless in every
//! format, and the HTML page rendered by headless Chromium.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::util::{FLEETS, fleets, kmsdiag, run};

const FORMATS: [(&str, &str); 6] = [
    ("text", "txt"),
    ("json", "json"),
    ("jsonl", "jsonl"),
    ("csv", "csv"),
    ("md", "md"),
    ("html", "html"),
];

/// The `--now` a fleet was simulated for.
fn fleet_now(fleet: &str) -> String {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(FLEETS).join(fleet).join("expected.json")).unwrap(),
    )
    .unwrap();
    expected["now"]
        .as_str()
        .unwrap()
        .trim_end_matches('Z')
        .to_owned()
}

/// `analyze` of the mixed fleet as HTML into a file (the path comes next).
fn mixed_html_to_file(now: &str) -> Vec<&str> {
    vec![
        "analyze",
        "testdata/fleets/mixed",
        "--now",
        now,
        "--format",
        "html",
        "-o",
    ]
}

fn render(fleet: &str, format: &str, extra: &[&str]) -> (i32, String, String) {
    let dir = format!("{FLEETS}/{fleet}");
    let now = fleet_now(fleet);
    let mut args = vec!["analyze", "--format", format, "--now", &now, &dir];
    args.extend_from_slice(extra);
    run(&args)
}

#[test]
fn every_format_renders_every_fleet() {
    for fleet in fleets() {
        for (format, ext) in FORMATS {
            let (code, out, err) = render(&fleet, format, &["--threads", "1"]);
            assert!(
                code == 0 || code == 1,
                "{fleet} {format}: exit {code}: {err}"
            );
            assert!(!err.contains("error"), "{fleet} {format}: {err}");
            insta::assert_snapshot!(format!("report-{fleet}.{ext}"), out);
        }
    }
}

#[test]
fn jsonl_is_one_finding_per_line_and_csv_one_row_per_finding_and_machine() {
    let (_, json, _) = render("mixed", "json", &[]);
    let report: serde_json::Value = serde_json::from_str(&json).unwrap();
    let findings = report["findings"].as_array().unwrap();
    let (_, jsonl, _) = render("mixed", "jsonl", &[]);
    let lines: Vec<serde_json::Value> = jsonl
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), findings.len());
    for (line, f) in lines.iter().zip(findings) {
        assert_eq!(line["schema"], "kmsdiag.finding/1");
        assert_eq!(line["now"], report["now"]);
        assert_eq!(line["id"], f["id"]);
        assert_eq!(line["evidence"], f["evidence"]);
    }
    let (_, csv, _) = render("mixed", "csv", &[]);
    let mut rows = csv::Reader::from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
    let pairs: usize = findings
        .iter()
        .map(|f| f["machines"].as_array().unwrap().len().max(1))
        .sum();
    let clean_machines = report["machines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["findings"].as_array().unwrap().is_empty())
        .count();
    assert_eq!(rows.len(), pairs + clean_machines);
    assert!(
        rows.iter()
            .any(|r| &r[1] == "ws03.contoso.com" && &r[6] == "duplicate-cmid")
    );
    assert!(
        rows.iter()
            .any(|r| &r[1] == "ws04.contoso.com" && &r[6] == "duplicate-cmid")
    );
}

#[test]
fn output_file_is_written_whole_and_replaced_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("report.html");
    std::fs::write(&target, "previous report").unwrap();
    let now = fleet_now("mixed");
    let t = target.to_str().unwrap();
    let mut args = mixed_html_to_file(&now);
    args.push(t);
    let (code, out, _) = run(&args);
    assert_eq!(code, 1);
    assert!(out.is_empty(), "nothing on stdout with -o: {out}");
    let (_, direct, _) = render("mixed", "html", &[]);
    assert_eq!(std::fs::read_to_string(&target).unwrap(), direct);
    // A run that cannot produce a report leaves the previous one in place.
    std::fs::write(&target, "previous report").unwrap();
    let (code, _, err) = run(&[
        "analyze",
        "testdata/fleets/mixed",
        "--now",
        "yesterday",
        "-o",
        t,
    ]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "previous report");
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(names.len(), 1, "no temporary file is left behind");
    // A directory that does not exist: exit 2, a message naming the path.
    let missing = dir.path().join("no/such/dir/r.json");
    let (code, _, err) = run(&[
        "analyze",
        "testdata/fleets/mixed",
        "-o",
        missing.to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(
        err.contains("cannot write") && err.contains("r.json"),
        "{err}"
    );
}

#[test]
fn exit_statuses() {
    let status = |args: &[&str]| run(args).0;
    let healthy_now = fleet_now("healthy");
    let mixed_now = fleet_now("mixed");
    // 0: nothing at or above --fail-on.
    assert_eq!(
        status(&["analyze", "testdata/fleets/healthy", "--now", &healthy_now]),
        0
    );
    assert_eq!(
        status(&[
            "analyze",
            "testdata/fleets/mixed",
            "--now",
            &mixed_now,
            "--fail-on",
            "never"
        ]),
        0
    );
    // 1: an error finding (default --fail-on error).
    assert_eq!(
        status(&["analyze", "testdata/fleets/mixed", "--now", &mixed_now]),
        1
    );
    // A warning-only input: 0 by default, 1 with --fail-on warning.
    let warn = "testdata/slmgr/en-additional-grace.txt";
    let (_, json, _) = run(&["analyze", "--format", "json", warn]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let severities: BTreeSet<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(
        severities,
        BTreeSet::from(["warning"]),
        "fixture changed: {severities:?}"
    );
    assert_eq!(status(&["analyze", warn]), 0);
    assert_eq!(status(&["analyze", warn, "--fail-on", "warning"]), 1);
    // An unreadable file among readable ones: an input-unreadable finding, the rest analyzed.
    let (code, json, err) = run(&[
        "analyze",
        "--format",
        "json",
        warn,
        "testdata/no-such-file.txt",
    ]);
    assert_eq!(code, 1, "{err}");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["id"] == "input-unreadable")
    );
    assert_eq!(r["machines"].as_array().unwrap().len(), 1);
    // 2: no readable input, usage errors, unreadable rules.
    assert_eq!(status(&["analyze", "testdata/no-such-file.txt"]), 2);
    assert_eq!(status(&["analyze", "testdata/slmgr/not-slmgr.txt"]), 2);
    assert_eq!(status(&["analyze", warn, "--format", "pdf"]), 2);
    assert_eq!(status(&["analyze", warn, "--tz", "Mars/Olympus"]), 2);
    assert_eq!(status(&["analyze", warn, "--quiet", "--verbose"]), 2);
    let bad_rules = tempfile::tempdir().unwrap();
    std::fs::write(
        bad_rules.path().join("codes.toml"),
        "[[code]]\nnot toml at all = = =",
    )
    .unwrap();
    assert_eq!(
        status(&[
            "--rules",
            bad_rules.path().to_str().unwrap(),
            "analyze",
            warn
        ]),
        2
    );
}

#[test]
fn tz_moves_event_times_in_reports_and_explanations_only() {
    let (_, utc, _) = render("mixed", "text", &[]);
    let (_, berlin, _) = render("mixed", "text", &["--tz", "Europe/Berlin"]);
    // Evidence times and prose move by two hours (summer time in October).
    assert!(utc.contains("#118 2026-10-14T08:12:00Z"), "{utc}");
    assert!(
        berlin.contains("#118 2026-10-14T10:12:00+02:00"),
        "{berlin}"
    );
    assert!(berlin.contains("times in Europe/Berlin"));
    let (_, json_utc, _) = render("mixed", "json", &[]);
    let (_, json_berlin, _) = render("mixed", "json", &["--tz", "Europe/Berlin"]);
    assert!(json_utc.contains("between 2026-10-14 08:12 and 2026-10-14 16:12"));
    assert!(json_berlin.contains("between 2026-10-14 10:12 and 2026-10-14 18:12"));
    let (_, fixed, _) = render("mixed", "text", &["--tz", "-05:00"]);
    assert!(fixed.contains("#118 2026-10-14T03:12:00-05:00"), "{fixed}");
    // JSON fields stay UTC.
    let (_, json, _) = render("mixed", "json", &["--tz", "Europe/Berlin"]);
    assert!(json.contains("\"time\": \"2026-10-14T08:12:00Z\""));
    let (_, html, _) = render("mixed", "html", &["--tz", "+02:00"]);
    assert!(html.contains("event times in +02:00"));
}

#[test]
fn quiet_prints_only_the_summary_and_verbose_every_attempt() {
    let (_, quiet, _) = render("mixed", "text", &["--quiet"]);
    assert!(quiet.contains("ws03.contoso.com"));
    assert!(!quiet.contains("Findings\n"), "{quiet}");
    assert!(!quiet.contains("Evidence:"));
    let (_, normal, _) = render("mixed", "text", &[]);
    let (_, verbose, _) = render("mixed", "text", &["--verbose"]);
    assert!(!normal.contains("Attempts:"));
    let (_, json, _) = render("mixed", "json", &[]);
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let records: Vec<&serde_json::Value> = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["attempts"].as_array().into_iter().flatten())
        .collect();
    assert!(records.len() > 100);
    let lines = verbose.lines().filter(|l| l.contains("  host: ")).count();
    assert_eq!(lines, records.len(), "one line per attempt");
    // The records are the requests (12288), which the fleet's summary counts, and the
    // activations that failed on the machine itself (8198, 8233).
    let requests = records.iter().filter(|a| a["outcome"] != "failed").count();
    assert!(
        records.len() > requests,
        "the MAK and BIOS failures are records too"
    );
    assert_eq!(
        u64::try_from(requests).unwrap(),
        r["attempts"]["total"].as_u64().unwrap()
    );
}

/// Every key path of a JSON value: `machines[].attempts[].outcome`. Maps with data keys
/// (`rejected_by_code`) end the path.
fn key_paths(v: &serde_json::Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, x) in m {
                let p = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(p.clone());
                if k != "rejected_by_code" {
                    key_paths(x, &p, out);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for x in a {
                key_paths(x, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

/// The sections of docs/report-schema.md, by heading.
fn doc_sections() -> BTreeMap<String, String> {
    let doc = std::fs::read_to_string("docs/report-schema.md").unwrap();
    let mut out = BTreeMap::new();
    let mut name = String::new();
    for line in doc.lines() {
        if let Some(h) = line
            .strip_prefix("## ")
            .or_else(|| line.strip_prefix("### "))
        {
            h.clone_into(&mut name);
            continue;
        }
        let s: &mut String = out.entry(name.clone()).or_default();
        s.push_str(line);
        s.push('\n');
    }
    out
}

/// The section a key path is documented in.
fn section_for(path: &str) -> &'static str {
    if !path.contains(['.', '[']) {
        return "Top level";
    }
    let top = path.split(['.', '[']).next().unwrap_or("");
    match top {
        "inputs" => "input",
        "machines" if path.contains("products[]") => "product",
        "machines" if path.contains("attempts[]") => "attempt",
        "machines" => "machine",
        "hosts" => "host",
        "findings" => "finding",
        "triage" => "triage",
        _ => "Top level",
    }
}

#[test]
fn every_json_field_is_documented_and_the_field_set_is_pinned() {
    let mut paths = BTreeSet::new();
    let mut inputs: Vec<String> = fleets().iter().map(|f| format!("{FLEETS}/{f}")).collect();
    inputs.push("testdata/slmgr".to_owned());
    inputs.push("testdata/events".to_owned());
    for i in &inputs {
        let (_, json, err) = run(&["analyze", "--format", "json", i]);
        let v: serde_json::Value =
            serde_json::from_str(&json).unwrap_or_else(|e| panic!("{i}: {e}: {err}"));
        key_paths(&v, "", &mut paths);
        let (_, jsonl, _) = run(&["analyze", "--format", "jsonl", i]);
        for l in jsonl.lines() {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            key_paths(&v, "jsonl", &mut paths);
        }
    }
    let sections = doc_sections();
    let mut undocumented = Vec::new();
    for p in &paths {
        let leaf = p.rsplit('.').next().unwrap_or(p).trim_end_matches("[]");
        let section = if p.starts_with("jsonl.") {
            if matches!(leaf, "schema" | "now") {
                "JSON Lines: `kmsdiag.finding/1`"
            } else {
                "finding"
            }
        } else {
            section_for(p)
        };
        let text = sections.get(section).map_or("", String::as_str);
        if !text.contains(&format!("`{leaf}`")) {
            undocumented.push(format!("{p} (expected in section `{section}`)"));
        }
    }
    assert!(
        undocumented.is_empty(),
        "fields missing from docs/report-schema.md:\n{}",
        undocumented.join("\n")
    );
    // Any added, renamed or removed field changes this snapshot: review it with the docs.
    let listing: Vec<&str> = paths.iter().map(String::as_str).collect();
    insta::assert_snapshot!("report-json-field-paths", listing.join("\n"));
}

#[test]
fn hostile_names_are_harmless_in_every_format() {
    let input = "testdata/hostile/injection-names.xml";
    let now = "2026-10-13";
    let out = |format: &str| run(&["analyze", "--format", format, "--now", now, input]).1;
    let text = out("text");
    assert!(text.contains("duplicate-cmid"));
    for (format, _) in FORMATS {
        let o = out(format);
        assert!(!o.contains('\u{1b}'), "{format}: raw ESC in output");
        assert!(!o.contains('\u{7}'), "{format}: raw BEL in output");
        assert!(
            !o.contains('\u{202e}'),
            "{format}: raw bidi override in output"
        );
    }
    assert!(text.contains("\\u{1b}[31m"));
    let html = out("html");
    // One script element, the page's own (allowed by its hash), at the very end.
    assert_eq!(
        html.matches("<script").count(),
        1,
        "only the page's own script"
    );
    let own = html.rsplit_once("<script>").unwrap().1;
    assert!(!own.contains("alert") && own.trim_end().ends_with("</script></body></html>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(!html.contains("href=\"http://evil"));
    // Markdown: outside code spans (where nothing is interpreted) no tag survives.
    let md = out("md");
    let prose = regex::Regex::new("`[^`]*`").unwrap().replace_all(&md, "");
    assert!(!prose.contains("<script>"), "{prose}");
    assert!(md.contains("\\<script\\>"));
    let csv = out("csv");
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    for row in r.records() {
        for cell in &row.unwrap() {
            let first = cell.trim_start().chars().next();
            assert!(
                !matches!(first, Some('=' | '+' | '-' | '@')),
                "formula-like cell: {cell}"
            );
        }
    }
    assert!(csv.to_lowercase().contains("'=hyperlink"));
    assert!(csv.contains("'=cmd|"));
}

/// Headless Chromium, when installed (CI installs Debian's `chromium`).
fn chromium() -> Option<std::path::PathBuf> {
    let found = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(std::path::PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install chromium (.ci/run does) for the HTML rendering test"
        );
        eprintln!("SKIPPED: chromium not installed; the HTML page was not rendered");
    }
    found
}

fn chromium_cmd(bin: &Path, profile: &Path) -> std::process::Command {
    let mut c = std::process::Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

#[test]
fn html_report_renders_in_headless_chromium() {
    let Some(bin) = chromium() else { return };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    let now = fleet_now("mixed");
    let status = kmsdiag()
        .args(mixed_html_to_file(&now))
        .arg(&page)
        .output()
        .unwrap()
        .status;
    assert_eq!(status.code(), Some(1));
    let url = format!("file://{}", page.display());
    let dom = chromium_cmd(&bin, &dir.path().join("profile"))
        .arg("--dump-dom")
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        dom.status.success(),
        "{}",
        String::from_utf8_lossy(&dom.stderr)
    );
    let dom = String::from_utf8_lossy(&dom.stdout);
    for needle in [
        "kmsdiag activation report",
        "What needs doing",
        "machine-table",
        "ws03.contoso.com",
        "kms01.contoso.com",
        "duplicate-cmid",
        "Attempts of failing clients",
        "Next steps",
        "<svg",
        "class=\"threshold\"",
        "polyline",
    ] {
        assert!(dom.contains(needle), "rendered page lacks {needle}");
    }
    // The browser laid the page out: a screenshot has real content.
    let shot = dir.path().join("shot.png");
    let out = chromium_cmd(&bin, &dir.path().join("profile2"))
        .arg("--window-size=1200,1600")
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    assert!(
        png.len() > 20_000,
        "screenshot looks empty: {} bytes",
        png.len()
    );
}

/// A KMS host log where `n` machines share one CMID (clones), as event XML.
fn cloned_fleet(n: usize) -> String {
    use std::fmt::Write as _;
    let mut x = String::new();
    for i in 0..n {
        let _ = writeln!(
            x,
            "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-SPP'/><EventID>12290</EventID><TimeCreated SystemTime='2026-10-01T07:{:02}:{:02}Z'/><Channel>Key Management Service</Channel><Computer>kms1.contoso.com</Computer></System><EventData><Data>0xC004F038,25,clone{i:05}.contoso.com,6f1e0a42-5b7c-4d2e-9a31-0c8d7e6f5a41,2026/10/1 7:00,0,2,40000,73111121-5638-40f6-bc11-f1d7b0d64300</Data></EventData></Event>",
            (i / 60) % 60,
            i % 60
        );
    }
    x
}

/// A finding that names every clone is written whole once, not once per clone: the CSV and
/// Markdown reports of a fleet grow linearly with its clones (8 x the clones, well under 16 x
/// the bytes; a repeated clone list made it 64 x).
#[test]
fn reports_of_many_clones_grow_linearly() {
    let dir = std::env::temp_dir().join(format!("kmsdiag-clones-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let size = |n: usize, format: &str| -> usize {
        let path = dir.join(format!("host{n}.xml"));
        std::fs::write(&path, cloned_fleet(n)).unwrap();
        let (_, out, _) = run(&[
            "analyze",
            "--format",
            format,
            "--now",
            "2026-10-01T12:00:00",
            path.to_str().unwrap(),
        ]);
        assert!(out.contains("duplicate-cmid"), "{format}: {out:.2000}");
        out.len()
    };
    for format in ["csv", "md"] {
        let (small, large) = (size(50, format), size(400, format));
        assert!(
            large < small * 16,
            "{format}: {small} bytes for 50 clones, {large} for 400"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
