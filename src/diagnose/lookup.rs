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
    #[error(
        "`{0}` is not an error code: `slui 0x2a CODE` is the command that shows the text of the error CODE, so look up the code that follows 0x2a (for `slui 0x2a 0xC004F074`, run `kmsdiag lookup 0xC004F074`)"
    )]
    SluiSwitch(String),
    #[error(transparent)]
    Read(#[from] ReadError),
}

/// The switch of `slui 0x2a CODE`, the command that shows the text of the error CODE.
const SLUI_SHOW_TEXT: Hresult = Hresult(0x2A);

/// Resolves the codes typed on a command line, argument by argument. What people paste around a
/// code is passed over: label words (`Error:`), the `slui` command name and its `0x2a` switch
/// when a code follows it (`slui 0x2a 0xC004F074`, also as one argument); a `0x2a` with no code
/// after it is answered with what `slui 0x2a` is.
pub(crate) fn resolve_args(rules: &Rules, inputs: &[String]) -> Vec<Result<Answer, LookupError>> {
    let is_code = |input: &String| {
        !passed_over(input) && resolve(rules, input).is_ok_and(|a| !is_slui_switch(&a))
    };
    let mut out = Vec::new();
    for (i, input) in inputs.iter().enumerate() {
        if passed_over(input) {
            continue;
        }
        match resolve(rules, input) {
            Ok(a) if is_slui_switch(&a) => {
                if !inputs.iter().skip(i + 1).any(is_code) {
                    out.push(Err(LookupError::SluiSwitch(input.trim().to_owned())));
                }
            }
            r => out.push(r),
        }
    }
    out
}

/// Words that carry no code: labels and the name of the `slui` command.
fn passed_over(input: &str) -> bool {
    if hresult::is_label_word(input) {
        return true;
    }
    let name = input
        .trim()
        .rsplit(['\\', '/'])
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    name == "slui" || name == "slui.exe"
}

/// Whether an answer is `slui`'s `0x2a` switch rather than a code: 0x2A written in hex.
fn is_slui_switch(a: &Answer) -> bool {
    a.code == SLUI_SHOW_TEXT && a.interpreted_as == Spelling::Hex
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

/// Codes whose texts contain every word of the query at the start of a word (`count` finds
/// "counted", not "account"; case-insensitive; `_` in symbols counts as a space), each word in what
/// says what the code is (code, category, symbol, aliases, message,
/// meaning) or in what it says to do about it (causes, next steps, notes). Ranked: codes with
/// every word in the first group come first, then by how few words were found only in the
/// second; ties in numeric order. An empty query lists the table in numeric order.
pub(crate) fn search(rules: &Rules, query: &str, category: Option<Category>) -> Vec<Answer> {
    let words: Vec<String> = query
        .split(|c: char| c.is_whitespace() || c == '_')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    let mut hits: Vec<(usize, Hresult)> = rules
        .codes()
        .filter(|(_, e)| category.is_none_or(|c| e.category == c))
        .filter_map(|(value, e)| {
            let title = title_text(value, e);
            let detail = detail_text(e);
            let mut only_in_detail = 0;
            for w in &words {
                if has_word(&title, w) {
                    continue;
                }
                if !has_word(&detail, w) {
                    return None;
                }
                only_in_detail += 1;
            }
            Some((only_in_detail, value))
        })
        .collect();
    hits.sort_unstable();
    hits.into_iter()
        .map(|(_, value)| answer(rules, &value.to_string(), value, Spelling::Hex))
        .collect()
}

/// Whether `word` stands in `hay` where a word starts (after a character that is no letter or
/// digit, or at the start).
fn has_word(hay: &str, word: &str) -> bool {
    hay.match_indices(word).any(|(at, _)| {
        hay.get(..at)
            .and_then(|before| before.chars().next_back())
            .is_none_or(|c| !c.is_alphanumeric())
    })
}

/// What says what a code is, lower-cased, `_` read as a space.
fn title_text(value: Hresult, e: &CodeEntry) -> String {
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
    hay.to_lowercase().replace('_', " ")
}

/// What an entry says to do about a code, lower-cased, `_` read as a space.
fn detail_text(e: &CodeEntry) -> String {
    let mut hay = String::new();
    for s in e
        .causes
        .iter()
        .chain(e.next_steps.iter())
        .chain(e.notes.iter())
    {
        hay.push(' ');
        hay.push_str(s);
    }
    hay.to_lowercase().replace('_', " ")
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
    fn search_reads_causes_and_steps_and_ranks_title_hits_first() {
        let r = rules();
        let codes =
            |q: &str| -> Vec<Hresult> { search(&r, q, None).iter().map(|a| a.code).collect() };
        assert!(codes("clock").contains(&Hresult(0xC004_F06C)));
        assert!(codes("firewall").contains(&Hresult(0xC004_F074)));
        assert!(codes("1688").contains(&Hresult(0xC004_F074)));
        // A word in the symbol, message or meaning ranks above one found only in causes or steps.
        let clock = codes("clock");
        let by_symbol = clock.iter().position(|c| *c == Hresult(0xC004_B011));
        let by_cause = clock.iter().position(|c| *c == Hresult(0xC004_F06C));
        assert!(by_symbol < by_cause, "{clock:?}");
        // Words match where a word starts: `count` is not in "account".
        assert_eq!(codes("not enough count"), [Hresult(0xC004_F038)]);
        // The same query gives the same order.
        assert_eq!(codes("dns"), codes("dns"));
    }

    #[test]
    fn slui_words_around_a_code_are_passed_over() {
        let r = rules();
        let args = |a: &[&str]| -> Vec<String> { a.iter().map(|s| (*s).to_owned()).collect() };
        let codes = |a: &[&str]| -> Vec<Result<Hresult, LookupError>> {
            resolve_args(&r, &args(a))
                .into_iter()
                .map(|x| x.map(|a| a.code))
                .collect()
        };
        let f074 = || Ok(Hresult(0xC004_F074));
        assert_eq!(codes(&["slui 0x2a 0xC004F074"]), [f074()]);
        assert_eq!(codes(&["slui", "0x2a", "0xC004F074"]), [f074()]);
        assert_eq!(
            codes(&["slui.exe", "0x2A", "Error:", "0xC004F074"]),
            [f074()]
        );
        assert_eq!(
            codes(&["C:\\Windows\\System32\\slui.exe", "0x2a", "0xC004F074"]),
            [f074()]
        );
        for alone in [&["0x2a"][..], &["slui", "0x2a"], &["slui 0x2a"]] {
            assert!(
                matches!(codes(alone).as_slice(), [Err(LookupError::SluiSwitch(_))]),
                "{alone:?}"
            );
        }
        // 42 is a Win32 error number, not the switch.
        assert_eq!(codes(&["42"]), [Ok(Hresult(0x8007_002A))]);
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
