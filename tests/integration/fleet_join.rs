//! The join that serves large estates without client logs: KMS clients known from their license
//! state and CMID (the licensing inventory, slmgr /dlv) held against the KMS hosts' 12290 logs.

use crate::util::run_json;

const INVENTORY: &str = "PSComputerName                : WS-0150
Name                          : Windows(R), Enterprise edition
Description                   : Windows(R) Operating System, VOLUME_KMSCLIENT channel
ID                            : 73111121-5638-40f6-bc11-f1d7b0d64300
LicenseStatus                 : STATUS
GracePeriodRemaining          : GRACE
PartialProductKey             : NPPR9
ProductKeyChannel             : Volume:GVLK
KeyManagementServiceMachine   : kms1.contoso.com
KeyManagementServicePort      : 1688

PSComputerName                : WS-0150
ClientMachineID               : {6F1E0A42-5B7C-4D2E-9A31-0C8D7E6F5A41}
IsKeyManagementServiceMachine : 0
";

/// A 12290 from `cmid` at `time` (`2026-10-01T02:00:00Z`).
fn request(time: &str, client: &str, cmid: &str) -> String {
    let (day, clock) = time.trim_end_matches('Z').split_once('T').unwrap();
    let short = format!("{} {}", day.replace('-', "/"), &clock[..5]);
    format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='Microsoft-Windows-Security-SPP'/><EventID>12290</EventID><TimeCreated SystemTime='{time}'/><Channel>Key Management Service</Channel><Computer>kms1.contoso.com</Computer></System><EventData><Data>0x0,25,{client},{cmid},{short},0,2,40000,73111121-5638-40f6-bc11-f1d7b0d64300</Data></EventData></Event>\n"
    )
}

const OTHER: &str = "0b9d8c7e-6f5a-4e3d-8c2b-1a0f9e8d7c69";
const OWN: &str = "6f1e0a42-5b7c-4d2e-9a31-0c8d7e6f5a41";

fn analyze(status: &str, grace: &str, host_log: &str) -> serde_json::Value {
    let dir = tempfile::tempdir().unwrap();
    let inv = dir.path().join("inventory.txt");
    let log = dir.path().join("kms1.xml");
    std::fs::write(
        &inv,
        INVENTORY.replace("STATUS", status).replace("GRACE", grace),
    )
    .unwrap();
    std::fs::write(&log, host_log).unwrap();
    let (_, r) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--now",
        "2026-10-01T12:00:00Z",
        inv.to_str().unwrap(),
        log.to_str().unwrap(),
    ]);
    r
}

fn not_seen(r: &serde_json::Value) -> Option<&serde_json::Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == "kms-client-not-seen")
}

#[test]
fn an_unactivated_client_its_host_never_heard_from_is_an_error() {
    let log = request("2026-10-01T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    let r = analyze("5", "0", &log);
    let f = not_seen(&r).unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["severity"], "error");
    assert_eq!(f["machines"], serde_json::json!(["WS-0150"]));
    assert!(f["explanation"].as_str().unwrap().contains(OWN), "{f}");
}

#[test]
fn a_licensed_client_with_no_renewal_in_a_week_is_a_warning() {
    let log = request("2026-09-20T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-09-22T02:00:00Z", "ws-0150.contoso.com", OWN)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    let r = analyze("1", "200000", &log);
    let f = not_seen(&r).unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["severity"], "warning");
}

#[test]
fn a_client_the_host_heard_from_or_a_log_that_does_not_cover_the_time_says_nothing() {
    // Heard from, within the window.
    let log = request("2026-09-20T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-09-29T02:00:00Z", "ws-0150.contoso.com", OWN)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    assert!(not_seen(&analyze("1", "200000", &log)).is_none());
    // The host's log starts after the window began: silence proves nothing.
    let log = request("2026-09-30T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    assert!(not_seen(&analyze("1", "200000", &log)).is_none());
    // The log ends long before now.
    let log = request("2026-09-01T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-09-10T02:00:00Z", "ws9.contoso.com", OTHER);
    assert!(not_seen(&analyze("5", "0", &log)).is_none());
}

/// A 12290 from `cmid` at `time` answered with `result`.
fn answered(time: &str, client: &str, cmid: &str, result: &str) -> String {
    request(time, client, cmid).replace("<Data>0x0,", &format!("<Data>{result},"))
}

fn finding<'a>(r: &'a serde_json::Value, id: &str) -> Option<&'a serde_json::Value> {
    r["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["id"] == id)
}

