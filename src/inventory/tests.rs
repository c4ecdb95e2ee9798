use super::*;
use crate::hresult::Hresult;
use crate::model::license::LicenseState;
use crate::model::snapshot::{ProductFamily, RemainingKind};
use crate::rules::inventory::ValueKind;
use crate::rules::slmgr::FieldId;

use convert::{Value, convert};

fn rules() -> Rules {
    Rules::embedded().unwrap()
}

fn read_text(text: &str) -> Option<Vec<LicenseSnapshot>> {
    read(&rules(), "inv.txt", text.as_bytes())
}

#[test]
fn values_are_read_the_way_wmi_writes_them() {
    let r = rules();
    let c = |k, raw| convert(&r, k, raw);
    assert_eq!(
        c(ValueKind::Hresult, "3221549172"),
        Value::Code(Hresult(0xC004_F074))
    );
    assert_eq!(
        c(ValueKind::Hresult, "-1073418124"),
        Value::Code(Hresult(0xC004_F074))
    );
    assert_eq!(
        c(ValueKind::Hresult, "0xC004F074"),
        Value::Code(Hresult(0xC004_F074))
    );
    assert_eq!(c(ValueKind::Count, "4294967295"), Value::NotApplicable);
    assert_eq!(c(ValueKind::Rearm, "4294967295"), Value::Signed(-1));
    assert_eq!(c(ValueKind::Minutes, "259200"), Value::Number(259_200));
    for (n, s) in [
        ("0", LicenseState::Unlicensed),
        ("1", LicenseState::Licensed),
        ("2", LicenseState::InitialGrace),
        ("3", LicenseState::AdditionalGrace),
        ("4", LicenseState::NonGenuineGrace),
        ("5", LicenseState::Notification),
        ("6", LicenseState::ExtendedGrace),
    ] {
        assert_eq!(c(ValueKind::LicenseStatus, n), Value::State(s), "{n}");
    }
    assert_eq!(
        c(ValueKind::LicenseStatus, "Licensed"),
        Value::State(LicenseState::Licensed)
    );
    assert_eq!(
        c(ValueKind::LicenseStatus, "9"),
        Value::Unreadable("9".into())
    );
    assert_eq!(c(ValueKind::Flag, "True"), Value::Flag(true));
    assert_eq!(c(ValueKind::Text, "  "), Value::Empty);
}

fn parsed(v: &Value) -> Option<String> {
    match v {
        Value::Date(Some(d)) => d.parsed.map(|t| t.to_string()),
        _ => None,
    }
}

#[test]
fn dates_in_every_form_and_1601_is_none() {
    let r = rules();
    let d = |raw| convert(&r, ValueKind::Datetime, raw);
    assert_eq!(
        parsed(&d("20240101120000.000000+000")).as_deref(),
        Some("2024-01-01 12:00:00")
    );
    assert_eq!(
        parsed(&d("/Date(1704110400000)/")).as_deref(),
        Some("2024-01-01 12:00:00")
    );
    assert_eq!(
        parsed(&d("\\/Date(1704110400000)\\/")).as_deref(),
        Some("2024-01-01 12:00:00")
    );
    assert_eq!(
        parsed(&d("2024-01-01T12:00:00+01:00")).as_deref(),
        Some("2024-01-01 12:00:00")
    );
    assert_eq!(
        parsed(&d("2025-03-14 06:12:40.000")).as_deref(),
        Some("2025-03-14 06:12:40")
    );
    assert_eq!(
        parsed(&d("3/14/2025 9:21:07 AM")).as_deref(),
        Some("2025-03-14 09:21:07")
    );
    assert_eq!(
        parsed(&d("14.03.2025 09:21:07")).as_deref(),
        Some("2025-03-14 09:21:07")
    );
    for none in [
        "16010101000000.000000-000",
        "/Date(-11644473600000)/",
        "1/1/1601 5:00:00 AM",
    ] {
        assert_eq!(d(none), Value::Date(None), "{none}");
    }
    assert!(matches!(d("soon"), Value::Unreadable(_)));
}

