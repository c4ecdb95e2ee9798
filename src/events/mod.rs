//! Event logs in the forms helpdesks receive — binary `.evtx`, event XML, `evtx_dump` JSON — read
//! into one stream of normalized, source-referenced [`ActivationEvent`]s.
//!
//! Each reader turns its format into [`RawEvent`]s (the System fields and the `<Data>` strings,
//! nothing decoded); [`normalize_all`] then keeps the activation providers' events and decodes
//! their payloads by the catalogue in `rules/events.toml`. Readers know formats, not events.

pub mod evtx;
pub mod evtx_fast;
pub mod json;
pub mod message;
pub mod payload;
pub mod stored;
pub mod tabular;
pub mod xml;

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Serialize, Serializer};

use crate::rules::Rules;
use crate::rules::events::{Decoding, FieldType, Layout};

pub use payload::{client_time, split_info};
pub use stored::{Draft, FieldValue, Fields, Payload};

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
pub struct EventSource {
    /// The input, shared by its events.
    pub origin: Arc<Origin>,
    /// The record's position in the input (0-based).
    pub index: u64,
    pub line: Option<u32>,
}

/// An input as its events name it.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Origin {
    pub path: Arc<str>,
    /// `evtx`, `xml`, `json`.
    pub format: &'static str,
}

impl EventSource {
    pub fn path(&self) -> &str {
        &self.origin.path
    }

    pub fn format(&self) -> &'static str {
        self.origin.format
    }
}

impl Serialize for EventSource {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("EventSource", 4)?;
        st.serialize_field("path", self.path())?;
        st.serialize_field("format", self.format())?;
        st.serialize_field("index", &self.index)?;
        st.serialize_field("line", &self.line)?;
        st.end()
    }
}

/// An event of an activation provider, decoded. Serialized with its catalogue `name`, `fields`
/// and `raw` strings.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivationEvent {
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
pub struct Context {
    /// The `Computer` field, else the machine the file name suggests.
    pub machine: Arc<str>,
    /// The canonical provider name (shared with the catalogue).
    pub provider: Arc<str>,
    pub log: Option<Arc<str>>,
}

impl ActivationEvent {
    /// The `Computer` field, else the machine the file name suggests (one `Arc` for the events
    /// of one input that name the same machine).
    pub fn machine(&self) -> &Arc<str> {
        &self.context.machine
    }

    /// The canonical provider name.
    pub fn provider(&self) -> &Arc<str> {
        &self.context.provider
    }

    pub fn log(&self) -> Option<&str> {
        self.context.log.as_deref()
    }

    /// The catalogue name of the event (`kms-request-sent`, …), when it is in the catalogue.
    pub fn name(&self) -> Option<&str> {
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
        st.serialize_field("fields", &stored::FieldsJson(&self.payload))?;
        st.serialize_field("raw", &stored::RawJson(&self.payload))?;
        st.end()
    }
}

/// What reading one input produced, for the per-input summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ReadStats {
    pub records: u64,
    pub activation_events: u64,
    /// Records or chunks that could not be read, each with where and why.
    pub damaged: Vec<String>,
    /// How many damaged items there were in all (the list is capped).
    pub damaged_count: u64,
    /// What the reader had to assume (for example local times read as UTC).
    pub notes: Vec<String>,
    /// `.evtx` chunks the pre-filter handed to the `evtx` crate, counted by why (not reported).
    #[serde(skip)]
    pub declined: evtx::Declines,
}

/// Most damage messages listed per input; the count is always complete.
const MAX_DAMAGE_LISTED: usize = 50;

impl ReadStats {
    pub(crate) fn damage(&mut self, what: String) {
        self.damaged_count += 1;
        if self.damaged.len() < MAX_DAMAGE_LISTED {
            self.damaged.push(what);
        }
    }
}

/// What the events of one input share: its path and format, the machine its file name suggests,
/// the machine and log names they repeat and the contexts made of them (most inputs name one or
/// two; a bounded few are kept, the rest simply not shared).
#[derive(Debug)]
struct Shared {
    origin: Arc<Origin>,
    fallback_machine: Arc<str>,
    names: Vec<Arc<str>>,
    contexts: Vec<Known>,
    /// Where the payloads of the batch being read are written.
    slab: stored::Slab,
    /// The provider name last found in the catalogue, as the input spells it, and its canonical
    /// name: an input's activation events name one or two providers over and over.
    last_provider: Option<(Arc<str>, Arc<str>)>,
}

