//! The ospp vocabulary prepared for matching: every language's labels, status words, phrases and
//! value words from `rules/ospp.toml`, folded once, and what a line is by them (a labelled field,
//! a whole-line phrase, a separator, a prompt that runs ospp.vbs, an Office licence name standing
//! alone). It knows words, not what a block of them means.

use std::collections::HashMap;

use crate::model::license::LicenseState;
use crate::rules::Rules;
use crate::rules::ospp::{OsppField, OsppPhrase, OsppWord};

/// A phrase as matched: its folded text, and whether a placeholder ends it (then it matches a
/// line that starts with the text).
struct Phrase {
    id: OsppPhrase,
    text: String,
    open_end: bool,
    lang: usize,
}

/// The prepared tables.
pub(super) struct Vocabulary {
    fields: HashMap<String, (OsppField, usize)>,
    status: Vec<(String, LicenseState)>,
    phrases: Vec<Phrase>,
    words: Vec<(String, OsppWord)>,
    pub(super) languages: Vec<String>,
}

/// What one line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Line<'a> {
    Blank,
    /// A line of dashes (ospp's block separator) or `---Processing---`/`---Exiting---`.
    Separator {
        marker: bool,
    },
    /// A command prompt that runs ospp.vbs with this option (`act`, `dstatus`, `inpkey`, …).
    Prompt(String),
    Phrase {
        id: OsppPhrase,
        rest: &'a str,
        lang: usize,
    },
    Field {
        id: OsppField,
        value: &'a str,
        lang: usize,
    },
    /// `Office 16, Office16ProPlusVL_KMS_Client edition` alone: a licence name as a heading.
    LicenseName(&'a str),
    Other,
}

/// Lower case, outer spaces and a trailing colon or dot removed, full-width colons as ASCII.
pub(super) fn fold(s: &str) -> String {
    s.trim()
        .replace('\u{FF1A}', ":")
        .trim_end_matches([':', '.', ' '])
        .trim()
        .to_lowercase()
}

/// A status word without its decoration: `---OOB_ GRACE---` and `OOB_GRACE` are one word.
pub(super) fn fold_status(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '-' | '_' | ' ' | '\t' | '\u{3000}'))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The line without list bullets, quote marks and indentation pasted around it.
pub(super) fn strip_decoration(line: &str) -> &str {
    let mut t = line.trim();
    loop {
        let next = t
            .strip_prefix(['•', '·', '●', '▪', '>'])
            .or_else(|| t.strip_prefix("* "))
            .or_else(|| t.strip_prefix("- ").filter(|_| !t.starts_with("--")))
            .map(str::trim_start);
        match next {
            Some(n) => t = n,
            None => return t.trim_end(),
        }
    }
}

impl Vocabulary {
    pub(super) fn new(rules: &Rules) -> Vocabulary {
        let mut v = Vocabulary {
            fields: HashMap::new(),
            status: Vec::new(),
            phrases: Vec::new(),
            words: Vec::new(),
            languages: Vec::new(),
        };
        for (lang, l) in rules.ospp().languages.iter().enumerate() {
            v.languages.push(l.id.clone());
            for (id, labels) in &l.fields {
                for label in labels {
                    v.fields.entry(fold(label)).or_insert((*id, lang));
                }
            }
            for (state, words) in &l.status {
                for w in words {
                    v.status.push((fold_status(w), *state));
                }
            }
            for (id, texts) in &l.phrases {
                for t in texts {
                    let open_end = t.trim_end().ends_with('%');
                    let text = match t.find('%') {
                        Some(i) if open_end => t.get(..i).unwrap_or(""),
                        _ => t.as_str(),
                    };
                    v.phrases.push(Phrase {
                        id: *id,
                        text: fold(text),
                        open_end,
                        lang,
                    });
                }
            }
            for (id, words) in &l.words {
                for w in words {
                    v.words.push((w.to_lowercase(), *id));
                }
            }
        }
        // Longer phrases first, so the most specific one wins.
        v.phrases
            .sort_by_key(|p| std::cmp::Reverse(p.text.chars().count()));
        v.words
            .sort_by_key(|(w, _)| std::cmp::Reverse(w.chars().count()));
        v
    }

    /// The licence state a status value names, if any language has the word.
    pub(super) fn status(&self, value: &str) -> Option<LicenseState> {
        let f = fold_status(value);
        self.status.iter().find(|(w, _)| *w == f).map(|(_, s)| *s)
    }

    /// Whether `text` contains the phrase `id` in any language.
    pub(super) fn contains_phrase(&self, text: &str, id: OsppPhrase) -> bool {
        let t = text.to_lowercase();
        self.phrases
            .iter()
            .any(|p| p.id == id && !p.text.is_empty() && t.contains(&p.text))
    }

    /// The value word at the start of `s` (`days`, `minute(s)`, `天`), if any.
    pub(super) fn word_at(&self, s: &str) -> Option<OsppWord> {
        let t = s.trim_start().to_lowercase();
        self.words
            .iter()
            .find(|(w, _)| t.starts_with(w.as_str()))
            .map(|(_, id)| *id)
    }

