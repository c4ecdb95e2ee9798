//! A KMS client from its own events: the failures since its last successful activation, grouped
//! by the finding they raise and explained by what the host's log shows (answered, never
//! received, answer lost); requests to a host whose log was not supplied; a CMID it shares with
//! other machines; its genuine state; its expiry (`expiry`); and its role and reason.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use crate::correlate::{Attempt, ClientView, Correlation, HostSide, same_machine};
use crate::hresult::Hresult;
use crate::model::license::LicenseState;
use crate::model::{Machine, MachineRole, Verdict};
use crate::rules::{Category, Severity};

use super::super::registry::FindingId;
use super::{Builder, Reasons, expiry, raise, raise_capped, span, when};

/// A client's failures that raise one finding.
#[derive(Debug, Default)]
struct FailureGroup {
    codes: Vec<Hresult>,
    /// The events that prove them.
    proof: Vec<usize>,
    /// The attempts (indices into the streak).
    attempts: Vec<usize>,
    /// Whether something besides local failures to reach the network stands in the group (a KMS
    /// attempt, or a local failure for a reason of its own); a group of only those is a machine
    /// that was offline when it tried, at most a warning.
    not_offline: bool,
}

impl FailureGroup {
    fn offline_only(&self) -> bool {
        !self.not_offline && !self.codes.is_empty()
    }
}

/// What the failures are measured against: the attempts since the last success.
struct Streak<'a> {
    attempts: &'a [Attempt],
    /// When the last successful activation was.
    ok_time: Option<DateTime<Utc>>,
}

/// Diagnoses one client as of `now`.
pub(super) fn client(
    b: &mut Builder<'_>,
    corr: &Correlation,
    c: &ClientView,
    now: DateTime<Utc>,
    window_days: i64,
) -> Machine {
    let last_ok = c.attempts.iter().rposition(|a| a.activated);
    let streak = Streak {
        attempts: c
            .attempts
            .get(last_ok.map_or(0, |i| i + 1)..)
            .unwrap_or(&[]),
        ok_time: last_ok.and_then(|i| c.attempts.get(i)).and_then(|a| a.time),
    };
    let mut reasons = Reasons::new();
    let groups = failure_groups(b, c, &streak);
    for (id, group) in &groups {
        let detail = failure_detail(b, c, *id, group, &streak);
        let cap = group.offline_only().then_some(Severity::Warning);
        raise_capped(
            b,
            &mut reasons,
            *id,
            &c.name,
            (&group.codes, detail, &group.proof),
            cap,
        );
    }
    foreign_host(b, &mut reasons, corr, c);
    shared_cmid(&mut reasons, corr, c);
    genuine(b, &mut reasons, c);
    let lic = expiry::license(b.rules(), b.events, c, now);
    if let Some(state) = lic {
        expiry::raise_expiry(b, &mut reasons, c, state, now, window_days, streak.ok_time);
    }
    machine(b, c, lic.map(|s| s.status), reasons, last_ok)
}

/// The failures of the streak (and the local failures after the last success) grouped by the
/// finding they raise: an answered failure by its code; a request without an answer that failed
/// on the way by what the host's log shows of it; any other by its code.
fn failure_groups(
    b: &Builder<'_>,
    c: &ClientView,
    streak: &Streak<'_>,
) -> BTreeMap<FindingId, FailureGroup> {
    let mut groups: BTreeMap<FindingId, FailureGroup> = BTreeMap::new();
    let code_finding = |code: Hresult| b.findings.code_finding(code).map(|f| f.id);
    for (ai, a) in streak.attempts.iter().enumerate() {
        let result = a.result.filter(|r| r.is_failure());
        let mut add = |id: FindingId, code: Option<Hresult>| {
            let g = groups.entry(id).or_default();
            g.not_offline = true;
            g.codes.extend(code);
            g.proof.push(a.request);
            g.proof.extend(a.response);
            if let HostSide::Received { record, .. } = a.host_side {
                g.proof.push(record);
            }
            g.attempts.push(ai);
        };
        if a.response.is_none() && b.is_connectivity(a.result) {
            match a.host_side {
                HostSide::Received { .. } => add(FindingId::KmsResponseLost, result),
                HostSide::NotReceived { .. } => {
                    add(FindingId::KmsUnreachable, result);
                    add(FindingId::KmsRequestNotReceived, result);
                }
                _ => add(FindingId::KmsUnreachable, result),
            }
        } else if let Some(r) = result
            && let Some(id) = code_finding(r)
        {
            add(id, Some(r));
        }
    }
    for (i, code) in &c.local_failures {
        let t = b.events.get(*i).and_then(|e| e.time);
        if streak.ok_time.is_some_and(|ok| t.is_some_and(|t| t <= ok)) {
            continue;
        }
        if let Some(id) = code_finding(*code) {
            let g = groups.entry(id).or_default();
            g.not_offline |= !offline_code(b, *code);
            g.codes.push(*code);
            g.proof.push(*i);
        }
    }
    groups
}

