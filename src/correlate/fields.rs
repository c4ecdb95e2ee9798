//! Typed reads of an activation event's payload fields (a code, a number, a text, a flag, the
//! client's own clock) for the correlation.

use chrono::NaiveDateTime;

use crate::events::{ActivationEvent, FieldValue};
use crate::hresult::Hresult;

pub(super) fn field<'a>(e: &'a ActivationEvent, name: &str) -> Option<FieldValue<'a>> {
    e.payload.get(name)
}

/// A decoded result code of an event.
pub(crate) fn code(e: &ActivationEvent, name: &str) -> Option<Hresult> {
    code_of(field(e, name)?)
}

pub(super) fn code_of(v: FieldValue<'_>) -> Option<Hresult> {
    match v {
        FieldValue::Code(c) => Some(c),
        _ => None,
    }
}

pub(super) fn int(e: &ActivationEvent, name: &str) -> Option<i64> {
    int_of(field(e, name)?)
}

pub(super) fn int_of(v: FieldValue<'_>) -> Option<i64> {
    match v {
        FieldValue::Int(i) => Some(i),
        _ => None,
    }
}

pub(super) fn text(e: &ActivationEvent, name: &str) -> Option<String> {
    text_ref(e, name).map(str::to_owned)
}

/// A text field, trimmed, borrowed from the event.
pub(super) fn text_ref<'a>(e: &'a ActivationEvent, name: &str) -> Option<&'a str> {
    text_of(field(e, name)?)
}

pub(super) fn text_of(v: FieldValue<'_>) -> Option<&str> {
    match v {
        FieldValue::Text(t) | FieldValue::Guid(t) => Some(crate::input::encoding::trim(t)),
        _ => None,
    }
}

pub(super) fn boolean(e: &ActivationEvent, name: &str) -> Option<bool> {
    match field(e, name)? {
        FieldValue::Bool(b) => Some(b),
        FieldValue::Int(i) => Some(i != 0),
        _ => None,
    }
}

pub(super) fn client_time(e: &ActivationEvent) -> Option<NaiveDateTime> {
    match field(e, "client_time")? {
        FieldValue::Time(t) => Some(t),
        _ => None,
    }
}