#[test]
fn a_licensed_client_its_host_did_not_activate_when_its_licence_says_is_unconfirmed() {
    // 250560 minutes of 180 days left at 2026-10-01 12:00: activated around 2026-09-25 12:00.
    let background = request("2026-09-20T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    // Only a refusal for the count then.
    let refused = background.clone()
        + &answered(
            "2026-09-25T12:05:00Z",
            "ws-0150.contoso.com",
            OWN,
            "0xC004F038",
        );
    let r = analyze("1", "250560", &refused);
    let f = finding(&r, "kms-license-unconfirmed").unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["machines"], serde_json::json!(["WS-0150"]));
    let text = f["explanation"].as_str().unwrap();
    assert!(text.contains("2026-09-25 12:00"), "{text}");
    let ev = f["evidence"].as_array().unwrap();
    assert!(
        ev.iter()
            .any(|e| e["path"].as_str().unwrap().ends_with("inventory.txt")),
        "{f}"
    );
    assert!(
        ev.iter()
            .any(|e| e["excerpt"].as_str().unwrap().contains("0xC004F038")),
        "{f}"
    );
    // The refusal since its last activation is the host's count, for this client too.
    assert!(finding(&r, "kms-count-insufficient").is_some(), "{r:#}");
    // No request at all then: the same.
    assert!(
        finding(
            &analyze("1", "250560", &background),
            "kms-license-unconfirmed"
        )
        .is_some()
    );
    // Activated then: nothing to say.
    let activated =
        background.clone() + &request("2026-09-25T13:00:00Z", "ws-0150.contoso.com", OWN);
    let r = analyze("1", "250560", &activated);
    assert!(finding(&r, "kms-license-unconfirmed").is_none(), "{r:#}");
    // A host log that does not reach back to the activation proves nothing.
    let late = request("2026-09-28T02:00:00Z", "ws9.contoso.com", OTHER)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    assert!(finding(&analyze("1", "250560", &late), "kms-license-unconfirmed").is_none());
}

#[test]
fn a_client_its_host_activated_that_is_not_licensed_lost_the_answer() {
    let log = request("2026-09-30T02:00:00Z", "ws-0150.contoso.com", OWN)
        + &request("2026-10-01T11:00:00Z", "ws9.contoso.com", OTHER);
    let r = analyze("2", "30000", &log);
    let f = finding(&r, "kms-response-lost").unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["machines"], serde_json::json!(["WS-0150"]));
}

#[test]
fn a_client_set_to_a_host_whose_log_was_not_supplied_is_kms_host_unknown() {
    // A licensed client is well whatever host activated it: the unknown host is information and
    // the machine stays OK (it was a warning that turned every licensed client of a second,
    // unsupplied host into a warning). A client not licensed is warned.
    for (status, severity) in [("1", "info"), ("2", "warning")] {
        let dir = tempfile::tempdir().unwrap();
        let inv = dir.path().join("inventory.txt");
        let log = dir.path().join("kms1.xml");
        std::fs::write(
            &inv,
            INVENTORY
                .replace("STATUS", status)
                .replace("GRACE", "250000")
                .replace("kms1.contoso.com", "kms-rogue.example.net"),
        )
        .unwrap();
        std::fs::write(
            &log,
            request("2026-10-01T02:00:00Z", "ws9.contoso.com", OTHER),
        )
        .unwrap();
        let (_, r) = run_json(&[
            "analyze",
            "--format",
            "json",
            "--now",
            "2026-10-01T12:00:00Z",
            inv.to_str().unwrap(),
            log.to_str().unwrap(),
        ]);
        let f = finding(&r, "kms-host-unknown").unwrap_or_else(|| panic!("{r:#}"));
        assert!(
            f["explanation"]
                .as_str()
                .unwrap()
                .contains("kms-rogue.example.net"),
            "{f}"
        );
        assert_eq!(f["severity"], severity, "status {status}: {f}");
        if status == "1" {
            let machines = r["machines"].as_array().unwrap();
            let m = machines.iter().find(|m| m["role"] == "kms-client").unwrap();
            assert_eq!(m["verdict"], "ok", "{m}");
        }
    }
}

#[test]
fn one_cmid_under_two_inventory_names_is_a_duplicate_naming_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("sls.csv");
    std::fs::write(
        &csv,
        format!("\"PSComputerName\",\"ClientMachineID\",\"IsKeyManagementServiceMachine\"\r\n\"PC-A\",\"{OWN}\",\"0\"\r\n\"PC-B\",\"{OWN}\",\"0\"\r\n\"PC-C\",\"{OTHER}\",\"0\"\r\n"),
    )
    .unwrap();
    let (_, r) = run_json(&[
        "analyze",
        "--format",
        "json",
        "--now",
        "2026-10-01T12:00:00Z",
        csv.to_str().unwrap(),
    ]);
    let f = finding(&r, "duplicate-cmid").unwrap_or_else(|| panic!("{r:#}"));
    assert_eq!(f["machines"], serde_json::json!(["PC-A", "PC-B"]));
    let ev = f["evidence"].as_array().unwrap();
    let lines: Vec<u64> = ev.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [2, 3], "{f}");
}
