use std::fmt::Write;
use std::path::{Path, PathBuf};

use super::*;
use crate::events::read_input;

const KEEP: Keep<'static> = Keep::Ids(crate::model::ids::event::CORRELATED);

/// What a test compares of events: everything a report uses, in a short form.
fn view(events: &[ActivationEvent]) -> Vec<String> {
    events
        .iter()
        .map(|e| {
            format!(
                "{} {} {} {:?} {:?} {:?} {:?} {:?} {:?}",
                e.machine(),
                e.provider(),
                e.event_id,
                e.log(),
                e.time,
                e.record_id,
                e.source.index,
                e.source.line,
                e.payload.raw().collect::<Vec<_>>()
            )
        })
        .collect()
}

/// Asserts two reads gave the same events, showing the first that differs.
fn same(a: &[ActivationEvent], b: &[ActivationEvent], what: &str) {
    let (a, b) = (view(a), view(b));
    let first = a.iter().zip(&b).position(|(x, y)| x != y);
    assert!(
        first.is_none() && a.len() == b.len(),
        "{what}: {} against {} events; first difference at {first:?}: {:?} / {:?}",
        a.len(),
        b.len(),
        first.and_then(|i| a.get(i)),
        first.and_then(|i| b.get(i)),
    );
}

fn rules() -> Rules {
    Rules::embedded().unwrap()
}

