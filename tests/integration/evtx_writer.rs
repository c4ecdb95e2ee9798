//! The `.evtx` writer round-trips through two independent readers: the `evtx` crate (with its
//! checksum validation on) and python-evtx. Both must return exactly the records written, field
//! for field, and accept every file and chunk checksum.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::{DateTime, NaiveDateTime, Utc};
use evtx::{EvtxParser, ParserSettings};
use kmsdiag::{EvtxWriter, FileState, Record};
use quick_xml::events::Event;

/// The fields both readers report, normalised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Seen {
    provider: String,
    guid: Option<String>,
    source: Option<String>,
    event_id: u16,
    qualifiers: Option<u16>,
    version: u8,
    level: u8,
    task: u16,
    opcode: u8,
    keywords: u64,
    time: DateTime<Utc>,
    record_id: u64,
    process_id: u32,
    thread_id: u32,
    channel: String,
    computer: String,
    data: Vec<String>,
}

fn expected(r: &Record, id: u64) -> Seen {
    Seen {
        provider: r.provider.clone(),
        guid: r.provider_guid.clone(),
        source: r.event_source_name.clone(),
        event_id: r.event_id,
        qualifiers: r.qualifiers,
        version: r.version,
        level: r.level,
        task: r.task,
        opcode: r.opcode,
        keywords: r.keywords,
        time: r.time_created,
        record_id: id,
        process_id: r.process_id,
        thread_id: r.thread_id,
        channel: r.channel.clone(),
        computer: r.computer.clone(),
        data: r.data.clone(),
    }
}

/// A varied set: several providers, computers and channels (so templates are defined and
/// reused across chunks), missing qualifiers and GUIDs, empty and zero data, markup characters,
/// non-ASCII text, long strings, sub-second times.
fn records() -> Vec<Record> {
    let providers = [
        (
            "Microsoft-Windows-Security-SPP",
            Some("{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}"),
            Some("Software Protection Platform Service"),
        ),
        ("MsiInstaller", None, None),
        (
            "Microsoft-Windows-RestartManager",
            Some("{0888E5EF-9B98-4695-979D-E92CE4247224}"),
            None,
        ),
    ];
    let base = DateTime::parse_from_rfc3339("2026-03-01T07:30:00Z")
        .unwrap()
        .with_timezone(&Utc);
    (0..3000u32)
        .map(|i| {
            let (provider, guid, source) = providers[(i % 3) as usize];
            let data = match i % 6 {
                0 => Vec::new(),
                1 => vec![String::new()],
                2 => vec![
                    format!("0x00000000, 0x00000000, kms01:1688, {i}"),
                    String::new(),
                ],
                3 => vec![
                    "<script>&\"'</script>".to_owned(),
                    "Zürich · 東京 · Ω".to_owned(),
                ],
                4 => vec![
                    "x".repeat(1500 + (i as usize % 300)),
                    "tail".to_owned(),
                    "3".to_owned(),
                ],
                _ => vec!["a".into(), "b".into(), "c".into(), "d".into()],
            };
            Record {
                provider: provider.to_owned(),
                provider_guid: guid.map(str::to_owned),
                event_source_name: source.map(str::to_owned),
                event_id: [12288u16, 12289, 1040, 10000, 8198][(i % 5) as usize],
                qualifiers: (i % 7 != 0).then_some(if i % 2 == 0 { 16384 } else { 49152 }),
                version: (i % 3) as u8,
                level: [4u8, 2, 3][(i % 3) as usize],
                task: (i % 4) as u16,
                opcode: (i % 2) as u8,
                keywords: if i % 11 == 0 {
                    0x8000_0000_0000_0000
                } else {
                    0x0080_0000_0000_0000
                },
                time_created: base
                    + chrono::Duration::seconds(i64::from(i) * 97)
                    + chrono::Duration::microseconds(i64::from(i % 1000) * 137),
                process_id: 4000 + i,
                thread_id: 7 * i,
                channel: if i % 13 == 0 {
                    "Key Management Service"
                } else {
                    "Application"
                }
                .to_owned(),
                computer: format!("ws{:02}.contoso.com", i % 4),
                data,
            }
        })
        .collect()
}

fn write(path: &Path, recs: &[Record], first_id: u64, state: FileState) -> Vec<Seen> {
    let f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut w = EvtxWriter::new(f, first_id).unwrap();
    let seen = recs
        .iter()
        .map(|r| {
            let id = w.write(r).unwrap();
            expected(r, id)
        })
        .collect();
    w.finish(state).unwrap();
    seen
}

