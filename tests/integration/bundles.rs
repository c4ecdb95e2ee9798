//! `.zip` bundles: read in memory by content, with their entries named `archive.zip!inner`,
//! nested zips opened to a bounded depth, zip bombs and oversized entries refused with a reason.

use std::io::Write;

use crate::util::{run, run_json};

fn zip_of(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let mut buf = std::io::Cursor::new(Vec::new());
    {
        let mut w = zip::ZipWriter::new(&mut buf);
        let opts = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in entries {
            w.start_file(*name, opts).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
    }
    buf.into_inner()
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap()
}

#[test]
fn a_helpdesk_bundle_is_read_entry_by_entry() {
    let inner = zip_of(&[(
        "PC077/slmgr-dlv.txt",
        fixture("testdata/slmgr/en-unlicensed.txt"),
    )]);
    let bundle = zip_of(&[
        (
            "PC042/dlv.txt",
            fixture("testdata/slmgr/en-win10-kms-client-dlv-licensed.txt"),
        ),
        (
            "PC042/Application.xml",
            fixture("testdata/events/wevtutil-stream.xml"),
        ),
        ("readme.txt", b"Sent from the helpdesk portal".to_vec()),
        (
            "../../etc/evil.txt",
            fixture("testdata/slmgr/en-mak-licensed-dli.txt"),
        ),
        ("more/inner.zip", inner),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ticket-4711.zip");
    std::fs::write(&path, bundle).unwrap();
    let p = path.to_str().unwrap();

    let (code, r) = run_json(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00",
        "--format",
        "json",
        p,
    ]);
    assert_eq!(code, 1, "the nested machine is unlicensed");
    let names: Vec<&str> = r["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    // "../../etc/evil.txt" is only a label: nothing is written, and its stem names the machine.
    // The event log's machines (client and host events) are diagnosed beside the slmgr ones.
    // Problems first, then by name in natural order.
    assert_eq!(
        names,
        [
            "KMS01.corp.contoso.com",
            "PC01.corp.contoso.com",
            "PC02",
            "PC077",
            "evil",
            "KMSHOST-2008",
            "PC042"
        ],
        "{names:?}"
    );
    let status = |suffix: &str| {
        r["inputs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(suffix))
            .unwrap()["status"]
            .clone()
    };
    assert_eq!(status("ticket-4711.zip!PC042/dlv.txt"), "read");
    assert_eq!(
        status("ticket-4711.zip!more/inner.zip!PC077/slmgr-dlv.txt"),
        "read"
    );
    assert_eq!(status("readme.txt"), "skipped");
    assert_eq!(
        status("Application.xml"),
        "read",
        "event logs are diagnosed too"
    );

    let (code, v) = run_json(&["events", "--format", "json", p]);
    assert_eq!(code, 0);
    assert_eq!(v["events"].as_array().unwrap().len(), 14);
}

#[test]
fn zip_bombs_and_deep_nesting_are_refused_with_a_reason() {
    let zeros = vec![0u8; 40 * 1024 * 1024];
    let bomb = zip_of(&[
        ("big.txt", zeros),
        ("ok.txt", fixture("testdata/slmgr/en-mak-licensed-dli.txt")),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bomb.zip");
    std::fs::write(&path, bomb).unwrap();
    let (code, r) = run_json(&["analyze", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(code, 1, "a refused entry is an input-unreadable finding");
    let refused = r["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["path"].as_str().unwrap().ends_with("bomb.zip!big.txt"))
        .unwrap();
    assert_eq!(refused["status"], "unreadable");
    assert!(
        refused["error"].as_str().unwrap().contains("zip bomb"),
        "{refused}"
    );
    assert_eq!(
        r["machines"].as_array().unwrap().len(),
        1,
        "the rest is still read"
    );

    let level3 = zip_of(&[(
        "deep.txt",
        fixture("testdata/slmgr/en-mak-licensed-dli.txt"),
    )]);
    let level2 = zip_of(&[("l3.zip", level3)]);
    let level1 = zip_of(&[("l2.zip", level2)]);
    let path = dir.path().join("nested.zip");
    std::fs::write(&path, level1).unwrap();
    // Nothing else is readable: the run fails, says why on stderr and writes no report.
    let (code, out, err) = run(&["analyze", "--format", "json", path.to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(err.contains("nested more than 2 deep"), "{err}");

    std::fs::write(
        dir.path().join("broken.zip"),
        b"PK\x03\x04 not really a zip",
    )
    .unwrap();
    let (code, _, err) = run(&["analyze", dir.path().join("broken.zip").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("not a readable zip archive"), "{err}");
}

/// A file 40 folders deep is not read, and the report says which folder was not followed and why
/// (issue 29, item 8); the rest is read.
#[test]
fn a_folder_too_deep_is_said_not_skipped_silently() {
    let dir = tempfile::tempdir().unwrap();
    let dli = fixture("testdata/slmgr/en-mak-licensed-dli.txt");
    std::fs::write(dir.path().join("top-dli.txt"), &dli).unwrap();
    let mut deep = dir.path().to_path_buf();
    for i in 0..40 {
        deep.push(format!("d{i}"));
    }
    std::fs::create_dir_all(&deep).unwrap();
    std::fs::write(deep.join("deep-dli.txt"), &dli).unwrap();
    let root = dir.path().to_str().unwrap();
    let (code, out, err) = run(&["analyze", "--format", "json", root]);
    assert_eq!(
        code, 1,
        "a folder not read is an input-unreadable finding: {err}"
    );
    let r: serde_json::Value = serde_json::from_str(&out).unwrap();
    let inputs = r["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 2, "{inputs:?}");
    let skipped = &inputs[1];
    let first_not_read: std::path::PathBuf = (0..33).map(|i| format!("d{i}")).collect();
    assert_eq!(
        skipped["path"],
        dir.path().join(first_not_read).to_str().unwrap(),
        "{skipped}"
    );
    assert!(
        skipped["error"]
            .as_str()
            .unwrap()
            .contains("nested more than 32 folders deep"),
        "{skipped}"
    );
    assert!(err.contains("nested more than 32 folders deep"), "{err}");
    assert_eq!(
        r["machines"].as_array().unwrap().len(),
        1,
        "the rest is read"
    );
}
