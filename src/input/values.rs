//! The language-neutral value grammar: GUIDs, extended PIDs, installation IDs, partial keys,
//! `server:port`, IP addresses, result codes, "N minute(s) (M day(s))", dates in any order, and
//! channel tokens. These are what survive translation, so they carry slmgr files whose labels
//! kmsdiag does not know; the event readers use the same grammar for codes, GUIDs and dates in
//! event text. It knows the shapes of values, not which reader or field they come from.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use nom::IResult;
use nom::Parser;
use nom::bytes::complete::{tag, take_while_m_n, take_while1};
use nom::character::complete::{char, digit1, space0, space1};
use nom::combinator::{all_consuming, opt, recognize};
use nom::sequence::preceded;

use crate::hresult::{Hresult, read_number};
use crate::model::snapshot::{DateValue, HostPort};

/// A GUID (optionally in braces), lower-cased.
pub(crate) fn guid(s: &str) -> Option<String> {
    guid_in(s).map(std::borrow::Cow::into_owned)
}

/// Where a GUID's hyphens stand, as bits by position.
const GUID_HYPHENS: u64 = 1 << 8 | 1 << 13 | 1 << 18 | 1 << 23;

/// [`guid`], borrowed from `s` when it is already lower-case (as Windows writes them).
#[allow(clippy::needless_bitwise_bool)] // no short circuit: the check has no branch and vectorises
pub(crate) fn guid_in(s: &str) -> Option<std::borrow::Cow<'_, str>> {
    let t = crate::input::encoding::trim(s);
    let t = t
        .strip_prefix('{')
        .and_then(|r| r.strip_suffix('}'))
        .unwrap_or(t);
    // 8-4-4-4-12 hex digits: a fixed shape (millions of these in a host log).
    let Ok(b) = <&[u8; 36]>::try_from(t.as_bytes()) else {
        return None;
    };
    // Every byte checked by arithmetic, without a branch: a hyphen where one stands, a hex digit
    // everywhere else.
    let (mut valid, mut upper) = (true, false);
    for (i, &c) in b.iter().enumerate() {
        let at_hyphen = (GUID_HYPHENS >> i) & 1 == 1;
        let capital = c.wrapping_sub(b'A') < 6;
        let hex = (c.wrapping_sub(b'0') < 10) | (c.wrapping_sub(b'a') < 6) | capital;
        valid &= (at_hyphen & (c == b'-')) | (!at_hyphen & hex);
        upper |= capital;
    }
    if !valid {
        None
    } else if upper {
        Some(std::borrow::Cow::Owned(t.to_ascii_lowercase()))
    } else {
        Some(std::borrow::Cow::Borrowed(t))
    }
}

fn digits_n(n: usize) -> impl FnMut(&str) -> IResult<&str, &str> {
    move |i| take_while_m_n(n, n, |c: char| c.is_ascii_digit()).parse(i)
}

/// An extended PID (`55041-00140-015-871562-03-1033-7078.0000-0992009`).
pub(crate) fn is_extended_pid(s: &str) -> bool {
    let build = |i| take_while_m_n(4, 5, |c: char| c.is_ascii_digit()).parse(i);
    all_consuming((
        digits_n(5),
        char('-'),
        digits_n(5),
        char('-'),
        digits_n(3),
        char('-'),
        digits_n(6),
        char('-'),
        digits_n(2),
        char('-'),
        digits_n(4),
        char('-'),
        build,
        char('.'),
        digits_n(4),
        char('-'),
        digits_n(7),
    ))
    .parse(s.trim())
    .is_ok()
}

/// An installation ID: a long run of digits (54 or 63 of them).
pub(crate) fn is_installation_id(s: &str) -> bool {
    let t = s.trim();
    t.len() >= 40 && t.chars().all(|c| c.is_ascii_digit())
}

/// A partial product key: the last five characters of a key.
pub(crate) fn partial_key(s: &str) -> Option<String> {
    let t = s.trim();
    (t.len() == 5
        && t.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && t.chars().any(|c| c.is_ascii_uppercase()))
    .then(|| t.to_owned())
}

/// A product key channel (`Volume:GVLK`, `Volume:MAK`, `Volume:CSVLK`, `Retail`, `OEM:DM`,
/// `Retail:TB:Eval`, …).
pub(crate) fn is_product_key_channel(s: &str) -> bool {
    let t = s.trim();
    let mut parts = t.split(':');
    let first = parts.next().unwrap_or("");
    matches!(first, "Volume" | "Retail" | "OEM")
        && parts.all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
}

/// A software licensing service version (`10.0.17763.1039`).
pub(crate) fn is_version(s: &str) -> bool {
    let t = s.trim();
    let parts: Vec<&str> = t.split('.').collect();
    parts.len() == 4
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 6 && p.chars().all(|c| c.is_ascii_digit()))
}

