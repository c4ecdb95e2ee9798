//! The cheap test a record of a large export passes before it is parsed: whether its text could
//! hold an event the reader keeps. A record the normalizer keeps names an activation provider
//! (a name, alias or GUID of `rules/events.toml`, ASCII case ignored: the catalogue's own
//! comparison) and, when only some ids are kept, carries one of them as a run of decimal digits
//! (the qualifier-carrying form too: 1073742727 is event 903). The values may be written with
//! escapes — JSON `\uXXXX`, XML character references, or both nested (`\u0026#83;`) — so a record
//! holding either is also searched with them decoded. A name split by escapes or spelled in
//! another case is still found; a record the test turns away can hold no kept event, so skipping
//! its parse changes no answer (the tests prove it over every shipper fixture and generated
//! records).

use memchr::memmem::Finder;

use crate::events::Keep;
use crate::rules::Rules;

/// The pre-parse test of one input's records.
pub(crate) struct Sieve {
    /// The provider names lower-cased and the two escape markers (`\u`, `&#`), searched in a
    /// lower-cased copy of the record (a SIMD search each, faster than one case-blind
    /// automaton): a record without any of them is turned away at once.
    first: Vec<Finder<'static>>,
    /// The provider names alone, lower-cased.
    names: Vec<Finder<'static>>,
    /// The lower-cased copy.
    lower: std::cell::RefCell<Vec<u8>>,
    /// The ids kept (`None`: every id of the activation providers).
    ids: Option<Vec<u32>>,
}

impl Sieve {
    /// The test for what `keep` keeps; `None` when every record is kept (`Keep::All`).
    pub(crate) fn new(rules: &Rules, keep: Keep<'_>) -> Option<Sieve> {
        let ids = match keep {
            Keep::All => return None,
            Keep::Activation => None,
            Keep::Ids(ids) => Some(ids.to_vec()),
        };
        // A key that holds another is found through the shorter one.
        let keys: Vec<String> = rules
            .events()
            .provider_keys()
            .map(str::to_ascii_lowercase)
            .collect();
        let mut names: Vec<&str> = keys
            .iter()
            .filter(|k| !k.is_empty())
            .map(String::as_str)
            .collect();
        names.sort_unstable();
        names.dedup();
        let minimal: Vec<&str> = names
            .iter()
            .filter(|k| !names.iter().any(|o| o != *k && k.contains(o)))
            .copied()
            .collect();
        let finders = |patterns: &[&str]| -> Vec<Finder<'static>> {
            patterns
                .iter()
                .map(|p| Finder::new(p.as_bytes()).into_owned())
                .collect()
        };
        let mut with_escapes = minimal.clone();
        with_escapes.extend(["\\u", "&#"]);
        Some(Sieve {
            first: finders(&with_escapes),
            names: finders(&minimal),
            lower: std::cell::RefCell::new(Vec::new()),
            ids,
        })
    }

    /// Whether a record's text may hold an event the reader keeps.
    pub(crate) fn may_keep(&self, text: &[u8]) -> bool {
        self.first_match(text) && self.check(text)
    }

    /// Whether a provider name (in any case) or an escape marker is in the text.
    fn first_match(&self, text: &[u8]) -> bool {
        self.any_in(text, &self.first)
    }

    /// Whether one of `finders` (lower-case patterns) is in the text, case ignored.
    fn any_in(&self, text: &[u8], finders: &[Finder<'static>]) -> bool {
        let Ok(mut lower) = self.lower.try_borrow_mut() else {
            return true;
        };
        lower.clear();
        lower.extend(text.iter().map(u8::to_ascii_lowercase));
        finders.iter().any(|f| f.find(&lower).is_some())
    }

    /// [`Sieve::may_keep`] for a CSV row: its cells' bytes one after the other, `ends` the end of
    /// each (digits of two cells never make one number).
    pub(crate) fn may_keep_cells(&self, cells: &[u8], ends: &[usize]) -> bool {
        if !self.first_match(cells) {
            return false;
        }
        let mut joined = Vec::with_capacity(cells.len() + ends.len());
        let mut start = 0;
        for &end in ends {
            joined.extend_from_slice(cells.get(start..end).unwrap_or(&[]));
            joined.push(b'\n');
            start = end;
        }
        self.check(&joined)
    }

    /// The full test: a provider name in the text as written or with its escapes decoded, and a
    /// kept id in one of them.
    fn check(&self, text: &[u8]) -> bool {
        let mut views: Vec<std::borrow::Cow<'_, [u8]>> = vec![std::borrow::Cow::Borrowed(text)];
        if memchr::memmem::find(text, b"\\u").is_some() {
            views.push(std::borrow::Cow::Owned(unescape_json(text)));
        }
        let n = views.len();
        for i in 0..n {
            let refs = views
                .get(i)
                .filter(|v| memchr::memmem::find(v, b"&#").is_some())
                .map(|v| unescape_xml(v));
            views.extend(refs.map(std::borrow::Cow::Owned));
        }
        if !views.iter().any(|v| self.any_in(v, &self.names)) {
            return false;
        }
        match &self.ids {
            None => true,
            Some(ids) => views.iter().any(|v| has_id(v, ids)),
        }
    }
}

