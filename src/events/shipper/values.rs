//! How the values of a shipper's record read: event ids (with the qualifier-carrying form of the
//! legacy API), record ids, times in every shape exports write, the payload strings in their
//! forms (lists, `param1..N` objects with the gap rule, `<Data>`/`<Param>` XML strings, JSON in a
//! string) and Splunk's classic `key=value` event text.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::Event;
use serde_json::{Map, Value};

/// Most positional parameters kept from a `paramN` object (SPP events carry at most a dozen).
const MAX_PARAMS: usize = 256;

/// A scalar as text (numbers and booleans as JSON writes them); `None` for objects, arrays and
/// null.
pub(super) fn scalar_text(v: &Value) -> Option<Cow<'_, str>> {
    match v {
        Value::String(s) => Some(Cow::Borrowed(s.as_str())),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        Value::Bool(b) => Some(Cow::Owned(b.to_string())),
        _ => None,
    }
}

/// A non-empty name (provider, channel, machine).
pub(super) fn name(v: &Value) -> Option<&str> {
    v.as_str().map(str::trim).filter(|s| !s.is_empty())
}

/// A non-negative integer, from a number or a string of digits.
pub(super) fn unsigned(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// An event id and the qualifiers it carries: the legacy API's ids keep the qualifiers in their
/// high 16 bits (1073742727 is qualifiers 16384, event 903).
pub(super) fn event_id(v: &Value) -> Option<(u32, Option<u32>)> {
    let n = u32::try_from(unsigned(v)?).ok()?;
    Some(if n > 0xFFFF {
        (n & 0xFFFF, Some(n >> 16))
    } else {
        (n, None)
    })
}

/// A rendered message, without the double quotes a shape that stores the message as its JSON
/// text keeps around it (Wazuh's `data.win.system.message`).
pub(super) fn message(v: &Value) -> Option<String> {
    let m = name(v)?;
    let inner = m
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .filter(|s| !s.is_empty());
    Some(inner.unwrap_or(m).to_owned())
}

/// A time, and whether it named no zone (then read as UTC).
pub(super) fn time(v: &Value) -> Option<(DateTime<Utc>, bool)> {
    match v {
        Value::Number(n) => n.as_f64().and_then(epoch).map(|t| (t, false)),
        Value::String(s) => time_text(s.trim()),
        Value::Object(m) => ["SystemTime", "value", "DateTime"]
            .iter()
            .find_map(|k| m.get(*k))
            .and_then(time),
        _ => None,
    }
}

/// Seconds (or, when larger than any date in seconds, milliseconds) since 1970.
fn epoch(n: f64) -> Option<DateTime<Utc>> {
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let ms = if n > 1e11 { n } else { n * 1000.0 };
    // A float of at most 1e17 converts exactly enough; larger is no date.
    (ms < 1e17)
        .then(|| format!("{ms:.0}").parse::<i64>().ok())
        .flatten()
        .and_then(DateTime::from_timestamp_millis)
}

fn time_text(s: &str) -> Option<(DateTime<Utc>, bool)> {
    if s.is_empty() {
        return None;
    }
    if let Some(t) = crate::input::values::dotnet_json_date(s) {
        return Some((t, false));
    }
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && !s.contains("..") {
        return s.parse::<f64>().ok().and_then(epoch).map(|t| (t, false));
    }
    if let Some(t) = dmtf(s) {
        return Some((t, false));
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some((t.with_timezone(&Utc), false));
    }
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f%z",
        "%Y-%m-%d %H:%M:%S%.f %z",
        "%Y-%m-%d %H:%M:%S%.f %Z",
    ] {
        if let Ok(t) = DateTime::parse_from_str(s, f) {
            return Some((t.with_timezone(&Utc), false));
        }
    }
    let bare = s.trim_end_matches('Z');
    let zoned = bare.len() != s.len();
    for f in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%m/%d/%Y %I:%M:%S %p",
        "%m/%d/%Y %I:%M:%S%.f %p",
        "%m/%d/%Y, %I:%M:%S%.f %p",
        "%m/%d/%Y %H:%M:%S",
        // Kibana's CSV reports format dates with its `dateFormat` setting, by default
        // `MMM D, YYYY @ HH:mm:ss.SSS` (`Oct 5, 2026 @ 08:00:00.000`), zone not written.
        "%b %d, %Y @ %H:%M:%S%.f",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(bare, f) {
            return Some((t.and_utc(), !zoned));
        }
    }
    None
}

/// WMI's DMTF time `yyyymmddHHMMSS.mmmmmm±UUU` (offset in minutes).
fn dmtf(s: &str) -> Option<DateTime<Utc>> {
    let (main, offset) = (s.get(..21)?, s.get(21..)?);
    if s.len() != 25 || s.as_bytes().get(14) != Some(&b'.') {
        return None;
    }
    let t = NaiveDateTime::parse_from_str(main, "%Y%m%d%H%M%S%.f").ok()?;
    let minutes: i64 = offset.parse().ok()?;
    Some(t.and_utc() - chrono::Duration::minutes(minutes))
}

