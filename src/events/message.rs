//! Reading payload strings back out of a rendered event message, through the message-table
//! template (`Genuine state set to non-genuine (%1) for application Id %2`). Exports that keep
//! only the message (Event Viewer CSV and text, `Get-WinEvent` without `Properties`) need it.
//!
//! Whitespace, including line breaks (`%n`), is compared loosely: exports render them as CRLF,
//! LF, or spaces. The templates themselves are parsed where the catalogue holds them
//! (`rules::events`).

use crate::rules::events::{Piece, parse_template, squash};

/// Matches a rendered message against a template. Returns the payload strings by placeholder
/// number (`%1` first); `None` when the message is not this template.
pub(crate) fn extract(template: &str, message: &str) -> Option<Vec<String>> {
    extract_any(&[parse_template(template)?], message)
}

/// Matches a rendered message against parsed templates (`Decoding::templates`), the first that
/// matches; the message is prepared once for them all.
pub(crate) fn extract_any(templates: &[Vec<Piece>], message: &str) -> Option<Vec<String>> {
    let msg = squash(message);
    let lower = msg.to_ascii_lowercase();
    templates.iter().find_map(|t| matched(t, &msg, &lower))
}

/// `msg` (squashed; `lower`, its ASCII lower case) read through the template `pieces`.
fn matched(pieces: &[Piece], msg: &str, lower: &str) -> Option<Vec<String>> {
    let mut pos = 0;
    let mut slots: Vec<(usize, String)> = Vec::new();
    let mut open: Option<usize> = None;
    for piece in pieces {
        match piece {
            Piece::Slot(n) => open = Some(*n),
            Piece::Text(t) => {
                // Spaces around a literal are part of it (" - " between a GUID and a count must
                // not match the GUID's own hyphens); a piece of only spaces still separates two
                // placeholders.
                let spaced = t.to_ascii_lowercase();
                let bare = spaced.trim();
                if bare.is_empty() && open.is_none() {
                    continue;
                }
                let (found, len) = if open.is_some() {
                    // Text right after a placeholder: the placeholder runs up to it.
                    let rest = lower.get(pos..)?;
                    match rest.find(&spaced) {
                        Some(i) if !spaced.is_empty() => (pos + i, spaced.len()),
                        _ => (
                            pos + rest.find(bare).filter(|_| !bare.is_empty())?,
                            bare.len(),
                        ),
                    }
                } else {
                    // Text without a placeholder before it must come next.
                    let rest = lower.get(pos..)?.trim_start();
                    if !rest.starts_with(bare) {
                        return None;
                    }
                    (lower.len() - rest.len(), bare.len())
                };
                if let Some(n) = open.take() {
                    slots.push((n, msg.get(pos..found)?.trim().to_owned()));
                }
                pos = found + len;
            }
        }
    }
    match open {
        Some(n) => slots.push((n, msg.get(pos..)?.trim().to_owned())),
        // A template that ends with text: nothing but punctuation may follow.
        None if !msg.get(pos..)?.trim().trim_matches(['.', ' ']).is_empty() => return None,
        None => {}
    }
    let max = slots.iter().map(|(n, _)| *n).max().unwrap_or(0);
    let mut out = vec![String::new(); max];
    for (n, v) in slots {
        if let Some(slot) = out.get_mut(n - 1) {
            *slot = v;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_come_back_out_of_messages() {
        let t = "Genuine state set to non-genuine (%1) for application Id %2";
        assert_eq!(
            extract(t, "Genuine state set to non-genuine (0x8004C40B) for application Id 55c92734-d682-4d71-983e-d6ec3f16059f").unwrap(),
            ["0x8004C40B", "55c92734-d682-4d71-983e-d6ec3f16059f"]
        );
        let info = "The client has sent an activation request to the key management service machine.%nInfo:%n%1";
        let msg = "The client has sent an activation request to the key management service machine.\r\nInfo:\r\n0xC004F06C, 0x00000000, kms:1688, x, 2010/09/29 17:52, 0, 2, 41760, y, 5";
        assert_eq!(
            extract(info, msg).unwrap(),
            ["0xC004F06C, 0x00000000, kms:1688, x, 2010/09/29 17:52, 0, 2, 41760, y, 5"]
        );
        // Placeholders out of order (8202).
        assert_eq!(
            extract(
                "%3 Token Store '%2' failed with error %1.%n",
                "Load Token Store 'C:\\t.dat' failed with error 0x80070005."
            )
            .unwrap(),
            ["0x80070005", "C:\\t.dat", "Load"]
        );
        // A different message does not match.
        assert_eq!(
            extract(t, "Genuine state set to genuine for application Id x"),
            None
        );
        assert_eq!(
            extract(
                "Offline downlevel migration succeeded.",
                "Offline downlevel migration succeeded."
            ),
            Some(vec![])
        );
        assert_eq!(
            extract(
                "Offline downlevel migration succeeded.",
                "Offline downlevel migration succeeded. Extra"
            ),
            None
        );
    }
}
