//! Event records in the JSON that SIEMs, log shippers and telemetry tools export (Splunk,
//! Sentinel, Elastic winlogbeat, Wazuh, Graylog and GELF, `NXLog`, `OpenWEC`, Fluent Bit,
//! OpenTelemetry, PowerShell, WMI and EDR telemetry), found by walking the JSON and read through the field-alias
//! table of `rules/fields.toml`.
//!
//! A record is any object whose keys, looked up in the table (case, spaces, underscores and dots
//! ignored; nested objects flattened into dotted paths), give an event id and a provider or a
//! channel, or that carries a whole Event XML string; arrays of records are found under any key.
//! The shape whose names match most of a record's keys is the one recognised; its aliases are
//! tried first, then the other shapes'. The payload comes, in order of preference, from the
//! embedded Event XML, a positional list or `paramN` object, an XML string of `<Data>`, and last
//! the rendered message (which the normalizer reads back through the message templates). The
//! [`Tally`] says per input which shape and which aliases supplied the values.

pub(crate) mod classic;
pub(crate) mod csv;
mod values;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::model::event::RawEvent;
use crate::rules::fields::{FieldAliases, Hit, Target, push_normalized};

/// How deep nested objects are flattened into a record's paths.
const FLATTEN_DEPTH: u8 = 6;
/// Most paths taken from one record (a record is a few dozen fields).
const MAX_PATHS: usize = 1024;
/// How deep the walk looks for records.
const WALK_DEPTH: u8 = 64;

/// Where a value of a record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum From {
    /// An alias of the table.
    Alias { shipper: u16, rank: u16 },
    /// The Event XML found through an alias.
    Xml { shipper: u16, rank: u16 },
    /// A `key=value` event text found through an alias (read as a record of its own).
    Text { shipper: u16, rank: u16 },
}

/// Which shapes an input's records were read as, and which aliases supplied their values.
#[derive(Debug, Default)]
pub(crate) struct Tally {
    shapes: BTreeMap<u16, Used>,
    /// A time without a zone was read as UTC.
    zoneless: bool,
}

#[derive(Debug, Default)]
struct Used {
    records: u64,
    supplied: BTreeSet<(Target, From)>,
}

/// Finds and reads the records of JSON values through the alias table.
pub(crate) struct Walker<'a> {
    fields: &'a FieldAliases,
    pub(crate) tally: Tally,
}

/// A record's paths: normalized key path, the path as written (keys joined by `.`), value.
type Paths<'v> = Vec<(String, String, &'v Value)>;

