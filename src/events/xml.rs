//! Event XML as exported: `wevtutil qe … /f:xml` (a stream of `<Event>` elements without a root),
//! Event Viewer "Save as XML" (`<Events>` root), with or without `<RenderingInfo>`, with
//! namespaces. Each `<Event>` is cut out and parsed on its own, so a broken one is counted and
//! the others are still read. Entities are never expanded beyond the XML built-ins and character
//! references; nothing is fetched.

use chrono::{DateTime, Utc};
use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use std::sync::Arc;

use crate::model::event::RawEvent;

/// Whether a text looks like event XML.
pub(crate) fn looks_like(text: &str) -> bool {
    let head: String = text.chars().take(4096).collect();
    head.contains("<Event")
        && (head.contains("<System") || head.contains("schemas.microsoft.com/win/2004/08/events"))
}

/// Reads every `<Event>` of a text. Returns the events and, for each event that could not be
/// read, where and why.
pub(crate) fn read(text: &str) -> (Vec<RawEvent>, Vec<String>) {
    let mut events = Vec::new();
    let mut damaged = Vec::new();
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let line_of = |offset: usize| {
        u32::try_from(line_starts.partition_point(|s| *s <= offset)).unwrap_or(u32::MAX)
    };
    for (index, (start, end)) in event_spans(text).into_iter().enumerate() {
        let Some(chunk) = text.get(start..end) else {
            continue;
        };
        let line = line_of(start);
        match parse_event(chunk) {
            Ok(mut e) => {
                e.index = index as u64;
                e.line = Some(line);
                events.push(e);
            }
            Err(why) => damaged.push(format!("line {line}: event {index} not readable: {why}")),
        }
    }
    (events, damaged)
}

/// Byte spans of each `<Event …>…</Event>` (not `<Events>`), in order. An event with no end tag
/// runs to the next event's start or the end of the text.
fn event_spans(text: &str) -> Vec<(usize, usize)> {
    let mut starts = Vec::new();
    let mut from = 0;
    while let Some(pos) = text.get(from..).and_then(|t| t.find("<Event")) {
        let at = from + pos;
        let next = text.as_bytes().get(at + 6).copied();
        if matches!(next, Some(b' ' | b'>' | b'\t' | b'\r' | b'\n' | b'/')) {
            starts.push(at);
        }
        from = at + 6;
    }
    let mut spans = Vec::new();
    for (i, s) in starts.iter().enumerate() {
        let limit = starts.get(i + 1).copied().unwrap_or(text.len());
        let end = text
            .get(*s..limit)
            .and_then(|t| t.find("</Event>"))
            .map_or(limit, |e| s + e + "</Event>".len());
        spans.push((*s, end));
    }
    spans
}

fn attr(e: &BytesStart<'_>, name: &str) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| match quick_xml::escape::unescape(&a.value) {
            Ok(v) => v.into_owned(),
            Err(_) => a.value.clone().into_owned(),
        })
}

/// Resolves an entity reference: the five XML built-ins and character references; anything else
/// (a DTD entity) is left as written, never expanded.
pub(crate) fn entity(name: &str) -> String {
    match name {
        "amp" => "&".to_owned(),
        "lt" => "<".to_owned(),
        "gt" => ">".to_owned(),
        "quot" => "\"".to_owned(),
        "apos" => "'".to_owned(),
        _ => {
            let code = name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()));
            code.and_then(char::from_u32)
                .map_or_else(|| format!("&{name};"), |c| c.to_string())
        }
    }
}

