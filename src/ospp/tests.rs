//! Unit tests of the ospp reader: each status word, grace in days and minutes, informational
//! codes, block boundaries, `/act`, `/dinstid`, `/dhistorykms`, the one-line results, a
//! localized licence list, and texts that are not ospp output. The texts follow ospp.vbs's own
//! strings (its MSG_* constants and code paths); values are made up or public KMS client ids.

use super::*;
use crate::hresult::Hresult;
use crate::model::license::LicenseState;
use crate::model::snapshot::{CommandTool, ProductFamily, RemainingKind};

fn read_text(text: &str) -> Option<LicenseSnapshot> {
    let rules = Rules::embedded().unwrap();
    read(&rules, "t.txt", text.as_bytes()).map(|mut v| v.remove(0))
}

fn dstatus_block(status: &str, code: Option<&str>, grace: Option<&str>) -> String {
    let mut s = String::from(
        "---Processing--------------------------\n---------------------------------------\nPRODUCT ID: 00000-00000-00000-AA000\nSKU ID: d450596f-894d-49e0-966a-fd39ed4c4c64\nLICENSE NAME: Office 16, Office16ProPlusVL_KMS_Client edition\nLICENSE DESCRIPTION: Office 16, VOLUME_KMSCLIENT channel\nBETA EXPIRATION: 01/01/1601\n",
    );
    s += "LICENSE STATUS:  ";
    s += status;
    s += "\n";
    if let Some(c) = code {
        s += "ERROR CODE: ";
        s += c;
        s += "\nERROR DESCRIPTION: text\n";
    }
    if let Some(g) = grace {
        s += "REMAINING GRACE: ";
        s += g;
        s += "\n";
    }
    s.push_str("Last 5 characters of installed product key: WFG99\n---------------------------------------\n---------------------------------------\n---Exiting-----------------------------\n");
    s
}

#[test]
fn every_status_word_of_ospp_vbs() {
    for (word, state) in [
        ("---LICENSED---", LicenseState::Licensed),
        ("---UNLICENSED---", LicenseState::Unlicensed),
        ("---OOB_GRACE---", LicenseState::InitialGrace),
        ("---OOB_ GRACE---", LicenseState::InitialGrace),
        ("---OOT_GRACE---", LicenseState::AdditionalGrace),
        ("---NON_GENUINE_GRACE---", LicenseState::NonGenuineGrace),
        ("---NOTIFICATIONS---", LicenseState::Notification),
        ("---EXTENDED GRACE---", LicenseState::ExtendedGrace),
        ("---UNKNOWN---", LicenseState::Unknown),
    ] {
        let s = read_text(&dstatus_block(word, None, None)).unwrap();
        let p = &s.products[0];
        assert_eq!(p.license_status, Some(state), "{word}");
        assert_eq!(p.family, Some(ProductFamily::Office));
        assert_eq!(p.partial_product_key.as_deref(), Some("WFG99"));
        assert_eq!(p.channel.as_deref(), Some("VOLUME_KMSCLIENT"));
        assert!(s.not_understood.is_empty(), "{:?}", s.not_understood);
    }
}

#[test]
fn grace_is_read_in_days_and_minutes_and_the_partial_key_is_no_rearm_count() {
    let text = dstatus_block(
        "---OOB_GRACE---",
        Some("0x4004F00C"),
        Some("45 days  (64800 minute(s) before expiring)"),
    );
    let p = read_text(&text).unwrap().products.remove(0);
    let r = p.remaining.unwrap();
    assert_eq!(
        (r.kind, r.minutes, r.days_printed),
        (RemainingKind::Grace, 64_800, Some(45))
    );
    assert_eq!(p.rearm_sku, None);
    assert_eq!(p.rearm_app, None);
    // The OOB grace reason is a success code: information, not a notification reason.
    assert_eq!(p.notification_reason, None);
    assert_eq!(p.status_reason, Some(Hresult(0x4004_F00C)));
}

