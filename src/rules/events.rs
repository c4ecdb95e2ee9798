//! The event catalogue of `rules/events.toml`: which providers are activation providers (and the
//! names exports give them), and for each event its name, log, level and payload layout, with
//! its message-table templates parsed into text and placeholders (what the linter checks and the
//! readers of rendered messages match).

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// One `[[provider]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProviderDef {
    pub name: String,
    pub guid: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub sources: Vec<String>,
}

/// One `[[log]]`: an event log's name and the names Event Viewer shows it under in other UI
/// languages. A file named after a log (`Application.csv`) names no machine.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LogDef {
    pub name: String,
    #[serde(default)]
    pub names: Vec<String>,
    pub sources: Vec<String>,
}

/// How an event carries its values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layout {
    /// One comma-separated "Info" string, or the same values as positional `<Data>`.
    Info,
    /// Positional `<Data>` elements.
    Positional,
    /// One "key=value;" string.
    Kv,
}

/// The type of a payload field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Code,
    Flags,
    Int,
    Bool,
    Time,
    Guid,
    HostPort,
    Text,
}

impl FieldType {
    pub fn parse(s: &str) -> Option<FieldType> {
        Some(match s {
            "code" => FieldType::Code,
            "flags" => FieldType::Flags,
            "int" => FieldType::Int,
            "bool" => FieldType::Bool,
            "time" => FieldType::Time,
            "guid" => FieldType::Guid,
            "hostport" => FieldType::HostPort,
            "text" => FieldType::Text,
            _ => return None,
        })
    }
}

/// One `[[event]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EventDef {
    pub id: u32,
    pub name: String,
    pub level: String,
    pub log: String,
    pub layout: Layout,
    /// `name:type`, in payload order.
    pub fields: Vec<String>,
    /// The message-table texts, `%1`… for payload strings, `%n` for a line break.
    #[serde(default)]
    pub messages: Vec<String>,
    pub sources: Vec<String>,
}

/// An event definition with what decoding needs parsed once, when the catalogue is built: every
/// decoded event shares these names instead of copying them.
#[derive(Debug, Clone)]
pub struct Decoding {
    pub def: EventDef,
    /// `def.fields` as (name, type) pairs, in payload order.
    pub types: Vec<(Arc<str>, FieldType)>,
    /// The event's name and its field names, sorted and each once: the slots of every event
    /// this decodes.
    pub shape: Arc<Shape>,
    /// For each position in `types`, its slot in the shape's `names`.
    pub slot: Vec<usize>,
    /// `def.messages` parsed (those that parse), in order: read by `events::message`.
    pub(crate) templates: Vec<Vec<Piece>>,
}

/// What a layout gives every event it decodes, shared by them: the event's name (`def.name`)
/// and its field names in slot order (sorted, each once).
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    pub name: Arc<str>,
    pub names: Box<[Arc<str>]>,
}

impl Shape {
    /// The shape of an event named `name` with these field names (sorted here, each kept once).
    pub fn new(name: Arc<str>, mut names: Vec<Arc<str>>) -> Shape {
        names.sort_unstable();
        names.dedup();
        Shape {
            name,
            names: names.into(),
        }
    }

    /// The slot of a field name (a dozen names at most: a scan that compares lengths first beats
    /// a search).
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.names
            .iter()
            .position(|k| k.len() == name.len() && **k == *name)
    }
}

impl Decoding {
    fn new(def: EventDef) -> Decoding {
        let types = def
            .fields
            .iter()
            .filter_map(|f| f.split_once(':'))
            .filter_map(|(n, t)| FieldType::parse(t).map(|t| (Arc::from(n), t)))
            .collect::<Vec<(Arc<str>, FieldType)>>();
        let shape = Shape::new(
            Arc::from(def.name.as_str()),
            types.iter().map(|(n, _)| n.clone()).collect(),
        );
        // Every name is in the shape; an index past its names would be ignored.
        let slot = types
            .iter()
            .map(|(n, _)| shape.slot(n).unwrap_or(usize::MAX))
            .collect();
        let templates = def
            .messages
            .iter()
            .filter_map(|m| parse_template(m))
            .collect();
        Decoding {
            shape: Arc::new(shape),
            slot,
            types,
            templates,
            def,
        }
    }
}

