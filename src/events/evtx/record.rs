//! One record, as the pre-filter reads it: its template instance and values, whether `select`
//! wants it (decided from the provider, then the event id, before anything else is rendered),
//! and when it does, its System fields and `EventData` strings written over the record read
//! before it. Each shape it does not read gives the [`Decline`] that hands the chunk to the crate.
//! It knows a record's elements, not the chunk around it (`chunk.rs`).
//!
//! The steps of a record (provider, id, qualifiers, time, system fields, content) are functions
//! of their own for reading, and `#[inline(always)]` for running: kept as calls, they cost 3% more
//! instructions on a KMS host's log (callgrind, one thread), where every record takes each step.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::cursor::{Cursor, utf16, utf16_into};
use super::decline::Decline;
use super::layout::{FILETIME_TICKS, FILETIME_UNIX_OFFSET};
use super::template::{
    Child, Content, Element, Plan, Select, Templates, attr, instance_header, literal_decision, nth,
};
use super::values::{Subs, Value, render, render_attr, render_into, substitutions};
use crate::events::RawEvent;

/// A template instance at `c`: the template (cached by offset) and the substitution values.
fn instance<'a, 'v>(
    c: &mut Cursor<'a>,
    templates: &mut Templates,
    scratch: &'v mut Vec<(usize, usize, u8)>,
) -> Result<(usize, Subs<'a, 'v>), Decline> {
    let def = instance_header(c, templates, None)?;
    Ok((def, substitutions(c, scratch)?))
}

/// Decides whether the record whose binary XML is `size` bytes at `at` is wanted and, when it
/// is, writes it over `ev` (its data strings reused); `Err` when it cannot tell (the chunk goes
/// to the crate).
pub(super) fn decode_record(
    chunk: &[u8],
    at: usize,
    size: usize,
    templates: &mut Templates,
    select: &Select<'_>,
    scratch: &mut [Vec<(usize, usize, u8)>; 2],
    ev: &mut RawEvent,
) -> Result<bool, Decline> {
    let [outer, inner] = scratch;
    let mut c = Cursor::at(chunk, at);
    let def = instance_header(&mut c, templates, Some(select))?;
    let template = templates.entry(def).ok_or(Decline::NoTemplate)?;
    // A provider written as literal text in the template decides every record of it at once.
    if template.provider.get() == Some(&Some(false)) {
        return Ok(false);
    }
    let root = template.root.clone()?;
    if &*root.name != "Event" {
        return Err(Decline::RootNotEvent);
    }
    let plan = *template.plan.get_or_init(|| Plan::of(&root));
    let system = nth(&root, plan.system).ok_or(Decline::NoSystem)?;
    let provider_el = nth(system, plan.provider).ok_or(Decline::NoProvider)?;
    let decided = *template
        .provider
        .get_or_init(|| literal_decision(&provider_el.attrs, select));
    if decided == Some(false) {
        return Ok(false);
    }
    let values = substitutions(&mut c, outer)?;
    if c.pos > at + size {
        return Err(Decline::ValuesPastRecord);
    }
    if left_out(system, &values)
        || [
            plan.provider,
            plan.event_id,
            plan.time_created,
            plan.level,
            plan.record_id,
            plan.channel,
            plan.computer,
        ]
        .into_iter()
        .any(|at| nth(system, at).is_some_and(|e| left_out(e, &values)))
    {
        return Err(Decline::LeftOut);
    }
    let Some((provider, source)) = provider(provider_el, &values, decided, select)? else {
        return Ok(false);
    };
    let eid_el = nth(system, plan.event_id).ok_or(Decline::NoEventId)?;
    let event_id = event_id(eid_el, &values)?;
    if !(select.event_id)(event_id) {
        return Ok(false);
    }
    let fields = System {
        provider,
        source,
        event_id,
        qualifiers: qualifiers(eid_el, &values)?,
        time_created: time_created(system, &plan, &values)?,
        level: number_of(system, plan.level, &values)?.and_then(|l| u32::try_from(l).ok()),
        record_id: number_of(system, plan.record_id, &values)?,
        channel: text_of(system, plan.channel, &values)?,
        computer: text_of(system, plan.computer, &values)?,
    };
    let data = write_system(ev, fields);
    if !event_content(&root, &values, chunk, templates, inner, data)? {
        data.clear();
    }
    Ok(true)
}

/// A name a record gives: shared with its template, or made for it.
type Name<'t> = Cow<'t, Arc<str>>;

