//! `slmgr /xpr` alone (no `/dli` in the same output): the state and end date it prints.

use crate::model::Verdict;
use crate::model::snapshot::{ExpiryKind, LicenseSnapshot};
use crate::rules::Severity;

use super::super::registry::FindingId;
use super::MachineDiag;
use super::summary::day;

impl MachineDiag<'_> {
    pub(super) fn expiry_lines(&mut self, snap: &LicenseSnapshot) {
        // /xpr alone (no /dli in the same output) still tells the state.
        if snap.products.iter().any(|p| p.license_status.is_some()) {
            return;
        }
        for e in &snap.expiry {
            let ev = vec![Self::evidence(&snap.path, &e.line)];
            let date = e.date.as_ref().and_then(|d| d.parsed);
            match e.kind {
                ExpiryKind::Permanent => self.worse(
                    Verdict::Ok,
                    "Windows is permanently activated (slmgr /xpr).".to_owned(),
                ),
                ExpiryKind::VolumeActivation
                | ExpiryKind::TimebasedActivation
                | ExpiryKind::AutomaticVmActivation => {
                    if let Some(d) = date {
                        let left = (d - self.now).num_days();
                        if left <= self.window {
                            self.raise(
                                FindingId::ActivationExpiring,
                                (left < 0).then_some(Severity::Error),
                                Vec::new(),
                                format!(
                                    "Windows is activated until {} ({left} days from {}).",
                                    day(d),
                                    day(self.now)
                                ),
                                ev,
                            );
                            self.worse(
                                if left < 0 {
                                    Verdict::Failing
                                } else {
                                    Verdict::Warning
                                },
                                format!("The activation ends on {}.", day(d)),
                            );
                        } else {
                            self.worse(
                                Verdict::Ok,
                                format!("Activated until {} ({left} days).", day(d)),
                            );
                        }
                    }
                }
                ExpiryKind::Notification | ExpiryKind::Unlicensed => {
                    self.raise(
                        FindingId::UnlicensedRfm,
                        None,
                        Vec::new(),
                        "Windows is not activated (slmgr /xpr).".to_owned(),
                        ev,
                    );
                    self.worse(Verdict::Failing, "Not activated (slmgr /xpr).".to_owned());
                }
                ExpiryKind::InitialGrace
                | ExpiryKind::AdditionalGrace
                | ExpiryKind::NonGenuineGrace
                | ExpiryKind::ExtendedGrace => {
                    let when = date.map_or_else(String::new, |d| format!(", ending {}", day(d)));
                    let over = date.is_some_and(|d| d < self.now);
                    self.raise(
                        FindingId::GraceExpiring,
                        over.then_some(Severity::Error),
                        Vec::new(),
                        format!("Windows runs on a grace period ({}){when}.", e.kind),
                        ev,
                    );
                    self.worse(
                        if over {
                            Verdict::Failing
                        } else {
                            Verdict::Warning
                        },
                        format!("On a grace period{when}."),
                    );
                }
            }
        }
    }
}
