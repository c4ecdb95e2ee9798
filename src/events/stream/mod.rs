//! Large SIEM and shipper exports read as a stream from their file: JSON lines (one record a
//! line: Splunk, Elastic, Sentinel, `NXLog` … exports), CSV row by row (Splunk `_raw`, the Sentinel
//! portal's, Kibana's) and Splunk's classic `key=value` text event by event, a block at a time,
//! so memory does not grow with the file (exports of a fleet run to gigabytes a month).
//!
//! Each record first passes the [`sieve`]: one that can hold no event the reader keeps (another
//! provider's, an id not correlated) is passed over unparsed and counted. The records that pass are
//! read by the same code as a whole file's (`json::Pieces`, `shipper::csv::Rows`,
//! `shipper::classic::Events`), so the events are the ones a whole-file read gives; what differs
//! is the count of records (those passed over are counted, not recognised) and that a record
//! longer than [`MAX_RECORD_BYTES`] is passed over and reported as damaged, never held.

pub(crate) mod sieve;
pub(crate) mod text;

#[cfg(test)]
mod tests;

use std::io::Read;

use super::json::{self, JsonRead};
use super::normalize::Normalizer;
use super::shipper;
use super::{ActivationEvent, EventReadError, EventsRead, Keep, RawEvent};
use crate::model::InputFormat;
use crate::rules::Rules;
use sieve::Sieve;
use text::{Line, Text};

/// Files on disk at least this large, in a format read as a stream, are streamed; smaller ones
/// are read whole (as they always were: the same report).
pub(crate) const STREAM_MIN_BYTES: u64 = 16 * 1024 * 1024;
/// The longest record (a JSON line, a CSV row, a classic event) read; longer ones are passed
/// over and reported.
pub(crate) const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;
/// Most cells of a CSV row.
const MAX_CELLS: usize = 65_536;
/// How much of the file tells its format.
const HEAD_BYTES: u64 = 64 * 1024;
/// Lines of a JSON head that must each be one JSON value for the file to be read line by line.
const HEAD_LINES: usize = 64;
/// Raw records normalized at a time.
const BATCH: usize = 4096;

/// Reads an input as a stream when it is a file on disk of at least [`STREAM_MIN_BYTES`] in a
/// format read so; `None` for every other input (read whole as before).
pub(crate) fn read_large(
    rules: &Rules,
    f: &crate::input::InputFile,
    keep: Keep<'_>,
) -> Option<Result<EventsRead, EventReadError>> {
    let Some(crate::input::Deferred::File(file)) = &f.deferred else {
        return None;
    };
    if f.size() < STREAM_MIN_BYTES {
        return None;
    }
    let format = format_of(rules, file)?;
    Some(read_file(rules, &f.path, file, format, keep))
}

/// The format a file is streamed as, from its first bytes: JSON lines, a SIEM's CSV or Splunk's
/// classic text; `None` for anything else (read whole, or not at all).
pub(crate) fn format_of(rules: &Rules, file: &std::path::Path) -> Option<InputFormat> {
    let mut head = Vec::new();
    std::fs::File::open(file)
        .ok()?
        .take(HEAD_BYTES)
        .read_to_end(&mut head)
        .ok()?;
    streamable(rules, &head)
}

/// [`format_of`] for the first bytes of a file.
pub(crate) fn streamable(rules: &Rules, head: &[u8]) -> Option<InputFormat> {
    if crate::input::encoding::looks_binary(head) {
        return None;
    }
    match super::detect(rules, head)? {
        InputFormat::Json if json_lines(head) => Some(InputFormat::Json),
        InputFormat::Csv
            if super::tabular::detect(
                &super::detect::head(head, 8192),
                rules.eventviewer_labels(),
            )
            .is_none() =>
        {
            Some(InputFormat::Csv)
        }
        InputFormat::KeyValueText => Some(InputFormat::KeyValueText),
        _ => None,
    }
}

/// Whether a JSON head is JSON lines: objects, each of the first lines (the head's last,
/// perhaps cut, aside) one whole JSON value.
fn json_lines(head: &[u8]) -> bool {
    let text = crate::input::encoding::decode_utf8_standard(head).0.text;
    let body = text.trim_start_matches('\u{feff}').trim_start();
    if !body.starts_with('{') {
        return false;
    }
    let Some(cut) = body.rfind('\n') else {
        return false;
    };
    let mut lines = body
        .get(..cut)
        .unwrap_or("")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .take(HEAD_LINES)
        .peekable();
    lines.peek().is_some()
        && lines.all(|l| serde_json::from_str::<serde::de::IgnoredAny>(l).is_ok())
}

/// Reads a large export of `format` from its file: the events `keep` selects and what reading
/// found.
pub(crate) fn read_file(
    rules: &Rules,
    path: &str,
    file: &std::path::Path,
    format: InputFormat,
    keep: Keep<'_>,
) -> Result<EventsRead, EventReadError> {
    read_file_with(
        rules,
        path,
        file,
        format,
        keep,
        Sieve::new(rules, keep).as_ref(),
    )
}

