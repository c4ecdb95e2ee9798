//! The diagnosis of a fleet from its correlated events: per client the failures since its last
//! successful activation, explained by what the host logs show (answered, never received, answer
//! lost, another host), duplicate CMIDs, genuine state, expiry; per host DNS publishing and the
//! count. Findings carry the events that prove them. It knows events and rules, not formats.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use crate::correlate::{Attempt, ClientView, Correlation, HostSide, HostView, code, same_machine};
use crate::events::{ActivationEvent, FieldValue};
use crate::hresult::Hresult;
use crate::model::snapshot::KmsRequests;
use crate::model::{
    AttemptRecord, AttemptSummary, CountPoint, Evidence, Finding, Host, KmsUse,
    MAX_ATTEMPTS_PER_MACHINE, Machine, Verdict,
};
use crate::rules::{Category, Rules, Severity};
use crate::zone::Zone;

/// Evidence listed per finding (the first and the newest); the explanation gives the total.
const MAX_EVIDENCE: usize = 6;

/// What the event diagnosis produces.
#[derive(Debug, Clone, Default)]
pub struct FleetDiagnosis {
    pub machines: Vec<Machine>,
    pub hosts: Vec<Host>,
    pub findings: Vec<Finding>,
}

/// A time for machines: RFC 3339 UTC.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The attempts by outcome, and the hosts the clients named.
pub fn summarize(corr: &Correlation) -> (AttemptSummary, Vec<KmsUse>) {
    let mut s = AttemptSummary::default();
    for c in &corr.clients {
        for a in &c.attempts {
            s.total += 1;
            if a.activated {
                s.activated += 1;
            } else if a.response.is_some() {
                s.rejected += 1;
                if let Some(r) = a.result {
                    *s.rejected_by_code.entry(r.to_string()).or_default() += 1;
                }
            } else {
                s.no_response += 1;
            }
            match a.host_side {
                HostSide::Received { .. } => s.host_received += 1,
                HostSide::NotReceived { .. } => s.host_not_received += 1,
                HostSide::NotCovered { .. } => s.host_not_covered += 1,
                HostSide::OtherHost => s.other_host += 1,
                HostSide::Unknown => {}
            }
        }
    }
    let inventory = corr
        .kms_hosts_used
        .iter()
        .map(|(server, clients)| KmsUse {
            server: server.clone(),
            clients: clients.len() as u64,
            logs_supplied: corr.host_for(server).is_some(),
        })
        .collect();
    (s, inventory)
}

/// A client's attempts as the report lists them, oldest first: the newest
/// [`MAX_ATTEMPTS_PER_MACHINE`], and how many older ones were left out.
pub fn attempt_records(client: &ClientView) -> (Vec<AttemptRecord>, u64) {
    let skip = client
        .attempts
        .len()
        .saturating_sub(MAX_ATTEMPTS_PER_MACHINE);
    let records = client
        .attempts
        .iter()
        .skip(skip)
        .map(|a| AttemptRecord {
            time: a.time.map(stamp),
            outcome: if a.activated {
                "activated"
            } else if a.response.is_some() {
                "rejected"
            } else {
                "no-response"
            },
            code: a.result,
            kms_host: a.kms_host.clone(),
            host_seen: match a.host_side {
                HostSide::Received { .. } => "received",
                HostSide::NotReceived { .. } => "not-received",
                HostSide::NotCovered { .. } => "not-covered",
                HostSide::OtherHost => "other-host",
                HostSide::Unknown => "unknown",
            },
        })
        .collect();
    (records, skip as u64)
}

/// A time for people: `2026-10-05 08:14`.
fn when(zone: Zone, t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "an unknown time".to_owned(),
        |t| zone.format(t, "%Y-%m-%d %H:%M"),
    )
}

