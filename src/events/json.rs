//! Event JSON as `evtx_dump` writes it (`-o json`, one object per record after a `Record N` line,
//! and `-o jsonl`, one per line), in both attribute styles (`#attributes` and
//! `--separate-json-attributes`' `<Name>_attributes`), and as PowerShell writes it
//! (`Get-WinEvent | ConvertTo-Json`: `Id`, `ProviderName`, `TimeCreated` as `/Date(ms)/` or ISO,
//! `Properties[].Value`, `Message`); and every other export's JSON (SIEMs, shippers, telemetry),
//! whose records the field-alias walker (`shipper`) finds. Values are read one at a time, so NDJSON
//! streams. The `.evtx` reader uses the `evtx_dump` mapping, since the `evtx` crate builds exactly
//! those objects.

use serde_json::Value;

use std::sync::Arc;

use super::shipper::Walker;
use super::xml::parse_system_time;
use crate::model::event::RawEvent;
use crate::rules::fields::FieldAliases;

/// Whether a text looks like `evtx_dump` or `Get-WinEvent` JSON.
pub(crate) fn looks_like(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    // It must start like JSON (or like `evtx_dump -o json`'s "Record N" lines): a CSV header that
    // names the same properties is not JSON.
    starts_like(&head)
        && ((head.contains("\"Event\"") && head.contains("\"System\""))
            || (head.contains("\"ProviderName\"") && head.contains("\"Id\"")))
}

/// Whether a text starts like JSON (an object, an array, or `evtx_dump -o json`'s "Record N").
pub(crate) fn starts_like(text: &str) -> bool {
    let start = text.trim_start_matches('\u{feff}').trim_start();
    start.starts_with('{') || start.starts_with('[') || start.starts_with("Record ")
}

/// What reading a JSON text gave besides its records.
#[derive(Debug, Default)]
pub(crate) struct JsonRead {
    /// Records found (every provider's).
    pub records: u64,
    /// What could not be read, each with where.
    pub damaged: Vec<String>,
    /// Which export shapes were recognised and which aliases supplied the values.
    pub notes: Vec<String>,
}

/// Reads every JSON value of a text (JSON lines, `Record N` separated objects, one document, or
/// an array), one value at a time (an NDJSON export is never held as one value), and hands each
/// record found to `each`: `evtx_dump` and `Get-WinEvent` objects as they always were, any other
/// export's records through the field-alias table, wherever in a value they are.
pub(crate) fn read_each(
    text: &str,
    fields: &FieldAliases,
    each: &mut dyn FnMut(RawEvent),
) -> JsonRead {
    let mut state = State {
        walker: Walker::new(fields),
        index: 0,
        read: JsonRead::default(),
        lines: Lines { at: 0, line: 1 },
    };
    // A document that is one array (an `az … -o json` or evtx_dump-style export) is read item by
    // item, never held whole; where it breaks, the rest is read as below from the next line.
    let mut pos = 0;
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if body.starts_with('[') {
        pos = stream_array(&mut state, text, each);
    }
    read_values(&mut state, text, pos, each);
    let mut read = state.read;
    read.notes = state.walker.tally.notes(fields);
    read
}

/// Reads the JSON values of `text` from `pos` one at a time (JSON lines, `Record N` separated
/// objects, concatenated documents); a line that is not JSON is counted and passed over.
fn read_values(state: &mut State<'_>, text: &str, mut pos: usize, each: &mut dyn FnMut(RawEvent)) {
    while pos < text.len() {
        let rest = text.get(pos..).unwrap_or("");
        let mut stream = serde_json::Deserializer::from_str(rest).into_iter::<Value>();
        loop {
            let offset = stream.byte_offset();
            match stream.next() {
                None => {
                    pos = text.len();
                    break;
                }
                Some(Ok(Value::Array(items))) => {
                    for v in &items {
                        state.take(v, None, each);
                    }
                }
                Some(Ok(v)) => {
                    let skipped = rest
                        .get(offset..)
                        .map_or(0, |r| r.len() - r.trim_start().len());
                    let line = state.lines.of(text, pos + offset + skipped);
                    state.take(&v, line, each);
                }
                Some(Err(_)) => {
                    // `evtx_dump -o json` writes "Record N" before each object; other lines that
                    // are not JSON are counted. Either way, go on after that line.
                    let ws = rest
                        .get(offset..)
                        .map_or(0, |r| r.len() - r.trim_start().len());
                    let start = pos + offset + ws;
                    let tail = text.get(start..).unwrap_or("");
                    let end = tail.find('\n').map_or(text.len(), |i| start + i + 1);
                    let bad = text.get(start..end).unwrap_or("").trim();
                    // Separators left between the items of a broken array are not events.
                    let separators = bad.chars().all(|c| matches!(c, ',' | '[' | ']'));
                    if !separators && !bad.starts_with("Record ") {
                        let line = state.lines.of(text, start).unwrap_or(0);
                        state
                            .read
                            .damaged
                            .push(format!("line {line}: not a JSON event"));
                    }
                    pos = end.max(pos + 1);
                    break;
                }
            }
        }
    }
}