/// Whether a local failure's code says the machine could not reach the network: the rule table's
/// network codes, or a Win32 code it does not know (`0x800704CF`, the network location cannot be
/// reached). A KMS client's own connectivity codes (`0xC004F074`) are not: they are its finding.
fn offline_code(b: &Builder<'_>, code: Hresult) -> bool {
    match b.rules().code(code) {
        Some(e) => e.category == Category::Network,
        None => code.facility() == 7,
    }
}

/// What is true of this client for one group of failures.
fn failure_detail(
    b: &Builder<'_>,
    c: &ClientView,
    id: FindingId,
    group: &FailureGroup,
    streak: &Streak<'_>,
) -> String {
    let events = b.events;
    let attempts: Vec<&Attempt> = group
        .attempts
        .iter()
        .filter_map(|i| streak.attempts.get(*i))
        .collect();
    let cited = group.proof.len().max(1);
    let first = group
        .proof
        .iter()
        .filter_map(|i| events.get(*i)?.time)
        .min();
    let last = group
        .proof
        .iter()
        .filter_map(|i| events.get(*i)?.time)
        .max();
    let when_span = span(b.zone, first, last);
    let hosts: BTreeSet<String> = attempts.iter().filter_map(|a| a.kms_host.clone()).collect();
    let host_list = hosts.iter().cloned().collect::<Vec<_>>().join(", ");
    let code_list = {
        let mut cs = group.codes.clone();
        cs.sort();
        cs.dedup();
        cs.iter()
            .map(|c| b.words(*c))
            .collect::<Vec<_>>()
            .join("; ")
    };
    let since = match streak.ok_time {
        Some(t) => format!(
            "since its last successful activation on {}",
            when(b.zone, Some(t))
        ),
        None => "and none succeeded in the logs".to_owned(),
    };
    let tries = attempts.len().max(1);
    let name = &c.name;
    match id {
        FindingId::KmsRequestNotReceived => format!(
            "{name} sent {tries} request(s) to {host_list} {when_span} that the host's Key Management Service log, which covers that time, never recorded (no 12290 with its CMID and client time)."
        ),
        FindingId::KmsResponseLost => format!(
            "{name}: the host {host_list} logged {tries} of its requests (12290) {when_span}, but the client never processed an answer (no 12289; the request ended with {code_list})."
        ),
        FindingId::ClockSkew => {
            let mut skews: Vec<i64> = attempts.iter().filter_map(|a| a.skew_minutes).collect();
            skews.sort_unstable();
            let measured = skews.get(skews.len() / 2).map_or_else(String::new, |m| {
                format!(
                    " Its clock is {} minutes {} the host's (client times in 12288 and 12290, each against its log's own time).",
                    m.abs(),
                    if *m < 0 { "behind" } else { "ahead of" }
                )
            });
            format!(
                "{name}: the KMS host refused {tries} request(s) {when_span} with {code_list}, {since}.{measured}"
            )
        }
        FindingId::KmsUnreachable => format!(
            "{name}: {tries} request(s) to {} got no answer {when_span} ({}), {since}.",
            if host_list.is_empty() {
                "its KMS host"
            } else {
                &host_list
            },
            if code_list.is_empty() {
                "no result code"
            } else {
                &code_list
            }
        ),
        _ => format!(
            "{name}: {} failed {} time(s) {when_span} with {code_list}{}, {since}.",
            if attempts.is_empty() {
                "activation"
            } else {
                "the KMS request"
            },
            if attempts.is_empty() { cited } else { tries },
            if host_list.is_empty() {
                String::new()
            } else {
                format!(" from {host_list}")
            },
        ),
    }
}

