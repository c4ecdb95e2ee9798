//! `-o` to files that are no regular files (issue 29, item 5): as a shell redirect would, a
//! symbolic link is written through to its target and kept, a FIFO and a character device are
//! written to as streams and never replaced; what cannot take a stream is refused, untouched.

#![cfg(unix)]

use std::os::unix::fs::FileTypeExt;
use std::path::Path;

use crate::util::run;

const INPUT: &str = "testdata/slmgr/en-mak-licensed-dli.txt";

fn analyze_to(out: &Path) -> (i32, String) {
    let (code, _, err) = run(&[
        "analyze",
        "--format",
        "json",
        "-o",
        out.to_str().unwrap(),
        INPUT,
    ]);
    (code, err)
}

#[test]
fn a_symbolic_link_is_written_through_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("reports").join("latest.json");
    std::fs::create_dir(real.parent().unwrap()).unwrap();
    std::fs::write(&real, "old report").unwrap();
    let link = dir.path().join("report.json");
    std::os::unix::fs::symlink("reports/latest.json", &link).unwrap();
    let (code, err) = analyze_to(&link);
    assert!(code < 2, "{err}");
    assert!(
        std::fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link is kept"
    );
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&real).unwrap()).unwrap();
    assert_eq!(written["machines"].as_array().unwrap().len(), 1);
    // A link to a file that does not exist yet creates it, as a redirect would.
    let dangling = dir.path().join("new.json");
    std::os::unix::fs::symlink("reports/new.json", &dangling).unwrap();
    let (code, err) = analyze_to(&dangling);
    assert!(code < 2, "{err}");
    assert!(dir.path().join("reports/new.json").is_file());
    assert!(
        std::fs::symlink_metadata(&dangling)
            .unwrap()
            .file_type()
            .is_symlink()
    );
}

#[test]
fn a_fifo_is_written_to_as_a_stream_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("report.json");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if !made.is_ok_and(|s| s.success()) {
        eprintln!("note: mkfifo is not available; the FIFO case is not run");
        return;
    }
    let reader = {
        let fifo = fifo.clone();
        std::thread::spawn(move || std::fs::read_to_string(fifo).unwrap())
    };
    let (code, err) = analyze_to(&fifo);
    assert!(code < 2, "{err}");
    let got = reader.join().unwrap();
    let v: serde_json::Value = serde_json::from_str(&got).unwrap();
    assert_eq!(v["machines"].as_array().unwrap().len(), 1);
    assert!(
        std::fs::metadata(&fifo).unwrap().file_type().is_fifo(),
        "still a FIFO"
    );
}

#[test]
fn dev_null_takes_the_report_and_stays_a_device() {
    let null = Path::new("/dev/null");
    if !null.exists() {
        return;
    }
    let (code, err) = analyze_to(null);
    assert!(code < 2, "{err}");
    assert!(
        std::fs::metadata(null)
            .unwrap()
            .file_type()
            .is_char_device()
    );
}

#[test]
fn what_takes_no_stream_is_refused_and_left_as_it_was() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join("reports.json");
    std::fs::create_dir(&target).unwrap();
    let (code, err) = analyze_to(&target);
    assert_eq!(code, 2);
    assert!(err.contains("is a directory, not a regular file"), "{err}");
    assert!(target.is_dir());
    // A socket.
    let socket = dir.path().join("report.sock");
    let Ok(_listener) = std::os::unix::net::UnixListener::bind(&socket) else {
        return;
    };
    let (code, err) = analyze_to(&socket);
    assert_eq!(code, 2);
    assert!(err.contains("is a socket"), "{err}");
    assert!(std::fs::metadata(&socket).unwrap().file_type().is_socket());
}
