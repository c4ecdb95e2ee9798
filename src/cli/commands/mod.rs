//! Subcommand handlers, one file per subcommand: each reads and checks its flags, calls the
//! library, and writes the answer through a renderer in `report`; none formats output itself.
//! They return the exit status; they never exit themselves. This file holds what several share:
//! reading time flags and the default thread count.

pub(crate) mod analyze;
pub(crate) mod events;
pub(crate) mod host_count;
pub(crate) mod lookup;
pub(crate) mod rules;
pub(crate) mod slmgr;
pub(crate) mod synth;

use chrono::{NaiveDate, NaiveDateTime};

use crate::cli::ExitStatus;
use crate::report;

/// A time flag whose value is not a time.
#[derive(Debug, thiserror::Error)]
#[error("{flag} `{value}` is not a time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS")]
pub(crate) struct TimeFlagError {
    /// The flag as typed, e.g. `--now`.
    pub flag: &'static str,
    pub value: String,
}

/// Reads `--now`: `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM[:SS]` or `YYYY-MM-DD HH:MM[:SS]`.
pub(crate) fn parse_now(s: &str) -> Option<NaiveDateTime> {
    let t = s.trim();
    for f in [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
            return Some(d);
        }
    }
    NaiveDate::parse_from_str(t, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
}

/// A time flag's value: `None` when the flag was not given.
pub(crate) fn time_flag(
    flag: &'static str,
    value: Option<&str>,
) -> Result<Option<NaiveDateTime>, TimeFlagError> {
    value
        .map(|v| {
            parse_now(v).ok_or_else(|| TimeFlagError {
                flag,
                value: v.to_owned(),
            })
        })
        .transpose()
}

/// Says `message` as an error on stderr; the command then exits with [`ExitStatus::Error`].
fn error(message: &str) -> ExitStatus {
    report::diagnostic("error", message);
    ExitStatus::Error
}

/// The threads to use when not told: one per CPU.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_flags_read_every_spelling_and_name_a_bad_one() {
        let noon = NaiveDate::from_ymd_opt(2025, 6, 1)
            .and_then(|d| d.and_hms_opt(12, 30, 0))
            .unwrap();
        assert_eq!(time_flag("--now", None).unwrap(), None);
        for v in [
            "2025-06-01T12:30",
            "2025-06-01 12:30:00",
            " 2025-06-01T12:30:00 ",
        ] {
            assert_eq!(time_flag("--now", Some(v)).unwrap(), Some(noon), "{v}");
        }
        assert_eq!(
            parse_now("2025-06-01"),
            NaiveDate::from_ymd_opt(2025, 6, 1).and_then(|d| d.and_hms_opt(0, 0, 0))
        );
        let e = time_flag("--since", Some("yesterday")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--since `yesterday` is not a time: use YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS"
        );
    }
}
