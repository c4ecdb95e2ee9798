//! Bytes to text for text inputs: byte-order marks, UTF-16 without a BOM, and the legacy code
//! pages Windows consoles write (Windows-1252, OEM 850/437, GBK, `Shift_JIS`, Windows-1251, OEM 866).
//!
//! Without a BOM and when the bytes are not UTF-8, every candidate code page is tried and the
//! caller's scoring function (how many known labels the text contains) picks the one that reads
//! best; this module knows encodings, not formats.

use encoding_rs::{
    Encoding, GBK, IBM866, SHIFT_JIS, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1251, WINDOWS_1252,
};

/// Text decoded from an input, with the encoding that was used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Decoded {
    pub text: String,
    /// `UTF-8`, `UTF-8 (BOM)`, `UTF-16LE`, `windows-1252`, `IBM850`, `GBK`, …
    pub encoding: &'static str,
    /// Whether some bytes could not be decoded and were replaced by U+FFFD.
    pub lossy: bool,
}

/// A single-byte OEM code page that `encoding_rs` does not carry.
enum Oem {
    Cp850,
    Cp437,
}

enum Candidate {
    Whatwg(&'static Encoding),
    Oem(Oem),
}

const CANDIDATES: &[(&str, Candidate)] = &[
    ("windows-1252", Candidate::Whatwg(WINDOWS_1252)),
    ("IBM850", Candidate::Oem(Oem::Cp850)),
    ("IBM437", Candidate::Oem(Oem::Cp437)),
    ("GBK", Candidate::Whatwg(GBK)),
    ("Shift_JIS", Candidate::Whatwg(SHIFT_JIS)),
    ("windows-1251", Candidate::Whatwg(WINDOWS_1251)),
    ("IBM866", Candidate::Whatwg(IBM866)),
];

/// `str::trim`, answering at once when both ends are visible ASCII (nearly every field of a
/// log): only then is there nothing to trim, so the answer is always `str::trim`'s.
#[inline]
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim(),
    }
}

/// Decodes `bytes`. `score` rates a candidate text (higher reads better); it is only consulted
/// when the encoding cannot be told from a BOM or from valid UTF-8 / UTF-16.
pub(crate) fn decode(bytes: &[u8], score: &dyn Fn(&str) -> usize) -> Decoded {
    if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return whatwg(UTF_8, rest, "UTF-8 (BOM)");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFF, 0xFE]) {
        return whatwg(UTF_16LE, rest, "UTF-16LE (BOM)");
    }
    if let Some(rest) = bytes.strip_prefix(&[0xFE, 0xFF]) {
        return whatwg(UTF_16BE, rest, "UTF-16BE (BOM)");
    }
    if let Some(le) = utf16_without_bom(bytes) {
        return if le {
            whatwg(UTF_16LE, bytes, "UTF-16LE")
        } else {
            whatwg(UTF_16BE, bytes, "UTF-16BE")
        };
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Decoded {
            text: clean(s.to_owned()),
            encoding: "UTF-8",
            lossy: false,
        };
    }
    let mut best: Option<(usize, i64, Decoded)> = None;
    for (name, cand) in CANDIDATES {
        let d = match cand {
            Candidate::Whatwg(enc) => whatwg(enc, bytes, name),
            Candidate::Oem(oem) => Decoded {
                text: clean(decode_oem(oem, bytes)),
                encoding: name,
                lossy: false,
            },
        };
        let s = score(&d.text);
        let q = plausibility(&d.text);
        let better = match &best {
            None => true,
            Some((bs, bq, _)) => s > *bs || (s == *bs && q > *bq),
        };
        if better {
            best = Some((s, q, d));
        }
    }
    best.map_or_else(
        || whatwg(WINDOWS_1252, bytes, "windows-1252"),
        |(_, _, d)| d,
    )
}

