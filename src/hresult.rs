//! HRESULT values: reading the many spellings people paste, canonical printing, and the bit layout.
//!
//! This module knows numbers, not meanings: symbol names and texts live in the rule table
//! (`rules`), and the lookup command (`lookup`) joins the two. The few codes a reader assigns
//! itself (slmgr prints some results as text without a number) are named here as constants,
//! with the names `rules/codes.toml` gives them.

use std::fmt;
use std::sync::OnceLock;

use regex::Regex;
use serde::Serialize;

/// A 32-bit result code as Windows logs it (`0xC004F038`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Hresult(pub u32);

impl Hresult {
    /// `HRESULT_FROM_WIN32`: a Win32 error number wrapped as facility 7 (0 stays 0).
    pub fn from_win32(number: u16) -> Self {
        if number == 0 {
            Hresult(0)
        } else {
            Hresult(0x8007_0000 | u32::from(number))
        }
    }

    /// Bit 31: set for failures.
    pub fn is_failure(self) -> bool {
        self.0 & 0x8000_0000 != 0
    }

    /// Bit 29: set for codes defined by a component rather than by the system.
    pub fn is_customer(self) -> bool {
        self.0 & 0x2000_0000 != 0
    }

    /// Bits 16..27: the facility.
    pub fn facility(self) -> u16 {
        // Masked to 11 bits, so the value always fits.
        u16::try_from((self.0 >> 16) & 0x07FF).unwrap_or(0)
    }

    /// Bits 0..15: the facility's own code.
    pub fn code(self) -> u16 {
        u16::try_from(self.0 & 0xFFFF).unwrap_or(0)
    }

    /// The Win32 error number, when this is a facility-7 (`0x8007xxxx`) value.
    pub fn win32_number(self) -> Option<u16> {
        (self.facility() == 7 && self.is_failure()).then_some(self.code())
    }

    /// The same value as a signed 32-bit number, as .NET and PowerShell print it.
    pub fn signed(self) -> i32 {
        i32::from_ne_bytes(self.0.to_ne_bytes())
    }
}

impl fmt::Display for Hresult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "0x{:08X}", self.0)
    }
}

impl Serialize for Hresult {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// How an input was read, so the answer can say so.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Spelling {
    /// `0xC004F038`, `C004F038`, `hr=0xC004F038`.
    Hex,
    /// `-1073418184`.
    SignedDecimal,
    /// `3221549112`.
    UnsignedDecimal,
    /// A small decimal number read as a Win32 error (`1722` → `0x800706BA`).
    Win32Number,
    /// A symbol such as `SL_E_VL_NOT_ENOUGH_COUNT`.
    Symbol,
}

/// What a numeric reading of an input produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Reading {
    pub value: Hresult,
    pub spelling: Spelling,
}

/// Why an input could not be read as a number. Symbols are resolved by the caller.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum ReadError {
    #[error("`{0}` has more than 8 hex digits; an HRESULT has 8 (like 0xC004F038)")]
    TooLong(String),
    #[error("`{0}` is outside the 32-bit range of an HRESULT")]
    OutOfRange(String),
}

fn hex_prefixed() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| Regex::new(r"(?i)0x([0-9a-f]+)").unwrap_or_else(|_| unreachable!()))
}

/// A label people paste before a code (`hr=`, `Error:`, `Error code:`, `Reason:`).
fn label_prefix() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(r"(?i)^(?:error\s*code|error|hresult|hr|code|result|status|reason)\s*[:=]?\s*")
            .unwrap_or_else(|_| unreachable!())
    })
}

/// The input without a leading label and without surrounding brackets, quotes and punctuation.
fn core(text: &str) -> &str {
    let t = text.trim();
    let t = label_prefix()
        .find(t)
        .map_or(t, |m| t.get(m.end()..).unwrap_or(t));
    t.trim_matches(|c: char| c.is_whitespace() || "()[]{}<>'\".,;:".contains(c))
}

