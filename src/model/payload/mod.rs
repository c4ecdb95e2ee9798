//! A decoded event's payload as the analysis keeps it: the raw strings and the typed fields in
//! fixed-size slots and their text, written for a whole batch of events (an `.evtx` chunk) into
//! buffers the batch shares — no allocation of its own per event — the field names shared with
//! the catalogue.
//!
//! A host log holds hundreds of thousands of events that all stay in memory until the report is
//! built; a map of owned strings per event cost about three times as much.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::ser::{Serialize, Serializer};

use crate::hresult::Hresult;
use crate::rules::events::Shape;

/// A decoded payload value, its text of type `T`. Serialized as JSON scalars: codes and flags as
/// `0x` + 8 hex digits, times as `YYYY-MM-DDTHH:MM:SS` (the client's local clock), the rest as
/// printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<T> {
    Code(Hresult),
    Flags(u32),
    Int(i64),
    Bool(bool),
    Time(NaiveDateTime),
    Guid(T),
    Text(T),
}

/// A value as read from an event, borrowed from it.
pub(crate) type FieldValue<'a> = Value<&'a str>;

/// A value on its way into a payload: its text borrowed from the raw strings when it is a piece
/// of them (it is then not copied again), else owned.
pub(crate) type Draft<'a> = Value<Cow<'a, str>>;

impl<T: AsRef<str>> Serialize for Value<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Code(c) => s.collect_str(c),
            Value::Flags(f) => s.collect_str(&format_args!("0x{f:08X}")),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Time(t) => s.collect_str(&t.format("%Y-%m-%dT%H:%M:%S")),
            Value::Guid(g) | Value::Text(g) => s.serialize_str(g.as_ref()),
        }
    }
}

/// Where a text is in the payload's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

/// One field or raw string, as read back from a payload's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Absent,
    Code(Hresult),
    Flags(u32),
    Int(i64),
    Bool(bool),
    Time(Moment),
    Guid(Span),
    Text(Span),
}

/// Bytes a slot takes in the buffer: a tag and two little-endian `u32` words.
const SLOT: usize = 9;

impl Slot {
    fn encode(self) -> [u8; SLOT] {
        let (tag, a, b): (u8, u32, u32) = match self {
            Slot::Absent => (0, 0, 0),
            Slot::Code(c) => (1, c.0, 0),
            Slot::Flags(f) => (2, f, 0),
            Slot::Int(i) => {
                let [lo, hi] = halves(i);
                (3, lo, hi)
            }
            Slot::Bool(v) => (4, u32::from(v), 0),
            Slot::Time(m) => (5, u32::from_le_bytes(m.days.to_le_bytes()), m.secs),
            Slot::Guid(s) => (6, s.start, s.len),
            Slot::Text(s) => (7, s.start, s.len),
        };
        let (a, b) = (a.to_le_bytes(), b.to_le_bytes());
        [tag, a[0], a[1], a[2], a[3], b[0], b[1], b[2], b[3]]
    }

    fn decode(bytes: &[u8]) -> Slot {
        let &[tag, a0, a1, a2, a3, b0, b1, b2, b3] = bytes else {
            return Slot::Absent;
        };
        let (a, b) = (
            u32::from_le_bytes([a0, a1, a2, a3]),
            u32::from_le_bytes([b0, b1, b2, b3]),
        );
        let span = Span { start: a, len: b };
        match tag {
            1 => Slot::Code(Hresult(a)),
            2 => Slot::Flags(a),
            3 => Slot::Int(whole([a, b])),
            4 => Slot::Bool(a != 0),
            5 => Slot::Time(Moment {
                days: i32::from_le_bytes(a.to_le_bytes()),
                secs: b,
            }),
            6 => Slot::Guid(span),
            7 => Slot::Text(span),
            _ => Slot::Absent,
        }
    }
}

/// A time to the second: days since 1 January of year 1, seconds into the day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Moment {
    days: i32,
    secs: u32,
}