/// A context made for the input, with the computer and log names the reader last gave for it:
/// a reader shares those names between records, so a record usually finds its context by
/// pointer, before any name is compared.
#[derive(Debug)]
struct Known {
    computer: Option<Arc<str>>,
    log: Option<Arc<str>>,
    context: Arc<Context>,
}

/// Distinct machine and log names shared per input.
const SHARED_NAMES: usize = 64;

impl Shared {
    fn new(path: &str, format: &'static str) -> Shared {
        Shared {
            origin: Arc::new(Origin {
                path: Arc::from(path),
                format,
            }),
            fallback_machine: Arc::from(crate::diagnose::machine_from_path(path)),
            names: Vec::new(),
            contexts: Vec::new(),
            slab: stored::Slab::default(),
            last_provider: None,
        }
    }

    /// The catalogue's canonical name for a provider name, remembering the last one found.
    fn provider(
        &mut self,
        cat: &crate::rules::events::Catalogue,
        name: &Arc<str>,
    ) -> Option<Arc<str>> {
        if let Some((spelled, canonical)) = &self.last_provider
            && (Arc::ptr_eq(spelled, name) || **spelled == **name)
        {
            return Some(canonical.clone());
        }
        let found = cat.provider_shared(name)?.clone();
        self.last_provider = Some((name.clone(), found.clone()));
        Some(found)
    }

    /// The shared context of a machine (the one the file name suggests when the record names
    /// none), provider and log, as the reader gave them; the last one made tried first.
    fn context(
        &mut self,
        computer: Option<&Arc<str>>,
        provider: Arc<str>,
        log: Option<&Arc<str>>,
    ) -> Arc<Context> {
        let same_arc = |a: Option<&Arc<str>>, b: Option<&Arc<str>>| match (a, b) {
            (None, None) => true,
            (Some(a), Some(b)) => Arc::ptr_eq(a, b),
            _ => false,
        };
        if let Some(k) = self.contexts.iter().rev().find(|k| {
            same_arc(k.computer.as_ref(), computer)
                && same_arc(k.log.as_ref(), log)
                && Arc::ptr_eq(&k.context.provider, &provider)
        }) {
            return k.context.clone();
        }
        let named = computer.map(|c| &**c).filter(|c| !c.trim().is_empty());
        let machine = named.unwrap_or(&self.fallback_machine);
        let log_name = log.map(|l| &**l);
        let same = |c: &Context| {
            (Arc::ptr_eq(&c.provider, &provider) || c.provider == provider)
                && *c.machine == *machine
                && c.log.as_deref() == log_name
        };
        if let Some(k) = self.contexts.iter_mut().rev().find(|k| same(&k.context)) {
            // The names this reader gives it now: its next records find it by pointer.
            k.computer = computer.cloned();
            k.log = log.cloned();
            return k.context.clone();
        }
        let machine = match named {
            Some(c) => self.name(c),
            None => self.fallback_machine.clone(),
        };
        let c = Arc::new(Context {
            machine,
            provider,
            log: log_name.map(|l| self.name(l)),
        });
        if self.contexts.len() < SHARED_NAMES {
            self.contexts.push(Known {
                computer: computer.cloned(),
                log: log.cloned(),
                context: c.clone(),
            });
        }
        c
    }

    fn name(&mut self, s: &str) -> Arc<str> {
        if let Some(a) = self.names.iter().find(|a| ***a == *s) {
            return a.clone();
        }
        let a: Arc<str> = Arc::from(s);
        if self.names.len() < SHARED_NAMES {
            self.names.push(a.clone());
        }
        a
    }
}

/// A reader's raw events of the input at `path`, normalized: the activation events, or with
/// [`Keep::All`] every event (other providers' decoded as raw strings only).
pub fn normalize_all(
    rules: &Rules,
    raws: &[RawEvent],
    path: &str,
    format: &'static str,
    keep: Keep<'_>,
) -> Vec<ActivationEvent> {
    Normalizer::new(rules, path, format, keep).convert(raws)
}