fn host_name(i: &str) -> IResult<&str, &str> {
    take_while1(|c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')).parse(i)
}

fn bracketed_v6(i: &str) -> IResult<&str, &str> {
    recognize((
        char('['),
        take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.'),
        char(']'),
    ))
    .parse(i)
}

/// `server:port` (`kms01.contoso.com:1688`, `10.0.0.5:1688`, `[fe80::1]:1688`).
pub(crate) fn host_port(s: &str) -> Option<HostPort> {
    let t = s.trim();
    let (_, (host, _, port)) = all_consuming((
        nom::branch::alt((bracketed_v6, host_name)),
        char(':'),
        take_while_m_n(1, 5, |c: char| c.is_ascii_digit()),
    ))
    .parse(t)
    .ok()?;
    let port: u16 = port.parse().ok()?;
    // A time of day ("17:52") is not a host.
    if host.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    Some(HostPort {
        host: host.to_owned(),
        port: if port == 0 { 1688 } else { port },
    })
}

/// An IPv4 or IPv6 address.
pub(crate) fn ip_address(s: &str) -> Option<String> {
    s.trim()
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|ip| ip.to_string())
}

/// A result code at the start of a value (`0xC004F00F.`, `0xC004F009 (grace time expired).`).
pub(crate) fn leading_code(s: &str) -> Option<Hresult> {
    let t = s.trim_start();
    let (Some(b'0'), Some(b'x' | b'X'), Some(digits)) = (
        t.as_bytes().first(),
        t.as_bytes().get(1),
        t.as_bytes().get(2..),
    ) else {
        return None;
    };
    // The usual spelling, `0x` and one to eight digits: read directly as they come (the general
    // reader's answer for it, without its search); a ninth digit says it is not that spelling.
    let (value, n) = digits
        .iter()
        .map_while(|d| char::from(*d).to_digit(16))
        .take(9)
        .fold((0u32, 0usize), |(v, n), d| ((v << 4) | d, n + 1));
    if (1..=8).contains(&n) {
        return Some(Hresult(value));
    }
    // Hex digits are ASCII: counted by byte, the end is a char boundary.
    let end = 2 + digits.iter().take_while(|b| b.is_ascii_hexdigit()).count();
    read_number(t.get(..end)?).ok().flatten().map(|r| r.value)
}

/// .NET's JSON date as Windows PowerShell writes it, `/Date(1700000000000)/` (milliseconds since
/// 1970, UTC), also with escaped slashes (`\/Date(…)\/`) and a zone after the number
/// (`/Date(1700000000000+0100)/`: the number is UTC either way).
pub(crate) fn dotnet_json_date(raw: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    let ms = raw
        .trim()
        .trim_matches('\\')
        .strip_prefix("/Date(")?
        .split(')')
        .next()?;
    let end = ms
        .char_indices()
        .skip(1)
        .find(|(_, c)| *c == '+' || *c == '-')
        .map_or(ms.len(), |(i, _)| i);
    let ms: i64 = ms.get(..end)?.parse().ok()?;
    chrono::DateTime::from_timestamp_millis(ms)
}

/// Any `0x` code inside a text (`Error: 0xC004F074 The Software …`).
pub(crate) fn code_in(s: &str) -> Option<Hresult> {
    let pos = s.to_ascii_lowercase().find("0x")?;
    leading_code(s.get(pos..)?)
}

fn number(i: &str) -> IResult<&str, u64> {
    digit1.map_res(str::parse::<u64>).parse(i)
}

/// "243720 minute(s) (169 day(s))", "43162 minutes (29 days)", "259197 分钟(180天)",
/// "11820 minute(s)": the minutes and, when printed, the days.
pub(crate) fn minutes(s: &str) -> Option<(u64, Option<u64>)> {
    let t = s.trim();
    let (rest, mins) = number(t).ok()?;
    // "12" alone is a count, not a duration: a unit word must follow the number.
    let unit = rest.trim_start();
    if unit.is_empty() || unit.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    // The day count is the first "(" followed by a number; "minute(s)" has one without.
    let days = rest.match_indices('(').find_map(|(i, _)| {
        let after = rest.get(i + 1..)?.trim_start();
        number(after).ok().map(|(_, n)| n)
    });
    Some((mins, days))
}

/// The first whole number in a value ("120 minutes" → 120).
pub(crate) fn first_number(s: &str) -> Option<u64> {
    let t = s.trim_start();
    let start = t.find(|c: char| c.is_ascii_digit())?;
    number(t.get(start..)?).ok().map(|(_, n)| n)
}

