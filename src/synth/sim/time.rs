//! What the passing of time does to a machine: its license state runs out (validity into grace,
//! grace into notification), and an office machine is only running on weekdays 08:00-18:00 of
//! its own time zone. No events are written here.

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};

use super::facts::GRACE_DAYS;
use super::machine::{License, SimMachine};

/// Applies the state changes time brings: validity runs out into grace, grace into notification.
pub(super) fn settle(mut l: License, t: DateTime<Utc>) -> License {
    loop {
        match (l.status, l.ends) {
            (1, Some(e)) if t >= e => {
                l = License {
                    status: 3,
                    ends: Some(e + Duration::days(GRACE_DAYS)),
                };
            }
            (2 | 3, Some(e)) if t >= e => {
                l = License {
                    status: 5,
                    ends: None,
                };
            }
            _ => return l,
        }
    }
}

/// The next moment at or after `t` the machine is running.
pub(super) fn on_time(t: DateTime<Utc>, m: &SimMachine) -> DateTime<Utc> {
    if !m.office_hours {
        return t;
    }
    let off = Duration::minutes(i64::from(m.utc_offset));
    let mut local = t + off;
    for _ in 0..8 {
        let workday = !matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        if workday && (8..18).contains(&local.hour()) {
            return local - off;
        }
        let day_start = local
            .date_naive()
            .and_hms_opt(8, 0, 0)
            .map_or(local, |d| d.and_utc());
        local = if workday && local.hour() < 8 {
            day_start
        } else {
            day_start + Duration::days(1)
        };
        // A few minutes after the machine is switched on.
        let jitter = m
            .short
            .bytes()
            .fold(0u32, |a, b| a.wrapping_add(u32::from(b)))
            % 40;
        local += Duration::minutes(i64::from(jitter));
    }
    local - off
}