/// Turns a reader's raw event into an activation event, or `None` when its provider is not an
/// activation provider (unless `all`). Its payload is written into the input's [`stored::Slab`],
/// to be sealed with the rest of the batch.
fn normalize(
    rules: &Rules,
    raw: &RawEvent,
    shared: &mut Shared,
    all: bool,
) -> Option<ActivationEvent> {
    let cat = rules.events();
    let (provider, is_activation) = match shared.provider(cat, &raw.provider).or_else(|| {
        raw.event_source_name
            .as_deref()
            .and_then(|n| cat.provider_shared(n).cloned())
    }) {
        Some(p) => (p, true),
        // Kept for `--all`: not an activation provider (the catalogue was just asked).
        None if all => (raw.provider.clone(), false),
        None => return None,
    };
    let def = if is_activation {
        cat.decoding(raw.event_id)
    } else {
        None
    };
    // Exports that keep only the rendered message: read the payload back through the template.
    let from_message = match (def, raw.message.as_deref()) {
        (Some(d), Some(m)) if raw.data.is_empty() => d
            .def
            .messages
            .iter()
            .find_map(|t| message::extract(t, m))
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    let raw_strings = if raw.data.is_empty() {
        &from_message
    } else {
        &raw.data
    };
    let payload = match def {
        Some(d) => decode(
            &mut shared.slab,
            d,
            raw_strings,
            raw.time_created,
            raw.message.as_deref(),
        ),
        None => shared.slab.build(None, raw_strings, Vec::new()),
    };
    Some(ActivationEvent {
        context: shared.context(raw.computer.as_ref(), provider, raw.channel.as_ref()),
        time: raw.time_created,
        event_id: raw.event_id,
        record_id: raw.record_id,
        source: EventSource {
            origin: shared.origin.clone(),
            index: raw.index,
            line: raw.line,
        },
        payload,
    })
}

/// Decodes a payload by its catalogue layout. A value that does not read as its type is kept as
/// text; a missing trailing value is simply absent (the raw strings keep every position).
fn decode(
    slab: &mut stored::Slab,
    def: &Decoding,
    strings: &[String],
    created: Option<DateTime<Utc>>,
    message: Option<&str>,
) -> Payload {
    let types = def.types.as_slice();
    if def.def.layout == Layout::Info
        && let [one] = strings
        && let Some(fields) = payload::info_fields(one, types.len())
    {
        return info_streamed(slab, def, one, fields, created);
    }
    decode_collected(slab, def, strings, created, message)
}

/// [`decode`] by collecting the values first: what a rejoin, positional data or `key=value`
/// pairs need.
fn decode_collected(
    slab: &mut stored::Slab,
    def: &Decoding,
    strings: &[String],
    created: Option<DateTime<Utc>>,
    message: Option<&str>,
) -> Payload {
    let types = def.types.as_slice();
    let values: Vec<Cow<'_, str>> = match def.def.layout {
        Layout::Info => {
            let values = payload::info_values(strings, types.len(), message);
            let mut text_at = types
                .iter()
                .enumerate()
                .filter(|(_, (_, t))| *t == FieldType::Text)
                .map(|(i, _)| i);
            match (text_at.next(), text_at.next()) {
                (Some(one), None) => match types.get(one + 1) {
                    Some((_, next)) => {
                        let next = *next;
                        let fits = |v: &str| !matches!(typed(next, v, created), Draft::Text(_));
                        payload::rejoin_text_field(values, types.len(), one, &fits)
                    }
                    None => values,
                },
                _ => values,
            }
        }
        Layout::Positional => strings.iter().map(|s| Cow::Borrowed(s.as_str())).collect(),
        Layout::Kv => {
            // Names come from the data: this event's own (a name given twice keeps the later
            // value).
            let pairs: Vec<(String, String)> = strings
                .iter()
                .flat_map(|s| payload::key_values(s))
                .collect();
            let shape = crate::rules::events::Shape::new(
                def.shape.name.clone(),
                pairs.iter().map(|(k, _)| Arc::from(k.as_str())).collect(),
            );
            let fields: Vec<_> = pairs
                .iter()
                .filter_map(|(k, v)| Some((shape.slot(k)?, Draft::Text(Cow::Borrowed(v.as_str())))))
                .collect();
            return slab.build(Some(Arc::new(shape)), strings, fields);
        }
    };
    let fields = def
        .slot
        .iter()
        .zip(types)
        .zip(&values)
        .filter_map(|((&slot, (_, ty)), v)| {
            let v = crate::input::encoding::trim(v);
            (!v.is_empty()).then(|| (slot, typed(*ty, v, created)))
        });
    slab.build(Some(def.shape.clone()), strings, fields)
}

