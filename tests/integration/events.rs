//! `kmsdiag events`: every export format of the same logical events normalizes to identical
//! events; payload quirks decode; real noise and damaged .evtx samples are read without failing.

use std::path::Path;

use crate::util::{run, run_json};

const DIR: &str = "testdata/events";
/// The public `.evtx` samples beside the checkout; `KMSDIAG_SAMPLES` names them elsewhere (a
/// worktree whose parent has no `shared/`): their folder, or the samples folder holding `evtx/`
/// (both were given, and the second read `README.md` as a log).
pub(crate) static SAMPLES: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| match std::env::var("KMSDIAG_SAMPLES") {
        Ok(dir) if std::path::Path::new(&dir).join("evtx").is_dir() => format!("{dir}/evtx"),
        Ok(dir) => dir,
        Err(_) => "../shared/samples/evtx".to_owned(),
    });

fn events_without_source(path: &str) -> Vec<serde_json::Value> {
    let (code, out, err) = run(&["events", "--format", "jsonl", path]);
    assert_eq!(code, 0, "{path}: {err}");
    out.lines()
        .map(|l| {
            let mut v: serde_json::Value = serde_json::from_str(l).unwrap();
            v.as_object_mut().unwrap().remove("source");
            v
        })
        .collect()
}

#[test]
fn every_export_format_gives_the_same_events() {
    let reference = events_without_source(&format!("{DIR}/wevtutil-stream.xml"));
    assert_eq!(reference.len(), 14);
    for f in [
        "eventviewer-saved-utf16.xml",
        "evtx_dump.jsonl",
        "evtx_dump-records.json",
        "evtx_dump-separate-attributes.jsonl",
    ] {
        assert_eq!(
            events_without_source(&format!("{DIR}/{f}")),
            reference,
            "{f}"
        );
    }
}