/// The System fields of a wanted record.
struct System<'t> {
    provider: Name<'t>,
    source: Option<Name<'t>>,
    event_id: u32,
    qualifiers: Option<u32>,
    time_created: Option<DateTime<Utc>>,
    level: Option<u32>,
    record_id: Option<u64>,
    channel: Option<Name<'t>>,
    computer: Option<Name<'t>>,
}

/// The record's provider (its name, else its GUID) and event source name, when `select` wants
/// the provider; `None` when it does not. Literal text is shared with the template, not copied
/// per record.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn provider<'t>(
    el: &'t Element,
    values: &Subs<'_, '_>,
    decided: Option<bool>,
    select: &Select<'_>,
) -> Result<Option<(Name<'t>, Option<Name<'t>>)>, Decline> {
    let name = provider_attr(el, "Name", values)?;
    let source = provider_attr(el, "EventSourceName", values)?;
    // The GUID is rendered only when the name does not decide (or is missing). A template whose
    // literal names were picked has decided already.
    let by_name = decided == Some(true)
        || [name.as_deref(), source.as_deref()]
            .into_iter()
            .flatten()
            .any(|p| (select.provider)(p));
    let guid = if by_name && name.is_some() {
        None
    } else {
        provider_attr(el, "Guid", values)?
    };
    // A record that names no provider at all has the empty name, as the crate's JSON gives it.
    let nameless = name.is_none() && source.is_none() && guid.is_none();
    let wanted = by_name
        || guid.as_deref().is_some_and(|g| (select.provider)(g))
        || (nameless && (select.provider)(""));
    if !wanted {
        return Ok(None);
    }
    Ok(Some((name.or(guid).unwrap_or_default(), source)))
}

/// One of the provider's attributes.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn provider_attr<'t>(
    el: &'t Element,
    name: &str,
    values: &Subs<'_, '_>,
) -> Result<Option<Name<'t>>, Decline> {
    match attr(el, name) {
        None => Ok(None),
        Some([Content::Text(t)]) => Ok(Some(Cow::Borrowed(t))),
        Some(v) => Ok(render_attr(v, values)?.map(|r| Cow::Owned(Arc::from(r)))),
    }
}

/// The event id `EventID` holds: read straight from its substitution when that is all it holds.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn event_id(el: &Element, values: &Subs<'_, '_>) -> Result<u32, Decline> {
    match el.children.as_slice() {
        [Child::Content(Content::Sub(id))] => match values.get(*id) {
            Some(Value::Num(n)) => u32::try_from(n).map_err(|_| Decline::EventId),
            _ => Err(Decline::EventId),
        },
        other => render(other, values)?
            .trim()
            .parse()
            .map_err(|_| Decline::EventId),
    }
}

/// `EventID`'s `Qualifiers` attribute, a number: read straight from its substitution.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn qualifiers(el: &Element, values: &Subs<'_, '_>) -> Result<Option<u32>, Decline> {
    let Some(v) = attr(el, "Qualifiers") else {
        return Ok(None);
    };
    if let [Content::Sub(id)] = v
        && let Some(Value::Num(q)) = values.get(*id)
    {
        return Ok(u32::try_from(q).ok());
    }
    Ok(render_attr(v, values)?.and_then(|q| q.trim().parse().ok()))
}

/// `TimeCreated`'s `SystemTime`, from its FILETIME substitution.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn time_created(
    system: &Element,
    plan: &Plan,
    values: &Subs<'_, '_>,
) -> Result<Option<DateTime<Utc>>, Decline> {
    match nth(system, plan.time_created).and_then(|t| attr(t, "SystemTime")) {
        Some([Content::Sub(id)]) => match values.get(*id) {
            Some(Value::FileTime(ft)) => Ok(filetime(ft)),
            Some(Value::Null) | None => Ok(None),
            _ => Err(Decline::TimeCreated),
        },
        Some(_) => Err(Decline::TimeCreated),
        None => Ok(None),
    }
}

/// The text of System's element at `at`, trimmed.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn text_of<'t>(
    system: &'t Element,
    at: Option<usize>,
    values: &Subs<'_, '_>,
) -> Result<Option<Name<'t>>, Decline> {
    match nth(system, at).map(|e| e.children.as_slice()) {
        None => Ok(None),
        Some([Child::Content(Content::Text(t))]) => Ok(Some(trimmed(t))),
        Some(other) => Ok(Some(Cow::Owned(Arc::from(crate::input::encoding::trim(
            &render(other, values)?,
        ))))),
    }
}