/// [`decode`] of one `Info` string with no more fields than the layout names (nothing to rejoin:
/// nearly every event), its `fields` typed and written in turn, none collected.
fn info_streamed(
    slab: &mut stored::Slab,
    def: &Decoding,
    one: &String,
    fields: payload::InfoFields<'_>,
    created: Option<DateTime<Utc>>,
) -> Payload {
    slab.build_with(Some(def.shape.clone()), std::slice::from_ref(one), |w| {
        for ((&slot, (_, ty)), v) in def.slot.iter().zip(&def.types).zip(fields) {
            if !v.is_empty() {
                w.put(slot, typed(*ty, v, created));
            }
        }
    })
}

#[allow(clippy::inline_always)] // with `Writer::put`, inlined into the decoder's loop
#[inline(always)]
fn typed(ty: FieldType, v: &str, created: Option<DateTime<Utc>>) -> Draft<'_> {
    let text = || Draft::Text(Cow::Borrowed(v));
    match ty {
        FieldType::Code => {
            let v = v.strip_prefix("hr=").unwrap_or(v);
            crate::slmgr::values::leading_code(v).map_or_else(text, Draft::Code)
        }
        FieldType::Flags => crate::hresult::read_raw(v)
            .ok()
            .flatten()
            .map_or_else(text, Draft::Flags),
        FieldType::Int => v.parse().map_or_else(|_| text(), Draft::Int),
        FieldType::Bool => match v {
            "0" => Draft::Bool(false),
            "1" => Draft::Bool(true),
            _ => text(),
        },
        FieldType::Time => client_time(v, created).map_or_else(text, Draft::Time),
        FieldType::Guid => crate::slmgr::values::guid_in(v).map_or_else(text, Draft::Guid),
        FieldType::HostPort | FieldType::Text => text(),
    }
}

/// Sorts events by machine, time and record id (then source), so output never depends on the
/// order inputs were read in. No two events share a source position, so the order is total and
/// an unstable sort (no buffer of half the events) gives the one answer.
pub fn sort(events: &mut [ActivationEvent]) {
    events.sort_unstable_by(|a, b| {
        same_name(a.machine(), b.machine())
            .then_with(|| a.time.cmp(&b.time))
            .then_with(|| a.record_id.cmp(&b.record_id))
            // Lazily: comparing sources compares their paths.
            .then_with(|| a.source.cmp(&b.source))
    });
}

/// [`cmp_ignore_case`] for names shared by the events of one input: the same `Arc` answers at
/// once.
fn same_name(a: &Arc<str>, b: &Arc<str>) -> std::cmp::Ordering {
    if Arc::ptr_eq(a, b) {
        std::cmp::Ordering::Equal
    } else {
        cmp_ignore_case(a, b)
    }
}

/// Whether two events' machine names are one name (case ignored). The events of one input share
/// one `Arc` per name, so the pointer answers first.
pub fn same_machine_name(a: &Arc<str>, b: &Arc<str>) -> bool {
    Arc::ptr_eq(a, b) || a.eq_ignore_ascii_case(b)
}

/// Compares two names as ASCII-case-insensitive, without allocating.
pub fn cmp_ignore_case(a: &str, b: &str) -> std::cmp::Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

/// The format of an event-log input, recognised by content.
pub fn detect(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(evtx::MAGIC) {
        return Some("evtx");
    }
    let head =
        crate::input::encoding::decode(bytes.get(..bytes.len().min(8192)).unwrap_or(bytes), &|_| 0)
            .text;
    if xml::looks_like(&head) {
        Some("xml")
    } else if json::looks_like(&head) {
        Some("json")
    } else {
        tabular::detect(&head)
    }
}

/// Which events of an input to keep.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep<'a> {
    /// Every event, other providers' too (decoded as raw strings only).
    All,
    /// The activation providers' events.
    Activation,
    /// The activation providers' events with these ids (what a consumer reads; the rest is
    /// dropped as soon as it is read, so memory holds only these).
    Ids(&'a [u32]),
}

