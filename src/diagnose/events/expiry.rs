//! A client's license state from its newest events, carried forward to `now` (validity lapses
//! into grace, grace into notification), and the expiry findings it raises.

use chrono::{DateTime, Duration, Utc};

use crate::correlate::ClientView;
use crate::events::{ActivationEvent, FieldValue};
use crate::model::license::LicenseState;
use crate::rules::Rules;

use super::super::registry::FindingId;
use super::{Builder, Reasons, day, raise, when};

/// The license state the newest events imply.
#[derive(Debug, Clone, Copy)]
pub(super) struct EventLicense {
    /// From the `LicenseStatus` number events 12288 carry.
    pub(super) status: LicenseState,
    /// When the activation or grace period ends.
    pub(super) ends: Option<DateTime<Utc>>,
    /// The event that says so.
    pub(super) proof: usize,
}

/// The license state the newest events imply at `now`.
pub(super) fn license(
    rules: &Rules,
    events: &[ActivationEvent],
    c: &ClientView,
    now: DateTime<Utc>,
) -> Option<EventLicense> {
    let kms = rules.kms();
    let validity = Duration::days(i64::from(kms.validity_days));
    let grace = Duration::days(i64::from(kms.oot_grace_days));
    let last = c.attempts.last()?;
    let (mut status, mut ends, proof) = if last.activated {
        (
            LicenseState::Licensed,
            last.time.map(|t| t + validity),
            last.response.unwrap_or(last.request),
        )
    } else {
        let e = events.get(last.request)?;
        let status = match e.payload.get("license_status") {
            Some(FieldValue::Int(i)) => LicenseState::from_number(u8::try_from(i).ok()?),
            _ => return None,
        };
        let minutes = match e.payload.get("minutes_to_expiry") {
            Some(FieldValue::Int(m)) => Some(m),
            _ => None,
        };
        let ends = match (e.time, minutes) {
            (Some(t), Some(m)) if m > 0 => Duration::try_minutes(m).map(|d| t + d),
            _ => None,
        };
        (status, ends, last.request)
    };
    // Time passes after the newest event: validity lapses into grace, grace into notification.
    for _ in 0..2 {
        match (status, ends) {
            (LicenseState::Licensed, Some(e)) if e <= now => {
                status = LicenseState::AdditionalGrace;
                ends = Some(e + grace);
            }
            (s, Some(e)) if s.is_grace() && e <= now => {
                status = LicenseState::Notification;
                ends = None;
            }
            _ => break,
        }
    }
    Some(EventLicense {
        status,
        ends,
        proof,
    })
}

/// Raises what the license state says: an activation ending within the window, a grace period,
/// or the end of grace.
pub(super) fn raise_expiry(
    b: &mut Builder<'_>,
    reasons: &mut Reasons,
    c: &ClientView,
    lic: EventLicense,
    now: DateTime<Utc>,
    window_days: i64,
    ok_time: Option<DateTime<Utc>>,
) {
    let EventLicense {
        status,
        ends,
        proof,
    } = lic;
    let (id, detail) = match status {
        LicenseState::Licensed => {
            let Some(e) = ends.filter(|e| *e - now <= Duration::days(window_days)) else {
                return;
            };
            let grace_days = b.rules().kms().oot_grace_days;
            (
                FindingId::ActivationExpiring,
                format!(
                    "{}'s KMS activation is valid until {} ({} days from {}), and no renewal has succeeded since {}; then {grace_days} days of additional grace until {}, then notification mode.",
                    c.name,
                    day(b.zone, e),
                    (e - now).num_days(),
                    day(b.zone, now),
                    when(b.zone, ok_time),
                    day(b.zone, e + Duration::days(i64::from(grace_days)))
                ),
            )
        }
        LicenseState::InitialGrace
        | LicenseState::AdditionalGrace
        | LicenseState::NonGenuineGrace
        | LicenseState::ExtendedGrace => (
            FindingId::GraceExpiring,
            format!(
                "{} is not activated: it runs on the {} period{}.",
                c.name,
                status.as_str().replace('-', " "),
                ends.map(|e| format!(", which ends on {}; then notification mode", day(b.zone, e)))
                    .unwrap_or_default()
            ),
        ),
        LicenseState::Unlicensed | LicenseState::Notification => (
            FindingId::UnlicensedRfm,
            format!(
                "{} is {} (the grace period is over): Windows nags the user and some features stop.",
                c.name, status
            ),
        ),
        LicenseState::Unknown => return,
    };
    raise(b, reasons, id, &c.name, &[], detail, &[proof]);
}
