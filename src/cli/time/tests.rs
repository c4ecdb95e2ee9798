//! One test per accepted form of [`parse_time`], the refusals, and the flag error's wording.

use chrono::{NaiveDate, NaiveDateTime};

use super::{parse_time, time_flag};

fn at(h: u32, m: u32, s: u32, milli: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 3, 31)
        .and_then(|d| d.and_hms_milli_opt(h, m, s, milli))
        .unwrap_or_else(|| unreachable!())
}

#[test]
fn a_date_alone_is_midnight_utc() {
    assert_eq!(parse_time("2026-03-31"), Some(at(0, 0, 0, 0)));
}

#[test]
fn hours_and_minutes() {
    assert_eq!(parse_time("2026-03-31T12:00"), Some(at(12, 0, 0, 0)));
}

#[test]
fn with_seconds_as_the_json_report_writes_now() {
    assert_eq!(parse_time("2026-03-31T12:00:07"), Some(at(12, 0, 7, 0)));
}

#[test]
fn with_fractional_seconds() {
    assert_eq!(
        parse_time("2026-03-31T12:00:07.250"),
        Some(at(12, 0, 7, 250))
    );
    assert_eq!(
        parse_time("2026-03-31T12:00:07.25Z"),
        Some(at(12, 0, 7, 250))
    );
}

#[test]
fn with_z_as_evidence_times_are_written() {
    assert_eq!(parse_time("2026-03-31T12:00:00Z"), Some(at(12, 0, 0, 0)));
    assert_eq!(parse_time("2026-03-31T12:00:00z"), Some(at(12, 0, 0, 0)));
    assert_eq!(parse_time("2026-03-31T12:00Z"), Some(at(12, 0, 0, 0)));
    assert_eq!(parse_time("2026-03-31 12:00 UTC"), Some(at(12, 0, 0, 0)));
}

#[test]
fn an_offset_is_converted_to_utc() {
    assert_eq!(
        parse_time("2026-03-31T14:00:00+02:00"),
        Some(at(12, 0, 0, 0))
    );
    assert_eq!(
        parse_time("2026-03-31T07:00:00-0500"),
        Some(at(12, 0, 0, 0))
    );
    assert_eq!(parse_time("2026-03-31T14:00+02"), Some(at(12, 0, 0, 0)));
    assert_eq!(
        parse_time("2026-03-31 14:00:00 +02:00"),
        Some(at(12, 0, 0, 0))
    );
    // Across midnight.
    assert_eq!(
        parse_time("2026-04-01T01:30:00+13:30"),
        Some(at(12, 0, 0, 0))
    );
}

#[test]
fn a_space_instead_of_t_as_the_text_report_prints() {
    assert_eq!(parse_time("2026-03-31 12:00"), Some(at(12, 0, 0, 0)));
    assert_eq!(parse_time("2026-03-31 12:00:07"), Some(at(12, 0, 7, 0)));
    assert_eq!(parse_time(" 2026-03-31T12:00:07 "), Some(at(12, 0, 7, 0)));
}

#[test]
fn what_is_not_a_time_is_refused() {
    for s in [
        "",
        "yesterday",
        "2026-02-30",
        "2026-03-31T25:00",
        "2026-03-31T12",
        "2026-03-31T12:00:00+25:00",
        "2026-03-31T12:00:00 CET",
        "2026-03-31T12:00:00Zulu",
        "31/03/2026",
    ] {
        assert_eq!(parse_time(s), None, "{s}");
    }
}

#[test]
fn a_flag_not_given_is_none_and_a_bad_one_is_named_with_the_forms() {
    assert_eq!(time_flag("--now", None).ok(), Some(None));
    assert_eq!(
        time_flag("--now", Some("2026-03-31T12:00:00Z")).ok(),
        Some(Some(at(12, 0, 0, 0)))
    );
    let e = time_flag("--since", Some("yesterday"))
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        e.starts_with("--since `yesterday` is not a time: use 2026-03-31, "),
        "{e}"
    );
    assert!(e.contains("+02:00"), "{e}");
}