impl Moment {
    /// `None` for a time with a fraction of a second: client times are read to the second (they
    /// are written to the minute), so there is none.
    fn of(t: NaiveDateTime) -> Option<Moment> {
        use chrono::{Datelike, Timelike};
        (t.nanosecond() == 0).then(|| Moment {
            days: t.num_days_from_ce(),
            secs: t.num_seconds_from_midnight(),
        })
    }

    fn time(self) -> Option<NaiveDateTime> {
        let day = chrono::NaiveDate::from_num_days_from_ce_opt(self.days)?;
        let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(self.secs, 0)?;
        Some(day.and_time(time))
    }
}

fn halves(i: i64) -> [u32; 2] {
    let b = i.to_le_bytes();
    [
        u32::from_le_bytes([b[0], b[1], b[2], b[3]]),
        u32::from_le_bytes([b[4], b[5], b[6], b[7]]),
    ]
}

fn whole([lo, hi]: [u32; 2]) -> i64 {
    let (l, h) = (lo.to_le_bytes(), hi.to_le_bytes());
    i64::from_le_bytes([l[0], l[1], l[2], l[3], h[0], h[1], h[2], h[3]])
}

/// An event's payload: its original data strings, in order with empty ones kept, and its decoded
/// fields by name.
#[derive(Debug, Clone, Default)]
pub(crate) struct Payload {
    /// The event's name and field names (none for an event the catalogue does not decode).
    shape: Option<Arc<Shape>>,
    /// The buffers the payload is in, shared by the events read in one batch (one allocation
    /// per `.evtx` chunk, not one per event): its slots from `at` (one per name, `Absent` when
    /// the event lacks it, then one `Text` per raw string) and its text from `text_at` (the raw
    /// strings back to back, then any decoded text that is not a piece of them).
    slab: Option<Arc<Sealed>>,
    at: u32,
    text_at: u32,
    /// How many slots it has.
    slots: u32,
}

/// A batch's payloads, sealed: the slots (binary) and the text (always whole strings, so kept as
/// text and sliced without checking it again).
#[derive(Debug)]
struct Sealed {
    slots: Box<[u8]>,
    text: Box<str>,
}

/// Payloads being written for a batch of events, then sealed into buffers they share.
#[derive(Debug, Default)]
pub(crate) struct Slab {
    slots: Vec<u8>,
    text: String,
}

impl Slab {
    /// Writes a payload of `raw` strings and `fields` (slot index in the shape's names, value);
    /// it reads as empty until [`Slab::seal`]. A field given twice keeps the later value; an
    /// index outside the names is ignored.
    pub(crate) fn build<'a, S: AsRef<str>>(
        &mut self,
        shape: Option<Arc<Shape>>,
        raw: &[S],
        fields: impl IntoIterator<Item = (usize, Draft<'a>)>,
    ) -> Payload {
        self.build_with(shape, raw, |w| {
            for (i, d) in fields {
                w.put(i, d);
            }
        })
    }

    /// [`Slab::build`], the fields given by `fields` through [`Writer::put`] as it finds them
    /// (a decoder that splits a string writes each piece as it is cut, collecting none).
    pub(crate) fn build_with<S: AsRef<str>>(
        &mut self,
        shape: Option<Arc<Shape>>,
        raw: &[S],
        fields: impl FnOnce(&mut Writer<'_, '_, S>),
    ) -> Payload {
        let n = shape.as_ref().map_or(0, |s| s.names.len());
        let count = n + raw.len();
        let (start, base) = (self.slots.len(), self.text.len());
        let (Ok(slots), Ok(at), Ok(text_at)) = (
            u32::try_from(count),
            u32::try_from(start),
            u32::try_from(base),
        ) else {
            return Payload::default();
        };
        self.slots.resize(start + count * SLOT, 0);
        let mut w = Writer {
            slab: self,
            raw,
            n,
            start,
            base,
        };
        for (i, r) in raw.iter().enumerate() {
            let r = r.as_ref();
            if let Some(s) = span(w.slab.text.len() - base, r.len()) {
                w.write(n + i, Slot::Text(s));
            }
            w.slab.text.push_str(r);
        }
        fields(&mut w);
        Payload {
            shape,
            slab: None,
            at,
            text_at,
            slots,
        }
    }

