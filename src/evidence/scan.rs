//! Result codes in one line of running text: every spelling `kmsdiag lookup` accepts that can be
//! told from other numbers without a label — `0x` + hex (any case, `0X`), eight bare hex digits
//! starting with 8 or C standing as a word, a symbol the rule table names (`SL_E_…`) — and
//! decimals only right after a label (`error -1073418184`, `hr=3221549112`). The numbers are read
//! by `hresult`'s spelling readers; this file only finds where they stand.
//!
//! A value is evidence only when the rule table knows it, it is a failure of an activation
//! facility or a general NTSTATUS error (`0xC000…`), or it is a failure written with `0x` and all
//! eight digits right after an error label (`Error Code: 0xC0EA000A`); values up to 0xFFFF never are (a facility's own code such as `0xBC6`,
//! flags, small numbers), nor are GUID groups, version or path parts, or the words of a hex dump.
//! It knows spellings and the rule table's codes, not what a code means for a diagnosis.

use crate::hresult::{self, Hresult, Spelling};
use crate::rules::Rules;

/// The upper 16 bits of failure codes from the facilities activation reports through: the
/// licensing service (`0xC004…`), COM/ITF (`0x8004…`), Win32 (`0x8007…`), the Store licensing
/// client (`0x87E1…`) and Windows Update/Store (`0x803F…`); and general NTSTATUS errors
/// (`0xC000…`, such as access denied), which the licensing service and the tools around it pass
/// on as they are: an NTSTATUS is a result code too.
const ACTIVATION_FACILITIES: &[u32] = &[0xC004, 0x8004, 0x8007, 0x87E1, 0x803F, 0xC000];

/// Lines with this many bare eight-digit hex words are dumps (memory, registry, hex editors).
const DUMP_WORDS: usize = 3;

/// One run of ASCII letters, digits and `_` in a line, with its char positions.
struct Token {
    text: String,
    start: usize,
    end: usize,
}

/// The line with full-width ASCII forms (`：`, `［`, `０ｘ`) and the ideographic space read as
/// their ASCII counterparts, char for char.
pub(super) fn fold_width(line: &str) -> Vec<char> {
    line.chars()
        .map(|c| match c {
            '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .collect()
}

fn tokens(chars: &[char]) -> Vec<Token> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let word = |c: &char| c.is_ascii_alphanumeric() || *c == '_';
        if chars.get(i).is_some_and(word) {
            let start = i;
            while chars.get(i).is_some_and(word) {
                i += 1;
            }
            out.push(Token {
                text: chars.get(start..i).unwrap_or(&[]).iter().collect(),
                start,
                end: i,
            });
        } else {
            i += 1;
        }
    }
    out
}

/// Whether a value found in text is evidence: known to the rule table, or a failure of an
/// activation facility (or a general NTSTATUS error) with a code of its own; never a short value.
pub(super) fn is_evidence(rules: &Rules, v: Hresult) -> bool {
    if v.0 <= 0xFFFF {
        return false;
    }
    rules.code(v).is_some()
        || (v.is_failure() && v.code() != 0 && ACTIVATION_FACILITIES.contains(&(v.0 >> 16)))
}

/// Whether a word is written the way result codes are: `0x` and all eight hex digits of a
/// failure (`0xC0EA000A`). Right after an error label (`Error Code: 0xC0EA000A`) such a value
/// names a result even when the rule table does not know it and its facility is not one
/// activation reports through; a shorter value (`0xBC6`), a longer one (event keywords) or a
/// success value is no result code.
fn written_as_result(word: &str, v: Hresult) -> bool {
    let hex = word.strip_prefix("0x").or_else(|| word.strip_prefix("0X"));
    hex.is_some_and(|h| h.len() == 8) && v.is_failure() && v.code() != 0
}

fn is_hex_word(t: &str) -> bool {
    t.len() == 8 && t.chars().all(|c| c.is_ascii_hexdigit())
}

/// Whether eight bare hex digits stand as a word: not a GUID group (`-` beside it), a version or
/// file-name part (`.` between it and other characters), a path or URL part, an anchor or a
/// variable.
fn stands_alone(chars: &[char], t: &Token) -> bool {
    let at = |i: Option<usize>| i.and_then(|i| chars.get(i)).copied();
    let before = at(t.start.checked_sub(1));
    let before2 = at(t.start.checked_sub(2));
    let after = at(Some(t.end));
    let after2 = at(Some(t.end + 1));
    let joined = |c: Option<char>| {
        matches!(
            c,
            Some('-' | '/' | '\\' | '{' | '}' | '#' | '$' | '@' | '%' | '&')
        )
    };
    let dotted = |c: Option<char>, other: Option<char>| {
        c == Some('.') && other.is_some_and(|o| o.is_ascii_alphanumeric())
    };
    !joined(before) && !joined(after) && !dotted(before, before2) && !dotted(after, after2)
}

/// A decimal's label: the word before it, with only separators (`:`, `=`, `#`, spaces, the
/// sign) between.
fn labelled(chars: &[char], prev: Option<&Token>, t: &Token) -> bool {
    let Some(p) = prev else { return false };
    let between = chars.get(p.end..t.start).unwrap_or(&[]);
    between
        .iter()
        .all(|c| c.is_whitespace() || matches!(c, ':' | '=' | '#' | '-' | '(' | '['))
        && hresult::is_label_word(&p.text)
}