/// How much a decoding looks like real text: letters of any script count for it; stray symbols,
/// C1 control characters and replacement characters (the marks of a wrong code page) against it.
fn plausibility(text: &str) -> i64 {
    let mut q: i64 = 0;
    for c in text.chars().filter(|c| !c.is_ascii()) {
        q += if c == '\u{FFFD}' || ('\u{80}'..='\u{9F}').contains(&c) {
            -10
        } else if ('\u{FF61}'..='\u{FF9F}').contains(&c) {
            // Half-width katakana: rare in real text, common when GBK is read as Shift_JIS.
            -2
        } else if ('\u{3040}'..='\u{30FF}').contains(&c) {
            // Kana: Japanese text has them, Shift_JIS read as GBK never does.
            3
        } else if c.is_alphabetic()
            || matches!(c, '\u{3000}'..='\u{303F}' | '\u{FF01}'..='\u{FF5E}')
        {
            1
        } else {
            -2
        };
    }
    // Words made mostly of accented Latin letters are Cyrillic or Greek read in a Western code
    // page ("Ñîñòîÿíèå"); real Western words carry an accent or two among plain letters.
    for word in text.split(|c: char| !c.is_alphabetic()) {
        let accented = word
            .chars()
            .filter(|c| ('\u{C0}'..='\u{FF}').contains(c))
            .count();
        let plain = word.chars().filter(char::is_ascii_alphabetic).count();
        if accented >= 3 && accented > plain {
            q -= i64::try_from(accented).unwrap_or(0) * 3;
        }
    }
    q
}

/// Decodes a format whose standard fixes the encoding (XML without a declaration, JSON): a BOM or
/// UTF-16 as [`decode`] finds them, an XML declaration's `encoding`, else UTF-8 — with bytes that
/// are not UTF-8 replaced by U+FFFD rather than the whole file taken for a legacy code page. The
/// note says where the first bad byte was.
pub(crate) fn decode_utf8_standard(bytes: &[u8]) -> (Decoded, Option<String>) {
    let d = decode(bytes, &|_| 0);
    if d.encoding.starts_with("UTF-") {
        let note = d.lossy.then(|| {
            format!(
                "some bytes are not valid {}; they were read as U+FFFD",
                d.encoding
            )
        });
        return (d, note);
    }
    if let Some(label) = xml_declared_encoding(bytes)
        && let Some(enc) = Encoding::for_label(label.as_bytes())
        && enc != UTF_8
    {
        return (whatwg(enc, bytes, enc.name()), None);
    }
    let first_bad = std::str::from_utf8(bytes)
        .err()
        .map_or(0, |e| e.valid_up_to());
    let text = clean(String::from_utf8_lossy(bytes).into_owned());
    (
        Decoded {
            text,
            encoding: "UTF-8",
            lossy: true,
        },
        Some(format!(
            "bytes that are not UTF-8 (the first at byte offset {first_bad}) were read as U+FFFD"
        )),
    )
}

/// The `encoding` of an `<?xml …?>` declaration at the start.
fn xml_declared_encoding(bytes: &[u8]) -> Option<String> {
    let head = bytes.get(..bytes.len().min(200))?;
    let head = String::from_utf8_lossy(head);
    let decl = head.trim_start().strip_prefix("<?xml")?;
    let decl = decl.get(..decl.find("?>")?)?;
    let at = decl.find("encoding")?;
    let rest = decl
        .get(at + 8..)?
        .trim_start()
        .strip_prefix('=')?
        .trim_start();
    let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let rest = rest.get(1..)?;
    Some(rest.get(..rest.find(quote)?)?.to_owned())
}

fn whatwg(enc: &'static Encoding, bytes: &[u8], name: &'static str) -> Decoded {
    let (text, had_errors) = enc.decode_without_bom_handling(bytes);
    Decoded {
        text: clean(text.into_owned()),
        encoding: name,
        lossy: had_errors,
    }
}

fn decode_oem(oem: &Oem, bytes: &[u8]) -> String {
    let table = match oem {
        Oem::Cp850 => &oem_cp::code_table::DECODING_TABLE_CP850,
        Oem::Cp437 => &oem_cp::code_table::DECODING_TABLE_CP437,
    };
    oem_cp::decode_string_complete_table(bytes, table)
}

