//! One test per bug that was found and fixed, named after what went wrong.

use crate::util::run_json;

/// `.evtx` files were read whole into memory under the 64 MiB input cap, so a large Application
/// log was refused. They are parsed from disk now; the size does not matter.
#[test]
fn evtx_files_larger_than_the_in_memory_cap_are_read_from_disk() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Application-large.evtx");
    std::fs::copy("testdata/evtx/samples_Application_no_crc32.evtx", &path).unwrap();
    // Sparse: costs no disk space, but is larger than any file kmsdiag reads into memory.
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    f.set_len(70 * 1024 * 1024).unwrap();
    drop(f);
    let (code, v) = run_json(&["events", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(v["inputs"][0]["activation_events"], 6);
    assert_eq!(v["events"].as_array().unwrap().len(), 6);
}

/// Every finding of a report, top level and per machine: (id, severity, codes).
fn findings(v: &serde_json::Value) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    let one = |f: &serde_json::Value| {
        (
            f["id"].as_str().unwrap_or_default().to_owned(),
            f["severity"].as_str().unwrap_or_default().to_owned(),
            f["codes"]
                .as_array()
                .map(|c| {
                    c.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default(),
        )
    };
    for f in v["findings"].as_array().into_iter().flatten() {
        out.push(one(f));
    }
    out
}

/// An evtx record rendered as JSON with the provider as a plain string (`system.provider`) was
/// recognised as `OpenWEC` JSON but gave no activation event: the provider was not found.
#[test]
fn an_evtx_record_as_json_with_a_string_provider_is_an_activation_event() {
    let (code, v) = run_json(&[
        "events",
        "--format",
        "json",
        "testdata/pastes-outside/event-8198-flat.json",
    ]);
    assert_eq!(code, 0);
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{v}");
    assert_eq!(events[0]["event_id"], 8198);
    assert_eq!(events[0]["fields"]["result"], "0x80072EE7");
}

/// An 8198 whose code only says the machine could not reach the network (0x800704CF, unknown to
/// the table, Win32) raised an error: one offline attempt is at most a warning.
#[test]
fn an_offline_slui_failure_is_a_warning_not_an_error() {
    for path in [
        "testdata/pastes-outside/event-8198-oneline.xml.txt",
        "testdata/pastes-outside/event-8198-flat.json",
    ] {
        let (_, v) = run_json(&["analyze", "--format", "json", "--fail-on", "never", path]);
        let all = findings(&v);
        assert!(!all.is_empty(), "{path}: the failure is reported: {v}");
        for (id, severity, _) in &all {
            assert_ne!(severity, "error", "{path}: {id} {v}");
        }
    }
}

/// A code the rule table does not know, of a facility activation does not report through, was
/// not found in `Activation Failed, Error Code 0xC0020036`: the input was unreadable.
#[test]
fn an_unknown_code_after_an_error_label_in_prose_is_reported() {
    let out = crate::util::kmsdiag()
        .args(["analyze", "--format", "json", "--fail-on", "never", "-"])
        .write_stdin(
            "Activation Failed, Error Code 0xC0020036\n\nit errors when i tried to activate it.\n",
        )
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let all = findings(&v);
    assert!(
        all.iter()
            .any(|(_, _, c)| c.iter().any(|c| c == "0xC0020036")),
        "{v}"
    );
    assert!(all.iter().all(|(id, _, _)| id != "input-unreadable"), "{v}");
}
