//! A product's license state from its snapshot: activated (and until when, and whether renewals
//! are failing), on a grace period, or unlicensed / in notification mode with its reason.

use chrono::NaiveDateTime;

use crate::model::ids::NONGENUINE_GRACE_PERIOD;
use crate::model::license::LicenseState;
use crate::model::snapshot::{LicenseSnapshot, ProductFamily, ProductLicense, RemainingKind};
use crate::model::{Evidence, Verdict};
use crate::rules::slmgr::FieldId;
use crate::rules::{Category, Severity};

use super::super::registry::FindingId;
use super::MachineDiag;
use super::summary::{add_minutes, day, product_label};

impl MachineDiag<'_> {
    pub(super) fn product(
        &mut self,
        snap: &LicenseSnapshot,
        p: &ProductLicense,
        base: Option<NaiveDateTime>,
    ) {
        let name = product_label(p);
        let path = snap.path.as_str();
        let ev = |ids: &[FieldId]| -> Vec<Evidence> {
            ids.iter()
                .filter_map(|id| p.lines.get(id))
                .map(|l| Self::evidence(path, l))
                .collect()
        };
        let status = p
            .license_status
            .or_else(|| p.notification_reason.map(|_| LicenseState::Notification));
        let from = base.unwrap_or(self.now);
        let ends = p
            .remaining
            .as_ref()
            .and_then(|r| add_minutes(from, r.minutes));
        let status_ev = ev(&[
            FieldId::LicenseStatus,
            FieldId::NotificationReason,
            FieldId::VolumeExpiration,
            FieldId::TimebasedExpiration,
            FieldId::AvmaExpiration,
            FieldId::TimeRemaining,
            FieldId::TrustedTime,
        ]);
        // First: when it applies, why the machine cannot activate is the reason to show.
        self.kms_discovery(snap, p, status);
        match status {
            Some(LicenseState::Licensed) => self.licensed(p, &name, ends, base, status_ev),
            Some(s) if s.is_grace() => self.grace(p, &name, s, ends, status_ev),
            Some(LicenseState::Notification | LicenseState::Unlicensed) => {
                self.unlicensed(p, &name, status, status_ev);
            }
            // What printed the product was an activation of it (ospp.vbs /act): its result,
            // read with the commands, says how it stands.
            _ if snap
                .commands
                .iter()
                .any(|c| c.product.is_some() && c.product == p.name) => {}
            _ => {
                let text = p.license_status_text.as_deref().map_or_else(
                    || "its license status was not printed".to_owned(),
                    |t| format!("its license status `{}` is in a language or wording kmsdiag does not know", crate::report::sanitize(t, true)),
                );
                self.worse(Verdict::Unknown, format!("{name}: {text}."));
            }
        }
        self.channel_checks(snap, p, &name);
        if let Some(h) = &p.kms_host
            && h.enabled
        {
            self.kms_host(snap, p, status);
        }
    }

    pub(super) fn licensed(
        &mut self,
        p: &ProductLicense,
        name: &str,
        ends: Option<NaiveDateTime>,
        base: Option<NaiveDateTime>,
        evidence: Vec<Evidence>,
    ) {
        let kind = p.remaining.as_ref().map(|r| r.kind);
        let Some(ends) = ends else {
            self.worse(Verdict::Ok, format!("{name} is activated permanently."));
            return;
        };
        let what = match kind {
            Some(RemainingKind::TimebasedActivation) => {
                "its time-based activation (evaluation or subscription)"
            }
            Some(RemainingKind::AutomaticVmActivation) => "its automatic VM activation",
            _ => "its volume activation",
        };
        let left = (ends - self.now).num_days();
        // Automatic VM activation lasts 7 days and renews all the time, so a healthy guest always
        // has less than a week left: only its last day is worth a warning.
        let window = if kind == Some(RemainingKind::AutomaticVmActivation) {
            0
        } else {
            self.window
        };
        let kms = p
            .kms_client
            .as_ref()
            .and_then(|c| c.kms_host())
            .map(|h| format!(" from {h}"))
            .unwrap_or_default();
        let renewal_note = self.renewal_note(p, base);
        if left < 0 {
            self.raise(
                FindingId::ActivationExpiring,
                Some(Severity::Error),
                Vec::new(),
                format!("{name} was activated, but {what} ended on {} by this output's own count; unless it renewed since, it is now in a grace period.{renewal_note}", day(ends)),
                evidence,
            );
            self.worse(
                Verdict::Failing,
                format!("{name}: activation ran out on {}.", day(ends)),
            );
        } else if left <= window {
            self.raise(
                FindingId::ActivationExpiring,
                None,
                Vec::new(),
                format!("{name} is activated{kms}, but {what} ends on {} ({left} days from {}).{renewal_note}", day(ends), day(self.now)),
                evidence,
            );
            self.worse(
                Verdict::Warning,
                format!(
                    "{name}: activated, but the activation ends on {} (in {left} days).",
                    day(ends)
                ),
            );
        } else {
            self.worse(
                Verdict::Ok,
                format!(
                    "{name} is activated{kms}; valid until {} ({left} days).{renewal_note}",
                    day(ends)
                ),
            );
        }
    }

    /// For KMS clients: how long ago the last renewal was, when renewals are visibly overdue.
    pub(super) fn renewal_note(&self, p: &ProductLicense, base: Option<NaiveDateTime>) -> String {
        let (Some(r), Some(_)) = (p.remaining.as_ref(), p.kms_client.as_ref()) else {
            return String::new();
        };
        if !matches!(
            r.kind,
            RemainingKind::VolumeActivation | RemainingKind::Unlabelled
        ) {
            return String::new();
        }
        let validity = i64::from(self.rules.kms().validity_days);
        let renewal_days = p
            .kms_client
            .as_ref()
            .and_then(|c| c.renewal_interval_minutes)
            .map_or(
                i64::from(self.rules.kms().renewal_interval_minutes) / 1440,
                |m| i64::try_from(m / 1440).unwrap_or(7),
            );
        let left_days = i64::try_from(r.minutes / 1440).unwrap_or(0);
        let since = validity - left_days;
        if since > renewal_days + 2 && base.is_some() {
            format!(
                " The last successful renewal was about {since} days before this output (renewal is due every {renewal_days} days), so renewals are failing."
            )
        } else {
            String::new()
        }
    }

    pub(super) fn grace(
        &mut self,
        p: &ProductLicense,
        name: &str,
        status: LicenseState,
        ends: Option<NaiveDateTime>,
        evidence: Vec<Evidence>,
    ) {
        let state = match status {
            LicenseState::InitialGrace => "the initial grace period (installed, never activated)",
            LicenseState::AdditionalGrace => {
                "the additional grace period (its KMS activation expired or the hardware changed too much)"
            }
            LicenseState::NonGenuineGrace => "the non-genuine grace period",
            _ => "the extended grace period",
        };
        let when = ends.map_or_else(
            || "when it ends is not printed".to_owned(),
            |e| {
                let left = (e - self.now).num_days();
                if left < 0 {
                    format!("it ended on {} by this output's own count", day(e))
                } else {
                    format!("it ends on {} ({left} days from {})", day(e), day(self.now))
                }
            },
        );
        let over = ends.is_some_and(|e| e < self.now);
        let mut codes = Vec::new();
        codes.extend(p.notification_reason);
        codes.extend(p.status_reason);
        let then = if p.family == Some(ProductFamily::Office) {
            "it"
        } else {
            "Windows"
        };
        self.raise(
            FindingId::GraceExpiring,
            over.then_some(Severity::Error),
            codes,
            format!("{name} is not activated: it runs on {state}; {when}. After that {then} goes to notification mode."),
            evidence.clone(),
        );
        if status == LicenseState::NonGenuineGrace {
            self.raise(
                FindingId::NonGenuine,
                None,
                vec![NONGENUINE_GRACE_PERIOD],
                format!("{name} runs in the non-genuine grace period."),
                evidence,
            );
        }
        let v = if over {
            Verdict::Failing
        } else {
            Verdict::Warning
        };
        self.worse(
            v,
            format!("{name}: not activated, on a grace period; {when}."),
        );
    }

    pub(super) fn unlicensed(
        &mut self,
        p: &ProductLicense,
        name: &str,
        status: Option<LicenseState>,
        evidence: Vec<Evidence>,
    ) {
        let reason = p.notification_reason;
        let state = if status == Some(LicenseState::Unlicensed) {
            "unlicensed"
        } else {
            "in notification mode"
        };
        let because = reason.map_or_else(String::new, |r| {
            format!(
                " The notification reason is {}.",
                self.findings.code_words(r)
            )
        });
        self.raise(
            FindingId::UnlicensedRfm,
            None,
            reason.into_iter().collect(),
            format!(
                "{name} is {state}: it is not activated and its grace period is over.{because}"
            ),
            evidence.clone(),
        );
        // The reason's own finding adds a cause (non-genuine, blocked key, …) unless it only
        // restates the license state.
        if let Some(r) = reason
            && let Some(f) = self.findings.code_finding(r)
            && f.category != Category::LicenseState
            && f.id != FindingId::UnlicensedRfm
        {
            let words = self.findings.code_words(r);
            self.raise(
                f.id,
                Some(f.severity.max(Severity::Warning)),
                vec![r],
                format!("{name}: the notification reason is {words}."),
                evidence,
            );
        }
        let short = reason.map_or_else(String::new, |r| format!(" (reason {r})"));
        self.worse(
            Verdict::Failing,
            format!("{name}: not activated, {state}{short}."),
        );
    }
}