/// Reads the numeric spellings of a code from one pasted string.
///
/// Accepted: `0xC004F038` anywhere in the text (`hr=0xC004F038`, `Error: 0xC004F038.`; when several
/// `0x` numbers appear, as in `slui 0x2a 0xC004F038`, the longest and then the last wins), a bare
/// 8-digit hex number (`C004F038`, `80070005`: eight digits are always read as hex, because that is
/// how codes are written), a signed decimal (`-1073418184`), an unsigned decimal (`3221549112`),
/// and a decimal from 1 to 65535 read as a Win32 error number (`1722`). `Ok(None)` means the text
/// holds no number at all (it may be a symbol).
pub(crate) fn read_number(input: &str) -> Result<Option<Reading>, ReadError> {
    let text = input.trim();
    let mut best: Option<&str> = None;
    for cap in hex_prefixed().captures_iter(text) {
        if let Some(m) = cap.get(1) {
            let digits = m.as_str();
            if best.is_none_or(|b| significant_len(digits) >= significant_len(b)) {
                best = Some(digits);
            }
        }
    }
    if let Some(digits) = best {
        return parse_hex(digits, input).map(|v| {
            Some(Reading {
                value: Hresult(v),
                spelling: Spelling::Hex,
            })
        });
    }
    // Without `0x`, a number must be the whole input (after a label), so that digits inside
    // unrelated text are never taken for a code.
    let core = core(text);
    if core.len() == 8 && core.chars().all(|c| c.is_ascii_hexdigit()) {
        return parse_hex(core, input).map(|v| {
            Some(Reading {
                value: Hresult(v),
                spelling: Spelling::Hex,
            })
        });
    }
    let digits = core.strip_prefix('-').unwrap_or(core);
    if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit()) {
        return read_decimal(core, input).map(Some);
    }
    Ok(None)
}

/// Reads a plain 32-bit value (a bit field such as the 12288 status): hex as in `read_number`,
/// decimals taken as they are (no Win32 reading of small numbers).
pub(crate) fn read_raw(input: &str) -> Result<Option<u32>, ReadError> {
    match read_number(input)? {
        Some(Reading {
            spelling: Spelling::Win32Number,
            ..
        }) => core(input)
            .parse()
            .map(Some)
            .map_err(|_| ReadError::OutOfRange(input.trim().to_owned())),
        other => Ok(other.map(|r| r.value.0)),
    }
}

fn significant_len(digits: &str) -> usize {
    digits.trim_start_matches('0').len()
}

fn parse_hex(digits: &str, input: &str) -> Result<u32, ReadError> {
    let trimmed = digits.trim_start_matches('0');
    if trimmed.len() > 8 {
        return Err(ReadError::TooLong(input.trim().to_owned()));
    }
    if trimmed.is_empty() {
        return Ok(0);
    }
    u32::from_str_radix(trimmed, 16).map_err(|_| ReadError::TooLong(input.trim().to_owned()))
}

fn read_decimal(digits: &str, input: &str) -> Result<Reading, ReadError> {
    let out_of_range = || ReadError::OutOfRange(input.trim().to_owned());
    let n: i64 = digits.parse().map_err(|_| out_of_range())?;
    if n < 0 {
        let v = i32::try_from(n).map_err(|_| out_of_range())?;
        return Ok(Reading {
            value: Hresult(u32::from_ne_bytes(v.to_ne_bytes())),
            spelling: Spelling::SignedDecimal,
        });
    }
    if let Ok(small) = u16::try_from(n)
        && small > 0
    {
        return Ok(Reading {
            value: Hresult::from_win32(small),
            spelling: Spelling::Win32Number,
        });
    }
    let v = u32::try_from(n).map_err(|_| out_of_range())?;
    Ok(Reading {
        value: Hresult(v),
        spelling: Spelling::UnsignedDecimal,
    })
}

/// Extracts a symbol-like word (`SL_E_VL_NOT_ENOUGH_COUNT`, `HR_SL_E_GRACE_TIME_EXPIRED`,
/// `dns_error_no_dns_servers`) from an input, upper-cased and without slmgr's `HR_` prefix.
pub(crate) fn symbol_candidate(input: &str) -> Option<String> {
    let word = input
        .trim()
        .trim_matches(|c: char| !(c.is_ascii_alphanumeric() || c == '_'));
    let ok = !word.is_empty()
        && word.contains('_')
        && word.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && word.chars().next().is_some_and(|c| c.is_ascii_alphabetic());
    if !ok {
        return None;
    }
    let upper = word.to_ascii_uppercase();
    Some(
        upper
            .strip_prefix("HR_")
            .map_or(upper.clone(), str::to_owned),
    )
}

