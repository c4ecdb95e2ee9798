//! `kmsdiag analyze` on text that is neither slmgr output nor an event log (an e-mail, a chat
//! message, a dialog's text): the evidence reader finds the result codes it mentions and reports
//! them with their meaning and next steps, saying the input was read from prose.

use crate::util::kmsdiag;

const MAIL: &str = "\
From: Dana <dana@example.invalid>
Subject: Re: activation on the new laptops

Hi all,

> did the laptops activate yet?

No. Activation fails with hr=0xc004f074 every morning, same as last week.
We tried again after lunch; same thing.

Thanks,
Dana
";

fn analyze(text: &str, format: &str) -> (i32, String) {
    let out = kmsdiag()
        .args(["analyze", "--format", format, "--color", "never", "-"])
        .write_stdin(text)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn an_email_that_mentions_one_code_gets_its_meaning_and_next_steps_read_from_prose() {
    let (code, text) = analyze(MAIL, "text");
    assert_eq!(code, 1, "an error finding: {text}");
    assert!(text.contains("kms-unreachable"), "{text}");
    assert!(text.contains("0xC004F074"), "{text}");
    assert!(text.contains("Next steps"), "{text}");
    assert!(
        text.contains("Test-NetConnection"),
        "the code's own steps: {text}"
    );
    assert!(text.contains("read from prose"), "{text}");
    assert!(text.contains("text-evidence"), "{text}");

    let (_, json) = analyze(MAIL, "json");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    let input = &r["inputs"][0];
    assert_eq!(input["format"], "text-evidence");
    assert_eq!(input["status"], "read");
    assert!(
        input["warnings"][0]
            .as_str()
            .unwrap()
            .starts_with("read as prose")
    );
    let m = &r["machines"][0];
    assert_eq!(m["verdict"], "failing");
    assert_eq!(
        m["license_status"], "unknown",
        "no license state is invented"
    );
    assert!(m["reason"].as_str().unwrap().contains("read from prose"));
    assert!(m["products"].as_array().unwrap().is_empty());
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1, "{findings:?}");
    let f = &findings[0];
    assert_eq!(f["id"], "kms-unreachable");
    assert_eq!(f["codes"][0], "0xC004F074");
    assert_eq!(f["evidence"][0]["line"], 8);
    assert!(
        f["evidence"][0]["excerpt"]
            .as_str()
            .unwrap()
            .contains("hr=0xc004f074")
    );
}

#[test]
fn a_computer_line_names_the_machine() {
    let text = "Computer: PC042\nError code: 0xC004F074\n";
    let (_, json) = analyze(text, "json");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["machines"][0]["name"], "PC042");
    assert_eq!(r["machines"][0]["name_source"], "text");
}

#[test]
fn an_informational_code_raises_nothing_and_text_without_codes_stays_unreadable() {
    let (code, json) = analyze("The status says 0x4004F040, fine.\n", "json");
    assert_eq!(code, 0, "{json}");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(r["findings"].as_array().unwrap().is_empty());
    assert_eq!(r["machines"][0]["verdict"], "unknown");

    let out = kmsdiag()
        .args(["analyze", "-"])
        .write_stdin("Hello, the laptops are fine, version 10.0.19045.\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no readable input");
}

/// A tool's log line with an NTSTATUS the table does not know (`STATUS_OBJECT_NAME_NOT_FOUND`): an
/// NTSTATUS is a result code too, so the text is read, not refused as unreadable.
#[test]
fn an_ntstatus_error_the_table_does_not_know_is_still_a_result_code() {
    let log =
        "Checking licensing service   [Not Working]\nActivation Failed [Error Code: 0xC0000034]\n";
    let (code, json) = analyze(log, "json");
    assert_eq!(code, 1, "{json}");
    let r: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(r["inputs"][0]["format"], "text-evidence", "{json}");
    let ids: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["activation-error"], "{json}");
    assert!(json.contains("0xC0000034"), "{json}");
}
