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

#[test]
fn every_subcommand_help_ends_with_examples_and_opens_with_its_own_options() {
    for sub in [
        &["lookup"][..],
        &["analyze"],
        &["slmgr"],
        &["events"],
        &["host-count"],
        &["synth"],
        &["rules"],
        &["rules", "lint"],
        &["rules", "test"],
    ] {
        for flag in ["--help", "-h"] {
            let mut args = sub.to_vec();
            args.push(flag);
            let (code, out, _) = run(&args);
            assert_eq!(code, 0, "{args:?}");
            let (_, examples) = out
                .split_once("\nExamples:\n")
                .unwrap_or_else(|| panic!("{args:?}: no examples in\n{out}"));
            let lines: Vec<&str> = examples.lines().collect();
            assert!((2..=4).contains(&lines.len()), "{args:?}: {lines:?}");
            assert!(
                lines.iter().all(|l| l.contains("kmsdiag ")),
                "{args:?}: {lines:?}"
            );
            assert!(out.contains("Exit status:"), "{args:?}");
            // The colour choice is a global option, listed after the subcommand's own.
            if let (Some(color), Some(options)) = (out.find("--color"), out.find("Options:")) {
                assert!(options < color, "{args:?}:\n{out}");
            }
        }
    }
}
