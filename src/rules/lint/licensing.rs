//! Checks of `licensing.toml`: license states (by the ids [`LicenseState`] knows), status flags (one
//! bit each), the KMS parameters and the facility names.

use std::collections::BTreeMap;

use super::{FileCtx, canonical_code, check_sources, check_text_fields, field_named_in};
use crate::model::license::LicenseState;
use crate::rules::{FacilityEntry, KmsParams, LicenseStatusEntry, RuleSet, StatusFlagEntry};

/// Checks each part of the file; the sound entries go into `set`. A `complete` file (the
/// embedded one) must also have `[kms]` and the facilities' sources.
pub(in crate::rules) fn check(
    ctx: &mut FileCtx<'_>,
    table: &toml::Table,
    set: &mut RuleSet,
    complete: bool,
) {
    ctx.unknown_keys(
        table,
        &[
            "license_status",
            "status_flag",
            "kms",
            "facility",
            "facility_sources",
        ],
    );
    license_statuses(ctx, table, set);
    status_flags(ctx, table, set);
    kms(ctx, table, set, complete);
    facilities(ctx, table, set);
    if complete && table.contains_key("facility") && !table.contains_key("facility_sources") {
        ctx.error(
            None,
            None,
            Some("facility_sources"),
            "facilities need their sources".to_owned(),
        );
    }
}

/// `[[license_status]]`: a known id, each value once, texts and sources.
fn license_statuses(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    let mut seen = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<LicenseStatusEntry>(table, "license_status") {
        let label = format!("license_status[{i}] {}", entry.value);
        let before = ctx.problems.len();
        if !LicenseState::ALL.iter().any(|s| s.as_str() == entry.id) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                format!(
                    "unknown license status id `{}` (known: {})",
                    entry.id,
                    LicenseState::ALL.map(LicenseState::as_str).join(", ")
                ),
            );
        }
        if let Some(first) = seen.insert(entry.value, i) {
            ctx.error(
                line,
                Some(&label),
                Some("value"),
                format!(
                    "duplicate value: license_status[{first}] already defines {}",
                    entry.value
                ),
            );
        }
        let slmgr: Vec<&str> = entry.slmgr.iter().map(String::as_str).collect();
        check_text_fields(
            ctx,
            line,
            &label,
            &[
                ("slmgr", &slmgr),
                ("description", &[entry.description.as_str()]),
            ],
        );
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.license_statuses.push(entry);
        }
    }
}

/// `[[status_flag]]`: one bit each, each bit once, with sources.
fn status_flags(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    let mut bits = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<StatusFlagEntry>(table, "status_flag") {
        let label = format!("status_flag[{i}] {}", entry.value);
        let before = ctx.problems.len();
        match canonical_code(&entry.value) {
            Some(v) if v.0.is_power_of_two() => {
                if let Some(first) = bits.insert(v.0, i) {
                    ctx.error(
                        line,
                        Some(&label),
                        Some("value"),
                        format!("duplicate flag: status_flag[{first}] already defines {v}"),
                    );
                } else if ctx.problems.len() == before {
                    check_sources(ctx, line, &label, &entry.sources);
                    if ctx.problems.len() == before {
                        set.status_flags.push((v.0, entry));
                    }
                }
            }
            _ => {
                let l = ctx.field_line(line, "value");
                ctx.error(
                    l,
                    Some(&label),
                    Some("value"),
                    "a flag is one bit written as 0x and 8 upper-case hex digits".to_owned(),
                );
            }
        }
    }
}

/// `[kms]`: thresholds and timers above 0, with sources; required in a `complete` file.
fn kms(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet, complete: bool) {
    match table.get("kms") {
        Some(v) => match v.clone().try_into::<KmsParams>() {
            Ok(k) => {
                let line = ctx
                    .text
                    .lines()
                    .position(|l| l.trim() == "[kms]")
                    .map(|l| l + 1);
                let before = ctx.problems.len();
                for (name, n) in [
                    ("client_os_threshold", k.client_os_threshold),
                    ("server_os_threshold", k.server_os_threshold),
                    ("count_window_days", k.count_window_days),
                    ("count_cap", k.count_cap),
                    ("validity_days", k.validity_days),
                ] {
                    if n == 0 {
                        let l = ctx.field_line(line, name);
                        ctx.error(
                            l,
                            Some("kms"),
                            Some(name),
                            "must be greater than 0".to_owned(),
                        );
                    }
                }
                check_sources(ctx, line, "kms", &k.sources);
                if ctx.problems.len() == before {
                    set.kms = Some(k);
                }
            }
            Err(e) => {
                let msg = e.message().trim().to_owned();
                let field = field_named_in(&msg);
                ctx.error(None, Some("kms"), field.as_deref(), msg);
            }
        },
        None if complete => ctx.error(None, None, Some("kms"), "missing [kms] table".to_owned()),
        None => {}
    }
}

/// `[[facility]]`: values 0..2047, each once.
fn facilities(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    let mut fac = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<FacilityEntry>(table, "facility") {
        let label = format!("facility[{i}] {}", entry.value);
        if entry.value > 0x7FF {
            ctx.error(
                line,
                Some(&label),
                Some("value"),
                "a facility is 0..2047".to_owned(),
            );
        } else if let Some(first) = fac.insert(entry.value, i) {
            ctx.error(
                line,
                Some(&label),
                Some("value"),
                format!(
                    "duplicate facility: facility[{first}] already defines {}",
                    entry.value
                ),
            );
        } else {
            set.facilities.push(entry);
        }
    }
}