/// The payload strings a value holds: a list (strings, `{"Value": v}` or `{"": v}` items), an
/// object (`{"Data": …}`, `param1..N` with gaps as empty strings, or named values), an XML
/// string of `<Data>`/`<Param>` elements, JSON in a string, or one plain string. `None` for null
/// and for what holds no strings.
pub(super) fn data_strings(v: &Value, depth: u8) -> Option<Vec<String>> {
    if depth > 4 {
        return None;
    }
    match v {
        Value::Array(items) => Some(items.iter().map(item_text).collect()),
        Value::Object(m) => object_strings(m, depth),
        Value::String(s) => {
            let t = s.trim_start();
            if t.starts_with('<') {
                xml_strings(t)
            } else if t.starts_with('{') || t.starts_with('[') {
                serde_json::from_str::<Value>(t)
                    .ok()
                    .and_then(|j| data_strings(&j, depth + 1))
                    .or_else(|| Some(vec![s.clone()]))
            } else {
                Some(vec![s.clone()])
            }
        }
        Value::Number(_) | Value::Bool(_) => scalar_text(v).map(|t| vec![t.into_owned()]),
        Value::Null => None,
    }
}

/// One item of a positional list.
fn item_text(v: &Value) -> String {
    match v {
        Value::Object(m) => m
            .get("Value")
            .or_else(|| m.get("value"))
            .or_else(|| m.get("#text"))
            .or_else(|| (m.len() == 1).then(|| m.values().next()).flatten())
            .and_then(scalar_text)
            .map(Cow::into_owned)
            .unwrap_or_default(),
        other => scalar_text(other).map(Cow::into_owned).unwrap_or_default(),
    }
}

fn object_strings(m: &Map<String, Value>, depth: u8) -> Option<Vec<String>> {
    if let Some(d) = ["Data", "data", "#text"].iter().find_map(|k| m.get(*k)) {
        return data_strings(d, depth + 1).or_else(|| Some(Vec::new()));
    }
    let params: Vec<(usize, &Value)> = m
        .iter()
        .filter_map(|(k, v)| Some((param_number(k)?, v)))
        .collect();
    if !params.is_empty() {
        let last = params.iter().map(|(n, _)| *n).max().unwrap_or(0);
        let mut out = vec![String::new(); last.min(MAX_PARAMS)];
        for (n, v) in params {
            if let Some(slot) = n.checked_sub(1).and_then(|i| out.get_mut(i)) {
                *slot = item_text(v);
            }
        }
        return Some(out);
    }
    // Named values (the key order is the map's: named data is not positional anyway); an
    // object of objects is no payload.
    let named: Vec<String> = m
        .iter()
        .filter(|(k, _)| !k.eq_ignore_ascii_case("binary") && !k.starts_with('#'))
        .filter_map(|(_, v)| scalar_text(v).map(Cow::into_owned))
        .collect();
    (!named.is_empty()).then_some(named)
}

/// `param3` → 3 (any case, after any prefix the shipper adds, such as `winlog_event_data_`).
pub(super) fn param_number(key: &str) -> Option<usize> {
    let digits = key.trim_start_matches(|c: char| !c.is_ascii_digit());
    let head = key.get(..key.len() - digits.len())?;
    let lower = head.to_ascii_lowercase();
    if !lower.ends_with("param") || digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    digits.parse().ok().filter(|n| (1..=MAX_PARAMS).contains(n))
}

/// The text of every `<Data>` and `<Param>` element of an XML string (Sentinel's `EventData`
/// `<DataItem …><EventData><Data>…`, `ParameterXml`), empty elements kept as empty strings.
pub(super) fn xml_strings(xml: &str) -> Option<Vec<String>> {
    let mut reader = Reader::from_str(xml);
    let mut out = Vec::new();
    let mut open: Option<String> = None;
    loop {
        match reader.read_event() {
            Ok(Event::Start(e)) => {
                let name = e.local_name();
                if matches!(name.as_ref(), "Data" | "Param") {
                    open = Some(String::new());
                }
            }
            Ok(Event::Empty(e)) => {
                if matches!(e.local_name().as_ref(), "Data" | "Param") {
                    out.push(String::new());
                }
            }
            Ok(Event::Text(t)) => {
                if let Some(o) = open.as_mut() {
                    o.push_str(&t);
                }
            }
            Ok(Event::CData(t)) => {
                if let Some(o) = open.as_mut() {
                    o.push_str(&t);
                }
            }
            Ok(Event::GeneralRef(r)) => {
                if let Some(o) = open.as_mut() {
                    o.push_str(&super::super::xml::entity(&r));
                }
            }
            Ok(Event::End(e)) => {
                if matches!(e.local_name().as_ref(), "Data" | "Param")
                    && let Some(o) = open.take()
                {
                    out.push(o);
                }
            }
            Ok(Event::Eof) => break,
            Err(_) => return (!out.is_empty()).then_some(out),
            Ok(_) => {}
        }
    }
    Some(out)
}

/// Splunk's classic `WinEventLog` event text: a time line, then `Key=Value` lines, `Message=`
/// running to the end. `None` unless it names an `EventCode`.
pub(super) fn classic_event(text: &str) -> Option<Map<String, Value>> {
    if !text.contains("EventCode=") {
        return None;
    }
    let mut m = Map::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_end_matches('\r');
        match line.split_once('=') {
            Some((k, v)) if k == "Message" => {
                let mut msg = v.to_owned();
                for rest in lines.by_ref() {
                    msg.push('\n');
                    msg.push_str(rest.trim_end_matches('\r'));
                }
                m.insert(k.to_owned(), Value::String(msg));
            }
            Some((k, v)) if !k.is_empty() && !k.contains(' ') => {
                m.insert(k.to_owned(), Value::String(v.trim().to_owned()));
            }
            _ if m.is_empty() && !line.trim().is_empty() => {
                m.insert("time".to_owned(), Value::String(line.trim().to_owned()));
            }
            _ => {}
        }
    }
    Some(m)
}
