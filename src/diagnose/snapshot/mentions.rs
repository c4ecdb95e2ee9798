//! Result codes a text mentions in running prose (snapshots of the evidence reader): each distinct
//! code raises the finding its `rules/codes.toml` entry names (`activation-error` for a failure
//! the table does not know, as `FindingSet::code_finding` decides), with the code's own severity,
//! for the machine the text names; an informational code raises nothing. A code alone says what went
//! wrong, never what the license state is (only an `/xpr` line the text quotes says that): the
//! verdict follows the findings and the reason says the code was read from prose.

use std::collections::BTreeMap;

use crate::hresult::Hresult;
use crate::model::Verdict;
use crate::model::snapshot::TextLine;
use crate::rules::Severity;

use super::MachineDiag;

/// Lines quoted as evidence for one code.
const EVIDENCE_LINES: usize = 5;

impl<'a> MachineDiag<'a> {
    /// Raises the findings of the codes this machine's texts mention; whether there were any.
    pub(super) fn mentions(&mut self) -> bool {
        let input = self.input;
        let mut by_code: BTreeMap<Hresult, Vec<(&'a str, &'a TextLine)>> = BTreeMap::new();
        for s in &input.snapshots {
            for m in &s.mentions {
                by_code
                    .entry(m.code)
                    .or_default()
                    .push((s.path.as_str(), &m.line));
            }
        }
        if by_code.is_empty() {
            return false;
        }
        // A text that quotes an `/xpr` line shows a license state; the expiry diagnosis judges it.
        let state = if input.snapshots.iter().any(|s| !s.expiry.is_empty()) {
            "the license state is what it quotes of slmgr /xpr"
        } else {
            "it shows no license state"
        };
        let mut quiet = Vec::new();
        for (code, seen) in &by_code {
            let raised = self
                .findings
                .code_finding(*code)
                .filter(|f| f.severity != Severity::Informational);
            let Some(f) = raised else {
                quiet.push(code.to_string());
                continue;
            };
            let words = self.findings.code_words(*code);
            let detail = format!(
                "{}: the text mentions {words} ({}).",
                self.input.name,
                line_words(seen)
            );
            let evidence = seen
                .iter()
                .take(EVIDENCE_LINES)
                .map(|(path, line)| Self::evidence(path, line))
                .collect();
            self.raise(f.id, Some(f.severity), vec![*code], detail, evidence);
            let v = if f.severity == Severity::Error {
                Verdict::Failing
            } else {
                Verdict::Warning
            };
            self.worse(
                v,
                format!("The text mentions {code}; read from prose, {state}."),
            );
        }
        if !quiet.is_empty() {
            self.worse(
                Verdict::Unknown,
                format!(
                    "The text mentions {} (no failure); read from prose, {state}.",
                    quiet.join(", ")
                ),
            );
        }
        true
    }
}

/// `line 3`, `lines 3, 7 and 9`.
fn line_words(seen: &[(&str, &TextLine)]) -> String {
    let mut numbers: Vec<u32> = seen.iter().map(|(_, l)| l.line).collect();
    numbers.dedup();
    match numbers.as_slice() {
        [one] => format!("line {one}"),
        [init @ .., last] => {
            let init: Vec<String> = init.iter().map(ToString::to_string).collect();
            format!("lines {} and {last}", init.join(", "))
        }
        [] => "no line".to_owned(),
    }
}