/// JSON read a piece of whole lines at a time (the streaming reader of large exports): each piece
/// is read as [`read_each`] reads a text (line numbers counted from the piece's first), and the
/// records are numbered on across pieces.
pub(crate) struct Pieces<'a> {
    state: State<'a>,
}

impl<'a> Pieces<'a> {
    pub(crate) fn new(fields: &'a FieldAliases) -> Pieces<'a> {
        Pieces {
            state: State {
                walker: Walker::new(fields),
                index: 0,
                read: JsonRead::default(),
                lines: Lines { at: 0, line: 1 },
            },
        }
    }

    /// The values of a piece of text that starts on line `first_line`.
    pub(crate) fn read(&mut self, text: &str, first_line: usize, each: &mut dyn FnMut(RawEvent)) {
        self.state.lines = Lines {
            at: 0,
            line: first_line,
        };
        read_values(&mut self.state, text, 0, each);
    }

    /// A record passed over unread still takes its number (events keep the positions a whole
    /// read gives them).
    pub(crate) fn skip(&mut self) {
        self.state.index += 1;
    }

    /// What reading every piece gave besides the records.
    pub(crate) fn finish(self, fields: &FieldAliases) -> JsonRead {
        let mut read = self.state.read;
        read.notes = self.state.walker.tally.notes(fields);
        read
    }
}

/// Reads a text that starts with a JSON array one item at a time. Returns where to go on: the
/// end, or the line after the one where the array broke (with the break counted).
fn stream_array(state: &mut State<'_>, text: &str, each: &mut dyn FnMut(RawEvent)) -> usize {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    let line_start = |line: usize| {
        // The start of 1-based line `line`.
        if line <= 1 {
            0
        } else {
            text.match_indices('\n')
                .nth(line - 2)
                .map_or(text.len(), |(i, _)| i + 1)
        }
    };
    match (Items { state, each }).deserialize(&mut de) {
        Ok(()) => match de.end() {
            Ok(()) => text.len(),
            // More values after the array (another array, JSON lines): read from their line.
            Err(e) => line_start(e.line()).max(1),
        },
        Err(e) => {
            state
                .read
                .damaged
                .push(format!("line {}: the JSON array breaks off: {e}", e.line()));
            line_start(e.line() + 1)
        }
    }
}

/// The items of a top-level JSON array, each handed to the walker as it is read.
struct Items<'s, 'a, 'e> {
    state: &'s mut State<'a>,
    each: &'e mut dyn FnMut(RawEvent),
}

impl<'de> serde::de::DeserializeSeed<'de> for Items<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Items<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(v) = seq.next_element::<Value>()? {
            self.state.take(&v, None, self.each);
        }
        Ok(())
    }
}

/// Reads a whole JSON text: its records and what could not be read.
pub(crate) fn read(text: &str, fields: &FieldAliases) -> (Vec<RawEvent>, Vec<String>) {
    let mut events = Vec::new();
    let read = read_each(text, fields, &mut |e| events.push(e));
    (events, read.damaged)
}

/// The reading of one JSON text under way.
struct State<'a> {
    walker: Walker<'a>,
    index: u64,
    read: JsonRead,
    lines: Lines,
}

impl State<'_> {
    /// The records of one value; a value that names an event but holds none is damaged, one that
    /// names none is the export's own metadata and is passed over.
    fn take(&mut self, v: &Value, line: Option<u32>, each: &mut dyn FnMut(RawEvent)) {
        let index = &mut self.index;
        // A record inside a document has no line of its own.
        let found = self.walker.walk(v, &mut |mut e, whole| {
            e.index = *index;
            e.line = line.filter(|_| whole);
            *index += 1;
            each(e);
        });
        self.read.records += found;
        if found == 0 && self.walker.mentions_event(v) {
            self.read
                .damaged
                .push(format!("record {}: not an event object", self.index));
            self.index += 1;
        }
    }
}

/// Line numbers of byte offsets met in increasing order, counted once.
struct Lines {
    at: usize,
    line: usize,
}

impl Lines {
    fn of(&mut self, text: &str, offset: usize) -> Option<u32> {
        if offset < self.at {
            self.at = 0;
            self.line = 1;
        }
        let newlines = text
            .get(self.at..offset)
            .map_or(0, |t| t.matches('\n').count());
        self.line += newlines;
        self.at = offset;
        u32::try_from(self.line).ok()
    }
}

/// The value of a field that may carry attributes: `{"#attributes": …, "#text": x}` or `x`.
fn text_of(v: &Value) -> Option<&Value> {
    match v {
        Value::Object(m) => m.get("#text"),
        other => Some(other),
    }
}

/// An attribute in either style: `v["#attributes"][name]`, or `parent["<field>_attributes"][name]`.
fn attribute<'a>(parent: &'a Value, field: &str, name: &str) -> Option<&'a Value> {
    parent
        .get(field)
        .and_then(|f| f.get("#attributes"))
        .and_then(|a| a.get(name))
        .or_else(|| {
            parent
                .get(format!("{field}_attributes"))
                .and_then(|a| a.get(name))
        })
}