/// Whether a run of decimal digits in `text` reads as a kept id: the id itself, or the legacy
/// form that carries qualifiers in the high 16 bits. Leading zeros are allowed (a string
/// `"012288"` reads as 12288).
fn has_id(text: &[u8], ids: &[u32]) -> bool {
    let mut value: u64 = 0;
    let mut digits = 0u32;
    let mut in_run = false;
    let kept = |v: u64, digits: u32| {
        digits <= 10
            && u32::try_from(v)
                .is_ok_and(|n| ids.contains(&n) || (n > 0xFFFF && ids.contains(&(n & 0xFFFF))))
    };
    for &b in text {
        if b.is_ascii_digit() {
            if !in_run {
                in_run = true;
                value = 0;
                digits = 0;
            }
            if value > 0 || b != b'0' {
                digits = digits.saturating_add(1);
            }
            value = value.saturating_mul(10).saturating_add(u64::from(b - b'0'));
        } else if in_run {
            in_run = false;
            if kept(value, digits) {
                return true;
            }
        }
    }
    in_run && kept(value, digits)
}

/// The text with every JSON `\uXXXX` escape decoded (the escapes of escapes too, a few levels
/// down); other bytes as they are.
fn unescape_json(text: &[u8]) -> Vec<u8> {
    let mut out = unescape_json_once(text);
    for _ in 0..3 {
        if memchr::memmem::find(&out, b"\\u").is_none() {
            break;
        }
        let next = unescape_json_once(&out);
        if next == out {
            break;
        }
        out = next;
    }
    out
}

fn unescape_json_once(text: &[u8]) -> Vec<u8> {
    decode_once(text, b"\\u", |rest| {
        let hex = rest.get(..4)?;
        let s = std::str::from_utf8(hex).ok()?;
        let code = u32::from_str_radix(s, 16).ok()?;
        Some((char::from_u32(code).unwrap_or('\u{FFFD}'), 4))
    })
}

/// The text with every XML character reference (`&#83;`, `&#x53;`) decoded.
fn unescape_xml(text: &[u8]) -> Vec<u8> {
    decode_once(text, b"&#", |rest| {
        let semi = rest.iter().take(10).position(|&b| b == b';')?;
        let body = std::str::from_utf8(rest.get(..semi)?).ok()?;
        let code = match body.strip_prefix('x').or_else(|| body.strip_prefix('X')) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => body.parse().ok()?,
        };
        Some((char::from_u32(code)?, semi + 1))
    })
}

/// Replaces each `marker` followed by what `read` reads (a character and how many bytes after
/// the marker it took) by that character.
fn decode_once(
    text: &[u8],
    marker: &[u8],
    read: impl Fn(&[u8]) -> Option<(char, usize)>,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut at = 0;
    while let Some(i) = text.get(at..).and_then(|t| memchr::memmem::find(t, marker)) {
        let start = at + i;
        out.extend_from_slice(text.get(at..start).unwrap_or(&[]));
        let after = start + marker.len();
        if let Some((c, used)) = text.get(after..).and_then(&read) {
            let mut b = [0u8; 4];
            out.extend_from_slice(c.encode_utf8(&mut b).as_bytes());
            at = after + used;
        } else {
            out.extend_from_slice(marker);
            at = after;
        }
    }
    out.extend_from_slice(text.get(at..).unwrap_or(&[]));
    out
}
