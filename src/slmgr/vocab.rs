//! Matching lines against the slmgr label tables of every language at once: a field label before a
//! colon, a whole-line phrase (with `%PLACEHOLDER%` gaps), a license-status text, a value word.
//!
//! Matching ignores ASCII case, runs of spaces, full-width colons and brackets, and a trailing
//! colon or full stop. Offsets are kept so values are returned exactly as printed.

use crate::model::license::LicenseState;
use crate::rules::Rules;
use crate::rules::slmgr::{FieldId, PhraseId, WordId};

/// A line prepared for matching: `work` keeps the original case, `lower` has the same byte
/// offsets with ASCII letters lower-cased.
pub(crate) struct Prepared {
    pub(crate) work: String,
    pub(crate) lower: String,
}

/// Folds full-width punctuation, collapses spaces and trims.
pub(crate) fn prepare(line: &str) -> Prepared {
    let mut work = String::with_capacity(line.len());
    let mut last_space = true;
    for c in line.chars() {
        let c = match c {
            '\u{FF1A}' => ':',
            '\u{FF08}' => '(',
            '\u{FF09}' => ')',
            '\u{3000}' | '\u{A0}' | '\t' => ' ',
            other => other,
        };
        if c == ' ' {
            if !last_space {
                work.push(' ');
            }
            last_space = true;
        } else {
            work.push(c);
            last_space = false;
        }
    }
    while work.ends_with(' ') {
        work.pop();
    }
    let lower = work.to_ascii_lowercase();
    Prepared { work, lower }
}

fn norm(s: &str) -> String {
    let p = prepare(s);
    strip_end(&p.lower).to_owned()
}

/// Without a trailing colon, full stop or ideographic full stop.
fn strip_end(s: &str) -> &str {
    s.trim_end_matches([':', '.', '\u{3002}', ' '])
}

/// A phrase split at its placeholders.
struct Pattern {
    parts: Vec<String>,
    /// Whether the phrase has placeholders (then it has `parts.len() - 1` captures).
    open: bool,
}

impl Pattern {
    fn new(phrase: &str) -> Pattern {
        let n = norm(phrase);
        let mut parts = Vec::new();
        let mut rest = n.as_str();
        let mut open = false;
        while let Some(start) = rest.find('%') {
            let after = rest.get(start + 1..).unwrap_or("");
            let Some(end) = after.find('%') else { break };
            parts.push(rest.get(..start).unwrap_or("").to_owned());
            rest = after.get(end + 1..).unwrap_or("");
            open = true;
        }
        parts.push(rest.to_owned());
        Pattern { parts, open }
    }

    /// Matches a prepared line; returns the captured gaps (from the original-case text).
    fn matches(&self, p: &Prepared) -> Option<Vec<String>> {
        let lower = strip_end(&p.lower);
        if !self.open {
            return (lower == self.parts.first()?.as_str()).then(Vec::new);
        }
        let first = self.parts.first()?;
        let last = self.parts.last()?;
        if !lower.starts_with(first.as_str())
            || !lower.ends_with(last.as_str())
            || lower.len() < first.len() + last.len()
        {
            return None;
        }
        let mut caps = Vec::new();
        let mut pos = first.len();
        let end_limit = lower.len() - last.len();
        let middles = self.parts.get(1..self.parts.len() - 1).unwrap_or(&[]);
        for mid in middles {
            let found = lower.get(pos..end_limit)?.find(mid.as_str())? + pos;
            caps.push(p.work.get(pos..found)?.trim().to_owned());
            pos = found + mid.len();
        }
        caps.push(p.work.get(pos..end_limit)?.trim().to_owned());
        if caps.iter().any(String::is_empty) {
            return None;
        }
        Some(caps)
    }
}

/// Every language's labels, phrases, status texts and words, ready to match.
pub(crate) struct Vocabulary {
    labels: Vec<(String, FieldId, usize)>,
    phrases: Vec<(Pattern, PhraseId, usize)>,
    statuses: Vec<(String, LicenseState)>,
    words: Vec<(String, WordId)>,
    pub(crate) languages: Vec<String>,
}