#[test]
fn a_licensed_kms_client_keeps_its_validity_and_its_kms_section() {
    let text = "---Processing--------------------------\n---------------------------------------\nSKU ID: d450596f-894d-49e0-966a-fd39ed4c4c64\nLICENSE NAME: Office 16, Office16ProPlusVL_KMS_Client edition\nLICENSE DESCRIPTION: Office 16, VOLUME_KMSCLIENT channel\nLICENSE STATUS:  ---LICENSED--- \nERROR CODE: 0x4004F040 (for information purposes only as the status is licensed)\nERROR DESCRIPTION: The Software Licensing Service reported that the product was activated but the owner should verify the Product Use Rights.\nREMAINING GRACE: 180 days  (259200 minute(s) before expiring)\nLast 5 characters of installed product key: WFG99\nActivation Type Configuration: ALL\n\tKMS machine name from DNS: kms01.contoso.com:1688\n\tKMS machine registry override defined: kms02.contoso.com:1688\n\tActivation Interval: 120 minutes\n\tRenewal Interval: 10080 minutes\n\tKMS host caching: Enabled\n---------------------------------------\n---------------------------------------\n---Exiting-----------------------------\n";
    let s = read_text(text).unwrap();
    let p = &s.products[0];
    assert_eq!(p.license_status, Some(LicenseState::Licensed));
    assert_eq!(p.status_reason, Some(Hresult(0x4004_F040)));
    assert_eq!(p.notification_reason, None);
    let r = p.remaining.as_ref().unwrap();
    assert_eq!(
        (r.kind, r.minutes),
        (RemainingKind::VolumeActivation, 259_200)
    );
    let c = p.kms_client.as_ref().unwrap();
    assert_eq!(c.dns_host.as_ref().unwrap().host, "kms01.contoso.com");
    assert_eq!(
        c.registered_host.as_ref().unwrap().host,
        "kms02.contoso.com"
    );
    assert_eq!(
        (
            c.activation_interval_minutes,
            c.renewal_interval_minutes,
            c.host_caching
        ),
        (Some(120), Some(10080), Some(true))
    );
    assert_eq!(p.activation_type.as_deref(), Some("ALL"));
    assert!(s.not_understood.is_empty(), "{:?}", s.not_understood);
}

#[test]
fn a_failure_code_of_a_state_that_is_not_licensed_is_its_reason() {
    let text = dstatus_block("---NOTIFICATIONS---", Some("0xC004F009"), None);
    let p = read_text(&text).unwrap().products.remove(0);
    assert_eq!(p.notification_reason, Some(Hresult(0xC004_F009)));
    assert_eq!(p.status_reason, None);
}