impl<'a> Walker<'a> {
    pub(crate) fn new(fields: &'a FieldAliases) -> Walker<'a> {
        Walker {
            fields,
            tally: Tally::default(),
        }
    }

    /// Every record in `v` (the value itself, or objects anywhere under it), in document order;
    /// `out` is told whether the record is `v` itself.
    pub(crate) fn walk(&mut self, v: &Value, out: &mut dyn FnMut(RawEvent, bool)) -> u64 {
        self.walk_at(v, 0, out)
    }

    fn walk_at(&mut self, v: &Value, depth: u8, out: &mut dyn FnMut(RawEvent, bool)) -> u64 {
        if depth > WALK_DEPTH {
            return 0;
        }
        match v {
            Value::Object(m) => {
                if let Some(raw) = legacy(v).or_else(|| self.record(m, 0)) {
                    out(raw, depth == 0);
                    return 1;
                }
                m.values().map(|c| self.walk_at(c, depth + 1, out)).sum()
            }
            Value::Array(items) => items.iter().map(|c| self.walk_at(c, depth + 1, out)).sum(),
            _ => 0,
        }
    }

    /// Whether `v` names an event id anywhere in its first levels (a value that does and holds
    /// no record is a damaged record; one that does not is the export's own metadata).
    pub(crate) fn mentions_event(&self, v: &Value) -> bool {
        let Value::Object(m) = v else {
            return matches!(v, Value::Array(a) if a.iter().any(|i| self.mentions_event(i)));
        };
        let mut paths = Vec::new();
        self.flatten(m, &mut paths);
        paths.iter().any(|(k, _, _)| {
            matches!(k.as_str(), "event" | "system")
                || self
                    .fields
                    .hits(k)
                    .iter()
                    .any(|h| h.target == Target::EventId)
        })
    }

    /// One object as a record, when its aliases make one.
    pub(super) fn record(&mut self, m: &Map<String, Value>, nested: u8) -> Option<RawEvent> {
        let mut paths = Vec::new();
        self.flatten(m, &mut paths);
        let hits = self.hits(&paths);
        if hits.is_empty() {
            return None;
        }
        let best = best_shape(self.fields, &paths, &hits);
        let mut r = Resolver {
            walker: self,
            paths: &paths,
            hits: &hits,
            best,
            supplied: Vec::new(),
        };
        let raw = r.resolve(nested)?;
        let supplied = std::mem::take(&mut r.supplied);
        let used = self.tally.shapes.entry(best).or_default();
        used.records += 1;
        used.supplied.extend(supplied);
        Some(raw)
    }

    /// The paths of an object the table can use: keys it names, `paramN` keys, and the `Event` /
    /// `System` keys that say an object is meant as an event (the rest are never looked at, so
    /// they are not kept).
    fn flatten<'v>(&self, m: &'v Map<String, Value>, out: &mut Paths<'v>) {
        let fields = self.fields;
        let wanted = |k: &str| {
            matches!(k, "event" | "system")
                || !fields.hits(k).is_empty()
                || param_container(k).is_some()
        };
        flatten(m, &mut (String::new(), String::new()), 0, &wanted, out);
    }

    /// Every table entry the record's paths hit: (path index, hit), and for `paramN` keys the
    /// container they belong to (`winlog.event_data` of `winlog.event_data.param2`).
    fn hits(&self, paths: &Paths<'_>) -> Vec<(usize, Hit)> {
        let mut out = Vec::new();
        for (i, (k, _, _)) in paths.iter().enumerate() {
            out.extend(self.fields.hits(k).iter().map(|h| (i, *h)));
            if let Some(container) = param_container(k) {
                out.extend(
                    self.fields
                        .hits(container)
                        .iter()
                        .filter(|h| h.target == Target::Data)
                        .map(|h| (i, *h)),
                );
            }
        }
        out
    }
}

/// Whether the start of a JSON text holds an event record: each object that parses whole in
/// it is walked (an object cut off at the end of the text is passed over for those inside it).
pub(crate) fn probe(text: &str, fields: &FieldAliases) -> bool {
    /// Most objects tried.
    const TRIES: usize = 512;
    let mut walker = Walker::new(fields);
    let mut from = 0;
    for _ in 0..TRIES {
        let Some(at) = text.get(from..).and_then(|t| t.find('{')).map(|i| from + i) else {
            return false;
        };
        let mut stream =
            serde_json::Deserializer::from_str(text.get(at..).unwrap_or("")).into_iter::<Value>();
        match stream.next() {
            Some(Ok(v)) => {
                if walker.walk(&v, &mut |_, _| {}) > 0 {
                    return true;
                }
                from = at + stream.byte_offset().max(1);
            }
            _ => from = at + 1,
        }
    }
    false
}

/// `winlogeventdataparam12` → `winlogeventdata`.
fn param_container(key: &str) -> Option<&str> {
    let stem = key.trim_end_matches(|c: char| c.is_ascii_digit());
    if stem.len() == key.len() {
        return None;
    }
    stem.strip_suffix("param")
}