/// NUL characters never belong in text output; dropping them also repairs UTF-16 text that was
/// pasted through a tool that kept the zero bytes.
fn clean(mut s: String) -> String {
    if s.contains('\0') {
        s.retain(|c| c != '\0');
    }
    s
}

/// Whether `bytes` are binary content rather than text in any encoding read here: in the first
/// 8 KiB (zero bytes that pad its end left out), more than one byte in 20 is a zero byte or a
/// C0 control that no text holds. UTF-16, with or without a BOM, is text (its zero bytes are
/// half of every ASCII letter); a file of nothing but zero bytes is binary.
pub(crate) fn looks_binary(bytes: &[u8]) -> bool {
    const HEAD: usize = 8192;
    if bytes.starts_with(&[0xFF, 0xFE])
        || bytes.starts_with(&[0xFE, 0xFF])
        || bytes.starts_with(&[0xEF, 0xBB, 0xBF])
        || utf16_without_bom(bytes).is_some()
    {
        return false;
    }
    let head = bytes.get(..bytes.len().min(HEAD)).unwrap_or(bytes);
    // A text file whose end was zeroed (a crash, a preallocated file) is still text.
    let end = head.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let Some(head) = head.get(..end).filter(|h| !h.is_empty()) else {
        // Nothing but zero bytes (an empty file is no binary: it is said to be empty).
        return !bytes.is_empty();
    };
    // Tab, line feed, vertical tab, form feed, carriage return and escape (colour codes in a
    // console transcript) occur in text; the other C0 controls and DEL do not.
    let odd = head
        .iter()
        .filter(|&&b| matches!(b, 0x00..=0x08 | 0x0E..=0x1A | 0x1C..=0x1F | 0x7F))
        .count();
    odd * 20 > head.len()
}