#[test]
fn each_block_is_one_product_and_its_sku_id_is_its_own() {
    let text = "---Processing--------------------------\n---------------------------------------\nSKU ID: 11111111-1111-1111-1111-111111111111\nLICENSE NAME: Office 16, Office16ProPlusR_Grace edition\nLICENSE DESCRIPTION: Office 16, RETAIL(Grace) channel\nLICENSE STATUS:  ---OOB_GRACE---\nREMAINING GRACE: 4 days  (7195 minute(s) before expiring)\nLast 5 characters of installed product key: AAAAA\n---------------------------------------\nSKU ID: 22222222-2222-2222-2222-222222222222\nLICENSE NAME: Office 16, Office16O365ProPlusR_Subscription1 edition\nLICENSE DESCRIPTION: Office 16, TIMEBASED_SUB channel\nLICENSE STATUS:  ---LICENSED---\nERROR CODE: 0x4004FC04 (for information purposes only as the status is licensed)\nREMAINING GRACE: 30 days  (43200 minute(s) before expiring)\nLast 5 characters of installed product key: BBBBB\nSKU ID: 33333333-3333-3333-3333-333333333333\nLICENSE NAME: Office 16, Office16ProPlusR_Retail edition\nLICENSE DESCRIPTION: Office 16, RETAIL channel\nLICENSE STATUS:  ---UNLICENSED---\nERROR CODE: 0xC004F014\n---------------------------------------\n---Exiting-----------------------------\n";
    let s = read_text(text).unwrap();
    let ids: Vec<(&str, &str, bool)> = s
        .products
        .iter()
        .map(|p| {
            (
                p.activation_id.as_deref().unwrap(),
                p.channel.as_deref().unwrap(),
                p.in_use,
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            (
                "11111111-1111-1111-1111-111111111111",
                "RETAIL(GRACE)",
                true
            ),
            (
                "22222222-2222-2222-2222-222222222222",
                "TIMEBASED_SUB",
                true
            ),
            // A keyless SKU of /dstatusall is not in use.
            ("33333333-3333-3333-3333-333333333333", "RETAIL", false),
        ]
    );
    let sub = &s.products[1];
    assert_eq!(sub.status_reason, Some(Hresult(0x4004_FC04)));
    assert_eq!(
        sub.remaining.as_ref().map(|r| r.kind),
        Some(RemainingKind::TimebasedActivation)
    );
}

#[test]
fn act_results_are_commands_per_product() {
    let text = "C:\\Program Files\\Microsoft Office\\Office16>cscript ospp.vbs /act\n---Processing--------------------------\n---------------------------------------\nInstalled product key detected - attempting to activate the following product:\nSKU ID: 11111111-1111-1111-1111-111111111111\nLICENSE NAME: Office 21, Office21ProPlus2021R_Grace edition\nLICENSE DESCRIPTION: Office 21, RETAIL(Grace) channel\nLast 5 characters of installed product key: AAAAA\nERROR CODE: 0xC004F017\nERROR DESCRIPTION: The Software Licensing Service reported that the license is not installed.\n---------------------------------------\nInstalled product key detected - attempting to activate the following product:\nSKU ID: 22222222-2222-2222-2222-222222222222\nLICENSE NAME: Office 21, Office21ProPlus2021VL_KMS_Client_AE edition\nLICENSE DESCRIPTION: Office 21, VOLUME_KMSCLIENT channel\nLast 5 characters of installed product key: BBBBB\n<Product activation successful>\n---------------------------------------\n---------------------------------------\n---Exiting-----------------------------\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.products.len(), 2);
    assert!(s.products.iter().all(|p| p.license_status.is_none()));
    let c: Vec<(CommandTool, &str, bool, Option<Hresult>)> = s
        .commands
        .iter()
        .map(|c| (c.tool, c.command.as_str(), c.succeeded, c.code))
        .collect();
    assert_eq!(
        c,
        [
            (CommandTool::Ospp, "act", false, Some(Hresult(0xC004_F017))),
            (CommandTool::Ospp, "act", true, None),
        ]
    );
    assert_eq!(
        s.commands[0].product.as_deref(),
        Some("Office 21, Office21ProPlus2021R_Grace edition")
    );
    assert!(s.commands[0].text.contains("license is not installed"));
}

#[test]
fn one_line_results_of_the_office_tools() {
    for (cmd, line, ok, code) in [
        (
            "inpkey:XXXXX-XXXXX-XXXXX-XXXXX-6F7TH",
            "<Product key installation successful>",
            true,
            None,
        ),
        (
            "unpkey:6F7TH",
            "<Product key uninstall successful>",
            true,
            None,
        ),
        (
            "unpkey:6F7TH",
            "<Product key not found>",
            false,
            Some(crate::model::ids::PKEY_NOT_INSTALLED),
        ),
        (
            "sethst:kms01.contoso.com",
            "Successfully applied setting.",
            true,
            None,
        ),
        (
            "inslic:\"x.xrm-ms\"",
            "Office license installed successfully.",
            true,
            None,
        ),
        (
            "inpkey:XXXXX-XXXXX-XXXXX-XXXXX-XXXXX",
            "ERROR CODE: 0xC004F069",
            false,
            Some(Hresult(0xC004_F069)),
        ),
    ] {
        let text = format!(
            "C:\\Office16>cscript ospp.vbs /{cmd}\nMicrosoft (R) Windows Script Host Version 5.812\nCopyright (C) Microsoft Corporation. All rights reserved.\n\n---Processing--------------------------\n---------------------------------------\n{line}\n---------------------------------------\n---Exiting-----------------------------\n"
        );
        let s = read_text(&text).unwrap();
        let c = &s.commands[0];
        let want = cmd.split(':').next().unwrap();
        assert_eq!(
            (c.command.as_str(), c.succeeded, c.code),
            (want, ok, code),
            "{line}"
        );
        assert!(s.not_understood.is_empty(), "{:?}", s.not_understood);
    }
}

#[test]
fn dhistorykms_lists_attempts_with_host_and_result() {
    let text = "Searching for KMS activation events on machine: PC042\nEvent ID: 12288\n\nCoordinated Universal Time Written: 9/29/2010 5:52:10 PM\nERROR/HOST: 0xC004F074, 0x00000000, kms01.contoso.com\nERROR DESCRIPTION: The Software Licensing Service reported that the product could not be activated.\n---------------------------------------\nCoordinated Universal Time Written: 9/30/2010 9:10:00 AM\nERROR/HOST: 0x00000000, 0x00000000, kms01.contoso.com\nERROR DESCRIPTION: N/A\n---------------------------------------\n---Exiting-----------------------------\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.machine.as_deref(), Some("PC042"));
    let a: Vec<(Hresult, Option<&str>, bool)> = s
        .kms_attempts
        .iter()
        .map(|a| {
            (
                a.code,
                a.host.as_deref(),
                a.time.as_ref().is_some_and(|t| t.parsed.is_some()),
            )
        })
        .collect();
    assert_eq!(
        a,
        [
            (Hresult(0xC004_F074), Some("kms01.contoso.com"), true),
            (Hresult(0), Some("kms01.contoso.com"), true),
        ]
    );
}

#[test]
fn dinstid_names_each_product_with_its_installation_id() {
    let text = "---Processing--------------------------\n---------------------------------------\nInstallation ID for: Office 16, Office16ProPlusVL_MAK edition: 123456789012345678901234567890123456789012345678901234\n---------------------------------------\n---------------------------------------\n---Exiting-----------------------------\n";
    let s = read_text(text).unwrap();
    let p = &s.products[0];
    assert_eq!(
        p.name.as_deref(),
        Some("Office 16, Office16ProPlusVL_MAK edition")
    );
    assert_eq!(
        p.installation_id.as_deref(),
        Some("123456789012345678901234567890123456789012345678901234")
    );
}

#[test]
fn a_localized_licence_list_with_bullets_and_headings() {
    let text = "Office 激活处理\n \nOffice 21, Office21Excel2021R Grace edition\n•\t许可证说明: Office 21, RETAIL(Grace) channel\n•\tSKU ID: 11111111-1111-1111-1111-111111111111\n•\t许可证状态:  OOB_宽限期 \n•\t错误代码: 0x4004F00C\n•\t剩余期限: 4 天 (7054 分钟后到期)\n•\t产品密钥的最后五个字符: AAAAA\n \nOffice 21, Office21Excel2021R Retail edition\n•\t许可证说明: Office 21, RETAIL channel\n•\tSKU ID: 22222222-2222-2222-2222-222222222222\n•\t许可证状态:  ---未许可--- \n•\t错误代码: 0xC004F014\n";
    let s = read_text(text).unwrap();
    assert_eq!(s.languages.first().map(String::as_str), Some("zh-CN"));
    assert_eq!(s.products.len(), 2);
    let grace = &s.products[0];
    assert_eq!(grace.license_status, Some(LicenseState::InitialGrace));
    assert_eq!(grace.status_reason, Some(Hresult(0x4004_F00C)));
    assert_eq!(
        grace
            .remaining
            .as_ref()
            .map(|r| (r.minutes, r.days_printed)),
        Some((7054, Some(4)))
    );
    let unused = &s.products[1];
    assert_eq!(unused.license_status, Some(LicenseState::Unlicensed));
    assert!(!unused.in_use);
    assert!(s.commands.is_empty());
}

#[test]
fn texts_that_are_not_ospp_output_are_left_to_other_readers() {
    for text in [
        "Name: Windows(R), Enterprise edition\nDescription: Windows(R) Operating System, VOLUME_KMSCLIENT channel\nPartial Product Key: 2YT43\nLicense Status: Licensed\n",
        "Something went wrong.\nError code: 0xC004F025\n",
        "Dear helpdesk, Office says it is unlicensed.\n",
        "",
    ] {
        assert!(read_text(text).is_none(), "{text}");
    }
}

#[test]
fn a_licence_block_collapsed_onto_one_line_is_cut_at_its_labels() {
    // An Office Tool Plus result pasted as a GitHub issue title
    // (github.com/YerongAI/Office-Tool/issues/282), Chinese labels on one line.
    let s = read_text("Office 21, Office21ProPlus2021VL_KMS_Client_AE edition 许可证说明: Office 21, VOLUME_KMSCLIENT channel 产品密钥的最后五个字符: 6F7TH 错误代码: 0xC004E015 错误信息: 软件授权服务报告许可证使用失败。[BUG]\n").unwrap();
    assert_eq!(s.products.len(), 1);
    assert_eq!(s.products[0].channel.as_deref(), Some("VOLUME_KMSCLIENT"));
    assert_eq!(s.products[0].partial_product_key.as_deref(), Some("6F7TH"));
    // Labels glued to the value before them (a page copy without line breaks).
    let s = read_text("BETA EXPIRATION: 1601/1/1LICENSE STATUS:  ---LICENSED---REMAINING GRACE: 179 days  (258131 minute(s) before expiring)LICENSE NAME: Office 15, OfficeProPlusVL_KMS_Client edition\n").unwrap();
    assert_eq!(s.products[0].license_status, Some(LicenseState::Licensed));
    // One label and a colon in its value: one line.
    let v = vocab::Vocabulary::new(&Rules::embedded().unwrap());
    assert_eq!(
        v.collapsed_parts("KMS machine registry override defined: 10.3.0.2:1688"),
        vec!["KMS machine registry override defined: 10.3.0.2:1688"]
    );
}
