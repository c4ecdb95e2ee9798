//! Splunk's classic `WinEventLog` events as raw text (`output_mode=raw`, or events copied from
//! the search page): each event a time line, then `LogName=`, `EventCode=`, `SourceName=`,
//! `ComputerName=`, `RecordNumber=` … lines and `Message=` with the rendered message to the next
//! event. Each event is read through the field-alias table, one at a time.

use serde_json::Value;

use super::{Walker, values};
use crate::events::json::JsonRead;
use crate::model::event::RawEvent;
use crate::rules::fields::FieldAliases;

/// The line that opens an event's fields.
const OPENING: &str = "LogName=";

/// Whether a text holds classic `key=value` events.
pub(crate) fn looks_like(head: &str) -> bool {
    let keyed = |k: &str| head.lines().any(|l| l.trim_start().starts_with(k));
    keyed(OPENING) && keyed("EventCode=")
}

/// Reads every event of the text and hands each record to `each`.
pub(crate) fn read_each(
    text: &str,
    fields: &FieldAliases,
    each: &mut dyn FnMut(RawEvent),
) -> JsonRead {
    let mut read = JsonRead::default();
    let mut walker = Walker::new(fields);
    // (byte offset, line) of the event being collected.
    let mut open: Option<(usize, usize)> = None;
    // The line before, when it may be the time line of the next event.
    let mut previous: Option<(usize, usize, &str)> = None;
    let mut index = 0;
    let mut offset = 0;
    for (n, line) in text.split_inclusive('\n').enumerate() {
        let bare = line.trim();
        if bare.starts_with(OPENING) {
            // The time line just before belongs to this event.
            let start = match previous {
                Some((at, line_no, prev)) if !prev.is_empty() && !prev.contains('=') => {
                    (at, line_no)
                }
                _ => (offset, n + 1),
            };
            if let Some((from, line_no)) = open {
                let chunk = text.get(from..start.0).unwrap_or("");
                take(&mut walker, &mut read, chunk, line_no, &mut index, each);
            }
            open = Some(start);
        }
        previous = Some((offset, n + 1, bare));
        offset += line.len();
    }
    if let Some((from, line_no)) = open {
        let chunk = text.get(from..).unwrap_or("");
        take(&mut walker, &mut read, chunk, line_no, &mut index, each);
    }
    read.notes = walker.tally.notes(fields);
    read
}

/// One event's text as a record.
fn take(
    walker: &mut Walker<'_>,
    read: &mut JsonRead,
    chunk: &str,
    line: usize,
    index: &mut u64,
    each: &mut dyn FnMut(RawEvent),
) {
    let Some(m) = values::classic_event(chunk.trim_end()) else {
        read.damaged
            .push(format!("line {line}: an event without EventCode"));
        return;
    };
    match walker.record(&m, 1) {
        Some(mut e) => {
            e.index = *index;
            e.line = u32::try_from(line).ok();
            *index += 1;
            read.records += 1;
            each(e);
        }
        None if walker.mentions_event(&Value::Object(m)) => read.damaged.push(format!(
            "line {line}: an event without a source or log name"
        )),
        None => {}
    }
}
