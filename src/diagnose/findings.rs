//! The one way a finding is raised and merged, whatever raised it (a slmgr snapshot, a client's
//! events, a host's log, the correlation): its text from `rules/findings.toml`, its next steps
//! (a result code's own steps when it has any, else the finding's), one wording of a result code,
//! one merge rule (same id, same machines) and a bound on the evidence kept.

use std::collections::HashMap;

use crate::correlate::same_machine;
use crate::hresult::Hresult;
use crate::model::names::machine_key;
use crate::model::{Evidence, Finding};
use crate::rules::{Category, Rules, Severity};

use super::registry::FindingId;

/// Evidence items a finding keeps (the explanation says how many there were).
pub(crate) const MAX_EVIDENCE: usize = 12;

/// What a diagnosis says about one finding.
#[derive(Debug, Clone)]
pub(crate) struct Raise {
    pub(crate) id: FindingId,
    /// The machines it concerns (none: the whole input or fleet).
    pub(crate) machines: Vec<String>,
    pub(crate) codes: Vec<Hresult>,
    /// What is true of these machines; the finding's general explanation follows it.
    pub(crate) detail: String,
    pub(crate) evidence: Vec<Evidence>,
    /// The severity when it differs from the finding's own.
    pub(crate) severity: Option<Severity>,
}

impl Raise {
    /// A finding about one machine, at the finding's own severity.
    pub(crate) fn about(id: FindingId, machine: &str, detail: String) -> Raise {
        Raise {
            id,
            machines: vec![machine.to_owned()],
            codes: Vec::new(),
            detail,
            evidence: Vec::new(),
            severity: None,
        }
    }

    pub(crate) fn codes(mut self, codes: impl IntoIterator<Item = Hresult>) -> Raise {
        self.codes.extend(codes);
        self
    }

    pub(crate) fn evidence(mut self, evidence: Vec<Evidence>) -> Raise {
        self.evidence = evidence;
        self
    }

    pub(crate) fn severity(mut self, severity: Option<Severity>) -> Raise {
        self.severity = severity;
        self
    }
}

/// The finding a result code raises, as `rules/codes.toml` says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct CodeFinding {
    pub(crate) id: FindingId,
    /// The code's own severity.
    pub(crate) severity: Severity,
    pub(crate) category: Category,
}

/// Findings raised so far, merged as they come.
#[derive(Debug)]
pub(crate) struct FindingSet<'r> {
    rules: &'r Rules,
    findings: Vec<Finding>,
    /// Where to look for a finding to merge into, and for a machine's findings: the findings
    /// (by position, in order) under each [`machine_key`] of their machines' names. Every name
    /// [`same_machine`] can match has the same key, so a lookup compares a few findings, not all
    /// (a fleet of thousands of machines raises thousands of findings).
    by_key: HashMap<String, Vec<usize>>,
}

impl<'r> FindingSet<'r> {
    pub(crate) fn new(rules: &'r Rules) -> FindingSet<'r> {
        FindingSet {
            rules,
            findings: Vec::new(),
            by_key: HashMap::new(),
        }
    }

    pub(crate) fn rules(&self) -> &'r Rules {
        self.rules
    }

    /// The severity `id` has unless a raise says otherwise.
    pub(crate) fn severity(&self, id: FindingId) -> Severity {
        self.rules
            .finding(id.as_str())
            .map_or(Severity::Error, |r| r.severity)
    }