    /// The parts of a line into which ospp's output was collapsed (line breaks lost when it was
    /// copied from a page or pasted into a title): the line cut before every known label that
    /// ends with a colon, when it holds two or more. A line with fewer is one part.
    pub(super) fn collapsed_parts<'a>(&self, line: &'a str) -> Vec<&'a str> {
        /// The longest label looked for before a colon, in chars.
        const MAX_LABEL_CHARS: usize = 64;
        let mut starts: Vec<usize> = Vec::new();
        for (colon, c) in line.char_indices() {
            if c != ':' && c != '\u{FF1A}' {
                continue;
            }
            let before = line.get(..colon).unwrap_or("");
            let from: Vec<usize> = before
                .char_indices()
                .map(|(i, _)| i)
                .rev()
                .take(MAX_LABEL_CHARS)
                .collect();
            // The longest suffix of the text before the colon that is a label of any language.
            let start = from.into_iter().rev().find(|&j| {
                let label = before.get(j..).unwrap_or("");
                let glued = before.get(..j).and_then(|b| b.chars().next_back());
                let first = label.chars().next();
                let inside_word = glued.is_some_and(|g| g.is_ascii_alphabetic())
                    && first.is_some_and(|f| f.is_ascii_alphabetic());
                !label.starts_with(char::is_whitespace)
                    && !inside_word
                    && self.fields.contains_key(&fold(label))
            });
            if let Some(j) = start
                && starts.last().is_none_or(|&last| j > last)
            {
                starts.push(j);
            }
        }
        if starts.len() < 2 {
            return vec![line];
        }
        let mut parts = Vec::with_capacity(starts.len() + 1);
        let mut from = 0;
        for j in starts {
            if let Some(part) = line.get(from..j).filter(|p| !p.trim().is_empty()) {
                parts.push(part);
            }
            from = j;
        }
        if let Some(part) = line.get(from..).filter(|p| !p.trim().is_empty()) {
            parts.push(part);
        }
        parts
    }

    /// What a line (without its decoration) is.
    pub(super) fn classify<'a>(&self, line: &'a str) -> Line<'a> {
        let t = strip_decoration(line);
        if t.is_empty() {
            return Line::Blank;
        }
        if let Some(sep) = separator(t) {
            return sep;
        }
        let folded = fold(t);
        for p in &self.phrases {
            let hit = if p.open_end {
                folded.starts_with(&p.text)
            } else {
                folded == p.text
            };
            if hit {
                let rest = if p.open_end {
                    rest_after(t, p.text.chars().count())
                } else {
                    ""
                };
                return Line::Phrase {
                    id: p.id,
                    rest,
                    lang: p.lang,
                };
            }
        }
        if let Some(cmd) = prompt_command(t) {
            return Line::Prompt(cmd);
        }
        if let Some(i) = t.find([':', '\u{FF1A}']) {
            let (label, value) = t.split_at(i);
            if let Some((id, lang)) = self.fields.get(&fold(label)) {
                let value = value
                    .strip_prefix(':')
                    .or_else(|| value.strip_prefix('\u{FF1A}'))
                    .unwrap_or(value);
                return Line::Field {
                    id: *id,
                    value: value.trim(),
                    lang: *lang,
                };
            }
        }
        if is_license_name(t) {
            return Line::LicenseName(t);
        }
        Line::Other
    }
}

/// `t` after its first `n` characters, trimmed (the text a phrase's placeholder stood for).
fn rest_after(t: &str, n: usize) -> &str {
    let start = t.char_indices().nth(n).map_or(t.len(), |(i, _)| i);
    t.get(start..)
        .unwrap_or("")
        .trim_start_matches([':', '\u{FF1A}', ' '])
        .trim()
}

/// A line of at least ten dashes, or dashes around one word (`---Processing---`).
fn separator(t: &str) -> Option<Line<'static>> {
    if !t.starts_with("---") || !t.ends_with("---") {
        return None;
    }
    let inner = t.trim_matches('-');
    if inner.is_empty() {
        return (t.chars().count() >= 10).then_some(Line::Separator { marker: false });
    }
    inner
        .chars()
        .all(char::is_alphabetic)
        .then_some(Line::Separator { marker: true })
}

/// The ospp.vbs option a prompt line runs (`C:\…>cscript ospp.vbs /dstatus`, `PS …> cscript
/// "…\OSPP.VBS" /act`), lower-cased, without its value.
fn prompt_command(t: &str) -> Option<String> {
    let lower = t.to_ascii_lowercase();
    let at = lower.find("ospp.vbs")?;
    let after = lower.get(at + "ospp.vbs".len()..)?;
    let slash = after.find('/')?;
    let opt: String = after
        .get(slash + 1..)?
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (!opt.is_empty()).then_some(opt)
}

/// An Office licence name alone on a line: `<family> <version>, <licence> edition` (the name
/// ospp prints after `LICENSE NAME:`, which tools listing licences print as a heading).
pub(super) fn is_license_name(t: &str) -> bool {
    let lower = t.to_ascii_lowercase();
    let Some((family, rest)) = lower.split_once(", ") else {
        return false;
    };
    let mut words = family.split_whitespace();
    words.next() == Some("office")
        && words
            .next()
            .is_some_and(|v| v.chars().all(|c| c.is_ascii_digit()))
        && words.next().is_none()
        && rest.trim_end().ends_with(" edition")
}
