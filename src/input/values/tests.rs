//! Unit tests of the value grammar.

use super::*;

#[test]
fn guids_are_borrowed_unless_they_need_lower_casing() {
    use std::borrow::Cow;
    let g = "7f3e1a55-27f8-4950-8877-7a03be5fb181";
    assert!(matches!(guid_in(g), Some(Cow::Borrowed(b)) if b == g));
    assert!(matches!(guid_in(&format!(" {{{g}}} ")), Some(Cow::Borrowed(b)) if b == g));
    let upper = g.to_ascii_uppercase();
    assert!(matches!(guid_in(&upper), Some(Cow::Owned(o)) if o == g));
    assert_eq!(guid(&upper).as_deref(), Some(g));
    assert_eq!(guid_in("7f3e1a55-27f8-4950-8877-7a03be5fb18"), None);
    assert_eq!(guid_in("7f3e1a55x27f8-4950-8877-7a03be5fb181"), None);
    assert_eq!(guid_in("7f3e1a55-27f8-4950-8877-7a03be5fb18g"), None);
    assert_eq!(guid_in("7f3e1a55-27f8-4950-88777-a03be5fb181"), None);
    assert_eq!(guid_in("7f3e1a55-27f8-4950-8877-7a03be5fb1é"), None);
    assert_eq!(
        guid_in("7F3E1A55-27f8-4950-8877-7a03be5fB181").as_deref(),
        Some(g)
    );
}

#[test]
fn leading_codes_read_like_the_standard_parser() {
    for v in [
        "0x0",
        "0xC004F06C",
        "0xc004f06c",
        "0XdeadBEEF",
        "0x8007267C.",
        "0x1 (x)",
        " 0x00000000",
        "0xFFFFFFFF",
    ] {
        let digits: String = v
            .trim_start()
            .chars()
            .skip(2)
            .take_while(char::is_ascii_hexdigit)
            .collect();
        let expected = u32::from_str_radix(&digits, 16).ok().map(Hresult);
        assert_eq!(leading_code(v), expected, "{v}");
    }
    for c in "0123456789abcdefABCDEF".chars() {
        for v in [
            format!("0x{c}"),
            format!("0x{c}000000{c}"),
            format!("0x8{c}7,"),
        ] {
            let digits = v.trim_end_matches(',').trim_start_matches("0x");
            let expected = u32::from_str_radix(digits, 16).ok().map(Hresult);
            assert_eq!(leading_code(&v), expected, "{v}");
        }
    }
    assert_eq!(leading_code("0x"), None);
    assert_eq!(leading_code("0xg"), None);
    assert_eq!(leading_code("C004F06C"), None);
    // More than eight digits: the general reader's answer.
    for (v, prefix) in [
        ("0x0000000080070005", "0x0000000080070005"),
        ("0x123456789", "0x123456789"),
        (" 0X00000000C004F074 (text)", "0X00000000C004F074"),
    ] {
        let expected = read_number(prefix).ok().flatten().map(|r| r.value);
        assert_eq!(leading_code(v), expected, "{v}");
    }
    assert_eq!(
        leading_code("0x0000000080070005"),
        Some(Hresult(0x8007_0005))
    );
}

#[test]
fn ids_and_keys() {
    assert_eq!(
        guid("{2FFCFC30-6A6A-49EC-92B8-F6150C7DF211}").as_deref(),
        Some("2ffcfc30-6a6a-49ec-92b8-f6150c7df211")
    );
    assert_eq!(guid("2ffcfc30-6a6a-49ec-92b8-f6150c7df21"), None);
    assert!(is_extended_pid(
        "55041-00140-015-871562-03-1033-7078.0000-0992009"
    ));
    assert!(is_extended_pid(
        "03612-04297-000-000000-03-1033-17763.0000-1862025"
    ));
    assert!(!is_extended_pid("03612-04297-000"));
    assert!(is_installation_id(
        "189844539606059265855451803261440643485915018321605276862695924"
    ));
    assert_eq!(partial_key("J462D").as_deref(), Some("J462D"));
    assert_eq!(partial_key("12345"), None);
    assert!(
        is_product_key_channel("Volume:GVLK")
            && is_product_key_channel("Retail:TB:Eval")
            && is_product_key_channel("Retail")
    );
    assert!(!is_product_key_channel("Licensed"));
    assert!(is_version("10.0.17763.1039") && !is_version("10.0"));
}

#[test]
fn hosts_and_codes() {
    assert_eq!(
        host_port("kms01.contoso.com:1688"),
        Some(HostPort {
            host: "kms01.contoso.com".into(),
            port: 1688
        })
    );
    assert_eq!(
        host_port("172.16.0.2:1688").map(|h| h.host),
        Some("172.16.0.2".into())
    );
    assert_eq!(host_port("[fe80::1]:1688").map(|h| h.port), Some(1688));
    assert_eq!(host_port("kms:0").map(|h| h.port), Some(1688));
    assert_eq!(host_port("17:52"), None);
    assert_eq!(host_port("kms:99999"), None);
    assert_eq!(
        ip_address("192.168.100.1").as_deref(),
        Some("192.168.100.1")
    );
    assert_eq!(leading_code("0xC004F00F."), Some(Hresult(0xC004_F00F)));
    assert_eq!(
        leading_code("0xC004F009 (grace time expired)."),
        Some(Hresult(0xC004_F009))
    );
    assert_eq!(
        code_in("Error: 0xC004F074 The Software"),
        Some(Hresult(0xC004_F074))
    );
    assert_eq!(code_in("no code"), None);
}

