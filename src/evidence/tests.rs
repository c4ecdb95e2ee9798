use super::*;
use crate::hresult::Hresult;

fn rules() -> Rules {
    Rules::embedded().unwrap()
}

fn codes(line: &str) -> Vec<u32> {
    scan::codes_in_line(&rules(), line)
        .into_iter()
        .map(|h| h.0)
        .collect()
}

#[test]
fn every_spelling_in_running_text_is_found() {
    for (line, want) in [
        ("Error code: 0xC004F074", 0xC004_F074),
        (
            "activation fails with hr=0xC004F074 every time",
            0xC004_F074,
        ),
        ("Error [0xC004E016]", 0xC004_E016),
        ("It says 0XC004C003.", 0xC004_C003),
        ("failed with 0x80072ee2, no network?", 0x8007_2EE2),
        ("error code c004f074 again", 0xC004_F074),
        ("the code is 8007232B", 0x8007_232B),
        ("(C004F074)", 0xC004_F074),
        ("Fehler: 0xC004F074", 0xC004_F074),
        ("returned SL_E_VL_NOT_ENOUGH_COUNT", 0xC004_F038),
        ("returned hr_sl_e_vl_not_enough_count", 0xC004_F038),
        ("error -1073418184", 0xC004_F038),
        ("hr=-1073418184", 0xC004_F038),
        ("Error code: 3221549112", 0xC004_F038),
        (
            "see https://example.invalid/kb/0xC004F074 for more",
            0xC004_F074,
        ),
        ("Code 0x87E10BC6", 0x87E1_0BC6),
        ("0x8004FE33 once", 0x8004_FE33),
        ("0x803FA067", 0x803F_A067),
    ] {
        assert_eq!(codes(line), vec![want], "{line}");
    }
}

#[test]
fn full_width_punctuation_and_japanese_brackets() {
    assert_eq!(codes("错误：0xC004F074"), vec![0xC004_F074]);
    assert_eq!(codes("「エラーコード:0xC004F074」"), vec![0xC004_F074]);
    assert_eq!(
        codes("エラーコード：０ｘＣ００４Ｆ０７４"),
        vec![0xC004_F074]
    );
    assert_eq!(codes("错误代码［0xC004F074］"), vec![0xC004_F074]);
    assert_eq!(codes("エラー\u{3000}C004F074"), vec![0xC004_F074]);
}

#[test]
fn several_codes_on_a_line_each_once_in_order() {
    assert_eq!(
        codes("first 0xC004F074, then 0x8007232B, then 0xC004F074 again"),
        vec![0xC004_F074, 0x8007_232B]
    );
}

#[test]
fn the_full_code_wins_over_the_facility_code_beside_it() {
    assert_eq!(
        codes("Error code: 0x87E10BC6 Facility error: 0xBC6"),
        vec![0x87E1_0BC6]
    );
    assert!(codes("Facility error: 0xBC6").is_empty());
}

#[test]
fn numbers_that_are_not_codes_are_not_found() {
    for line in [
        // GUIDs, also one whose first group looks like a code.
        "55c92734-d682-4d71-983e-d6ec3f16059f",
        "SKU ID: c004f074-d682-4d71-983e-d6ec3f16059f",
        "{8007232B-0000-0000-0000-000000000000}",
        // Hex dumps and addresses.
        "0012f4a0: c004f074 80070005 c004f038 00000000",
        "00000010  c0 04 f0 74 80 07 00 05  ....",
        "at address 0x80070000",
        "pointer 0x00007ff6c004f074",
        // Dates, times, versions, file and path parts.
        "2024-01-05 12:00:00",
        "05.01.2024 8:00",
        "Version 10.0.19045.3803",
        "build 6.3.c004f074.1",
        "C:\\Windows\\Logs\\C004F074\\x.log",
        "file c004f074.tmp",
        // Decimals without a label, and small numbers after one.
        "-1073418184 people",
        "3221549112 bytes",
        "error 1722",
        "Error 5 of 7",
        // Short codes, successes, unknown non-failures and other facilities' unknown failures.
        "0x0",
        "0xFFFF",
        "status 0x00000000",
        "0x12345678",
        "0x8123ABCD",
        "at 0xC0000000",
        // Bare hex words that do not start with 8 or C, or are part of a longer word.
        "4004F040",
        "xC004F074",
        "abcC004F074",
        // Identifiers with underscores.
        "error_code_value sl_unknown_thing",
        "DEADBEEF CAFEBABE",
    ] {
        assert!(codes(line).is_empty(), "{line}: {:?}", codes(line));
    }
}