fn parse_time(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .or_else(|_| {
            DateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f%:z").map(|t| t.with_timezone(&Utc))
        })
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc()))
        .unwrap_or_else(|e| panic!("time {s:?}: {e}"))
}

fn hex_u64(s: &str) -> u64 {
    u64::from_str_radix(s.trim_start_matches("0x"), 16).unwrap()
}

/// Reads one rendered record (either reader's XML) into [`Seen`].
fn from_xml(xml: &str) -> Seen {
    let mut r = quick_xml::Reader::from_str(xml);
    let mut s = Seen {
        provider: String::new(),
        guid: None,
        source: None,
        event_id: 0,
        qualifiers: None,
        version: 0,
        level: 0,
        task: 0,
        opcode: 0,
        keywords: 0,
        time: DateTime::<Utc>::UNIX_EPOCH,
        record_id: 0,
        process_id: 0,
        thread_id: 0,
        channel: String::new(),
        computer: String::new(),
        data: Vec::new(),
    };
    let mut current = String::new();
    let mut text = String::new();
    loop {
        match r.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Data" => {
                current = "Data".into();
                text.clear();
                s.data.push(String::new());
            }
            ev @ (Event::Start(_) | Event::Empty(_)) => {
                let (Event::Start(e) | Event::Empty(e)) = &ev else {
                    unreachable!()
                };
                e.local_name().as_ref().clone_into(&mut current);
                text.clear();
                for a in e.attributes() {
                    let a = a.unwrap();
                    let v = quick_xml::escape::unescape(&a.value).unwrap().into_owned();
                    match (current.as_str(), a.key.local_name().as_ref()) {
                        ("Provider", "Name") => s.provider = v,
                        ("Provider", "Guid") => s.guid = Some(v.to_uppercase()),
                        ("Provider", "EventSourceName") => s.source = Some(v),
                        ("EventID", "Qualifiers") => s.qualifiers = v.parse().ok(),
                        ("TimeCreated", "SystemTime") => s.time = parse_time(&v),
                        ("Execution", "ProcessID") => s.process_id = v.parse().unwrap(),
                        ("Execution", "ThreadID") => s.thread_id = v.parse().unwrap(),
                        _ => {}
                    }
                }
            }
            Event::Text(t) => text.push_str(&t),
            Event::GeneralRef(g) => {
                let name: &str = &g;
                text.push_str(&match name {
                    "lt" => "<".to_owned(),
                    "gt" => ">".to_owned(),
                    "amp" => "&".to_owned(),
                    "quot" => "\"".to_owned(),
                    "apos" => "'".to_owned(),
                    n if n.starts_with("#x") => {
                        char::from_u32(u32::from_str_radix(&n[2..], 16).unwrap())
                            .unwrap()
                            .to_string()
                    }
                    n if n.starts_with('#') => {
                        char::from_u32(n[1..].parse().unwrap()).unwrap().to_string()
                    }
                    n => panic!("entity {n}"),
                });
            }
            Event::End(_) => {
                let t = std::mem::take(&mut text);
                match current.as_str() {
                    "Data" => *s.data.last_mut().unwrap() = t,
                    "EventID" => s.event_id = t.trim().parse().unwrap(),
                    "Version" => s.version = t.trim().parse().unwrap_or(0),
                    "Level" => s.level = t.trim().parse().unwrap(),
                    "Task" => s.task = t.trim().parse().unwrap(),
                    "Opcode" => s.opcode = t.trim().parse().unwrap(),
                    "Keywords" => s.keywords = hex_u64(t.trim()),
                    "EventRecordID" => s.record_id = t.trim().parse().unwrap(),
                    "Channel" => s.channel = t,
                    "Computer" => s.computer = t,
                    _ => {}
                }
                current.clear();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    s
}

fn read_with_crate(path: &Path) -> Vec<Seen> {
    let mut p = EvtxParser::from_path(path).unwrap().with_configuration(
        ParserSettings::new()
            .num_threads(1)
            .validate_checksums(true),
    );
    p.records()
        .map(|r| from_xml(&r.unwrap_or_else(|e| panic!("{}: {e}", path.display())).data))
        .collect()
}

/// The interpreter with python-evtx: `KMSDIAG_PYTHON`, the venv `.ci/pyevtx.sh` makes, or
/// `python3`. `None` (after a loud message) when there is none outside CI.
pub(crate) fn python_evtx() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = std::env::var_os("KMSDIAG_PYTHON")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            PathBuf::from("target/pyevtx/bin/python"),
            PathBuf::from("python3"),
        ])
        .collect();
    let mut any_python = false;
    for c in &candidates {
        match Command::new(c).args(["-c", "import Evtx.Evtx"]).output() {
            Ok(o) if o.status.success() => return Some(c.clone()),
            Ok(_) => any_python = true,
            Err(_) => {}
        }
    }
    let why = if any_python {
        "python-evtx is not installed (run `export KMSDIAG_PYTHON=\"$(bash .ci/pyevtx.sh)\"`)"
    } else {
        "no Python interpreter found"
    };
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the python-evtx round trip, but {why}"
    );
    eprintln!("\n!!! SKIPPED the python-evtx half of the round trip: {why} !!!\n");
    None
}

