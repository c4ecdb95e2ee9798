//! KMS clients known from their license state alone — `slmgr /dlv` output or the licensing
//! inventory, which give their CMID and KMS host but no event log — held against the KMS hosts'
//! logs: a client whose CMID no host recorded in the time it should have asked, while the hosts'
//! logs cover that time, has requests that do not reach a host (`kms-client-not-seen`). This is
//! the join that serves large estates without client logs: inventory plus the hosts' 12290s.
//!
//! A licensed client asks at every renewal interval; one that is not activated asks at every
//! activation interval (both from the rule table's `[kms]`). A client with its own event log is
//! judged by the client join instead (`kms-request-not-received`).

use chrono::{DateTime, Duration, Utc};

use super::findings::{FindingSet, Raise};
use super::{FindingId, Scope};
use crate::correlate::HostView;
use crate::model::{Evidence, LicenseState, Machine, MachineRole};
use crate::rules::{KmsParams, Severity};

/// Activation intervals a client that is not activated may miss before its silence counts.
const MISSED_ACTIVATION_INTERVALS: i64 = 3;
/// Slack on a licensed client's renewal interval (a renewal waits for the machine to be on).
const RENEWAL_SLACK_HOURS: i64 = 24;

/// Raises `kms-client-not-seen` for each KMS client without a log of its own whose CMID the
/// hosts' logs do not hold in the time it should have asked.
pub(super) fn silent_clients(
    findings: &mut FindingSet<'_>,
    machines: &[Machine],
    scope: &Scope<'_>,
    kms: &KmsParams,
) {
    let hosts: Vec<&HostView> = scope
        .correlation
        .hosts
        .iter()
        .filter(|h| !h.requests.is_empty())
        .collect();
    if hosts.is_empty() {
        return;
    }
    let now = scope.now.and_utc();
    for m in machines {
        let Some(cmid) = m.cmid.as_deref().map(normal_cmid) else {
            continue;
        };
        if m.role != MachineRole::KmsClient || !m.attempts.is_empty() || has_client_log(scope, m) {
            continue;
        }
        // Its own host when it names one whose log was read; any host when it discovers one.
        let asked: Vec<&HostView> = match m.kms_host.as_deref() {
            Some(server) => match scope.correlation.host_for(server) {
                Some(i) => scope.correlation.hosts.get(i).into_iter().collect(),
                None => continue,
            },
            None => hosts.clone(),
        };
        let licensed = m.license_status == LicenseState::Licensed;
        let window = if licensed {
            Duration::minutes(i64::from(kms.renewal_interval_minutes))
                + Duration::hours(RENEWAL_SLACK_HOURS)
        } else {
            Duration::minutes(
                i64::from(kms.activation_interval_minutes) * MISSED_ACTIVATION_INTERVALS,
            )
        };
        let since = now - window;
        if asked.is_empty() || !asked.iter().all(|h| covers(h, since, now, window)) {
            continue;
        }
        if asked.iter().any(|h| seen_since(h, scope, &cmid, since)) {
            continue;
        }
        raise(findings, scope.events, m, &cmid, &asked, since, licensed);
    }
}

/// `{6F1E0A42-…}` and `6f1e0a42-…` are one CMID.
fn normal_cmid(c: &str) -> String {
    c.trim().trim_matches(['{', '}']).to_ascii_lowercase()
}

/// Whether the machine has client events of its own (the client join judges it then).
pub(super) fn has_client_log(scope: &Scope<'_>, m: &Machine) -> bool {
    scope
        .correlation
        .clients
        .iter()
        .any(|c| crate::correlate::same_machine(&c.name, &m.name))
}

/// Whether a host's log covers `since`..`now`: it starts before and reaches into the window's
/// last quarter.
fn covers(h: &HostView, since: DateTime<Utc>, now: DateTime<Utc>, window: Duration) -> bool {
    h.first.is_some_and(|f| f <= since) && h.last.is_some_and(|l| l >= now - window / 4)
}

/// Whether the host recorded a request with this CMID since `since`.
fn seen_since(h: &HostView, scope: &Scope<'_>, cmid: &str, since: DateTime<Utc>) -> bool {
    h.by_cmid.get(cmid).is_some_and(|reqs| {
        reqs.iter().any(|&i| {
            scope
                .events
                .get(i)
                .and_then(|e| e.time)
                .is_some_and(|t| t >= since)
        })
    })
}

fn raise(
    findings: &mut FindingSet<'_>,
    events: &[crate::events::ActivationEvent],
    m: &Machine,
    cmid: &str,
    asked: &[&HostView],
    since: DateTime<Utc>,
    licensed: bool,
) {
    let names: Vec<&str> = asked.iter().map(|h| h.name.as_str()).collect();
    let since_text = since.format("%Y-%m-%d %H:%M").to_string();
    let state = if licensed {
        "it is licensed, so it renews at every renewal interval"
    } else {
        "it is not activated, so it asks at every activation interval"
    };
    let detail = format!(
        "{}: a KMS client with CMID {cmid} ({state}); the log of {} has no request with that CMID since {since_text} UTC, though it covers that time.",
        m.name,
        names.join(", ")
    );
    // The host's newest request stands for its log: where it is, and how far it reaches.
    let evidence = asked
        .iter()
        .filter_map(|h| {
            let newest = h.requests.last().and_then(|&i| events.get(i))?;
            Some(Evidence {
                path: newest.source.path().to_string(),
                line: newest.source.line,
                record_id: newest.record_id,
                time: newest
                    .time
                    .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                excerpt: format!(
                    "{}: {} request(s) logged, none from CMID {cmid} since {since_text}",
                    h.name,
                    h.requests.len()
                ),
            })
        })
        .collect();
    findings.raise(Raise {
        id: FindingId::KmsClientNotSeen,
        machines: vec![m.name.clone()],
        codes: Vec::new(),
        detail,
        evidence,
        // A licensed client keeps working until its validity ends: a warning, not yet an error.
        severity: licensed.then_some(Severity::Warning),
    });
}