/// `on 2026-10-05 08:14`, or `between … and …` when the two differ.
fn span(zone: Zone, first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> String {
    if when(zone, first) == when(zone, last) {
        format!("on {}", when(zone, first))
    } else {
        format!("between {} and {}", when(zone, first), when(zone, last))
    }
}

fn day(zone: Zone, t: DateTime<Utc>) -> String {
    zone.format(t, "%Y-%m-%d")
}

/// One event as proof.
pub fn evidence(e: &ActivationEvent) -> Evidence {
    let name = e.name().unwrap_or("");
    // The Info string, or the first payload string (8198's second one is a long rule list).
    let payload = e.payload.raw().next().unwrap_or("");
    let mut excerpt = format!("{} {name}: {payload}", e.event_id);
    if excerpt.chars().count() > 160 {
        excerpt = excerpt.chars().take(159).collect::<String>() + "…";
    }
    Evidence {
        path: e.source.path().to_owned(),
        line: e.source.line,
        record_id: e.record_id,
        time: e
            .time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        excerpt: crate::report::sanitize(&excerpt, true).into_owned(),
    }
}

fn bounded(events: &[ActivationEvent], idx: &[usize]) -> Vec<Evidence> {
    let mut idx: Vec<usize> = idx.to_vec();
    idx.sort_unstable();
    idx.dedup();
    let pick: Vec<usize> = if idx.len() <= MAX_EVIDENCE {
        idx
    } else {
        let head = MAX_EVIDENCE / 2;
        idx.iter()
            .take(head)
            .chain(idx.iter().skip(idx.len() - (MAX_EVIDENCE - head)))
            .copied()
            .collect()
    };
    pick.iter()
        .filter_map(|i| events.get(*i))
        .map(evidence)
        .collect()
}

struct Builder<'a> {
    rules: &'a Rules,
    events: &'a [ActivationEvent],
    findings: Vec<Finding>,
    /// The zone explanations give times in.
    zone: Zone,
}

impl Builder<'_> {
    /// Raises (or adds to) the finding `id` about `machines`.
    fn raise(
        &mut self,
        id: &str,
        machines: &[String],
        codes: &[Hresult],
        detail: String,
        proof: &[usize],
    ) {
        let rule = self.rules.finding(id);
        let evidence = bounded(self.events, proof);
        let mut machines: Vec<String> = machines.to_vec();
        machines.sort();
        machines.dedup();
        if let Some(f) = self
            .findings
            .iter_mut()
            .find(|f| f.id == id && f.machines == machines)
        {
            for c in codes {
                if !f.codes.contains(c) {
                    f.codes.push(*c);
                }
            }
            f.evidence.extend(evidence);
            f.evidence.sort();
            f.evidence.dedup();
            f.evidence.truncate(MAX_EVIDENCE * 2);
            return;
        }
        let code_steps: Vec<String> = codes
            .iter()
            .filter_map(|c| self.rules.code(*c))
            .flat_map(|e| e.next_steps.clone())
            .collect();
        let mut next_steps = rule.map_or_else(Vec::new, |r| r.next_steps.clone());
        if !code_steps.is_empty() && matches!(id, "activation-error" | "mak-activation-failed") {
            next_steps = code_steps;
        }
        let explanation = match rule {
            Some(r) => format!("{detail} {}", r.explanation),
            None => detail,
        };
        let mut codes = codes.to_vec();
        codes.sort();
        codes.dedup();
        self.findings.push(Finding {
            id: id.to_owned(),
            severity: rule.map_or(Severity::Error, |r| r.severity),
            machines,
            codes,
            title: rule.map_or_else(|| id.to_owned(), |r| r.title.clone()),
            explanation,
            next_steps,
            evidence,
        });
    }

    /// The finding a result code raises (codes.toml), `activation-error` for unknown failures.
    fn code_finding(&self, c: Hresult) -> Option<String> {
        match self.rules.code(c) {
            Some(e) => e.finding.clone(),
            None if c.is_failure() => Some("activation-error".to_owned()),
            None => None,
        }
    }

    /// Whether a request that got no answer failed on the way (network, RPC, timeouts) rather
    /// than for a reason of its own.
    fn is_connectivity(&self, c: Option<Hresult>) -> bool {
        match c {
            None => true,
            Some(c) if !c.is_failure() => true,
            Some(c) => match self.rules.code(c) {
                Some(e) => matches!(e.category, Category::Network | Category::KmsConnectivity),
                None => c.facility() == 7,
            },
        }
    }

    fn words(&self, c: Hresult) -> String {
        match self
            .rules
            .code(c)
            .and_then(|e| e.message.clone().or(e.meaning.clone()))
        {
            Some(m) => format!("{c} ({})", m.trim_end_matches('.')),
            None => c.to_string(),
        }
    }
}

