//! The one place a report is filtered (`analyze --only`, `--min-severity`), before any renderer
//! sees it, so every format shows the same machines and findings. Machines are kept by verdict;
//! findings by severity, and (with `--only`) when they concern a machine shown or no machine at
//! all; hosts when their machine is shown. The report's triage keeps counting everything and
//! gets a note saying what the filter showed.

use std::borrow::Cow;

use crate::model::names::same_machine;
use crate::model::{FilterNote, Health, Report, Verdict, severity_name};
use crate::rules::Severity;

/// Which machines and findings a report shows. The default shows everything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Filter {
    /// The verdicts shown, as a set of bits (see [`Filter::bit`]); 0: every verdict.
    only: u8,
    /// The least severity of the findings shown.
    pub min_severity: Option<Severity>,
}

impl Filter {
    /// A filter showing machines with one of `only` (every verdict when empty) and findings at
    /// `min_severity` or above.
    pub fn new(only: &[Verdict], min_severity: Option<Severity>) -> Filter {
        Filter {
            only: only.iter().fold(0, |bits, v| bits | Filter::bit(*v)),
            min_severity,
        }
    }

    fn bit(v: Verdict) -> u8 {
        match v {
            Verdict::Failing => 1,
            Verdict::Warning => 2,
            Verdict::Unknown => 4,
            Verdict::Ok => 8,
        }
    }

    /// Whether the filter shows everything.
    pub fn is_off(self) -> bool {
        self.only == 0
            && self
                .min_severity
                .is_none_or(|s| s == Severity::Informational)
    }

    /// The verdicts shown, most urgent first (empty: every verdict).
    pub fn verdicts(self) -> Vec<Verdict> {
        [
            Verdict::Failing,
            Verdict::Warning,
            Verdict::Unknown,
            Verdict::Ok,
        ]
        .into_iter()
        .filter(|v| self.only & Filter::bit(*v) != 0)
        .collect()
    }

    fn shows(self, v: Verdict) -> bool {
        self.only == 0 || self.only & Filter::bit(v) != 0
    }
}

/// `report` as `filter` shows it (the report itself when the filter is off).
pub(crate) fn apply(report: &Report, filter: Filter) -> Cow<'_, Report> {
    if filter.is_off() {
        return Cow::Borrowed(report);
    }
    let mut r = report.clone();
    r.machines.retain(|m| filter.shows(m.verdict));
    let shown = |n: &str| r.machines.iter().any(|m| same_machine(&m.name, n));
    let min = filter.min_severity.unwrap_or(Severity::Informational);
    let findings_total = r.findings.len() as u64;
    let mut findings = std::mem::take(&mut r.findings);
    findings.retain(|f| {
        f.severity >= min
            && (filter.only == 0 || f.machines.is_empty() || f.machines.iter().any(|n| shown(n)))
    });
    // A host is shown with its machine; a host that is no machine of the report, by its health.
    r.hosts.retain(|h| {
        let is_machine =
            |ms: &[crate::model::Machine]| ms.iter().any(|m| same_machine(&m.name, &h.name));
        let health = match h.health {
            Health::Ok => Verdict::Ok,
            Health::Warning => Verdict::Warning,
            Health::Failing => Verdict::Failing,
        };
        filter.only == 0
            || is_machine(&r.machines)
            || (!is_machine(&report.machines) && filter.shows(health))
    });
    // A machine lists the ids of the findings shown about it.
    for m in &mut r.machines {
        m.findings.retain(|id| {
            findings
                .iter()
                .any(|f| &f.id == id && f.machines.iter().any(|n| same_machine(n, &m.name)))
        });
    }
    r.findings = findings;
    r.triage.filter = Some(FilterNote {
        only: filter.verdicts(),
        min_severity: filter
            .min_severity
            .filter(|s| *s > Severity::Informational)
            .map(severity_name),
        machines_shown: r.machines.len() as u64,
        findings_shown: r.findings.len() as u64,
        findings_total,
    });
    Cow::Owned(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_filter_is_off_and_verdicts_come_most_urgent_first() {
        assert!(Filter::default().is_off());
        assert!(Filter::new(&[], Some(Severity::Informational)).is_off());
        let f = Filter::new(&[Verdict::Ok, Verdict::Failing], Some(Severity::Warning));
        assert!(!f.is_off());
        assert_eq!(f.verdicts(), [Verdict::Failing, Verdict::Ok]);
        assert!(f.shows(Verdict::Ok) && !f.shows(Verdict::Warning));
    }
}