/// The shape most of the record's keys belong to: the most keys, then the most keys spelled as
/// the shape spells them (`_EventID` is GELF's, `EventID` `NXLog`'s), then the first in the table.
/// A fallback shape counts only when no other shape matches.
fn best_shape(fields: &FieldAliases, paths: &Paths<'_>, hits: &[(usize, Hit)]) -> u16 {
    let mut votes: BTreeMap<u16, (BTreeSet<usize>, BTreeSet<usize>)> = BTreeMap::new();
    for (i, h) in hits {
        let Some(def) = fields.shipper(h.shipper) else {
            continue;
        };
        let exact = paths.get(*i).is_some_and(|(_, raw, _)| {
            def.aliases(h.target)
                .get(usize::from(h.rank))
                .is_some_and(|a| a.eq_ignore_ascii_case(raw))
        });
        let v = votes.entry(h.shipper).or_default();
        v.0.insert(*i);
        if exact {
            v.1.insert(*i);
        }
    }
    let specific = votes
        .keys()
        .any(|s| fields.shipper(*s).is_some_and(|d| !d.fallback));
    votes
        .iter()
        .filter(|(s, _)| !specific || fields.shipper(**s).is_some_and(|d| !d.fallback))
        .max_by(|a, b| {
            (a.1.0.len(), a.1.1.len())
                .cmp(&(b.1.0.len(), b.1.1.len()))
                .then(b.0.cmp(a.0))
        })
        .map_or(0, |(s, _)| *s)
}

/// An `evtx_dump` or `Get-WinEvent` object, read as the JSON reader always has (with a provider:
/// an object that only looks like one goes through the table).
fn legacy(v: &Value) -> Option<RawEvent> {
    let m = v.as_object()?;
    let candidate = m.contains_key("Event")
        || m.contains_key("System")
        || (m.contains_key("ProviderName") && m.contains_key("Id"));
    if !candidate {
        return None;
    }
    super::json::from_value(v).filter(|e| !e.provider.is_empty())
}

/// Flattens an object into key paths, objects included (a container is a path too); only the
/// paths `wanted` are kept.
fn flatten<'v>(
    m: &'v Map<String, Value>,
    prefix: &mut (String, String),
    depth: u8,
    wanted: &dyn Fn(&str) -> bool,
    out: &mut Paths<'v>,
) {
    for (k, v) in m {
        if out.len() >= MAX_PATHS {
            return;
        }
        let (len, raw_len) = (prefix.0.len(), prefix.1.len());
        push_normalized(&mut prefix.0, k);
        if raw_len > 0 {
            prefix.1.push('.');
        }
        prefix.1.push_str(k);
        if wanted(&prefix.0) {
            out.push((prefix.0.clone(), prefix.1.clone(), v));
        }
        if let Value::Object(child) = v
            && depth < FLATTEN_DEPTH
        {
            flatten(child, prefix, depth + 1, wanted, out);
        }
        prefix.0.truncate(len);
        prefix.1.truncate(raw_len);
    }
}

/// Resolves one record's values through its hits.
struct Resolver<'w, 'a, 'p, 'v> {
    walker: &'w mut Walker<'a>,
    paths: &'p Paths<'v>,
    hits: &'p [(usize, Hit)],
    best: u16,
    supplied: Vec<(Target, From)>,
}

