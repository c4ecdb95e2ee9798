//! `kmsdiag rules lint` and `--rules DIR`: broken rule files written by the tests themselves.

use std::fs;

use crate::util::{run, run_json};

#[test]
fn built_in_rules_lint_clean() {
    let (code, out, _) = run(&["rules", "lint"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("built-in rules: no problems"), "{out}");
}

#[test]
fn lint_reports_every_problem_in_every_file() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("codes.toml"),
        r#"[[code]]
code = "0xC004F038"
message = "first"
category = "kms-count"
severity = "error"
sources = ["s"]

[[code]]
code = "0xC004F038"
message = "duplicate"
category = "kms-count"
severity = "error"
sources = ["s"]

[[code]]
code = "0xZZZ"
message = "malformed hex"
category = "other"
severity = "error"
sources = ["s"]

[[code]]
code = "0xC004F0AA"
message = "unknown category"
category = "kms-cnt"
severity = "error"
sources = ["s"]

[[code]]
code = "0xC004F0AB"
category = "other"
severity = "error"
sources = ["s"]
"#,
    )
    .unwrap();
    fs::write(dir.path().join("win32.toml"), "[[error]\nnumber = 1").unwrap();
    fs::write(dir.path().join("extra.toml"), "x = 1").unwrap();
    let d = dir.path().to_str().unwrap();

    let (code, out, _) = run(&["rules", "lint", d]);
    assert_eq!(code, 2, "{out}");
    let errors: Vec<&str> = out.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 5, "{out}");
    assert!(
        out.contains(
            "codes.toml:9: code[1] 0xC004F038: field `code`: duplicate code: code[0] at line 1"
        ),
        "{out}"
    );
    assert!(
        out.contains("code[2] 0xZZZ: field `code`: malformed code"),
        "{out}"
    );
    assert!(
        out.contains("code[3] 0xC004F0AA: field `category`: unknown variant `kms-cnt`"),
        "{out}"
    );
    assert!(
        out.contains("code[4] 0xC004F0AB: field `message`: missing message"),
        "{out}"
    );
    assert!(out.contains("win32.toml:1: not valid TOML"), "{out}");
    assert!(
        out.contains("warning:") && out.contains("extra.toml"),
        "{out}"
    );
    assert!(out.contains("5 problem(s), 1 warning(s)"), "{out}");

    let (code, v) = run_json(&["rules", "lint", d, "--format", "json"]);
    assert_eq!(code, 2);
    assert_eq!(v["errors"], 5);
    assert_eq!(v["problems"].as_array().unwrap().len(), 6);
}

#[test]
fn lint_of_a_missing_directory_is_a_usage_error() {
    let (code, _, err) = run(&["rules", "lint", "/nonexistent/kmsdiag-rules"]);
    assert_eq!(code, 2);
    assert!(err.contains("/nonexistent/kmsdiag-rules"), "{err}");
}

#[test]
fn a_rules_directory_adds_and_replaces_codes() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("codes.toml"),
        r#"[[code]]
code = "0xC004FFF1"
symbol = "CONTOSO_E_LOCAL_POLICY"
message = "Contoso's own activation policy refused the request."
category = "other"
severity = "error"
meaning = "Our wrapper script refused to activate."
causes = ["The machine is not in the activation OU."]
next_steps = ["Move it to the activation OU."]
sources = ["Contoso runbook 12"]

[[code]]
code = "0xC004F038"
symbol = "SL_E_VL_NOT_ENOUGH_COUNT"
message = "Local override."
category = "kms-count"
severity = "error"
finding = "kms-count-insufficient"
sources = ["Contoso runbook 13"]
"#,
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, v) = run_json(&[
        "lookup",
        "--rules",
        d,
        "--format",
        "json",
        "CONTOSO_E_LOCAL_POLICY",
        "0xC004F038",
        "0xC004F074",
    ]);
    assert_eq!(code, 0);
    assert_eq!(v[0]["code"], "0xC004FFF1");
    assert_eq!(v[0]["known"], true);
    assert_eq!(v[1]["message"], "Local override.");
    assert_eq!(v[2]["symbol"], "SL_E_VL_BINDING_SERVICE_UNAVAILABLE");
}

#[test]
fn broken_rules_directory_stops_lookup_with_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("codes.toml"),
        "[[code]]\ncode = \"0xC004F038\"\n",
    )
    .unwrap();
    let (code, out, err) = run(&[
        "lookup",
        "--rules",
        dir.path().to_str().unwrap(),
        "0xC004F038",
    ]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("missing field `category`"), "{err}");
    assert!(err.contains("cannot be loaded"), "{err}");
}

#[test]
fn rules_test_runs_every_finding_sample_through_the_pipeline() {
    let (code, out, err) = crate::util::run(&["rules", "test"]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(out.trim_end().ends_with(" passed, 0 failed"), "{out}");
    // Every finding id of the contract has at least one sample.
    let (_, v) = crate::util::run_json(&["rules", "test", "--format", "json"]);
    let tested: std::collections::BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["finding"].as_str().unwrap())
        .collect();
    for id in [
        "kms-count-insufficient",
        "kms-request-not-received",
        "kms-response-lost",
        "duplicate-cmid",
        "kms-host-unknown",
    ] {
        assert!(tested.contains(id), "{id}");
    }
}

#[test]
fn a_sample_that_does_not_raise_its_finding_fails() {
    let dir = tempfile::tempdir().unwrap();
    // A healthy client: its request was answered and it activated.
    std::fs::write(
        dir.path().join("findings.toml"),
        r#"[[finding]]
id = "kms-unreachable"
severity = "error"
title = "The client cannot reach a KMS host"
explanation = "Requests get no answer."
next_steps = ["Test TCP 1688."]

[[finding.sample]]
name = "an answered request (must fail)"
now = "2026-10-01T12:00:00"
input = '''
<Event><System><Provider Name='Microsoft-Windows-Security-SPP'/><EventID>12288</EventID><TimeCreated SystemTime='2026-10-01T08:00:00Z'/><Computer>ws1</Computer></System><EventData><Data>0x0, 0x0, kms1:1688, 6f1e0a42-5b7c-4d2e-9a31-0c8d7e6f5a41, 2026/10/01 08:00, 0, 2, 40000, 73111121-5638-40f6-bc11-f1d7b0d64300, 25</Data></EventData></Event>
<Event><System><Provider Name='Microsoft-Windows-Security-SPP'/><EventID>12289</EventID><TimeCreated SystemTime='2026-10-01T08:00:01Z'/><Computer>ws1</Computer></System><EventData><Data>0x0, 0x0, 1, 0, 30, 120, 10080, 2026/10/01 08:00</Data></EventData></Event>
'''
"#,
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    let (code, out, _) = crate::util::run(&[
        "--rules",
        d,
        "rules",
        "test",
        "--finding",
        "kms-unreachable",
    ]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("FAIL  kms-unreachable  an answered request"),
        "{out}"
    );
    let (code, _, _) = crate::util::run(&["rules", "test", "--finding", "no-such-id"]);
    assert_eq!(code, 2);
}