/// Words people paste around a code that carry no code themselves (`Error:`, `hr`, `code`).
pub(crate) fn is_label_word(input: &str) -> bool {
    let w = input
        .trim()
        .trim_end_matches([':', '=', ',', '.'])
        .to_ascii_lowercase();
    matches!(
        w.as_str(),
        "error" | "code" | "error code" | "hr" | "hresult" | "result" | "status" | "reason"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> Reading {
        read_number(s).unwrap().unwrap()
    }

    #[test]
    fn every_pasted_spelling_reads_as_the_same_value() {
        for s in [
            "0xC004F038",
            "C004F038",
            "c004f038",
            "0XC004F038",
            "hr=0xC004F038",
            "Error: 0xC004F038",
            "Error: 0xC004F038 The Software Licensing Service reported ...",
            "(0xc004f038)",
            "Notification Reason: 0xC004F038.",
            "slui.exe 0x2a 0xC004F038",
            "-1073418184",
            "3221549112",
        ] {
            assert_eq!(read(s).value, Hresult(0xC004_F038), "{s}");
        }
    }

    #[test]
    fn spelling_is_reported() {
        assert_eq!(read("C004F038").spelling, Spelling::Hex);
        assert_eq!(read("-1073418184").spelling, Spelling::SignedDecimal);
        assert_eq!(read("3221549112").spelling, Spelling::UnsignedDecimal);
        assert_eq!(read("1722").spelling, Spelling::Win32Number);
        assert_eq!(read("1722").value, Hresult(0x8007_06BA));
    }

    #[test]
    fn eight_bare_digits_are_hex_and_zero_is_success() {
        assert_eq!(read("80070005").value, Hresult(0x8007_0005));
        assert_eq!(read("0x0").value, Hresult(0));
        assert_eq!(read("0").value, Hresult(0));
        assert_eq!(read("0x00000000").value, Hresult(0));
        assert_eq!(read("0x4004F040").value, Hresult(0x4004_F040));
    }

    #[test]
    fn too_long_and_out_of_range_are_errors_not_truncations() {
        assert!(matches!(
            read_number("0x1C004F0380"),
            Err(ReadError::TooLong(_))
        ));
        assert!(matches!(
            read_number("99999999999"),
            Err(ReadError::OutOfRange(_))
        ));
        assert!(matches!(
            read_number("-3221549112"),
            Err(ReadError::OutOfRange(_))
        ));
        assert_eq!(read("0x000000C004F038").value, Hresult(0xC004_F038));
    }

    #[test]
    fn digits_inside_other_text_are_not_codes() {
        assert_eq!(read_number("\u{1b}]0;pwned\u{7}banana").unwrap(), None);
        assert_eq!(read_number("windows 10 pro").unwrap(), None);
        assert_eq!(read_number("event 12288 at 17:52").unwrap(), None);
        assert_eq!(read("hr=C004F038").value, Hresult(0xC004_F038));
        assert_eq!(read("Error code: 3221549112").value, Hresult(0xC004_F038));
        assert_eq!(read("(-1073418184)").value, Hresult(0xC004_F038));
    }

    #[test]
    fn words_without_numbers_are_not_numbers() {
        assert_eq!(read_number("banana").unwrap(), None);
        assert_eq!(read_number("SL_E_VL_NOT_ENOUGH_COUNT").unwrap(), None);
        assert_eq!(read_number("").unwrap(), None);
    }

    #[test]
    fn layout_bits() {
        let h = Hresult(0x8007_267C);
        assert!(h.is_failure());
        assert_eq!(h.facility(), 7);
        assert_eq!(h.win32_number(), Some(9852));
        assert_eq!(Hresult(0xC004_F038).facility(), 4);
        assert_eq!(Hresult(0xC004_F038).signed(), -1_073_418_184);
        assert_eq!(Hresult(0xC004_F038).to_string(), "0xC004F038");
        assert_eq!(Hresult::from_win32(0), Hresult(0));
    }

    #[test]
    fn symbols_and_labels() {
        assert_eq!(
            symbol_candidate("sl_e_vl_not_enough_count").as_deref(),
            Some("SL_E_VL_NOT_ENOUGH_COUNT")
        );
        assert_eq!(
            symbol_candidate("HR_SL_E_GRACE_TIME_EXPIRED").as_deref(),
            Some("SL_E_GRACE_TIME_EXPIRED")
        );
        assert_eq!(symbol_candidate("banana"), None);
        assert!(is_label_word("Error:"));
        assert!(!is_label_word("banana"));
    }
}
