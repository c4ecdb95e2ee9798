//! Every input the fuzzers found a problem with (fuzz/regressions/TARGET/*) replayed through the
//! same entry point the fuzz target calls (`kmsdiag::harness`), plus every testdata file through
//! every target: none may panic. CI runs this; it does not run the fuzzers.

use std::path::Path;

use kmsdiag::Rules;
use kmsdiag::harness;

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.map(Result::unwrap) {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn every_fuzz_regression_input_runs_clean() {
    let rules = Rules::embedded().unwrap();
    let reader = kmsdiag::SlmgrReader::new(&rules);
    let mut count = 0;
    for target in harness::TARGETS {
        let dir = Path::new("fuzz/regressions").join(target);
        assert!(dir.is_dir(), "{} is missing", dir.display());
        let mut inputs = Vec::new();
        files(&dir, &mut inputs);
        inputs.sort();
        for p in inputs
            .iter()
            .filter(|p| p.file_name().is_some_and(|n| n != "README.md"))
        {
            let data = std::fs::read(p).unwrap();
            assert!(
                harness::run_with(&rules, &reader, target, &data),
                "{target}"
            );
            count += 1;
        }
    }
    eprintln!("{count} regression input(s) replayed");
}

#[test]
fn every_small_testdata_file_runs_through_every_target() {
    let rules = Rules::embedded().unwrap();
    let reader = kmsdiag::SlmgrReader::new(&rules);
    let mut inputs = Vec::new();
    for d in ["testdata/slmgr", "testdata/events", "testdata/hostile"] {
        files(Path::new(d), &mut inputs);
    }
    inputs.sort();
    for p in &inputs {
        let data = std::fs::read(p).unwrap();
        for target in harness::TARGETS {
            assert!(harness::run_with(&rules, &reader, target, &data));
        }
    }
    assert!(!harness::run(&rules, "no-such-target", b""));
}