#[test]
fn ntstatus_errors_are_result_codes_known_or_not() {
    // Known to the table (STATUS_ACCESS_DENIED) and not (STATUS_OBJECT_NAME_NOT_FOUND): both are
    // failures the licensing service passes on; an NTSTATUS is a result code like an HRESULT.
    assert_eq!(
        codes("Activation Failed [Error Code: 0xC0000022]"),
        vec![0xC000_0022]
    );
    assert_eq!(
        codes("Installing key [Failed] [0xC0000034]"),
        vec![0xC000_0034]
    );
    assert_eq!(codes("status c000009a"), vec![0xC000_009A]);
}

#[test]
fn an_unknown_failure_right_after_an_error_label_is_a_result_code() {
    // Real titles of activation reports (massgravel/Microsoft-Activation-Scripts issues 1162 and
    // 713): codes the rule table does not know, of facilities activation does not report through.
    assert_eq!(
        codes("Activation Failed, Error Code 0xC0020036"),
        vec![0xC002_0036]
    );
    assert_eq!(
        codes("Activation Failed (Error Code : 0xC0EA000A)"),
        vec![0xC0EA_000A]
    );
    assert_eq!(codes("hr=0x8123ABCD"), vec![0x8123_ABCD]);
    // Without the label, not written out in full, or no failure: no code.
    for line in [
        "0x8123ABCD",
        "seen at 0xC0EA000A",
        "Error code: 0xC0EA00A",
        "Error code: 0x4123ABCD",
        "error code 8123ABCD",
    ] {
        assert!(codes(line).is_empty(), "{line}: {:?}", codes(line));
    }
}

#[test]
fn known_informational_codes_are_evidence_too() {
    assert_eq!(codes("ERROR CODE: 0x4004F040"), vec![0x4004_F040]);
}

#[test]
fn each_mention_keeps_its_line() {
    let text = "Hi team,\r\n\r\nactivation fails with hr=0xc004f074 since Monday.\r\nThanks\r\n";
    let s = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "mail.txt",
        text.as_bytes(),
    )
    .unwrap();
    assert_eq!(s.mentions.len(), 1);
    let m = &s.mentions[0];
    assert_eq!(m.code, Hresult(0xC004_F074));
    assert_eq!(m.line.line, 3);
    assert_eq!(
        m.line.text,
        "activation fails with hr=0xc004f074 since Monday."
    );
    assert!(s.products.is_empty() && s.commands.is_empty() && s.expiry.is_empty());
    assert_eq!(s.machine, None);
    assert_eq!(s.lines_read, 4);
}

#[test]
fn a_computer_line_names_the_machine_and_two_names_name_none() {
    let one = "Computer: PC042\nError: 0xC004F074\n";
    let s = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "x.txt",
        one.as_bytes(),
    )
    .unwrap();
    assert_eq!(s.machine.as_deref(), Some("PC042"));
    assert_eq!(s.machine_line.unwrap().line, 1);
    let named = "> **Computer Name:** ws01.contoso.com\nhr=0xC004F074\n";
    let s = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "x.txt",
        named.as_bytes(),
    )
    .unwrap();
    assert_eq!(s.machine.as_deref(), Some("ws01.contoso.com"));
    let two = "Computer: PC1\nComputer: PC2\n0xC004F074\n";
    assert_eq!(
        read(
            &rules(),
            &crate::slmgr::SlmgrReader::new(&rules()),
            "x.txt",
            two.as_bytes()
        )
        .unwrap()
        .machine,
        None
    );
    let prose = "The computer: it fails with 0xC004F074\n";
    assert_eq!(
        read(
            &rules(),
            &crate::slmgr::SlmgrReader::new(&rules()),
            "x.txt",
            prose.as_bytes()
        )
        .unwrap()
        .machine,
        None
    );
}