#[test]
fn recognised_by_property_names_not_by_layout() {
    // Two known names, one of them specific to the licensing classes.
    assert!(
        read_text("Name          : Windows(R), Professional edition\nLicenseStatus : 1\n")
            .is_some()
    );
    // `Name` and `ID` alone are any class's.
    assert!(read_text("Name : x\nID   : 2de67392-b7a7-462a-b1ca-108dd189f588\n").is_none());
    // slmgr's labels have spaces: not properties.
    assert!(read_text("Name: Windows(R), Enterprise edition\nLicense Status: Licensed\nPartial Product Key: 2YT43\n").is_none());
    // An event export's columns are not these classes'.
    assert!(read_text("\"Id\",\"ProviderName\",\"Message\"\n\"12288\",\"SPP\",\"x\"\n").is_none());
    // JSON, one object, a minimal selection.
    let s = read_text("{\"Name\": \"Windows 11 Pro\", \"LicenseStatus\": 5}").unwrap();
    assert_eq!(
        s[0].products[0].license_status,
        Some(LicenseState::Notification)
    );
}

#[test]
fn format_list_joins_wrapped_values_and_splits_instances() {
    let text = "PS C:\\> Get-CimInstance SoftwareLicensingProduct | fl\n\n\nName              : Windows(R), Enterprise edition\nDescription       : Windows(R) Operating System, VOLUME_KMS\n                    CLIENT channel\nLicenseStatus     : 1\nPartialProductKey : 2YT43\n\nName              : Office 16, Office16ProPlusVL_KMS_Client edition\nLicenseStatus     : 0\nPartialProductKey :\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.len(), 1);
    let p = &s[0].products;
    assert_eq!(p.len(), 2);
    assert_eq!(p[0].channel.as_deref(), Some("VOLUME_KMSCLIENT"));
    assert!(p[0].in_use);
    // A SKU without a key is not in use (slmgr /dlv all's "This license is not in use").
    assert!(!p[1].in_use);
}

#[test]
fn csv_rows_group_by_machine_and_the_service_gives_the_cmid() {
    let text = "#TYPE Selected.Microsoft.Management.Infrastructure.CimInstance\n\"PSComputerName\",\"Name\",\"Description\",\"LicenseStatus\",\"LicenseStatusReason\",\"GracePeriodRemaining\",\"PartialProductKey\",\"KeyManagementServiceMachine\",\"KeyManagementServicePort\"\n\"PC1\",\"Windows(R), Enterprise edition\",\"Windows(R) Operating System, VOLUME_KMSCLIENT channel\",\"5\",\"3221549172\",\"0\",\"2YT43\",\"kms.contoso.com\",\"0\"\n\"PC2\",\"Windows(R), Enterprise edition\",\"Windows(R) Operating System, VOLUME_KMSCLIENT channel\",\"1\",\"1074066433\",\"250000\",\"2YT43\",\"\",\"0\"\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.len(), 2);
    let pc1 = s
        .iter()
        .find(|x| x.machine.as_deref() == Some("PC1"))
        .unwrap();
    let p = &pc1.products[0];
    assert_eq!(p.notification_reason, Some(Hresult(0xC004_F074)));
    let k = p.kms_client.as_ref().unwrap();
    assert_eq!(
        k.registered_host.as_ref().unwrap().to_string(),
        "kms.contoso.com:1688"
    );
    assert_eq!(p.lines[&FieldId::LicenseStatus].line, 3);
    let pc2 = s
        .iter()
        .find(|x| x.machine.as_deref() == Some("PC2"))
        .unwrap();
    let p = &pc2.products[0];
    // A licensed product's success reason (0x4004F401) is no notification reason.
    assert_eq!(p.notification_reason, None);
    let r = p.remaining.as_ref().unwrap();
    assert_eq!(
        (r.kind, r.minutes),
        (RemainingKind::VolumeActivation, 250_000)
    );

    let service = "\"PSComputerName\",\"ClientMachineID\",\"Version\"\n\"PC1\",\"1b7e0c52-9a3d-4f61-8e2b-5d0c7a94e3f1\",\"10.0.19041.1\"\n";
    let s = read_text(service).unwrap();
    assert_eq!(
        s[0].cmid.as_deref(),
        Some("1b7e0c52-9a3d-4f61-8e2b-5d0c7a94e3f1")
    );
    assert!(s[0].products.is_empty());
}

#[test]
fn configuration_manager_columns_and_kms_host_counters() {
    let text = "Netbios_Name0;ResourceID;Name0;LicenseStatus0;PartialProductKey0;IsKeyManagementServiceMachine0;KeyManagementServiceCurrentCount0;TimeStamp\nKMS01;16777220;Windows(R), ServerStandard edition;1;XXXXX;1;27;2025-03-14 06:12:40.000\n;16777221;Windows(R), ServerStandard edition;1;YYYYY;0;4294967295;2025-03-14 06:12:40.000\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.len(), 2);
    let host = &s[0];
    assert_eq!(host.machine.as_deref(), Some("KMS01"));
    let h = host.products[0].kms_host.as_ref().unwrap();
    assert!(h.enabled);
    assert_eq!(h.current_count, Some(27));
    // Inventory time stands for the time the state was seen.
    assert!(host.observed_at().is_some());
    // Without a name, the resource id names the machine; a non-host has no host section.
    assert_eq!(s[1].machine.as_deref(), Some("ResourceID 16777221"));
    assert!(s[1].products[0].kms_host.is_none());
}