/// A value that is a whole number and nothing else.
pub(crate) fn whole_number(s: &str) -> Option<i64> {
    let t = s.trim();
    let digits = t.strip_prefix('-').unwrap_or(t);
    if digits.is_empty() || digits.len() > 18 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    t.parse().ok()
}

/// A date as printed, before day/month order is decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RawDate {
    pub text: String,
    parts: DateParts,
}

/// The numbers of a printed date, without its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateParts {
    a: u32,
    b: u32,
    c: u32,
    sep: char,
    time: Option<(u32, u32, u32)>,
    /// Some(true) for PM, Some(false) for AM.
    pm: Option<bool>,
}

impl DateParts {
    /// The order this date's numbers force, if they force one.
    pub(crate) fn forced_order(&self) -> Option<&'static str> {
        if self.a > 31 {
            Some("ymd")
        } else if self.a > 12 {
            Some("dmy")
        } else if self.b > 12 {
            Some("mdy")
        } else {
            None
        }
    }

    /// The order to guess when nothing forces one: 12-hour clocks are US style, dots are
    /// European, dashes and slashes with a 24-hour clock are taken as day first.
    pub(crate) fn default_order(&self) -> &'static str {
        if self.pm.is_some() { "mdy" } else { "dmy" }
    }

    /// The date and time read in `order` (a forced order wins), and the order used.
    pub(crate) fn datetime(&self, order: &'static str) -> (Option<NaiveDateTime>, &'static str) {
        let order = self.forced_order().unwrap_or(order);
        let (year, month, day) = match order {
            "ymd" => (self.a, self.b, self.c),
            "mdy" => (self.c, self.a, self.b),
            _ => (self.c, self.b, self.a),
        };
        let year = if year < 100 { year + 2000 } else { year };
        let (mut hour, minute, second) = self.time.unwrap_or((0, 0, 0));
        match self.pm {
            Some(true) if hour < 12 => hour += 12,
            Some(false) if hour == 12 => hour = 0,
            _ => {}
        }
        let date = i32::try_from(year)
            .ok()
            .and_then(|y| NaiveDate::from_ymd_opt(y, month, day));
        let time = NaiveTime::from_hms_opt(hour, minute, second);
        (date.zip(time).map(|(d, t)| NaiveDateTime::new(d, t)), order)
    }
}

impl RawDate {
    /// The order this date's numbers force, if they force one.
    pub(crate) fn forced_order(&self) -> Option<&'static str> {
        self.parts.forced_order()
    }

    /// See [`DateParts::default_order`].
    pub(crate) fn default_order(&self) -> &'static str {
        self.parts.default_order()
    }

    /// Reads the date in the given order (`forced_order` wins over `order`).
    pub(crate) fn resolve(&self, order: &'static str) -> DateValue {
        let (parsed, order) = self.parts.datetime(order);
        DateValue {
            text: self.text.clone(),
            parsed,
            order: Some(order),
            ambiguous: self.parts.forced_order().is_none() && self.parts.a != self.parts.b,
        }
    }
}

fn date_sep(i: &str) -> IResult<&str, char> {
    nom::branch::alt((char('/'), char('.'), char('-'))).parse(i)
}

fn clock(i: &str) -> IResult<&str, (u32, u32, u32)> {
    let n2 = |i| digit1.map_res(str::parse::<u32>).parse(i);
    let (i, (h, _, m, s)) = (n2, char(':'), n2, opt(preceded(char(':'), n2))).parse(i)?;
    Ok((i, (h, m, s.unwrap_or(0))))
}

fn meridiem(i: &str) -> IResult<&str, bool> {
    nom::branch::alt((
        tag("PM").map(|_| true),
        tag("pm").map(|_| true),
        tag("下午").map(|_| true),
        tag("AM").map(|_| false),
        tag("am").map(|_| false),
        tag("上午").map(|_| false),
    ))
    .parse(i)
}

/// A date with an optional time (`7/5/2025 9:13:33 AM`, `05.07.2025 09:13:33`, `2020/2/27 11:48:43`,
/// `2025-07-05 09:13 UTC`, `2020/2/27 上午 11:48:43`).
pub(crate) fn date(input: &str) -> Option<RawDate> {
    let parts = date_parts(input)?;
    Some(RawDate {
        text: crate::input::encoding::trim(input).to_owned(),
        parts,
    })
}

/// [`date`]'s numbers, without copying the text (event payloads read millions).
pub(crate) fn date_parts(input: &str) -> Option<DateParts> {
    let text = crate::input::encoding::trim(input);
    plain_date(text).or_else(|| grammar_date(text))
}