/// UTF-16 without a BOM: many zero bytes at one parity of position and few at the other.
/// Returns `Some(true)` for little-endian.
fn utf16_without_bom(bytes: &[u8]) -> Option<bool> {
    let sample = bytes.get(..bytes.len().min(4096))?;
    if sample.len() < 8 {
        return None;
    }
    let pairs = sample.len() / 2;
    let (mut even, mut odd) = (0usize, 0usize);
    for chunk in sample.chunks_exact(2) {
        if let [a, b] = chunk {
            even += usize::from(*a == 0);
            odd += usize::from(*b == 0);
        }
    }
    if odd * 10 >= pairs * 3 && even * 20 < pairs {
        Some(true)
    } else if even * 10 >= pairs * 3 && odd * 20 < pairs {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_score(_: &str) -> usize {
        0
    }

    fn utf16le(s: &str, bom: bool) -> Vec<u8> {
        let mut v = if bom { vec![0xFF, 0xFE] } else { Vec::new() };
        for u in s.encode_utf16() {
            v.extend_from_slice(&u.to_le_bytes());
        }
        v
    }

    #[test]
    fn boms_and_utf16() {
        let d = decode(b"\xEF\xBB\xBFName: x", &no_score);
        assert_eq!((d.text.as_str(), d.encoding), ("Name: x", "UTF-8 (BOM)"));
        let d = decode(&utf16le("License Status: Licensed\r\n", true), &no_score);
        assert_eq!(
            (d.text.as_str(), d.encoding),
            ("License Status: Licensed\r\n", "UTF-16LE (BOM)")
        );
        let d = decode(&utf16le("License Status: Licensed\r\n", false), &no_score);
        assert_eq!(
            (d.text.as_str(), d.encoding),
            ("License Status: Licensed\r\n", "UTF-16LE")
        );
        let mut be = vec![0xFE, 0xFF];
        for u in "Name: y".encode_utf16() {
            be.extend_from_slice(&u.to_be_bytes());
        }
        assert_eq!(decode(&be, &no_score).text, "Name: y");
    }

    #[test]
    fn legacy_code_pages_are_chosen_by_score() {
        // "Lizenzstatus: Benachrichtigung für" with ü as CP850 (0x81) and as Windows-1252 (0xFC).
        let cp850 = b"Verbleibende Zeit f\x81r Windows";
        let score = |t: &str| usize::from(t.contains("für"));
        let d = decode(cp850, &score);
        assert_eq!(d.encoding, "IBM850");
        assert!(d.text.contains("für"));
        let w1252 = b"Verbleibende Zeit f\xFCr Windows";
        let d = decode(w1252, &score);
        assert_eq!(d.encoding, "windows-1252");
        assert!(d.text.contains("für"));
        // GBK: 许可证状态 ("license status")
        let (gbk, _, _) = GBK.encode("许可证状态: 已授权");
        let score = |t: &str| usize::from(t.contains("许可证状态"));
        let d = decode(&gbk, &score);
        assert_eq!((d.encoding, d.text.as_str()), ("GBK", "许可证状态: 已授权"));
    }

    #[test]
    fn without_known_labels_the_most_plausible_reading_wins() {
        let (sjis, _, _) = SHIFT_JIS.encode("ライセンスの状態: 通知");
        assert_eq!(decode(&sjis, &no_score).encoding, "Shift_JIS");
        let cp850 = b"Vertrauensw\x81rdige Zeit: 05.07.2025";
        assert_eq!(decode(cp850, &no_score).encoding, "IBM850");
        let (cp1251, _, _) = WINDOWS_1251.encode("Состояние лицензии: имеет лицензию");
        assert_eq!(decode(&cp1251, &no_score).encoding, "windows-1251");
    }

    #[test]
    fn nul_bytes_are_dropped_and_garbage_never_panics() {
        assert_eq!(decode(b"a\0b", &no_score).text, "ab");
        for len in 0..64u8 {
            let bytes: Vec<u8> = (0..len)
                .map(|i| i.wrapping_mul(37).wrapping_add(200))
                .collect();
            let _ = decode(&bytes, &no_score);
        }
    }

    #[test]
    fn binary_content_is_told_from_text_in_any_encoding() {
        // Programs, images, a zeroed file: binary.
        let mut elf = b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0\x03\0>\0\x01\0\0\0".to_vec();
        elf.extend((0..4000u32).map(|i| u8::try_from(i * 7 % 256).unwrap_or(0)));
        assert!(looks_binary(&elf));
        assert!(looks_binary(&[0u8; 100]));
        let mut flipped_log = b"ElfFilE\0".to_vec();
        flipped_log.resize(4096, 0);
        flipped_log.extend_from_slice(b"ElfChnk\0");
        assert!(looks_binary(&flipped_log));
        // Text: UTF-8, legacy code pages, UTF-16 with and without a BOM, a console transcript
        // with colour codes, a text whose end was zeroed; an empty file is said to be empty.
        assert!(!looks_binary(b"License Status: Licensed\r\n"));
        assert!(!looks_binary(b"Verbleibende Zeit f\x81r Windows\r\n"));
        assert!(!looks_binary(&utf16le(
            "License Status: Licensed\r\n",
            true
        )));
        assert!(!looks_binary(&utf16le(
            "License Status: Licensed\r\n",
            false
        )));
        assert!(!looks_binary(b"\x1b[32mLicense Status: Licensed\x1b[0m\n"));
        let mut zero_tail = b"Name: Windows(R), Enterprise edition\r\n".to_vec();
        zero_tail.resize(9000, 0);
        assert!(!looks_binary(&zero_tail));
        assert!(!looks_binary(b""));
    }

    #[test]
    fn trim_gives_str_trims_answer() {
        for s in [
            "",
            " ",
            "a",
            " a ",
            "ab",
            "\u{a0}a",
            "a\u{2003}",
            "\ta\n",
            "x y",
            "\u{85}",
            "é",
            "é ",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }
}