    /// Makes room for a batch's raw strings, `text` bytes in all: the text buffer is then handed
    /// over at its size (only text decoded anew, rare, makes it grow).
    pub(crate) fn reserve(&mut self, text: usize) {
        self.text.reserve_exact(text);
    }

    /// Gives the payloads written since the last seal their buffers, shared: the slots copied
    /// out to their length (their room is kept for the next batch), the text handed over.
    pub(crate) fn seal<'p>(&mut self, payloads: impl IntoIterator<Item = &'p mut Payload>) {
        if self.slots.is_empty() {
            return;
        }
        let sealed = Arc::new(Sealed {
            slots: Box::from(self.slots.as_slice()),
            text: std::mem::take(&mut self.text).into_boxed_str(),
        });
        self.slots.clear();
        for p in payloads {
            if p.slab.is_none() {
                p.slab = Some(sealed.clone());
            }
        }
    }
}

/// A payload being written by [`Slab::build_with`]: its raw strings are in place, its fields
/// are put one by one.
pub(crate) struct Writer<'s, 'r, S> {
    slab: &'s mut Slab,
    raw: &'r [S],
    /// How many named slots come before the raw strings'.
    n: usize,
    /// Where the payload's slots and text start in the slab.
    start: usize,
    base: usize,
}

// Inlined into the decoder's loop whatever the compiler's estimate: the host log's 1.3 million
// fields run 3% fewer instructions (callgrind) than with the calls kept.
#[allow(clippy::inline_always)]
impl<S: AsRef<str>> Writer<'_, '_, S> {
    /// Sets field `i` (a slot index in the shape's names; one outside them is ignored). Text that
    /// is a piece of a raw string is not copied again.
    #[inline(always)]
    pub(crate) fn put(&mut self, i: usize, d: Draft<'_>) {
        if i >= self.n {
            return;
        }
        let slot = match d {
            Draft::Code(c) => Slot::Code(c),
            Draft::Flags(f) => Slot::Flags(f),
            Draft::Int(i) => Slot::Int(i),
            Draft::Bool(b) => Slot::Bool(b),
            Draft::Time(t) => Moment::of(t).map_or(Slot::Absent, Slot::Time),
            Draft::Guid(t) => self.place(&t).map_or(Slot::Absent, Slot::Guid),
            Draft::Text(t) => self.place(&t).map_or(Slot::Absent, Slot::Text),
        };
        self.write(i, slot);
    }

    /// Where a text is in the payload's text: its place in a raw string when it is a piece of
    /// one, else appended.
    #[inline(always)]
    fn place(&mut self, t: &str) -> Option<Span> {
        let p = t.as_ptr() as usize;
        let mut at = 0;
        let mut within = None;
        for r in self.raw {
            let r = r.as_ref();
            let b = r.as_ptr() as usize;
            if p >= b && p + t.len() <= b + r.len() {
                within = Some(at + (p - b));
                break;
            }
            at += r.len();
        }
        let start = within.unwrap_or_else(|| {
            let at = self.slab.text.len() - self.base;
            self.slab.text.push_str(t);
            at
        });
        span(start, t.len())
    }

    #[inline(always)]
    fn write(&mut self, i: usize, slot: Slot) {
        let at = self.start + i * SLOT;
        if let Some(b) = self.slab.slots.get_mut(at..at + SLOT) {
            b.copy_from_slice(&slot.encode());
        }
    }
}

/// A text's place, `None` when it does not fit the buffer's 32-bit offsets.
fn span(start: usize, len: usize) -> Option<Span> {
    Some(Span {
        start: u32::try_from(start).ok()?,
        len: u32::try_from(len).ok()?,
    })
}

impl Payload {
    fn slot(&self, i: usize) -> Slot {
        let at = self.at as usize + i * SLOT;
        self.slab
            .as_deref()
            .and_then(|s| s.slots.get(at..at + SLOT))
            .map_or(Slot::Absent, Slot::decode)
    }

