//! The events the readers hand on: [`RawEvent`], one record as a reader found it (System fields
//! and payload strings, nothing decoded), and [`ActivationEvent`], an activation provider's event
//! decoded and normalized, with the [`EventSource`] it came from and the [`Context`] (machine,
//! provider, log) it shares with the other events of its input. Plain data: how formats are read
//! and payloads decoded is `events`'.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::model::payload::{FieldsJson, Payload, RawJson};
use crate::model::vocab::InputFormat;

/// One event as a reader found it: System fields and payload strings, undecoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawEvent {
    /// Provider, channel and computer: shared with the reader's template or cache where it has
    /// one (the same few names on every record).
    pub provider: Arc<str>,
    pub event_source_name: Option<Arc<str>>,
    pub event_id: u32,
    pub qualifiers: Option<u32>,
    pub level: Option<u32>,
    pub time_created: Option<DateTime<Utc>>,
    pub record_id: Option<u64>,
    pub channel: Option<Arc<str>>,
    pub computer: Option<Arc<str>>,
    /// The `<Data>` strings in order; empty elements are kept so positions never shift (a
    /// `Name` attribute is not kept: payloads are decoded by position).
    pub data: Vec<String>,
    /// The rendered message, when the export carries it.
    pub message: Option<String>,
    /// Where in the input it was: record index, line.
    pub index: u64,
    pub line: Option<u32>,
}

/// Where a normalized event came from. Serialized as `path`, `format`, `index`, `line`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EventSource {
    /// The input, shared by its events.
    pub origin: Arc<Origin>,
    /// The record's position in the input (0-based).
    pub index: u64,
    pub line: Option<u32>,
}

/// An input as its events name it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Origin {
    pub path: Arc<str>,
    /// `evtx`, `xml`, `json`, or a tabular export's form.
    pub format: InputFormat,
}

impl EventSource {
    pub(crate) fn path(&self) -> &str {
        &self.origin.path
    }

    pub(crate) fn format(&self) -> InputFormat {
        self.origin.format
    }
}

impl Serialize for EventSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EventSource", 4)?;
        st.serialize_field("path", self.path())?;
        st.serialize_field("format", &self.format())?;
        st.serialize_field("index", &self.index)?;
        st.serialize_field("line", &self.line)?;
        st.end()
    }
}

/// An event of an activation provider, decoded. Serialized with its catalogue `name`, `fields`
/// and `raw` strings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ActivationEvent {
    /// Its machine, provider and log, shared by the events of one input that name the same.
    pub context: Arc<Context>,
    /// `TimeCreated`, in UTC.
    pub time: Option<DateTime<Utc>>,
    pub event_id: u32,
    pub record_id: Option<u64>,
    pub source: EventSource,
    /// The original data strings, the payload fields decoded from them (named after the
    /// catalogue) and the catalogue's name for the event.
    pub payload: Payload,
}

/// What the events of an input repeat: the machine, the provider and the log.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Context {
    /// The `Computer` field, else the machine the file's folder or name suggests.
    pub machine: Arc<str>,
    /// Where the machine's name came from.
    pub name_source: crate::model::vocab::NameSource,
    /// The canonical provider name (shared with the catalogue).
    pub provider: Arc<str>,
    pub log: Option<Arc<str>>,
}

impl ActivationEvent {
    /// The `Computer` field, else the machine the file name suggests (one `Arc` for the events
    /// of one input that name the same machine).
    pub(crate) fn machine(&self) -> &Arc<str> {
        &self.context.machine
    }

    /// The canonical provider name.
    pub(crate) fn provider(&self) -> &Arc<str> {
        &self.context.provider
    }

    pub(crate) fn log(&self) -> Option<&str> {
        self.context.log.as_deref()
    }

    /// The catalogue name of the event (`kms-request-sent`, …), when it is in the catalogue.
    pub(crate) fn name(&self) -> Option<&str> {
        self.payload.name()
    }
}

impl Serialize for ActivationEvent {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let time = self
            .time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
        let mut st = s.serialize_struct("ActivationEvent", 10)?;
        st.serialize_field("machine", &**self.machine())?;
        st.serialize_field("time", &time)?;
        st.serialize_field("provider", &**self.provider())?;
        st.serialize_field("event_id", &self.event_id)?;
        st.serialize_field("name", &self.name())?;
        st.serialize_field("record_id", &self.record_id)?;
        st.serialize_field("log", &self.log())?;
        st.serialize_field("source", &self.source)?;
        st.serialize_field("fields", &FieldsJson(&self.payload))?;
        st.serialize_field("raw", &RawJson(&self.payload))?;
        st.end()
    }
}
