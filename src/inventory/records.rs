//! The three serializations of WMI instances, cut into records of `name = value` with the line
//! each came from: PowerShell's `Format-List` (blocks of `Name : value`, long values wrapped onto
//! indented lines) and wmic's `/format:list` (blocks of `Name=value`), `Export-Csv`, SQL result
//! and wmic `/format:csv` CSV (a header of names, one row per instance, with or without Windows
//! PowerShell's `#TYPE` line or wmic's empty first line; comma, semicolon or tab), and
//! `ConvertTo-Json` (an object or an array of objects, or the `CimInstanceProperties` list of a
//! raw CIM instance). Which names are properties is the vocabulary's business, not this file's.

use serde_json::Value;

/// One `name = value` of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Field {
    pub name: String,
    pub value: String,
    pub line: u32,
    /// The line as the input has it, for evidence.
    pub text: String,
}

/// One instance.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Record {
    pub fields: Vec<Field>,
}

/// The serialization of an input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Shape {
    FormatList,
    Csv(u8),
    Json,
}

fn line_no(i: usize) -> u32 {
    u32::try_from(i + 1).unwrap_or(u32::MAX)
}

fn is_ident(s: &str) -> bool {
    !s.is_empty()
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !s.starts_with(|c: char| c.is_ascii_digit())
}

/// `Name   : value` (PowerShell's `Format-List`) or `Name=value` (wmic's `/format:list`,
/// `/value`) → (`Name`, `value`).
pub(super) fn list_pair(line: &str) -> Option<(&str, &str)> {
    if let Some((key, value)) = line.split_once('=')
        && is_ident(key)
    {
        return Some((key, value.trim()));
    }
    let (key, rest) = line.split_once(':')?;
    let name = key.trim_end();
    if !is_ident(name) || key.starts_with(char::is_whitespace) {
        return None;
    }
    // `Name: value` or `Name : value`, never `C:\…` or `http://…` (the value starts after a space).
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    Some((name, rest.trim()))
}

/// The header of a table, if the first line is one: (cells, delimiter, index of that line).
pub(super) fn table_header(text: &str) -> Option<(Vec<String>, u8, usize)> {
    let (index, first) = text
        .lines()
        .enumerate()
        .find(|(_, l)| !l.trim().is_empty() && !l.starts_with("#TYPE"))?;
    let delim = [b',', b';', b'\t']
        .into_iter()
        .max_by_key(|d| first.bytes().filter(|b| b == d).count())?;
    let cells: Vec<String> = first
        .split(char::from(delim))
        .map(|c| c.trim().trim_matches('"').to_owned())
        .collect();
    (cells.len() >= 2 && cells.iter().all(|c| is_ident(c))).then_some((cells, delim, index))
}

/// The names of a JSON text's object keys (`"Name":`), in order of appearance.
pub(super) fn json_keys(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('"') {
        let after = rest.get(start + 1..).unwrap_or("");
        let Some(end) = after.find('"') else { break };
        let key = after.get(..end).unwrap_or("");
        let tail = after.get(end + 1..).unwrap_or("");
        if is_ident(key) && tail.trim_start().starts_with(':') {
            out.push(key);
            // A raw CIM instance names its properties in `{"Name": "LicenseStatus", "Value": 1}`.
            let value = tail.trim_start().trim_start_matches(':').trim_start();
            if key == "Name"
                && let Some(v) = value.strip_prefix('"')
                && let Some(name) = v.split('"').next().filter(|n| is_ident(n))
            {
                out.push(name);
            }
        }
        rest = tail;
    }
    out
}

/// The names a text's records use, and its shape, read from its start.
pub(super) fn names(head: &str) -> (Shape, Vec<String>) {
    let t = head.trim_start();
    if t.starts_with('[') || t.starts_with('{') {
        let keys = json_keys(head).into_iter().map(str::to_owned).collect();
        return (Shape::Json, keys);
    }
    if let Some((cells, delim, _)) = table_header(head) {
        return (Shape::Csv(delim), cells);
    }
    let keys = head
        .lines()
        .filter_map(list_pair)
        .map(|(k, _)| k.to_owned())
        .collect();
    (Shape::FormatList, keys)
}

/// Reads the records of a text of a known shape.
pub(super) fn read(shape: Shape, text: &str) -> Vec<Record> {
    match shape {
        Shape::FormatList => format_list(text),
        Shape::Csv(delim) => table(text, delim),
        Shape::Json => json(text),
    }
}

fn format_list(text: &str) -> Vec<Record> {
    let mut out = Vec::new();
    let mut cur = Record::default();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim_end_matches('\r');
        if let Some((name, value)) = list_pair(line) {
            cur.fields.push(Field {
                name: name.to_owned(),
                value: value.to_owned(),
                line: line_no(i),
                text: line.trim_end().to_owned(),
            });
        } else if line.starts_with(char::is_whitespace)
            && !line.trim().is_empty()
            && let Some(last) = cur.fields.last_mut()
        {
            // A long value wrapped at the console's width goes on, indented, on the next line.
            last.value.push_str(line.trim());
        } else if !cur.fields.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.fields.is_empty() {
        out.push(cur);
    }
    out
}

