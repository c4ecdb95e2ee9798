//! The licensing inventory of a simulated fleet, as an administrator collects it without client
//! event logs: `Invoke-Command -ComputerName (Get-Content hosts.txt) { Get-CimInstance
//! SoftwareLicensingProduct -Filter "PartialProductKey IS NOT NULL" } | Select-Object … |
//! Export-Csv -NoTypeInformation`, and the same for `SoftwareLicensingService`
//! (research/fleet-inputs.md §1.3). Two CSV files under `DIR/inventory/`, one product row per
//! machine (the Windows product it runs) and one service row per machine, stating each machine's
//! state at the end of the span: every value quoted, CRLF line ends, `PSComputerName` the name
//! as `hosts.txt` lists it (the short name in upper case), `RunspaceId` and `PSShowComputerName`
//! as `Invoke-Command` adds them; WMI's value forms (`LicenseStatus` 0-6, `GracePeriodRemaining`
//! in minutes, `LicenseStatusReason` an unsigned decimal, 4294967295 for counters that do not
//! apply, dates as Export-Csv renders a `DateTime` on an en-US collector in UTC).

use std::path::Path;

use chrono::{DateTime, Utc};

use super::output::{OutputError, Written};
use super::sim::{Fleet, Rng, Role, SimMachine, WINDOWS_APP_ID};

/// The folder under the fleet's output the two files go to.
pub(crate) const FOLDER: &str = "inventory";
/// WMI's "not applicable" for a uint32 counter (-1).
const NOT_APPLICABLE: &str = "4294967295";
/// A `DateTime` of 1601-01-01 (WMI's empty date) as Export-Csv writes it on en-US.
const NO_DATE: &str = "1/1/1601 12:00:00 AM";
/// `RequiredClientCount` of a host's product: the count it needs before it activates clients.
const HOST_REQUIRED_COUNT: &str = "25";

const PRODUCT_COLUMNS: &[&str] = &[
    "PSComputerName",
    "Name",
    "Description",
    "ID",
    "ApplicationID",
    "ProductKeyChannel",
    "PartialProductKey",
    "LicenseStatus",
    "LicenseStatusReason",
    "GracePeriodRemaining",
    "KeyManagementServiceMachine",
    "KeyManagementServicePort",
    "DiscoveredKeyManagementServiceMachineName",
    "DiscoveredKeyManagementServiceMachinePort",
    "VLActivationInterval",
    "VLRenewalInterval",
    "EvaluationEndDate",
    "TrustedTime",
    "RunspaceId",
    "PSShowComputerName",
];

const SERVICE_COLUMNS: &[&str] = &[
    "PSComputerName",
    "ClientMachineID",
    "KeyManagementServiceMachine",
    "KeyManagementServicePort",
    "DiscoveredKeyManagementServiceMachineName",
    "DiscoveredKeyManagementServiceMachinePort",
    "IsKeyManagementServiceMachine",
    "KeyManagementServiceCurrentCount",
    "RequiredClientCount",
    "KeyManagementServiceListeningPort",
    "KeyManagementServiceDnsPublishing",
    "VLActivationInterval",
    "VLRenewalInterval",
    "Version",
    "RunspaceId",
    "PSShowComputerName",
];

/// What the writer needs of the scenario besides the fleet.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Intervals {
    pub activation: u32,
    pub renewal: u32,
}

