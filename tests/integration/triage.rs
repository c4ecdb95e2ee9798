//! Triage at fleet size (issue 30): every format of a 125-machine synth fleet opens with what
//! needs doing and lists problems first in natural name order; `--only` and `--min-severity`
//! filter every format the same way while the summary counts everything; a run that reads
//! nothing prints only its error; the attempts strip is drawn from the records the verdicts come
//! from; and the HTML page at 10 and about 1,000 machines, rendered by headless Chromium: the
//! table sorts and filters, nothing overflows sideways, and screenshots are taken.
//!
//! The fleets are generated from `testdata/triage/*.toml` into a temporary folder (no noise, a
//! three-day span: a second or two) and analysed from inside it, so paths are `fleet/...`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::util::kmsdiag;

/// The fleets' end (the scenarios' start plus three days).
const NOW: &str = "2026-10-08";

/// A generated fleet: its folder (`<tmp>/fleet`) inside a temporary directory kept for the run.
struct Fleet {
    dir: tempfile::TempDir,
}

impl Fleet {
    fn generate(scenario: &str, scale: u32) -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let out = kmsdiag()
            .args(["synth", scenario, "--scale", &scale.to_string(), "--out"])
            .arg(dir.path().join("fleet"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Fleet { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `kmsdiag analyze fleet --now NOW ARGS…` run inside the fleet's directory.
    fn analyze(&self, args: &[&str]) -> (i32, String, String) {
        let out = kmsdiag()
            .current_dir(self.root())
            .args(["analyze", "fleet", "--now", NOW, "--threads", "1"])
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            String::from_utf8(out.stdout).unwrap(),
            String::from_utf8(out.stderr).unwrap(),
        )
    }
}

fn fleet_125() -> &'static Fleet {
    static FLEET: OnceLock<Fleet> = OnceLock::new();
    FLEET.get_or_init(|| Fleet::generate("testdata/triage/fleet-125.toml", 1))
}

const FILTER: [&str; 4] = ["--only", "failing,warning", "--min-severity", "warning"];

/// The first `n` lines.
fn head(s: &str, n: usize) -> String {
    s.lines().take(n).collect::<Vec<_>>().join("\n")
}

/// The JSON report's opening and order: the triage, then each machine's name and verdict.
fn json_outline(json: &str) -> String {
    let r: serde_json::Value = serde_json::from_str(json).unwrap();
    let machines: Vec<String> = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            format!(
                "{} {}",
                m["verdict"].as_str().unwrap(),
                m["name"].as_str().unwrap()
            )
        })
        .collect();
    let findings: Vec<String> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["severity"].as_str().unwrap(),
                f["id"].as_str().unwrap(),
                f["machines"]
            )
        })
        .collect();
    format!(
        "top-level keys: {}\ntriage: {}\nmachines ({}), first 16:\n{}\nfindings ({}):\n{}",
        r.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(", "),
        serde_json::to_string_pretty(&r["triage"]).unwrap(),
        machines.len(),
        machines
            .iter()
            .take(16)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n"),
        findings.len(),
        findings.join("\n")
    )
}

