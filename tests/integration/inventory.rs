//! `kmsdiag analyze` on the Windows licensing inventory (`testdata/inventory/`):
//! `SoftwareLicensingProduct` / `SoftwareLicensingService` as Format-List (one machine, an
//! `Invoke-Command` fan-out), Export-Csv, ConvertTo-Json and a Configuration Manager view export.
//! Each shape: the machines it names, their license states and channels, the CMID kept for the
//! join with KMS host logs, and the findings the slmgr path raises for the same states.

use serde_json::Value;

use crate::util::run_json;

const DIR: &str = "testdata/inventory";
const NOW: &str = "2025-03-15T00:00:00";

fn analyze(files: &[&str]) -> Value {
    let paths: Vec<String> = files.iter().map(|f| format!("{DIR}/{f}")).collect();
    let mut args = vec!["analyze", "--format", "json", "--now", NOW];
    args.extend(paths.iter().map(String::as_str));
    let (_, report) = run_json(&args);
    for input in report["inputs"].as_array().unwrap() {
        assert_eq!(input["format"], "wmi-inventory", "{input}");
        assert_eq!(input["status"], "read", "{input}");
    }
    report
}

fn machine<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["machines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == name)
        .unwrap_or_else(|| panic!("no machine {name}: {report}"))
}

