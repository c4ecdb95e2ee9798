//! `kmsdiag synth --export`: the fleet's activation events as the SIEMs and log shippers that
//! kmsdiag reads would export them (Splunk, Sentinel / Log Analytics, Elastic, Wazuh, Graylog
//! GELF, `NXLog`, `OpenWEC`, Fluent Bit, `PowerShell`), one file per shape under `DIR/exports/`. Each
//! writer follows the vendor's own documentation of its fields (cited in its file and in
//! docs/synth.md), not kmsdiag's readers, so that analysing an export against the fleet's
//! `.evtx` checks the readers against the vendor's shape. The records exported are those the
//! `kmsdiag collect` queries push down to: the activation providers' events the analysis
//! correlates, and the whole Key Management Service log. This file owns the shape list, the
//! record selection and order, and what the writers share (rendered messages, CSV and ordered
//! JSON); the writers live in one file per family.

mod elastic;
mod powershell;
mod sentinel;
mod shippers;
mod splunk;

use std::fmt::Write as _;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::ser::{SerializeMap, SerializeSeq};

use super::evtx_writer::Record;
use super::output::{OutputError, Written};
use super::sim::Fleet;
use crate::model::ids::event::CORRELATED;
use crate::rules::Rules;

/// The provider of every activation event the simulation writes.
const SPP: &str = "Microsoft-Windows-Security-SPP";
/// The log of the KMS host's 12290 records.
const KMS_LOG: &str = "Key Management Service";

/// One export shape: what `--export` names, and the file it writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    SplunkJson,
    SplunkCsv,
    SplunkClassic,
    SentinelEventJson,
    SentinelEventCsv,
    SentinelWindowsEventJson,
    SentinelWindowsEventCsv,
    Ecs,
    KibanaCsv,
    Wazuh,
    Gelf,
    Nxlog,
    Openwec,
    FluentBit,
    WinEventCsv,
    WinEventJson,
}

impl Shape {
    /// Every shape, in the order of `--export all`.
    pub(crate) const ALL: [Shape; 16] = [
        Shape::SplunkJson,
        Shape::SplunkCsv,
        Shape::SplunkClassic,
        Shape::SentinelEventJson,
        Shape::SentinelEventCsv,
        Shape::SentinelWindowsEventJson,
        Shape::SentinelWindowsEventCsv,
        Shape::Ecs,
        Shape::KibanaCsv,
        Shape::Wazuh,
        Shape::Gelf,
        Shape::Nxlog,
        Shape::Openwec,
        Shape::FluentBit,
        Shape::WinEventCsv,
        Shape::WinEventJson,
    ];

    /// The name `--export` takes and the file's stem.
    pub(crate) fn id(self) -> &'static str {
        match self {
            Shape::SplunkJson => "splunk-json",
            Shape::SplunkCsv => "splunk-csv",
            Shape::SplunkClassic => "splunk-classic",
            Shape::SentinelEventJson => "sentinel-event-json",
            Shape::SentinelEventCsv => "sentinel-event-csv",
            Shape::SentinelWindowsEventJson => "sentinel-windowsevent-json",
            Shape::SentinelWindowsEventCsv => "sentinel-windowsevent-csv",
            Shape::Ecs => "ecs",
            Shape::KibanaCsv => "kibana-csv",
            Shape::Wazuh => "wazuh",
            Shape::Gelf => "gelf",
            Shape::Nxlog => "nxlog",
            Shape::Openwec => "openwec",
            Shape::FluentBit => "fluent-bit",
            Shape::WinEventCsv => "get-winevent-csv",
            Shape::WinEventJson => "get-winevent-json",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Shape::SplunkCsv
            | Shape::SentinelEventCsv
            | Shape::SentinelWindowsEventCsv
            | Shape::KibanaCsv
            | Shape::WinEventCsv => "csv",
            Shape::SplunkJson
            | Shape::Ecs
            | Shape::Wazuh
            | Shape::Gelf
            | Shape::Nxlog
            | Shape::Openwec
            | Shape::FluentBit => "ndjson",
            Shape::SplunkClassic => "txt",
            Shape::SentinelEventJson | Shape::SentinelWindowsEventJson | Shape::WinEventJson => {
                "json"
            }
        }
    }

    /// A shape by its `--export` name (case ignored).
    pub(crate) fn parse(name: &str) -> Option<Shape> {
        Shape::ALL
            .into_iter()
            .find(|s| s.id().eq_ignore_ascii_case(name.trim()))
    }

    fn write(self, rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
        match self {
            Shape::SplunkJson => splunk::json(rows, w),
            Shape::SplunkCsv => splunk::csv(rows, w),
            Shape::SplunkClassic => splunk::classic(rows, w),
            Shape::SentinelEventJson => sentinel::event_json(rows, w),
            Shape::SentinelEventCsv => sentinel::event_csv(rows, w),
            Shape::SentinelWindowsEventJson => sentinel::windows_event_json(rows, w),
            Shape::SentinelWindowsEventCsv => sentinel::windows_event_csv(rows, w),
            Shape::Ecs => elastic::ecs(rows, w),
            Shape::KibanaCsv => elastic::kibana_csv(rows, w),
            Shape::Wazuh => elastic::wazuh(rows, w),
            Shape::Gelf => shippers::gelf(rows, w),
            Shape::Nxlog => shippers::nxlog(rows, w),
            Shape::Openwec => shippers::openwec(rows, w),
            Shape::FluentBit => shippers::fluent_bit(rows, w),
            Shape::WinEventCsv => powershell::export_csv(rows, w),
            Shape::WinEventJson => powershell::convert_to_json(rows, w),
        }
    }
}

