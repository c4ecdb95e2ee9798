//! The command line itself: help, version, usage errors.

use crate::util::run;

#[test]
fn help_documents_exit_statuses() {
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Exit status:"), "{out}");
    let (code, out, _) = run(&["lookup", "--help"]);
    assert_eq!(code, 0);
    assert!(
        out.contains("SL_E_VL_NOT_ENOUGH_COUNT") && out.contains("Exit status:"),
        "{out}"
    );
}

#[test]
fn version_and_usage_errors() {
    let (code, out, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("kmsdiag "));
    let (code, _, err) = run(&["lookup"]);
    assert_eq!(code, 2);
    assert!(err.contains("CODE"), "{err}");
    let (code, _, _) = run(&["frobnicate"]);
    assert_eq!(code, 2);
    let (code, _, _) = run(&["lookup", "0xC004F038", "--search", "x"]);
    assert_eq!(code, 2);
}
