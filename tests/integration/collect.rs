//! `kmsdiag collect`: the export query of every place a fleet keeps activation evidence, filled
//! with the event ids `analyze` reads, so an export never drops what the diagnosis needs.

use crate::util::run;

fn places() -> Vec<String> {
    let (code, out, _) = run(&["collect", "--color", "never"]);
    assert_eq!(code, 0);
    out.lines()
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().next().unwrap().to_owned())
        .collect()
}

#[test]
fn every_place_has_a_filled_query_with_every_id_analyze_reads() {
    let places = places();
    for want in [
        "wevtutil",
        "powershell",
        "wef",
        "sentinel",
        "splunk",
        "elastic",
        "nxlog",
        "inventory",
        "configmgr",
    ] {
        assert!(
            places.iter().any(|p| p == want),
            "{want} missing from {places:?}"
        );
    }
    for place in &places {
        let (code, out, err) = run(&["collect", "--from", place, "--days", "10"]);
        assert_eq!(code, 0, "{place}: {err}");
        assert!(!out.contains("{{"), "{place}: a placeholder left:\n{out}");
        assert!(
            err.contains("Run on:") && err.contains("kmsdiag reads:"),
            "{place}: {err}"
        );
        if matches!(place.as_str(), "inventory" | "configmgr") {
            assert!(out.contains("PartialProductKey"), "{place}: {out}");
            continue;
        }
        for id in kmsdiag::CORRELATED {
            assert!(
                out.contains(&id.to_string()),
                "{place}: event {id} not exported:\n{out}"
            );
        }
        assert!(
            out.contains("Key Management Service"),
            "{place}: the host's log:\n{out}"
        );
    }
    let (_, out, _) = run(&["collect", "--from", "wevtutil", "--days", "10"]);
    assert!(out.contains("timediff(@SystemTime) <= 864000000"), "{out}");
    let (_, out, _) = run(&["collect", "--from", "Sentinel"]);
    assert!(
        out.contains("ago(35d)"),
        "the default window, any case of the name: {out}"
    );
}

#[test]
fn an_unknown_place_or_window_is_refused() {
    let (code, out, err) = run(&["collect", "--from", "qradar"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(
        err.contains("no export query for `qradar`") && err.contains("splunk"),
        "{err}"
    );
    let (code, _, err) = run(&["collect", "--from", "splunk", "--days", "0"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn a_template_with_a_placeholder_kmsdiag_does_not_fill_is_a_lint_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("collect.toml"),
        "[[source]]\nid = \"qradar\"\ntitle = \"t\"\nrun_on = \"r\"\nreads = \"x\"\ntemplate = \"SELECT {{EVENT_IDS}}\"\nsources = [\"s\"]\n",
    )
    .unwrap();
    let (code, out, err) = run(&["rules", "lint", dir.path().to_str().unwrap()]);
    assert_ne!(code, 0);
    assert!(format!("{out}{err}").contains("EVENT_IDS"), "{out}{err}");
}
