//! Answers to "what does this code mean": resolving what the user typed against the rule table,
//! searching it, and decoding the 12288/12289 status flags. The answers are the model's
//! (`model::lookup`), rendered by `report::lookup`.

use crate::hresult::{self, Hresult, ReadError, Spelling};
use crate::model::lookup::{Answer, FlagInfo, FlagsAnswer, Structure, Win32Info};
use crate::rules::{Category, CodeEntry, Rules, Severity};

/// Why an input could not be looked up.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum LookupError {
    #[error(
        "`{0}` is not an error code: expected hex like 0xC004F038 or C004F038, a decimal like -1073418184 or 3221549112, or a symbol like SL_E_VL_NOT_ENOUGH_COUNT"
    )]
    NotACode(String),
    #[error("`{0}` is not a symbol kmsdiag knows; try `kmsdiag lookup --search {1}`")]
    UnknownSymbol(String, String),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// Resolves one pasted input to an answer.
pub(crate) fn resolve(rules: &Rules, input: &str) -> Result<Answer, LookupError> {
    if let Some(reading) = hresult::read_number(input)? {
        return Ok(answer(rules, input, reading.value, reading.spelling));
    }
    if let Some(symbol) = hresult::symbol_candidate(input) {
        if let Some(value) = rules.symbol(&symbol) {
            return Ok(answer(rules, input, value, Spelling::Symbol));
        }
        let words = symbol.to_ascii_lowercase().replace('_', " ");
        return Err(LookupError::UnknownSymbol(
            input.trim().to_owned(),
            format!("\"{words}\""),
        ));
    }
    Err(LookupError::NotACode(input.trim().to_owned()))
}

/// The answer for a value, from the table when it has an entry, else from the bit layout.
pub(crate) fn answer(rules: &Rules, input: &str, value: Hresult, spelling: Spelling) -> Answer {
    let structure = structure(rules, value);
    if let Some(entry) = rules.code(value) {
        return known(input, value, spelling, entry, structure);
    }
    let (symbol, message) = structure
        .win32
        .as_ref()
        .map_or((None, None), |w| (w.name.clone(), w.message.clone()));
    Answer {
        input: input.trim().to_owned(),
        interpreted_as: spelling,
        code: value,
        known: false,
        symbol,
        aliases: Vec::new(),
        severity: if value.is_failure() {
            Severity::Error
        } else {
            Severity::Informational
        },
        category: None,
        finding: None,
        message,
        meaning: None,
        causes: Vec::new(),
        next_steps: Vec::new(),
        related_events: Vec::new(),
        applies_to: Vec::new(),
        sources: Vec::new(),
        notes: None,
        structure,
    }
}

fn known(
    input: &str,
    value: Hresult,
    spelling: Spelling,
    e: &CodeEntry,
    structure: Structure,
) -> Answer {
    Answer {
        input: input.trim().to_owned(),
        interpreted_as: spelling,
        code: value,
        known: true,
        symbol: e.symbol.clone(),
        aliases: e.aliases.clone(),
        severity: e.severity,
        category: Some(e.category),
        finding: e.finding.clone(),
        message: e.message.clone(),
        meaning: e.meaning.clone(),
        causes: e.causes.clone(),
        next_steps: e.next_steps.clone(),
        related_events: e.related_events.clone(),
        applies_to: e.applies_to.clone(),
        sources: e.sources.clone(),
        notes: e.notes.clone(),
        structure,
    }
}

/// Spells out the bit layout of a value.
pub(crate) fn structure(rules: &Rules, value: Hresult) -> Structure {
    let facility = value.facility();
    let win32 = value.win32_number().map(|n| {
        let e = rules.win32(n);
        Win32Info {
            number: n,
            name: e.map(|e| e.name.clone()),
            message: e.map(|e| e.message.clone()),
        }
    });
    Structure {
        failure: value.is_failure(),
        customer: value.is_customer(),
        facility,
        facility_name: rules.facility(facility).map(|f| f.name.clone()),
        code: value.code(),
        signed_decimal: value.signed(),
        unsigned_decimal: value.0,
        win32,
        licensing_range: licensing_range(value),
    }
}

/// The `slerror.h` ranges of `FACILITY_ITF` (4) Software Licensing codes.
fn licensing_range(value: Hresult) -> Option<&'static str> {
    if value.facility() != 4 || value.0 >> 28 == 0 {
        return None;
    }
    match value.code() >> 12 {
        0xA => Some("license manager server"),
        0xB => Some("activation server (SL server)"),
        0xC => Some(
            "Microsoft activation clearing house (online and phone activation, genuine validation)",
        ),
        0xD => Some("security processor"),
        0xE => Some("licensing service internals (license store, product keys)"),
        0xF => Some("licensing service client API"),
        _ => None,
    }
}

