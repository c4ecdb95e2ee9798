//! `kmsdiag lookup`: spellings, JSON shape, unknown codes, search, list, flags, exit statuses.

use crate::util::{kmsdiag, run, run_json};

#[test]
fn every_pasted_spelling_names_the_same_code() {
    let spellings = [
        "0xC004F038",
        "C004F038",
        "c004f038",
        "0XC004F038",
        "hr=0xC004F038",
        "Error: 0xC004F038",
        "-1073418184",
        "3221549112",
        "SL_E_VL_NOT_ENOUGH_COUNT",
        "sl_e_vl_not_enough_count",
        "Notification Reason: 0xC004F038.",
    ];
    let mut args = vec!["lookup", "--format", "json"];
    args.extend(spellings);
    let (code, v) = run_json(&args);
    assert_eq!(code, 0);
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), spellings.len());
    for (a, s) in arr.iter().zip(spellings) {
        assert_eq!(a["code"], "0xC004F038", "{s}");
        assert_eq!(a["input"], s.trim());
        assert_eq!(a["known"], true);
    }
}

#[test]
fn json_shape_for_one_code_is_an_object_with_every_field() {
    let (code, v) = run_json(&["lookup", "--format", "json", "0xC004F074"]);
    assert_eq!(code, 0);
    assert!(v.is_object());
    for (key, kind) in [
        ("code", "string"),
        ("known", "bool"),
        ("symbol", "string"),
        ("severity", "string"),
        ("category", "string"),
        ("message", "string"),
        ("meaning", "string"),
        ("causes", "array"),
        ("next_steps", "array"),
        ("related_events", "array"),
        ("sources", "array"),
        ("structure", "object"),
    ] {
        let field = &v[key];
        let ok = match kind {
            "string" => field.is_string(),
            "bool" => field.is_boolean(),
            "array" => field.is_array(),
            _ => field.is_object(),
        };
        assert!(ok, "{key} should be {kind}: {field}");
    }
    assert_eq!(v["code"], "0xC004F074");
    assert_eq!(v["symbol"], "SL_E_VL_BINDING_SERVICE_UNAVAILABLE");
    assert_eq!(v["severity"], "error");
    assert_eq!(v["category"], "kms-connectivity");
    assert!(v["causes"].as_array().unwrap().len() >= 3);
    assert!(v["next_steps"].as_array().unwrap().len() >= 3);
    assert!(
        v["related_events"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!(12288))
    );
}

#[test]
fn informational_codes_are_not_errors() {
    let (code, v) = run_json(&["lookup", "--format", "json", "0x4004F040"]);
    assert_eq!(code, 0);
    assert_eq!(v["severity"], "informational");
    assert_eq!(v["finding"], serde_json::Value::Null);
}

#[test]
fn unknown_codes_are_decoded_from_their_bits_and_exit_1() {
    let (code, v) = run_json(&["lookup", "--format", "json", "0x80072EFD"]);
    assert_eq!(code, 1);
    assert_eq!(v["known"], false);
    assert_eq!(v["code"], "0x80072EFD");
    assert_eq!(v["severity"], "error");
    assert_eq!(v["structure"]["facility"], 7);
    assert_eq!(v["structure"]["facility_name"], "FACILITY_WIN32");
    assert_eq!(v["structure"]["win32"]["number"], 12029);
    assert_eq!(
        v["structure"]["win32"]["name"],
        "ERROR_INTERNET_CANNOT_CONNECT"
    );

    let (code, v) = run_json(&["lookup", "--format", "json", "0xC004F999"]);
    assert_eq!(code, 1);
    assert_eq!(v["known"], false);
    assert_eq!(v["structure"]["facility_name"], "FACILITY_ITF");
    assert!(v["structure"]["licensing_range"].is_string());

    let (code, out, _) = run(&["lookup", "0x80071234"]);
    assert_eq!(code, 1);
    assert!(out.contains("Not in kmsdiag's table"), "{out}");
    assert!(out.contains("facility 7 FACILITY_WIN32"), "{out}");
    assert!(out.contains("Win32 error 4660"), "{out}");
}