fn table(text: &str, delim: u8) -> Vec<Record> {
    let Some((header, _, index)) = table_header(text) else {
        return Vec::new();
    };
    // The rest of the text after the header line, with the line numbers it has in the input.
    let body_start: usize = text
        .split_inclusive('\n')
        .take(index + 1)
        .map(str::len)
        .sum();
    let body = text.get(body_start..).unwrap_or("");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delim)
        .from_reader(body.as_bytes());
    let mut out = Vec::new();
    let mut row = csv::StringRecord::new();
    loop {
        match reader.read_record(&mut row) {
            Ok(true) => {}
            Ok(false) => break,
            // A broken row is skipped; the rest is read.
            Err(_) => continue,
        }
        // Where the row starts, counted from its byte offset: after a CRLF the reader's
        // position (and its line count) stops at the `\n`, so that byte counts too.
        let start = row
            .position()
            .map_or(0, |p| usize::try_from(p.byte()).unwrap_or(usize::MAX));
        let line = body
            .get(..start.saturating_add(1).min(body.len()))
            .map_or(0, |b| b.bytes().filter(|&c| c == b'\n').count())
            + 1;
        let line = u32::try_from(line)
            .unwrap_or(u32::MAX)
            .saturating_add(u32::try_from(index + 1).unwrap_or(u32::MAX));
        let cells = unquoted_commas(row.iter().collect(), header.len());
        let fields = header
            .iter()
            .zip(cells)
            .map(|(name, value)| Field {
                name: name.clone(),
                text: format!("{name}: {value}"),
                value,
                line,
            })
            .collect::<Vec<_>>();
        if fields.iter().any(|f| !f.value.trim().is_empty()) {
            out.push(Record { fields });
        }
    }
    out
}

/// The cells of a row with more cells than its header has names: wmic's `/format:csv` quotes
/// nothing, so a value holding `, ` (`Windows(R), Enterprise edition`) is cut in two. A cell
/// starting with a space goes back onto the one before it, left to right, until the counts
/// agree; a row of the right length (every quoted export) is left as it is.
fn unquoted_commas(cells: Vec<&str>, names: usize) -> Vec<String> {
    let mut extra = cells.len().saturating_sub(names);
    let mut out: Vec<String> = Vec::with_capacity(cells.len());
    for cell in cells {
        match out.last_mut() {
            Some(last) if extra > 0 && cell.starts_with(' ') => {
                last.push(char::from(b','));
                last.push_str(cell);
                extra -= 1;
            }
            _ => out.push(cell.to_owned()),
        }
    }
    out
}

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(if *b { "True" } else { "False" }.to_owned()),
        Value::Null => Some(String::new()),
        _ => None,
    }
}

fn json(text: &str) -> Vec<Record> {
    let Ok(root) = serde_json::from_str::<Value>(text) else {
        return Vec::new();
    };
    let items: Vec<&Value> = match &root {
        Value::Array(a) => a.iter().collect(),
        v => vec![v],
    };
    let line_of = line_finder(text);
    let mut cursor = 0usize;
    let mut out = Vec::new();
    for item in items {
        let Value::Object(map) = item else { continue };
        let mut pairs: Vec<(String, String)> = map
            .iter()
            .filter_map(|(k, v)| scalar(v).map(|s| (k.clone(), s)))
            .collect();
        // A raw CIM instance keeps its properties in a list of {Name, Value}.
        if let Some(Value::Array(props)) = map.get("CimInstanceProperties") {
            for p in props {
                if let (Some(Value::String(n)), Some(v)) = (p.get("Name"), p.get("Value"))
                    && let Some(s) = scalar(v)
                    && !pairs.iter().any(|(k, _)| k == n)
                {
                    pairs.push((n.clone(), s));
                }
            }
        }
        let mut next = cursor;
        let fields = pairs
            .into_iter()
            .map(|(name, value)| {
                // Looked for near the record only: a name that is not a key (a raw CIM
                // instance's) must not send every look-up to the end of a large file.
                let window = text
                    .get(cursor..)
                    .map_or("", |t| t.get(..t.floor_char_boundary(NEAR)).unwrap_or(""));
                let at = window.find(&format!("\"{name}\"")).map(|o| o + cursor);
                if let Some(a) = at {
                    next = next.max(a);
                }
                let line = at.map_or(0, &line_of);
                let text = format!("{name}: {value}");
                Field {
                    name,
                    value,
                    line,
                    text,
                }
            })
            .collect();
        cursor = next;
        out.push(Record { fields });
    }
    out
}

/// How far after the previous record a record's keys are looked for, in bytes.
const NEAR: usize = 64 * 1024;

/// The 1-based line of a byte offset of `text`.
fn line_finder(text: &str) -> impl Fn(usize) -> u32 {
    let newlines: Vec<usize> = text.match_indices('\n').map(|(i, _)| i).collect();
    move |offset| line_no(newlines.partition_point(|p| *p < offset))
}
