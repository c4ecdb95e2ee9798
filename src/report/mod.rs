//! Rendering for people and machines: terminal style (colour, width), making hostile strings
//! harmless, and one renderer module per kind of answer.

pub mod analyze;
pub mod events;
pub mod lookup;
pub mod problems;
pub mod snapshot;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io::{self, Write};

use owo_colors::OwoColorize;

use crate::rules::Severity;

/// Whether to colour output, as the user asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    #[default]
    Auto,
    Always,
    Never,
}

/// How text output looks: decided once, from the flags and the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    pub color: bool,
    /// Column to wrap prose at.
    pub width: usize,
}

/// Width used when output is not a terminal: wide enough for tickets, stable for tests.
pub const DEFAULT_WIDTH: usize = 100;

impl Style {
    /// `no_color` is whether `NO_COLOR` is set to a non-empty value; `terminal_width` is the
    /// width of stdout when it is a terminal.
    pub fn decide(choice: ColorChoice, terminal_width: Option<usize>, no_color: bool) -> Style {
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal_width.is_some() && !no_color,
        };
        Style {
            color,
            width: terminal_width.unwrap_or(DEFAULT_WIDTH).clamp(40, 160),
        }
    }

    /// Plain style for tests and machine output.
    pub fn plain() -> Style {
        Style {
            color: false,
            width: DEFAULT_WIDTH,
        }
    }

    pub fn bold(&self, s: &str) -> String {
        if self.color {
            s.bold().to_string()
        } else {
            s.to_owned()
        }
    }

    pub fn dim(&self, s: &str) -> String {
        if self.color {
            s.dimmed().to_string()
        } else {
            s.to_owned()
        }
    }

    pub fn ok(&self, s: &str) -> String {
        if self.color {
            s.bold().green().to_string()
        } else {
            s.to_owned()
        }
    }

    pub fn heading(&self, s: &str) -> String {
        if self.color {
            s.bold().cyan().to_string()
        } else {
            s.to_owned()
        }
    }

    /// Text coloured by severity.
    pub fn severity(&self, sev: Severity, s: &str) -> String {
        if !self.color {
            return s.to_owned();
        }
        match sev {
            Severity::Error => s.bold().red().to_string(),
            Severity::Warning => s.bold().yellow().to_string(),
            Severity::Informational => s.bold().blue().to_string(),
        }
    }

    /// Wraps prose to the style's width with the given indents.
    pub fn wrap(&self, text: &str, first: &str, rest: &str) -> String {
        let opts = textwrap::Options::new(self.width)
            .initial_indent(first)
            .subsequent_indent(rest)
            .break_words(false)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        textwrap::fill(text, opts)
    }
}

/// Makes a string safe to print on a terminal: control characters (C0, C1, DEL), escape
/// sequences and bidirectional overrides are shown as `\u{..}` instead of being interpreted.
/// Newlines and tabs are kept unless `single_line`.
pub fn sanitize(s: &str, single_line: bool) -> Cow<'_, str> {
    let bad = |c: char| {
        (c.is_control() && (single_line || (c != '\n' && c != '\t')))
            || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
    };
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

/// Writes a warning or error line to stderr (the only place kmsdiag writes to stderr).
pub fn diagnostic(level: &str, message: &str) {
    let mut err = io::stderr().lock();
    // Nothing useful can be done if stderr itself is gone.
    let _ = writeln!(err, "{level}: {}", sanitize(message, true));
}

/// Writes a line that already carries its level (such as a rule [`Problem`](crate::rules::Problem)).
pub fn diagnostic_raw(message: &str) {
    let mut err = io::stderr().lock();
    let _ = writeln!(err, "{}", sanitize(message, true));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colour_decision_follows_flag_tty_and_no_color() {
        assert!(!Style::decide(ColorChoice::Auto, None, false).color);
        assert!(Style::decide(ColorChoice::Auto, Some(80), false).color);
        assert!(!Style::decide(ColorChoice::Auto, Some(80), true).color);
        assert!(Style::decide(ColorChoice::Always, None, true).color);
        assert!(!Style::decide(ColorChoice::Never, Some(80), false).color);
        assert_eq!(Style::decide(ColorChoice::Never, Some(10), false).width, 40);
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
    }
}
