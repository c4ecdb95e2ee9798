//! Payload shapes of activation events: the comma-separated `Info` string (empty and trailing
//! fields kept), `key=value;` lists, and client times whose day/month order is decided against
//! the event's `TimeCreated`.

use std::borrow::Cow;

use chrono::{DateTime, NaiveDateTime, Utc};

use crate::input::encoding::trim;
use nom::bytes::complete::{take_till1, take_while};
use nom::character::complete::char;
use nom::combinator::rest;
use nom::multi::separated_list0;
use nom::sequence::separated_pair;
use nom::{IResult, Parser};

/// A list of fields separated by `sep`, each possibly empty.
fn fields(sep: char) -> impl FnMut(&str) -> IResult<&str, Vec<&str>> {
    move |i| separated_list0(char(sep), take_while(move |c| c != sep)).parse(i)
}

/// Splits an `Info` string at commas, trimming each field and keeping empty ones, including a
/// trailing one (`…, 5,` has an empty last field): positions never shift.
pub(crate) fn split_info(s: &str) -> Vec<String> {
    split_borrowed(s).into_iter().map(Cow::into_owned).collect()
}

/// [`split_info`], borrowing the fields (a host log decodes millions of these).
fn split_borrowed(s: &str) -> Vec<Cow<'_, str>> {
    let mut out = Vec::with_capacity(16);
    each_info_field(s, |f| out.push(Cow::Borrowed(f)));
    out
}

const COMMAS: u64 = 0x2C2C_2C2C_2C2C_2C2C;
const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;

/// 0x80 in exactly the bytes of an eight-byte word that are commas (no carry crosses a byte).
fn comma_mask(word: &[u8]) -> u64 {
    let x = word.try_into().map_or(0, u64::from_le_bytes) ^ COMMAS;
    !((((x & LOW7) + LOW7) | x) | LOW7)
}

/// The comma masks of a string's eight-byte words in order, its last few bytes as a word of
/// their own padded with zeros (never commas).
fn comma_words(b: &[u8]) -> impl Iterator<Item = u64> + '_ {
    let words = b.chunks_exact(8);
    let mut tail = [0u8; 8];
    if let Some(t) = tail.get_mut(..words.remainder().len()) {
        t.copy_from_slice(words.remainder());
    }
    words
        .map(comma_mask)
        .chain(std::iter::once(comma_mask(&tail)))
}

/// The most fields an `Info` string is cut into in one pass (the catalogue's events have at most
/// ten); a layout with more is split by [`split_info`] instead.
pub(crate) const CUT_FIELDS: usize = 32;

/// The fields of an `Info` string, as [`split_info`] cuts them, when it has no more than `fields`
/// (at most [`CUT_FIELDS`]): its commas found in one pass, eight bytes a step. `None` when it has
/// more — a comma inside a text field, or a layout newer than the rules — and must be split whole.
pub(crate) fn info_fields(s: &str, fields: usize) -> Option<InfoFields<'_>> {
    if fields > CUT_FIELDS {
        return None;
    }
    let most_commas = fields.checked_sub(1)?;
    let mut ends = [0; CUT_FIELDS];
    let mut n = 0;
    // The same walk as `each_info_field`'s, written out: a comma iterator the two share ran 3-4%
    // more instructions on a host log (callgrind).
    for (w, mut found) in comma_words(s.as_bytes()).enumerate() {
        while found != 0 {
            if n == most_commas {
                return None;
            }
            *ends.get_mut(n)? = w * 8 + (found.trailing_zeros() / 8) as usize;
            n += 1;
            found &= found - 1;
        }
    }
    *ends.get_mut(n)? = s.len();
    Some(InfoFields {
        s,
        ends,
        count: n + 1,
        next: 0,
    })
}

/// The fields [`info_fields`] found, trimmed, in order.
pub(crate) struct InfoFields<'a> {
    s: &'a str,
    /// Where each field ends (a comma, or the string's end for the last).
    ends: [usize; CUT_FIELDS],
    count: usize,
    next: usize,
}

impl<'a> Iterator for InfoFields<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        if self.next >= self.count {
            return None;
        }
        let start = match self.next.checked_sub(1) {
            Some(prev) => self.ends.get(prev)? + 1,
            None => 0,
        };
        let end = *self.ends.get(self.next)?;
        self.next += 1;
        // Commas are ASCII: every cut is a character boundary.
        Some(trim(self.s.get(start..end).unwrap_or("")))
    }
}

/// Calls `f` with each field of an `Info` string in order, as [`split_info`] splits it. The
/// commas are found eight bytes a step, every comma of a word at once.
fn each_info_field<'a>(s: &'a str, mut f: impl FnMut(&'a str)) {
    let mut start = 0;
    for (w, mut found) in comma_words(s.as_bytes()).enumerate() {
        while found != 0 {
            let at = w * 8 + (found.trailing_zeros() / 8) as usize;
            // Commas are ASCII: every cut is a character boundary.
            f(trim(s.get(start..at).unwrap_or("")));
            start = at + 1;
            found &= found - 1;
        }
    }
    f(trim(s.get(start..).unwrap_or("")));
}

