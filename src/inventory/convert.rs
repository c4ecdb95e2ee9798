//! A property's value the way WMI and its exports write it, read into a typed value: uint32 with
//! 4294967295 for "does not apply", HRESULTs as unsigned (or signed) decimals, `LicenseStatus`
//! numbers (through `licensing.toml`), DMTF datetimes (`20240101120000.000000+000`), PowerShell
//! 5's `/Date(ms)/`, ISO 8601 and culture-formatted dates, with 1601-01-01 meaning "none".

use chrono::{DateTime, NaiveDateTime};

use crate::hresult::Hresult;
use crate::model::license::LicenseState;
use crate::model::snapshot::DateValue;
use crate::rules::Rules;
use crate::rules::inventory::ValueKind;

/// A value read.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Value {
    /// Empty (or JSON `null`).
    Empty,
    Text(String),
    Number(u64),
    /// The uint32 "does not apply" value.
    NotApplicable,
    Signed(i64),
    State(LicenseState),
    Code(Hresult),
    /// A date; `None` for WMI's "no date".
    Date(Option<DateValue>),
    Flag(bool),
    /// Not in the value's expected shape (kept as printed).
    Unreadable(String),
}

/// Reads `raw` as a value of `kind`.
pub(super) fn convert(rules: &Rules, kind: ValueKind, raw: &str) -> Value {
    let raw = raw.trim();
    if raw.is_empty() {
        return Value::Empty;
    }
    let conv = &rules.inventory().conversions;
    let unreadable = || Value::Unreadable(raw.to_owned());
    match kind {
        ValueKind::Text => Value::Text(raw.to_owned()),
        ValueKind::Guid => crate::input::values::guid(raw).map_or_else(unreadable, Value::Text),
        ValueKind::PartialKey => {
            crate::input::values::partial_key(raw).map_or_else(unreadable, Value::Text)
        }
        ValueKind::LicenseStatus => {
            license_status(rules, raw).map_or_else(unreadable, Value::State)
        }
        ValueKind::Hresult => hresult(raw).map_or_else(unreadable, Value::Code),
        ValueKind::Minutes | ValueKind::Count => match raw.parse::<u64>() {
            Ok(n) if n == conv.not_applicable => Value::NotApplicable,
            Ok(n) => Value::Number(n),
            Err(_) => unreadable(),
        },
        ValueKind::Rearm => match raw.parse::<i64>() {
            Ok(n) if u64::try_from(n).is_ok_and(|u| u == conv.not_applicable) => Value::Signed(-1),
            Ok(n) => Value::Signed(n),
            Err(_) => unreadable(),
        },
        ValueKind::Port => match raw.parse::<u16>() {
            Ok(n) => Value::Number(u64::from(n)),
            Err(_) => unreadable(),
        },
        ValueKind::Flag => match raw.to_ascii_lowercase().as_str() {
            "true" | "1" => Value::Flag(true),
            "false" | "0" => Value::Flag(false),
            _ => unreadable(),
        },
        ValueKind::Datetime => date(raw, conv.no_date_year).unwrap_or_else(unreadable),
    }
}

/// A `LicenseStatus` number, or the text slmgr prints for it.
fn license_status(rules: &Rules, raw: &str) -> Option<LicenseState> {
    let entry = match raw.parse::<u32>() {
        Ok(n) => rules.license_status(n),
        Err(_) => rules
            .license_statuses()
            .find(|e| e.slmgr.iter().any(|t| t.eq_ignore_ascii_case(raw))),
    }?;
    LicenseState::ALL
        .into_iter()
        .find(|s| s.as_str() == entry.id)
}

/// An HRESULT as an unsigned decimal (`3221549172`), a signed one (`-1073418124`) or in hex.
pub(super) fn hresult(raw: &str) -> Option<Hresult> {
    if let Ok(n) = raw.parse::<u32>() {
        return Some(Hresult(n));
    }
    if let Ok(n) = raw.parse::<i32>() {
        return Some(Hresult(n.cast_unsigned()));
    }
    crate::input::values::leading_code(raw)
}

/// A date in any of the forms exports write (`Value::Date(None)` for "no date": the year WMI
/// uses for a datetime never set, or earlier); `None` when `raw` is no date.
pub(super) fn date(raw: &str, no_date_year: i32) -> Option<Value> {
    use chrono::Datelike;
    let (parsed, order) = if let Some(t) = dmtf(raw).or_else(|| json_date(raw)).or_else(|| iso(raw))
    {
        (t, "ymd")
    } else {
        let d = crate::input::values::date(raw)?;
        let v = d.resolve(d.forced_order().unwrap_or_else(|| d.default_order()));
        return Some(Value::Date(
            v.parsed.filter(|t| t.year() > no_date_year).map(|_| v),
        ));
    };
    Some(Value::Date((parsed.year() > no_date_year).then(|| {
        DateValue {
            text: raw.to_owned(),
            parsed: Some(parsed),
            order: Some(order),
            ambiguous: false,
        }
    })))
}

/// `yyyymmddHHMMSS.mmmmmm±UUU`: the machine's local time (the offset is its zone's).
fn dmtf(raw: &str) -> Option<NaiveDateTime> {
    let digits = raw.get(..14)?;
    let rest = raw.get(14..)?;
    let ok = digits.bytes().all(|b| b.is_ascii_digit())
        && rest.len() == 11
        && rest.starts_with('.')
        && matches!(rest.as_bytes().get(7), Some(b'+' | b'-'));
    if !ok {
        return None;
    }
    NaiveDateTime::parse_from_str(digits, "%Y%m%d%H%M%S").ok()
}

/// Windows PowerShell's JSON date (`crate::input::values::dotnet_json_date`), as UTC wall time.
fn json_date(raw: &str) -> Option<NaiveDateTime> {
    crate::input::values::dotnet_json_date(raw).map(|t| t.naive_utc())
}

/// ISO 8601 (PowerShell 7's JSON, SQL result exports): the wall time as written.
fn iso(raw: &str) -> Option<NaiveDateTime> {
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.naive_local());
    }
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
}
