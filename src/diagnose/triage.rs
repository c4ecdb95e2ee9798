//! What needs doing, from a finished diagnosis: machines counted by verdict, and the causes of
//! the errors and warnings, each machine under the findings of its most severe level. A cause is a finding id and, where the finding has one,
//! the KMS host its machines use (`by_kms_host` in `rules/findings.toml`) and its result codes;
//! findings of one severity that name exactly the same machines (and host) are one cause. The
//! words are the findings' titles and the codes' meanings from the rule table.

use std::collections::{BTreeMap, HashMap};

use crate::hresult::Hresult;
use crate::model::names::natural_cmp;
use crate::model::names::same_machine;
use crate::model::{Cause, Finding, Machine, Triage, Verdict, names_cmp};
use crate::rules::{Rules, Severity};

/// The triage of a report's machines and findings (in report order).
pub(crate) fn triage(rules: &Rules, machines: &[Machine], findings: &[Finding]) -> Triage {
    let count = |v: Verdict| machines.iter().filter(|m| m.verdict == v).count() as u64;
    Triage {
        machines: machines.len() as u64,
        failing: count(Verdict::Failing),
        warning: count(Verdict::Warning),
        unknown: count(Verdict::Unknown),
        ok: count(Verdict::Ok),
        causes: causes(rules, machines, findings),
        filter: None,
    }
}

/// Grouping key: severity, finding id, KMS host, codes.
type Key = (Severity, String, Option<String>, Vec<Hresult>);

fn causes(rules: &Rules, machines: &[Machine], findings: &[Finding]) -> Vec<Cause> {
    let machine = |n: &str| machines.iter().find(|m| same_machine(&m.name, n));
    // Each machine's most severe finding: it counts under the findings of that severity only (a
    // warning about a machine with an error is covered by what the error says).
    let mut worst: HashMap<String, Severity> = HashMap::new();
    for f in findings {
        for n in &f.machines {
            let w = worst.entry(n.to_ascii_lowercase()).or_insert(f.severity);
            *w = (*w).max(f.severity);
        }
    }
    let mut groups: BTreeMap<Key, (Vec<String>, Vec<String>, String)> = BTreeMap::new();
    for f in findings
        .iter()
        .filter(|f| f.severity > Severity::Informational)
    {
        let by_host = rules.finding(&f.id).is_some_and(|r| r.by_kms_host);
        if f.machines.is_empty() {
            let key = (f.severity, f.id.clone(), None, f.codes.clone());
            let g = groups.entry(key).or_default();
            g.1.extend(f.evidence.iter().map(|e| e.path.clone()));
            g.2.clone_from(&f.title);
            continue;
        }
        for n in &f.machines {
            if worst
                .get(&n.to_ascii_lowercase())
                .is_some_and(|w| *w > f.severity)
            {
                continue;
            }
            let m = machine(n);
            let host = if by_host {
                m.and_then(kms_host_of)
            } else {
                None
            };
            let key = (f.severity, f.id.clone(), host, f.codes.clone());
            let g = groups.entry(key).or_default();
            g.0.push(m.map_or_else(|| n.clone(), |m| m.name.clone()));
            g.2.clone_from(&f.title);
        }
    }
    let mut out: Vec<Cause> = Vec::new();
    for ((severity, id, kms_host, codes), (mut names, mut inputs, title)) in groups {
        names.sort_by(|a, b| natural_cmp(a, b));
        names.dedup();
        inputs.dedup();
        // Findings of one severity about exactly the same machines (and host) are one cause.
        if let Some(c) = out.iter_mut().find(|c| {
            !names.is_empty()
                && c.severity == severity
                && c.machines == names
                && c.kms_host == kms_host
        }) {
            c.findings.push(id);
            c.titles.push(title);
            c.codes.extend(codes);
            c.codes.sort();
            c.codes.dedup();
            continue;
        }
        out.push(Cause {
            severity,
            findings: vec![id],
            titles: vec![title],
            kms_host,
            codes,
            meaning: None,
            machines: names,
            inputs,
        });
    }
    for c in &mut out {
        if let [code] = c.codes.as_slice() {
            c.meaning = rules.code(*code).and_then(|e| e.meaning.clone());
        }
    }
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| {
                (b.machines.len() + b.inputs.len()).cmp(&(a.machines.len() + a.inputs.len()))
            })
            .then_with(|| a.findings.cmp(&b.findings))
            .then_with(|| a.kms_host.cmp(&b.kms_host))
            .then_with(|| names_cmp(&a.machines, &b.machines))
    });
    out
}

/// The KMS host a machine uses: its own licence data's, else its newest attempt's.
fn kms_host_of(m: &Machine) -> Option<String> {
    m.kms_host
        .clone()
        .or_else(|| m.attempts.iter().rev().find_map(|a| a.kms_host.clone()))
}