impl<'v> Resolver<'_, '_, '_, 'v> {
    /// The candidates for a target, best first: the recognised shape's aliases in order, then
    /// the others' in table order.
    fn candidates(&self, target: Target) -> Vec<(Hit, usize)> {
        let mut c: Vec<(Hit, usize)> = self
            .hits
            .iter()
            .filter(|(_, h)| h.target == target)
            .map(|(i, h)| (*h, *i))
            .collect();
        c.sort_by_key(|(h, i)| (h.shipper != self.best, h.shipper, h.rank, *i));
        c
    }

    /// The first candidate of `target` that reads with `read`, noting which alias supplied it.
    fn first<T>(&mut self, target: Target, read: impl Fn(&'v Value) -> Option<T>) -> Option<T> {
        for (h, i) in self.candidates(target) {
            let Some((_, _, v)) = self.paths.get(i) else {
                continue;
            };
            if let Some(t) = read(v) {
                self.supplied.push((
                    target,
                    From::Alias {
                        shipper: h.shipper,
                        rank: h.rank,
                    },
                ));
                return Some(t);
            }
        }
        None
    }

    fn resolve(&mut self, nested: u8) -> Option<RawEvent> {
        // The Event XML is the record itself: the aliases only fill what it lacks.
        let mut raw = if let Some(raw) = self.event_xml(nested) {
            raw
        } else {
            let (event_id, carried) = self.first(Target::EventId, values::event_id)?;
            let provider = self.first(Target::Provider, values::name);
            let channel = self.channel();
            if provider.is_none() && channel.is_none() {
                return None;
            }
            RawEvent {
                event_id,
                qualifiers: carried,
                provider: provider.map(Arc::from).unwrap_or_default(),
                channel: channel.map(Arc::from),
                ..RawEvent::default()
            }
        };
        if raw.provider.is_empty()
            && let Some(p) = self.first(Target::Provider, values::name)
        {
            raw.provider = Arc::from(p);
        }
        if raw.channel.is_none() {
            raw.channel = self.channel().map(Arc::from);
        }
        if raw.qualifiers.is_none() {
            raw.qualifiers = self.first(Target::Qualifiers, |v| {
                values::unsigned(v).and_then(|n| u32::try_from(n).ok())
            });
        }
        if raw.computer.is_none() {
            raw.computer = self.first(Target::Machine, values::name).map(Arc::from);
        }
        if raw.time_created.is_none()
            && let Some((t, zoneless)) = self.first(Target::Time, values::time)
        {
            raw.time_created = Some(t);
            self.walker.tally.zoneless |= zoneless;
        }
        if raw.record_id.is_none() {
            raw.record_id = self.first(Target::RecordId, values::unsigned);
        }
        let fields = self.walker.fields;
        if raw.data.is_empty()
            && raw.message.is_none()
            && fields.shipper(self.best).is_some_and(|s| s.message_first)
        {
            raw.message = self.first(Target::Message, values::message);
        }
        if raw.data.is_empty() && raw.message.is_none() {
            raw.data = self.data().unwrap_or_default();
        }
        if raw.data.is_empty() && raw.message.is_none() {
            raw.message = self.first(Target::Message, values::message);
        }
        Some(raw)
    }

    /// The channel, without the prefix its shape adds (`WinEventLog:Application`).
    fn channel(&mut self) -> Option<String> {
        let fields = self.walker.fields;
        let mut found = None;
        for (h, i) in self.candidates(Target::Channel) {
            let Some(v) = self.paths.get(i).and_then(|(_, _, v)| values::name(v)) else {
                continue;
            };
            let prefixes = fields
                .shipper(h.shipper)
                .map_or(&[][..], |s| s.channel_prefixes.as_slice());
            // A shape with prefixes writes its channel only behind one of them.
            let name = if prefixes.is_empty() {
                v
            } else {
                match prefixes.iter().find_map(|p| v.strip_prefix(p.as_str())) {
                    Some(n) => n.trim(),
                    None => continue,
                }
            };
            if !name.is_empty() {
                self.supplied.push((
                    Target::Channel,
                    From::Alias {
                        shipper: h.shipper,
                        rank: h.rank,
                    },
                ));
                found = Some(name.to_owned());
                break;
            }
        }
        found
    }

    /// The event of an embedded Event XML string (or of Splunk's classic event text).
    fn event_xml(&mut self, nested: u8) -> Option<RawEvent> {
        for (h, i) in self.candidates(Target::EventXml) {
            let Some(text) = self.paths.get(i).and_then(|(_, _, v)| v.as_str()) else {
                continue;
            };
            let (shipper, rank) = (h.shipper, h.rank);
            let raw = if text.contains("<Event") {
                super::xml::read(text)
                    .0
                    .into_iter()
                    .next()
                    .map(|r| (r, From::Xml { shipper, rank }))
            } else if nested == 0 {
                values::classic_event(text)
                    .and_then(|m| self.walker.record(&m, nested + 1))
                    .map(|r| (r, From::Text { shipper, rank }))
            } else {
                None
            };
            if let Some((raw, from)) = raw {
                self.supplied.push((Target::EventXml, from));
                return Some(raw);
            }
        }
        None
    }

    /// The payload strings: a container's value, or its `paramN` keys flattened by the export
    /// (numbered with gaps kept).
    fn data(&mut self) -> Option<Vec<String>> {
        let paths = self.paths;
        for (h, i) in self.candidates(Target::Data) {
            let Some((key, _, v)) = paths.get(i) else {
                continue;
            };
            let strings = if param_container(key).is_some_and(|c| !self.is_path(c)) {
                params_under(paths, param_container(key).unwrap_or(""))
            } else {
                values::data_strings(v, 0)
            };
            if let Some(s) = strings.filter(|s| s.iter().any(|v| !v.trim().is_empty())) {
                self.supplied.push((
                    Target::Data,
                    From::Alias {
                        shipper: h.shipper,
                        rank: h.rank,
                    },
                ));
                return Some(s);
            }
        }
        None
    }

    fn is_path(&self, key: &str) -> bool {
        self.paths.iter().any(|(k, _, _)| k == key)
    }
}