#[test]
fn win32_wrapped_codes_name_their_win32_error() {
    for (hex, number, name) in [
        ("0x8007267C", 9852, "DNS_ERROR_NO_DNS_SERVERS"),
        ("0x800706BA", 1722, "RPC_S_SERVER_UNAVAILABLE"),
        ("0x80072EE7", 12007, "ERROR_INTERNET_NAME_NOT_RESOLVED"),
    ] {
        let (_, v) = run_json(&["lookup", "--format", "json", hex]);
        assert_eq!(v["structure"]["win32"]["number"], number, "{hex}");
        assert_eq!(v["structure"]["win32"]["name"], name, "{hex}");
    }
    let (code, v) = run_json(&["lookup", "--format", "json", "DNS_ERROR_NO_DNS_SERVERS"]);
    assert_eq!(code, 0);
    assert_eq!(v["code"], "0x8007267C");
    assert_eq!(v["interpreted_as"], "symbol");
}

#[test]
fn not_a_code_is_a_one_line_usage_error() {
    let (code, out, err) = run(&["lookup", "banana"]);
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("`banana` is not an error code"), "{err}");
    assert!(err.contains("0xC004F038"), "{err}");

    let (code, _, err) = run(&["lookup", "SL_E_NO_SUCH_SYMBOL"]);
    assert_eq!(code, 2);
    assert!(err.contains("not a symbol kmsdiag knows"), "{err}");
    assert!(err.contains("--search \"sl e no such symbol\""), "{err}");
}

#[test]
fn good_codes_are_still_answered_next_to_a_bad_one() {
    let (code, out, err) = run(&["lookup", "0xC004F038", "banana", "0xC004F074"]);
    assert_eq!(code, 2);
    assert!(
        out.contains("0xC004F038") && out.contains("0xC004F074"),
        "{out}"
    );
    assert!(err.contains("banana"));
}

#[test]
fn label_words_around_a_code_are_ignored() {
    let (code, v) = run_json(&["lookup", "--format", "json", "Error:", "0xC004F038"]);
    assert_eq!(code, 0);
    assert_eq!(v["code"], "0xC004F038");
}

#[test]
fn the_readme_command_prints_three_complete_answers() {
    let (code, out, err) = run(&["lookup", "0xC004F038", "0x8007267C", "0x8004C465"]);
    assert_eq!(code, 0, "{err}");
    let blocks: Vec<&str> = out.split("\n\n").collect();
    assert_eq!(blocks.len(), 3, "{out}");
    for b in blocks {
        for part in [
            "Meaning:",
            "Likely causes:",
            "Next steps:",
            "Related events:",
            "Sources:",
        ] {
            assert!(b.contains(part), "missing {part} in:\n{b}");
        }
    }
    insta::assert_snapshot!("lookup_three_codes", out);
}

#[test]
fn search_finds_by_words_and_exits_1_on_nothing() {
    let (code, out, _) = run(&["lookup", "--search", "not enough count"]);
    assert_eq!(code, 0);
    assert!(out.starts_with("0xC004F038"), "{out}");
    assert!(out.contains("1 code(s)"));

    let (code, v) = run_json(&["lookup", "--search", "dns", "--format", "json"]);
    assert_eq!(code, 0);
    let codes: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap())
        .collect();
    for c in ["0x8007232B", "0x8007267C", "0x8007232A"] {
        assert!(codes.contains(&c), "{c} not in {codes:?}");
    }

    let (code, _, err) = run(&["lookup", "--search", "zzzqqq"]);
    assert_eq!(code, 1);
    assert!(err.contains("no code matches"));
}

