//! How findings weigh on a verdict: a machine is at least as bad as its worst finding, and a KMS
//! host's health is its machine's verdict.

use crate::model::Verdict;
use crate::rules::Severity;

/// The verdict a machine has at least, given its worst finding.
pub(crate) fn floor(worst: Option<Severity>) -> Verdict {
    match worst {
        Some(Severity::Error) => Verdict::Failing,
        Some(Severity::Warning) => Verdict::Warning,
        Some(Severity::Informational) | None => Verdict::Ok,
    }
}

/// A KMS host's health as the report writes it, from its machine's verdict.
pub(crate) fn health(v: Verdict) -> &'static str {
    match v {
        Verdict::Failing => "failing",
        Verdict::Warning => "warning",
        Verdict::Ok | Verdict::Unknown => "ok",
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
        assert_eq!(health(Verdict::Unknown), "ok");
        assert_eq!(health(Verdict::Failing), "failing");
    }
}