/// A set of shapes (`Copy`, so synth's options stay plain values).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Shapes(u32);

impl Shapes {
    pub(crate) fn with(self, s: Shape) -> Shapes {
        Shapes(self.0 | 1 << Self::bit(s))
    }

    pub(crate) fn is_empty(self) -> bool {
        self.0 == 0
    }

    fn bit(s: Shape) -> u32 {
        Shape::ALL
            .iter()
            .position(|x| *x == s)
            .and_then(|p| u32::try_from(p).ok())
            .unwrap_or(0)
    }

    fn iter(self) -> impl Iterator<Item = Shape> {
        Shape::ALL
            .into_iter()
            .filter(move |s| self.0 & (1 << Self::bit(*s)) != 0)
    }
}

/// Whether a record is one the export queries select: an activation provider's event the
/// analysis correlates, or any record of the Key Management Service log.
pub(crate) fn exported(r: &Record) -> bool {
    r.channel == KMS_LOG || (r.provider == SPP && CORRELATED.contains(&u32::from(r.event_id)))
}

/// One exported record with what every writer needs.
pub(super) struct Row<'a> {
    pub(super) r: &'a Record,
    pub(super) record_id: u64,
    /// The message as Event Viewer renders it in en-US (CRLF line breaks).
    pub(super) message: String,
    /// Minutes east of UTC of the machine's clock, for the shapes that write local time.
    pub(super) utc_offset: i32,
}

impl Row<'_> {
    /// The machine's short name (the first label of its FQDN).
    pub(super) fn short_name(&self) -> &str {
        self.r
            .computer
            .split('.')
            .next()
            .unwrap_or(&self.r.computer)
    }

    /// The record's time on the machine's own clock.
    pub(super) fn local_time(&self) -> DateTime<Utc> {
        self.r.time_created + Duration::minutes(i64::from(self.utc_offset))
    }

    /// Event Viewer's level name.
    pub(super) fn level_name(&self) -> &'static str {
        match self.r.level {
            1 => "Critical",
            2 => "Error",
            3 => "Warning",
            _ => "Information",
        }
    }

    /// The record as `wevtutil qe /f:xml` prints it (single-quoted attributes).
    pub(super) fn xml(&self) -> String {
        super::output::record_xml(self.r, self.record_id)
    }

    /// The record's XML with the `RenderingInfo` block a forwarder that renders adds.
    pub(super) fn xml_rendered(&self) -> String {
        let xml = self.xml();
        let body = xml.strip_suffix("</Event>").unwrap_or(&xml);
        format!(
            "{body}<RenderingInfo Culture='en-US'><Message>{}</Message><Level>{}</Level><Task></Task><Opcode>Info</Opcode><Channel>{}</Channel><Provider></Provider><Keywords><Keyword>Classic</Keyword></Keywords></RenderingInfo></Event>",
            quick_xml::escape::escape(&self.message),
            self.level_name(),
            quick_xml::escape::escape(&self.r.channel),
        )
    }

    /// The payload as `<Data>` elements, double-quoted namespace (the Log Analytics forms).
    pub(super) fn event_data_xml(&self) -> String {
        let mut s = String::from(
            "<EventData xmlns=\"http://schemas.microsoft.com/win/2004/08/events/event\">",
        );
        for d in &self.r.data {
            let _ = write!(s, "<Data>{}</Data>", quick_xml::escape::escape(d));
        }
        s.push_str("</EventData>");
        s
    }
}

/// A time as Windows writes `SystemTime`: seven fraction digits (100 ns ticks) and `Z`.
pub(super) fn ticks_time(t: DateTime<Utc>) -> String {
    format!(
        "{}.{:07}Z",
        t.format("%Y-%m-%dT%H:%M:%S"),
        t.timestamp_subsec_nanos() / 100
    )
}

/// Seconds since 1970 with milliseconds, as GELF and Fluent Bit write their time stamps.
pub(super) fn epoch_seconds(t: DateTime<Utc>) -> f64 {
    format!("{}.{:03}", t.timestamp(), t.timestamp_subsec_millis())
        .parse()
        .unwrap_or(0.0)
}

