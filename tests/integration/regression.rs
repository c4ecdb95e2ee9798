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