#[test]
fn without_the_key_column_an_unlicensed_row_beside_a_licensed_one_is_an_unused_sku() {
    let text = "[{\"Name\":\"A\",\"LicenseStatus\":1,\"GracePeriodRemaining\":0},{\"Name\":\"B\",\"LicenseStatus\":0,\"GracePeriodRemaining\":0}]";
    let s = read_text(text).unwrap();
    let in_use: Vec<bool> = s[0].products.iter().map(|p| p.in_use).collect();
    assert_eq!(in_use, [true, false]);
    let alone =
        read_text("[{\"Name\":\"B\",\"LicenseStatus\":0,\"GracePeriodRemaining\":0}]").unwrap();
    assert!(alone[0].products[0].in_use);
}

#[test]
fn raw_cim_json_properties_are_read() {
    let text = "{\"CimInstanceProperties\":[{\"Name\":\"LicenseStatus\",\"Value\":1},{\"Name\":\"PartialProductKey\",\"Value\":\"2YT43\"}],\"PSComputerName\":\"PC9\"}";
    let s = read_text(text).unwrap();
    assert_eq!(s[0].machine.as_deref(), Some("PC9"));
    assert_eq!(
        s[0].products[0].partial_product_key.as_deref(),
        Some("2YT43")
    );
}

#[test]
fn hostile_inputs_do_not_panic() {
    for text in [
        "LicenseStatus : \nPartialProductKey :\n",
        "[1, 2, {\"LicenseStatus\": {\"x\": 1}, \"PartialProductKey\": null}]",
        "\"LicenseStatus\",\"PartialProductKey\"\n\"1\n",
        "{\"LicenseStatus\": 1, \"PartialProductKey\": ",
        "LicenseStatus : 99999999999999999999\nGracePeriodRemaining : -5\n",
    ] {
        let _ = read_text(text);
    }
}

#[test]
fn csv_rows_with_crlf_line_ends_keep_their_own_line_numbers() {
    let text = "\"PSComputerName\",\"ClientMachineID\",\"IsKeyManagementServiceMachine\"\r\n\"PC-A\",\"6f1e0a42-5b7c-4d2e-9a31-0c8d7e6f5a41\",\"0\"\r\n\"PC-B\",\"6f1e0a42-5b7c-4d2e-9a31-0c8d7e6f5a41\",\"0\"\r\n";
    let s = read_text(text).unwrap();
    let lines: Vec<Option<u32>> = s
        .iter()
        .map(|x| x.machine_line.as_ref().map(|l| l.line))
        .collect();
    assert_eq!(lines, [Some(2), Some(3)]);
}

fn utf16le(text: &str, bom: bool) -> Vec<u8> {
    let mut v = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
    v.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
    v
}

const WMIC_CSV: &str = "\r\nNode,Description,GracePeriodRemaining,ID,LicenseStatus,LicenseStatusReason,Name,PartialProductKey\r\nPC1,Windows(R) Operating System, VOLUME_KMSCLIENT channel,0,73111121-5638-40f6-bc11-f1d7b0d64300,5,3221549172,Windows(R), Enterprise edition,2YT43\r\nPC2,Windows(R) Operating System, VOLUME_KMSCLIENT channel,250000,73111121-5638-40f6-bc11-f1d7b0d64300,1,1074066433,Windows(R), Enterprise edition,2YT43\r\n";

#[test]
fn wmic_csv_in_utf16_names_each_machine_by_node_and_rejoins_unquoted_commas() {
    // wmic redirected to a file writes UTF-16LE (with or without a BOM); piped through `find` or
    // `more` it is ANSI with `\r\r\n` line ends.
    let piped = WMIC_CSV.replace("\r\n", "\r\r\n");
    for bytes in [
        utf16le(WMIC_CSV, true),
        utf16le(WMIC_CSV, false),
        piped.into_bytes(),
    ] {
        let s = read(&rules(), "wmic.csv", &bytes).unwrap();
        assert_eq!(s.len(), 2);
        let pc1 = &s[0];
        assert_eq!(pc1.machine.as_deref(), Some("PC1"));
        let p = &pc1.products[0];
        assert_eq!(p.name.as_deref(), Some("Windows(R), Enterprise edition"));
        assert_eq!(p.channel.as_deref(), Some("VOLUME_KMSCLIENT"));
        assert_eq!(p.license_status, Some(LicenseState::Notification));
        assert_eq!(p.notification_reason, Some(Hresult(0xC004_F074)));
        assert_eq!(p.partial_product_key.as_deref(), Some("2YT43"));
        assert_eq!(s[1].machine.as_deref(), Some("PC2"));
        assert_eq!(
            s[1].products[0].license_status,
            Some(LicenseState::Licensed)
        );
    }
}

