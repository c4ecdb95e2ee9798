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
    let body = text.trim_start_matches('\u{feff}');
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(body.as_bytes());
    let mut lines = Lines::default();
    let columns: Vec<String> = match reader.headers() {
        Ok(h) => h.iter().map(|c| c.trim().to_owned()).collect(),
        Err(e) => {
            let mut read = JsonRead::default();
            read.damaged.push(format!("line 1: not a CSV header: {e}"));
            return read;
        }
    };
    let mut rows = Rows::new(fields, columns);
    for row in reader.records() {
        let row = match row {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, ::csv::Position::line);
                rows.read
                    .damaged
                    .push(format!("line {line}: not a CSV row: {e}"));
                continue;
            }
        };
        let line = row.position().map(|p| lines.of(body, p.byte()));
        rows.row(row.iter(), line, each);
    }
    rows.finish()
}

/// The rows of a CSV export read one at a time as records (by [`read_each`], and by the
/// streaming reader of large exports).
pub(crate) struct Rows<'a> {
    walker: Walker<'a>,
    fields: &'a FieldAliases,
    columns: Vec<String>,
    read: JsonRead,
    index: u64,
}

impl<'a> Rows<'a> {
    /// The rows under a header of these (trimmed) column names.
    pub(crate) fn new(fields: &'a FieldAliases, columns: Vec<String>) -> Rows<'a> {
        Rows {
            walker: Walker::new(fields),
            fields,
            columns,
            read: JsonRead::default(),
            index: 0,
        }
    }

    /// One row's cells, on line `line`.
    pub(crate) fn row<'c>(
        &mut self,
        cells: impl Iterator<Item = &'c str>,
        line: Option<u64>,
        each: &mut dyn FnMut(RawEvent),
    ) {
        let mut m = Map::new();
        for (name, cell) in self.columns.iter().zip(cells) {
            if !cell.is_empty() {
                m.insert(name.clone(), Value::String(cell.to_owned()));
            }
        }
        match self.walker.record(&m, 0) {
            Some(mut e) => {
                e.index = self.index;
                e.line = line.and_then(|l| u32::try_from(l).ok());
                self.index += 1;
                self.read.records += 1;
                each(e);
            }
            None if self.walker.mentions_event(&Value::Object(m)) => {
                self.read.damaged.push(format!(
                    "line {}: an event id but no provider, channel or event XML",
                    line.unwrap_or(0)
                ));
            }
            None => {}
        }
    }

    /// A row passed over unread still takes its number (events keep the positions a whole read
    /// gives them).
    pub(crate) fn skip(&mut self) {
        self.index += 1;
    }

    /// What reading the rows gave besides the records.
    pub(crate) fn finish(mut self) -> JsonRead {
        self.read.notes = self.walker.tally.notes(self.fields);
        self.read
    }
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