/// [`read_file`] with the pre-check given (`None`: every record parsed).
pub(crate) fn read_file_with(
    rules: &Rules,
    path: &str,
    file: &std::path::Path,
    format: InputFormat,
    keep: Keep<'_>,
    sieve: Option<&Sieve>,
) -> Result<EventsRead, EventReadError> {
    let open = |source| EventReadError::Open {
        path: path.to_owned(),
        source,
    };
    let f = std::fs::File::open(file).map_err(open)?;
    let standard = format == InputFormat::Json;
    let score = |t: &str| usize::from(shipper::classic::looks_like(t));
    let mut text = Text::new(f, MAX_RECORD_BYTES, standard, &score).map_err(open)?;
    let mut sink = Sink {
        norm: Normalizer::new(rules, path, format, keep),
        keep,
        batch: Vec::new(),
        events: Vec::new(),
    };
    let mut tally = Tally::default();
    let fields = rules.fields();
    let mut each = |raw: RawEvent| sink.take(raw);
    let read = match format {
        InputFormat::Csv => csv(&mut text, fields, sieve, &mut tally, &mut each),
        InputFormat::KeyValueText => classic(&mut text, fields, sieve, &mut tally, &mut each),
        _ => json_lines_read(&mut text, fields, sieve, &mut tally, &mut each),
    };
    let mut read = read.unwrap_or_else(|e| {
        let mut r = JsonRead::default();
        r.damaged
            .push(format!("reading stopped: {e}; what came before was read"));
        r
    });
    let events = sink.finish();
    for line in &tally.too_long {
        read.damaged.push(format!(
            "line {line}: a record longer than {} MiB; passed over",
            MAX_RECORD_BYTES >> 20
        ));
    }
    let mut notes = read.notes;
    if tally.lossy > 0 {
        notes.push(format!(
            "bytes that are not valid {} (in {} record(s)) were read as U+FFFD",
            text.encoding, tally.lossy
        ));
    }
    if tally.passed_over > 0 {
        notes.push(format!(
            "read as a stream: {} record(s) naming no activation provider or no event id kmsdiag correlates were passed over unparsed",
            tally.passed_over
        ));
    }
    let records = read.records + tally.passed_over;
    let stats = super::stats(records, read.damaged, notes, &events);
    Ok((events, stats, format))
}

/// The streamed reading's own counts.
#[derive(Debug, Default)]
struct Tally {
    /// Records the sieve turned away.
    passed_over: u64,
    /// Lines where a record too long to read began.
    too_long: Vec<u64>,
    /// Records read with bytes that were not valid UTF-8.
    lossy: u64,
}

/// Normalizes the raw records a batch at a time (the raw records are never all held).
struct Sink<'a> {
    norm: Normalizer<'a>,
    keep: Keep<'a>,
    batch: Vec<RawEvent>,
    events: Vec<ActivationEvent>,
}

impl Sink<'_> {
    fn take(&mut self, raw: RawEvent) {
        if self.keep.wants(raw.event_id) {
            self.batch.push(raw);
            if self.batch.len() >= BATCH {
                self.events.extend(self.norm.convert(&self.batch));
                self.batch.clear();
            }
        }
    }

    fn finish(mut self) -> Vec<ActivationEvent> {
        self.events.extend(self.norm.convert(&self.batch));
        self.events
    }
}

/// Text of a record's bytes (invalid UTF-8 replaced, and counted).
fn text_of<'b>(bytes: &'b [u8], tally: &mut Tally) -> std::borrow::Cow<'b, str> {
    let t = String::from_utf8_lossy(bytes);
    if matches!(t, std::borrow::Cow::Owned(_)) {
        tally.lossy += 1;
    }
    t
}

/// JSON lines: each line read on its own, when the sieve lets it through.
fn json_lines_read<R: Read>(
    text: &mut Text<R>,
    fields: &crate::rules::fields::FieldAliases,
    sieve: Option<&Sieve>,
    tally: &mut Tally,
    each: &mut dyn FnMut(RawEvent),
) -> std::io::Result<JsonRead> {
    let mut pieces = json::Pieces::new(fields);
    while let Some(line) = text.next_line()? {
        let (number, at) = match line {
            Line::TooLong { number } => {
                tally.too_long.push(number);
                continue;
            }
            Line::Text { number, at } => (number, at),
        };
        let bytes = text.bytes().get(at).unwrap_or(&[]);
        if bytes.trim_ascii().is_empty() {
            continue;
        }
        if sieve.is_some_and(|s| !s.may_keep(bytes)) {
            // Only an object can be a record; other lines are not counted.
            if memchr::memchr(b'{', bytes).is_some() {
                tally.passed_over += 1;
                pieces.skip();
            }
            continue;
        }
        let line_text = text_of(bytes, tally);
        let first = usize::try_from(number).unwrap_or(usize::MAX);
        pieces.read(&line_text, first, each);
    }
    Ok(pieces.finish(fields))
}

