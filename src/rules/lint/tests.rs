//! The linter's checks run on small rule files written here, and on the embedded ones.

use super::Problem;
use crate::rules::load::{RuleFile, check_files, lint_embedded};

fn check(name: &str, text: &str) -> Vec<Problem> {
    check_files(vec![RuleFile::text(name, text)], "dir/").1
}

#[test]
fn embedded_rules_are_clean() {
    let problems = lint_embedded();
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn every_bad_entry_is_reported_with_its_line() {
    let text = r#"
[[code]]
code = "0xC004F038"
message = "ok"
category = "kms-count"
severity = "error"
sources = ["x"]

[[code]]
code = "0xc004f038"
message = "lower case"
category = "kms-count"
severity = "error"
sources = ["x"]

[[code]]
code = "0xC004F038"
message = "dup"
category = "kms-count"
severity = "error"
sources = ["x"]

[[code]]
code = "0xC004F039"
message = "bad category"
category = "kms-cnt"
severity = "error"
sources = ["x"]

[[code]]
code = "0xC004F03A"
category = "other"
severity = "error"
sources = ["x"]
"#;
    let p = check("codes.toml", text);
    let msgs: Vec<String> = p.iter().map(ToString::to_string).collect();
    assert_eq!(p.len(), 4, "{msgs:#?}");
    assert!(
        msgs[0].contains("dir/codes.toml:10: code[1] 0xc004f038: field `code`: malformed code"),
        "{}",
        msgs[0]
    );
    assert!(msgs[0].contains("write it as 0xC004F038"));
    assert!(
        msgs[1]
            .contains(":17: code[2] 0xC004F038: field `code`: duplicate code: code[0] at line 2"),
        "{}",
        msgs[1]
    );
    assert!(
        msgs[2].contains(":26: code[3] 0xC004F039: field `category`: unknown variant `kms-cnt`"),
        "{}",
        msgs[2]
    );
    assert!(
        msgs[3].contains("code[4] 0xC004F03A: field `message`: missing message"),
        "{}",
        msgs[3]
    );
}

#[test]
fn syntax_errors_unknown_fields_and_unknown_findings() {
    let p = check("codes.toml", "[[code]\ncode = 1");
    assert_eq!(p.len(), 1);
    assert!(p[0].to_string().contains("not valid TOML"));
    let p = check(
        "codes.toml",
        "[[code]]\ncode = \"0x4004F040\"\nmessage = \"m\"\ncategory = \"other\"\nseverity = \"error\"\nfinding = \"nope\"\ncolour = 1\nsources = [\"s\"]\n",
    );
    assert_eq!(p.len(), 1, "{p:#?}");
    assert!(p[0].to_string().contains("field `colour`: unknown field"));
    let p = check(
        "codes.toml",
        "[[code]]\ncode = \"0x4004F040\"\nmessage = \"m\"\ncategory = \"other\"\nseverity = \"error\"\nfinding = \"nope\"\nsources = []\n",
    );
    let all = p
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("unknown finding id `nope`"), "{all}");
    assert!(all.contains("failure bit clear"), "{all}");
    assert!(all.contains("needs at least one source"), "{all}");
}

#[test]
fn licensing_and_win32_checks() {
    let p = check(
        "licensing.toml",
        "[[status_flag]]\nvalue = \"0x00000003\"\nsymbol = \"X\"\nseverity = \"error\"\ndescription = \"d\"\nsources = [\"s\"]\n[[license_status]]\nvalue = 1\nid = \"activated\"\nslmgr = [\"Licensed\"]\ndescription = \"d\"\nsources = [\"s\"]\n",
    );
    let all = p
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(all.contains("one bit"), "{all}");
    assert!(
        all.contains("unknown license status id `activated`"),
        "{all}"
    );
    let p = check(
        "win32.toml",
        "[[error]]\nnumber = 70000\nname = \"X\"\nmessage = \"\"\nsources = [\"s\"]\n",
    );
    assert_eq!(p.len(), 2, "{p:#?}");
}

#[test]
fn inventory_properties_are_checked_against_their_fields() {
    let text = r#"
[[column]]
name = "PSComputerName"
role = "machine"
sources = ["x"]

[[property]]
name = "LicenseStatus"
class = ["product"]
field = "license_status"
value = "text"
sources = ["x"]

[[property]]
name = "pscomputername"
class = ["product"]
field = "name"
value = "text"
sources = ["x"]

[[property]]
name = "Bad Name"
class = []
field = "name"
value = "text"
sources = []
"#;
    let p = check("inventory.toml", text);
    let has = |line: usize, what: &str| {
        p.iter()
            .any(|x| x.line == Some(line) && x.message.contains(what))
    };
    assert!(has(11, "cannot take"), "{p:#?}");
    assert!(has(14, "duplicate name"), "{p:#?}");
    assert!(has(22, "letters, digits"), "{p:#?}");
    assert!(has(23, "names no class"), "{p:#?}");
    assert!(
        p.iter().any(|x| x.field.as_deref() == Some("sources")),
        "{p:#?}"
    );
}