fn names(report: &Value) -> Vec<String> {
    report["machines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap().to_owned())
        .collect()
}

fn findings(m: &Value) -> Vec<&str> {
    m["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect()
}

#[test]
fn format_list_of_one_machine_gives_its_state_channel_and_service_cmid() {
    let r = analyze(&["fl-one-machine.txt"]);
    assert_eq!(names(&r), ["fl-one-machine"]);
    let m = machine(&r, "fl-one-machine");
    assert_eq!(m["license_status"], "licensed");
    assert_eq!(m["channel"], "VOLUME_KMSCLIENT");
    assert_eq!(m["role"], "kms-client");
    assert_eq!(m["kms_host"], "kms01.contoso.com:1688");
    assert_eq!(m["cmid"], "8c2f1b3e-5a47-4d9e-b6f0-2e7a91c4d35b");
    assert!(findings(m).is_empty(), "{m}");
    // GracePeriodRemaining is minutes from the trusted time (3/14/2025 9:21:07 AM).
    assert_eq!(
        m["products"][0]["activation_ends"], "2025-09-07T09:21:07",
        "{m}"
    );
}

#[test]
fn format_list_of_a_fan_out_names_each_machine_by_pscomputername() {
    let r = analyze(&["fl-fanout.txt"]);
    assert_eq!(names(&r), ["WS-0142", "WS-0141"], "problems first");
    assert_eq!(machine(&r, "WS-0141")["license_status"], "licensed");
    let m = machine(&r, "WS-0142");
    assert_eq!(m["license_status"], "additional-grace");
    assert_eq!(m["channel"], "VOLUME_KMSCLIENT");
    assert_eq!(m["kms_host"], "kms-old.contoso.com:1688");
    assert_eq!(findings(m), ["grace-expiring"]);
    assert_eq!(m["products"][0]["notification_reason"], "0xC004F074");
}

#[test]
fn export_csv_of_three_machines_with_the_service_export_beside_it() {
    let r = analyze(&[
        "csv-fanout-3-machines.csv",
        "csv-fanout-3-machines-service.csv",
    ]);
    // Problems first, then by name.
    assert_eq!(names(&r), ["PC-ACC-02", "PC-ACC-01", "PC-ACC-03"]);
    let ok = machine(&r, "PC-ACC-01");
    assert_eq!(ok["license_status"], "licensed");
    assert_eq!(ok["cmid"], "1b7e0c52-9a3d-4f61-8e2b-5d0c7a94e3f1");
    // The KMS client in notification with reason 3221549172: what slmgr output of it raises.
    let bad = machine(&r, "PC-ACC-02");
    assert_eq!(bad["license_status"], "notification");
    assert_eq!(bad["channel"], "VOLUME_KMSCLIENT");
    assert_eq!(bad["verdict"], "failing");
    assert_eq!(bad["cmid"], "a4d93e17-06bc-4b2e-9f58-3c1e8d7b2a60");
    assert_eq!(findings(bad), ["kms-unreachable", "unlicensed-rfm"]);
    // Its other row has no key: installed, not in use, not the machine's state.
    let unused = &bad["products"][1];
    assert_eq!(unused["in_use"], false, "{bad}");
    let mak = machine(&r, "PC-ACC-03");
    assert_eq!(mak["channel"], "VOLUME_MAK");
    assert_eq!(mak["role"], "mak");
    let codes: Vec<&str> = r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|f| f["codes"].as_array().unwrap())
        .map(|c| c.as_str().unwrap())
        .collect();
    assert!(codes.contains(&"0xC004F074"), "{codes:?}");
}

#[test]
fn convertto_json_with_powershell_5_dates() {
    let r = analyze(&["json-convertto-2-machines.json"]);
    assert_eq!(names(&r), ["SRV-APP-07", "SRV-APP-08"]);
    let m = machine(&r, "SRV-APP-07");
    assert_eq!(m["license_status"], "additional-grace");
    assert_eq!(m["kms_host"], "kms01.contoso.com:1688");
    assert_eq!(findings(m), ["grace-expiring"]);
    // /Date(1741944067000)/ is 2025-03-14 09:21:07 UTC; 20160 minutes later is 14 days on.
    assert_eq!(m["products"][0]["grace_ends"], "2025-03-28T09:21:07");
    assert_eq!(machine(&r, "SRV-APP-08")["license_status"], "licensed");
}

#[test]
fn configuration_manager_view_export() {
    let r = analyze(&["configmgr-view-3-machines.csv"]);
    assert_eq!(
        names(&r),
        ["LAB-PC-102", "LAB-PC-101", "LAB-PC-103"],
        "problems first"
    );
    let ok = machine(&r, "LAB-PC-101");
    assert_eq!(ok["license_status"], "licensed");
    assert_eq!(ok["cmid"], "3e9d4c71-8b2a-4f05-9d6e-7a1c0b58e2f4");
    // TimeStamp (the inventory's time) is when the state was seen.
    assert_eq!(ok["products"][0]["observed_at"], "2025-03-14T06:12:40");
    let bad = machine(&r, "LAB-PC-102");
    assert_eq!(bad["license_status"], "notification");
    assert_eq!(bad["cmid"], "c7a2e910-4d3b-4e8f-b1c6-0f5d92a3e7b8");
    // No host set and none discovered: as slmgr's "DNS auto-discovery: KMS name not available".
    assert_eq!(
        findings(bad),
        ["kms-dns-srv-missing", "kms-unreachable", "unlicensed-rfm"]
    );
    let oem = machine(&r, "LAB-PC-103");
    assert_eq!(oem["channel"], "OEM_DM");
    assert_eq!(oem["license_status"], "licensed");
}

#[test]
fn real_pastes_wmi_001_and_the_ansible_excerpt() {
    // Regression: this Format-List used to be read as slmgr text (LicenseStatus as a rearm count).
    let r = analyze(&["wmi-001-kolide-launcher-505.txt"]);
    let m = machine(&r, "wmi-001-kolide-launcher-505");
    assert_eq!(m["license_status"], "licensed");
    assert_eq!(m["role"], "oem");
    assert_eq!(m["products"][0]["product_key_channel"], "OEM:DM");
    assert!(findings(m).is_empty(), "{m}");

    let r = analyze(&["fl-ansible-834-excerpt.txt"]);
    let m = machine(&r, "fl-ansible-834-excerpt");
    assert_eq!(m["license_status"], "unlicensed");
    assert_eq!(m["channel"], "RETAIL");
    assert_eq!(m["products"][0]["notification_reason"], "0xC004F014");
}

#[test]
fn wmic_csv_and_list_in_utf16_as_wmic_writes_them_to_a_file() {
    // `wmic /node:… path SoftwareLicensingProduct get … /format:csv > file`: UTF-16LE, an
    // empty first line, `Node` naming each machine, `, ` inside values left unquoted.
    let r = analyze(&["wmic-csv-2-nodes-utf16.csv"]);
    assert_eq!(r["inputs"][0]["encoding"], "UTF-16LE (BOM)");
    assert_eq!(names(&r), ["WS-FIN-02", "WS-FIN-01"], "problems first");
    let ok = machine(&r, "WS-FIN-01");
    assert_eq!(ok["license_status"], "licensed");
    assert_eq!(ok["channel"], "VOLUME_KMSCLIENT");
    assert!(findings(ok).is_empty());
    let bad = machine(&r, "WS-FIN-02");
    assert_eq!(bad["license_status"], "notification");
    assert_eq!(
        findings(bad),
        ["kms-dns-srv-missing", "kms-unreachable", "unlicensed-rfm"]
    );
    // `/format:list`: blocks of `Name=value`, no machine name (the file names it).
    let r = analyze(&["wmic-list-one-machine-utf16.txt"]);
    let m = machine(&r, "wmic-list-one-machine-utf16");
    assert_eq!(m["license_status"], "initial-grace");
    assert_eq!(findings(m), ["grace-expiring", "kms-dns-srv-missing"]);
}
