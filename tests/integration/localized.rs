//! Localized slmgr lines whose wording comes from a public source (see the `sources` of each
//! language in rules/slmgr.toml): each is put in place of its English line in slmgr output that
//! is otherwise English, and the result must be read as the English text is (same fields, same
//! verdict) with the localized line understood by its label, not recovered from its value.
//! Lines no public source confirms are left in English: no wording here is guessed.

use crate::util::run_json;
use serde_json::Value;

/// A /dlv of a licensed KMS client, as slmgr.vbs prints it in English.
const DLV: &str = "Name: Windows(R), Enterprise edition\r
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel\r
Activation ID: 73111121-5638-40f6-bc11-f1d7b0d64300\r
Application ID: 55c92734-d682-4d71-983e-d6ec3f16059f\r
Installation ID: 381975235011329498271935728930645602773418294015638102951748263\r
Partial Product Key: 2YT43\r
License Status: Licensed\r
Volume activation expiration: 256320 minute(s) (178 day(s))\r
Remaining Windows rearm count: 1001\r
";

/// /xpr of a permanently activated machine.
const XPR: &str =
    "Windows(R), Professional edition:\r\n    The machine is permanently activated.\r\n";

/// An /ato that fails, then one that succeeds.
const ATO: &str = "Activating Windows(R), Enterprise edition (73111121-5638-40f6-bc11-f1d7b0d64300) ...\r
Error: 0xC004F074 The Software Licensing Service reported that the computer could not be activated.\r
Activating Windows(R), Enterprise edition (73111121-5638-40f6-bc11-f1d7b0d64300) ...\r
Product activated successfully.\r
";

/// (language id, English text, [(English line, the same line as that language prints it)]).
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

const CASES: &[Case] = &[
    (
        "ko",
        DLV,
        &[
            (
                "Activation ID: 73111121-5638-40f6-bc11-f1d7b0d64300",
                "정품 인증 ID: 73111121-5638-40f6-bc11-f1d7b0d64300",
            ),
            (
                "Installation ID: 381975235011329498271935728930645602773418294015638102951748263",
                "설치 ID: 381975235011329498271935728930645602773418294015638102951748263",
            ),
            ("Partial Product Key: 2YT43", "부분 제품 키: 2YT43"),
            ("License Status: Licensed", "라이선스 상태: 사용 허가됨"),
        ],
    ),
    (
        "ja",
        DLV,
        &[(
            "License Status: Licensed",
            "ライセンスの状態: ライセンスされています",
        )],
    ),
    (
        "pt-BR",
        DLV,
        &[("License Status: Licensed", "Status da Licença: Licenciado")],
    ),
    (
        "it",
        XPR,
        &[(
            "The machine is permanently activated.",
            "Il computer è attivato definitivamente.",
        )],
    ),
    (
        "zh-CN",
        XPR,
        &[(
            "The machine is permanently activated.",
            "计算机已永久激活。",
        )],
    ),
    (
        "es",
        ATO,
        &[
            (
                "Error: 0xC004F074 The Software Licensing Service reported that the computer could not be activated.",
                "Error: 0xC004F074 El Servicio de licencias de software ha notificado que el servicio no se ha podido activar.",
            ),
            (
                "Product activated successfully.",
                "El producto se activó correctamente.",
            ),
        ],
    ),
];

/// `value` without what carries the wording (quoted lines, texts, the detected languages, the
/// path), so an English and a localized reading of the same output compare equal.
fn essence(value: &Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .filter(|(k, _)| {
                    ![
                        "path",
                        "languages",
                        "text",
                        "license_status_text",
                        "not_understood",
                    ]
                    .contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), essence(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(essence).collect()),
        other => other.clone(),
    }
}

/// What `slmgr` reads and what `analyze` concludes for `text` saved as `name`.
fn read(dir: &std::path::Path, name: &str, text: &str) -> (Value, Value) {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    let path = path.to_str().unwrap();
    let (code, slmgr) = run_json(&["slmgr", "--format", "json", path]);
    assert_eq!(code, 0, "{name}: slmgr exit code");
    let (_, report) = run_json(&[
        "analyze",
        "--now",
        "2025-07-05T12:00:00Z",
        "--format",
        "json",
        path,
    ]);
    (slmgr[0].clone(), report)
}

/// The verdicts and finding ids of an `analyze` report.
fn conclusions(report: &Value) -> (Vec<String>, Vec<String>) {
    let list = |key: &str, field: &str| -> Vec<String> {
        report[key]
            .as_array()
            .map(|a| a.iter().map(|x| x[field].to_string()).collect())
            .unwrap_or_default()
    };
    (list("machines", "verdict"), list("findings", "id"))
}

#[test]
fn sourced_localized_lines_read_as_their_english_lines() {
    let dir = tempfile::tempdir().unwrap();
    for (lang, english, lines) in CASES {
        let mut localized = (*english).to_owned();
        for (en, local) in *lines {
            assert!(
                localized.contains(en),
                "{lang}: {en} is in the English text"
            );
            localized = localized.replace(en, local);
        }
        let (en_read, en_report) = read(dir.path(), &format!("{lang}-en.txt"), english);
        let (lo_read, lo_report) = read(dir.path(), &format!("{lang}.txt"), &localized);
        assert_eq!(
            lo_read["not_understood"],
            serde_json::json!([]),
            "{lang}: every localized line is understood by its wording"
        );
        assert!(
            lo_read["languages"]
                .as_array()
                .unwrap()
                .iter()
                .any(|l| l == lang),
            "{lang}: the language is named: {}",
            lo_read["languages"]
        );
        assert_eq!(essence(&lo_read), essence(&en_read), "{lang}: same fields");
        let (verdicts, findings) = conclusions(&lo_report);
        assert!(!verdicts.is_empty(), "{lang}: a machine is judged");
        assert_eq!(
            (verdicts, findings),
            conclusions(&en_report),
            "{lang}: same verdict and findings"
        );
    }
}
