//! KMS clients known from the licensing inventory (or `slmgr /dlv`) alone, held against what the
//! KMS hosts' 12290 logs recorded of their CMID — the rest of the join `silent` begins:
//! - the host's answers to the client since its last activation: refused for the count
//!   (`kms-count-insufficient`) or for its clock (`clock-skew`);
//! - a host that activated the CMID while the client says it is not licensed: the answer never
//!   took effect (`kms-response-lost`);
//! - a client set to a KMS host whose log is not among those supplied (`kms-host-unknown`);
//! - a client that says it is licensed by KMS while its own host's log, covering the time its
//!   activation must have happened, holds no activation of its CMID then
//!   (`kms-license-unconfirmed`);
//! - one CMID under several inventory names (`duplicate-cmid`, with the inventory rows as
//!   evidence), when the hosts' logs alone do not show the clones.
//!
//! The time an activation happened is read from the licence itself: a KMS activation is valid
//! for `validity_days` (the rule table's `[kms]`) from the host's last successful answer, so a
//! client licensed with `GracePeriodRemaining` R minutes at the report's time was last activated
//! `validity − R` minutes before it.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use super::findings::{FindingSet, Raise};
use super::{FindingId, Scope};
use crate::correlate::{HostView, code, same_machine};
use crate::events::{ActivationEvent, FieldValue};
use crate::hresult::Hresult;
use crate::model::snapshot::RemainingKind;
use crate::model::{Evidence, LicenseState, Machine, MachineRole};
use crate::rules::{KmsParams, Severity};

/// How far the activation time read from the licence may be from the host's record of it: the
/// licence's minutes are read at the report's time, the inventory may be a day older, and the
/// client's clock may be off by hours.
const ACTIVATION_SLACK_HOURS: i64 = 24;
/// Host records cited per finding.
const CITED: usize = 4;

/// 0xC004F038: the host's count is below the client's threshold.
const NOT_ENOUGH_COUNT: Hresult = Hresult(0xC004_F038);
/// 0xC004F06C: the client's time is too far from the host's.
const TIMESTAMP_INVALID: Hresult = Hresult(0xC004_F06C);

/// A 12290's text field.
fn text<'a>(e: &'a ActivationEvent, name: &str) -> Option<&'a str> {
    match e.payload.get(name)? {
        FieldValue::Text(t) | FieldValue::Guid(t) => Some(crate::input::encoding::trim(t)),
        _ => None,
    }
}

fn normal_cmid(c: &str) -> String {
    c.trim().trim_matches(['{', '}']).to_ascii_lowercase()
}

fn event_evidence(e: &ActivationEvent, excerpt: String) -> Evidence {
    Evidence {
        path: e.source.path().to_string(),
        line: e.source.line,
        record_id: e.record_id,
        time: e
            .time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        excerpt,
    }
}

/// A host record as evidence: what the host answered whom.
fn record(e: &ActivationEvent, host: &str) -> Evidence {
    let result = code(e, "result").map_or_else(|| "?".to_owned(), |c| c.to_string());
    let excerpt = format!(
        "12290 at {host}: {} (CMID {}) answered {result}",
        text(e, "client_name").unwrap_or("?"),
        text(e, "cmid").unwrap_or("?"),
    );
    event_evidence(e, excerpt)
}

/// The hosts' records of one client: its CMID's 12290s (those naming it, when any do: clones
/// share the CMID), oldest first, with the host that logged each.
fn records<'a>(
    scope: &Scope<'a>,
    m: &Machine,
    cmid: &str,
) -> Vec<(DateTime<Utc>, &'a ActivationEvent, &'a str)> {
    let mut all: Vec<(DateTime<Utc>, &ActivationEvent, &str)> = scope
        .correlation
        .hosts
        .iter()
        .flat_map(|h| {
            h.by_cmid
                .get(cmid)
                .into_iter()
                .flatten()
                .filter_map(|&i| scope.events.get(i))
                .filter_map(move |e| Some((e.time?, e, h.name.as_str())))
        })
        .collect();
    let named =
        |e: &ActivationEvent| text(e, "client_name").is_some_and(|n| same_machine(n, &m.name));
    if all.iter().any(|(_, e, _)| named(e)) {
        all.retain(|(_, e, _)| named(e));
    }
    all.sort_by_key(|(t, _, _)| *t);
    all
}

