//! A decoded event's payload as the analysis keeps it: the raw strings and the typed fields in
//! one text buffer and one slice of fixed-size slots — two allocations per event however many
//! fields it has, the field names shared with the catalogue.
//!
//! A host log holds hundreds of thousands of events that all stay in memory until the report is
//! built; a map of owned strings per event cost about three times as much.

use std::borrow::Cow;
use std::sync::Arc;

use chrono::NaiveDateTime;
use serde::ser::{Serialize, Serializer};

use crate::hresult::Hresult;

/// A decoded payload value, borrowed from its event. Serialized as JSON scalars: codes and flags
/// as `0x` + 8 hex digits, times as `YYYY-MM-DDTHH:MM:SS` (the client's local clock), the rest
/// as printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldValue<'a> {
    Code(Hresult),
    Flags(u32),
    Int(i64),
    Bool(bool),
    Time(NaiveDateTime),
    Guid(&'a str),
    Text(&'a str),
}

impl Serialize for FieldValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FieldValue::Code(c) => s.collect_str(c),
            FieldValue::Flags(f) => s.collect_str(&format_args!("0x{f:08X}")),
            FieldValue::Int(i) => s.serialize_i64(*i),
            FieldValue::Bool(b) => s.serialize_bool(*b),
            FieldValue::Time(t) => s.collect_str(&t.format("%Y-%m-%dT%H:%M:%S")),
            FieldValue::Guid(g) | FieldValue::Text(g) => s.serialize_str(g),
        }
    }
}

/// A value on its way into a payload: its text borrowed from the raw strings when it is a piece
/// of them (it is then not copied again), else owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Draft<'a> {
    Code(Hresult),
    Flags(u32),
    Int(i64),
    Bool(bool),
    Time(NaiveDateTime),
    Guid(Cow<'a, str>),
    Text(Cow<'a, str>),
}

/// What a catalogue layout gives every event it decodes, shared by them: the event's name and
/// its field names in slot order (sorted, each once).
#[derive(Debug, PartialEq, Eq)]
pub struct Shape {
    pub name: Arc<str>,
    pub names: Box<[Arc<str>]>,
}

/// Where a text is in the payload's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Span {
    start: u32,
    len: u32,
}

/// One field or raw string: 16 bytes whatever it holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Absent,
    Code(Hresult),
    Flags(u32),
    Int(i64),
    Bool(bool),
    Time(NaiveDateTime),
    Guid(Span),
    Text(Span),
}

/// An event's payload: its original data strings, in order with empty ones kept, and its decoded
/// fields by name.
#[derive(Debug, Clone, Default)]
pub struct Payload {
    /// The event's name and field names (none for an event the catalogue does not decode).
    shape: Option<Arc<Shape>>,
    /// The raw strings back to back, then any decoded text that is not a piece of them.
    text: Box<str>,
    /// One per name (`Absent` when the event lacks it), then one `Text` per raw string.
    slots: Box<[Slot]>,
}

impl Payload {
    /// A payload of `raw` strings and `fields` (slot index in `names`, value). A field given
    /// twice keeps the later value; an index outside `names` is ignored.
    pub fn build<'a, S: AsRef<str>>(
        shape: Option<Arc<Shape>>,
        raw: &[S],
        fields: impl IntoIterator<Item = (usize, Draft<'a>)>,
    ) -> Payload {
        let n = shape.as_ref().map_or(0, |s| s.names.len());
        // Where a borrowed piece of a raw string sits in the buffer, if it is one.
        let within = |s: &str| -> Option<usize> {
            let p = s.as_ptr() as usize;
            let mut at = 0;
            for r in raw {
                let r = r.as_ref();
                let b = r.as_ptr() as usize;
                if p >= b && p + s.len() <= b + r.len() {
                    return Some(at + (p - b));
                }
                at += r.len();
            }
            None
        };
        // Exactly the raw strings' size: decoded text is nearly always a piece of them.
        let mut text = String::with_capacity(raw.iter().map(|r| r.as_ref().len()).sum());
        let mut slots = vec![Slot::Absent; n + raw.len()];
        let span = |start: usize, len: usize| -> Option<Span> {
            Some(Span {
                start: u32::try_from(start).ok()?,
                len: u32::try_from(len).ok()?,
            })
        };
        for (r, slot) in raw.iter().zip(slots.iter_mut().skip(n)) {
            let r = r.as_ref();
            if let Some(s) = span(text.len(), r.len()) {
                *slot = Slot::Text(s);
            }
            text.push_str(r);
        }
        for (i, d) in fields {
            let Some(slot) = slots.get_mut(i).filter(|_| i < n) else {
                continue;
            };
            let mut place = |t: &str| {
                let start = within(t).unwrap_or_else(|| {
                    let at = text.len();
                    text.push_str(t);
                    at
                });
                span(start, t.len())
            };
            *slot = match d {
                Draft::Code(c) => Slot::Code(c),
                Draft::Flags(f) => Slot::Flags(f),
                Draft::Int(i) => Slot::Int(i),
                Draft::Bool(b) => Slot::Bool(b),
                Draft::Time(t) => Slot::Time(t),
                Draft::Guid(t) => place(&t).map_or(Slot::Absent, Slot::Guid),
                Draft::Text(t) => place(&t).map_or(Slot::Absent, Slot::Text),
            };
        }
        Payload {
            shape,
            text: text.into_boxed_str(),
            slots: slots.into_boxed_slice(),
        }
    }