/// Every text fixture under testdata/ (the shipper exports and every other event export).
fn fixtures() -> Vec<PathBuf> {
    fn walk(d: &Path, out: &mut Vec<PathBuf>) {
        let Ok(rd) = std::fs::read_dir(d) else { return };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if !p.extension().is_some_and(|x| x == "evtx" || x == "zip") {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(Path::new("testdata"), &mut v);
    v.sort();
    v
}

/// The fixtures read as a stream, with their formats.
fn streamed_fixtures(rules: &Rules) -> Vec<(PathBuf, InputFormat)> {
    fixtures()
        .into_iter()
        .filter_map(|p| Some((p.clone(), streamable(rules, &std::fs::read(&p).ok()?)?)))
        .collect()
}

fn whole(rules: &Rules, path: &Path, keep: Keep<'_>) -> EventsRead {
    let bytes = std::fs::read(path).unwrap();
    read_input(rules, "input", bytes, None, keep).unwrap()
}

fn streamed(rules: &Rules, path: &Path, format: InputFormat, sieve: bool) -> EventsRead {
    let s = if sieve { Sieve::new(rules, KEEP) } else { None };
    read_file_with(rules, "input", path, format, KEEP, s.as_ref()).unwrap()
}

#[test]
fn every_shipper_fixture_streams_to_the_whole_file_read() {
    let rules = rules();
    let files = streamed_fixtures(&rules);
    let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
    // JSON lines, the three CSV shapes and the classic text at least.
    for want in [
        "elastic-ecs.ndjson",
        "nxlog.ndjson",
        "openwec.ndjson",
        "kibana-ecs.csv",
        "sentinel-event.csv",
        "splunk-export.csv",
        "splunk-classic-raw.txt",
    ] {
        assert!(
            names.iter().any(|n| n.ends_with(want)),
            "{want} not streamed: {names:?}"
        );
    }
    for (path, format) in &files {
        let w = whole(&rules, path, KEEP);
        // Without the sieve: the same events, counts, damage and notes.
        let s = streamed(&rules, path, *format, false);
        same(&s.0, &w.0, &path.display().to_string());
        assert_eq!(s.1, w.1, "{}", path.display());
        assert_eq!(s.2, w.2, "{}", path.display());
        // With it: the same events (records passed over are only counted).
        let s = streamed(&rules, path, *format, true);
        same(&s.0, &w.0, &format!("{} (sieve)", path.display()));
        assert_eq!(s.1.records, w.1.records, "{} (sieve)", path.display());
    }
}

/// A fixture's text rewritten (CRLF, a BOM, UTF-16) reads to the same events as a stream.
fn rewritten(rules: &Rules, src: &Path, format: InputFormat, f: &dyn Fn(&str) -> Vec<u8>) {
    let text = std::fs::read_to_string(src).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x");
    std::fs::write(&p, f(&text)).unwrap();
    let w = whole(rules, &p, KEEP);
    assert!(!w.0.is_empty(), "{}", src.display());
    let s = streamed(rules, &p, format, true);
    same(&s.0, &w.0, &src.display().to_string());
}

#[test]
fn crlf_boms_and_utf16_read_as_the_whole_file() {
    let rules = rules();
    let utf16 = |t: &str| {
        let mut v = vec![0xFF, 0xFE];
        for u in t.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    };
    for (path, format) in streamed_fixtures(&rules) {
        if whole(&rules, &path, KEEP).0.is_empty() {
            continue;
        }
        let crlf = |t: &str| t.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes();
        rewritten(&rules, &path, format, &crlf);
        rewritten(&rules, &path, format, &|t| {
            [b"\xEF\xBB\xBF".as_slice(), t.as_bytes()].concat()
        });
        rewritten(&rules, &path, format, &utf16);
    }
}

#[test]
fn records_across_block_boundaries_and_an_over_long_line() {
    let rules = rules();
    let dir = tempfile::tempdir().unwrap();
    for name in [
        "elastic-ecs.ndjson",
        "splunk-export.csv",
        "splunk-classic-raw.txt",
    ] {
        let src = std::fs::read_to_string(Path::new("testdata/events/siem").join(name)).unwrap();
        let (head, body) = if Path::new(name).extension().is_some_and(|x| x == "csv") {
            src.split_once('\n')
                .map(|(h, b)| (format!("{h}\n"), b.to_owned()))
                .unwrap()
        } else {
            (String::new(), src.clone())
        };
        // Several blocks of copies: records straddle the 1 MiB block ends.
        let mut text = head.clone();
        while text.len() < 3 * (1 << 20) + 12_345 {
            text.push_str(&body);
            if !text.ends_with('\n') {
                text.push('\n');
            }
        }
        let p = dir.path().join(name);
        std::fs::write(&p, &text).unwrap();
        let format = streamable(&rules, text.as_bytes()).unwrap();
        let w = whole(&rules, &p, KEEP);
        let s = streamed(&rules, &p, format, true);
        assert!(w.0.len() > 100, "{name}: {}", w.0.len());
        same(&s.0, &w.0, name);
    }
    // A JSON line longer than the limit is passed over and reported; the lines after it read.
    let src = std::fs::read_to_string("testdata/events/siem/elastic-ecs.ndjson").unwrap();
    let long = format!(
        "{{\"message\":\"{}\"}}\n",
        "x".repeat(MAX_RECORD_BYTES + 10)
    );
    let p = dir.path().join("long.ndjson");
    std::fs::write(&p, format!("{src}{long}{src}")).unwrap();
    let (events, stats, _) = streamed(&rules, &p, InputFormat::Json, true);
    let once = whole(
        &rules,
        Path::new("testdata/events/siem/elastic-ecs.ndjson"),
        KEEP,
    )
    .0;
    assert_eq!(events.len(), once.len() * 2);
    assert_eq!(stats.damaged_count, 1, "{:?}", stats.damaged);
    assert!(
        stats.damaged[0].contains("longer than"),
        "{:?}",
        stats.damaged
    );
}

/// Records the full reader keeps, in the spellings exports use: the sieve lets each through.
#[test]
fn the_sieve_never_turns_away_a_record_the_reader_keeps() {
    let rules = rules();
    let sieve = Sieve::new(&rules, KEEP).unwrap();
    let providers = [
        "Microsoft-Windows-Security-SPP",
        "microsoft-windows-security-spp",
        "Software Protection Platform Service",
        "SPP",
        "Security-Licensing-SLC",
        "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}",
    ];
    let escape_all = |s: &str| {
        s.chars().fold(String::new(), |mut out, c| {
            let _ = write!(out, "\\u{:04x}", c as u32);
            out
        })
    };
    let refs = |s: &str| {
        s.chars().fold(String::new(), |mut out, c| {
            let _ = write!(out, "&#{};", c as u32);
            out
        })
    };
    let mut lines = Vec::new();
    for p in providers {
        for p in [p.to_owned(), escape_all(p)] {
            for id in [
                "12288",
                "\"12288\"",
                "\"012288\"",
                "1073754112",
                "\"1073754112\"",
                "\"\\u0031\\u0032288\"",
            ] {
                lines.push(format!(
                    r#"{{"winlog":{{"provider_name":"{p}","event_id":{id},"event_data":{{"param1":"0x0"}}}},"@timestamp":"2026-01-01T00:00:00Z"}}"#
                ));
            }
        }
        // Event XML in a string, its values written with character references (and those
        // escaped again).
        for (name, id) in [(p.to_owned(), "12288".to_owned()), (refs(p), refs("12288"))] {
            let xml = format!(
                "<Event><System><Provider Name='{name}'/><EventID>{id}</EventID></System><EventData><Data>0x0</Data></EventData></Event>"
            );
            lines.push(format!(r#"{{"event":{{"original":"{xml}"}}}}"#));
            lines.push(format!(
                r#"{{"event":{{"original":"{}"}}}}"#,
                xml.replace('&', "\\u0026").replace('<', "\\u003c")
            ));
        }
    }
    let mut kept = 0;
    for line in &lines {
        let read = read_input(&rules, "x.ndjson", line.clone().into_bytes(), None, KEEP);
        if read.is_ok_and(|(e, _, _)| !e.is_empty()) {
            kept += 1;
            assert!(sieve.may_keep(line.as_bytes()), "turned away: {line}");
        }
    }
    assert!(
        kept * 2 > lines.len(),
        "only {kept} of {} kept",
        lines.len()
    );
    // Other providers' records, and the activation provider's ids not correlated, are not.
    for noise in [
        r#"{"winlog":{"provider_name":"Microsoft-Windows-Kernel-General","event_id":12288}}"#,
        r#"{"winlog":{"provider_name":"Microsoft-Windows-Security-SPP","event_id":16384,"record_id":7}}"#,
    ] {
        assert!(!sieve.may_keep(noise.as_bytes()), "{noise}");
    }
}

#[test]
fn a_head_of_json_lines_streams_and_a_document_does_not() {
    let rules = rules();
    let line = std::fs::read("testdata/events/siem/elastic-ecs.ndjson").unwrap();
    assert_eq!(streamable(&rules, &line), Some(InputFormat::Json));
    let doc = std::fs::read("testdata/events/siem/sentinel-event.json").unwrap();
    assert_eq!(streamable(&rules, &doc), None);
}