fn succeeded(e: &ActivationEvent) -> bool {
    code(e, "result").is_some_and(|c| c.0 == 0)
}

/// Raises the findings of the inventory join for every KMS client without a log of its own.
pub(super) fn inventory_join(
    findings: &mut FindingSet<'_>,
    machines: &[Machine],
    scope: &Scope<'_>,
    kms: &KmsParams,
) {
    let hosts_logged = scope
        .correlation
        .hosts
        .iter()
        .any(|h| !h.requests.is_empty());
    if !hosts_logged {
        return;
    }
    for m in machines {
        let Some(cmid) = m.cmid.as_deref().map(normal_cmid) else {
            continue;
        };
        if m.role != MachineRole::KmsClient
            || !m.attempts.is_empty()
            || super::silent::has_client_log(scope, m)
        {
            continue;
        }
        if let Some(server) = m.kms_host.as_deref()
            && scope.correlation.host_for(server).is_none()
        {
            host_unknown(findings, scope, m, server);
            continue;
        }
        let recs = records(scope, m, &cmid);
        answers(findings, m, &recs);
        match m.license_status {
            LicenseState::Licensed => unconfirmed(findings, scope, m, &cmid, &recs, kms),
            LicenseState::Unknown => {}
            _ => lost(findings, scope, m, &cmid, &recs, kms),
        }
    }
}

/// The host's refusals since the client's last activation.
fn answers(
    findings: &mut FindingSet<'_>,
    m: &Machine,
    recs: &[(DateTime<Utc>, &ActivationEvent, &str)],
) {
    let since = recs
        .iter()
        .rposition(|(_, e, _)| succeeded(e))
        .map_or(0, |i| i + 1);
    let streak = recs.get(since..).unwrap_or_default();
    for (id, wanted, why) in [
        (
            FindingId::KmsCountInsufficient,
            NOT_ENOUGH_COUNT,
            "its count was below the client's threshold",
        ),
        (
            FindingId::ClockSkew,
            TIMESTAMP_INVALID,
            "the client's clock was too far from the host's",
        ),
    ] {
        let hits: Vec<&(DateTime<Utc>, &ActivationEvent, &str)> = streak
            .iter()
            .filter(|(_, e, _)| code(e, "result") == Some(wanted))
            .collect();
        let Some((newest, _, host)) = hits.last() else {
            continue;
        };
        let detail = format!(
            "{}: {host} refused {} request(s) from its CMID with {wanted} since its last activation ({why}), the newest at {} UTC.",
            m.name,
            hits.len(),
            newest.format("%Y-%m-%d %H:%M"),
        );
        findings.raise(Raise {
            id,
            machines: vec![m.name.clone()],
            codes: vec![wanted],
            detail,
            evidence: hits
                .iter()
                .rev()
                .take(CITED)
                .map(|(_, e, h)| record(e, h))
                .collect(),
            severity: None,
        });
    }
}

/// A host activated the CMID within the validity, yet the client is not licensed.
fn lost(
    findings: &mut FindingSet<'_>,
    scope: &Scope<'_>,
    m: &Machine,
    cmid: &str,
    recs: &[(DateTime<Utc>, &ActivationEvent, &str)],
    kms: &KmsParams,
) {
    let now = scope.now.and_utc();
    let valid_from = now - Duration::days(i64::from(kms.validity_days));
    let Some((t, e, host)) = recs.last() else {
        return;
    };
    // Clones share the CMID: one of them activated proves nothing of the others.
    let shared = scope
        .correlation
        .cmids
        .get(cmid)
        .is_some_and(|n| n.iter().any(|x| !same_machine(x, &m.name)));
    if !succeeded(e) || *t < valid_from || shared {
        return;
    }
    let detail = format!(
        "{}: {host} activated its CMID {cmid} at {} UTC (its newest record of it), yet the client is {}: the answer never took effect on the client.",
        m.name,
        t.format("%Y-%m-%d %H:%M"),
        m.license_status.as_str(),
    );
    findings.raise(Raise {
        id: FindingId::KmsResponseLost,
        machines: vec![m.name.clone()],
        codes: Vec::new(),
        detail,
        evidence: vec![record(e, host)],
        severity: None,
    });
}