/// Exports that keep only the rendered message (no payload strings, often no record id or
/// computer) give the same decoded events: read back through the catalogue's message templates.
#[test]
fn message_only_exports_decode_to_the_same_events() {
    let project = |path: &str| {
        let (code, out, err) = run(&["events", "--format", "jsonl", path]);
        assert_eq!(code, 0, "{path}: {err}");
        let mut v: Vec<String> = out
            .lines()
            .map(|l| {
                let e: serde_json::Value = serde_json::from_str(l).unwrap();
                format!(
                    "{} {} {} {}",
                    e["event_id"], e["provider"], e["time"], e["fields"]
                )
            })
            .collect();
        v.sort();
        v
    };
    let reference = project(&format!("{DIR}/wevtutil-stream.xml"));
    for f in [
        "eventviewer-saved.csv",
        "eventviewer-saved-tab.txt",
        "get-winevent-export-csv.csv",
        "eventviewer-copied-general.txt",
        "get-winevent-format-list.txt",
    ] {
        assert_eq!(project(&format!("{DIR}/{f}")), reference, "{f}");
    }
    // Event Viewer's CSV names no computer: the file name stands in. The others name it.
    let (_, v) = run_json(&[
        "events",
        "--format",
        "json",
        &format!("{DIR}/eventviewer-saved.csv"),
        &format!("{DIR}/get-winevent-format-list.txt"),
    ]);
    let machines: std::collections::BTreeSet<&str> = v["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["machine"].as_str().unwrap())
        .collect();
    assert!(machines.contains("eventviewer-saved"), "{machines:?}");
    assert!(machines.contains("PC01.corp.contoso.com"), "{machines:?}");
    let formats: Vec<&str> = v["inputs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["format"].as_str().unwrap())
        .collect();
    assert_eq!(formats, ["csv", "format-list"]);
    assert!(
        v["inputs"][0]["notes"][0]
            .as_str()
            .unwrap()
            .contains("local time")
    );
}

#[test]
fn standard_input_is_read_with_dash() {
    let bytes = std::fs::read(format!("{DIR}/evtx_dump.jsonl")).unwrap();
    let out = crate::util::kmsdiag()
        .args(["events", "--format", "jsonl", "-"])
        .write_stdin(bytes)
        .output()
        .unwrap();
    assert!(out.status.success());
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 14);
}

#[test]
fn payloads_decode_with_their_quirks() {
    let (code, v) = run_json(&[
        "events",
        "--format",
        "json",
        &format!("{DIR}/wevtutil-stream.xml"),
    ]);
    assert_eq!(code, 0);
    let events = v["events"].as_array().unwrap();
    let find = |machine: &str, id: u64, n: usize| {
        events
            .iter()
            .filter(|e| e["machine"] == machine && e["event_id"] == id)
            .nth(n)
            .unwrap()
            .clone()
    };
    // 12288 with an empty trailing N-policy: the field is absent, the raw position kept.
    let failed = find("PC01.corp.contoso.com", 12288, 1);
    assert_eq!(failed["fields"]["result"], "0xC004F074");
    assert!(failed["fields"].get("n_policy").is_none());
    assert_eq!(failed["raw"][0].as_str().unwrap().split(',').count(), 10);
    assert_eq!(failed["fields"]["client_time"], "2025-07-08T08:02:00");
    // A day-first client time, read against TimeCreated.
    assert_eq!(
        find("PC02", 12288, 0)["fields"]["client_time"],
        "2025-07-14T09:15:00"
    );
    // 12290 carrying the whole Info string and the values again.
    let host = find("KMS01.corp.contoso.com", 12290, 0);
    assert_eq!(host["fields"]["client_name"], "PC01.corp.contoso.com");
    assert_eq!(host["log"], "Key Management Service");
    assert_eq!(host["raw"].as_array().unwrap().len(), 10);
    // The Vista/2008 provider.
    let old = find("KMSHOST-2008", 12290, 0);
    assert_eq!(
        (old["provider"].as_str(), old["fields"]["result"].as_str()),
        (
            Some("Microsoft-Windows-Security-Licensing-SLC"),
            Some("0xC004F06C")
        )
    );
    // hr= prefixes, k=v lists, 8209 reasons, empty <Data/>.
    assert_eq!(
        find("PC01.corp.contoso.com", 8198, 0)["fields"]["result"],
        "0xC004F074"
    );
    assert_eq!(
        find("PC01.corp.contoso.com", 8230, 0)["fields"]["LicenseState"],
        "SL_LICENSING_STATUS_LICENSED"
    );
    assert_eq!(find("PC02", 8209, 0)["fields"]["result"], "0x8004C40B");
    assert_eq!(find("PC01.corp.contoso.com", 1003, 0)["raw"][1], "");
    // Sorted by machine, time, record id; times in UTC RFC 3339.
    assert_eq!(events[0]["machine"], "KMS01.corp.contoso.com");
    assert_eq!(events[0]["time"], "2025-07-01T06:00:05Z");
    assert_eq!(v["inputs"][0]["records"], 15);
    assert_eq!(v["inputs"][0]["activation_events"], 14);
}

#[test]
fn other_providers_only_with_all() {
    let (_, v) = run_json(&[
        "events",
        "--all",
        "--format",
        "json",
        &format!("{DIR}/wevtutil-stream.xml"),
    ]);
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 15);
    assert!(
        events
            .iter()
            .any(|e| e["provider"] == "Microsoft-Windows-Winlogon" && e["name"].is_null())
    );
}

