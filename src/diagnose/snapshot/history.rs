//! An activation history (`ospp.vbs /dhistorykms`: the client's KMS requests, event 12288, with
//! their result and the host asked): the newest attempt says how KMS activation stands now; a
//! failure that a later success followed is history, not a problem.

use crate::model::snapshot::{KmsAttemptLine, LicenseSnapshot};
use crate::model::{Evidence, Verdict};
use crate::rules::Severity;

use super::super::registry::FindingId;
use super::MachineDiag;

/// At most this many failed attempts are quoted as evidence.
const MAX_EVIDENCE: usize = 5;

impl MachineDiag<'_> {
    pub(super) fn kms_history(&mut self, snap: &LicenseSnapshot) {
        let attempts = &snap.kms_attempts;
        // The newest by the time written, else the last listed.
        let Some((_, last)) = attempts
            .iter()
            .enumerate()
            .max_by_key(|(i, a)| (a.time.as_ref().and_then(|t| t.parsed), *i))
        else {
            return;
        };
        let failed = attempts.iter().filter(|a| a.code.is_failure()).count();
        if !last.code.is_failure() {
            let earlier = if failed > 0 {
                format!(" ({failed} earlier attempt(s) failed)")
            } else {
                String::new()
            };
            self.worse(
                Verdict::Ok,
                format!(
                    "The newest KMS activation attempt{} succeeded{earlier}.",
                    host_words(last)
                ),
            );
            return;
        }
        let code = last.code;
        let same: Vec<&KmsAttemptLine> = attempts.iter().filter(|a| a.code == code).collect();
        let mut evidence: Vec<Evidence> = same
            .iter()
            .rev()
            .take(MAX_EVIDENCE)
            .map(|a| Self::evidence(&snap.path, &a.line))
            .collect();
        evidence.reverse();
        let (id, sev) = self
            .findings
            .code_finding(code)
            .map_or((FindingId::ActivationError, Severity::Error), |f| {
                (f.id, f.severity)
            });
        let words = self.findings.code_words(code);
        let when = last
            .time
            .as_ref()
            .map_or_else(String::new, |t| format!(" (written {})", t.text));
        self.raise(
            id,
            Some(sev.max(Severity::Warning)),
            vec![code],
            format!(
                "{}: the newest KMS activation attempt{}{when} failed with {words}; {} of {} attempt(s) listed failed with this code.",
                self.input.name,
                host_words(last),
                same.len(),
                attempts.len()
            ),
            evidence,
        );
        let v = if sev == Severity::Error {
            Verdict::Failing
        } else {
            Verdict::Warning
        };
        self.worse(
            v,
            format!("The newest KMS activation attempt failed with {code}."),
        );
    }
}

fn host_words(a: &KmsAttemptLine) -> String {
    a.host.as_deref().map_or_else(String::new, |h| {
        format!(" to {}", crate::report::sanitize(h, true))
    })
}
