//! The large-estate path of issue 26: a synth fleet handed to `kmsdiag analyze` as the KMS hosts'
//! `.evtx` and the licensing inventory CSV only (no client logs) is diagnosed to its
//! `expected.json` for every finding host logs and inventory can show. The findings that need a
//! client's own log (README, "Without client logs") are left out of the comparison; where the
//! client log's `kms-unreachable` / `kms-request-not-received` stood, the join's
//! `kms-client-not-seen` may stand (it needs the host's log to cover the client's last retries,
//! which a fleet of office-hours machines does not always give).

use std::collections::BTreeSet;
use std::path::Path;

use crate::util::{run, run_json};

/// Findings only a client's own event log shows: the client's side of a failed request (its
/// 12288's code), and failures that never leave the client (8198, 8209). Not
/// `kms-dns-srv-missing`: the inventory shows it too, for a client that is not activated, has no
/// host set with `/skms` and holds an empty `DiscoveredKeyManagementServiceMachineName` (what
/// slmgr prints as "KMS name not available"), the case where it matters.
const CLIENT_LOG_ONLY: &[&str] = &[
    "kms-unreachable",
    "kms-request-not-received",
    "bios-slic-invalid",
    "non-genuine-tampered",
    "non-genuine-invalid-key",
    "mak-activation-failed",
    "activation-error",
];

/// Synthesises `scenario` with its inventory and returns (the folder of the hosts' `.evtx` and
/// the inventory, expected.json).
fn hosts_and_inventory(scenario: &str, dir: &Path) -> (std::path::PathBuf, serde_json::Value) {
    let full = dir.join("full");
    let (code, _, err) = run(&[
        "synth",
        &format!("testdata/scenarios/{scenario}.toml"),
        "--out",
        full.to_str().unwrap(),
        "--also",
        "inventory",
        "--noise-per-day",
        "0",
    ]);
    assert_eq!(code, 0, "{err}");
    let expected: serde_json::Value =
        serde_json::from_slice(&std::fs::read(full.join("expected.json")).unwrap()).unwrap();
    let given = dir.join("given");
    std::fs::create_dir_all(given.join("inventory")).unwrap();
    for f in [
        "SoftwareLicensingProduct.csv",
        "SoftwareLicensingService.csv",
    ] {
        std::fs::copy(
            full.join("inventory").join(f),
            given.join("inventory").join(f),
        )
        .unwrap();
    }
    for m in expected["machines"].as_array().unwrap() {
        if m["role"] != "kms-host" {
            continue;
        }
        let name = m["name"].as_str().unwrap();
        std::fs::create_dir_all(given.join(name)).unwrap();
        for entry in std::fs::read_dir(full.join(name)).unwrap() {
            let p = entry.unwrap().path();
            if p.extension().is_some_and(|e| e == "evtx") {
                std::fs::copy(&p, given.join(name).join(p.file_name().unwrap())).unwrap();
            }
        }
    }
    (given, expected)
}

fn short(name: &str) -> String {
    name.split('.').next().unwrap().to_ascii_lowercase()
}

fn ids(v: &serde_json::Value) -> BTreeSet<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_str().unwrap().to_owned())
        .collect()
}

/// The differences between the report and what host logs and inventory can show of the truth.
fn differences(scenario: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let (given, expected) = hosts_and_inventory(scenario, dir.path());
    let now = expected["now"].as_str().unwrap().trim_end_matches('Z');
    let (_, report) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--now",
        now,
        given.to_str().unwrap(),
    ]);
    let mut problems = Vec::new();
    for m in expected["machines"].as_array().unwrap() {
        let name = short(m["name"].as_str().unwrap());
        let truth = ids(&m["findings"]);
        let want: BTreeSet<String> = truth
            .iter()
            .filter(|f| !CLIENT_LOG_ONLY.contains(&f.as_str()))
            .cloned()
            .collect();
        let unreached = truth
            .iter()
            .any(|f| f == "kms-unreachable" || f == "kms-request-not-received");
        let got = report["machines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| short(r["name"].as_str().unwrap()) == name)
            .map(|r| {
                let mut g = ids(&r["findings"]);
                if unreached {
                    g.remove("kms-client-not-seen");
                }
                g
            });
        if got.as_ref() != Some(&want) {
            problems.push(format!("{scenario}/{name}: want {want:?}, got {got:?}"));
        }
    }
    problems
}

#[test]
fn host_logs_and_the_inventory_show_what_they_can_of_each_fleet() {
    let mut problems = Vec::new();
    for scenario in [
        "mixed",
        "clock-skew",
        "cloned-cmid",
        "count-stuck",
        "response-lost",
        "rogue-host",
        "dns-publish-failure",
        "firewall",
        "expiring-laptops",
        "non-genuine",
    ] {
        problems.extend(differences(scenario));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_healthy_fleet_from_host_logs_and_inventory_raises_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (given, expected) = hosts_and_inventory("healthy", dir.path());
    let now = expected["now"].as_str().unwrap().trim_end_matches('Z');
    let (code, report) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--now",
        now,
        given.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{}", report["findings"]);
    assert!(report["findings"].as_array().unwrap().is_empty());
    // The inventory lists every machine, not only those whose logs were collected.
    assert!(
        report["machines"].as_array().unwrap().len()
            > expected["machines"].as_array().unwrap().len()
    );
}

#[test]
fn the_inventory_csv_has_the_columns_and_value_forms_export_csv_writes() {
    let dir = tempfile::tempdir().unwrap();
    let (given, _) = hosts_and_inventory("mixed", dir.path());
    let slp =
        std::fs::read_to_string(given.join("inventory/SoftwareLicensingProduct.csv")).unwrap();
    let mut lines = slp.split("\r\n");
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("\"PSComputerName\",\"Name\",\"Description\",\"ID\""),
        "{header}"
    );
    let br1 = lines.find(|l| l.starts_with("\"BR1\"")).unwrap();
    // Initial grace: LicenseStatus 2, reason 0x4004F00C as an unsigned decimal, minutes left.
    assert!(br1.contains(",\"2\",\"1074065420\","), "{br1}");
    assert!(
        br1.contains("\"1/1/1601 12:00:00 AM\",\"10/15/2026 12:00:00 AM\""),
        "{br1}"
    );
    let sls =
        std::fs::read_to_string(given.join("inventory/SoftwareLicensingService.csv")).unwrap();
    let kms = sls
        .split("\r\n")
        .find(|l| l.starts_with("\"KMS01\""))
        .unwrap();
    assert!(
        kms.contains(",\"1\",\"29\",\"25\",\"1688\",\"True\","),
        "{kms}"
    );
    let ws = sls
        .split("\r\n")
        .find(|l| l.starts_with("\"WS05\""))
        .unwrap();
    assert!(ws.contains("\"4294967295\",\"4294967295\""), "{ws}");
}