#[test]
fn list_prints_the_table_and_filters_by_category() {
    let (code, v) = run_json(&["lookup", "--list", "--format", "json"]);
    assert_eq!(code, 0);
    let all = v.as_array().unwrap();
    assert!(all.len() > 350, "{}", all.len());
    let mut codes: Vec<&str> = all.iter().map(|a| a["code"].as_str().unwrap()).collect();
    let sorted = {
        let mut s = codes.clone();
        s.sort_by_key(|c| u32::from_str_radix(&c[2..], 16).unwrap());
        s
    };
    assert_eq!(codes, sorted, "list is in numeric order");
    codes.dedup();
    assert_eq!(codes.len(), all.len(), "no duplicates");

    let (code, out, _) = run(&["lookup", "--list", "--category", "bios"]);
    assert_eq!(code, 0);
    assert!(out.contains("0xC004F059"));
    assert!(
        out.lines()
            .filter(|l| l.starts_with("0x"))
            .all(|l| l.contains(" bios ")),
        "{out}"
    );

    let (code, _, err) = run(&["lookup", "--list", "--category", "nope"]);
    assert_eq!(code, 2);
    assert!(err.contains("kms-count"), "{err}");
}

#[test]
fn status_flags_decode() {
    let (code, v) = run_json(&["lookup", "--flags", "0x04000008", "--format", "json"]);
    assert_eq!(code, 0);
    let names: Vec<&str> = v["flags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["symbol"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "SL_VL_BINDING_STATUS_OTHER_PC",
            "SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT"
        ]
    );
    let (code, out, _) = run(&["lookup", "--flags", "0x10000000"]);
    assert_eq!(code, 1);
    assert!(out.contains("not a documented flag"));
    let (code, _, _) = run(&["lookup", "--flags", "pear"]);
    assert_eq!(code, 2);
}

#[test]
fn colour_follows_flag_and_no_color() {
    let (_, out, _) = run(&["lookup", "--color", "always", "0xC004F038"]);
    assert!(out.contains('\u{1b}'));
    let (_, out, _) = run(&["lookup", "--color", "never", "0xC004F038"]);
    assert!(!out.contains('\u{1b}'));
    // Not a terminal: auto means no colour.
    let (_, out, _) = run(&["lookup", "0xC004F038"]);
    assert!(!out.contains('\u{1b}'));
    let out = kmsdiag()
        .env("NO_COLOR", "1")
        .args(["lookup", "0xC004F038"])
        .output()
        .unwrap();
    assert!(!String::from_utf8(out.stdout).unwrap().contains('\u{1b}'));
}

#[test]
fn hostile_input_is_not_echoed_raw_to_the_terminal() {
    let (code, _, err) = run(&["lookup", "\u{1b}]0;pwned\u{7}banana\u{1b}[2J"]);
    assert_eq!(code, 2);
    assert!(!err.contains('\u{1b}'), "{err:?}");
    assert!(!err.contains('\u{7}'), "{err:?}");
    assert!(err.contains("\\u{1b}"), "{err:?}");
}

/// The retail, digital-licence, Store, hardware-change, Office and service codes helpdesks are
/// asked about: each is in the table with meaning, causes, next steps and a source.
#[test]
fn every_helpdesk_code_is_explained_with_causes_steps_and_sources() {
    for code in [
        "0x803F7001",
        "0x803F7000",
        "0x803FA067",
        "0x803FA071",
        "0xC004F211",
        "0xC004F213",
        "0x87E10BC6",
        "0xC004C008",
        "0xC004C770",
        "0x8007232B",
        "0xC004F074",
        "0x8004FC12",
        "0x4004F00C",
        "0x4004FC04",
        "0x4004F040",
        "0xC004B100",
        "0xC004E016",
        "0x8007000D",
        "0x80080005",
        "0xC0000022",
    ] {
        let (status, v) = run_json(&["lookup", "--format", "json", code]);
        assert_eq!(status, 0, "{code}: {v}");
        assert_eq!(v["code"], code);
        assert_eq!(v["known"], true, "{code}");
        assert!(
            v["meaning"].as_str().is_some_and(|m| m.len() > 20),
            "{code}: meaning"
        );
        for list in ["causes", "next_steps", "sources"] {
            assert!(
                !v[list].as_array().unwrap().is_empty(),
                "{code}: {list} is empty"
            );
        }
        let sev = v["severity"].as_str().unwrap();
        if code.starts_with("0x4") {
            assert_eq!(sev, "informational", "{code}");
            assert_eq!(v["finding"], serde_json::Value::Null, "{code}");
        } else {
            assert_eq!(sev, "error", "{code}");
        }
        let (status, out, _) = run(&["lookup", code]);
        assert_eq!(status, 0);
        for part in ["Meaning:", "Likely causes:", "Next steps:", "Sources:"] {
            assert!(out.contains(part), "{code}: no {part} in\n{out}");
        }
    }
    let (_, v) = run_json(&["lookup", "--format", "json", "0xC0000022"]);
    assert_eq!(v["symbol"], "STATUS_ACCESS_DENIED");
    let (_, v) = run_json(&["lookup", "--format", "json", "0x80080005"]);
    assert_eq!(v["symbol"], "CO_E_SERVER_EXEC_FAILURE");
}