/// Requests to hosts outside the supplied set.
fn foreign_host(b: &mut Builder<'_>, reasons: &mut Reasons, corr: &Correlation, c: &ClientView) {
    let other: Vec<&Attempt> = c
        .attempts
        .iter()
        .filter(|a| a.host_side == HostSide::OtherHost)
        .collect();
    let Some(a) = other.last() else {
        return;
    };
    let hosts: BTreeSet<String> = other.iter().filter_map(|a| a.kms_host.clone()).collect();
    let supplied: Vec<String> = corr.hosts.iter().map(|h| h.name.clone()).collect();
    let detail = format!(
        "{} talks to {} ({} request(s), the newest on {}), which is not among the KMS hosts whose logs were supplied ({}).",
        c.name,
        hosts.into_iter().collect::<Vec<_>>().join(", "),
        other.len(),
        when(b.zone, a.time),
        supplied.join(", ")
    );
    let proof: Vec<usize> = other
        .iter()
        .flat_map(|a| [Some(a.request), a.response])
        .flatten()
        .collect();
    raise(
        b,
        reasons,
        FindingId::KmsHostUnknown,
        &c.name,
        &[],
        detail,
        &proof,
    );
}

/// A CMID this client shares with other machines: `duplicate-cmid` is raised once per CMID for
/// the fleet (`cmid`); here only the client's reason.
/// The clones' harm is the host's (it counts them as one), not the machine's: an informational
/// reason, said after what the machine's own state is.
fn shared_cmid(reasons: &mut Reasons, corr: &Correlation, c: &ClientView) {
    for cm in &c.cmids {
        let Some(names) = corr.cmids.get(cm) else {
            continue;
        };
        let others: Vec<&str> = names
            .iter()
            .filter(|n| !same_machine(n, &c.name))
            .map(String::as_str)
            .collect();
        if !others.is_empty() {
            reasons.push((
                Severity::Informational,
                format!(
                    "{} shares its CMID {cm} with {}: cloned without generalizing, the host counts them as one machine.",
                    c.name,
                    others.join(", ")
                ),
            ));
        }
    }
}

/// A non-genuine state (8209) not followed by a genuine one (12305).
fn genuine(b: &mut Builder<'_>, reasons: &mut Reasons, c: &ClientView) {
    let Some((i, code)) = c.genuine else {
        return;
    };
    let id = code
        .and_then(|c| b.findings.code_finding(c))
        .map(|f| f.id)
        .filter(|id| id.as_str().starts_with("non-genuine"))
        .unwrap_or(FindingId::NonGenuine);
    let detail = format!(
        "{}: Windows set its genuine state to non-genuine on {} (event 8209{}) and has not logged it genuine again (12305).",
        c.name,
        when(b.zone, b.events.get(i).and_then(|e| e.time)),
        code.map(|c| format!(", {}", b.words(c)))
            .unwrap_or_default()
    );
    let codes: Vec<Hresult> = code.into_iter().collect();
    raise(b, reasons, id, &c.name, &codes, detail, &[i]);
}

/// The client as the report lists it: its role, license state and the reason for its verdict.
fn machine(
    b: &Builder<'_>,
    c: &ClientView,
    status: Option<LicenseState>,
    mut reasons: Reasons,
    last_ok: Option<usize>,
) -> Machine {
    let role = if c.attempts.is_empty() {
        if c.local_failures.iter().any(|(_, code)| {
            b.rules()
                .code(*code)
                .is_some_and(|e| e.category == Category::Mak)
        }) {
            MachineRole::Mak
        } else {
            MachineRole::Unknown
        }
    } else {
        MachineRole::KmsClient
    };
    // The worst finding says why; among equals, the first raised.
    reasons.sort_by_key(|(sev, _)| std::cmp::Reverse(*sev));
    let activated = c.attempts.get(last_ok.unwrap_or(usize::MAX)).map(|a| {
        format!(
            "Activated against {} on {} (event 12289).",
            a.kms_host.as_deref().unwrap_or("its KMS host"),
            when(b.zone, a.time)
        )
    });
    let reason = match (reasons.first(), activated) {
        (Some((Severity::Informational, r)), Some(a)) => format!("{a} {r}"),
        (Some((_, r)), _) => r.clone(),
        (None, Some(a)) => a,
        (None, None) => "No activation attempt in the logs.".to_owned(),
    };
    Machine {
        name: c.name.clone(),
        name_source: c.name_source,
        as_of: None,
        role,
        license_status: status.unwrap_or(LicenseState::Unknown),
        channel: None,
        verdict: if c.attempts.is_empty() && c.local_failures.is_empty() && c.genuine.is_none() {
            Verdict::Unknown
        } else {
            Verdict::Ok
        },
        reason,
        products: Vec::new(),
        kms_host: c.attempts.last().and_then(|a| a.kms_host.clone()),
        cmid: c.attempts.last().and_then(|a| a.cmid.clone()),
        findings: Vec::new(),
        attempts: Vec::new(),
        attempts_omitted: 0,
    }
}