/// What a line is, as far as the tables tell.
pub(crate) enum Match {
    Field {
        id: FieldId,
        value: String,
        lang: usize,
    },
    Phrase {
        id: PhraseId,
        captures: Vec<String>,
        lang: usize,
    },
}

impl Vocabulary {
    pub(crate) fn new(rules: &Rules) -> Vocabulary {
        let mut v = Vocabulary {
            labels: Vec::new(),
            phrases: Vec::new(),
            statuses: Vec::new(),
            words: Vec::new(),
            languages: Vec::new(),
        };
        for (li, lang) in rules.slmgr_languages().iter().enumerate() {
            v.languages.push(lang.id.clone());
            for (id, labels) in &lang.fields {
                v.labels.extend(labels.iter().map(|l| (norm(l), *id, li)));
            }
            for (id, phrases) in &lang.phrases {
                v.phrases
                    .extend(phrases.iter().map(|p| (Pattern::new(p), *id, li)));
            }
            for (id, texts) in &lang.status {
                v.statuses.extend(texts.iter().map(|t| (norm(t), *id)));
            }
            for (id, words) in &lang.words {
                v.words.extend(words.iter().map(|w| (norm(w), *id)));
            }
        }
        // Longest first, so "Activation ID" never shadows "Activation interval" and exact
        // phrases are tried before open patterns.
        v.labels
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then(a.1.cmp(&b.1)));
        v.statuses.sort_by_key(|s| std::cmp::Reverse(s.0.len()));
        v.phrases.sort_by_key(|(p, _, _)| {
            (
                p.open,
                std::cmp::Reverse(p.parts.iter().map(String::len).sum::<usize>()),
            )
        });
        v
    }

    /// Classifies a prepared, non-blank line.
    pub(crate) fn classify(&self, p: &Prepared) -> Option<Match> {
        for (pat, id, lang) in self.phrases.iter().filter(|(pat, _, _)| !pat.open) {
            if pat.matches(p).is_some() {
                return Some(Match::Phrase {
                    id: *id,
                    captures: Vec::new(),
                    lang: *lang,
                });
            }
        }
        if let Some(m) = self.field(p) {
            return Some(m);
        }
        for (pat, id, lang) in self.phrases.iter().filter(|(pat, _, _)| pat.open) {
            if let Some(captures) = pat.matches(p) {
                return Some(Match::Phrase {
                    id: *id,
                    captures,
                    lang: *lang,
                });
            }
        }
        None
    }

    fn field(&self, p: &Prepared) -> Option<Match> {
        for (label, id, lang) in &self.labels {
            if let Some(rest) = p.lower.strip_prefix(label.as_str()) {
                let trimmed = rest.trim_start();
                if let Some(after) = trimmed.strip_prefix(':') {
                    let start = p.lower.len() - after.len();
                    let value = p.work.get(start..).unwrap_or("").trim().to_owned();
                    return Some(Match::Field {
                        id: *id,
                        value,
                        lang: *lang,
                    });
                }
            }
        }
        None
    }

    /// The license state a status text names, in any language.
    pub(crate) fn status(&self, text: &str) -> Option<LicenseState> {
        let n = norm(text);
        self.statuses
            .iter()
            .find(|(s, _)| {
                n == *s
                    || (n.starts_with(s.as_str())
                        && n.get(s.len()..).is_some_and(|r| r.starts_with([' ', '('])))
            })
            .map(|(_, id)| *id)
    }

    /// Whether a value is one of the words of `id` ("not available", "Enabled", …).
    pub(crate) fn is_word(&self, text: &str, id: WordId) -> bool {
        let n = norm(text);
        self.words.iter().any(|(w, wid)| *wid == id && n == *w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocabulary {
        Vocabulary::new(&Rules::embedded().unwrap())
    }

    fn field(v: &Vocabulary, line: &str) -> Option<(FieldId, String)> {
        match v.classify(&prepare(line)) {
            Some(Match::Field { id, value, .. }) => Some((id, value)),
            _ => None,
        }
    }

    fn phrase(v: &Vocabulary, line: &str) -> Option<(PhraseId, Vec<String>)> {
        match v.classify(&prepare(line)) {
            Some(Match::Phrase { id, captures, .. }) => Some((id, captures)),
            _ => None,
        }
    }

    #[test]
    fn labels_in_any_case_spacing_and_colon_width() {
        let v = vocab();
        assert_eq!(
            field(&v, "Activation ID: abc"),
            Some((FieldId::ActivationId, "abc".into()))
        );
        assert_eq!(
            field(&v, "    Activation interval: 120 minutes"),
            Some((FieldId::ActivationInterval, "120 minutes".into()))
        );
        assert_eq!(
            field(&v, "LICENSE  STATUS :Licensed"),
            Some((FieldId::LicenseStatus, "Licensed".into()))
        );
        assert_eq!(
            field(&v, "扩展 PID： 03612-04297"),
            Some((FieldId::ExtendedPid, "03612-04297".into()))
        );
        assert_eq!(
            field(&v, "信任时间:2020/2/27 11:48:43"),
            Some((FieldId::TrustedTime, "2020/2/27 11:48:43".into()))
        );
        assert_eq!(
            field(&v, "Product Key Channel: Volume:GVLK"),
            Some((FieldId::ProductKeyChannel, "Volume:GVLK".into()))
        );
        assert_eq!(field(&v, "Name Windows"), None);
    }

    #[test]
    fn phrases_exact_and_with_placeholders() {
        let v = vocab();
        assert_eq!(
            phrase(&v, "Most recent activation information:").map(|p| p.0),
            Some(PhraseId::MostRecentActivation)
        );
        assert_eq!(
            phrase(&v, "KMS host caching is enabled").map(|p| p.0),
            Some(PhraseId::HostCachingEnabled)
        );
        let (id, caps) = phrase(
            &v,
            "Activating Windows(R), Enterprise edition (73111121-5638-40f6-bc11-f1d7b0d64300) ...",
        )
        .unwrap();
        assert_eq!(id, PhraseId::Activating);
        assert_eq!(
            caps,
            ["Windows(R), Enterprise edition (73111121-5638-40f6-bc11-f1d7b0d64300)"]
        );
        let (id, caps) = phrase(
            &v,
            "Error: 0xC004F074 The Software Licensing Service reported",
        )
        .unwrap();
        assert_eq!(
            (id, caps[0].as_str()),
            (
                PhraseId::Error,
                "0xC004F074 The Software Licensing Service reported"
            )
        );
        assert_eq!(
            phrase(&v, "Error: Product activation failed.").map(|p| p.0),
            Some(PhraseId::ActivationFailed)
        );
        assert_eq!(
            phrase(&v, "Volume activation will expire 12/1/2025 3:04:05 PM").map(|p| p.1),
            Some(vec!["12/1/2025 3:04:05 PM".to_owned()])
        );
        assert_eq!(
            phrase(&v, "Microsoft (R) Windows Script Host Version 5.812").map(|p| p.0),
            Some(PhraseId::Banner)
        );
        assert_eq!(
            phrase(&v, "成功地激活了产品").map(|p| p.0),
            Some(PhraseId::Activated)
        );
    }

    #[test]
    fn statuses_and_words() {
        let v = vocab();
        assert_eq!(v.status("Licensed"), Some(LicenseState::Licensed));
        assert_eq!(
            v.status("Additional grace period (KMS license expired or hardware out of tolerance)"),
            Some(LicenseState::AdditionalGrace)
        );
        assert_eq!(
            v.status("Non-genuine grace period."),
            Some(LicenseState::NonGenuineGrace)
        );
        assert_eq!(v.status("Unlicensed"), Some(LicenseState::Unlicensed));
        assert_eq!(v.status("已授权"), Some(LicenseState::Licensed));
        assert_eq!(v.status("Lizenziert"), Some(LicenseState::Licensed));
        assert_eq!(v.status("Licensedx"), None);
        assert!(v.is_word("not available", WordId::NotAvailable));
        assert!(v.is_word("KMS name not available from DNS", WordId::NotAvailable));
    }
}
