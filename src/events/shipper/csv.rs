//! SIEM and shipper exports as CSV (Splunk's CSV export with `_raw`, the Sentinel / Log Analytics
//! portal's CSV of `Event` or `WindowsEvent` rows, Kibana's CSV report of ECS fields): the header
//! names the columns, each row is read as a record through the field-alias table, one row at a
//! time (quoted cells may span lines).

use serde_json::{Map, Value};

use super::Walker;
use crate::events::json::JsonRead;
use crate::model::event::RawEvent;
use crate::rules::fields::{FieldAliases, Target, normalize_key};

/// Whether a text starts with a CSV header whose columns the table knows: an Event XML column, or
/// an event id column and a provider or channel column.
pub(crate) fn probe(head: &str, fields: &FieldAliases) -> bool {
    let Some(cols) = header(head) else {
        return false;
    };
    let has = |target: Target| {
        cols.iter().any(|c| {
            fields
                .hits(&normalize_key(c))
                .iter()
                .any(|h| h.target == target)
        })
    };
    cols.len() > 1
        && (has(Target::EventXml)
            || (has(Target::EventId) && (has(Target::Provider) || has(Target::Channel))))
}

/// The cells of the first line, when it reads as a CSV header.
fn header(head: &str) -> Option<Vec<String>> {
    let first = head
        .trim_start_matches('\u{feff}')
        .lines()
        .find(|l| !l.trim().is_empty())?;
    let mut reader = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(first.as_bytes());
    let record = reader.records().next()?.ok()?;
    Some(record.iter().map(|c| c.trim().to_owned()).collect())
}

/// Reads every row of a CSV export and hands each record to `each`.
pub(crate) fn read_each(
    text: &str,
    fields: &FieldAliases,
    each: &mut dyn FnMut(RawEvent),
) -> JsonRead {
    let mut read = JsonRead::default();
    let mut walker = Walker::new(fields);
    let body = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut lines = Lines::default();
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => {
            read.damaged.push(format!("line 1: not a CSV header: {e}"));
            return read;
        }
    };
    let mut index = 0;
    for row in reader.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, ::csv::Position::line);
                read.damaged
                    .push(format!("line {line}: not a CSV row: {e}"));
                continue;
            }
        };
        let line = row.position().map(|p| lines.of(body, p.byte()));
        let mut m = Map::new();
        for (name, cell) in columns.iter().zip(row.iter()) {
            if !cell.is_empty() {
                m.insert(name.clone(), Value::String(cell.to_owned()));
            }
        }
        match walker.record(&m, 0) {
            Some(mut e) => {
                e.index = index;
                e.line = line.and_then(|l| u32::try_from(l).ok());
                index += 1;
                read.records += 1;
                each(e);
            }
            None if walker.mentions_event(&Value::Object(m)) => {
                read.damaged.push(format!(
                    "line {}: an event id but no provider, channel or event XML",
                    line.unwrap_or(0)
                ));
            }
            None => {}
        }
    }
    read.notes = walker.tally.notes(fields);
    read
}

/// Line numbers of the rows' byte offsets, met in increasing order and counted once. A row of a
/// CRLF file starts, by the reader's offset, on the `\n` that ends the line before it.
#[derive(Default)]
struct Lines {
    at: usize,
    newlines: u64,
}

impl Lines {
    fn of(&mut self, text: &str, byte: u64) -> u64 {
        let byte = usize::try_from(byte).unwrap_or(usize::MAX).min(text.len());
        if byte < self.at {
            *self = Lines::default();
        }
        self.newlines += text
            .get(self.at..byte)
            .map_or(0, |t| t.matches('\n').count() as u64);
        self.at = byte;
        let pending = u64::from(text.as_bytes().get(byte) == Some(&b'\n'));
        self.newlines + pending + 1
    }
}
