//! The evidence reader, the last rung of the reading ladder: text that is neither slmgr output
//! nor an event export (prose, an e-mail, a chat message, a Settings or slui dialog's text) read
//! for the result codes it mentions, each with the line it stood in (`scan` finds them), and for
//! the machine it names in a plain `Computer: NAME` line.
//!
//! What it returns is a [`LicenseSnapshot`] with mentions, and the license-state lines of `/xpr`
//! that the text quotes (`it says "Windows is in Notification mode"`, read by the slmgr
//! reader's own vocabulary); no product and no command result, because running text shows none
//! it could be sure of. It knows text and the
//! rule table's codes, not what a code means for a diagnosis; binary content is not text.

mod scan;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use regex::Regex;

use crate::model::snapshot::{LicenseSnapshot, Mention, TextLine};
use crate::rules::Rules;

/// Lines longer than this are cut (as the slmgr reader cuts them).
const MAX_LINE_CHARS: usize = 4096;
/// Mentions kept from one input; a log that repeats one code ten thousand times says no more.
const MAX_MENTIONS: usize = 1000;

/// A `Computer: NAME` line (also `Computer Name`, `ComputerName`, `Host name`), possibly quoted or
/// bulleted: the machine the text is about.
fn computer_line() -> &'static Regex {
    static RE: OnceLock<Regex> = OnceLock::new();
    RE.get_or_init(|| {
        Regex::new(
            r"(?i)^[\s>*`|#-]*(?:computer\s*name|computer|host\s*name)[\s*`]*:[\s*`]*([a-z0-9][a-z0-9._-]{0,252})[\s*`]*$",
        )
        .unwrap_or_else(|_| unreachable!())
    })
}

/// Reads `bytes` as running text. `None` when it is binary, or mentions no result code and quotes
/// no license state.
/// `slmgr` is the slmgr reader the caller already built: its vocabulary reads the `/xpr` lines
/// a text quotes.
pub(crate) fn read(
    rules: &Rules,
    slmgr: &crate::slmgr::SlmgrReader,
    path: &str,
    bytes: &[u8],
) -> Option<LicenseSnapshot> {
    let decoded = crate::input::encoding::decode(bytes, &|_| 0);
    // Zero bytes belong to UTF-16 text (decoded above) or to binary content, never to prose.
    if bytes.contains(&0) && !decoded.encoding.starts_with("UTF-16") {
        return None;
    }
    let mut mentions = Vec::new();
    let mut states = Vec::new();
    let mut names: Vec<(String, TextLine)> = Vec::new();
    let mut lines = 0u32;
    let mut understood = 0u32;
    for (i, raw) in decoded.text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        lines = line_no;
        let text: String = raw
            .trim_end_matches('\r')
            .chars()
            .take(MAX_LINE_CHARS)
            .collect();
        let codes = scan::codes_in_line(rules, &text);
        if !codes.is_empty() {
            understood = understood.saturating_add(1);
        }
        for code in codes {
            if mentions.len() < MAX_MENTIONS {
                mentions.push(Mention {
                    line: TextLine {
                        line: line_no,
                        text: text.clone(),
                    },
                    code,
                });
            }
        }
        if states.len() < MAX_MENTIONS {
            let line = TextLine {
                line: line_no,
                text: text.clone(),
            };
            for fragment in scan::quoted(&text) {
                states.extend(slmgr.quoted_states(fragment, &line));
            }
        }
        if let Some(name) = machine_named(&text)
            && !names.iter().any(|(n, _)| n.eq_ignore_ascii_case(&name))
        {
            let line = TextLine {
                line: line_no,
                text: text.clone(),
            };
            names.push((name, line));
        }
    }
    if mentions.is_empty() && states.is_empty() {
        return None;
    }
    let mut warnings = Vec::new();
    if decoded.lossy {
        warnings.push(format!(
            "some bytes are not valid {} and were replaced",
            decoded.encoding
        ));
    }
    // One name is the machine; several are several machines this reader cannot tell apart.
    let (machine, machine_line) = match names.pop() {
        Some((name, line)) if names.is_empty() => (Some(name), Some(line)),
        _ => (None, None),
    };
    Some(LicenseSnapshot {
        path: path.to_owned(),
        encoding: decoded.encoding.to_owned(),
        languages: Vec::new(),
        machine,
        machine_line,
        service_version: None,
        cmid: None,
        products: Vec::new(),
        commands: Vec::new(),
        expiry: states,
        not_understood: Vec::new(),
        mentions,
        kms_attempts: Vec::new(),
        warnings,
        lines_read: lines,
        lines_understood: understood,
        lines_recovered: 0,
    })
}

/// The result codes lines another reader could not use mention (a partly read slmgr or ospp
/// text with a sentence between its fields), each with its line: running text is running text
/// wherever it stands.
pub(crate) fn mentions_in<'a>(
    rules: &Rules,
    lines: impl IntoIterator<Item = &'a TextLine>,
) -> Vec<Mention> {
    let mut out = Vec::new();
    for line in lines {
        for code in scan::codes_in_line(rules, &line.text) {
            if out.len() < MAX_MENTIONS {
                out.push(Mention {
                    line: line.clone(),
                    code,
                });
            }
        }
    }
    out
}

/// The machine a `Computer: NAME` line names.
fn machine_named(line: &str) -> Option<String> {
    let folded: String = scan::fold_width(line).into_iter().collect();
    let caps = computer_line().captures(&folded)?;
    let name = caps.get(1)?.as_str().trim_end_matches(['.', '-']);
    (!name.is_empty()).then(|| name.to_owned())
}