/// The number System's element at `at` holds: read straight from its substitution when that is
/// all the element holds.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn number_of(
    system: &Element,
    at: Option<usize>,
    values: &Subs<'_, '_>,
) -> Result<Option<u64>, Decline> {
    match nth(system, at).map(|e| e.children.as_slice()) {
        None => Ok(None),
        Some([Child::Content(Content::Sub(id))]) => match values.get(*id) {
            Some(Value::Num(v)) => Ok(Some(v)),
            Some(Value::Null) | None => Ok(None),
            Some(Value::Text(t)) => Ok(utf16(t).trim().parse().ok()),
            Some(_) => Err(Decline::NumberValue(values.type_of(*id))),
        },
        Some(other) => Ok(render(other, values)?.trim().parse().ok()),
    }
}

/// Writes a wanted record's System fields over the record last written to `ev`, field by field:
/// a name it shares with this record (the template's) is neither cloned nor dropped. Returns
/// its data strings, kept for [`event_content`] to write over.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn write_system<'e>(ev: &'e mut RawEvent, f: System<'_>) -> &'e mut Vec<String> {
    let RawEvent {
        provider,
        event_source_name,
        event_id,
        qualifiers,
        level,
        time_created,
        record_id,
        channel,
        computer,
        data,
        message,
        index,
        line,
    } = ev;
    put_name(provider, f.provider);
    put_optional_name(event_source_name, f.source);
    put_optional_name(channel, f.channel);
    put_optional_name(computer, f.computer);
    (*event_id, *qualifiers, *level) = (f.event_id, f.qualifiers, f.level);
    (*time_created, *record_id) = (f.time_created, f.record_id);
    (*message, *index, *line) = (None, 0, None);
    data
}

/// Writes `name` into `slot`, unless the slot already holds that very name.
fn put_name(slot: &mut Arc<str>, name: Name<'_>) {
    match name {
        Cow::Borrowed(n) if Arc::ptr_eq(slot, n) => {}
        n => *slot = n.into_owned(),
    }
}

/// [`put_name`] for a name a record may lack.
fn put_optional_name(slot: &mut Option<Arc<str>>, name: Option<Name<'_>>) {
    match (slot, name) {
        (Some(s), Some(n)) => put_name(s, n),
        (slot, n) => *slot = n.map(Cow::into_owned),
    }
}

/// A string without surrounding white space, copied only when it has some.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn trimmed(s: &Arc<str>) -> Name<'_> {
    let t = crate::input::encoding::trim(s);
    if t.len() == s.len() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(Arc::from(t))
    }
}

/// The record's `EventData` — literal in the template, or a nested fragment in a substitution —
/// written over `data` (see [`event_data`]); whether it has any. `UserData` and other elements
/// beside `System` are passed over: the crate's JSON keeps them under keys of their own, which
/// the event's strings are not read from.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn event_content(
    root: &Element,
    values: &Subs<'_, '_>,
    chunk: &[u8],
    templates: &mut Templates,
    inner: &mut Vec<(usize, usize, u8)>,
    data: &mut Vec<String>,
) -> Result<bool, Decline> {
    let mut has_data = false;
    for ch in &root.children {
        match ch {
            Child::Element(e) if left_out(e, values) => {}
            Child::Element(e) if &*e.name == "EventData" => {
                // A second `EventData` is keyed `EventData_1`: only the first is read.
                if has_data {
                    return Err(Decline::OtherContent);
                }
                event_data(e, values, data)?;
                has_data = true;
            }
            Child::Element(e) if passed_over(&e.name) => {}
            Child::Content(Content::Sub(id)) => match values.get(*id) {
                Some(Value::BinXml(off, len)) => {
                    if nested_content(chunk, off, len, templates, inner, data, has_data)? {
                        has_data = true;
                    }
                }
                Some(Value::Null) | None => {}
                _ => return Err(Decline::EventDataValue(values.type_of(*id))),
            },
            Child::Content(Content::Text(t)) if t.trim().is_empty() => {}
            // A rendering of the message, stray text: the crate renders those.
            Child::Element(_) | Child::Content(_) => return Err(Decline::OtherContent),
        }
    }
    Ok(has_data)
}

/// Elements of `Event` whose content no field is read from: `System` (read through the plan),
/// `UserData` and the rest of what manifests put there. `RenderingInfo` carries the message and
/// `EventData` the strings, so neither is passed over.
fn passed_over(name: &str) -> bool {
    !matches!(name, "EventData" | "RenderingInfo")
}

/// Whether the crate leaves `el` out of the record: it depends on a value that is null.
fn left_out(el: &Element, values: &Subs<'_, '_>) -> bool {
    el.dependency.is_some_and(|d| values.is_null(d))
}

