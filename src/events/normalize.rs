//! The normalizer: a reader's raw events of one input turned into activation events as they are
//! read. It keeps the activation providers' events (or all, for `--all`), decodes their payloads
//! by the catalogue's layouts into typed fields, and shares what the events of an input repeat
//! (origin, machine, provider, log) through a small per-input cache. It knows the catalogue, not
//! the formats the raw events came from.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::message;
use super::payload::{self, client_time};
use super::{ActivationEvent, Context, EventSource, Keep, Origin, RawEvent};
use crate::model::InputFormat;
use crate::model::NameSource;
use crate::model::names::name_from_path;
use crate::model::payload::{Draft, Payload, Slab};
use crate::rules::Rules;
use crate::rules::events::{Decoding, FieldType, Layout};

/// A reader's raw events of the input at `path`, normalized: the activation events, or with
/// [`Keep::All`] every event (other providers' decoded as raw strings only).
pub(crate) fn normalize_all(
    rules: &Rules,
    raws: &[RawEvent],
    path: &str,
    format: InputFormat,
    keep: Keep<'_>,
) -> Vec<ActivationEvent> {
    Normalizer::new(rules, path, format, keep).convert(raws)
}

/// Turns the raw events of one input (or of a part of one) into activation events as they are
/// read, so raw events are never held for a whole file.
pub(super) struct Normalizer<'a> {
    rules: &'a Rules,
    keep: Keep<'a>,
    shared: Shared,
}

impl<'a> Normalizer<'a> {
    pub(super) fn new(
        rules: &'a Rules,
        path: &str,
        format: InputFormat,
        keep: Keep<'a>,
    ) -> Normalizer<'a> {
        Normalizer {
            rules,
            keep,
            shared: Shared::new(rules, path, format),
        }
    }

    pub(super) fn convert(&mut self, raws: &[RawEvent]) -> Vec<ActivationEvent> {
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

/// Turns a reader's raw event into an activation event, or `None` when its provider is not an
/// activation provider (unless `all`). Its payload is written into the input's [`Slab`],
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
        (Some(d), Some(m)) if raw.data.is_empty() => message::extract_any(&d.templates, m)
            .or_else(|| failure_code_only(&d.def, m))
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
    slab: &mut Slab,
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
    slab: &mut Slab,
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
    slab: &mut Slab,
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
            crate::input::values::leading_code(v).map_or_else(text, Draft::Code)
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
        FieldType::Guid => crate::input::values::guid_in(v).map_or_else(text, Draft::Guid),
        FieldType::HostPort | FieldType::Text => text(),
    }
}

/// What the events of one input share: its path and format, the machine its file name suggests,
/// the machine and log names they repeat and the contexts made of them (most inputs name one or
/// two; a bounded few are kept, the rest simply not shared).
#[derive(Debug)]
struct Shared {
    origin: Arc<Origin>,
    fallback_machine: Arc<str>,
    /// Where the fallback name came from (the folder or the file name).
    fallback_source: NameSource,
    names: Vec<Arc<str>>,
    contexts: Vec<Known>,
    /// Where the payloads of the batch being read are written.
    slab: Slab,
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
    fn new(rules: &Rules, path: &str, format: InputFormat) -> Shared {
        let cat = rules.events();
        let (fallback, fallback_source) = name_from_path(path, &|s| cat.is_log_name(s));
        Shared {
            origin: Arc::new(Origin {
                path: Arc::from(path),
                format,
            }),
            fallback_machine: Arc::from(fallback),
            fallback_source,
            names: Vec::new(),
            contexts: Vec::new(),
            slab: Slab::default(),
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
        let name_source = if named.is_some() {
            NameSource::Text
        } else {
            self.fallback_source
        };
        let c = Arc::new(Context {
            machine,
            name_source,
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

/// A message no template of its event matches (Windows renders it in the machine's UI language)
/// still gives a result code: for an event whose first payload field is a code, the first failure
/// code (`0x8…`/`0xC…`) in the message is that field. Nothing else is guessed.
fn failure_code_only(def: &crate::rules::events::EventDef, message: &str) -> Option<Vec<String>> {
    let first_is_code = def.layout == crate::rules::events::Layout::Positional
        && def.fields.first().is_some_and(|f| f.ends_with(":code"));
    if !first_is_code {
        return None;
    }
    let mut rest = message;
    while let Some(pos) = rest.to_ascii_lowercase().find("0x") {
        let tail = rest.get(pos..)?;
        if let Some(code) = crate::input::values::leading_code(tail)
            && code.0 & 0x8000_0000 != 0
        {
            return Some(vec![code.to_string()]);
        }
        rest = tail.get(2..)?;
    }
    None
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
        let events = normalize_all(
            &rules,
            &raws,
            "logs/ws09.evtx",
            InputFormat::Evtx,
            Keep::All,
        );
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
                let mut slab = Slab::default();
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
        let mut slab = Slab::default();
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