/// A symbol as people write it: upper case (`SL_E_VL_NOT_ENOUGH_COUNT`), or any case with the
/// licensing prefixes (`sl_e_…`, `hr_sl_e_…`); lower-case words with `_` are identifiers.
fn symbol(rules: &Rules, word: &str) -> Option<Hresult> {
    let lower = word.to_ascii_lowercase();
    let written_as_symbol = !word.chars().any(|c| c.is_ascii_lowercase())
        || lower.starts_with("sl_")
        || lower.starts_with("hr_sl_");
    if !written_as_symbol {
        return None;
    }
    hresult::symbol_candidate(word).and_then(|s| rules.symbol(&s))
}

/// The result codes a line mentions, in the order they stand, each once.
pub(crate) fn codes_in_line(rules: &Rules, line: &str) -> Vec<Hresult> {
    let chars = fold_width(line);
    let toks = tokens(&chars);
    let dump = toks.iter().filter(|t| is_hex_word(&t.text)).count() >= DUMP_WORDS;
    let mut out: Vec<Hresult> = Vec::new();
    // Failures written in full that no label introduces: codes when the line leads with one
    // (its subject, as a post's title: `0xC0290905 not listed`) or names another code (a list:
    // `0x80072F8F (…) ou 0xC0020036 (…)`).
    let mut unlabelled: Vec<(usize, Hresult)> = Vec::new();
    let mut leading: Option<Hresult> = None;
    for (i, t) in toks.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| toks.get(p));
        let Some(v) = code_of(rules, &chars, prev, t, dump) else {
            continue;
        };
        let full = written_as_result(&t.text, v);
        let labelled_result = full && labelled(&chars, prev, t);
        if is_evidence(rules, v) || labelled_result {
            if !out.contains(&v) {
                out.push(v);
            }
        } else if full && !dump {
            unlabelled.push((t.start, v));
            if i == 0 && toks.len() > 1 {
                leading = Some(v);
            }
        }
    }
    if !out.is_empty() || leading.is_some() {
        for (_, v) in unlabelled {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
    out
}

/// The code one word spells, if it spells one where it stands.
fn code_of(
    rules: &Rules,
    chars: &[char],
    prev: Option<&Token>,
    t: &Token,
    dump: bool,
) -> Option<Hresult> {
    let text = t.text.as_str();
    let number = |s: &str| hresult::read_number(s).ok().flatten();
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return None;
        }
        return number(text).map(|r| r.value);
    }
    if is_hex_word(text) {
        let lead = text.chars().next().map(|c| c.to_ascii_uppercase());
        if dump || !matches!(lead, Some('8' | 'C')) || !stands_alone(chars, t) {
            return None;
        }
        return number(text).map(|r| r.value);
    }
    if text.contains('_') {
        return symbol(rules, text);
    }
    if text.chars().all(|c| c.is_ascii_digit()) && labelled(chars, prev, t) {
        let signed = t.start.checked_sub(1).and_then(|i| chars.get(i)) == Some(&'-');
        let spelled = if signed {
            format!("-{text}")
        } else {
            text.to_owned()
        };
        return number(&spelled)
            .filter(|r| {
                matches!(
                    r.spelling,
                    Spelling::SignedDecimal | Spelling::UnsignedDecimal
                )
            })
            .map(|r| r.value);
    }
    None
}

/// The quoted parts of a line (`"…"`, `“…”`, `„…“`, `«…»`, `「…」`, `『…』`, and Markdown
/// emphasis), where running text repeats what a tool printed; a line without them is returned
/// whole.
pub(super) fn quoted(line: &str) -> Vec<&str> {
    const PAIRS: [(char, char); 6] = [
        ('"', '"'),
        ('“', '”'),
        ('„', '“'),
        ('«', '»'),
        ('「', '」'),
        ('『', '』'),
    ];
    let mut out = Vec::new();
    for (open, close) in PAIRS {
        let mut rest = line;
        while let Some(start) = rest.find(open) {
            let after = rest.get(start + open.len_utf8()..).unwrap_or("");
            let Some(end) = after.find(close) else { break };
            if let Some(inner) = after.get(..end).map(str::trim)
                && !inner.is_empty()
            {
                out.push(inner);
            }
            rest = after.get(end + close.len_utf8()..).unwrap_or("");
        }
    }
    out.extend(emphasized(line));
    if out.is_empty() {
        out.push(line.trim());
    }
    out
}

/// The parts of a line set in Markdown emphasis (`_…_`, `*…*`, `**…**`), where a post sets off
/// the words a tool printed as quotes do: the mark opens after a space, a line start or an
/// opening bracket and closes before a space, the line end or punctuation, so `VOLUME_KMSCLIENT`
/// and `2*3*4` are no emphasis.
fn emphasized(line: &str) -> Vec<&str> {
    let mut out = Vec::new();
    for mark in ["**", "__", "*", "_"] {
        let mut rest = line;
        let mut consumed = 0usize;
        while let Some(start) = rest.find(mark) {
            let abs = consumed + start;
            let opens = line
                .get(..abs)
                .and_then(|b| b.chars().next_back())
                .is_none_or(|c| c.is_whitespace() || "([{\"'".contains(c));
            let after = rest.get(start + mark.len()..).unwrap_or("");
            let step = start + mark.len();
            if !opens || after.starts_with(char::is_whitespace) || after.starts_with(mark) {
                consumed += step;
                rest = after;
                continue;
            }
            let Some(end) = after.find(mark) else { break };
            let tail = after.get(end + mark.len()..).unwrap_or("");
            let closes = tail
                .chars()
                .next()
                .is_none_or(|c| c.is_whitespace() || ".,;:!?)]}\"'".contains(c));
            let inner = after.get(..end).unwrap_or("");
            if closes && !inner.trim().is_empty() && !inner.ends_with(char::is_whitespace) {
                out.push(inner.trim());
                consumed += step + end + mark.len();
                rest = tail;
            } else {
                consumed += step;
                rest = after;
            }
        }
    }
    out
}