/// The values of the flattened keys `<container>param<N>`, by number, gaps as empty strings.
fn params_under(paths: &Paths<'_>, container: &str) -> Option<Vec<String>> {
    let mut numbered: Vec<(usize, String)> = paths
        .iter()
        .filter(|(k, _, _)| param_container(k) == Some(container))
        .filter_map(|(k, _, v)| {
            let n = values::param_number(k)?;
            Some((
                n,
                values::scalar_text(v)
                    .map(std::borrow::Cow::into_owned)
                    .unwrap_or_default(),
            ))
        })
        .collect();
    numbered.sort_by_key(|(n, _)| *n);
    let last = numbered.last()?.0;
    let mut out = vec![String::new(); last];
    for (n, v) in numbered {
        if let Some(slot) = n.checked_sub(1).and_then(|i| out.get_mut(i)) {
            *slot = v;
        }
    }
    Some(out)
}

impl Tally {
    /// What the report says of the shapes read: one note per shape, naming the aliases that
    /// supplied each value; and that zone-less times were read as UTC.
    pub(crate) fn notes(&self, fields: &FieldAliases) -> Vec<String> {
        let mut notes = Vec::new();
        for (s, used) in &self.shapes {
            let Some(def) = fields.shipper(*s) else {
                continue;
            };
            let mut by_target: BTreeMap<Target, Vec<String>> = BTreeMap::new();
            for (target, from) in &used.supplied {
                let (shipper, rank, how) = match *from {
                    From::Alias { shipper, rank } => (shipper, rank, ""),
                    From::Xml { shipper, rank } => {
                        (shipper, rank, " (Event XML: every field it has)")
                    }
                    From::Text { shipper, rank } => (shipper, rank, " (a key=value event text)"),
                };
                let Some(alias) = fields
                    .shipper(shipper)
                    .and_then(|d| d.aliases(*target).get(usize::from(rank)))
                else {
                    continue;
                };
                let said = format!("`{alias}`{how}");
                let list = by_target.entry(*target).or_default();
                if !list.contains(&said) {
                    list.push(said);
                }
            }
            let from: Vec<String> = by_target
                .iter()
                .map(|(t, a)| format!("{} from {}", t.label(), a.join(" or ")))
                .collect();
            notes.push(format!(
                "read as {} ({} record(s)); {}",
                def.name,
                used.records,
                from.join(", ")
            ));
        }
        if self.zoneless {
            notes.push(
                "some record times carry no zone (the exporting machine's local time); they are read as UTC"
                    .to_owned(),
            );
        }
        notes
    }
}