/// The values of an `info`-layout event, from however the export carried them: one Info string
/// (split), the string followed by the same values as separate `<Data>` (12290), separate `<Data>`
/// only, or, with no data at all, the text after `Info:` in the rendered message.
pub(crate) fn info_values<'a>(
    strings: &'a [String],
    expected: usize,
    message: Option<&'a str>,
) -> Vec<Cow<'a, str>> {
    match strings {
        [] => message
            .and_then(|m| m.split_once("Info:"))
            .map(|(_, rest)| split_borrowed(rest.trim().lines().next().unwrap_or("")))
            .unwrap_or_default(),
        [one] => split_borrowed(one),
        [first, rest @ ..] if first.contains(',') && rest.len() >= expected => {
            rest.iter().map(|s| Cow::Borrowed(s.as_str())).collect()
        }
        [first, ..] if first.contains(',') && strings.len() < expected => split_borrowed(first),
        _ => strings.iter().map(|s| Cow::Borrowed(s.as_str())).collect(),
    }
}

/// A comma inside the one free-text field (a client name a KMS host logged from the network can
/// hold anything) splits it into too many fields: the surplus is joined back into that field,
/// so every field after it keeps its position. Only when the value after the text field does not
/// read as what belongs there (`next_fits`) while the one `surplus` places later does: a newer
/// Windows appending a field at the end is left alone.
pub(crate) fn rejoin_text_field<S: AsRef<str> + From<String>>(
    mut values: Vec<S>,
    expected: usize,
    text_at: usize,
    next_fits: &dyn Fn(&str) -> bool,
) -> Vec<S> {
    let surplus = values.len().saturating_sub(expected);
    if surplus == 0 || text_at >= expected {
        return values;
    }
    let fits = |i: usize| values.get(i).is_some_and(|v| next_fits(v.as_ref().trim()));
    if fits(text_at + 1) || !fits(text_at + surplus + 1) {
        return values;
    }
    let end = text_at + surplus + 1;
    let Some(parts) = values.get(text_at..end) else {
        return values;
    };
    let joined: Vec<&str> = parts.iter().map(AsRef::as_ref).collect();
    let joined = S::from(joined.join(","));
    values.splice(text_at..end, [joined]);
    values
}

/// `key=value;` pairs (8230's kernel policies, 8198's command line); segments without `=` are
/// skipped.
pub(crate) fn key_values(s: &str) -> Vec<(String, String)> {
    let pair = |seg: &str| -> Option<(String, String)> {
        let (_, (k, v)) = separated_pair(
            take_till1(|c| c == '='),
            char('='),
            rest::<&str, nom::error::Error<&str>>,
        )
        .parse(seg)
        .ok()?;
        Some((k.trim().to_owned(), v.trim().to_owned())).filter(|(k, _)| !k.is_empty())
    };
    fields(';')(s).map_or_else(
        |_| Vec::new(),
        |(_, segs)| segs.into_iter().filter_map(pair).collect(),
    )
}