/// Codes whose symbol, aliases, message, meaning, category or code contain every word of the
/// query (case-insensitive; `_` in symbols counts as a space), in numeric order.
pub(crate) fn search(rules: &Rules, query: &str, category: Option<Category>) -> Vec<Answer> {
    let words: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    rules
        .codes()
        .filter(|(_, e)| category.is_none_or(|c| e.category == c))
        .filter(|(value, e)| {
            let mut hay = format!(
                "{value} {} {}",
                e.category,
                e.symbol.as_deref().unwrap_or("")
            );
            for s in e
                .aliases
                .iter()
                .chain(e.message.iter())
                .chain(e.meaning.iter())
            {
                hay.push(' ');
                hay.push_str(s);
            }
            let hay = hay.to_lowercase().replace('_', " ");
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .map(|(value, _)| answer(rules, &value.to_string(), value, Spelling::Hex))
        .collect()
}

/// Decodes a status value into its named flags and leftover bits.
pub(crate) fn decode_flags(rules: &Rules, input: &str) -> Result<FlagsAnswer, LookupError> {
    let value =
        hresult::read_raw(input)?.ok_or_else(|| LookupError::NotACode(input.trim().to_owned()))?;
    let mut rest = value;
    let mut flags = Vec::new();
    for (bit, e) in rules.status_flags() {
        if value & bit != 0 {
            rest &= !bit;
            flags.push(FlagInfo {
                value: Hresult(*bit),
                symbol: e.symbol.clone(),
                severity: e.severity,
                description: e.description.clone(),
            });
        }
    }
    let unknown_bits = (0..32)
        .map(|i| 1u32 << i)
        .filter(|b| rest & b != 0)
        .map(Hresult)
        .collect();
    Ok(FlagsAnswer {
        input: input.trim().to_owned(),
        value: Hresult(value),
        flags,
        unknown_bits,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::embedded().unwrap()
    }

    #[test]
    fn symbols_and_numbers_resolve_to_the_same_entry() {
        let r = rules();
        let a = resolve(&r, "SL_E_VL_NOT_ENOUGH_COUNT").unwrap();
        let b = resolve(&r, "-1073418184").unwrap();
        assert_eq!(a.code, b.code);
        assert!(a.known && b.known);
        assert_eq!(a.interpreted_as, Spelling::Symbol);
        assert_eq!(a.finding.as_deref(), Some("kms-count-insufficient"));
    }

    #[test]
    fn unknown_win32_codes_are_explained_by_structure() {
        let r = rules();
        let a = resolve(&r, "0x80072EFD").unwrap();
        assert!(!a.known);
        assert_eq!(a.structure.facility, 7);
        assert_eq!(a.structure.facility_name.as_deref(), Some("FACILITY_WIN32"));
        let w = a.structure.win32.unwrap();
        assert_eq!(
            (w.number, w.name.as_deref()),
            (12029, Some("ERROR_INTERNET_CANNOT_CONNECT"))
        );
        let a = resolve(&r, "0xC004F999").unwrap();
        assert!(!a.known);
        assert_eq!(
            a.structure.licensing_range,
            Some("licensing service client API")
        );
    }

    #[test]
    fn known_win32_wrapped_codes_carry_the_win32_number() {
        let a = resolve(&rules(), "0x8007267C").unwrap();
        assert!(a.known);
        let w = a.structure.win32.unwrap();
        assert_eq!(
            (w.number, w.name.as_deref()),
            (9852, Some("DNS_ERROR_NO_DNS_SERVERS"))
        );
    }

    #[test]
    fn not_a_code_and_unknown_symbol() {
        let r = rules();
        assert!(matches!(
            resolve(&r, "banana"),
            Err(LookupError::NotACode(_))
        ));
        assert!(matches!(
            resolve(&r, "SL_E_NO_SUCH_THING"),
            Err(LookupError::UnknownSymbol(..))
        ));
    }

    #[test]
    fn search_matches_all_words() {
        let r = rules();
        let hits = search(&r, "not enough count", None);
        assert_eq!(hits.len(), 1);
        assert_eq!(hits[0].code, Hresult(0xC004_F038));
        let dns = search(&r, "dns", None);
        assert!(dns.iter().any(|a| a.code == Hresult(0x8007_232B)));
        assert!(dns.iter().all(|a| {
            let t = format!("{a:?}").to_lowercase();
            t.contains("dns")
        }));
        assert!(search(&r, "zzzz-nothing", None).is_empty());
        let bios = search(&r, "", Some(Category::Bios));
        assert!(bios.iter().all(|a| a.category == Some(Category::Bios)));
        assert!(bios.iter().any(|a| a.code == Hresult(0xC004_F059)));
    }

    #[test]
    fn every_table_code_round_trips_through_every_spelling() {
        let r = rules();
        for (value, entry) in r.codes() {
            let mut spellings = vec![
                value.to_string(),
                format!("{:08x}", value.0),
                value.signed().to_string(),
                format!("hr={value}"),
            ];
            if value.0 > 0xFFFF {
                spellings.push(value.0.to_string());
            }
            spellings.extend(entry.symbol.clone());
            for s in spellings {
                let a = resolve(&r, &s).unwrap_or_else(|e| panic!("{s}: {e}"));
                assert_eq!(a.code, value, "{s}");
                assert!(a.known, "{s}");
            }
        }
    }

    #[test]
    fn flags_decode_bit_by_bit() {
        let r = rules();
        let f = decode_flags(&r, "0x04000008").unwrap();
        let names: Vec<&str> = f.flags.iter().map(|f| f.symbol.as_str()).collect();
        assert_eq!(
            names,
            [
                "SL_VL_BINDING_STATUS_OTHER_PC",
                "SL_VL_BINDING_ERROR_NOT_ENOUGH_COUNT"
            ]
        );
        assert!(f.unknown_bits.is_empty());
        let f = decode_flags(&r, "0x10000001").unwrap();
        assert!(f.flags.is_empty());
        assert_eq!(f.unknown_bits, [Hresult(1), Hresult(0x1000_0000)]);
        assert!(decode_flags(&r, "0").unwrap().flags.is_empty());
    }
}
