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
    let mut events = Events::new(fields, usize::MAX);
    for (n, line) in text.split_inclusive('\n').enumerate() {
        events.line(line, n + 1, each);
    }
    events.finish(each)
}

/// The events of a text read one line at a time (by [`read_each`], and by the streaming reader
/// of large exports): an event runs from its time line (the line before `LogName=` when it has
/// no `=`) or its `LogName=` line to the next event's start.
pub(crate) struct Events<'a> {
    walker: Walker<'a>,
    fields: &'a FieldAliases,
    read: JsonRead,
    index: u64,
    /// The event being collected: its text without the last line, its first line's number, and
    /// whether it grew past the limit (then it is counted, not read).
    open: Option<(String, usize, bool)>,
    /// The last line and its number: the time line of the next event, or the open event's.
    previous: Option<(String, usize)>,
    /// The longest event text read.
    limit: usize,
    /// Events passed over for their length, each with its first line.
    pub(crate) too_long: Vec<usize>,
    /// Whether an event's text may be read: the streaming reader's pre-check.
    pub(crate) sieve: Option<&'a dyn Fn(&str) -> bool>,
    /// Events the pre-check turned away.
    pub(crate) passed_over: u64,
}

impl<'a> Events<'a> {
    pub(crate) fn new(fields: &'a FieldAliases, limit: usize) -> Events<'a> {
        Events {
            walker: Walker::new(fields),
            fields,
            read: JsonRead::default(),
            index: 0,
            open: None,
            previous: None,
            limit,
            too_long: Vec::new(),
            sieve: None,
            passed_over: 0,
        }
    }

    /// The next line (with its line break, if any), numbered `n`.
    pub(crate) fn line(&mut self, line: &str, n: usize, each: &mut dyn FnMut(RawEvent)) {
        let bare = line.trim();
        let previous = self.previous.take();
        if bare.starts_with(OPENING) {
            // The time line just before belongs to this event.
            let time_line = previous
                .as_ref()
                .is_some_and(|(p, _)| !p.trim().is_empty() && !p.trim().contains('='));
            let (start, rest) = match previous {
                Some((p, at)) if time_line => ((p, at), None),
                other => ((String::new(), n), other),
            };
            if let Some(open) = self.open.take() {
                let mut open = open;
                if let Some((p, _)) = rest {
                    self.append(&mut open, &p);
                }
                self.close(open, each);
            }
            let mut open = (String::new(), start.1, false);
            self.append(&mut open, &start.0);
            self.open = Some(open);
        } else if let Some((p, _)) = previous
            && let Some(mut open) = self.open.take()
        {
            self.append(&mut open, &p);
            self.open = Some(open);
        }
        self.previous = Some((line.to_owned(), n));
    }

    /// The end of the text: the open event is complete.
    pub(crate) fn finish(mut self, each: &mut dyn FnMut(RawEvent)) -> JsonRead {
        self.end(each);
        self.read.notes = self.walker.tally.notes(self.fields);
        self.read
    }

    /// The text ends: the open event is complete.
    pub(crate) fn end(&mut self, each: &mut dyn FnMut(RawEvent)) {
        if let Some(mut open) = self.open.take() {
            if let Some((p, _)) = self.previous.take() {
                self.append(&mut open, &p);
            }
            self.close(open, each);
        }
    }

    fn append(&self, open: &mut (String, usize, bool), line: &str) {
        if open.0.len().saturating_add(line.len()) > self.limit {
            open.2 = true;
            open.0 = String::new();
        } else if !open.2 {
            open.0.push_str(line);
        }
    }

    fn close(&mut self, open: (String, usize, bool), each: &mut dyn FnMut(RawEvent)) {
        let (text, line, too_long) = open;
        if too_long {
            self.too_long.push(line);
        } else if self.sieve.is_some_and(|may| !may(&text)) {
            // Passed over unread, it still takes its number.
            self.passed_over += 1;
            self.index += 1;
        } else {
            take(
                &mut self.walker,
                &mut self.read,
                &text,
                line,
                &mut self.index,
                each,
            );
        }
    }
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