/// The license state the newest events imply at `now`: (status name, end).
fn license(
    rules: &Rules,
    events: &[ActivationEvent],
    c: &ClientView,
    now: DateTime<Utc>,
) -> Option<(u8, Option<DateTime<Utc>>, usize)> {
    let kms = rules.kms();
    let validity = Duration::days(i64::from(kms.validity_days));
    let grace = Duration::days(i64::from(kms.oot_grace_days));
    let last = c.attempts.last()?;
    let (mut status, mut ends, proof) = if last.activated {
        (
            1u8,
            last.time.map(|t| t + validity),
            last.response.unwrap_or(last.request),
        )
    } else {
        let e = events.get(last.request)?;
        let status = match e.payload.get("license_status") {
            Some(FieldValue::Int(i)) => u8::try_from(i).ok()?,
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
            (1, Some(e)) if e <= now => {
                status = 3;
                ends = Some(e + grace);
            }
            (2 | 3 | 4 | 6, Some(e)) if e <= now => {
                status = 5;
                ends = None;
            }
            _ => break,
        }
    }
    Some((status, ends, proof))
}

/// Diagnoses the fleet as of `now`.
pub fn diagnose(
    rules: &Rules,
    events: &[ActivationEvent],
    corr: &Correlation,
    now: DateTime<Utc>,
    window_days: i64,
    zone: Zone,
) -> FleetDiagnosis {
    let mut b = Builder {
        rules,
        events,
        findings: Vec::new(),
        zone,
    };
    let mut out = FleetDiagnosis::default();
    for c in &corr.clients {
        let machine = client(&mut b, corr, c, now, window_days);
        out.machines.push(machine);
    }
    for h in &corr.hosts {
        let (machine, host) = host(&mut b, corr, h);
        match out
            .machines
            .iter_mut()
            .find(|m| same_machine(&m.name, &h.name))
        {
            Some(m) => {
                m.role = "kms-host";
                m.kms_host = None;
                m.verdict = m.verdict.max(machine.verdict);
                if machine.verdict >= m.verdict {
                    m.reason = machine.reason;
                }
            }
            None => out.machines.push(machine),
        }
        out.hosts.push(host);
    }
    // Cloned machines: one CMID under several names, in client or host logs.
    for (cm, names) in &corr.cmids {
        if names.len() < 2 {
            continue;
        }
        let display: Vec<String> = names
            .iter()
            .map(|n| {
                corr.clients
                    .iter()
                    .find(|c| same_machine(&c.name, n))
                    .map_or_else(|| n.clone(), |c| c.name.clone())
            })
            .collect();
        let mut proof: Vec<usize> = corr
            .clients
            .iter()
            .filter_map(|c| {
                c.attempts
                    .iter()
                    .find(|a| {
                        a.cmid
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(cm))
                    })
                    .map(|a| a.request)
            })
            .collect();
        proof.extend(corr.hosts.iter().flat_map(|h| {
            h.by_cmid
                .get(cm)
                .into_iter()
                .flatten()
                .copied()
                .take(MAX_EVIDENCE)
        }));
        let with_logs = display
            .iter()
            .filter(|n| corr.clients.iter().any(|c| same_machine(&c.name, n)))
            .count();
        let detail = format!(
            "CMID {cm} is used by {} machines: {} ({} of them sent their own logs); the KMS host counts them as one.",
            display.len(),
            display.join(", "),
            with_logs
        );
        b.raise("duplicate-cmid", &display, &[], detail, &proof);
    }
    let mut findings = b.findings;
    for m in &mut out.machines {
        let mut ids: BTreeSet<String> = m.findings.iter().cloned().collect();
        for f in &findings {
            if f.machines.iter().any(|n| same_machine(n, &m.name)) {
                ids.insert(f.id.clone());
            }
        }
        m.findings = ids.into_iter().collect();
        let worst = findings
            .iter()
            .filter(|f| f.machines.iter().any(|n| same_machine(n, &m.name)))
            .map(|f| f.severity)
            .max();
        let floor = match worst {
            Some(Severity::Error) => Verdict::Failing,
            Some(Severity::Warning) => Verdict::Warning,
            _ => Verdict::Ok,
        };
        m.verdict = m.verdict.max(floor);
    }
    crate::model::sort_findings(&mut findings);
    out.findings = findings;
    out.machines.sort_by(|a, b| a.name.cmp(&b.name));
    out.hosts.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// Failures raising one finding: their codes, the events that prove them, the attempts (indices