/// The HTML page's opening section and the order of its machine table.
fn html_outline(html: &str) -> String {
    let triage = html
        .split_once(r#"<section id="triage">"#)
        .and_then(|(_, rest)| rest.split_once("</section>"))
        .map(|(t, _)| t.replace("</li>", "</li>\n"))
        .unwrap();
    let rows = regex::Regex::new(
        r#"<tr data-verdict="([a-z]+)"><td class="mono"><a href="[^"]*">([^<]*)</a>"#,
    )
    .unwrap();
    let table: Vec<String> = rows
        .captures_iter(html)
        .map(|c| format!("{} {}", &c[1], &c[2]))
        .collect();
    let cards = html.matches(r#"<div class="card "#).count();
    format!(
        "triage section:\n{triage}\ncards: {cards}; folded: {}\ntable rows ({}), first 16:\n{}",
        html.contains(r#"<details class="rest">"#),
        table.len(),
        table
            .iter()
            .take(16)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    )
}

#[test]
fn every_format_of_a_125_machine_fleet_opens_with_what_needs_doing() {
    let fleet = fleet_125();
    for (label, extra) in [("all", &[][..]), ("filtered", &FILTER[..])] {
        for format in ["text", "md", "csv", "jsonl", "json", "html"] {
            let mut args = vec!["--format", format];
            args.extend_from_slice(extra);
            let (code, out, err) = fleet.analyze(&args);
            assert_eq!(code, 1, "{format} {label}: the fleet has errors: {err}");
            let shown = match (format, label) {
                ("json", _) => json_outline(&out),
                ("html", _) => html_outline(&out),
                // Whole when filtered (a few hundred lines); the opening otherwise.
                ("text" | "md", "all") => head(&out, 70),
                ("csv", "all") => head(&out, 14),
                _ => out,
            };
            insta::assert_snapshot!(format!("triage-125-{label}.{format}"), shown);
        }
    }
}

#[test]
fn names_are_in_natural_order_and_problems_come_first() {
    let (_, text, _) = fleet_125().analyze(&[]);
    let at = |s: &str| {
        text.find(s)
            .unwrap_or_else(|| panic!("{s} missing:\n{text}"))
    };
    // Failing br2, br10, br11 in that order, before the warnings, before the OK ones.
    assert!(at("\nbr2.contoso.com ") < at("\nbr10.contoso.com "));
    assert!(at("\nbr10.contoso.com ") < at("\nbr11.contoso.com "));
    assert!(at("\nbr11.contoso.com ") < at("\nWarning (3)"));
    assert!(at("\nWarning (3)") < at("\nOK (116)"));
    // The rest: one line each, br1 < br3 < br9 < br12.
    let ok = &text[at("\nOK (116)")..];
    let line = |n: &str| ok.find(&format!("\n  {n} ")).unwrap();
    assert!(line("br1.contoso.com") < line("br3.contoso.com"));
    assert!(line("br9.contoso.com") < line("br12.contoso.com"));
    assert!(
        !ok.contains("Windows(R), Enterprise edition is activated"),
        "one line each"
    );
}

#[test]
fn the_filter_is_applied_once_for_every_format_and_the_summary_counts_everything() {
    let fleet = fleet_125();
    let (code_all, json_all, _) = fleet.analyze(&["--format", "json"]);
    let (code, json, _) = fleet.analyze(&["--format", "json", "--only", "warning"]);
    assert_eq!(code, code_all, "the exit status follows every finding");
    let all: serde_json::Value = serde_json::from_str(&json_all).unwrap();
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    for k in ["machines", "failing", "warning", "ok", "causes"] {
        assert_eq!(r["triage"][k], all["triage"][k], "{k}");
    }
    let names = |r: &serde_json::Value| -> Vec<String> {
        r["machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let warning: Vec<String> = all["machines"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["verdict"] == "warning")
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect();
    assert!(warning.len() >= 2, "{warning:?}");
    assert_eq!(names(&r), warning);
    assert_eq!(
        r["triage"]["filter"]["only"],
        serde_json::json!(["warning"])
    );
    assert_eq!(r["triage"]["filter"]["machines_shown"], warning.len());
    // Every format shows the same findings: those about a machine shown.
    let shown = |f: &&serde_json::Value| -> usize {
        f["machines"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| warning.iter().any(|w| w == n.as_str().unwrap()))
            .count()
    };
    let about: Vec<&serde_json::Value> = all["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| shown(f) > 0)
        .collect();
    assert_eq!(r["findings"].as_array().unwrap().len(), about.len());
    let (_, jsonl, _) = fleet.analyze(&["--format", "jsonl", "--only", "warning"]);
    assert_eq!(jsonl.lines().count(), about.len());
    // CSV: a row per finding and machine shown.
    let pairs: usize = about.iter().map(shown).sum();
    let (_, csv, _) = fleet.analyze(&["--format", "csv", "--only", "warning"]);
    assert_eq!(csv.lines().count(), 1 + pairs);
    // The summary still names br10; its machine entry is left out.
    for (format, entry) in [
        ("text", "\nbr10.contoso.com "),
        ("md", "### br10.contoso.com"),
        ("html", r#"id="m-br10-contoso-com""#),
    ] {
        let (_, out, _) = fleet.analyze(&["--format", format, "--only", "warning"]);
        assert!(out.contains("lab2.contoso.com"), "{format}");
        assert!(
            out.contains("br10.contoso.com"),
            "{format}: the summary names it"
        );
        assert!(!out.contains(entry), "{format}");
        assert!(
            out.contains("Filter on") || out.contains("filter on"),
            "{format}"
        );
    }
    // Severity: only errors; no machine loses its verdict.
    let (_, errors, _) = fleet.analyze(&["--format", "json", "--min-severity", "error"]);
    let e: serde_json::Value = serde_json::from_str(&errors).unwrap();
    assert!(
        e["findings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|f| f["severity"] == "error")
    );
    assert_eq!(e["machines"].as_array().unwrap().len(), 125);
    let lab = e["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "lab1.contoso.com")
        .unwrap();
    assert_eq!(lab["verdict"], "warning");
    assert_eq!(lab["findings"], serde_json::json!([]));
}

#[test]
fn a_run_that_reads_nothing_or_a_bad_command_line_prints_only_its_error() {
    for args in [
        &["analyze", "wrong/path"][..],
        &["analyze", "--format", "json", "wrong/path"],
        &["analyze", "--format", "html", "wrong/path", "also/wrong"],
        &["analyze", "--only", "broken", "testdata/fleets/mixed"],
        &[
            "analyze",
            "--min-severity",
            "fatal",
            "testdata/fleets/mixed",
        ],
        &["analyze", "--no-such-flag", "testdata/fleets/mixed"],
    ] {
        let out = kmsdiag().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            out.stdout.is_empty(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stdout)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("error"),
            "{args:?}"
        );
    }
}

#[test]
fn the_attempts_strip_is_drawn_from_the_records_the_verdicts_come_from() {
    let now = "2026-10-15T00:00:00";
    let run = |format: &str| {
        let out = kmsdiag()
            .args([
                "analyze",
                "testdata/fleets/mixed",
                "--now",
                now,
                "--format",
                format,
            ])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    let r: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let machine = |n: &str| {
        r["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == n)
            .unwrap()
            .clone()
    };
    // The BIOS-marker machine: activated once, then refused locally with 0xC004F059.
    let ws02 = machine("ws02.contoso.com");
    assert_eq!(ws02["verdict"], "failing");
    let attempts = ws02["attempts"].as_array().unwrap();
    let last = attempts.last().unwrap();
    assert_eq!(
        (last["outcome"].as_str(), last["code"].as_str()),
        (Some("failed"), Some("0xC004F059"))
    );
    assert_eq!(last["host_seen"], "not-sent");
    assert!(attempts.iter().filter(|a| a["outcome"] == "failed").count() >= 5);
    // The MAK machine has records (its 8198s), so it is in the strip.
    let mak = machine("mak1.contoso.com");
    assert!(mak["attempts"].as_array().is_some_and(|a| !a.is_empty()));
    let html = run("html");
    let strips = html.split_once(r#"<section id="attempts">"#).unwrap().1;
    let strips = strips.split_once("</section>").unwrap().0;
    assert!(
        strips.contains("mak1.contoso.com"),
        "the MAK machine is in the strip"
    );
    let ws02_strip = strips
        .split(r#"aria-label="Activation attempts of ws02.contoso.com""#)
        .nth(1)
        .unwrap();
    let ws02_strip = ws02_strip.split("</svg>").next().unwrap();
    assert!(
        ws02_strip.matches(r#"class="bad""#).count() >= 5,
        "{ws02_strip}"
    );
    assert!(ws02_strip.contains("failed 0xC004F059"), "{ws02_strip}");
    // Next steps' code spans are code, escaped.
    assert!(html.contains("<code>slmgr.vbs /ato</code>"));
    assert!(!html.contains("<li>Run `"));
}

/// Headless Chromium, when installed; else a note and `None` (CI installs it: see reports.rs).
fn chromium() -> Option<PathBuf> {
    let found = [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.exists());
    if found.is_none() {
        eprintln!(
            "SKIPPED: chromium not installed; the HTML pages were not rendered or screenshot"
        );
    }
    found
}

fn chromium_cmd(bin: &Path, profile: &Path, width: u32) -> std::process::Command {
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
        "--virtual-time-budget=5000",
    ])
    .arg(format!("--window-size={width},2000"))
    .arg(format!("--user-data-dir={}", profile.display()));
    c
}

/// A copy of the page with a probe script (its CSP opened for it) that measures the layout,
/// sorts the table by name descending, filters it to `br1`, and writes what it saw into the DOM.
fn probe_copy(html: &str) -> String {
    let csp = regex::Regex::new(r#"<meta http-equiv="Content-Security-Policy" content="[^"]*">"#)
        .unwrap();
    let html = csp.replace(html, "");
    let probe = r"<script>window.addEventListener('load',function(){
var b=document.body,d=document.documentElement,t=document.getElementById('machine-table');
b.setAttribute('data-overflow',String(d.scrollWidth-d.clientWidth));
var first=function(){var r=Array.prototype.filter.call(t.tBodies[0].rows,function(x){return !x.hidden;});return r.length?r[0].cells[0].textContent:'';};
b.setAttribute('data-first',first());
var btn=t.tHead.rows[0].cells[0].querySelector('button');btn.click();btn.click();
b.setAttribute('data-sorted-first',first());
var q=document.getElementById('machine-filter');q.value='br1';q.dispatchEvent(new Event('input'));
b.setAttribute('data-filtered',document.getElementById('machine-count').textContent);
});</script>";
    html.replace("</body>", &format!("{probe}</body>"))
}

fn attr<'a>(dom: &'a str, name: &str) -> &'a str {
    let key = format!("{name}=\"");
    dom.split_once(&key)
        .and_then(|(_, rest)| rest.split_once('"'))
        .map_or("", |(v, _)| v)
}

#[test]
fn the_html_page_at_10_and_1000_machines_renders_sorts_filters_and_fits() {
    let Some(bin) = chromium() else { return };
    let shots = std::env::var_os("KMSDIAG_SHOTS").map(PathBuf::from);
    for (scenario, scale, machines) in [
        ("testdata/triage/fleet-10.toml", 1, 10),
        ("testdata/triage/fleet-125.toml", 8, 993),
    ] {
        let fleet = Fleet::generate(scenario, scale);
        let (code, html, err) = fleet.analyze(&["--format", "html"]);
        assert_eq!(code, 1, "{err}");
        // Without the script the table is whole: every machine has a row.
        assert_eq!(html.matches("<tr data-verdict=").count(), machines);
        let page = fleet.root().join("report.html");
        std::fs::write(&page, &html).unwrap();
        let probe = fleet.root().join("probe.html");
        std::fs::write(&probe, probe_copy(&html)).unwrap();
        for width in [1400, 800] {
            // The page itself, under its own CSP: the script ran (the controls are shown, the
            // headers are buttons).
            let dom = chromium_cmd(&bin, &fleet.root().join("p1"), width)
                .arg("--dump-dom")
                .arg(format!("file://{}", page.display()))
                .output()
                .unwrap();
            let dom = String::from_utf8_lossy(&dom.stdout);
            assert!(
                dom.contains(r#"<div id="machine-controls" class="controls">"#),
                "{machines}: the script did not run"
            );
            assert!(dom.contains("<th><button type=\"button\">Machine</button>"));
            assert!(dom.contains(&format!("{machines} of {machines} machines shown")));
            // The probe: nothing overflows sideways; sorting and filtering work.
            let dom = chromium_cmd(&bin, &fleet.root().join("p2"), width)
                .arg("--dump-dom")
                .arg(format!("file://{}", probe.display()))
                .output()
                .unwrap();
            let dom = String::from_utf8_lossy(&dom.stdout);
            assert_eq!(
                attr(&dom, "data-overflow"),
                "0",
                "{machines} machines at {width}px overflow sideways"
            );
            assert!(
                attr(&dom, "data-first").starts_with("br2."),
                "problems first: {}",
                attr(&dom, "data-first")
            );
            assert!(
                attr(&dom, "data-sorted-first").starts_with("ws"),
                "sorted by name descending: {}",
                attr(&dom, "data-sorted-first")
            );
            let filtered = attr(&dom, "data-filtered");
            assert!(
                filtered.ends_with(&format!(" of {machines} machines shown"))
                    && !filtered.starts_with("0 "),
                "{filtered}"
            );
            // A screenshot with real content.
            let shot = fleet.root().join(format!("shot-{machines}-{width}.png"));
            let out = chromium_cmd(&bin, &fleet.root().join("p3"), width)
                .arg(format!("--screenshot={}", shot.display()))
                .arg(format!("file://{}", page.display()))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let png = std::fs::read(&shot).unwrap();
            assert!(
                png.starts_with(b"\x89PNG") && png.len() > 20_000,
                "{} bytes",
                png.len()
            );
            if let Some(dir) = &shots {
                std::fs::create_dir_all(dir).unwrap();
                std::fs::copy(&shot, dir.join(shot.file_name().unwrap())).unwrap();
            }
        }
    }
}