/// A client time as written inside 12288/12289/12290 (`2010/09/29 17:52`, `2010/9/29 21:46`,
/// `1/14/2006 2:30`, day-first locales). When day and month could be swapped, the reading closest
/// to the event's `TimeCreated` wins (the client writes its local time, minute precision).
pub(crate) fn client_time(v: &str, created: Option<DateTime<Utc>>) -> Option<NaiveDateTime> {
    let raw = crate::input::values::date_parts(v)?;
    if let Some(order) = raw.forced_order() {
        return raw.datetime(order).0;
    }
    let candidates = ["mdy", "dmy"].map(|o| raw.datetime(o).0);
    match created {
        Some(c) => candidates
            .into_iter()
            .flatten()
            .min_by_key(|t| (*t - c.naive_utc()).num_seconds().unsigned_abs()),
        None => raw.datetime(raw.default_order()).0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// `info_fields` gives `expected` (the fields of `s`) under every limit that holds them all,
    /// and refuses every limit that does not.
    fn cut_like_split(s: &str, expected: &[&str]) {
        for limit in 0..=CUT_FIELDS + 1 {
            let cut: Option<Vec<&str>> = info_fields(s, limit).map(Iterator::collect);
            if limit >= expected.len() && limit <= CUT_FIELDS {
                assert_eq!(cut.as_deref(), Some(expected), "{s:?} within {limit}");
            } else {
                assert_eq!(cut, None, "{s:?} within {limit}");
            }
        }
    }

    #[test]
    fn commas_are_found_wherever_they_stand() {
        for s in [
            "",
            ",",
            "a,b",
            ",,,,,,,,,,,,,,,,,",
            "0123456789abcdef,x",
            "0123456,",
            "01234567,",
            "é,ü,,ß",
            "no commas at all in this one",
            "a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p",
            ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
            ",,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,",
        ] {
            let expected: Vec<&str> = s.split(',').map(str::trim).collect();
            assert_eq!(split_info(s), expected, "{s:?}");
            cut_like_split(s, &expected);
        }
        // Every string of up to 19 characters drawn from a comma, a letter, a space and a
        // two-byte letter (a comma in every byte position of a word, next to anything).
        let alphabet = [",", "a", " ", "\u{e9}"];
        for len in 0..20u32 {
            for seed in 0..200u64 {
                let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(len);
                let s: String = (0..len)
                    .map(|_| {
                        x ^= x << 13;
                        x ^= x >> 7;
                        x ^= x << 17;
                        alphabet[(x % 4) as usize]
                    })
                    .collect();
                let expected: Vec<&str> = s.split(',').map(str::trim).collect();
                assert_eq!(split_info(&s), expected, "{s:?}");
                cut_like_split(&s, &expected);
            }
        }
    }

    #[test]
    fn info_strings_keep_empty_and_trailing_fields() {
        let f = split_info(
            "0xC004F06C, 0x00000000, azkms.core.windows.net:1688, <CMID>, <DateTime>, 1, 5, 0, 34e1ae55-27f8-4950-8877-7a03be5fb181, ",
        );
        assert_eq!(f.len(), 10);
        assert_eq!(f[9], "");
        let f = split_info("0x0,25,pc01.contoso.com,cmid,2010/9/29 21:46,0,1,0,actid");
        assert_eq!(f.len(), 9);
        assert_eq!(f[2], "pc01.contoso.com");
        assert_eq!(split_info("a,,c"), ["a", "", "c"]);
    }

    #[test]
    fn a_comma_in_the_text_field_does_not_shift_the_others() {
        let cmid = |v: &str| v.starts_with("cmid");
        let v = split_info("0x0,25,evil,name,cmid,time");
        assert_eq!(
            rejoin_text_field(v, 5, 2, &cmid),
            ["0x0", "25", "evil,name", "cmid", "time"]
        );
        let v = split_info("0x0,25,a,b,c,cmid,time");
        assert_eq!(
            rejoin_text_field(v, 5, 2, &cmid),
            ["0x0", "25", "a,b,c", "cmid", "time"]
        );
        let v = split_info("0x0,25,pc,cmid,time");
        assert_eq!(rejoin_text_field(v.clone(), 5, 2, &cmid), v);
        // A field appended at the end (a newer Windows): nothing moves.
        let v = split_info("0x0,25,pc,cmid,time,extra");
        assert_eq!(rejoin_text_field(v.clone(), 5, 2, &cmid), v);
        let short = split_info("0x0,25");
        assert_eq!(rejoin_text_field(short.clone(), 5, 2, &cmid), short);
    }

    #[test]
    fn info_values_from_every_shape() {
        let one = vec!["a, b, c".to_owned()];
        assert_eq!(info_values(&one, 3, None), ["a", "b", "c"]);
        let with_copy: Vec<String> = ["a,b,c", "a", "b", "c"].map(str::to_owned).into();
        assert_eq!(info_values(&with_copy, 3, None), ["a", "b", "c"]);
        let positional: Vec<String> = ["a", "b", "c"].map(str::to_owned).into();
        assert_eq!(info_values(&positional, 3, None), ["a", "b", "c"]);
        assert_eq!(
            info_values(
                &[],
                3,
                Some("The client has sent...\nInfo:\n0x0, 0x0, kms:1688")
            ),
            ["0x0", "0x0", "kms:1688"]
        );
        assert!(info_values(&[], 3, None).is_empty());
    }

    #[test]
    fn key_value_lists() {
        let kv = key_values(
            "RuleId=31e71c49;Action=AutoActivate;AppId=55c9;Trigger=UserLogon;SessionId=1",
        );
        assert_eq!(kv.len(), 5);
        assert_eq!(kv[1], ("Action".to_owned(), "AutoActivate".to_owned()));
        assert!(key_values("no pairs here").is_empty());
    }

    #[test]
    fn client_times_in_any_order_resolved_against_time_created() {
        let created = Utc.with_ymd_and_hms(2006, 1, 14, 10, 31, 0).single();
        assert_eq!(
            client_time("1/14/2006 2:30", created)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2006-01-14 02:30:00")
        );
        assert_eq!(
            client_time("2010/9/29 21:46", None)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2010-09-29 21:46:00")
        );
        // 03/04/2025: the 3rd of April is nearer to an event created on 2 April than the 4th of March.
        let april = Utc.with_ymd_and_hms(2025, 4, 2, 23, 0, 0).single();
        assert_eq!(
            client_time("03/04/2025 01:00", april)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2025-04-03 01:00:00")
        );
        let march = Utc.with_ymd_and_hms(2025, 3, 4, 1, 0, 0).single();
        assert_eq!(
            client_time("03/04/2025 01:00", march)
                .map(|t| t.to_string())
                .as_deref(),
            Some("2025-03-04 01:00:00")
        );
        assert_eq!(client_time("<DateTime>", None), None);
    }
}
