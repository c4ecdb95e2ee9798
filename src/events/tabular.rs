//! Event exports as tables and text: Event Viewer "Save as" CSV and "Text (Tab delimited)"
//! (`Level, Date and Time, Source, Event ID, Task Category`, then the message), `Get-WinEvent |
//! Export-Csv` (its property names as columns), blocks copied from Event Viewer's General view
//! (`Log Name: … Event ID: … Description: …`) and `Get-WinEvent | Format-List` output.
//!
//! These forms carry the rendered message, not the payload strings; the catalogue's message
//! templates read them back. Their times are the exporting machine's local clock without a zone;
//! they are taken as UTC and the input summary says so.

use chrono::{DateTime, Utc};

use std::sync::Arc;

use crate::model::InputFormat;
use crate::model::event::RawEvent;
use crate::rules::events::{Header, HeaderLabels};

/// A line's `key: value` parts, split at its first colon (ASCII or full-width).
fn split_key(line: &str) -> Option<(&str, &str)> {
    let at = line.find([':', '\u{FF1A}'])?;
    let colon = line.get(at..)?.chars().next()?.len_utf8();
    Some((line.get(..at)?, line.get(at + colon..)?))
}

/// The Event Viewer header a line starts with, in any language `labels` lists.
fn header_of(line: &str, labels: &HeaderLabels) -> Option<Header> {
    let (key, _) = split_key(line.trim_start())?;
    labels.header(key)
}

/// Which text form a text is, if any.
pub(crate) fn detect(text: &str, labels: &HeaderLabels) -> Option<InputFormat> {
    let head: String = text.chars().take(8192).collect();
    let first = head
        .lines()
        .find(|l| !l.trim().is_empty() && !l.starts_with("#TYPE"))
        .unwrap_or("");
    let cols = |sep: char| {
        first
            .split(sep)
            .map(|c| c.trim().trim_matches('"').to_owned())
            .collect::<Vec<_>>()
    };
    let has = |cols: &[String], names: &[&str]| {
        names
            .iter()
            .all(|n| cols.iter().any(|c| c.eq_ignore_ascii_case(n)))
    };
    for sep in [',', '\t', ';'] {
        let c = cols(sep);
        if has(&c, &["Level", "Date and Time", "Source", "Event ID"])
            || has(&c, &["Id", "ProviderName", "Message"])
        {
            return Some(if sep == '\t' {
                InputFormat::Tsv
            } else {
                InputFormat::Csv
            });
        }
    }
    let keyed = |k: &str| {
        head.lines()
            .any(|l| l.trim_start().to_ascii_lowercase().starts_with(k))
    };
    let has_header = |h: Header| head.lines().any(|l| header_of(l, labels) == Some(h));
    if has_header(Header::LogName) && has_header(Header::EventId) {
        return Some(InputFormat::EventviewerText);
    }
    if keyed("providername") && keyed("id ") && head.contains(" : ") {
        return Some(InputFormat::FormatList);
    }
    None
}

/// Reads events from a text form ([`detect`] names it; any other is read as Format-List
/// blocks). The second list says what could not be read.
pub(crate) fn read(
    form: InputFormat,
    text: &str,
    labels: &HeaderLabels,
) -> (Vec<RawEvent>, Vec<String>) {
    match form {
        InputFormat::Csv | InputFormat::Tsv => read_table(text, form == InputFormat::Tsv),
        InputFormat::EventviewerText => read_blocks(text, Some(labels)),
        _ => read_blocks(text, None),
    }
}

/// A local date-time as the exporting machine printed it, read as UTC.
fn local_time(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Some(t) = super::xml::parse_system_time(s) {
        return Some(t);
    }
    let raw = crate::input::values::date_parts(s)?;
    let order = raw.forced_order().unwrap_or_else(|| raw.default_order());
    raw.datetime(order).0.map(|n| n.and_utc())
}