#[test]
fn text_without_codes_and_binary_content_are_not_read() {
    assert!(
        read(
            &rules(),
            &crate::slmgr::SlmgrReader::new(&rules()),
            "x.txt",
            b"Hello, nothing to see here\n"
        )
        .is_none()
    );
    assert!(
        read(
            &rules(),
            &crate::slmgr::SlmgrReader::new(&rules()),
            "x.txt",
            b""
        )
        .is_none()
    );
    let mut binary = b"MZ\x90\x00\x03\x00\x00\x00 0xC004F074 ".to_vec();
    binary.extend([0u8; 16]);
    assert!(
        read(
            &rules(),
            &crate::slmgr::SlmgrReader::new(&rules()),
            "x.bin",
            &binary
        )
        .is_none()
    );
}

#[test]
fn utf16_text_is_text() {
    let mut bytes = vec![0xFF, 0xFE];
    for u in "Error code: 0xC004F074\r\n".encode_utf16() {
        bytes.extend(u.to_le_bytes());
    }
    let s = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "x.txt",
        &bytes,
    )
    .unwrap();
    assert_eq!(s.mentions[0].code, Hresult(0xC004_F074));
    assert_eq!(s.encoding, "UTF-16LE (BOM)");
}

#[test]
fn a_quoted_xpr_line_in_prose_is_a_license_state() {
    use crate::model::snapshot::ExpiryKind;
    let text = "It fails with 0xC004F074.\nWhen I run slmgr /xpr, it says \"Windows Professional edition: Windows is in notification mode.\"\n";
    let snap = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "mail.txt",
        text.as_bytes(),
    )
    .unwrap();
    assert_eq!(snap.expiry.len(), 1);
    assert_eq!(snap.expiry[0].kind, ExpiryKind::Notification);
    assert_eq!(snap.expiry[0].line.line, 2);
    // Without a code, the quoted state alone is evidence too.
    let text = "slmgr /xpr prints «The machine is permanently activated.» on both PCs\n";
    let snap = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "mail.txt",
        text.as_bytes(),
    )
    .unwrap();
    assert_eq!(snap.expiry[0].kind, ExpiryKind::Permanent);
}

#[test]
fn quotes_without_an_slmgr_line_give_no_state() {
    let text = "He said \"it is activated, I think\" and the error was 0xC004F074\n";
    let snap = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "mail.txt",
        text.as_bytes(),
    )
    .unwrap();
    assert!(snap.expiry.is_empty());
    assert_eq!(scan::quoted("a \"b\" c 「d」"), vec!["b", "d"]);
    assert_eq!(scan::quoted("no quotes"), vec!["no quotes"]);
}

#[test]
fn unlabelled_full_failure_codes_heading_a_line_or_beside_another_code() {
    // A post title that opens with a code (github.com/MicrosoftDocs/windows-itpro-docs/issues/3199).
    assert_eq!(codes("0xc0290905 not listed"), vec![0xC029_0905]);
    // A list: an unknown code beside known ones (fr.ittrip.xyz, a French how-to).
    assert_eq!(
        codes(
            "retournent l’erreur 0x80072F8F (horloge système invalide) ou 0xC0020036 (clé refusée)."
        ),
        vec![0x8007_2F8F, 0xC002_0036]
    );
    // Alone, after other words, not written in full, or not a failure: still no code.
    for line in [
        "0x8123ABCD",
        "seen at 0xC0EA000A",
        "0xC0EA00A not listed",
        "0x4123ABCD not listed",
    ] {
        assert!(codes(line).is_empty(), "{line}: {:?}", codes(line));
    }
}

#[test]
fn markdown_emphasis_quotes_an_xpr_line() {
    use crate::model::snapshot::ExpiryKind;
    let text = "I ran **slmgr /xpr** and got _The machine is permanently activated._ twice\n";
    let snap = read(
        &rules(),
        &crate::slmgr::SlmgrReader::new(&rules()),
        "post.txt",
        text.as_bytes(),
    )
    .unwrap();
    assert_eq!(snap.expiry[0].kind, ExpiryKind::Permanent);
    // Underscores inside words and products are no emphasis.
    assert_eq!(
        scan::quoted("VOLUME_KMSCLIENT channel, Office16_ProPlus_x"),
        vec!["VOLUME_KMSCLIENT channel, Office16_ProPlus_x"]
    );
}
