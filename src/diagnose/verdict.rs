//! How findings weigh on a verdict: a machine is at least as bad as its worst finding, and a KMS
//! host's health is its machine's verdict (and the other way round).

use crate::model::{Health, Verdict};
use crate::rules::Severity;

/// The verdict a machine has at least, given its worst finding.
pub(crate) fn floor(worst: Option<Severity>) -> Verdict {
    match worst {
        Some(Severity::Error) => Verdict::Failing,
        Some(Severity::Warning) => Verdict::Warning,
        Some(Severity::Informational) | None => Verdict::Ok,
    }
}

/// A KMS host's health, from its machine's verdict.
pub(crate) fn health(v: Verdict) -> Health {
    match v {
        Verdict::Failing => Health::Failing,
        Verdict::Warning => Health::Warning,
        Verdict::Ok | Verdict::Unknown => Health::Ok,
    }
}

/// The verdict of a KMS host's machine, from the host's health.
pub(crate) fn of_health(h: Health) -> Verdict {
    match h {
        Health::Failing => Verdict::Failing,
        Health::Warning => Verdict::Warning,
        Health::Ok => Verdict::Ok,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_worst_finding_sets_the_floor() {
        assert_eq!(floor(None), Verdict::Ok);
        assert_eq!(floor(Some(Severity::Informational)), Verdict::Ok);
        assert_eq!(floor(Some(Severity::Warning)), Verdict::Warning);
        assert_eq!(floor(Some(Severity::Error)), Verdict::Failing);
        assert_eq!(health(Verdict::Unknown), Health::Ok);
        assert_eq!(health(Verdict::Failing), Health::Failing);
        assert_eq!(of_health(Health::Warning), Verdict::Warning);
    }
}