/// A `DateTime` as Export-Csv writes it with the en-US culture: `10/15/2026 3:04:05 PM`.
fn csv_date(t: DateTime<Utc>) -> String {
    t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

/// One CSV line: every value quoted, quotes doubled, CRLF.
fn line(out: &mut String, values: &[String]) {
    let quoted: Vec<String> = values
        .iter()
        .map(|v| format!("\"{}\"", v.replace('"', "\"\"")))
        .collect();
    out.push_str(&quoted.join(","));
    out.push_str("\r\n");
}

/// The KMS host a machine's settings name: set with `/skms` (its configured host, or the one a
/// rogue setting sent it to), or found through DNS.
struct KmsSetting {
    registered: Option<(String, String)>,
    discovered: Option<(String, String)>,
}

fn split_server(s: &str) -> (String, String) {
    match s.rsplit_once(':') {
        Some((name, port)) => (name.to_owned(), port.to_owned()),
        None => (s.to_owned(), "1688".to_owned()),
    }
}

fn kms_setting(fleet: &Fleet, m: &SimMachine) -> KmsSetting {
    if m.role != Role::KmsClient {
        return KmsSetting {
            registered: None,
            discovered: None,
        };
    }
    if let Some(c) = &m.kms_configured {
        return KmsSetting {
            registered: Some(split_server(c)),
            discovered: None,
        };
    }
    // Without /skms a client only reaches the fleet's hosts through DNS; any other host it used
    // was set on it (a rogue /skms).
    let fleet_host = |u: &str| {
        fleet.machines.iter().any(|h| {
            h.role == Role::KmsHost && format!("{}:{}", h.fqdn, h.port).eq_ignore_ascii_case(u)
        })
    };
    match &m.kms_used {
        Some(u) if fleet_host(u) => KmsSetting {
            registered: None,
            discovered: Some(split_server(u)),
        },
        Some(u) => KmsSetting {
            registered: Some(split_server(u)),
            discovered: None,
        },
        None => KmsSetting {
            registered: None,
            discovered: None,
        },
    }
}

/// The product's name, channel description, key channel and last five key characters.
fn product(m: &SimMachine) -> (&'static str, &'static str, &'static str, &'static str) {
    match m.role {
        Role::KmsHost => (
            "Windows(R), ServerStandard edition",
            "Windows(R) Operating System, VOLUME_KMS_2012-R2_WIN10 channel",
            "Volume:CSVLK",
            "7YK9Q",
        ),
        Role::Mak => (
            "Windows(R), Enterprise edition",
            "Windows(R) Operating System, VOLUME_MAK channel",
            "Volume:MAK",
            "8XKQ3",
        ),
        Role::KmsClient if m.server_os => (
            "Windows(R), ServerStandard edition",
            "Windows(R) Operating System, VOLUME_KMSCLIENT channel",
            "Volume:GVLK",
            "VDYBN",
        ),
        Role::KmsClient => (
            "Windows(R), Enterprise edition",
            "Windows(R) Operating System, VOLUME_KMSCLIENT channel",
            "Volume:GVLK",
            "2YT43",
        ),
    }
}

/// `LicenseStatusReason` as WMI gives it (an unsigned decimal HRESULT) for a license state:
/// success when licensed, `SL_I_OOB_GRACE_PERIOD` / `SL_I_OOT_GRACE_PERIOD` in grace,
/// `SL_E_GRACE_TIME_EXPIRED` in notification (what the simulation's `slmgr /dlv` prints too).
fn reason(status: u8) -> u32 {
    match status {
        2 => 0x4004_F00C,
        3 => 0x4004_F00D,
        5 => 0xC004_F009,
        _ => 0,
    }
}

fn product_row(fleet: &Fleet, m: &SimMachine, iv: Intervals, runspace: &str) -> Vec<String> {
    let (name, description, channel, key) = product(m);
    let kms = kms_setting(fleet, m);
    let l = m.license;
    let grace = match l.status {
        1..=4 | 6 => l.ends.map_or(0, |e| (e - fleet.now).num_minutes().max(0)),
        _ => 0,
    };
    let (reg_name, reg_port) = kms.registered.unwrap_or_default();
    let (disc_name, disc_port) = kms.discovered.unwrap_or_default();
    let port = |p: String| if p.is_empty() { "0".to_owned() } else { p };
    vec![
        m.short.to_ascii_uppercase(),
        name.to_owned(),
        description.to_owned(),
        m.activation_id.to_owned(),
        WINDOWS_APP_ID.to_owned(),
        channel.to_owned(),
        key.to_owned(),
        l.status.to_string(),
        reason(l.status).to_string(),
        grace.to_string(),
        reg_name,
        port(reg_port),
        disc_name,
        port(disc_port),
        iv.activation.to_string(),
        iv.renewal.to_string(),
        NO_DATE.to_owned(),
        csv_date(fleet.now),
        runspace.to_owned(),
        "True".to_owned(),
    ]
}

fn service_row(fleet: &Fleet, m: &SimMachine, iv: Intervals, runspace: &str) -> Vec<String> {
    let kms = kms_setting(fleet, m);
    let (reg_name, reg_port) = kms.registered.unwrap_or_default();
    let (disc_name, disc_port) = kms.discovered.unwrap_or_default();
    let port = |p: String| if p.is_empty() { "0".to_owned() } else { p };
    let host = m.role == Role::KmsHost;
    let dns = m.dns_publishing.as_deref() != Some("off");
    vec![
        m.short.to_ascii_uppercase(),
        // A MAK machine never asked a KMS host: it has no CMID of use.
        if m.role == Role::Mak {
            String::new()
        } else {
            m.cmid.clone()
        },
        reg_name,
        port(reg_port),
        disc_name,
        port(disc_port),
        if host { "1" } else { "0" }.to_owned(),
        if host {
            m.host_count.unwrap_or(0).to_string()
        } else {
            NOT_APPLICABLE.to_owned()
        },
        if host {
            HOST_REQUIRED_COUNT
        } else {
            NOT_APPLICABLE
        }
        .to_owned(),
        if host {
            m.port.to_string()
        } else {
            "0".to_owned()
        },
        if host && dns { "True" } else { "False" }.to_owned(),
        iv.activation.to_string(),
        iv.renewal.to_string(),
        "10.0.22621.2428".to_owned(),
        runspace.to_owned(),
        "True".to_owned(),
    ]
}

/// Writes `inventory/SoftwareLicensingProduct.csv` and `inventory/SoftwareLicensingService.csv`
/// for every machine that has booted by the end of the span (the fan-out reaches the whole
/// fleet, whether its logs are collected or not).
pub(crate) fn write(fleet: &Fleet, out: &Path, iv: Intervals) -> Result<Written, OutputError> {
    let dir = out.join(FOLDER);
    std::fs::create_dir_all(&dir).map_err(|source| OutputError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let header = |cols: &[&str]| {
        let mut s = String::new();
        line(
            &mut s,
            &cols.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>(),
        );
        s
    };
    let mut products = header(PRODUCT_COLUMNS);
    let mut services = header(SERVICE_COLUMNS);
    for m in fleet.machines.iter().filter(|m| m.boot <= fleet.now) {
        // Each remote session has its own runspace id; the product and service query of one
        // machine are two sessions.
        let mut rng = Rng::derive(fleet.seed ^ 0x0069_6E76, &m.fqdn);
        let (a, b) = (rng.guid(), rng.guid());
        line(&mut products, &product_row(fleet, m, iv, &a));
        line(&mut services, &service_row(fleet, m, iv, &b));
    }
    let mut written = Written::default();
    for (name, text) in [
        ("SoftwareLicensingProduct.csv", products),
        ("SoftwareLicensingService.csv", services),
    ] {
        let p = dir.join(name);
        std::fs::write(&p, &text).map_err(|source| OutputError::Io {
            path: p.display().to_string(),
            source,
        })?;
        written.files.push(p.display().to_string());
        written.bytes += text.len() as u64;
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_values_take_the_forms_export_csv_writes() {
        let t = DateTime::parse_from_rfc3339("2026-10-15T15:04:05Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(csv_date(t), "10/15/2026 3:04:05 PM");
        let mut s = String::new();
        line(&mut s, &["a\"b".to_owned(), String::new()]);
        assert_eq!(s, "\"a\"\"b\",\"\"\r\n");
        assert_eq!(reason(5), 3_221_549_065);
        assert_eq!(split_server("kms01.contoso.com:1688").1, "1688");
    }
}
