//! The ospp reader: Office's `cscript ospp.vbs` output — `/dstatus` and `/dstatusall` licence
//! blocks, `/act` results per product, `/dinstid`, `/dhistorykms` attempts and the one-line
//! results of `/inpkey`, `/unpkey`, `/inslic`, `/sethst` (…) — and the licence lists of tools that
//! print ospp's fields in another UI language, into the same [`LicenseSnapshot`] the slmgr reader
//! fills (every product marked as Office's).
//!
//! A text is ospp output by its structure, not by any one line: the `---Processing---` frame and
//! dashed separators, a `LICENSE STATUS:  ---X---` value, ospp's block labels (`SKU ID`,
//! `LICENSE NAME`, `LICENSE DESCRIPTION`, …) in a language `rules/ospp.toml` has, or Office
//! licence names standing alone as headings. Labels, status words and phrases come from
//! `rules/ospp.toml`; `vocab` matches them, `parser` walks the lines and closes the blocks, `fields` reads
//! the values that need more than storing. It
//! knows the format, not what the values mean for a diagnosis: an `ERROR CODE` is stored as the
//! state's reason (a success code, `0x4…`, only ever as information), or as the result of the
//! activation or command that printed it.

mod fields;
mod parser;
mod vocab;

#[cfg(test)]
mod tests;

use crate::model::snapshot::LicenseSnapshot;
use crate::rules::Rules;

/// Inputs larger than this are not ospp output (the slmgr reader's limit).
const MAX_INPUT_BYTES: usize = crate::slmgr::MAX_INPUT_BYTES;
/// Lines longer than this are cut.
const MAX_LINE_CHARS: usize = 4096;

/// Reads one input as ospp output: `None` when it does not have ospp's shape or says nothing.
pub(crate) fn read(rules: &Rules, path: &str, bytes: &[u8]) -> Option<Vec<LicenseSnapshot>> {
    if bytes.len() > MAX_INPUT_BYTES || bytes.is_empty() {
        return None;
    }
    let vocab = vocab::Vocabulary::new(rules);
    let decoded = crate::input::encoding::decode(bytes, &|t| score(&vocab, t));
    let mut snap = parse_text(&vocab, rules, path, &decoded.text)?;
    decoded.encoding.clone_into(&mut snap.encoding);
    if decoded.lossy {
        snap.warnings.push(format!(
            "some bytes are not valid {} and were replaced",
            decoded.encoding
        ));
    }
    Some(vec![snap])
}

/// How much of a text reads as ospp output (used to choose a legacy code page).
fn score(vocab: &vocab::Vocabulary, text: &str) -> usize {
    text.lines()
        .take(120)
        .filter(|l| !matches!(vocab.classify(l), vocab::Line::Blank | vocab::Line::Other))
        .count()
}

/// Parses decoded text: the snapshot when the text has ospp's shape and shows a product, a
/// command result or an activation attempt.
fn parse_text(
    vocab: &vocab::Vocabulary,
    rules: &Rules,
    path: &str,
    text: &str,
) -> Option<LicenseSnapshot> {
    let mut p = parser::Parser::new(vocab, rules, path);
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw: String = raw.chars().take(MAX_LINE_CHARS).collect();
        for part in vocab.collapsed_parts(raw.trim_end_matches('\r')) {
            p.line(line_no, part);
        }
    }
    let (snap, shape) = p.finish();
    let says_something =
        !snap.products.is_empty() || !snap.commands.is_empty() || !snap.kms_attempts.is_empty();
    (shape.is_ospp() && says_something).then_some(snap)
}