/// The client is set to a KMS host whose log is not among those supplied. A licensed client is
/// well whatever host activated it: for it the unknown host is information (the finding still
/// names the host for whoever keeps the hosts), not a warning about the machine.
fn host_unknown(findings: &mut FindingSet<'_>, scope: &Scope<'_>, m: &Machine, server: &str) {
    let supplied: Vec<&str> = scope
        .correlation
        .hosts
        .iter()
        .filter(|h| !h.requests.is_empty())
        .map(|h| h.name.as_str())
        .collect();
    let detail = format!(
        "{}: its licensing settings name the KMS host {server}, which is not among the KMS hosts whose logs were supplied ({}).",
        m.name,
        supplied.join(", ")
    );
    findings.raise(Raise {
        id: FindingId::KmsHostUnknown,
        machines: vec![m.name.clone()],
        codes: Vec::new(),
        detail,
        evidence: inventory_rows(scope, &m.name),
        severity: (m.license_status == LicenseState::Licensed).then_some(Severity::Informational),
    });
}

/// The client's remaining minutes of KMS validity, from its snapshot.
fn validity_left(scope: &Scope<'_>, m: &Machine) -> Option<u64> {
    scope
        .machines
        .iter()
        .filter(|i| same_machine(&i.name, &m.name))
        .flat_map(|i| &i.snapshots)
        .flat_map(|s| &s.products)
        .filter(|p| p.in_use && p.is_windows())
        .find_map(|p| {
            p.remaining
                .as_ref()
                .filter(|r| r.kind == RemainingKind::VolumeActivation)
                .map(|r| r.minutes)
        })
}

/// Licensed by KMS, but the host it uses, covering the time of its activation, did not activate
/// its CMID then.
fn unconfirmed(
    findings: &mut FindingSet<'_>,
    scope: &Scope<'_>,
    m: &Machine,
    cmid: &str,
    recs: &[(DateTime<Utc>, &ActivationEvent, &str)],
    kms: &KmsParams,
) {
    let Some(left) = validity_left(scope, m) else {
        return;
    };
    let validity = Duration::days(i64::from(kms.validity_days));
    let Ok(left) = i64::try_from(left) else {
        return;
    };
    let left = Duration::minutes(left);
    if left > validity {
        return;
    }
    let activated = scope.now.and_utc() - (validity - left);
    let slack = Duration::hours(ACTIVATION_SLACK_HOURS);
    let (from, to) = (activated - slack, activated + slack);
    let asked: Vec<&HostView> = match m.kms_host.as_deref() {
        Some(server) => scope
            .correlation
            .host_for(server)
            .and_then(|i| scope.correlation.hosts.get(i))
            .into_iter()
            .collect(),
        None => scope
            .correlation
            .hosts
            .iter()
            .filter(|h| !h.requests.is_empty())
            .collect(),
    };
    let covered = !asked.is_empty()
        && asked
            .iter()
            .all(|h| h.first.is_some_and(|f| f <= from) && h.last.is_some_and(|l| l >= to));
    if !covered {
        return;
    }
    let confirmed = recs
        .iter()
        .any(|(t, e, _)| *t >= from && *t <= to && succeeded(e));
    if confirmed {
        return;
    }
    let names: Vec<&str> = asked.iter().map(|h| h.name.as_str()).collect();
    let around = recs
        .iter()
        .filter(|(t, _, _)| *t >= from && *t <= to)
        .count();
    let detail = format!(
        "{}: licensed by KMS with {} minute(s) of its {}-day activation left, so it was last activated around {} UTC; the log of {} covers that time and holds no activation of its CMID {cmid} within {ACTIVATION_SLACK_HOURS} hours of it ({around} record(s) of the CMID then, none answered with success). The licence came from another KMS host, or the inventory's CMID or state is not the machine's.",
        m.name,
        left.num_minutes(),
        kms.validity_days,
        activated.format("%Y-%m-%d %H:%M"),
        names.join(", "),
    );
    let mut evidence = inventory_rows(scope, &m.name);
    evidence.extend(
        recs.iter()
            .filter(|(t, _, _)| *t >= from && *t <= to)
            .take(CITED)
            .map(|(_, e, h)| record(e, h)),
    );
    findings.raise(Raise {
        id: FindingId::KmsLicenseUnconfirmed,
        machines: vec![m.name.clone()],
        codes: Vec::new(),
        detail,
        evidence,
        severity: None,
    });
}

