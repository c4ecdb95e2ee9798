//! Writing JSON that is faithful and safe to look at: `serde_json` escapes C0 control characters
//! already; this also escapes every other [`is_hidden`] character (DEL, the C1 controls such as
//! NEL U+0085 that break line-based readers, bidi overrides and isolates, line and paragraph
//! separators) as `\uXXXX`, which every JSON reader decodes back to the same text. Every JSON
//! renderer of every subcommand writes through [`write_pretty`] or [`write_compact`].

use std::io::{self, Write};

use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

use super::escape::is_hidden;

struct Safe<F>(F);

macro_rules! delegate {
    ($($name:ident $(, $arg:ident: $ty:ty)*;)*) => {
        $(
            fn $name<W: ?Sized + Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> io::Result<()> {
                self.0.$name(w $(, $arg)*)
            }
        )*
    };
}

impl<F: Formatter> Formatter for Safe<F> {
    delegate! {
        begin_array;
        end_array;
        begin_array_value, first: bool;
        end_array_value;
        begin_object;
        end_object;
        begin_object_key, first: bool;
        begin_object_value;
        end_object_value;
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if is_hidden(c) {
                w.write_all(fragment.get(start..i).unwrap_or_default().as_bytes())?;
                write!(w, "\\u{:04x}", u32::from(c))?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(fragment.get(start..).unwrap_or_default().as_bytes())
    }
}

/// Writes `value` as indented JSON.
pub(crate) fn write_pretty<T: Serialize + ?Sized>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Safe(PrettyFormatter::new()));
    // The conversion keeps the kind of a write error (a closed pipe stays a closed pipe).
    value.serialize(&mut ser).map_err(io::Error::from)
}

/// Writes `value` as JSON on one line.
pub(crate) fn write_compact<T: Serialize + ?Sized>(w: &mut dyn Write, value: &T) -> io::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(w, Safe(CompactFormatter));
    value.serialize(&mut ser).map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_separators_are_escaped_and_read_back_unchanged() {
        let text = "evil\u{202E}gnp.exe\u{2028}x\u{1b}y\u{85}z\u{9b}2J\u{7f}\u{2029}";
        let mut out = Vec::new();
        write_compact(&mut out, &text).unwrap_or_default();
        let json = String::from_utf8(out).unwrap_or_default();
        assert_eq!(
            json,
            r#""evil\u202egnp.exe\u2028x\u001by\u0085z\u009b2J\u007f\u2029""#
        );
        let back: String = serde_json::from_str(&json).unwrap_or_default();
        assert_eq!(back, text);
    }

    #[test]
    fn pretty_output_matches_serde_json() {
        let v = serde_json::json!({"a": [1, 2, {"b": "c"}], "d": {}});
        let mut out = Vec::new();
        write_pretty(&mut out, &v).unwrap_or_default();
        assert_eq!(
            String::from_utf8(out).unwrap_or_default(),
            serde_json::to_string_pretty(&v).unwrap_or_default()
        );
    }
}