/// Doubles a full row buffer up to `limit` items; at the limit the row is too long: the buffer
/// is reused from its start (`used` = 0) and `false` says so.
fn grow<T: Copy + Default>(buf: &mut Vec<T>, used: &mut usize, limit: usize) -> bool {
    if buf.len() < limit {
        buf.resize(buf.len() * 2, T::default());
        true
    } else {
        *used = 0;
        false
    }
}

/// A SIEM's CSV, row by row: the first row names the columns.
fn csv<R: Read>(
    text: &mut Text<R>,
    fields: &crate::rules::fields::FieldAliases,
    sieve: Option<&Sieve>,
    tally: &mut Tally,
    each: &mut dyn FnMut(RawEvent),
) -> std::io::Result<JsonRead> {
    let mut core = csv_core::ReaderBuilder::new().build();
    let mut out = vec![0u8; 64 * 1024];
    let mut ends = vec![0usize; 256];
    let (mut nout, mut nend) = (0usize, 0usize);
    let mut newlines: u64 = 0;
    let mut line: Option<u64> = None;
    let mut too_long = false;
    let mut rows: Option<shipper::csv::Rows<'_>> = None;
    loop {
        let input = text.fill_buf()?;
        // A row's line is where its first byte is (a CRLF file's row starts, by the reader's
        // count, on the `\n` that ends the line before it: the whole-file reader's rule).
        let at =
            *line.get_or_insert_with(|| newlines + u64::from(input.first() == Some(&b'\n')) + 1);
        let (res, nin, o, e) = core.read_record(
            input,
            out.get_mut(nout..).unwrap_or(&mut []),
            ends.get_mut(nend..).unwrap_or(&mut []),
        );
        newlines += memchr::memchr_iter(b'\n', input.get(..nin).unwrap_or(&[])).count() as u64;
        text.consume(nin);
        nout += o;
        nend += e;
        match res {
            csv_core::ReadRecordResult::InputEmpty => {}
            csv_core::ReadRecordResult::OutputFull => {
                too_long |= !grow(&mut out, &mut nout, MAX_RECORD_BYTES);
            }
            csv_core::ReadRecordResult::OutputEndsFull => {
                too_long |= !grow(&mut ends, &mut nend, MAX_CELLS);
            }
            csv_core::ReadRecordResult::Record => {
                let cells = out.get(..nout).unwrap_or(&[]);
                let cell_ends = ends.get(..nend).unwrap_or(&[]);
                match rows.as_mut() {
                    _ if too_long => tally.too_long.push(at),
                    None => {
                        let columns = split(cells, cell_ends, tally)
                            .map(|c| c.trim().to_owned())
                            .collect();
                        rows = Some(shipper::csv::Rows::new(fields, columns));
                    }
                    Some(r) if sieve.is_some_and(|s| !s.may_keep_cells(cells, cell_ends)) => {
                        tally.passed_over += 1;
                        r.skip();
                    }
                    Some(r) => {
                        let owned: Vec<std::borrow::Cow<'_, str>> =
                            split(cells, cell_ends, tally).collect();
                        r.row(owned.iter().map(|c| &**c), Some(at), each);
                    }
                }
                (nout, nend, too_long, line) = (0, 0, false, None);
            }
            csv_core::ReadRecordResult::End => break,
        }
    }
    Ok(rows.map_or_else(JsonRead::default, shipper::csv::Rows::finish))
}

/// The cells of a row read by `csv_core`.
fn split<'c>(
    cells: &'c [u8],
    ends: &'c [usize],
    tally: &mut Tally,
) -> impl Iterator<Item = std::borrow::Cow<'c, str>> {
    let mut start = 0;
    let mut texts = Vec::with_capacity(ends.len());
    for &end in ends {
        texts.push(text_of(cells.get(start..end).unwrap_or(&[]), tally));
        start = end;
    }
    texts.into_iter()
}

/// Splunk's classic text, event by event.
fn classic<R: Read>(
    text: &mut Text<R>,
    fields: &crate::rules::fields::FieldAliases,
    sieve: Option<&Sieve>,
    tally: &mut Tally,
    each: &mut dyn FnMut(RawEvent),
) -> std::io::Result<JsonRead> {
    let may = |t: &str| sieve.is_none_or(|s| s.may_keep(t.as_bytes()));
    let mut events = shipper::classic::Events::new(fields, MAX_RECORD_BYTES);
    events.sieve = Some(&may);
    let mut line = String::new();
    while let Some(l) = text.next_line()? {
        match l {
            Line::TooLong { number } => tally.too_long.push(number),
            Line::Text { number, at } => {
                line.clear();
                line.push_str(&text_of(text.bytes().get(at).unwrap_or(&[]), tally));
                line.push('\n');
                events.line(&line, usize::try_from(number).unwrap_or(usize::MAX), each);
            }
        }
    }
    events.end(each);
    tally.passed_over += events.passed_over;
    tally
        .too_long
        .extend(events.too_long.iter().map(|&l| l as u64));
    Ok(events.finish(each))
}
