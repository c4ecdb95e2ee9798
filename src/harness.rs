//! Entry points of the fuzz targets (`fuzz/`), shared with the test that replays every input the
//! fuzzers kept (`tests/integration/fuzz_regressions.rs`), so CI runs exactly what was fuzzed.
//! Each takes arbitrary bytes and must neither panic nor hang; results are thrown away.

use chrono::{DateTime, NaiveDate, Utc};

use crate::events::{self, Keep, RawEvent};
use crate::model::InputFormat;
use crate::report::{self, ReportFormat, View};
use crate::rules::Rules;
use crate::slmgr::SlmgrReader;

/// The fuzz targets, by name (a directory of `fuzz/regressions/` each).
pub const TARGETS: &[&str] = &[
    "slmgr",
    "code_spelling",
    "payload",
    "event_xml",
    "event_json",
    "event_tabular",
    "evtx",
    "analyze",
];

/// Runs target `name` on `data`; `false` when there is no such target. The slmgr reader is
/// built for each call: callers that run many inputs hold one ([`run_with`]).
pub fn run(rules: &Rules, name: &str, data: &[u8]) -> bool {
    run_with(rules, &SlmgrReader::new(rules), name, data)
}

/// [`run`] with an slmgr reader built once (from `rules`) for every input.
pub fn run_with(rules: &Rules, reader: &SlmgrReader, name: &str, data: &[u8]) -> bool {
    match name {
        "slmgr" => slmgr(rules, reader, data),
        "code_spelling" => code_spelling(rules, data),
        "payload" => payload(data),
        "event_xml" => event_text(rules, data, events::xml::read),
        "event_json" => event_json(rules, data),
        "event_tabular" => event_tabular(rules, data),
        "evtx" => evtx(rules, data),
        "analyze" => analyze(rules, reader, data),
        _ => return false,
    }
    true
}

fn judged_at() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2025, 7, 5)
        .and_then(|d| d.and_hms_opt(12, 0, 0))
        .unwrap_or_default()
}

/// slmgr output: decoding, parsing, diagnosis.
pub fn slmgr(rules: &Rules, reader: &SlmgrReader, data: &[u8]) {
    if let Ok(snaps) = reader.parse("fuzz.txt", data) {
        let machines = crate::diagnose::group_machines(snaps);
        let _ = crate::diagnose::diagnose_snapshots(rules, &machines, judged_at(), 30);
    }
}

/// A pasted code in any spelling, and a flags value.
pub fn code_spelling(rules: &Rules, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = crate::diagnose::lookup::resolve(rules, &text);
    let _ = crate::diagnose::lookup::decode_flags(rules, &text);
    let _ = crate::hresult::read_number(&text);
}

/// Event payload shapes: Info strings, `k=v;` lists, client times, message templates.
pub fn payload(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = events::payload::split_info(&text);
    let _ = events::payload::key_values(&text);
    let created = DateTime::<Utc>::from_timestamp(1_751_716_800, 0);
    let _ = events::payload::client_time(&text, created);
    let _ = events::payload::client_time(&text, None);
    // The first line as a message template, the rest as a message rendered from it.
    if let Some((template, message)) = text.split_once('\n') {
        let _ = events::message::extract(template, message);
    }
}

fn normalize_all(rules: &Rules, raws: &[RawEvent], format: InputFormat) {
    let mut out = events::normalize_all(rules, raws, "fuzz", format, events::Keep::All);
    events::sort(&mut out);
}

/// An event reader over text (XML, JSON), then normalization of what it read.
pub fn event_text(rules: &Rules, data: &[u8], read: fn(&str) -> (Vec<RawEvent>, Vec<String>)) {
    let text = String::from_utf8_lossy(data);
    let (raws, _) = read(&text);
    normalize_all(rules, &raws, InputFormat::Unknown);
}

/// The JSON reader (`evtx_dump`, `Get-WinEvent`, every SIEM and shipper shape), then
/// normalization of what it read; and format detection.
pub fn event_json(rules: &Rules, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (raws, _) = events::json::read(&text, rules.fields());
    normalize_all(rules, &raws, InputFormat::Json);
    let _ = events::detect(rules, data);
}

/// The tabular and message-only readers (Event Viewer CSV/text, Export-Csv, Format-List).
pub fn event_tabular(rules: &Rules, data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for form in [
        InputFormat::Csv,
        InputFormat::Tsv,
        InputFormat::EventviewerText,
        InputFormat::FormatList,
    ] {
        let (raws, _) = events::tabular::read(form, &text, rules.eventviewer_labels());
        normalize_all(rules, &raws, form);
    }
    let _ = events::tabular::detect(&text, rules.eventviewer_labels());
}

/// Bytes as an `.evtx` file (the magic is added when missing), through the pre-filter and the
/// `evtx` crate.
pub fn evtx(rules: &Rules, data: &[u8]) {
    let bytes = if data.starts_with(events::evtx::MAGIC) {
        data.to_vec()
    } else {
        let mut b = events::evtx::MAGIC.to_vec();
        b.extend_from_slice(data);
        b
    };
    let _ = events::read_input(rules, "fuzz.evtx", bytes.clone(), None, Keep::All);
    let _ = events::read_input(
        rules,
        "fuzz.evtx",
        bytes,
        None,
        Keep::Ids(crate::model::ids::event::CORRELATED),
    );
}

/// Bytes as a whole input: format detection, every decoder it picks, the diagnosis, every
/// renderer.
pub fn analyze(rules: &Rules, reader: &SlmgrReader, data: &[u8]) {
    let opts = crate::pipeline::Options {
        now: Some(judged_at()),
        ..crate::pipeline::Options::default()
    };
    let report = crate::pipeline::analyze_inputs_with(rules, reader, &[("fuzz", data)], &opts);
    for format in ReportFormat::ALL {
        let _ = report::render(&mut std::io::sink(), format, &View::plain(), &report);
    }
}
