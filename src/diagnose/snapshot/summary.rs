//! What a machine's snapshots say of it for the report: its role, license state and products,
//! dates as people and machines read them, and its snapshots grouped by machine name.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::model::license::LicenseState;
use crate::model::snapshot::{
    CommandResult, CommandTool, ExpiryKind, LicenseSnapshot, ProductLicense, RemainingKind,
};
use crate::model::{MachineRole, NameSource, Product};
use crate::rules::Rules;

use super::MachineInput;

/// `t` plus a number of minutes read from the input; `None` when that is beyond any date.
pub(crate) fn add_minutes(t: NaiveDateTime, minutes: u64) -> Option<NaiveDateTime> {
    i64::try_from(minutes)
        .ok()
        .and_then(Duration::try_minutes)
        .and_then(|d| t.checked_add_signed(d))
}

/// A date for people: `2025-04-10`.
pub(crate) fn day(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A time for machines: `2025-04-10T10:20:31`.
pub(crate) fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

/// The state `/xpr` printed, when no `/dli` says it.
pub(super) fn status_from_xpr(s: &LicenseSnapshot) -> Option<LicenseState> {
    s.expiry.last().map(|e| match e.kind {
        ExpiryKind::Permanent
        | ExpiryKind::VolumeActivation
        | ExpiryKind::TimebasedActivation
        | ExpiryKind::AutomaticVmActivation => LicenseState::Licensed,
        ExpiryKind::InitialGrace => LicenseState::InitialGrace,
        ExpiryKind::AdditionalGrace => LicenseState::AdditionalGrace,
        ExpiryKind::NonGenuineGrace => LicenseState::NonGenuineGrace,
        ExpiryKind::ExtendedGrace => LicenseState::ExtendedGrace,
        ExpiryKind::Notification => LicenseState::Notification,
        ExpiryKind::Unlicensed => LicenseState::Unlicensed,
    })
}

/// A successful last `/ato` (or Office's `ospp.vbs /act`) means the machine was activated when it
/// ran.
pub(super) fn status_from_commands(s: &LicenseSnapshot) -> Option<LicenseState> {
    s.commands
        .iter()
        .rev()
        .find(|c| c.command == "ato" || (c.command == "act" && c.tool == CommandTool::Ospp))
        .filter(|c| c.succeeded)
        .map(|_| LicenseState::Licensed)
}

/// Commands only a KMS client runs or gets (`/skms`, a KMS-client-only result code) tell its role.
pub(super) fn role_from_commands(rules: &Rules, s: &LicenseSnapshot) -> MachineRole {
    let kms_only = |c: &CommandResult| {
        c.code
            .and_then(|code| rules.code(code))
            .is_some_and(|e| e.applies_to == [crate::rules::Role::KmsClient])
    };
    if s.commands
        .iter()
        .any(|c| c.command == "skms" || c.command == "ckms" || kms_only(c))
    {
        MachineRole::KmsClient
    } else {
        MachineRole::Unknown
    }
}

pub(super) fn product_label(p: &ProductLicense) -> String {
    p.name.as_deref().map_or_else(
        || "The product".to_owned(),
        |n| crate::report::sanitize(n, true).into_owned(),
    )
}

pub(super) fn role_of(p: &ProductLicense, snap: Option<&LicenseSnapshot>) -> MachineRole {
    let is_host = snap.is_some_and(|s| {
        s.products
            .iter()
            .any(|q| q.kms_host.as_ref().is_some_and(|h| h.enabled))
    });
    if is_host {
        return MachineRole::KmsHost;
    }
    let channel = p.channel.as_deref().unwrap_or("");
    let key = p.product_key_channel.as_deref().unwrap_or("");
    match (channel, key) {
        ("VOLUME_KMSCLIENT", _) | (_, "Volume:GVLK") => MachineRole::KmsClient,
        (c, _) if c.starts_with("VOLUME_KMS") => MachineRole::KmsHost,
        (_, "Volume:CSVLK") => MachineRole::KmsHost,
        ("VOLUME_MAK", _) | (_, "Volume:MAK") => MachineRole::Mak,
        (c, _) if c.starts_with("TIMEBASED_EVAL") => MachineRole::Evaluation,
        (_, k) if k.starts_with("Retail:TB:Eval") => MachineRole::Evaluation,
        (c, _) if c.starts_with("RETAIL") => MachineRole::Retail,
        (c, _) if c.starts_with("OEM") => MachineRole::Oem,
        (_, k) if k.starts_with("OEM") => MachineRole::Oem,
        (_, k) if k.starts_with("Retail") => MachineRole::Retail,
        ("VIRTUAL_MACHINE_ACTIVATION", _) => MachineRole::Avma,
        _ => MachineRole::Unknown,
    }
}

pub(super) fn product_summary(
    p: &ProductLicense,
    base: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> Product {
    let from = base.unwrap_or(now);
    let end = p
        .remaining
        .as_ref()
        .and_then(|r| add_minutes(from, r.minutes).map(|t| (r.kind, t)));
    let status = p
        .license_status
        .or_else(|| p.notification_reason.map(|_| LicenseState::Notification));
    let grace = status.is_some_and(LicenseState::is_grace);
    Product {
        name: p.name.clone(),
        description: p.description.clone(),
        channel: p.channel.clone(),
        product_key_channel: p.product_key_channel.clone(),
        license_status: status.unwrap_or(LicenseState::Unknown),
        license_status_text: if p.license_status.is_none() {
            p.license_status_text.clone()
        } else {
            None
        },
        partial_key: p.partial_product_key.clone(),
        family: p.family,
        in_use: p.in_use,
        notification_reason: p.notification_reason,
        remaining_minutes: p.remaining.as_ref().map(|r| r.minutes),
        activation_ends: end
            .filter(|(k, _)| *k != RemainingKind::Grace && !grace)
            .map(|(_, t)| stamp(t)),
        grace_ends: end
            .filter(|(k, _)| *k == RemainingKind::Grace || grace)
            .map(|(_, t)| stamp(t)),
        evaluation_ends: p.evaluation_end.as_ref().and_then(|d| d.parsed).map(stamp),
        observed_at: p.trusted_time.as_ref().and_then(|d| d.parsed).map(stamp),
    }
}

/// Groups snapshots by machine: named machines by name, unnamed ones by the name their path
/// suggests.
pub fn group_machines(snapshots: Vec<LicenseSnapshot>) -> Vec<MachineInput> {
    let mut by_name: BTreeMap<String, MachineInput> = BTreeMap::new();
    for s in snapshots {
        let (name, source) = match &s.machine {
            Some(m) => (m.clone(), NameSource::Text),
            None => crate::model::names::name_from_path(&s.path, &|_| false),
        };
        let key = name.to_ascii_lowercase();
        let entry = by_name.entry(key).or_insert_with(|| MachineInput {
            name,
            name_source: source,
            snapshots: Vec::new(),
            as_of: None,
        });
        entry.name_source = crate::model::names::better_source(entry.name_source, source);
        entry.snapshots.push(s);
    }
    by_name.into_values().collect()
}
