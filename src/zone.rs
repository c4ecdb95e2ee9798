//! The time zone reports show times in (`--tz`): UTC by default, the machine's local zone, a
//! fixed offset or an IANA zone name. Only times that carry their offset are converted; slmgr's
//! local times (no offset) are shown as printed.

use chrono::{DateTime, FixedOffset, Local, SecondsFormat, TimeZone, Utc};

/// A display time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Zone {
    #[default]
    Utc,
    /// The zone of the machine kmsdiag runs on.
    Local,
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl Zone {
    /// Reads `utc`, `local`, `+02:00` / `-0530` / `+2`, or an IANA name (`Europe/Berlin`).
    pub fn parse(s: &str) -> Result<Zone, String> {
        let t = s.trim();
        if t.eq_ignore_ascii_case("utc") || t.eq_ignore_ascii_case("z") || t == "+00:00" {
            return Ok(Zone::Utc);
        }
        if t.eq_ignore_ascii_case("local") {
            return Ok(Zone::Local);
        }
        if let Some(rest) = t.strip_prefix(['+', '-']) {
            let sign = if t.starts_with('-') { -1 } else { 1 };
            let (h, m) = match rest.split_once(':') {
                Some((h, m)) => (h, m),
                None if rest.len() == 4 => rest.split_at(2),
                None => (rest, "0"),
            };
            let (Ok(h), Ok(m)) = (h.parse::<i32>(), m.parse::<i32>()) else {
                return Err(format!(
                    "`{s}` is not an offset; write it as +02:00 or -05:30"
                ));
            };
            if h > 14 || m > 59 {
                return Err(format!(
                    "`{s}` is out of range: offsets run from -14:00 to +14:00"
                ));
            }
            return FixedOffset::east_opt(sign * (h * 3600 + m * 60))
                .map(Zone::Fixed)
                .ok_or_else(|| {
                    format!("`{s}` is out of range: offsets run from -14:00 to +14:00")
                });
        }
        t.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!(
                "`{s}` is not a time zone kmsdiag knows; use utc, local, an offset such as +02:00, or a zone name such as Europe/Berlin"
            )
        })
    }

    /// How reports name the zone: `UTC`, `+02:00`, `Europe/Berlin`, `local (+01:00)`.
    pub fn label(self) -> String {
        match self {
            Zone::Utc => "UTC".to_owned(),
            Zone::Local => format!("local ({})", Local::now().format("%:z")),
            Zone::Fixed(o) => o.to_string(),
            Zone::Named(tz) => tz.name().to_owned(),
        }
    }

    /// `t` (RFC 3339) in this zone, RFC 3339 again (`…Z` for UTC); any other text unchanged.
    pub fn show(self, t: &str) -> String {
        match DateTime::parse_from_rfc3339(t) {
            Ok(dt) => self.rfc3339(dt.with_timezone(&Utc)),
            Err(_) => t.to_owned(),
        }
    }

    /// `t` in this zone, as `2026-10-05 10:14` — for prose and tables.
    pub fn short(self, t: &str) -> String {
        match DateTime::parse_from_rfc3339(t) {
            Ok(dt) => self.format(dt.with_timezone(&Utc), "%Y-%m-%d %H:%M"),
            Err(_) => t.replacen('T', " ", 1),
        }
    }

    /// A UTC instant in this zone, RFC 3339.
    pub fn rfc3339(self, t: DateTime<Utc>) -> String {
        match self {
            Zone::Utc => t.to_rfc3339_opts(SecondsFormat::Secs, true),
            Zone::Local => t
                .with_timezone(&Local)
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            Zone::Fixed(o) => o
                .from_utc_datetime(&t.naive_utc())
                .to_rfc3339_opts(SecondsFormat::Secs, false),
            Zone::Named(tz) => tz
                .from_utc_datetime(&t.naive_utc())
                .to_rfc3339_opts(SecondsFormat::Secs, false),
        }
    }

    /// A UTC instant in this zone with a `chrono` format string.
    pub fn format(self, t: DateTime<Utc>, fmt: &str) -> String {
        match self {
            Zone::Utc => t.format(fmt).to_string(),
            Zone::Local => t.with_timezone(&Local).format(fmt).to_string(),
            Zone::Fixed(o) => o.from_utc_datetime(&t.naive_utc()).format(fmt).to_string(),
            Zone::Named(tz) => tz.from_utc_datetime(&t.naive_utc()).format(fmt).to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_spelling() {
        assert_eq!(Zone::parse("UTC"), Ok(Zone::Utc));
        assert_eq!(Zone::parse("local"), Ok(Zone::Local));
        let two = Zone::Fixed(FixedOffset::east_opt(7200).unwrap_or_else(|| unreachable!()));
        assert_eq!(Zone::parse("+02:00"), Ok(two));
        assert_eq!(Zone::parse("+0200"), Ok(two));
        assert_eq!(Zone::parse("+2"), Ok(two));
        assert!(
            matches!(Zone::parse("-05:30"), Ok(Zone::Fixed(o)) if o.local_minus_utc() == -19800)
        );
        assert!(matches!(Zone::parse("Europe/Berlin"), Ok(Zone::Named(_))));
        assert!(Zone::parse("+15:00").is_err());
        assert!(Zone::parse("Mars/Olympus").is_err());
        assert!(Zone::parse("+ab").is_err());
    }

    #[test]
    fn converts_times_with_offsets_only() {
        let berlin = Zone::parse("Europe/Berlin").unwrap_or_default();
        assert_eq!(
            berlin.show("2026-10-14T08:12:00Z"),
            "2026-10-14T10:12:00+02:00"
        );
        // After the change to winter time.
        assert_eq!(
            berlin.show("2026-11-02T08:12:00Z"),
            "2026-11-02T09:12:00+01:00"
        );
        assert_eq!(berlin.short("2026-10-14T08:12:00Z"), "2026-10-14 10:12");
        // slmgr's local times carry no offset: shown as printed.
        assert_eq!(berlin.show("2026-10-14T08:12:00"), "2026-10-14T08:12:00");
        assert_eq!(
            Zone::Utc.show("2026-10-14T10:12:00+02:00"),
            "2026-10-14T08:12:00Z"
        );
    }
}