    /// Raises a finding (or adds to the one with its id about the same machines); returns the
    /// severity it was raised with.
    pub(crate) fn raise(&mut self, r: Raise) -> Severity {
        let rule = self.rules.finding(r.id.as_str()).or_else(|| {
            // The registry's test holds every id to findings.toml: only a damaged table gets here.
            debug_assert!(false, "finding {} has no rule", r.id);
            self.rules.finding(FindingId::ActivationError.as_str())
        });
        let severity = r
            .severity
            .unwrap_or_else(|| rule.map_or(Severity::Error, |x| x.severity));
        let mut next_steps: Vec<String> = Vec::new();
        for step in r
            .codes
            .iter()
            .filter_map(|c| self.rules.code(*c))
            .flat_map(|e| &e.next_steps)
        {
            if !next_steps.contains(step) {
                next_steps.push(step.clone());
            }
        }
        if next_steps.is_empty() {
            next_steps = rule.map_or_else(Vec::new, |x| x.next_steps.clone());
        }
        let explanation = match rule.map(|x| x.explanation.as_str()) {
            Some(general) if !general.is_empty() => format!("{} {general}", r.detail),
            _ => r.detail,
        };
        self.add(Finding {
            id: r.id.as_str().to_owned(),
            severity,
            machines: r.machines,
            codes: r.codes,
            title: rule.map_or_else(|| r.id.as_str().to_owned(), |x| x.title.clone()),
            explanation,
            next_steps,
            evidence: r.evidence,
        });
        severity
    }

    /// Adds a finding: one with the same id about the same machines takes its codes and
    /// evidence and the worse severity; otherwise it is kept as it is. A finding about no machine
    /// is about its input, and each input is its own subject: it is never merged.
    pub(crate) fn add(&mut self, mut f: Finding) {
        f.machines
            .sort_by(|a, b| crate::model::names::natural_cmp(a, b));
        f.machines.dedup();
        f.codes.sort();
        f.codes.dedup();
        f.evidence.sort();
        f.evidence.dedup();
        f.evidence.truncate(MAX_EVIDENCE);
        let same = |x: &Finding| {
            !f.machines.is_empty()
                && x.id == f.id
                && x.machines.len() == f.machines.len()
                && x.machines
                    .iter()
                    .zip(&f.machines)
                    .all(|(a, b)| same_machine(a, b))
        };
        let found = f.machines.first().and_then(|first| {
            let at = self.by_key.get(&machine_key(first))?;
            at.iter()
                .copied()
                .find(|&i| self.findings.get(i).is_some_and(same))
        });
        if let Some(x) = found.and_then(|i| self.findings.get_mut(i)) {
            x.severity = x.severity.max(f.severity);
            x.codes.extend(f.codes);
            x.codes.sort();
            x.codes.dedup();
            x.evidence.extend(f.evidence);
            x.evidence.sort();
            x.evidence.dedup();
            x.evidence.truncate(MAX_EVIDENCE);
        } else {
            let at = self.findings.len();
            for name in &f.machines {
                let list = self.by_key.entry(machine_key(name)).or_default();
                if list.last() != Some(&at) {
                    list.push(at);
                }
            }
            self.findings.push(f);
        }
    }

    /// The findings about `machine`.
    pub(crate) fn about<'s>(&'s self, machine: &'s str) -> impl Iterator<Item = &'s Finding> {
        self.by_key
            .get(&machine_key(machine))
            .into_iter()
            .flatten()
            .filter_map(|&i| self.findings.get(i))
            .filter(move |f| f.machines.iter().any(|n| same_machine(n, machine)))
    }

    /// Every finding so far.
    pub(crate) fn all(&self) -> &[Finding] {
        &self.findings
    }

    /// The findings in report order.
    pub(crate) fn into_sorted(self) -> Vec<Finding> {
        let mut findings = self.findings;
        crate::model::sort_findings(&mut findings);
        findings
    }

    /// The finding a result code raises (`rules/codes.toml`); `activation-error` for a failure
    /// the table does not know; none for a known code that names no finding or a success.
    pub(crate) fn code_finding(&self, code: Hresult) -> Option<CodeFinding> {
        match self.rules.code(code) {
            Some(e) => e.finding.as_deref().map(|id| CodeFinding {
                id: FindingId::from_id(id).unwrap_or(FindingId::ActivationError),
                severity: e.severity,
                category: e.category,
            }),
            None if code.is_failure() => Some(CodeFinding {
                id: FindingId::ActivationError,
                severity: Severity::Error,
                category: Category::Other,
            }),
            None => None,
        }
    }

    /// A result code in a sentence: `0xC004F074 (the first sentence of its meaning)`.
    pub(crate) fn code_words(&self, code: Hresult) -> String {
        code_words(self.rules, code)
    }
}

