//! Values of ospp lines that need more than storing: a KMS licence's client and AD activation
//! lines, `REMAINING GRACE` in days and minutes, the time left by the licence state, and the
//! channel at the end of a licence description.

use super::vocab::Vocabulary;
use crate::input::values;
use crate::model::license::LicenseState;
use crate::model::snapshot::{
    AdActivationInfo, KmsClientInfo, ProductLicense, Remaining, RemainingKind, TextLine,
};
use crate::rules::ospp::{OsppField, OsppWord};
use crate::rules::slmgr::FieldId;

/// The KMS client and AD activation lines of a KMS licence's block, into its product.
pub(super) fn kms_field(
    p: &mut ProductLicense,
    host_caching: Option<bool>,
    id: OsppField,
    value: &str,
    text: TextLine,
) {
    let (client, ad) = (|| KmsClientInfo::default(), || AdActivationInfo::default());
    let v = || Some(value.to_owned()).filter(|s| !s.is_empty());
    let field = match id {
        OsppField::KmsDnsName => {
            p.kms_client.get_or_insert_with(client).dns_host = values::host_port(value);
            Some(FieldId::KmsDnsName)
        }
        OsppField::KmsRegistryOverride => {
            p.kms_client.get_or_insert_with(client).registered_host = values::host_port(value);
            Some(FieldId::KmsRegisteredName)
        }
        OsppField::ActivationInterval => {
            p.kms_client
                .get_or_insert_with(client)
                .activation_interval_minutes = values::first_number(value);
            Some(FieldId::ActivationInterval)
        }
        OsppField::RenewalInterval => {
            p.kms_client
                .get_or_insert_with(client)
                .renewal_interval_minutes = values::first_number(value);
            Some(FieldId::RenewalInterval)
        }
        OsppField::HostCaching => {
            p.kms_client.get_or_insert_with(client).host_caching = host_caching;
            None
        }
        OsppField::KmsLookupDomain => {
            p.kms_client.get_or_insert_with(client).lookup_domain = v();
            Some(FieldId::KmsLookupDomain)
        }
        OsppField::Cmid => {
            p.kms_client.get_or_insert_with(client).cmid = values::guid(value);
            Some(FieldId::Cmid)
        }
        OsppField::AoName => {
            p.ad_activation.get_or_insert_with(ad).object_name = v();
            Some(FieldId::AoName)
        }
        OsppField::AoDn => {
            p.ad_activation.get_or_insert_with(ad).object_dn = v();
            Some(FieldId::AoDn)
        }
        OsppField::AoEpid => {
            p.ad_activation.get_or_insert_with(ad).extended_pid = v();
            Some(FieldId::AoEpid)
        }
        OsppField::AoActivationId => {
            p.ad_activation.get_or_insert_with(ad).activation_id = values::guid(value);
            Some(FieldId::AoActivationId)
        }
        _ => None,
    };
    if let Some(f) = field {
        p.lines.insert(f, text);
    }
}

/// `REMAINING GRACE: 45 days  (64800 minute(s) before expiring)`: the days and the minutes.
pub(super) fn grace_numbers(vocab: &Vocabulary, value: &str) -> (Option<u64>, Option<u64>) {
    let (mut days, mut minutes) = (None, None);
    let mut rest = value;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let tail = rest.get(start..).unwrap_or("");
        let len = tail
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(tail.len());
        let n = tail.get(..len).and_then(|d| d.parse::<u64>().ok());
        let after = tail.get(len..).unwrap_or("");
        match vocab.word_at(after) {
            Some(OsppWord::Days) if days.is_none() => days = n,
            Some(OsppWord::Minutes) if minutes.is_none() => minutes = n,
            _ => {}
        }
        rest = after;
    }
    (days, minutes)
}

/// The time a product has left: in a grace period, or (licensed) its KMS or time-based validity.
pub(super) fn remaining(
    p: &mut ProductLicense,
    days: Option<u64>,
    minutes: Option<u64>,
    line: TextLine,
) {
    let Some(m) = minutes.or_else(|| days.and_then(|d| d.checked_mul(1440))) else {
        return;
    };
    let timebased = p
        .channel
        .as_deref()
        .is_some_and(|c| c.starts_with("TIMEBASED_"));
    let (kind, field) = match p.license_status {
        Some(LicenseState::Licensed) if timebased => (
            RemainingKind::TimebasedActivation,
            FieldId::TimebasedExpiration,
        ),
        Some(LicenseState::Licensed) => {
            (RemainingKind::VolumeActivation, FieldId::VolumeExpiration)
        }
        _ => (RemainingKind::Grace, FieldId::TimeRemaining),
    };
    p.remaining = Some(Remaining {
        kind,
        minutes: m,
        days_printed: days,
    });
    p.lines.insert(field, line);
}

/// The channel at the end of a licence description, spaces a paste put into the token removed
/// (`Office 16, TIMEBASED_ SUB channel`).
pub(super) fn channel(description: &str) -> Option<String> {
    let tail = description.rsplit_once(',').map_or(description, |(_, t)| t);
    let joined: String = tail
        .trim()
        .trim_end_matches('.')
        .trim_end()
        .strip_suffix("channel")
        .map_or_else(
            || tail.to_owned(),
            |t| t.split_whitespace().collect::<String>(),
        );
    values::channel(&format!("x, {joined} channel")).or_else(|| values::channel(description))
}