/// The catalogue, indexed.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Lower-cased provider names and aliases → canonical provider name.
    providers: Vec<(String, Arc<str>)>,
    /// Each provider's name with its aliases, as the catalogue spells them (no GUIDs).
    names: Vec<(Arc<str>, Vec<String>)>,
    events: BTreeMap<u32, Decoding>,
    /// Every name of every log, lower-cased.
    logs: Vec<String>,
}

impl Catalogue {
    pub(crate) fn new(
        providers: Vec<ProviderDef>,
        events: Vec<EventDef>,
        logs: Vec<LogDef>,
    ) -> Catalogue {
        let mut names: Vec<(String, Arc<str>)> = Vec::new();
        let mut spelled = Vec::new();
        for p in providers {
            let canonical: Arc<str> = Arc::from(p.name.as_str());
            spelled.retain(|(n, _): &(Arc<str>, Vec<String>)| *n != canonical);
            spelled.push((canonical.clone(), p.aliases.clone()));
            for alias in std::iter::once(&p.name)
                .chain(p.aliases.iter())
                .chain(p.guid.iter())
            {
                let alias = alias.to_ascii_lowercase();
                names.retain(|(n, _)| *n != alias);
                names.push((alias, canonical.clone()));
            }
        }
        Catalogue {
            providers: names,
            names: spelled,
            events: events
                .into_iter()
                .map(|e| (e.id, Decoding::new(e)))
                .collect(),
            logs: logs
                .into_iter()
                .flat_map(|l| std::iter::once(l.name).chain(l.names))
                .map(|n| n.trim().to_lowercase())
                .collect(),
        }
    }

    /// The activation providers: each name with its aliases, in catalogue order.
    pub(crate) fn provider_names(&self) -> impl Iterator<Item = (&str, &[String])> {
        self.names.iter().map(|(n, a)| (&**n, a.as_slice()))
    }

    /// Every spelling [`Catalogue::provider`] knows (names, aliases, GUIDs), lower-cased.
    pub(crate) fn provider_keys(&self) -> impl Iterator<Item = &str> {
        self.providers.iter().map(|(k, _)| k.as_str())
    }

    /// Whether a name (a file's stem) is an event log's, in any language the catalogue lists
    /// (`Application`, `Key Management Service`, `Anwendung`; case and the spelling of the
    /// separators ignored: `key_management_service`).
    pub fn is_log_name(&self, name: &str) -> bool {
        let norm = |s: &str| {
            s.trim()
                .to_lowercase()
                .chars()
                .map(|c| if c == '_' || c == '-' { ' ' } else { c })
                .collect::<String>()
        };
        let name = norm(name);
        !name.is_empty() && self.logs.iter().any(|l| norm(l) == name)
    }

    /// The canonical name of an activation provider, from any name, alias or GUID an export uses.
    pub fn provider(&self, name: &str) -> Option<&str> {
        self.provider_shared(name).map(|p| &**p)
    }

    /// [`Catalogue::provider`], as the shared name every event of the provider points at. A
    /// handful of names: a scan without allocating beats a lower-cased map key per record.
    pub fn provider_shared(&self, name: &str) -> Option<&Arc<str>> {
        // `str::trim`, answered at once when both ends are visible ASCII (nearly every record).
        let name = match (name.as_bytes().first(), name.as_bytes().last()) {
            (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => name,
            _ => name.trim(),
        };
        self.providers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, p)| p)
    }

    /// The definition of an event id.
    pub fn event(&self, id: u32) -> Option<&EventDef> {
        self.events.get(&id).map(|d| &d.def)
    }

    /// The definition of an event id with its parsed field layout.
    pub fn decoding(&self, id: u32) -> Option<&Decoding> {
        self.events.get(&id)
    }
}

/// A template split into literal text and numbered placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Text(String),
    Slot(usize),
}

/// Parses `%1`…`%99` placeholders and `%n` line breaks; `None` for a malformed `%`.
pub(crate) fn parse_template(t: &str) -> Option<Vec<Piece>> {
    let mut pieces = Vec::new();
    let mut text = String::new();
    let mut chars = t.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            text.push(c);
            continue;
        }
        match chars.peek().copied() {
            Some('n') => {
                chars.next();
                text.push(' ');
            }
            Some(d) if d.is_ascii_digit() => {
                let mut n = String::new();
                while let Some(d) = chars.peek().copied().filter(char::is_ascii_digit) {
                    n.push(d);
                    chars.next();
                }
                if !text.is_empty() {
                    pieces.push(Piece::Text(squash_keep_edges(&std::mem::take(&mut text))));
                }
                let n: usize = n.parse().ok().filter(|n| (1..=99).contains(n))?;
                pieces.push(Piece::Slot(n));
            }
            _ => return None,
        }
    }
    if !text.is_empty() {
        pieces.push(Piece::Text(squash_keep_edges(&text)));
    }
    Some(pieces)
}

