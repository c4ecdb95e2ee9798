//! Making strings from the input harmless where they are shown: on a terminal (control
//! characters, escape sequences, bidi overrides, line and paragraph separators), in a spreadsheet
//! (cells read as formulas), in JSON (the same characters as `\uXXXX`) and in HTML (markup).
//! [`is_hidden`] is the one definition of a dangerous character; every renderer of every
//! subcommand escapes through here. It knows strings, not reports.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` would act rather than show: a control character (C0, DEL, C1 such as CSI U+009B
/// and NEL U+0085, which start escape sequences or end lines), a bidirectional override, isolate
/// or mark (which reorder what is shown), or a line or paragraph separator (U+2028, U+2029, which
/// split lines in editors and JavaScript).
pub(crate) fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{061C}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Makes a string safe to print on a terminal: every [`is_hidden`] character is shown as
/// `\u{..}` instead of being interpreted. Newlines and tabs are kept unless `single_line`.
pub(crate) fn sanitize(s: &str, single_line: bool) -> Cow<'_, str> {
    let bad = |c: char| is_hidden(c) && (single_line || (c != '\n' && c != '\t'));
    if !s.chars().any(bad) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if bad(c) {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Makes a cell safe to open in a spreadsheet: a cell that starts (after spaces) with `=`, `+`,
/// `-`, `@`, a tab or a carriage return, or their full-width forms, would be read as a formula,
/// so it gets a leading apostrophe.
pub(crate) fn spreadsheet_safe(s: &str) -> Cow<'_, str> {
    let first = s.trim_start_matches(' ').chars().next();
    if first.is_some_and(|c| {
        matches!(
            c,
            '=' | '+' | '-' | '@' | '\t' | '\r' | '\u{FF1D}' | '\u{FF0B}' | '\u{FF0D}' | '\u{FF20}'
        )
    }) {
        Cow::Owned(format!("'{s}"))
    } else {
        Cow::Borrowed(s)
    }
}

/// A CSV cell from input-derived text: hidden characters made visible (newlines and tabs kept;
/// the CSV writer quotes them), then a formula start neutralised.
pub(crate) fn csv_cell(s: &str) -> String {
    spreadsheet_safe(&sanitize(s, false)).into_owned()
}

/// Escapes text for HTML element content and quoted attribute values; control characters and
/// bidi overrides are made visible first.
pub(crate) fn esc(s: &str) -> String {
    let s = sanitize(s, true);
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
        );
        assert_eq!(esc("a'b&c"), "a&#39;b&amp;c");
        assert_eq!(esc("pc\u{1b}]0;owned\u{7}"), "pc\\u{1b}]0;owned\\u{7}");
    }

    #[test]
    fn formula_cells_are_neutralised() {
        assert_eq!(
            spreadsheet_safe("=HYPERLINK(\"http://x\")"),
            "'=HYPERLINK(\"http://x\")"
        );
        assert_eq!(spreadsheet_safe("+1"), "'+1");
        assert_eq!(spreadsheet_safe("-2+3"), "'-2+3");
        assert_eq!(spreadsheet_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(spreadsheet_safe("  =1+1"), "'  =1+1");
        assert_eq!(spreadsheet_safe("\u{FF1D}1+1"), "'\u{FF1D}1+1");
        assert_eq!(spreadsheet_safe("\tx"), "'\tx");
        assert_eq!(spreadsheet_safe("PC01"), "PC01");
        assert_eq!(spreadsheet_safe("a=b"), "a=b");
    }

    #[test]
    fn sanitize_neutralises_escapes_and_bidi() {
        assert_eq!(sanitize("plain", true), "plain");
        assert_eq!(sanitize("a\u{1b}[31mb", true), "a\\u{1b}[31mb");
        assert_eq!(sanitize("x\ry", true), "x\\u{d}y");
        assert_eq!(sanitize("evil\u{202E}txt", true), "evil\\u{202e}txt");
        assert_eq!(sanitize("two\nlines", false), "two\nlines");
        assert_eq!(sanitize("two\nlines", true), "two\\u{a}lines");
        assert_eq!(sanitize("c1\u{9b}x", true), "c1\\u{9b}x");
        assert_eq!(sanitize("nel\u{85}x", false), "nel\\u{85}x");
        assert_eq!(
            sanitize("a\u{2028}b\u{2029}c", false),
            "a\\u{2028}b\\u{2029}c"
        );
        assert_eq!(sanitize("del\u{7f}", true), "del\\u{7f}");
    }

    #[test]
    fn csv_cells_are_visible_and_formula_free() {
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("pc\u{1b}]0;t\u{7}"), "pc\\u{1b}]0;t\\u{7}");
        assert_eq!(csv_cell("two\nlines"), "two\nlines");
        // The escape is applied first, so a hidden character cannot hide a formula start.
        assert_eq!(csv_cell("\u{9b}=x"), "\\u{9b}=x");
    }
}