fn as_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
}

/// Maps one `evtx_dump`-style or `Get-WinEvent`-style object to a raw event.
pub(crate) fn from_value(root: &Value) -> Option<RawEvent> {
    if root.get("ProviderName").is_some() && root.get("Id").is_some() {
        return from_powershell(root);
    }
    let event = root.get("Event").unwrap_or(root);
    let system = event.get("System")?;
    let mut ev = RawEvent {
        provider: attribute(system, "Provider", "Name")
            .or_else(|| attribute(system, "Provider", "Guid"))
            .and_then(as_string)
            .map(Arc::from)
            .unwrap_or_default(),
        event_source_name: attribute(system, "Provider", "EventSourceName")
            .and_then(as_string)
            .map(Arc::from),
        event_id: system
            .get("EventID")
            .and_then(text_of)
            .and_then(as_u64)
            .and_then(|n| u32::try_from(n).ok())?,
        qualifiers: attribute(system, "EventID", "Qualifiers")
            .and_then(as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        level: system
            .get("Level")
            .and_then(text_of)
            .and_then(as_u64)
            .and_then(|n| u32::try_from(n).ok()),
        time_created: attribute(system, "TimeCreated", "SystemTime")
            .and_then(Value::as_str)
            .and_then(parse_system_time),
        record_id: system
            .get("EventRecordID")
            .and_then(text_of)
            .and_then(as_u64),
        channel: system
            .get("Channel")
            .and_then(text_of)
            .and_then(as_string)
            .map(Arc::from),
        computer: system
            .get("Computer")
            .and_then(text_of)
            .and_then(as_string)
            .map(Arc::from),
        ..RawEvent::default()
    };
    if let Some(data) = event.get("EventData").filter(|d| !d.is_null()) {
        ev.data = event_data(data);
    }
    if let Some(m) = event
        .get("RenderingInfo")
        .and_then(|r| r.get("Message"))
        .and_then(text_of)
        .and_then(as_string)
    {
        ev.message = Some(m);
    }
    Some(ev)
}

/// `EventData` in its JSON shapes: `{"Data": "x"}`, `{"Data": {"#text": ["a", "b"]}}`,
/// `{"Data": [..]}`, or named values `{"Info": "x", "Other": "y"}`.
fn event_data(data: &Value) -> Vec<String> {
    let strings = |v: &Value| -> Vec<String> {
        match v {
            Value::Array(items) => items
                .iter()
                .map(|i| text_of(i).and_then(as_string).unwrap_or_default())
                .collect(),
            other => vec![text_of(other).and_then(as_string).unwrap_or_default()],
        }
    };
    match data.get("Data") {
        Some(Value::Object(m)) if m.contains_key("#text") => {
            m.get("#text").map(strings).unwrap_or_default()
        }
        Some(d) => strings(d),
        None => data
            .as_object()
            .map(|m| {
                m.iter()
                    .filter(|(k, _)| !k.starts_with('#') && !k.ends_with("_attributes"))
                    .map(|(_, v)| text_of(v).and_then(as_string).unwrap_or_default())
                    .collect()
            })
            .unwrap_or_default(),
    }
}

/// `Get-WinEvent | ConvertTo-Json`: an `EventLogRecord` with its properties.
fn from_powershell(v: &Value) -> Option<RawEvent> {
    let num = |k: &str| v.get(k).and_then(as_u64);
    let text = |k: &str| v.get(k).and_then(as_string).filter(|s| !s.is_empty());
    let data = match v.get("Properties") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|p| p.get("Value").and_then(as_string).unwrap_or_default())
            .collect(),
        _ => Vec::new(),
    };
    Some(RawEvent {
        provider: text("ProviderName").map(Arc::from).unwrap_or_default(),
        event_source_name: None,
        event_id: u32::try_from(num("Id")?).ok()?,
        qualifiers: num("Qualifiers").and_then(|n| u32::try_from(n).ok()),
        level: num("Level").and_then(|n| u32::try_from(n).ok()),
        time_created: v.get("TimeCreated").and_then(powershell_time),
        record_id: num("RecordId"),
        channel: text("LogName").map(Arc::from),
        computer: text("MachineName").map(Arc::from),
        data,
        message: text("Message"),
        index: 0,
        line: None,
    })
}

/// PowerShell's JSON dates: `"/Date(1593766800000)/"` (Windows PowerShell 5: milliseconds since
/// 1970, UTC), an ISO string with an offset (PowerShell 7), or `{"value": …, "DateTime": …}` when
/// the object was not flattened.
fn powershell_time(v: &Value) -> Option<chrono::DateTime<chrono::Utc>> {
    match v {
        Value::String(s) => {
            if let Some(t) = crate::input::values::dotnet_json_date(s) {
                return Some(t);
            }
            parse_system_time(s)
        }
        Value::Object(m) => m.get("value").and_then(powershell_time),
        _ => None,
    }
}
