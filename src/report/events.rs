//! Rendering what `kmsdiag events` read: the normalized events as text (one line per event:
//! machine, time, id, name, decoded fields, for a person reading a terminal), CSV, JSON or JSONL,
//! and a note per input on stderr (its format and counts, or why it was skipped).

use std::io::{self, Write};

use super::{Style, csv_cell, csv_error, diagnostic, json, sanitize};
use crate::events::{ActivationEvent, ReadStats};
use crate::model::InputFormat;

/// What `kmsdiag events` read from one input.
#[derive(Debug, serde::Serialize)]
pub(crate) struct EventsInput {
    pub path: String,
    /// The format it was read as; `None` when it was not read.
    pub format: Option<InputFormat>,
    #[serde(flatten)]
    pub stats: ReadStats,
    pub error: Option<String>,
}

/// Longest value shown in text mode; JSON output always carries the whole value.
const MAX_VALUE_CHARS: usize = 120;

fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut t: String = s.chars().take(max).collect();
        t.push('…');
        t
    }
}

/// Writes the events, one per line, and their count with the damaged items the inputs held
/// (each said on stderr by [`write_notes`]).
pub(crate) fn write_text(
    w: &mut dyn Write,
    style: &Style,
    inputs: &[EventsInput],
    events: &[ActivationEvent],
) -> io::Result<()> {
    for e in events {
        let time = e.time.map_or_else(
            || "-".to_owned(),
            |t| t.format("%Y-%m-%d %H:%M:%S").to_string(),
        );
        let name = e.name().unwrap_or("");
        let fields: Vec<String> = e
            .payload
            .fields()
            .map(|(k, v)| {
                let v = serde_json::to_value(v).map_or_else(
                    |_| String::new(),
                    |v| match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    },
                );
                format!("{k}={}", cut(&sanitize(&v, true), MAX_VALUE_CHARS))
            })
            .collect();
        let payload = if fields.is_empty() && e.payload.raw().len() > 0 {
            format!(
                "raw={}",
                cut(
                    &sanitize(&e.payload.raw_joined(" | "), true),
                    MAX_VALUE_CHARS
                )
            )
        } else {
            fields.join(" ")
        };
        writeln!(
            w,
            "{}  {}  {}  {:>5} {}  {}",
            style.bold(&sanitize(e.machine(), true)),
            time,
            style.dim(&sanitize(e.log().unwrap_or("-"), true)),
            e.event_id,
            name,
            payload
        )?;
    }
    let damaged: u64 = inputs.iter().map(|i| i.stats.damaged_count).sum();
    let damaged_inputs = inputs.iter().filter(|i| i.stats.damaged_count > 0).count();
    let count = if damaged > 0 {
        format!(
            "{} event(s); {damaged} damaged item(s) in {damaged_inputs} input(s) could not be read (see the notes)",
            events.len()
        )
    } else {
        format!("{} event(s)", events.len())
    };
    writeln!(w, "{}", style.dim(&count))
}

/// Writes the events as CSV: one row per event, fields as `name=value` joined by `; `, the raw
/// strings joined by ` | `; every cell made visible and spreadsheet-safe with [`csv_cell`], as
/// in `analyze --format csv`.
pub(crate) fn write_csv(w: &mut dyn Write, events: &[ActivationEvent]) -> io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    let row = |out: &mut csv::Writer<&mut dyn Write>, cells: &[&str]| -> io::Result<()> {
        out.write_record(cells.iter().map(|c| csv_cell(c)))
            .map_err(csv_error)
    };
    row(
        &mut out,
        &[
            "machine",
            "time",
            "provider",
            "event_id",
            "name",
            "record_id",
            "log",
            "path",
            "format",
            "index",
            "line",
            "fields",
            "raw",
        ],
    )?;
    for e in events {
        let fields: Vec<String> = e
            .payload
            .fields()
            .map(|(k, v)| {
                let v = serde_json::to_value(v).map_or_else(
                    |_| String::new(),
                    |v| match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    },
                );
                format!("{k}={v}")
            })
            .collect();
        let time = e
            .time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        let id = e.event_id.to_string();
        let record = e.record_id.map(|r| r.to_string()).unwrap_or_default();
        let index = e.source.index.to_string();
        let line = e.source.line.map(|l| l.to_string()).unwrap_or_default();
        let fields = fields.join("; ");
        let raw = e.payload.raw_joined(" | ");
        row(
            &mut out,
            &[
                e.machine(),
                &time,
                e.provider(),
                &id,
                e.name().unwrap_or(""),
                &record,
                e.log().unwrap_or(""),
                e.source.path(),
                e.source.format().as_str(),
                &index,
                &line,
                &fields,
                &raw,
            ],
        )?;
    }
    out.flush()
}

/// Writes the events as JSON lines: one compact object per event.
pub(crate) fn write_jsonl(w: &mut dyn Write, events: &[ActivationEvent]) -> io::Result<()> {
    for e in events {
        json::write_compact(w, e)?;
        writeln!(w)?;
    }
    Ok(())
}

/// Writes one JSON document: what was read from each input, and the events.
pub(crate) fn write_json(
    w: &mut dyn Write,
    inputs: &[EventsInput],
    events: &[ActivationEvent],
) -> io::Result<()> {
    let doc = serde_json::json!({ "inputs": inputs, "events": events });
    json::write_pretty(w, &doc)?;
    writeln!(w)
}

/// Says on stderr what was read from each input: its format and counts and the damaged items
/// skipped, or why it was skipped.
pub(crate) fn write_notes(inputs: &[EventsInput]) {
    for i in inputs {
        let Some(format) = i.format else {
            diagnostic(
                "note",
                &format!(
                    "{}: skipped: {}",
                    i.path,
                    i.error.as_deref().unwrap_or("not an event log")
                ),
            );
            continue;
        };
        let mut line = format!(
            "{}: {format}, {} record(s), {} activation event(s)",
            i.path, i.stats.records, i.stats.activation_events
        );
        if i.stats.damaged_count > 0 {
            line = format!("{line}, {} damaged item(s) skipped", i.stats.damaged_count);
        }
        diagnostic("note", &line);
        // What reading it found (a damaged header or chunks read where they lie, checksums,
        // times read as UTC): what JSON says in `notes`.
        for n in &i.stats.notes {
            diagnostic("note", &format!("{}: {n}", i.path));
        }
        for d in &i.stats.damaged {
            diagnostic("note", &format!("{}: {d}", i.path));
        }
        if i.stats.damaged_count > i.stats.damaged.len() as u64 {
            diagnostic(
                "note",
                &format!(
                    "{}: and {} more damaged item(s)",
                    i.path,
                    i.stats.damaged_count - i.stats.damaged.len() as u64
                ),
            );
        }
    }
}
