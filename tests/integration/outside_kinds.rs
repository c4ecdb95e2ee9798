//! Kinds of real post the outside check (issue 25) found read wrong, one test per kind, each on a
//! trimmed real post in `testdata/pastes-outside/` (provenance in `testdata/README.md`).

use crate::util::run_json;

const DIR: &str = "testdata/pastes-outside";

fn analyze(file: &str) -> serde_json::Value {
    let path = format!("{DIR}/{file}");
    let (_, v) = run_json(&["analyze", "--format", "json", "--fail-on", "never", &path]);
    v
}

/// (id, severity, codes) of every finding of a report.
fn findings(v: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|f| {
            let codes = f["codes"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c.as_str().map(str::to_owned))
                .collect();
            (
                f["id"].as_str().unwrap_or_default().to_owned(),
                f["severity"].as_str().unwrap_or_default().to_owned(),
                codes,
            )
        })
        .collect()
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    findings(v).into_iter().flat_map(|(_, _, c)| c).collect()
}

/// A new KMS host's `/dli` (licensed, current count 0, no request statistics) raised an error:
/// a count below the threshold refuses clients only when clients ask. As Markdown and as the
/// HTML of the page it was copied from.
#[test]
fn a_new_kms_host_with_count_zero_and_no_requests_is_no_error() {
    for file in [
        "kms-host-dli-count-0.md.txt",
        "kms-host-dli-count-0.html.txt",
    ] {
        let v = analyze(file);
        let m = &v["machines"][0];
        assert_eq!(m["license_status"], "licensed", "{file}: {v}");
        let all = findings(&v);
        assert!(
            all.iter()
                .any(|(id, sev, _)| id == "kms-count-insufficient" && sev == "warning"),
            "{file}: {v}"
        );
        assert!(all.iter().all(|(_, sev, _)| sev != "error"), "{file}: {v}");
    }
    let html = analyze("kms-host-dli-count-0.html.txt");
    let removed = html["inputs"][0]["decoration_removed"].to_string();
    assert!(removed.contains("html-markup"), "{html}");
    // A host that received requests with a low count is still failing them.
    let (_, busy) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--fail-on",
        "never",
        "testdata/slmgr/en-win7-kms-host-count-2.txt",
    ]);
    assert!(
        findings(&busy)
            .iter()
            .any(|(id, sev, _)| id == "kms-count-insufficient" && sev == "error"),
        "{busy}"
    );
}

/// ospp output whose line breaks were lost (a post title, a page copy) was not ospp: its labels
/// ran together on one line. It is cut at its labels now.
#[test]
fn ospp_output_collapsed_onto_one_line_is_read_by_its_labels() {
    let v = analyze("otp-result-one-line-title.txt");
    assert_eq!(v["inputs"][0]["format"], "ospp", "{v}");
    let p = &v["machines"][0]["products"][0];
    assert_eq!(p["channel"], "VOLUME_KMSCLIENT", "{v}");
    assert!(codes(&v).contains(&"0xC004E015".to_owned()), "{v}");

    let v = analyze("ospp-dstatus-collapsed-zh.txt");
    assert_eq!(v["inputs"][0]["format"], "ospp", "{v}");
    let statuses: Vec<String> = v["machines"][0]["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["license_status"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(statuses.contains(&"licensed".to_owned()), "{v}");
    assert!(statuses.contains(&"notification".to_owned()), "{v}");
}

/// Event Viewer text with a Markdown hard break (`\`) at the end of every line read as one
/// damaged block: no event, no code. It is read again without the decoration.
#[test]
fn event_text_with_hard_breaks_on_every_line_is_read() {
    let v = analyze("event-8198-hard-breaks.md.txt");
    assert_eq!(v["inputs"][0]["status"], "read", "{v}");
    let all = findings(&v);
    assert!(
        all.iter()
            .any(|(id, _, c)| id == "kms-unreachable" && c.contains(&"0xC004F074".to_owned())),
        "{v}"
    );
    let (_, ev) = run_json(&[
        "events",
        "--format",
        "json",
        "testdata/pastes-outside/event-8198-hard-breaks.md.txt",
    ]);
    let events = ev["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{ev}");
    assert_eq!(events[0]["event_id"], 8198);
}

/// A post that quotes some slmgr fields between its sentences was read by the slmgr reader, and
/// the codes its sentences name were lost with the lines it did not understand.
#[test]
fn codes_in_sentences_between_slmgr_fields_are_reported() {
    let v = analyze("dlv-values-in-french-prose.txt");
    let c = codes(&v);
    for code in ["0x8007139F", "0xC004F074"] {
        assert!(c.contains(&code.to_owned()), "{code}: {v}");
    }
    let warnings = v["inputs"][0]["warnings"].to_string();
    assert!(warnings.contains("running text between the fields"), "{v}");
}

/// A post title that opens with a code the rule table does not know, with no label before it,
/// was unreadable.
#[test]
fn a_full_failure_code_heading_a_title_is_reported() {
    let v = analyze("prose-code-heads-title.txt");
    assert!(codes(&v).contains(&"0xC0290905".to_owned()), "{v}");
    assert!(
        findings(&v)
            .iter()
            .all(|(id, _, _)| id != "input-unreadable"),
        "{v}"
    );
}