#[test]
fn minutes_in_every_wording() {
    assert_eq!(
        minutes("243720 minute(s) (169 day(s))"),
        Some((243_720, Some(169)))
    );
    assert_eq!(minutes("43162 minutes (29 days)"), Some((43162, Some(29))));
    assert_eq!(minutes("259197 分钟(180天)"), Some((259_197, Some(180))));
    assert_eq!(minutes("11820 minute(s)"), Some((11820, None)));
    assert_eq!(minutes("120 minutes"), Some((120, None)));
    assert_eq!(minutes("1001"), None);
    assert_eq!(minutes("abc"), None);
    assert_eq!(first_number("120 minute(s)"), Some(120));
    assert_eq!(whole_number("1001"), Some(1001));
    assert_eq!(whole_number("-1"), Some(-1));
    assert_eq!(whole_number("12 x"), None);
}

#[test]
fn dates_in_every_order() {
    let us = date("7/5/2025 9:13:33 AM").unwrap();
    assert_eq!(us.forced_order(), None);
    let v = us.resolve(us.default_order());
    assert_eq!(v.parsed.unwrap().to_string(), "2025-07-05 09:13:33");
    assert!(v.ambiguous);
    let pm = date("8/29/2007 4:59:59 PM").unwrap();
    assert_eq!(
        pm.resolve("dmy").parsed.unwrap().to_string(),
        "2007-08-29 16:59:59"
    );
    let de = date("05.07.2025 09:13:33").unwrap();
    assert_eq!(
        de.resolve(de.default_order()).parsed.unwrap().to_string(),
        "2025-07-05 09:13:33"
    );
    let zh = date("2020/2/27 11:48:43").unwrap();
    assert_eq!(zh.forced_order(), Some("ymd"));
    assert_eq!(
        zh.resolve("mdy").parsed.unwrap().to_string(),
        "2020-02-27 11:48:43"
    );
    let iso = date("2025-07-05 09:13 UTC").unwrap();
    assert_eq!(
        iso.resolve("mdy").parsed.unwrap().to_string(),
        "2025-07-05 09:13:00"
    );
    let zh_pm = date("2020/2/27 下午 1:48:43").unwrap();
    assert_eq!(
        zh_pm.resolve("ymd").parsed.unwrap().to_string(),
        "2020-02-27 13:48:43"
    );
    assert!(date("not a date").is_none());
    assert!(date("1/2/3 junk").is_none());
    assert_eq!(date("31/31/2025").unwrap().resolve("dmy").parsed, None);
}

#[test]
fn channels_are_found_and_repaired() {
    assert_eq!(
        channel("Windows(R) Operating System, VOLUME_KMSCLIENT channel").as_deref(),
        Some("VOLUME_KMSCLIENT")
    );
    assert_eq!(
        channel("Windows(R) Operating System, VOLUME-KMSCLIENT channel ").as_deref(),
        Some("VOLUME_KMSCLIENT")
    );
    assert_eq!(
        channel("Windows Operating System - Windows(R) 7, VOLUME\\_KMSCLIENT channel").as_deref(),
        Some("VOLUME_KMSCLIENT")
    );
    assert_eq!(
        channel("Windows Operating System - Windows Server(R), VOLUME_KMS_2012-R2_WIN10 channel")
            .as_deref(),
        Some("VOLUME_KMS_2012-R2_WIN10")
    );
    assert_eq!(
        channel("Windows(R) Operating System, OEM_DM channel").as_deref(),
        Some("OEM_DM")
    );
    assert_eq!(
        channel("Office 16, RETAIL(Grace) channel").as_deref(),
        Some("RETAIL(GRACE)")
    );
    assert_eq!(
        channel("Windows(R) Operating System, TIMEBASED_EVAL canal").as_deref(),
        Some("TIMEBASED_EVAL")
    );
    assert_eq!(channel("just words"), None);
    assert_eq!(
        channel("machines = [\"x warning retail initial-grace\"]"),
        None
    );
}

#[test]
fn plain_dates_read_as_the_grammar_reads_them() {
    let mut read = 0;
    for t in [
        "2010/9/29 21:46",
        "2026/10/7 8:11",
        "1/14/2006 2:30",
        "29.09.2010 17:52:03",
        "2025-07-05",
        "7/5/2025",
        "2020/2/27 11:48:43",
        "1/2/3 4:5",
        "01/02/2003 04:05:06",
        "99999999999/1/1",
        "1/1/1 99999999999:1",
        "2025-07-05 09:13 UTC",
        "7/5/2025 9:13:33 AM",
        "2020/2/27 上午 11:48:43",
        "1/2/3  4:5",
        "1/2/3 4:5:6:7",
        "1/2/3 4",
        "1/2",
        "1/2/",
        "/1/2/3",
        "1/2-3 4:05",
        "",
    ] {
        if let Some(p) = plain_date(t) {
            read += 1;
            assert_eq!(Some(p), grammar_date(t), "{t:?}");
        }
        assert_eq!(date_parts(t), grammar_date(t), "{t:?}");
    }
    assert!(read >= 9, "{read}");
}

#[test]
fn dotnet_json_dates_in_every_spelling_powershell_writes() {
    let t = chrono::DateTime::from_timestamp_millis(1_704_110_400_000);
    assert_eq!(dotnet_json_date("/Date(1704110400000)/"), t);
    assert_eq!(dotnet_json_date("\\/Date(1704110400000)\\/"), t);
    assert_eq!(dotnet_json_date("/Date(1704110400000+0100)/"), t);
    assert_eq!(dotnet_json_date("/Date(1704110400000-0500)/"), t);
    assert_eq!(
        dotnet_json_date("/Date(-11644473600000)/"),
        chrono::DateTime::from_timestamp_millis(-11_644_473_600_000)
    );
    assert_eq!(dotnet_json_date("Date(1)"), None);
    assert_eq!(dotnet_json_date("/Date(x)/"), None);
}