fn search_codes(words: &[&str]) -> Vec<String> {
    let mut args = vec!["lookup", "--format", "json", "--search"];
    args.extend(words);
    let (_, v) = run_json(&args);
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a["code"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn search_reads_causes_and_next_steps_ranked_title_hits_first() {
    assert!(search_codes(&["clock"]).contains(&"0xC004F06C".to_owned()));
    assert!(search_codes(&["firewall"]).contains(&"0xC004F074".to_owned()));
    assert!(search_codes(&["1688"]).contains(&"0xC004F074".to_owned()));
    // The symbol says "clock" for 0xC004B011; 0xC004F06C only in its causes.
    let clock = search_codes(&["clock"]);
    let pos = |c: &str| clock.iter().position(|x| x == c).unwrap();
    assert!(pos("0xC004B011") < pos("0xC004F06C"), "{clock:?}");
    assert_eq!(clock, search_codes(&["clock"]), "deterministic");
    let (code, out, _) = run(&["lookup", "--search", "firewall"]);
    assert_eq!(code, 0);
    assert!(out.contains("0xC004F074"), "{out}");
}

#[test]
fn listing_columns_never_run_together() {
    let (code, out, _) = run(&["lookup", "--list"]);
    assert_eq!(code, 0);
    for line in out.lines().filter(|l| l.starts_with("0x")) {
        let cols: Vec<&str> = line.split("  ").filter(|c| !c.trim().is_empty()).collect();
        assert!(cols.len() >= 4, "{line}");
        assert!(
            ["error", "warning", "informational"].contains(&cols[1].trim()),
            "severity column: {line}"
        );
    }
    assert!(out.contains("informational  license-state"), "{out}");
}

#[test]
fn slui_0x2a_is_explained_and_the_code_after_it_looked_up() {
    let (code, out, err) = run(&["lookup", "0x2a"]);
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("slui 0x2a"), "{err}");
    assert!(err.contains("code that follows"), "{err}");

    for args in [
        &["lookup", "--format", "json", "slui 0x2a 0xC004F074"][..],
        &["lookup", "--format", "json", "slui", "0x2a", "0xC004F074"],
        &[
            "lookup",
            "--format",
            "json",
            "slui.exe",
            "0x2A",
            "0xC004F074",
        ],
    ] {
        let (code, v) = run_json(args);
        assert_eq!(code, 0, "{args:?}");
        assert_eq!(v["code"], "0xC004F074", "{args:?}");
    }
}

#[test]
fn search_listing_and_new_codes_snapshots() {
    let (_, out, _) = run(&["lookup", "--search", "firewall"]);
    insta::assert_snapshot!("lookup_search_firewall", out);
    let (_, out, _) = run(&["lookup", "0x803F7001", "0xC0000022"]);
    insta::assert_snapshot!("lookup_retail_and_ntstatus", out);
}