/// A result code in a sentence: `0xC004F074 (the first sentence of its meaning)`, the bare code
/// when the table does not know it.
pub(crate) fn code_words(rules: &Rules, code: Hresult) -> String {
    let Some(e) = rules.code(code) else {
        return code.to_string();
    };
    let what = e.meaning.as_deref().or(e.message.as_deref()).unwrap_or("");
    let short = what.split(". ").next().unwrap_or(what);
    let short = short.trim_end_matches(['.', ' ']);
    if short.is_empty() {
        code.to_string()
    } else {
        format!("{code} ({short})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(rules: &Rules) -> FindingSet<'_> {
        FindingSet::new(rules)
    }

    #[test]
    fn a_code_with_steps_gives_its_own_steps_and_one_without_the_findings() {
        let rules = Rules::embedded().unwrap();
        let mut s = set(&rules);
        let code = Hresult(0xC004_F074);
        s.raise(
            Raise::about(FindingId::KmsUnreachable, "pc1", "pc1: no answer.".into()).codes([code]),
        );
        s.raise(Raise::about(
            FindingId::KmsUnreachable,
            "pc2",
            "pc2: no answer.".into(),
        ));
        let [a, b] = s.all() else {
            panic!("two findings")
        };
        assert_eq!(a.next_steps, rules.code(code).unwrap().next_steps);
        assert_eq!(
            b.next_steps,
            rules.finding("kms-unreachable").unwrap().next_steps
        );
        assert!(a.explanation.starts_with("pc1: no answer. "));
    }

    #[test]
    fn one_id_about_the_same_machine_merges_whatever_the_name_form() {
        let rules = Rules::embedded().unwrap();
        let mut s = set(&rules);
        s.raise(
            Raise::about(FindingId::GraceExpiring, "WS01", "a".into())
                .codes([Hresult(0xC004_F009)]),
        );
        s.raise(
            Raise::about(FindingId::GraceExpiring, "ws01.contoso.com", "b".into())
                .codes([Hresult(0xC004_F009), Hresult(0xC004_F056)])
                .severity(Some(Severity::Error)),
        );
        s.raise(Raise::about(FindingId::GraceExpiring, "ws02", "c".into()));
        let all = s.all();
        assert_eq!(all.len(), 2);
        assert_eq!(
            all[0].codes,
            vec![Hresult(0xC004_F009), Hresult(0xC004_F056)]
        );
        assert_eq!(all[0].severity, Severity::Error, "the worse severity wins");
        assert!(
            all[0].explanation.starts_with("a "),
            "the first detail stays"
        );
        assert_eq!(s.about("ws01").count(), 1);
    }

    #[test]
    fn evidence_is_bounded() {
        let rules = Rules::embedded().unwrap();
        let mut s = set(&rules);
        for i in 0..3 {
            let evidence = (0..10)
                .map(|n| Evidence {
                    path: format!("f{i}"),
                    line: Some(n),
                    record_id: None,
                    time: None,
                    excerpt: String::new(),
                })
                .collect();
            s.raise(Raise::about(FindingId::NonGenuine, "pc", "x".into()).evidence(evidence));
        }
        assert_eq!(s.all()[0].evidence.len(), MAX_EVIDENCE);
    }

    #[test]
    fn codes_raise_their_table_finding_or_activation_error() {
        let rules = Rules::embedded().unwrap();
        let s = set(&rules);
        let f = s.code_finding(Hresult(0xC004_F038)).unwrap();
        assert_eq!(f.id, FindingId::KmsCountInsufficient);
        let unknown = s.code_finding(Hresult(0xC0FF_EE01)).unwrap();
        assert_eq!(unknown.id, FindingId::ActivationError);
        assert_eq!(s.code_finding(Hresult(0)), None);
        assert!(
            s.code_words(Hresult(0xC004_F038))
                .starts_with("0xC004F038 (")
        );
        assert_eq!(s.code_words(Hresult(0xC0FF_EE01)), "0xC0FFEE01");
    }
}