/// The nested fragment of `len` bytes at `off` in `Event`'s content: its `EventData` written over
/// `data` (unless an `EventData` was read before it: `had_data`); whether it was one. A
/// `UserData` fragment is passed over.
#[inline(always)]
#[allow(clippy::inline_always)] // measured: see the module doc
fn nested_content(
    chunk: &[u8],
    off: usize,
    len: usize,
    templates: &mut Templates,
    inner: &mut Vec<(usize, usize, u8)>,
    data: &mut Vec<String>,
    had_data: bool,
) -> Result<bool, Decline> {
    let mut n = Cursor::at(chunk, off);
    let (d, inner) = instance(&mut n, templates, inner)?;
    if n.pos > off + len {
        return Err(Decline::FragmentPastValue);
    }
    let el = templates.get(d)?;
    match &*el.name {
        "EventData" if !had_data => {
            event_data(&el, &inner, data)?;
            Ok(true)
        }
        "UserData" => Ok(false),
        _ => Err(Decline::NotEventData),
    }
}

/// The data strings of an `EventData` element, written over the strings in `out` (each cleared,
/// its room kept: a record's strings go where the last record's were), as the crate's JSON gives
/// them: each unnamed `Data` element's text — one per item where it holds a string array, which
/// repeats the element — and, when there is no `Data` at all, the text of the other elements
/// (`Binary`). Elements that depend on a null value are left out, as the crate leaves them.
fn event_data(el: &Element, values: &Subs<'_, '_>, out: &mut Vec<String>) -> Result<(), Decline> {
    let mut n = 0;
    let mut others = 0;
    for ch in &el.children {
        match ch {
            Child::Element(d) if left_out(d, values) => {}
            Child::Element(d) if &*d.name == "Data" => {
                let name = match attr(d, "Name") {
                    Some(v) => render_attr(v, values)?,
                    None => None,
                };
                // Named data renders as an object keyed by name in the crate's JSON: keep the
                // crate's answer for those.
                if name.is_some_and(|n| !n.is_empty()) {
                    return Err(Decline::NamedData);
                }
                data_text(d, values, out, &mut n)?;
            }
            Child::Element(_) => others += 1,
            Child::Content(Content::Text(t)) if t.trim().is_empty() => {}
            Child::Content(Content::Sub(id))
                if matches!(values.get(*id), Some(Value::Null) | None) => {}
            Child::Content(_) => return Err(Decline::EventDataContent),
        }
    }
    if n == 0 && others > 0 {
        for ch in &el.children {
            if let Child::Element(e) = ch
                && !left_out(e, values)
            {
                other_text(e, values, next_slot(out, &mut n)?)?;
            }
        }
    }
    out.truncate(n);
    Ok(())
}

/// The string slot `n` of `out`, cleared (its room kept), and `n` moved past it.
fn next_slot<'o>(out: &'o mut Vec<String>, n: &mut usize) -> Result<&'o mut String, Decline> {
    let i = *n;
    *n += 1;
    if i >= out.len() {
        out.push(String::new());
    }
    // Always there: the slots before `i` were filled first.
    let s = out.get_mut(i).ok_or(Decline::TooManyValues)?;
    s.clear();
    Ok(s)
}

/// One unnamed `Data` element's strings, from slot `n` of `out` on: its text, or one string per
/// item when its only content is a string array (the crate repeats the element per item; one
/// item or none renders as the element's text).
fn data_text(
    d: &Element,
    values: &Subs<'_, '_>,
    out: &mut Vec<String>,
    n: &mut usize,
) -> Result<(), Decline> {
    if let [Child::Content(Content::Sub(id))] = d.children.as_slice()
        && let Some(items) = values.get(*id).and_then(|v| v.array_items())
        && items.len() > 1
    {
        for item in items {
            utf16_into(item, next_slot(out, n)?);
        }
        return Ok(());
    }
    render_into(&d.children, values, next_slot(out, n)?)
}

/// The text of an element beside `Data` in `EventData` (`Binary`), as the crate's JSON gives
/// its value to the event's strings: its text, or nothing when it has attributes (an object).
fn other_text(e: &Element, values: &Subs<'_, '_>, out: &mut String) -> Result<(), Decline> {
    if !e.attrs.is_empty() || e.children.iter().any(|c| matches!(c, Child::Element(_))) {
        return Err(Decline::EventDataContent);
    }
    render_into(&e.children, values, out)
}

/// A FILETIME as a UTC time.
fn filetime(ft: u64) -> Option<DateTime<Utc>> {
    let secs = i64::try_from(ft / FILETIME_TICKS).ok()? - FILETIME_UNIX_OFFSET;
    let nanos = u32::try_from((ft % FILETIME_TICKS) * 100).ok()?;
    DateTime::from_timestamp(secs, nanos)
}