/// into the streak).
type Group = (Vec<Hresult>, Vec<usize>, Vec<usize>);

/// Raises a finding about a client and keeps its detail as a candidate for the verdict's reason.
fn raise(
    b: &mut Builder<'_>,
    reasons: &mut Vec<(Severity, String)>,
    id: &str,
    machines: &[String],
    codes: &[Hresult],
    detail: String,
    proof: &[usize],
) {
    let sev = b.rules.finding(id).map_or(Severity::Error, |r| r.severity);
    reasons.push((sev, detail.clone()));
    b.raise(id, machines, codes, detail, proof);
}

fn client(
    b: &mut Builder<'_>,
    corr: &Correlation,
    c: &ClientView,
    now: DateTime<Utc>,
    window_days: i64,
) -> Machine {
    let me = vec![c.name.clone()];
    let events = b.events;
    let last_ok = c.attempts.iter().rposition(|a| a.activated);
    let ok_time = last_ok.and_then(|i| c.attempts.get(i)).and_then(|a| a.time);
    let streak: &[Attempt] = c
        .attempts
        .get(last_ok.map_or(0, |i| i + 1)..)
        .unwrap_or(&[]);
    let mut reasons: Vec<(Severity, String)> = Vec::new();
    // Group the failures of the streak by the finding they raise.
    let mut groups: BTreeMap<String, Group> = BTreeMap::new();
    for (ai, a) in streak.iter().enumerate() {
        let answered = a.response.is_some();
        let result = a.result.filter(|r| r.is_failure());
        let mut add = |id: &str, code: Option<Hresult>, a: &Attempt| {
            let g = groups.entry(id.to_owned()).or_default();
            g.0.extend(code);
            g.1.push(a.request);
            g.1.extend(a.response);
            if let HostSide::Received { record, .. } = a.host_side {
                g.1.push(record);
            }
            g.2.push(ai);
        };
        if answered {
            if let Some(r) = result
                && let Some(id) = b.code_finding(r)
            {
                add(&id, Some(r), a);
            }
        } else if b.is_connectivity(a.result) {
            match a.host_side {
                HostSide::Received { .. } => add("kms-response-lost", result, a),
                HostSide::NotReceived { .. } => {
                    add("kms-unreachable", result, a);
                    add("kms-request-not-received", result, a);
                }
                _ => add("kms-unreachable", result, a),
            }
        } else if let Some(r) = result
            && let Some(id) = b.code_finding(r)
        {
            add(&id, Some(r), a);
        }
    }
    for (i, code) in &c.local_failures {
        let t = events.get(*i).and_then(|e| e.time);
        if ok_time.is_some_and(|ok| t.is_some_and(|t| t <= ok)) {
            continue;
        }
        if let Some(id) = b.code_finding(*code) {
            let g = groups.entry(id).or_default();
            g.0.push(*code);
            g.1.push(*i);
        }
    }
    for (id, (codes, proof, attempt_idx)) in &groups {
        let attempts: Vec<&Attempt> = attempt_idx.iter().filter_map(|i| streak.get(*i)).collect();
        let n = proof.len().max(1);
        let first = proof.iter().filter_map(|i| events.get(*i)?.time).min();
        let last = proof.iter().filter_map(|i| events.get(*i)?.time).max();
        let hosts: BTreeSet<String> = attempts.iter().filter_map(|a| a.kms_host.clone()).collect();
        let host_list = hosts.iter().cloned().collect::<Vec<_>>().join(", ");
        let code_list = {
            let mut cs = codes.clone();
            cs.sort();
            cs.dedup();
            cs.iter()
                .map(|c| b.words(*c))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let since = match ok_time {
            Some(t) => format!(
                "since its last successful activation on {}",
                when(b.zone, Some(t))
            ),
            None => "and none succeeded in the logs".to_owned(),
        };
        let tries = attempts.len().max(1);
        let detail = match id.as_str() {
            "kms-request-not-received" => format!(
                "{} sent {tries} request(s) to {host_list} {} that the host's Key Management Service log, which covers that time, never recorded (no 12290 with its CMID and client time).",
                c.name,
                span(b.zone, first, last)
            ),
            "kms-response-lost" => format!(
                "{}: the host {host_list} logged {tries} of its requests (12290) {}, but the client never processed an answer (no 12289; the request ended with {code_list}).",
                c.name,
                span(b.zone, first, last)
            ),
            "clock-skew" => {
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
                    "{}: the KMS host refused {tries} request(s) {} with {code_list}, {since}.{measured}",
                    c.name,
                    span(b.zone, first, last)
                )
            }
            "kms-unreachable" => format!(
                "{}: {tries} request(s) to {} got no answer {} ({}), {since}.",
                c.name,
                if host_list.is_empty() {
                    "its KMS host".to_owned()
                } else {
                    host_list.clone()
                },
                span(b.zone, first, last),
                if code_list.is_empty() {
                    "no result code".to_owned()
                } else {
                    code_list.clone()
                }
            ),
            _ => format!(
                "{}: {} failed {} time(s) {} with {code_list}{}, {since}.",
                c.name,
                if attempts.is_empty() {
                    "activation"
                } else {
                    "the KMS request"
                },
                if attempts.is_empty() { n } else { tries },
                span(b.zone, first, last),
                if host_list.is_empty() {
                    String::new()
                } else {
                    format!(" from {host_list}")
                },
            ),
        };
        raise(b, &mut reasons, id, &me, codes, detail, proof);
    }
    // Hosts outside the supplied set.
    let other: Vec<&Attempt> = c
        .attempts
        .iter()
        .filter(|a| a.host_side == HostSide::OtherHost)
        .collect();
    if let Some(a) = other.last() {
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
            &mut reasons,
            "kms-host-unknown",
            &me,
            &[],
            detail,
            &proof,
        );
    }
    // Cloned images: raised once per CMID for the fleet (below); here only the reason.
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
            let sev = b
                .rules
                .finding("duplicate-cmid")
                .map_or(Severity::Error, |r| r.severity);
            reasons.push((
                sev,
                format!(
                    "{} shares its CMID {cm} with {}: cloned without generalizing, the host counts them as one machine.",
                    c.name,
                    others.join(", ")
                ),
            ));
        }
    }
    // Genuine state.
    if let Some((i, code)) = c.genuine {
        let id = code
            .and_then(|c| b.code_finding(c))
            .filter(|id| id.starts_with("non-genuine"))
            .unwrap_or_else(|| "non-genuine".to_owned());
        let detail = format!(
            "{}: Windows set its genuine state to non-genuine on {} (event 8209{}) and has not logged it genuine again (12305).",
            c.name,
            when(b.zone, events.get(i).and_then(|e| e.time)),
            code.map(|c| format!(", {}", b.words(c)))
                .unwrap_or_default()
        );
        let codes: Vec<Hresult> = code.into_iter().collect();
        raise(b, &mut reasons, &id, &me, &codes, detail, &[i]);
    }
    // Expiry.
    let lic = license(b.rules, events, c, now);
    if let Some((status, ends, proof)) = lic {
        match status {
            1 => {
                if let Some(e) = ends.filter(|e| *e - now <= Duration::days(window_days)) {
                    let detail = format!(
                        "{}'s KMS activation is valid until {} ({} days from {}), and no renewal has succeeded since {}; then {} days of additional grace until {}, then notification mode.",
                        c.name,
                        day(b.zone, e),
                        (e - now).num_days(),
                        day(b.zone, now),
                        when(b.zone, ok_time),
                        b.rules.kms().oot_grace_days,
                        day(
                            b.zone,
                            e + Duration::days(i64::from(b.rules.kms().oot_grace_days))
                        )
                    );
                    raise(
                        b,
                        &mut reasons,
                        "activation-expiring",
                        &me,
                        &[],
                        detail,
                        &[proof],
                    );
                }
            }
            2..=4 | 6 => {
                let detail = format!(
                    "{} is not activated: it runs on the {} period{}.",
                    c.name,
                    crate::model::license_status_name(status).replace('-', " "),
                    ends.map(|e| format!(
                        ", which ends on {}; then notification mode",
                        day(b.zone, e)
                    ))
                    .unwrap_or_default()
                );
                raise(
                    b,
                    &mut reasons,
                    "grace-expiring",
                    &me,
                    &[],
                    detail,
                    &[proof],
                );
            }
            0 | 5 => {
                let detail = format!(
                    "{} is {} (the grace period is over): Windows nags the user and some features stop.",
                    c.name,
                    crate::model::license_status_name(status)
                );
                raise(
                    b,
                    &mut reasons,
                    "unlicensed-rfm",
                    &me,
                    &[],
                    detail,
                    &[proof],
                );
            }
            _ => {}
        }
    }
    let role = if c.attempts.is_empty() {
        if c.local_failures.iter().any(|(_, code)| {
            b.rules
                .code(*code)
                .is_some_and(|e| e.category == Category::Mak)
        }) {
            "mak"
        } else {
            "unknown"
        }
    } else {
        "kms-client"
    };
    // The worst finding says why; among equals, the first raised.
    reasons.sort_by_key(|(sev, _)| std::cmp::Reverse(*sev));
    let reason = match (
        reasons.first(),
        c.attempts.get(last_ok.unwrap_or(usize::MAX)),
    ) {
        (Some((_, r)), _) => r.clone(),
        (None, Some(a)) => format!(
            "Activated against {} on {} (event 12289).",
            a.kms_host.as_deref().unwrap_or("its KMS host"),
            when(b.zone, a.time)
        ),
        (None, None) => "No activation attempt in the logs.".to_owned(),
    };
    Machine {
        name: c.name.clone(),
        name_source: "text",
        role,
        license_status: lic.map_or("unknown", |(s, _, _)| crate::model::license_status_name(s)),
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

fn host(b: &mut Builder<'_>, corr: &Correlation, h: &HostView) -> (Machine, Host) {
    let kms = b.rules.kms().clone();
    let events = b.events;
    let me = vec![h.name.clone()];
    let mut health = "ok";
    let mut notes = vec![format!(
        "count {}{} from {} request(s) of {} client(s) since {}",
        h.count_now,
        if h.count_complete {
            ""
        } else {
            " or more (the log covers less than 30 days)"
        },
        h.requests.len(),
        h.clients.len(),
        when(b.zone, h.first)
    )];
    if let Some((n, t)) = h.reported_count {
        notes.push(format!(
            "it told clients count {n} on {}",
            when(b.zone, Some(t))
        ));
    }
    let dns_event = h.dns.and_then(|i| events.get(i).map(|e| (i, e)));
    let mut dns_publishing = None;
    if let Some((i, e)) = dns_event {
        if e.event_id == 12293 {
            health = "failing";
            dns_publishing = Some(false);
            let c = code(e, "result");
            let domain = match e.payload.get("domain") {
                Some(FieldValue::Text(d)) => d.to_string(),
                _ => "its".to_owned(),
            };
            let detail = format!(
                "{} could not publish its _vlmcs._tcp SRV record in the {domain} domain (event 12293 on {}{}); clients that find their host through DNS cannot find it.",
                h.name,
                when(b.zone, e.time),
                c.map(|c| format!(", {}", b.words(c))).unwrap_or_default()
            );
            let proof: Vec<usize> = std::iter::once(i).collect();
            let codes: Vec<Hresult> = c.into_iter().collect();
            notes.push("DNS publishing failing".to_owned());
            b.raise("kms-dns-publish-failed", &me, &codes, detail, &proof);
        } else {
            dns_publishing = Some(true);
        }
    }
    // A name cycling through CMIDs: counted again and again.
    for (name, cmids) in &h.cmids_by_name {
        if cmids.len() < 3 {
            continue;
        }
        let proof: Vec<usize> = cmids
            .iter()
            .filter_map(|c| h.by_cmid.get(c).and_then(|v| v.last().copied()))
            .collect();
        let display = corr
            .clients
            .iter()
            .find(|c| same_machine(&c.name, name))
            .map_or_else(|| name.clone(), |c| c.name.clone());
        let detail = format!(
            "{display} reached {} with {} different CMIDs in the last 30 days ({}).",
            h.name,
            cmids.len(),
            cmids.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        b.raise("cmid-changing", &[display], &[], detail, &proof);
    }
    if !h.stuck.is_empty() {
        health = "failing";
        let npol = h.n_policy.unwrap_or(i64::from(kms.client_os_threshold));
        let detail = format!(
            "KMS host {}: {} machine(s) were last refused for the count (0xC004F038, N-policy {npol}); the count replayed from its log is {} (newest request {}).",
            h.name,
            h.stuck.len(),
            h.count_now,
            when(b.zone, h.last)
        );
        notes.push(format!(
            "{} machine(s) refused for the count",
            h.stuck.len()
        ));
        b.raise(
            "kms-count-insufficient",
            &me,
            &[Hresult(0xC004_F038)],
            detail,
            &h.stuck,
        );
    }
    let used_by: usize = corr
        .kms_hosts_used
        .iter()
        .filter(|(k, _)| {
            let n = k.rsplit_once(':').map_or(k.as_str(), |(n, _)| n);
            same_machine(n, &h.name)
        })
        .map(|(_, v)| v.len())
        .sum();
    if used_by > 0 {
        notes.push(format!("named by {used_by} client log(s)"));
    }
    // The correlation gives no date when the count is already below.
    if let Some(d) = h.below_client_threshold {
        notes.push(format!(
            "falls below {} on {d} if no new machine asks",
            kms.client_os_threshold
        ));
    }
    let need = |t: u32, current: u64| Some(u64::from(t).saturating_sub(current));
    let summary = notes.join("; ");
    let verdict = match health {
        "failing" => Verdict::Failing,
        "warning" => Verdict::Warning,
        _ => Verdict::Ok,
    };
    let machine = Machine {
        name: h.name.clone(),
        name_source: "text",
        role: "kms-host",
        license_status: "unknown",
        channel: None,
        verdict,
        reason: format!("KMS host: {summary}."),
        products: Vec::new(),
        kms_host: None,
        cmid: None,
        findings: Vec::new(),
        attempts: Vec::new(),
        attempts_omitted: 0,
    };
    // What the host itself last said beats a replay of a log shorter than 30 days.
    let current = match h.reported_count {
        Some((n, t)) if !h.count_complete && h.last.is_none_or(|l| t >= l - Duration::days(1)) => {
            u64::try_from(n).unwrap_or(0).max(h.count_now as u64)
        }
        _ => h.count_now as u64,
    };
    let host = Host {
        name: h.name.clone(),
        current_count: Some(current),
        client_threshold: kms.client_os_threshold,
        server_threshold: kms.server_os_threshold,
        needed_for_client: need(kms.client_os_threshold, current),
        needed_for_server: need(kms.server_os_threshold, current),
        listening_port: None,
        dns_publishing,
        requests: KmsRequests::default(),
        health,
        summary,
        count_timeline: h
            .timeline
            .iter()
            .map(|d| CountPoint {
                day: d.day.format("%Y-%m-%d").to_string(),
                count: d.count as u64,
                partial: d.partial,
            })
            .collect(),
        log_from: h.first.map(stamp),
        log_to: h.last.map(stamp),
        clients_seen: Some(h.clients.len() as u64),
        below_client_threshold_on: h
            .below_client_threshold
            .map(|d| d.format("%Y-%m-%d").to_string()),
        below_server_threshold_on: h
            .below_server_threshold
            .map(|d| d.format("%Y-%m-%d").to_string()),
    };
    (machine, host)
}