fn event_from(fields: &[(String, String)], index: u64, line: Option<u32>) -> Option<RawEvent> {
    let get = |names: &[&str]| {
        fields
            .iter()
            .find(|(k, _)| names.iter().any(|n| k.eq_ignore_ascii_case(n)))
            .map(|(_, v)| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let id: u32 = get(&["Event ID", "Id", "EventID"])?.parse().ok()?;
    Some(RawEvent {
        provider: get(&["Source", "ProviderName"])
            .map(Arc::from)
            .unwrap_or_default(),
        event_source_name: None,
        event_id: id,
        qualifiers: get(&["Qualifiers"]).and_then(|q| q.parse().ok()),
        level: get(&["Level"]).and_then(|l| l.parse().ok()),
        time_created: get(&["Date and Time", "Date", "TimeCreated"]).and_then(|t| local_time(&t)),
        record_id: get(&["RecordId", "Record Id"]).and_then(|r| r.parse().ok()),
        channel: get(&["Log Name", "LogName"]).map(Arc::from),
        computer: get(&["Computer", "MachineName"]).map(Arc::from),
        data: Vec::new(),
        message: get(&["Description", "Message"]).or_else(|| {
            fields
                .iter()
                .find(|(k, _)| k.is_empty())
                .map(|(_, v)| v.clone())
        }),
        index,
        line,
    })
}

fn read_table(text: &str, tabs: bool) -> (Vec<RawEvent>, Vec<String>) {
    let body: String = text
        .lines()
        .skip_while(|l| l.starts_with("#TYPE") || l.trim().is_empty())
        .collect::<Vec<_>>()
        .join("\n");
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(if tabs {
            b'\t'
        } else if body
            .lines()
            .next()
            .is_some_and(|h| h.matches(';').count() > h.matches(',').count())
        {
            b';'
        } else {
            b','
        })
        .flexible(true)
        .from_reader(body.as_bytes());
    let header: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => return (Vec::new(), vec![format!("header not readable: {e}")]),
    };
    let mut events = Vec::new();
    let mut damaged = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        let index = i as u64;
        match rec {
            Ok(r) => {
                let line = r.position().and_then(|p| u32::try_from(p.line()).ok());
                // Event Viewer's rows have one more column than its header: the message.
                let fields: Vec<(String, String)> = r
                    .iter()
                    .enumerate()
                    .map(|(c, v)| (header.get(c).cloned().unwrap_or_default(), v.to_owned()))
                    .collect();
                match event_from(&fields, index, line) {
                    Some(e) => events.push(e),
                    None => damaged.push(format!("line {}: no event id", line.unwrap_or(0))),
                }
            }
            Err(e) => damaged.push(format!("row {index}: {e}")),
        }
    }
    (events, damaged)
}

/// `Key: value` blocks. With Event Viewer's header labels (`labels`), a block starts at its "Log
/// Name" header in any language listed, and each header is stored under its English name;
/// otherwise blocks are separated by blank lines (Format-List). A description takes the lines
/// after it until the next block; Format-List continuation lines (indented) join their key.
fn read_blocks(text: &str, labels: Option<&HeaderLabels>) -> (Vec<RawEvent>, Vec<String>) {
    let mut events = Vec::new();
    let mut damaged = Vec::new();
    let mut fields: Vec<(String, String)> = Vec::new();
    let mut block_line: u32 = 0;
    let mut in_description = false;
    let flush = |fields: &mut Vec<(String, String)>,
                 line: u32,
                 events: &mut Vec<RawEvent>,
                 damaged: &mut Vec<String>| {
        if fields.is_empty() {
            return;
        }
        let index = (events.len() + damaged.len()) as u64;
        match event_from(fields, index, Some(line)) {
            Some(e) => events.push(e),
            None => damaged.push(format!("line {line}: a block without an event id")),
        }
        fields.clear();
    };
    for (i, raw) in text.lines().enumerate() {
        let no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let line = raw.trim_end();
        let header = labels.and_then(|l| header_of(line, l));
        let starts_block = header == Some(Header::LogName);
        if starts_block || (labels.is_none() && line.trim().is_empty() && !in_description) {
            flush(&mut fields, block_line, &mut events, &mut damaged);
            in_description = false;
            if line.trim().is_empty() {
                continue;
            }
        }
        let xml_follows = match labels {
            Some(_) => header == Some(Header::EventXml),
            None => line
                .trim_start()
                .to_ascii_lowercase()
                .starts_with("event xml:"),
        };
        if xml_follows {
            in_description = false;
            continue;
        }
        if in_description {
            if let Some((_, v)) = fields.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if fields.is_empty() {
            block_line = no;
        }
        // Format-List indents the continuation of a long value; Event Viewer does not indent.
        let indented = line.starts_with(' ') && labels.is_none();
        let key_value = if indented {
            None
        } else {
            split_key(line).filter(|(k, _)| {
                let k = k.trim();
                !k.is_empty() && k.len() <= 40 && k.split_whitespace().count() <= 4
            })
        };
        match key_value {
            Some((k, v)) => {
                let key = match header {
                    Some(h) => h.english().to_owned(),
                    None => k.trim().to_owned(),
                };
                in_description = header == Some(Header::Description);
                fields.push((key, v.trim().to_owned()));
            }
            None => {
                if let Some((_, v)) = fields.last_mut() {
                    v.push('\n');
                    v.push_str(line.trim());
                }
            }
        }
    }
    flush(&mut fields, block_line, &mut events, &mut damaged);
    (events, damaged)
}
