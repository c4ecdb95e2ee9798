//! The event catalogue of `rules/events.toml`: which providers are activation providers (and the
//! names exports give them), and for each event its name, log, level and payload layout.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// One `[[provider]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderDef {
    pub name: String,
    pub guid: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
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

impl EventDef {
    /// The fields as (name, type) pairs.
    pub fn field_types(&self) -> Vec<(&str, FieldType)> {
        self.fields
            .iter()
            .filter_map(|f| f.split_once(':'))
            .filter_map(|(n, t)| FieldType::parse(t).map(|t| (n, t)))
            .collect()
    }
}

/// The catalogue, indexed.
#[derive(Debug, Clone, Default)]
pub struct Catalogue {
    /// Lower-cased provider names and aliases → canonical provider name.
    providers: BTreeMap<String, String>,
    events: BTreeMap<u32, EventDef>,
}

impl Catalogue {
    pub(crate) fn new(providers: Vec<ProviderDef>, events: Vec<EventDef>) -> Catalogue {
        let mut names = BTreeMap::new();
        for p in providers {
            for alias in std::iter::once(&p.name)
                .chain(p.aliases.iter())
                .chain(p.guid.iter())
            {
                names.insert(alias.to_ascii_lowercase(), p.name.clone());
            }
        }
        Catalogue {
            providers: names,
            events: events.into_iter().map(|e| (e.id, e)).collect(),
        }
    }

    /// The canonical name of an activation provider, from any name, alias or GUID an export uses.
    pub fn provider(&self, name: &str) -> Option<&str> {
        self.providers
            .get(&name.trim().to_ascii_lowercase())
            .map(String::as_str)
    }

    /// The definition of an event id.
    pub fn event(&self, id: u32) -> Option<&EventDef> {
        self.events.get(&id)
    }
}