/// Whitespace runs to one space: how a template's text and a rendered message are compared.
pub(crate) fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Whitespace runs to one space, keeping one space at either edge where there was whitespace.
fn squash_keep_edges(s: &str) -> String {
    let inner = squash(s);
    let lead = if s.starts_with(char::is_whitespace) {
        " "
    } else {
        ""
    };
    let trail = if s.ends_with(char::is_whitespace) && !inner.is_empty() {
        " "
    } else {
        ""
    };
    format!("{lead}{inner}{trail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_templates_are_refused() {
        assert!(parse_template("bad %x").is_none());
        assert!(parse_template("bad %").is_none());
        assert!(parse_template("ok %1 and %n and %12").is_some());
    }
}

/// One `[[eventviewer]]`: the header labels of a copied Event Viewer event in one UI language.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EventViewerLanguage {
    pub language: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub log_name: Vec<String>,
    #[serde(default)]
    pub source: Vec<String>,
    #[serde(default)]
    pub date: Vec<String>,
    #[serde(default)]
    pub event_id: Vec<String>,
    #[serde(default)]
    pub task_category: Vec<String>,
    #[serde(default)]
    pub level: Vec<String>,
    #[serde(default)]
    pub keywords: Vec<String>,
    #[serde(default)]
    pub user: Vec<String>,
    #[serde(default)]
    pub computer: Vec<String>,
    #[serde(default)]
    pub description: Vec<String>,
    #[serde(default)]
    pub event_xml: Vec<String>,
}

/// A header of a copied Event Viewer event, whatever its language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Header {
    LogName,
    Source,
    Date,
    EventId,
    TaskCategory,
    Level,
    Keywords,
    User,
    Computer,
    Description,
    EventXml,
}

impl Header {
    /// The English label, the name the event readers look fields up by.
    pub(crate) fn english(self) -> &'static str {
        match self {
            Header::LogName => "Log Name",
            Header::Source => "Source",
            Header::Date => "Date",
            Header::EventId => "Event ID",
            Header::TaskCategory => "Task Category",
            Header::Level => "Level",
            Header::Keywords => "Keywords",
            Header::User => "User",
            Header::Computer => "Computer",
            Header::Description => "Description",
            Header::EventXml => "Event Xml",
        }
    }
}

/// Every language's Event Viewer header labels, looked up by label.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeaderLabels {
    /// Label (lower case) → header.
    labels: Vec<(String, Header)>,
}

impl HeaderLabels {
    pub(crate) fn new(languages: &[EventViewerLanguage]) -> HeaderLabels {
        let mut labels = Vec::new();
        for l in languages {
            for (names, h) in [
                (&l.log_name, Header::LogName),
                (&l.source, Header::Source),
                (&l.date, Header::Date),
                (&l.event_id, Header::EventId),
                (&l.task_category, Header::TaskCategory),
                (&l.level, Header::Level),
                (&l.keywords, Header::Keywords),
                (&l.user, Header::User),
                (&l.computer, Header::Computer),
                (&l.description, Header::Description),
                (&l.event_xml, Header::EventXml),
            ] {
                for n in names {
                    let n = n.trim().to_lowercase();
                    if !labels.iter().any(|(x, _)| *x == n) {
                        labels.push((n, h));
                    }
                }
            }
        }
        HeaderLabels { labels }
    }

    /// The header a label names, in any language (case and surrounding spaces ignored).
    pub(crate) fn header(&self, label: &str) -> Option<Header> {
        let label = label.trim();
        // A label whose lower case has other characters than it has (a dotted capital I) names
        // none; lowered once, not once for every label compared.
        let lower = label.to_lowercase();
        if lower.chars().count() != label.chars().count() {
            return None;
        }
        self.labels
            .iter()
            .find(|(n, _)| n.len() == lower.len() && *n == lower)
            .map(|(_, h)| *h)
    }
}