#[test]
fn wmic_format_list_blocks_of_name_equals_value() {
    let text = "\r\n\r\nDescription=Windows(R) Operating System, VOLUME_KMSCLIENT channel\r\nID=73111121-5638-40f6-bc11-f1d7b0d64300\r\nKeyManagementServiceMachine=kms.contoso.com\r\nKeyManagementServicePort=1688\r\nLicenseStatus=2\r\nName=Windows(R), Enterprise edition\r\nPartialProductKey=2YT43\r\n\r\n\r\n";
    let s = read(&rules(), "wmic.txt", &utf16le(text, true)).unwrap();
    assert_eq!(s.len(), 1);
    let p = &s[0].products[0];
    assert_eq!(p.license_status, Some(LicenseState::InitialGrace));
    assert_eq!(
        p.kms_client
            .as_ref()
            .and_then(|k| k.registered_host.as_ref())
            .map(ToString::to_string)
            .as_deref(),
        Some("kms.contoso.com:1688")
    );
    // `Name=value` is wmic's only when the name is a bare identifier: a Format-List value holding
    // `=` stays that value.
    assert_eq!(
        records::list_pair("Description : a=b"),
        Some(("Description", "a=b"))
    );
}

#[test]
fn office_software_protection_classes_give_office_products_with_their_own_cmid() {
    // Get-WmiObject on Windows 7 with Office 2010: Office's licences in osppsvc's classes, named
    // by __CLASS (Get-WmiObject) or CimClass (Get-CimInstance).
    let text = "__CLASS : SoftwareLicensingProduct\nName : Windows(R) 7, Enterprise edition\nDescription : Windows Operating System - Windows(R) 7, VOLUME_KMSCLIENT channel\nLicenseStatus : 1\nPartialProductKey : H8Q99\nGracePeriodRemaining : 250000\n\n__CLASS : SoftwareLicensingService\nClientMachineID : 11111111-2222-3333-4444-555555555555\nKeyManagementServiceMachine : \n\nCimClass : root/cimv2:OfficeSoftwareProtectionProduct\nName : Office 14, OfficeProPlus-KMS_Client edition\nDescription : Office 14, VOLUME_KMSCLIENT channel\nLicenseStatus : 2\nPartialProductKey : 2WQTQ\nGracePeriodRemaining : 40000\nDiscoveredKeyManagementServiceMachineName : \n\n__CLASS : OfficeSoftwareProtectionService\nClientMachineID : 66666666-7777-8888-9999-000000000000\nVersion : 14.0.4763.1000\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.len(), 1);
    let snap = &s[0];
    // Windows' CMID names the machine; Office's goes with Office's product.
    assert_eq!(
        snap.cmid.as_deref(),
        Some("11111111-2222-3333-4444-555555555555")
    );
    assert_eq!(snap.products.len(), 2);
    let office = &snap.products[1];
    assert_eq!(office.family, Some(ProductFamily::Office));
    assert!(!office.is_windows());
    assert_eq!(office.license_status, Some(LicenseState::InitialGrace));
    let k = office.kms_client.as_ref().unwrap();
    assert_eq!(
        k.cmid.as_deref(),
        Some("66666666-7777-8888-9999-000000000000")
    );
    assert!(k.dns_discovery_failed);
    assert!(snap.products[0].is_windows());
    assert_eq!(
        snap.windows_product().map(|p| p.line),
        Some(snap.products[0].line)
    );
    // Office alone (its classes exported on their own): its verdict comes from its product.
    let only = text.split("\n\n").skip(2).collect::<Vec<_>>().join("\n\n");
    let s = read_text(&only).unwrap();
    assert_eq!(s[0].products.len(), 1);
    assert_eq!(s[0].products[0].family, Some(ProductFamily::Office));
    assert_eq!(
        s[0].cmid.as_deref(),
        Some("66666666-7777-8888-9999-000000000000")
    );
}