/// python-evtx's view of a file: (header ok, chunks ok, dirty, full, records).
pub(crate) fn read_with_python(python: &Path, path: &Path) -> (bool, bool, bool, bool, Vec<Seen>) {
    let out = Command::new(python)
        .arg("tests/support/pyevtx_dump.py")
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "python-evtx: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let opt = |x: &serde_json::Value| x.as_str().filter(|s| !s.is_empty()).map(str::to_owned);
    let recs = v["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| Seen {
            provider: r["provider"].as_str().unwrap().to_owned(),
            guid: opt(&r["guid"]).map(|g| g.to_uppercase()),
            source: opt(&r["source"]),
            event_id: r["event_id"].as_str().unwrap().parse().unwrap(),
            qualifiers: opt(&r["qualifiers"]).map(|q| q.parse().unwrap()),
            version: r["version"].as_str().unwrap().parse().unwrap(),
            level: r["level"].as_str().unwrap().parse().unwrap(),
            task: r["task"].as_str().unwrap().parse().unwrap(),
            opcode: r["opcode"].as_str().unwrap().parse().unwrap(),
            keywords: hex_u64(r["keywords"].as_str().unwrap()),
            time: parse_time(r["time"].as_str().unwrap()),
            record_id: r["record_id"].as_str().unwrap().parse().unwrap(),
            process_id: r["process_id"].as_str().unwrap().parse().unwrap(),
            thread_id: r["thread_id"].as_str().unwrap().parse().unwrap(),
            channel: r["channel"].as_str().unwrap().to_owned(),
            computer: r["computer"].as_str().unwrap().to_owned(),
            data: r["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_str().unwrap().to_owned())
                .collect(),
        })
        .collect();
    let flag = |k: &str| v[k].as_bool().unwrap();
    (
        flag("header_ok"),
        flag("chunks_ok"),
        flag("dirty"),
        flag("full"),
        recs,
    )
}

#[test]
fn records_round_trip_through_the_evtx_crate_with_checksums_enforced() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Application.evtx");
    let written = write(&path, &records(), 1, FileState::default());
    let bytes = std::fs::read(&path).unwrap();
    assert!(
        (bytes.len() - 4096) / 65536 > 10,
        "the set spans many chunks"
    );
    let read = read_with_crate(&path);
    assert_eq!(read.len(), written.len());
    for (r, w) in read.iter().zip(&written) {
        assert_eq!(r, w);
    }
}

#[test]
fn records_round_trip_through_python_evtx() {
    let Some(python) = python_evtx() else { return };
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("Application.evtx");
    let state = FileState {
        dirty: true,
        full: true,
    };
    let written = write(&path, &records(), 5001, state);
    let (header_ok, chunks_ok, dirty, full, read) = read_with_python(&python, &path);
    assert!(
        header_ok,
        "python-evtx rejects the file header (magic, version or CRC32)"
    );
    assert!(
        chunks_ok,
        "python-evtx rejects a chunk header or data checksum"
    );
    assert!(dirty && full);
    assert_eq!(read.len(), written.len());
    for (r, w) in read.iter().zip(&written) {
        // python-evtx turns FILETIMEs into datetimes through a float of seconds since 1970, which
        // lands a few microseconds off at today's dates (the evtx crate's times are compared
        // exactly above); every other field must match exactly.
        let drift = (r.time - w.time).num_microseconds().unwrap().abs();
        assert!(drift <= 10, "time {} vs {}", r.time, w.time);
        let mut r = r.clone();
        r.time = w.time;
        assert_eq!(&r, w);
    }
}

#[test]
fn an_empty_log_is_a_valid_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("empty.evtx");
    write(&path, &[], 1, FileState::default());
    assert_eq!(read_with_crate(&path), Vec::new());
}