/// The en-US message of a record: the first message-table text of `rules/events.toml` (the
/// texts Windows' message files hold) with `%n` as CRLF and `%1`… filled from the payload.
fn render(rules: &Rules, r: &Record) -> String {
    let Some(template) = rules
        .events()
        .event(u32::from(r.event_id))
        .and_then(|e| e.messages.first())
    else {
        return format!(
            "The description for Event ID {} from source {} cannot be found.",
            r.event_id, r.provider
        );
    };
    let mut out = String::new();
    let mut rest = template.as_str();
    while let Some((before, after)) = rest.split_once('%') {
        out.push_str(before);
        let digits = after.bytes().take_while(u8::is_ascii_digit).count();
        let (number, tail) = after.split_at(digits);
        if let Some(tail) = after.strip_prefix('n') {
            out.push_str("\r\n");
            rest = tail;
        } else if let Ok(n) = number.parse::<usize>() {
            let value = n.checked_sub(1).and_then(|i| r.data.get(i));
            out.push_str(value.map_or("", String::as_str));
            rest = tail;
        } else {
            out.push('%');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

/// Writes the selected shapes of the fleet's exported records under `out/exports/`.
pub(crate) fn write_exports(
    rules: &Rules,
    fleet: &Fleet,
    shapes: Shapes,
    records: &[(u64, Record)],
    out: &Path,
    written: &mut Written,
) -> Result<(), OutputError> {
    if shapes.is_empty() {
        return Ok(());
    }
    let offset = |computer: &str| {
        fleet
            .machines
            .iter()
            .find(|m| m.fqdn == computer)
            .map_or(0, |m| m.utc_offset)
    };
    let mut rows: Vec<Row<'_>> = records
        .iter()
        .map(|(id, r)| Row {
            r,
            record_id: *id,
            message: render(rules, r),
            utc_offset: offset(&r.computer),
        })
        .collect();
    // A search returns the fleet's records by time; ties by machine, log and record id.
    rows.sort_by(|a, b| {
        (a.r.time_created, &a.r.computer, &a.r.channel, a.record_id).cmp(&(
            b.r.time_created,
            &b.r.computer,
            &b.r.channel,
            b.record_id,
        ))
    });
    let dir = out.join("exports");
    let io_err = |path: &Path| {
        let path = path.display().to_string();
        move |source| OutputError::Io { path, source }
    };
    std::fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    for shape in shapes.iter() {
        let path = dir.join(format!("{}.{}", shape.id(), shape.extension()));
        let f = File::create(&path).map_err(io_err(&path))?;
        let mut w = BufWriter::new(f);
        shape.write(&rows, &mut w).map_err(io_err(&path))?;
        w.flush().map_err(io_err(&path))?;
        written.files.push(path.display().to_string());
        written.bytes += std::fs::metadata(&path).map_or(0, |m| m.len());
    }
    Ok(())
}

/// A JSON value whose objects keep the order they are written in (the vendors' key order).
pub(super) enum J {
    S(String),
    U(u64),
    F(f64),
    B(bool),
    A(Vec<J>),
    O(Vec<(String, J)>),
}

/// A string value.
pub(super) fn s(v: impl Into<String>) -> J {
    J::S(v.into())
}

/// An object from its keys and values, in order.
pub(super) fn o<'k>(fields: impl IntoIterator<Item = (&'k str, J)>) -> J {
    J::O(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
}

impl serde::Serialize for J {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        match self {
            J::S(v) => ser.serialize_str(v),
            J::U(v) => ser.serialize_u64(*v),
            J::F(v) => ser.serialize_f64(*v),
            J::B(v) => ser.serialize_bool(*v),
            J::A(items) => {
                let mut seq = ser.serialize_seq(Some(items.len()))?;
                for i in items {
                    seq.serialize_element(i)?;
                }
                seq.end()
            }
            J::O(fields) => {
                let mut map = ser.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

/// One JSON document on one line (NDJSON).
pub(super) fn json_line(w: &mut dyn Write, v: &J) -> io::Result<()> {
    serde_json::to_writer(&mut *w, v)?;
    w.write_all(b"\n")
}

/// A CSV row, quoted where RFC 4180 needs it, CRLF-terminated.
pub(super) fn csv_row<S: AsRef<str>>(w: &mut dyn Write, cells: &[S]) -> io::Result<()> {
    let mut line = String::new();
    for (i, c) in cells.iter().enumerate() {
        if i > 0 {
            line.push(',');
        }
        let c = c.as_ref();
        if c.contains([',', '"', '\r', '\n']) {
            line.push('"');
            line.push_str(&c.replace('"', "\"\""));
            line.push('"');
        } else {
            line.push_str(c);
        }
    }
    line.push_str("\r\n");
    w.write_all(line.as_bytes())
}

#[cfg(test)]
mod tests;