fn parse_event(chunk: &str) -> Result<RawEvent, String> {
    let mut reader = Reader::from_str(chunk);
    let mut ev = RawEvent::default();
    let mut stack: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut saw_event_id = false;
    loop {
        let event = reader
            .read_event()
            .map_err(|e| format!("{e} at byte {}", reader.buffer_position()))?;
        match event {
            Event::Start(e) => {
                let name = e.local_name().as_ref().to_owned();
                start_element(&mut ev, &e, &name);
                stack.push(name);
                text.clear();
            }
            Event::Empty(e) => {
                let name = e.local_name().as_ref().to_owned();
                start_element(&mut ev, &e, &name);
                if name == "Data" && stack.last().is_some_and(|p| p == "EventData") {
                    ev.data.push(String::new());
                }
            }
            Event::Text(t) => text.push_str(&t),
            Event::CData(t) => text.push_str(&t),
            Event::GeneralRef(r) => text.push_str(&entity(&r)),
            Event::End(_) => {
                let name = stack.pop().unwrap_or_default();
                let parent = stack.last().map_or("", String::as_str);
                let value = std::mem::take(&mut text);
                match (parent, name.as_str()) {
                    ("System", "EventID") => {
                        ev.event_id = value
                            .trim()
                            .parse()
                            .map_err(|_| format!("EventID `{}` is not a number", value.trim()))?;
                        saw_event_id = true;
                    }
                    ("System", "Level") => ev.level = value.trim().parse().ok(),
                    ("System", "EventRecordID") => ev.record_id = value.trim().parse().ok(),
                    ("System", "Channel") => ev.channel = Some(Arc::from(value.trim())),
                    ("System", "Computer") => ev.computer = Some(Arc::from(value.trim())),
                    ("EventData", "Data") => ev.data.push(value),
                    ("RenderingInfo", "Message") => ev.message = Some(value),
                    (_, "Event") => break,
                    _ => {}
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    if !saw_event_id {
        return Err("no EventID".to_owned());
    }
    Ok(ev)
}

fn start_element(ev: &mut RawEvent, e: &BytesStart<'_>, name: &str) {
    match name {
        "Provider" => {
            if let Some(n) = attr(e, "Name") {
                ev.provider = Arc::from(n);
            } else if let Some(g) = attr(e, "Guid") {
                ev.provider = Arc::from(g);
            }
            ev.event_source_name = attr(e, "EventSourceName").map(Arc::from);
        }
        "EventID" => ev.qualifiers = attr(e, "Qualifiers").and_then(|q| q.parse().ok()),
        "TimeCreated" => {
            ev.time_created = attr(e, "SystemTime").and_then(|t| parse_system_time(&t));
        }
        _ => {}
    }
}

/// `2010-09-29T21:52:00.000000000Z`, with any number of fraction digits.
pub(crate) fn parse_system_time(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
        .or_else(|| {
            chrono::NaiveDateTime::parse_from_str(
                s.trim().trim_end_matches('Z'),
                "%Y-%m-%dT%H:%M:%S%.f",
            )
            .ok()
            .map(|n| n.and_utc())
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVENT: &str = r#"<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Security-SPP" Guid="{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}" EventSourceName="Software Protection Platform Service"/><EventID Qualifiers="16384">12288</EventID><Level>4</Level><TimeCreated SystemTime="2010-09-29T21:52:00.123456700Z"/><EventRecordID>101</EventRecordID><Channel>Application</Channel><Computer>PC01.contoso.com</Computer></System><EventData><Data>0xC004F06C, 0x00000000, kms01:1688, 36f27b39-2fd5-440b-be67-a09996d27a38, 2010/09/29 17:52, 0, 2, 41760, 68531fb9-5511-4989-97be-d11a0f55633f, 5</Data></EventData></Event>"#;

    #[test]
    fn a_wevtutil_stream_and_an_events_document() {
        let stream = format!("{EVENT}\r\n{EVENT}\r\n");
        let (events, damaged) = read(&stream);
        assert_eq!(events.len(), 2);
        assert!(damaged.is_empty());
        let e = &events[0];
        assert_eq!(
            (&*e.provider, e.event_id, e.qualifiers, e.record_id),
            (
                "Microsoft-Windows-Security-SPP",
                12288,
                Some(16384),
                Some(101)
            )
        );
        assert_eq!(e.computer.as_deref(), Some("PC01.contoso.com"));
        assert_eq!(
            e.time_created.map(|t| t.to_rfc3339()).as_deref(),
            Some("2010-09-29T21:52:00.123456700+00:00")
        );
        assert_eq!(e.data.len(), 1);
        let doc =
            format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Events>\n{EVENT}\n</Events>");
        let (events, _) = read(&doc);
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].line, Some(3));
    }

    #[test]
    fn empty_data_is_kept_and_entities_are_not_expanded() {
        let e = r#"<Event><System><Provider Name="X"/><EventID>1</EventID></System><EventData><Data Name="a">x &amp; &#x41;</Data><Data/><Data Name="c">&xxe;</Data></EventData><RenderingInfo Culture="en-US"><Message>Hello</Message></RenderingInfo></Event>"#;
        let (events, damaged) = read(e);
        assert!(damaged.is_empty(), "{damaged:?}");
        let d = &events[0].data;
        assert_eq!(d[0], "x & A");
        assert_eq!(d[1], "");
        assert_eq!(d[2], "&xxe;");
        assert_eq!(events[0].message.as_deref(), Some("Hello"));
    }

    #[test]
    fn a_broken_event_is_counted_and_the_others_are_read() {
        let broken =
            r#"<Event><System><Provider Name="X"/><EventID>oops</EventID></System></Event>"#;
        let text = format!("{EVENT}\n{broken}\n{EVENT}");
        let (events, damaged) = read(&text);
        assert_eq!(events.len(), 2);
        assert_eq!(damaged.len(), 1);
        assert!(damaged[0].contains("line 2"), "{damaged:?}");
        let (events, _) = read("<Events><Event><System><EventID>5</EventID></System>");
        assert_eq!(events.len(), 1, "a truncated last event is still read");
    }
}