/// [`date_parts`] by the full grammar: meridiems, `UTC`, a zone in parentheses.
fn grammar_date(text: &str) -> Option<DateParts> {
    let num = |i| digit1.map_res(str::parse::<u32>).parse(i);
    let (rest, (first, sep, second, _, third)) =
        (num, date_sep, num, date_sep, num).parse(text).ok()?;
    let (rest, pm_before) = opt(preceded(space1, meridiem)).parse(rest).ok()?;
    let (rest, time) = opt(preceded(space1, clock)).parse(rest).ok()?;
    let (rest, pm_after) = opt(preceded(space0, meridiem)).parse(rest).ok()?;
    let rest = rest.trim();
    if !(rest.is_empty() || rest.eq_ignore_ascii_case("utc") || rest.starts_with('(')) {
        return None;
    }
    Some(DateParts {
        a: first,
        b: second,
        c: third,
        sep,
        time,
        pm: pm_before.or(pm_after),
    })
}

/// The shape event payloads print, `N/N/N` or `N/N/N H:MM[:SS]` (any of `/ . -` between the
/// date's numbers), read without the grammar; `None` for anything else, which the grammar then
/// reads (so the answer is the grammar's either way).
#[allow(clippy::many_single_char_names)] // a, b, c: the date's numbers as DateParts names them
fn plain_date(text: &str) -> Option<DateParts> {
    let b = text.as_bytes();
    let mut i = 0;
    let num = |i: &mut usize| -> Option<u32> {
        let start = *i;
        let mut v: u32 = 0;
        while let Some(d) = b.get(*i).filter(|c| c.is_ascii_digit()) {
            v = v.checked_mul(10)?.checked_add(u32::from(d - b'0'))?;
            *i += 1;
        }
        (*i > start).then_some(v)
    };
    let sep_at = |i: usize| {
        b.get(i)
            .copied()
            .filter(|c| matches!(c, b'/' | b'.' | b'-'))
    };
    let a = num(&mut i)?;
    let sep = sep_at(i)?;
    i += 1;
    let second = num(&mut i)?;
    sep_at(i)?;
    i += 1;
    let third = num(&mut i)?;
    let time = match b.get(i) {
        None => None,
        Some(b' ') => {
            i += 1;
            let h = num(&mut i)?;
            (b.get(i) == Some(&b':')).then_some(())?;
            i += 1;
            let m = num(&mut i)?;
            let sec = if b.get(i) == Some(&b':') {
                i += 1;
                num(&mut i)?
            } else {
                0
            };
            (i == b.len()).then_some(())?;
            Some((h, m, sec))
        }
        Some(_) => return None,
    };
    Some(DateParts {
        a,
        b: second,
        c: third,
        sep: char::from(sep),
        time,
        pm: None,
    })
}

/// The channel token at the end of a description ("…, `VOLUME_KMSCLIENT` channel"), repaired when
/// a copy mangled it (`VOLUME\_KMSCLIENT`, `VOLUME-KMSCLIENT`).
pub(crate) fn channel(description: &str) -> Option<String> {
    let words: Vec<&str> = description.split_whitespace().collect();
    let idx = words.iter().rposition(|w| {
        w.trim_end_matches(['.', ','])
            .eq_ignore_ascii_case("channel")
    });
    let token = match idx {
        Some(i) if i > 0 => words.get(i - 1).copied(),
        _ => words.iter().rev().copied().find(|w| looks_like_channel(w)),
    }?;
    let token = token.trim_matches(|c: char| c == ',' || c == '.');
    let repaired = repair_channel(token);
    looks_like_channel(&repaired).then_some(repaired)
}

fn looks_like_channel(token: &str) -> bool {
    let raw = token.trim_matches(|c: char| c == ',' || c == '.');
    // Windows prints channel tokens in capitals; "retail" in a sentence is not one.
    if raw
        .replace("(Grace)", "")
        .chars()
        .any(|c| c.is_ascii_lowercase())
    {
        return false;
    }
    let t = repair_channel(raw);
    [
        "VOLUME_",
        "RETAIL",
        "OEM_",
        "TIMEBASED_",
        "VIRTUAL_MACHINE_ACTIVATION",
        "ENVIRONMENT",
    ]
    .iter()
    .any(|p| t.starts_with(p))
}

/// Undoes what Markdown escaping and retyping do to channel names.
pub(crate) fn repair_channel(token: &str) -> String {
    let mut t = token.replace("\\_", "_").to_ascii_uppercase();
    for prefix in ["VOLUME", "OEM", "TIMEBASED"] {
        for bad in ['-', ' '] {
            let from = format!("{prefix}{bad}");
            if t.starts_with(&from) {
                t = format!("{prefix}_{}", t.get(from.len()..).unwrap_or(""));
            }
        }
    }
    if t.starts_with("VIRTUAL") {
        t = t.replace('-', "_");
    }
    t
}

#[cfg(test)]
mod tests;