    fn text(&self, s: Span) -> &str {
        let start = s.start as usize;
        self.text.get(start..start + s.len as usize).unwrap_or("")
    }

    fn value(&self, slot: Slot) -> Option<FieldValue<'_>> {
        Some(match slot {
            Slot::Absent => return None,
            Slot::Code(c) => FieldValue::Code(c),
            Slot::Flags(f) => FieldValue::Flags(f),
            Slot::Int(i) => FieldValue::Int(i),
            Slot::Bool(b) => FieldValue::Bool(b),
            Slot::Time(t) => FieldValue::Time(t),
            Slot::Guid(s) => FieldValue::Guid(self.text(s)),
            Slot::Text(s) => FieldValue::Text(self.text(s)),
        })
    }

    fn names(&self) -> &[Arc<str>] {
        self.shape.as_deref().map_or(&[], |s| &s.names)
    }

    /// The catalogue's name for the event, when the catalogue decodes it.
    pub fn name(&self) -> Option<&str> {
        self.shape.as_deref().map(|s| &*s.name)
    }

    /// The value of a field (a dozen names at most: a scan that compares lengths first beats a
    /// search).
    pub fn get(&self, name: &str) -> Option<FieldValue<'_>> {
        let i = self
            .names()
            .iter()
            .position(|k| k.len() == name.len() && **k == *name)?;
        self.value(*self.slots.get(i)?)
    }

    /// The decoded fields, by name.
    pub fn fields(&self) -> impl Iterator<Item = (&str, FieldValue<'_>)> {
        self.names()
            .iter()
            .zip(self.slots.iter())
            .filter_map(|(k, s)| Some((&**k, self.value(*s)?)))
    }

    /// Whether any field was decoded.
    pub fn has_fields(&self) -> bool {
        self.fields().next().is_some()
    }

    /// The original data strings, in order, empty ones kept.
    pub fn raw(&self) -> impl ExactSizeIterator<Item = &str> {
        self.slots
            .get(self.names().len()..)
            .unwrap_or(&[])
            .iter()
            .map(|s| match s {
                Slot::Text(s) => self.text(*s),
                _ => "",
            })
    }

    /// The raw strings joined by `sep`.
    pub fn raw_joined(&self, sep: &str) -> String {
        self.raw().collect::<Vec<_>>().join(sep)
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
pub struct FieldsJson<'a>(pub &'a Payload);

impl Serialize for FieldsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.fields())
    }
}

/// A payload's raw strings as a JSON array.
pub struct RawJson<'a>(pub &'a Payload);

impl Serialize for RawJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.0.raw())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: &[&str]) -> Arc<Shape> {
        Arc::new(Shape {
            name: Arc::from("test"),
            names: n.iter().map(|s| Arc::from(*s)).collect(),
        })
    }

    #[test]
    fn fields_are_found_by_name_and_raw_strings_kept_in_order() {
        let raw = ["0x0,pc01".to_owned(), String::new(), "x".to_owned()];
        let piece = raw.first().and_then(|r| r.get(4..)).unwrap_or("");
        let p = Payload::build(
            Some(names(&["code", "host", "id", "note"])),
            &raw,
            vec![
                (0, Draft::Code(Hresult(0))),
                (1, Draft::Text(Cow::Borrowed(piece))),
                (
                    2,
                    Draft::Guid(Cow::Owned("7f3e1a55-27f8-4950-8877-7a03be5fb181".into())),
                ),
                (9, Draft::Int(1)),
            ],
        );
        assert_eq!(p.get("code"), Some(FieldValue::Code(Hresult(0))));
        assert_eq!(p.get("host"), Some(FieldValue::Text("pc01")));
        assert_eq!(
            p.get("id"),
            Some(FieldValue::Guid("7f3e1a55-27f8-4950-8877-7a03be5fb181"))
        );
        assert_eq!(p.get("note"), None);
        assert_eq!(p.get("hos"), None);
        assert_eq!(p.raw().collect::<Vec<_>>(), ["0x0,pc01", "", "x"]);
        // The borrowed piece was not copied: only the owned GUID was added to the buffer.
        assert_eq!(p.text.len(), 9 + 36);
        assert_eq!(
            serde_json::to_string(&FieldsJson(&p)).unwrap(),
            r#"{"code":"0x00000000","host":"pc01","id":"7f3e1a55-27f8-4950-8877-7a03be5fb181"}"#
        );
        assert_eq!(
            serde_json::to_string(&RawJson(&p)).unwrap(),
            r#"["0x0,pc01","","x"]"#
        );
    }

    #[test]
    fn a_field_given_twice_keeps_the_later_value_and_equality_ignores_layout() {
        let raw = ["a".to_owned()];
        let first = Payload::build(
            Some(names(&["k"])),
            &raw,
            vec![(0, Draft::Int(1)), (0, Draft::Text(Cow::Owned("a".into())))],
        );
        assert_eq!(first.get("k"), Some(FieldValue::Text("a")));
        let borrowed = Payload::build(
            Some(names(&["k"])),
            &raw,
            vec![(0, Draft::Text(Cow::Borrowed(raw[0].as_str())))],
        );
        assert_ne!(first.text, borrowed.text);
        assert_eq!(first, borrowed);
        let none = Payload::build(None, &raw, Vec::new());
        assert!(!none.has_fields());
        assert_ne!(first, none);
    }
}