/// The inventory (or slmgr) rows that name a machine, as evidence.
fn inventory_rows(scope: &Scope<'_>, name: &str) -> Vec<Evidence> {
    scope
        .machines
        .iter()
        .filter(|i| same_machine(&i.name, name))
        .flat_map(|i| &i.snapshots)
        .map(|s| Evidence {
            path: s.path.clone(),
            line: s.machine_line.as_ref().map(|l| l.line),
            record_id: None,
            time: None,
            excerpt: format!(
                "{}{}",
                s.machine.as_deref().unwrap_or(name),
                s.cmid
                    .as_deref()
                    .map(|c| format!(": ClientMachineID {c}"))
                    .unwrap_or_default()
            ),
        })
        .collect()
}

/// Raises `duplicate-cmid` for a CMID several inventory machines report, when the hosts' logs
/// alone do not show it under several names (the events' diagnosis raises it then).
pub(super) fn inventory_clones(findings: &mut FindingSet<'_>, scope: &Scope<'_>) {
    let mut by_cmid: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for i in scope.machines {
        for c in i.snapshots.iter().filter_map(|s| s.cmid.as_deref()) {
            let names = by_cmid.entry(normal_cmid(c)).or_default();
            if !names.iter().any(|n| same_machine(n, &i.name)) {
                names.push(&i.name);
            }
        }
    }
    for (cmid, names) in by_cmid {
        let logged: BTreeSet<&String> = scope
            .correlation
            .cmids
            .get(&cmid)
            .into_iter()
            .flatten()
            .collect();
        let mut all: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        for l in &logged {
            if !all.iter().any(|n| same_machine(n, l)) {
                all.push((*l).clone());
            }
        }
        if all.len() < 2 || logged.len() >= 2 {
            continue;
        }
        let hosts: Vec<&HostView> = scope
            .correlation
            .hosts
            .iter()
            .filter(|h| h.by_cmid.contains_key(&cmid))
            .collect();
        let counted_by = if hosts.is_empty() {
            "a KMS host counts them as one".to_owned()
        } else {
            let n: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
            format!("{} count(s) them as one", n.join(", "))
        };
        let detail = format!(
            "CMID {cmid} is reported by {} machines in the licensing inventory: {}; {counted_by}, so its count is lower than the machines it serves.",
            all.len(),
            all.join(", "),
        );
        let mut evidence: Vec<Evidence> = names
            .iter()
            .flat_map(|n| inventory_rows(scope, n))
            .filter(|e| e.excerpt.to_ascii_lowercase().contains(&cmid))
            .collect();
        for h in &hosts {
            evidence.extend(
                h.by_cmid
                    .get(&cmid)
                    .into_iter()
                    .flatten()
                    .take(CITED)
                    .filter_map(|&i| scope.events.get(i))
                    .map(|e| record(e, &h.name)),
            );
        }
        let machines: Vec<String> = all
            .into_iter()
            .chain(hosts.iter().map(|h| h.name.clone()))
            .collect();
        findings.raise(Raise {
            id: FindingId::DuplicateCmid,
            machines,
            codes: Vec::new(),
            detail,
            evidence,
            severity: None,
        });
    }
}
