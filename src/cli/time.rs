//! Reading a time a user typed (`--now`, `--since`, `--until`, and a rule sample's `now`): the
//! one parser for every flag, so each accepts every time kmsdiag itself prints. A time with `Z`
//! or an offset is converted to UTC; a time without one is taken as UTC. It knows chrono and the
//! accepted spellings, not what the time is used for.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime};

/// The accepted forms, for error messages and help.
pub(crate) const TIME_FORMS: &str = "2026-03-31, 2026-03-31T12:00, 2026-03-31T12:00:00, \
     2026-03-31T12:00:00.5Z, 2026-03-31T14:00:00+02:00 or -0500; a space may replace the T; \
     without Z or an offset the time is UTC";

/// A time flag whose value is not a time.
#[derive(Debug, thiserror::Error)]
#[error("{flag} `{value}` is not a time: use {TIME_FORMS}")]
pub(crate) struct TimeFlagError {
    /// The flag as typed, e.g. `--now`.
    pub flag: &'static str,
    pub value: String,
}

/// The date and time part, longest first: each leaves the zone (if any) as its remainder.
const DATE_TIMES: [&str; 4] = [
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d %H:%M",
];

/// Reads a time as UTC: `YYYY-MM-DD` (midnight), `YYYY-MM-DDTHH:MM`, with `:SS` and optional
/// fractional seconds, `T` or a space between date and time, then nothing (UTC), `Z`, `UTC`, or
/// an offset (`+02:00`, `-0500`, `+02`) which is converted to UTC.
pub(crate) fn parse_time(s: &str) -> Option<NaiveDateTime> {
    let t = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0);
    }
    DATE_TIMES.iter().find_map(|f| {
        let (local, rest) = NaiveDateTime::parse_and_remainder(t, f).ok()?;
        let offset = offset(rest)?;
        local.checked_sub_offset(offset)
    })
}

/// The zone after a time: none, `Z` or `UTC` (UTC), or an offset `+HH:MM`, `+HHMM`, `+HH`.
fn offset(rest: &str) -> Option<FixedOffset> {
    let r = rest.trim();
    if r.is_empty() || r.eq_ignore_ascii_case("z") || r.eq_ignore_ascii_case("utc") {
        return FixedOffset::east_opt(0);
    }
    if !r.starts_with(['+', '-']) {
        return None;
    }
    // `+02` alone: chrono wants the minutes.
    if r.len() == 3 {
        return format!("{r}:00").parse().ok();
    }
    r.parse().ok()
}

/// A time flag's value: `None` when the flag was not given.
pub(crate) fn time_flag(
    flag: &'static str,
    value: Option<&str>,
) -> Result<Option<NaiveDateTime>, TimeFlagError> {
    value
        .map(|v| {
            parse_time(v).ok_or_else(|| TimeFlagError {
                flag,
                value: v.to_owned(),
            })
        })
        .transpose()
}

#[cfg(test)]
mod tests;