    /// A span of its text.
    fn text(&self, s: Span) -> &str {
        let start = self.text_at as usize + s.start as usize;
        self.slab
            .as_deref()
            .and_then(|b| b.text.get(start..start + s.len as usize))
            .unwrap_or("")
    }

    fn value(&self, slot: Slot) -> Option<FieldValue<'_>> {
        Some(match slot {
            Slot::Absent => return None,
            Slot::Code(c) => FieldValue::Code(c),
            Slot::Flags(f) => FieldValue::Flags(f),
            Slot::Int(i) => FieldValue::Int(i),
            Slot::Bool(b) => FieldValue::Bool(b),
            Slot::Time(t) => FieldValue::Time(t.time()?),
            Slot::Guid(s) => FieldValue::Guid(self.text(s)),
            Slot::Text(s) => FieldValue::Text(self.text(s)),
        })
    }

    fn names(&self) -> &[Arc<str>] {
        self.shape.as_deref().map_or(&[], |s| &s.names)
    }

    /// The catalogue's name for the event, when the catalogue decodes it.
    pub(crate) fn name(&self) -> Option<&str> {
        self.shape.as_deref().map(|s| &*s.name)
    }

    /// The value of a field.
    pub(crate) fn get(&self, name: &str) -> Option<FieldValue<'_>> {
        self.value(self.slot(self.shape.as_deref()?.slot(name)?))
    }

    /// The decoded fields, by name.
    pub(crate) fn fields(&self) -> impl Iterator<Item = (&str, FieldValue<'_>)> {
        self.names()
            .iter()
            .enumerate()
            .filter_map(|(i, k)| Some((&**k, self.value(self.slot(i))?)))
    }

    /// The original data strings, in order, empty ones kept.
    pub(crate) fn raw(&self) -> impl ExactSizeIterator<Item = &str> {
        (self.names().len()..self.slots as usize).map(|i| match self.slot(i) {
            Slot::Text(s) => self.text(s),
            _ => "",
        })
    }

    /// The raw strings joined by `sep`.
    pub(crate) fn raw_joined(&self, sep: &str) -> String {
        self.raw().collect::<Vec<_>>().join(sep)
    }
}

/// A few fields read from many payloads: each name's slot is found once per event layout (the
/// events of a log share a handful), not once per event, so a pass over a host's hundreds of
/// thousands of requests compares no names.
#[derive(Debug)]
pub(crate) struct Fields<const N: usize> {
    names: [&'static str; N],
    /// The layout last met (held, so its address cannot be reused) and where each name is in it.
    last: Option<(Arc<Shape>, [Option<usize>; N])>,
}

impl<const N: usize> Fields<N> {
    pub(crate) fn new(names: [&'static str; N]) -> Fields<N> {
        Fields { names, last: None }
    }

    /// The values of the names, in their order (`None` where the payload has none).
    pub(crate) fn get<'p>(&mut self, p: &'p Payload) -> [Option<FieldValue<'p>>; N] {
        let Some(shape) = &p.shape else {
            return [None; N];
        };
        let slots = match &self.last {
            Some((s, slots)) if Arc::ptr_eq(s, shape) => *slots,
            _ => {
                let slots = self.names.map(|n| shape.slot(n));
                self.last = Some((shape.clone(), slots));
                slots
            }
        };
        slots.map(|i| i.and_then(|i| p.value(p.slot(i))))
    }
}

/// Equal when the name, the fields and the raw strings are, however the buffer is laid out.
impl PartialEq for Payload {
    fn eq(&self, other: &Payload) -> bool {
        self.name() == other.name()
            && self.fields().eq(other.fields())
            && self.raw().eq(other.raw())
    }
}

/// A payload's fields as a JSON object, by name.
pub(crate) struct FieldsJson<'a>(pub &'a Payload);

impl Serialize for FieldsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.fields())
    }
}

/// A payload's raw strings as a JSON array.
pub(crate) struct RawJson<'a>(pub &'a Payload);

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.raw())
    }
}

#[cfg(test)]
mod tests;