#[test]
fn real_evtx_files_noise_and_damage() {
    let (code, v) = run_json(&[
        "events",
        "--format",
        "json",
        "testdata/evtx/samples_Application_no_crc32.evtx",
        "testdata/evtx/samples_sample_with_a_bad_chunk_magic.evtx",
        "testdata/evtx/samples_sample-with-zero-data-size-event.evtx",
    ]);
    assert_eq!(code, 0);
    let inputs = v["inputs"].as_array().unwrap();
    assert_eq!(inputs.len(), 3);
    let input = |name: &str| {
        inputs
            .iter()
            .find(|i| i["path"].as_str().unwrap().ends_with(name))
            .unwrap()
            .clone()
    };
    let app = input("samples_Application_no_crc32.evtx");
    assert_eq!(
        (
            app["format"].as_str(),
            app["records"].as_u64(),
            app["activation_events"].as_u64()
        ),
        (Some("evtx"), Some(17), Some(6))
    );
    for damaged in [
        "samples_sample_with_a_bad_chunk_magic.evtx",
        "samples_sample-with-zero-data-size-event.evtx",
    ] {
        let i = input(damaged);
        assert!(
            i["records"].as_u64().unwrap() > 100,
            "readable records are still read: {i}"
        );
        assert!(
            i["damaged_count"].as_u64().unwrap() > 0,
            "damage is counted: {i}"
        );
        assert!(
            !i["damaged"].as_array().unwrap().is_empty(),
            "and described: {i}"
        );
        assert_eq!(i["activation_events"], 0);
    }
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 6);
    assert!(
        events
            .iter()
            .all(|e| e["provider"] == "Microsoft-Windows-Security-SPP"
                && e["machine"] == "DESKTOP-0HIJB49")
    );
    let ids: Vec<u64> = events
        .iter()
        .map(|e| e["event_id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, [900, 16394, 1066, 1003, 902, 16388]);
}

/// A desktop's Application log: its Security-SPP events' strings are string arrays (one `Data`
/// per string), read by the fast reader itself — no chunk goes to the crate.
#[test]
fn a_desktop_application_log_reads_without_declined_chunks() {
    let path = "testdata/evtx/fukusuket_evtx-parser_Application.evtx";
    let (_, v) = run_json(&["analyze", "--format", "json", "--now", "2022-06-12", path]);
    let input = &v["inputs"][0];
    assert_eq!(input["lines"], 195, "{input}");
    assert!(input.get("evtx_chunks_declined").is_none(), "{input}");
    let (_, e) = run_json(&["events", "--format", "json", path]);
    let events = e["events"].as_array().unwrap();
    assert_eq!(events.len(), 57);
    // 8198: the strings of a classic event, one per array item.
    let attempt = events.iter().find(|e| e["event_id"] == 8198).unwrap();
    assert_eq!(attempt["raw"][0], "hr=0x803F7001", "{attempt}");
    assert!(
        attempt["raw"][1].as_str().unwrap().starts_with("RuleId="),
        "{attempt}"
    );
}

/// All the public samples (noise and damaged files), when `shared/` is beside the checkout as in CI.
#[test]
fn all_shared_samples_when_present() {
    let samples = SAMPLES.as_str();
    if !Path::new(samples).is_dir() {
        eprintln!(
            "note: {samples} not found; the samples kmsdiag depends on are also in testdata/evtx"
        );
        return;
    }
    let (code, v) = run_json(&["events", "--format", "json", samples]);
    assert_eq!(code, 0);
    for i in v["inputs"].as_array().unwrap() {
        assert_eq!(i["format"], "evtx", "{i}");
        assert!(i["records"].as_u64().unwrap() > 0, "{i}");
        let path = i["path"].as_str().unwrap();
        // Two of the real logs are Application logs of machines whose licensing service logged:
        // a desktop's Microsoft-Windows-Security-SPP events (1003 x45, 8198 x3, 16394 x2, 900,
        // 902, 903, 1066, 8230, 16384, 16388).
        let expected = if path.ends_with("samples_Application_no_crc32.evtx") {
            6
        } else if path.ends_with("fukusuket_evtx-parser_Application.evtx") {
            57
        } else {
            0
        };
        assert_eq!(
            i["activation_events"], expected,
            "noise yields no activation events: {}",
            i["path"]
        );
    }
}

#[test]
fn inputs_that_are_not_event_logs() {
    let (code, _, err) = run(&["events", "testdata/slmgr/not-slmgr.txt"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("not-slmgr.txt: not an event log export"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("header-only.evtx"), b"ElfFile\0garbage").unwrap();
    let (code, _, err) = run(&[
        "events",
        dir.path().join("header-only.evtx").to_str().unwrap(),
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("header-only.evtx"), "{err}");
}

/// One event of every catalogue id, as XML: each decodes with all its fields. The same events as
/// copied Event Viewer text (message only) decode to the same fields: every message template
/// reads back what it renders. 12307 has no template (its wording is not published), so it is
/// only in the XML.
#[test]
fn every_catalogue_id_decodes_and_every_template_round_trips() {
    let by_id = |path: &str| -> std::collections::BTreeMap<u64, serde_json::Value> {
        let (code, out, err) = run(&["events", "--format", "jsonl", path]);
        assert_eq!(code, 0, "{err}");
        out.lines()
            .map(|l| {
                let e: serde_json::Value = serde_json::from_str(l).unwrap();
                (e["event_id"].as_u64().unwrap(), e["fields"].clone())
            })
            .collect()
    };
    let catalogue: toml::Table =
        toml::from_str(&std::fs::read_to_string("rules/events.toml").unwrap()).unwrap();
    let events = catalogue["event"].as_array().unwrap();
    let xml = by_id(&format!("{DIR}/catalogue-every-id.xml"));
    assert_eq!(xml.len(), events.len(), "one event per catalogue id");
    for e in events {
        let id = u64::try_from(e["id"].as_integer().unwrap()).unwrap();
        let expected = if e["layout"].as_str() == Some("kv") {
            2
        } else {
            e["fields"].as_array().unwrap().len()
        };
        assert_eq!(
            xml[&id].as_object().unwrap().len(),
            expected,
            "event {id}: {}",
            xml[&id]
        );
    }
    let text = by_id(&format!("{DIR}/catalogue-every-id-eventviewer.txt"));
    let mut without_template = Vec::new();
    for (id, fields) in &xml {
        match text.get(id) {
            Some(f) => assert_eq!(f, fields, "event {id} read back from its message"),
            None => without_template.push(*id),
        }
    }
    assert_eq!(without_template, [12307]);
}

#[test]
fn stray_control_characters_in_xml_are_kept_as_data_and_escaped_on_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dirty.xml");
    let xml = "<Event><System><Provider Name=\"Microsoft-Windows-Security-SPP\"/><EventID>12290</EventID><TimeCreated SystemTime=\"2025-07-01T06:00:00Z\"/><Computer>KMS01</Computer></System><EventData><Data>0x0,25,PC\u{1b}[31mEVIL\u{7},9b2f6c1e-3d4a-4b8e-9c7f-2a1e5d6b8c90,2025/7/1 8:00,0,2,43200,&#x1;</Data></EventData></Event>";
    std::fs::write(&path, xml).unwrap();
    let (code, v) = run_json(&["events", "--format", "json", path.to_str().unwrap()]);
    assert_eq!(code, 0);
    assert_eq!(
        v["events"][0]["fields"]["client_name"], "PC\u{1b}[31mEVIL\u{7}",
        "data is kept as it was"
    );
    let (_, out, _) = run(&["events", path.to_str().unwrap()]);
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}'), "{out:?}");
    assert!(out.contains("\\u{1b}"), "{out}");
}

#[test]
fn every_fixture_is_pinned() {
    // Files only: the SIEM exports in `siem/` are pinned by their own test.
    let mut files: Vec<_> = std::fs::read_dir(DIR)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.file_type().unwrap().is_file())
        .map(|e| e.file_name().into_string().unwrap())
        .collect();
    files.sort();
    for f in files {
        let (_, out, _) = run(&["events", "--format", "jsonl", &format!("{DIR}/{f}")]);
        insta::assert_snapshot!(format!("events-{f}"), out);
    }
}

#[test]
fn every_export_form_with_machine_names_gets_the_same_diagnosis() {
    let diagnosis = |f: &str| -> Vec<(String, String, Vec<String>)> {
        let (_, r) = run_json(&[
            "analyze",
            "--now",
            "2025-07-15",
            "--format",
            "json",
            &format!("{DIR}/{f}"),
        ]);
        r["machines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                (
                    m["name"].as_str().unwrap().to_owned(),
                    m["verdict"].as_str().unwrap().to_owned(),
                    m["findings"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|x| x.as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect()
    };
    let reference = diagnosis("wevtutil-stream.xml");
    let s = |v: &[&str]| v.iter().map(|x| (*x).to_owned()).collect::<Vec<_>>();
    assert_eq!(
        reference,
        vec![
            (
                "KMS01.corp.contoso.com".to_owned(),
                "failing".to_owned(),
                // It counts the clones that share a CMID as one.
                s(&["duplicate-cmid", "kms-count-insufficient"])
            ),
            (
                "PC01.corp.contoso.com".to_owned(),
                "failing".to_owned(),
                // Licensed with 23 days left, the renewal failed: 0xC004F074 in 12288/8198, the
                // real cause in 8233 (0x8007267C, no DNS server); its CMID is also PC07's.
                s(&[
                    "activation-expiring",
                    "duplicate-cmid",
                    "kms-dns-srv-missing",
                    "kms-unreachable"
                ])
            ),
            (
                "PC02".to_owned(),
                "failing".to_owned(),
                s(&["kms-unreachable", "non-genuine-tampered", "unlicensed-rfm"])
            ),
            // Problems first: the healthy host last.
            ("KMSHOST-2008".to_owned(), "ok".to_owned(), s(&[])),
        ]
    );
    for f in [
        "eventviewer-saved-utf16.xml",
        "evtx_dump.jsonl",
        "evtx_dump-records.json",
        "evtx_dump-separate-attributes.jsonl",
        "get-winevent-convertto-json.json",
    ] {
        assert_eq!(diagnosis(f), reference, "{f}");
    }
}

/// The same log exported twice, as XML (record ids) and as copied Event Viewer text (none), is
/// one log: its records are counted once. (The text copy used to go to the slmgr reader, so the
/// pair never met; read as events, the copies must not double the host's requests.)
#[test]
fn a_text_copy_of_an_xml_export_is_counted_once() {
    let json = |paths: &[&str]| -> serde_json::Value {
        let mut args = vec!["analyze", "--format", "json", "--now", "2025-07-14"];
        args.extend(paths);
        let (_, out, err) = run(&args);
        serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {err}"))
    };
    let xml = format!("{DIR}/catalogue-every-id.xml");
    let text = format!("{DIR}/catalogue-every-id-eventviewer.txt");
    let one = json(&[&xml]);
    let both = json(&[&xml, &text]);
    assert_eq!(one["hosts"], both["hosts"]);
    assert_eq!(both["inputs"][1]["format"], "eventviewer-text");
}

/// Event Viewer's "Copy details as text" in other UI languages: the headers are the language's
/// (from `rules/events.toml`, each sourced from a real paste); the event is read the same. A
/// description no English template matches (Windows renders it in the UI language; here a
/// stand-in text) still gives the failure code it holds.
#[test]
fn copied_events_in_other_languages_are_read() {
    let cases = [
        (
            "de",
            "Protokollname: Application\nQuelle:        Microsoft-Windows-Security-SPP\nDatum:         04.06.2024 19:37:49\nEreignis-ID:   8198\nAufgabenkategorie:Keine\nEbene:         Fehler\nBenutzer:      N/A\nComputer:      pc7.example.com\nBeschreibung:\nLicense Activation (slui.exe) failed with the following error code:\nhr=0xC004F074\n",
        ),
        (
            "ja, no space after the colons",
            "ログの名前:Application\nソース:Microsoft-Windows-Security-SPP\n日付:2024/06/04 19:37:49\nイベント ID:8198\nレベル:エラー\nコンピューター:pc7.example.com\n説明:\n(the description in the machine's language) hr=0xC004F074\n",
        ),
        (
            "ru",
            "Имя журнала:   Application\nИсточник:      Microsoft-Windows-Security-SPP\nДата:          04.06.2024 19:37:49\nКод события:   8198\nУровень:       Ошибка\nКомпьютер:     pc7.example.com\nОписание:\n(the description in the machine's language)\nhr=0xC004F074\n",
        ),
        (
            "zh-CN, full-width colons",
            "日志名称：Application\n来源：Microsoft-Windows-Security-SPP\n事件 ID：8198\n计算机：pc7.example.com\n描述：\nhr=0xC004F074\n",
        ),
    ];
    for (language, text) in cases {
        let out = crate::util::kmsdiag()
            .args(["events", "--format", "jsonl", "-"])
            .write_stdin(text)
            .output()
            .unwrap();
        let out = String::from_utf8(out.stdout).unwrap();
        let e: serde_json::Value = serde_json::from_str(out.lines().next().unwrap_or("null"))
            .unwrap_or_else(|err| panic!("{language}: {err}: {out}"));
        assert_eq!(e["event_id"], 8198, "{language}: {out}");
        assert_eq!(e["machine"], "pc7.example.com", "{language}: {out}");
        assert_eq!(e["fields"]["result"], "0xC004F074", "{language}: {out}");
        assert_eq!(
            e["source"]["format"], "eventviewer-text",
            "{language}: {out}"
        );
    }
}
