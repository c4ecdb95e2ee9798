//! Rendering for people and machines: terminal style (colour, width) and one renderer module per
//! kind of answer; hostile strings are made harmless in [`escape`]. Renderers know the report
//! model and the answers they are given, not the command line or the pipeline that made them.

pub(crate) mod collect;
pub(crate) mod csv;
pub(crate) mod escape;
pub(crate) mod events;
pub(crate) mod filter;
pub(crate) mod host_count;
pub(crate) mod html;
pub(crate) mod json;
pub(crate) mod jsonl;
pub(crate) mod lookup;
pub(crate) mod markdown;
pub(crate) mod problems;
pub(crate) mod rules_test;
pub(crate) mod snapshot;
pub(crate) mod svg;
pub(crate) mod synth;
pub(crate) mod text;

use std::io::{self, Write};

use owo_colors::OwoColorize;

use crate::model::Report;
use crate::rules::Severity;
use crate::zone::Zone;

pub(crate) use escape::{csv_cell, sanitize};

/// The formats of an analysis report (`kmsdiag analyze --format`; the command line maps its
/// words to these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    Text,
    Json,
    Jsonl,
    Csv,
    Md,
    Html,
}

impl ReportFormat {
    /// Every format, in the order `--help` lists them.
    pub const ALL: [ReportFormat; 6] = [
        ReportFormat::Text,
        ReportFormat::Json,
        ReportFormat::Jsonl,
        ReportFormat::Csv,
        ReportFormat::Md,
        ReportFormat::Html,
    ];
}

/// How much of the report to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Detail {
    /// The summary table only.
    Quiet,
    #[default]
    Normal,
    /// Every activation attempt of every machine too.
    Verbose,
}

pub use filter::Filter;

/// How a report is shown: the terminal style, the time zone, the level of detail and which
/// machines and findings (applied once, in [`render`], for every format).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View {
    pub style: Style,
    pub zone: Zone,
    pub detail: Detail,
    pub filter: Filter,
}

impl View {
    /// Plain text, UTC, normal detail: for tests and files.
    pub fn plain() -> View {
        View {
            style: Style::plain(),
            zone: Zone::Utc,
            detail: Detail::Normal,
            filter: Filter::default(),
        }
    }
}

/// Writes `report` in `format`, as the view's filter shows it.
pub fn render(
    w: &mut dyn Write,
    format: ReportFormat,
    view: &View,
    report: &Report,
) -> io::Result<()> {
    let shown = filter::apply(report, view.filter);
    let report: &Report = &shown;
    match format {
        ReportFormat::Text => text::write_text(w, view, report),
        ReportFormat::Json => {
            json::write_pretty(w, report)?;
            writeln!(w)
        }
        ReportFormat::Jsonl => jsonl::write_jsonl(w, report),
        ReportFormat::Csv => csv::write_csv(w, view, report),
        ReportFormat::Md => markdown::write_markdown(w, view, report),
        ReportFormat::Html => html::write_html(w, view, report),
    }
}

/// A CSV writer's error as an I/O error that keeps the kind of a write failure, so a closed pipe
/// stays a closed pipe (the `csv` crate's own conversion makes every error `Other`).
pub(crate) fn csv_error(e: ::csv::Error) -> io::Error {
    let kind = match e.kind() {
        ::csv::ErrorKind::Io(io) => io.kind(),
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, e)
}

/// Whether to colour output, as the user asked (`--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
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
pub(crate) const DEFAULT_WIDTH: usize = 100;

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

/// Writes a warning or error line to stderr (the only place kmsdiag writes to stderr).
pub(crate) fn diagnostic(level: &str, message: &str) {
    let mut err = io::stderr().lock();
    // Nothing useful can be done if stderr itself is gone.
    // Newlines are kept (a parse error quotes its line), continuation lines indented.
    let text = sanitize(message, false).replace('\n', "\n  ");
    let _ = writeln!(err, "{level}: {text}");
}

/// Writes a line that already carries its level (such as a rule [`Problem`](crate::rules::Problem)).
pub(crate) fn diagnostic_raw(message: &str) {
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
}