impl Keep<'_> {
    /// Whether a raw event with this id is kept (the provider is decided by [`normalize`]).
    fn wants(self, event_id: u32) -> bool {
        match self {
            Keep::Ids(ids) => ids.contains(&event_id),
            _ => true,
        }
    }
}

impl evtx_fast::Positioned for ActivationEvent {
    fn shift(&mut self, by: u64) {
        self.source.index += by;
    }
}

/// Turns the raw events of one input (or of a part of one) into activation events as they are
/// read, so raw events are never held for a whole file.
struct Normalizer<'a> {
    rules: &'a Rules,
    keep: Keep<'a>,
    shared: Shared,
}

impl<'a> Normalizer<'a> {
    fn new(rules: &'a Rules, path: &str, format: &'static str, keep: Keep<'a>) -> Normalizer<'a> {
        Normalizer {
            rules,
            keep,
            shared: Shared::new(path, format),
        }
    }

    fn convert(&mut self, raws: &[RawEvent]) -> Vec<ActivationEvent> {
        let all = self.keep == Keep::All;
        // A new vector of the right size: collecting in place would keep the raw events' larger
        // slots (and their spare capacity) for as long as the events live.
        let mut out = Vec::with_capacity(raws.len());
        self.shared.slab.reserve(
            raws.iter()
                .filter(|r| self.keep.wants(r.event_id))
                .flat_map(|r| &r.data)
                .map(String::len)
                .sum(),
        );
        out.extend(
            raws.iter()
                .filter(|r| self.keep.wants(r.event_id))
                .filter_map(|r| normalize(self.rules, r, &mut self.shared, all)),
        );
        out.shrink_to_fit();
        self.shared
            .slab
            .seal(out.iter_mut().map(|e| &mut e.payload));
        out
    }
}

/// Calls `f` with the `.evtx` pre-filter's choice for `keep`: activation providers, the ids kept.
pub fn with_select<R>(
    rules: &Rules,
    keep: Keep<'_>,
    f: impl FnOnce(&evtx_fast::Select<'_>) -> R,
) -> R {
    let cat = rules.events();
    let provider = |p: &str| cat.provider(p).is_some();
    let event_id = |id: u32| keep.wants(id);
    f(&evtx_fast::Select {
        provider: &provider,
        event_id: &event_id,
    })
}

/// Reads one event-log input: the events `keep` selects and what reading it found. `Err` when
/// the input is not an event log kmsdiag reads, or its header is unreadable.
pub fn read_input(
    rules: &Rules,
    path: &str,
    bytes: Vec<u8>,
    disk: Option<&std::path::Path>,
    keep: Keep<'_>,
) -> Result<(Vec<ActivationEvent>, ReadStats, &'static str), String> {
    let wanted = |r: &RawEvent| keep.wants(r.event_id);
    let format = detect(&bytes).ok_or_else(|| {
        format!(
            "{path}: not an event log export kmsdiag reads (.evtx, event XML, evtx_dump or Get-WinEvent JSON, Event Viewer CSV/text, Export-Csv, Format-List)"
        )
    })?;
    let mut notes = Vec::new();
    let mut declined = evtx::Declines::default();
    let mut norm = Normalizer::new(rules, path, format, keep);
    let (events, damaged, counted) = match format {
        "evtx" => {
            let mut convert = |raws: &[RawEvent]| norm.convert(raws);
            match (disk, keep) {
                (Some(file), Keep::All) => evtx::read_file(file, &wanted)
                    .map(|(raws, damaged, n)| (convert(&raws), damaged, n)),
                (None, Keep::All) => evtx::read(bytes, &wanted)
                    .map(|(raws, damaged, n)| (convert(&raws), damaged, n)),
                (Some(file), _) => with_select(rules, keep, |select| {
                    evtx::read_file_selected_with(file, select, &wanted, &mut convert, &mut notes)
                })
                .map(|r| {
                    declined = r.declined;
                    (r.events, r.damaged, r.records)
                }),
                (None, _) => with_select(rules, keep, |select| {
                    let input = std::io::Cursor::new(bytes);
                    evtx::read_selected(input, select, &wanted, &mut convert, &mut notes)
                })
                .map(|r| {
                    declined = r.declined;
                    (r.events, r.damaged, r.records)
                }),
            }
            .map_err(|e| format!("{path}: {e}"))?
        }
        "xml" | "json" => {
            let (decoded, note) = crate::input::encoding::decode_utf8_standard(&bytes);
            notes.extend(note);
            let text = decoded.text;
            let (raws, damaged) = if format == "xml" {
                xml::read(&text)
            } else {
                json::read(&text)
            };
            let n = raws.len() as u64;
            (norm.convert(&raws), damaged, n)
        }
        _ => {
            let text = crate::input::encoding::decode(&bytes, &|t| {
                usize::from(tabular::detect(t).is_some())
            })
            .text;
            notes.push(
                "times are as the exporting machine displayed them (its local time, no zone); they are read as UTC"
                    .to_owned(),
            );
            let (raws, damaged) = tabular::read(format, &text);
            let n = raws.len() as u64;
            (norm.convert(&raws), damaged, n)
        }
    };
    let mut stats = stats(counted, damaged, notes, &events);
    stats.declined = declined;
    Ok((events, stats, format))
}

fn stats(
    records: u64,
    damaged: Vec<String>,
    notes: Vec<String>,
    events: &[ActivationEvent],
) -> ReadStats {
    let mut stats = ReadStats {
        records,
        notes,
        activation_events: events.len() as u64,
        ..ReadStats::default()
    };
    for d in damaged {
        stats.damage(d);
    }
    stats
}

/// One chunk range of a large `.evtx` file on disk, read on its own (on any thread) for
/// [`EvtxParts`]: the parts of the file's chunks `chunks`, their events normalized.
pub fn evtx_part(
    rules: &Rules,
    path: &str,
    file: &std::path::Path,
    chunks: std::ops::Range<u64>,
    keep: Keep<'_>,
) -> Result<Vec<evtx_fast::Part<ActivationEvent>>, String> {
    let wanted = |r: &RawEvent| keep.wants(r.event_id);
    let mut norm = Normalizer::new(rules, path, "evtx", keep);
    with_select(rules, keep, |select| {
        evtx::read_chunks(file, chunks, select, &wanted, &mut |raws| {
            norm.convert(raws)
        })
    })
    .map_err(|e| format!("{path}: {e}"))
}

/// A large `.evtx` file read in parts by [`evtx_part`] over consecutive chunk ranges, put back
/// together range by range as they are read, in file order (each range's memory is freed for the
/// next): the same answer [`read_input`] gives for the whole file.
#[derive(Default)]
pub struct EvtxParts {
    tally: evtx_fast::Tally<ActivationEvent>,
    failed: Option<String>,
}

impl EvtxParts {
    /// The next range of the file.
    pub fn add(&mut self, range: Result<Vec<evtx_fast::Part<ActivationEvent>>, String>) {
        match range {
            Ok(parts) => {
                for p in parts {
                    self.tally.add(p);
                }
            }
            Err(e) => {
                self.failed.get_or_insert(e);
            }
        }
    }

    /// The file's events and what reading it produced, or the first range's failure.
    pub fn finish(
        self,
        path: &str,
        file: &std::path::Path,
    ) -> Result<(Vec<ActivationEvent>, ReadStats, &'static str), String> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let mut notes = Vec::new();
        let header = std::fs::File::open(file)
            .map_err(|e| format!("cannot open: {e}"))
            .and_then(|f| evtx_fast::header(f, &mut notes))
            .map_err(|e| format!("{path}: {e}"))?;
        let read = self.tally.finish(&header, &mut notes);
        let mut events = read.events;
        events.shrink_to_fit();
        let mut stats = stats(read.records, read.damaged, notes, &events);
        stats.declined = read.declined;
        Ok((events, stats, "evtx"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_record_gets_its_own_machine_and_log_whatever_the_reader_shares() {
        let rules = Rules::load(None).unwrap();
        let (a, b): (Arc<str>, Arc<str>) = ("pc-a.contoso.com".into(), "pc-b.contoso.com".into());
        let (app, kms): (Arc<str>, Arc<str>) =
            ("Application".into(), "Key Management Service".into());
        // (computer, log): shared names, a name spelled again in a new Arc, none at all.
        let records = [
            (Some(a.clone()), Some(app.clone())),
            (Some(b.clone()), Some(app.clone())),
            (Some(a.clone()), Some(app.clone())),
            (None, Some(app.clone())),
            (Some(a.clone()), Some(kms.clone())),
            (Some(Arc::from("pc-a.contoso.com")), None),
            (Some(a.clone()), Some(kms.clone())),
        ];
        let raws: Vec<RawEvent> = records
            .iter()
            .enumerate()
            .map(|(i, (computer, channel))| RawEvent {
                provider: "Microsoft-Windows-Security-SPP".into(),
                event_id: 12288,
                computer: computer.clone(),
                channel: channel.clone(),
                index: i as u64,
                ..RawEvent::default()
            })
            .collect();
        let events = normalize_all(&rules, &raws, "logs/ws09.evtx", "evtx", Keep::All);
        let got: Vec<(&str, Option<&str>)> =
            events.iter().map(|e| (&**e.machine(), e.log())).collect();
        assert_eq!(
            got,
            [
                ("pc-a.contoso.com", Some("Application")),
                ("pc-b.contoso.com", Some("Application")),
                ("pc-a.contoso.com", Some("Application")),
                ("ws09", Some("Application")),
                ("pc-a.contoso.com", Some("Key Management Service")),
                ("pc-a.contoso.com", None),
                ("pc-a.contoso.com", Some("Key Management Service")),
            ]
        );
        // Records naming the same machine and log share one context.
        assert!(Arc::ptr_eq(&events[0].context, &events[2].context));
        assert!(Arc::ptr_eq(&events[4].context, &events[6].context));
    }

    #[test]
    fn info_strings_typed_as_cut_decode_as_when_collected() {
        let rules = Rules::load(None).unwrap();
        let created = chrono::DateTime::parse_from_rfc3339("2010-09-29T20:00:00Z")
            .ok()
            .map(|t| t.with_timezone(&Utc));
        let infos = [
            "0x0,25,pc01.contoso.com,7f3e1a55-27f8-4950-8877-7a03be5fb181,2010/9/29 21:46,0,1,0,34e1ae55-27f8-4950-8877-7a03be5fb181",
            " 0xC004F038 , 4 ,PC02, {7F3E1A55-27F8-4950-8877-7A03BE5FB181} ,29/9/2010 9:46,1,5,120, ",
            "0x0,,,,,,,,",
            "",
            "0x8007267C",
            "hr=0xC004F074, 0x00000000, kms.contoso.com:1688, <CMID>, <DateTime>, 1, 5, 0",
            "garbage,25.5,é,not-a-guid,yesterday,2,x,-1,q",
            "0x0,25,pc01,7f3e1a55-27f8-4950-8877-7a03be5fb181,2010/9/29 21:46,0,1,0",
        ];
        let mut compared = 0;
        for id in [12288, 12289, 12290] {
            let def = rules.events().decoding(id).unwrap();
            for info in infos {
                let strings = [info.to_owned()];
                let Some(fields) = payload::info_fields(&strings[0], def.types.len()) else {
                    continue;
                };
                compared += 1;
                let mut slab = stored::Slab::default();
                let mut streamed = info_streamed(&mut slab, def, &strings[0], fields, created);
                let mut collected = decode_collected(&mut slab, def, &strings, created, None);
                slab.seal([&mut streamed, &mut collected]);
                assert_eq!(
                    streamed.fields().collect::<Vec<_>>(),
                    collected.fields().collect::<Vec<_>>(),
                    "{id} {info:?}"
                );
                assert_eq!(streamed, collected, "{id} {info:?}");
            }
        }
        assert!(compared >= 15, "{compared}");
    }

    #[test]
    fn decoded_fields_come_out_in_name_order() {
        let rules = Rules::load(None).unwrap();
        let def = rules.events().decoding(12290).unwrap();
        let info = "0x0,25,pc01.contoso.com,7f3e1a55-27f8-4950-8877-7a03be5fb181,2010/9/29 21:46,0,1,0,34e1ae55-27f8-4950-8877-7a03be5fb181".to_owned();
        let mut slab = stored::Slab::default();
        let mut f = decode(&mut slab, def, &[info], None, None);
        // Unsealed, it reads as empty.
        assert!(f.fields().next().is_none());
        slab.seal([&mut f]);
        let names: Vec<&str> = f.fields().map(|(k, _)| k).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), def.types.len());
    }
}
