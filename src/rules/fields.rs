//! The field-alias table of `rules/fields.toml`: for each SIEM, shipper or telemetry export shape
//! the names it gives an event's fields (machine, event id, provider, channel, time, record id and
//! the payload in its forms), indexed by normalized key so a reader can look up any key it meets.
//! Which keys a record has, and how their values read, is the readers' business (`events`).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// One `[[shipper]]`: an export shape and its field names, each list in order of preference.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ShipperDef {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub machine: Vec<String>,
    #[serde(default)]
    pub event_id: Vec<String>,
    #[serde(default)]
    pub qualifiers: Vec<String>,
    #[serde(default)]
    pub provider: Vec<String>,
    #[serde(default)]
    pub channel: Vec<String>,
    #[serde(default)]
    pub time: Vec<String>,
    #[serde(default)]
    pub record_id: Vec<String>,
    #[serde(default)]
    pub event_xml: Vec<String>,
    #[serde(default)]
    pub data: Vec<String>,
    #[serde(default)]
    pub message: Vec<String>,
    #[serde(default)]
    pub channel_prefixes: Vec<String>,
    /// Recognised only when no other shape's names match a record (the generic names).
    #[serde(default)]
    pub fallback: bool,
    /// The rendered message is the better payload: the shape's payload field loses the
    /// positions (Wazuh joins the unnamed `<Data>` values with ", "), so it is read only when
    /// the record has no message.
    #[serde(default)]
    pub message_first: bool,
    pub sources: Vec<String>,
}

/// What an alias names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) enum Target {
    EventXml,
    EventId,
    Qualifiers,
    Provider,
    Channel,
    Machine,
    Time,
    RecordId,
    Data,
    Message,
}

impl Target {
    /// Every target, in the order a report names them.
    pub(crate) const ALL: [Target; 10] = [
        Target::EventXml,
        Target::EventId,
        Target::Qualifiers,
        Target::Provider,
        Target::Channel,
        Target::Machine,
        Target::Time,
        Target::RecordId,
        Target::Data,
        Target::Message,
    ];

    /// How a report names the target.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Target::EventXml => "whole event",
            Target::EventId => "event id",
            Target::Qualifiers => "qualifiers",
            Target::Provider => "provider",
            Target::Channel => "channel",
            Target::Machine => "machine",
            Target::Time => "time",
            Target::RecordId => "record id",
            Target::Data => "payload",
            Target::Message => "message",
        }
    }
}

impl ShipperDef {
    /// The aliases of a target, in order of preference.
    pub(crate) fn aliases(&self, target: Target) -> &[String] {
        match target {
            Target::EventXml => &self.event_xml,
            Target::EventId => &self.event_id,
            Target::Qualifiers => &self.qualifiers,
            Target::Provider => &self.provider,
            Target::Channel => &self.channel,
            Target::Machine => &self.machine,
            Target::Time => &self.time,
            Target::RecordId => &self.record_id,
            Target::Data => &self.data,
            Target::Message => &self.message,
        }
    }
}

/// One place an alias appears: which shape, which target, and its rank in that target's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Hit {
    pub shipper: u16,
    pub target: Target,
    pub rank: u16,
}

/// The table, indexed by normalized key.
#[derive(Debug, Clone, Default)]
pub(crate) struct FieldAliases {
    shippers: Vec<ShipperDef>,
    /// `foldhash`: every key of every record is looked up here.
    by_key: HashMap<String, Vec<Hit>, foldhash::fast::RandomState>,
}

/// A key as the table matches it: letters and digits only, lower case (`"Event ID"`,
/// `event_id`, `_EventID` and `EventID` are one key; a dotted path is its keys run together).
pub(crate) fn normalize_key(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    push_normalized(&mut out, key);
    out
}

/// Appends `key` normalized to `out`.
pub(crate) fn push_normalized(out: &mut String, key: &str) {
    for c in key.chars().filter(|c| c.is_alphanumeric()) {
        out.extend(c.to_lowercase());
    }
}

impl FieldAliases {
    pub(crate) fn new(shippers: Vec<ShipperDef>) -> FieldAliases {
        let mut by_key: HashMap<String, Vec<Hit>, foldhash::fast::RandomState> = HashMap::default();
        for (s, def) in shippers.iter().enumerate() {
            let Ok(shipper) = u16::try_from(s) else { break };
            for target in Target::ALL {
                for (rank, alias) in def.aliases(target).iter().enumerate() {
                    let rank = u16::try_from(rank).unwrap_or(u16::MAX);
                    by_key.entry(normalize_key(alias)).or_default().push(Hit {
                        shipper,
                        target,
                        rank,
                    });
                }
            }
        }
        FieldAliases { shippers, by_key }
    }

    /// Where a normalized key appears in the table.
    pub(crate) fn hits(&self, normalized: &str) -> &[Hit] {
        self.by_key.get(normalized).map_or(&[], Vec::as_slice)
    }

    /// A shape by its index.
    pub(crate) fn shipper(&self, index: u16) -> Option<&ShipperDef> {
        self.shippers.get(usize::from(index))
    }

    /// Every shape, in table order.
    #[cfg(test)]
    pub(crate) fn shippers(&self) -> &[ShipperDef] {
        &self.shippers
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_whatever_their_spelling() {
        for k in [
            "Event ID", "event_id", "_EventID", "EventID", "event.id", "eventId",
        ] {
            assert_eq!(normalize_key(k), "eventid", "{k}");
        }
        assert_eq!(
            normalize_key("winlog.event_data.param1"),
            "winlogeventdataparam1"
        );
    }

    #[test]
    fn the_embedded_table_indexes_every_shape() {
        let rules = crate::rules::Rules::embedded().unwrap();
        let f = rules.fields();
        assert!(f.shippers().len() >= 12);
        let hits = f.hits("eventid");
        assert!(hits.iter().any(|h| h.target == Target::EventId));
        let ecs = f.hits("winlogeventdata");
        assert!(ecs.iter().any(|h| h.target == Target::Data));
    }
}
