//! Texts as people post them: quoted in an e-mail, in Markdown (bold, code spans, fences,
//! bullets), indented, or with a logging tool's time stamp on every line. The strict readers read
//! them once the decoration is removed, and the report says what was removed.

use crate::util::kmsdiag;

fn analyze(text: &str) -> serde_json::Value {
    let out = kmsdiag()
        .args(["analyze", "--format", "json", "--now", "2026-03-01", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    serde_json::from_str(&String::from_utf8(out.stdout).unwrap()).unwrap()
}

fn removed(r: &serde_json::Value) -> Vec<String> {
    r["inputs"][0]["decoration_removed"]
        .as_array()
        .map(|a| a.iter().map(|d| d.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default()
}

const DLI: &str = "Name: Windows(R), Enterprise edition
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
Partial Product Key: 2YT43
License Status: Notification
Notification Reason: 0xC004F074.
";

#[test]
fn quoted_bold_slmgr_text_reads_as_slmgr() {
    let post: String = DLI
        .lines()
        .map(|l| match l.split_once(": ") {
            Some((k, v)) => format!("> **{k}:** {v}  \n"),
            None => format!("> {l}\n"),
        })
        .collect();
    let r = analyze(&post);
    assert_eq!(r["inputs"][0]["format"], "slmgr", "{r}");
    assert_eq!(r["machines"][0]["license_status"], "notification", "{r}");
    assert_eq!(
        removed(&r),
        ["quote-marks", "emphasis", "hard-breaks"],
        "{r}"
    );
    let plain = analyze(DLI);
    assert_eq!(
        plain["findings"], r["findings"],
        "same findings as the plain text"
    );
    assert!(removed(&plain).is_empty());
}

#[test]
fn a_fenced_bulleted_indented_paste_reads_as_slmgr() {
    let post: String = std::iter::once("```text\n".to_owned())
        .chain(DLI.lines().map(|l| format!("  - `{l}`\n")))
        .chain(std::iter::once("```\n".to_owned()))
        .collect();
    let r = analyze(&post);
    assert_eq!(r["inputs"][0]["format"], "slmgr", "{r}");
    assert_eq!(r["machines"][0]["license_status"], "notification", "{r}");
    assert_eq!(
        removed(&r),
        ["code-fences", "code-spans", "bullets", "indentation"],
        "{r}"
    );
}

#[test]
fn a_time_stamp_and_a_tag_on_every_line_are_removed() {
    let post = "2024-05-19 07:20:30 Setup: Key Management Service machine name set to kms.example.com:1688 successfully.
2024-05-19 07:20:45 Setup: Activating Windows(R), ServerDatacenter edition (ef6cfc9f-8c5d-44ac-9aad-de6a2ea0ae03) ...
2024-05-19 07:20:45 Setup: Product activated successfully.
";
    let r = analyze(post);
    assert_eq!(r["inputs"][0]["format"], "slmgr", "{r}");
    assert_eq!(r["machines"][0]["license_status"], "licensed", "{r}");
    assert_eq!(removed(&r), ["line-prefix"], "{r}");
}

const EVENT: &str = "Log Name:      Application
Source:        Microsoft-Windows-Security-SPP
Date:          6/4/2024 7:37:49 PM
Event ID:      8198
Level:         Error
Computer:      pc7.example.com
Description:
License Activation (slui.exe) failed with the following error code:
hr=0xC004F074
";

#[test]
fn a_quoted_event_viewer_copy_reads_as_an_event() {
    let post: String = EVENT.lines().flat_map(|l| ["> ", l, "  \n"]).collect();
    let r = analyze(&post);
    assert_eq!(r["inputs"][0]["format"], "eventviewer-text", "{r}");
    assert_eq!(r["machines"][0]["name"], "pc7.example.com", "{r}");
    assert!(
        r["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["codes"][0] == "0xC004F074"),
        "{r}"
    );
    let out = kmsdiag()
        .args(["events", "--format", "jsonl", "-"])
        .write_stdin(post)
        .output()
        .unwrap();
    let out = String::from_utf8(out.stdout).unwrap();
    assert!(out.contains("\"event_id\":8198"), "{out}");
    assert!(out.contains("0xC004F074"), "{out}");
}

#[test]
fn an_event_viewer_copy_goes_to_the_event_reader_not_slmgr() {
    // `Event ID: 8198` is no rearm count, and `Description:` no product description.
    let r = analyze(EVENT);
    assert_eq!(r["inputs"][0]["format"], "eventviewer-text", "{r}");
    assert!(removed(&r).is_empty());
}

#[test]
fn a_short_facility_number_is_no_notification_reason() {
    let text = "Code: 0x87E10BC6\nDescription: Unable to find a detailed error description.\nUnknown facility code 0x7E1 (2017L)\nFacility error: 0xBC6 (3014L)\n";
    let r = analyze(text);
    assert_eq!(r["inputs"][0]["format"], "text-evidence", "{r}");
    let codes = r["findings"][0]["codes"].clone();
    assert_eq!(codes, serde_json::json!(["0x87E10BC6"]), "{r}");
}
