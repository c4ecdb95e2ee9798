//! Running the binary with a clean, predictable environment.

use assert_cmd::Command;

/// `kmsdiag` with colour-related variables removed, so output does not depend on the caller.
pub(crate) fn kmsdiag() -> Command {
    let mut cmd = Command::cargo_bin("kmsdiag").unwrap();
    cmd.env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env_remove("COLUMNS");
    cmd
}

/// Runs `kmsdiag` with `args`; returns (exit code, stdout, stderr).
pub(crate) fn run(args: &[&str]) -> (i32, String, String) {
    let out = kmsdiag().args(args).output().unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// Runs `kmsdiag` and parses stdout as JSON.
pub(crate) fn run_json(args: &[&str]) -> (i32, serde_json::Value) {
    let (code, out, err) = run(args);
    let v = serde_json::from_str(&out)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {out}\nstderr: {err}"));
    (code, v)
}

/// Where the committed synth fleets are.
pub(crate) const FLEETS: &str = "testdata/fleets";

/// The names of the committed fleets, sorted.
pub(crate) fn fleets() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(FLEETS)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The `[[case]]` tables of a fixture folder's `cases.toml`.
pub(crate) fn cases<T: serde::de::DeserializeOwned>(dir: &str) -> Vec<T> {
    #[derive(serde::Deserialize)]
    struct Cases<T> {
        case: Vec<T>,
    }
    let text = std::fs::read_to_string(std::path::Path::new(dir).join("cases.toml")).unwrap();
    toml::from_str::<Cases<T>>(&text).unwrap().case
}
