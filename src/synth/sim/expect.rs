//! The ground truth: what a correct analysis concludes for each machine, from how its attempts
//! ended since its last activation, what the collected logs can show of them (a host's log that
//! is not collected, or rolled off, cannot show that a request never arrived), its CMID's names,
//! its genuine state and its license state at the end; and for each host, its DNS publishing
//! and the clients still stuck on its count. Finding ids only: their severities and the verdict
//! come from the rule table, in `synth::expected`.
//!
//! Indexing: every index here is a position the simulation itself pushed (machines, hosts,
//! clients), never a number read from input.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, Utc};

use super::facts::codes;
use super::machine::{License, Role, SimMachine};
use super::world::{Attempt, Client, HostState, Outcome, World};

/// Finding ids, collected as a set.
type Findings = BTreeSet<&'static str>;

/// Sets every machine's `expected` findings, as they stand at `now`.
pub(super) fn expectations(w: &mut World, clients: &[Client], now: DateTime<Utc>) {
    let any_host_logs = w.hosts.iter().any(|h| w.machines[h.idx].collected);
    let names = names_by_cmid(&w.machines, clients, &w.hosts);
    let mut host_rejected_count: BTreeSet<usize> = BTreeSet::new();
    for c in clients {
        let mut exp = Findings::new();
        let streak = since_last_activation(c);
        let m = &w.machines[c.m];
        for a in streak {
            answer_findings(&mut exp, a);
            delivery_findings(&mut exp, a, m.role, &w.machines, &w.hosts);
        }
        // A client still stuck on a host's count makes it a host finding too.
        host_rejected_count.extend(streak.iter().filter_map(stuck_on_count));
        if c.used_unsupplied && any_host_logs && m.role == Role::KmsClient {
            exp.insert("kms-host-unknown");
        }
        if names.get(&m.cmid).is_some_and(|n| n.len() > 1) {
            exp.insert("duplicate-cmid");
        }
        genuine_findings(&mut exp, c.genuine_bad);
        license_findings(&mut exp, m.license, now);
        w.machines[c.m].expected = exp;
    }
    // A host that logged a CMID under several names counts those machines as one.
    let shared: BTreeSet<String> = names
        .iter()
        .filter(|(_, n)| n.len() > 1)
        .map(|(c, _)| c.to_ascii_lowercase())
        .collect();
    for h in &w.hosts {
        let hm = &w.machines[h.idx];
        let logs_shared = hm.collected
            && hm.events.iter().filter(|e| e.event_id == 12290).any(|e| {
                e.data
                    .first()
                    .and_then(|d| d.split(',').nth(3))
                    .is_some_and(|c| shared.contains(&c.trim().to_ascii_lowercase()))
            });
        if logs_shared {
            w.machines[h.idx].expected.insert("duplicate-cmid");
        }
    }
    host_findings(w, &host_rejected_count);
}

/// Which names each CMID is seen under, in the collected logs: the clients' own 12288s and the
/// hosts' 12290s.
fn names_by_cmid(
    machines: &[SimMachine],
    clients: &[Client],
    hosts: &[HostState],
) -> BTreeMap<String, BTreeSet<String>> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in clients {
        let m = &machines[c.m];
        if m.collected && m.events.iter().any(|e| e.event_id == 12288) {
            names
                .entry(m.cmid.clone())
                .or_default()
                .insert(m.fqdn.clone());
        }
    }
    for h in hosts {
        let hm = &machines[h.idx];
        if !hm.collected {
            continue;
        }
        for e in hm.events.iter().filter(|e| e.event_id == 12290) {
            let f: Vec<&str> = e
                .data
                .first()
                .map(|d| d.split(',').collect())
                .unwrap_or_default();
            if let (Some(name), Some(cmid)) = (f.get(2), f.get(3)) {
                names
                    .entry((*cmid).to_owned())
                    .or_default()
                    .insert((*name).to_owned());
            }
        }
    }
    names
}

/// The attempts after the client's last successful one (all of them if none succeeded).
fn since_last_activation(c: &Client) -> &[Attempt] {
    let last_ok = c.attempts.iter().rposition(|a| {
        matches!(
            a.outcome,
            Outcome::Answered {
                code: codes::OK,
                ..
            }
        )
    });
    &c.attempts[last_ok.map_or(0, |i| i + 1)..]
}

/// Whether `host`'s collected KMS log reaches back to `t`, so it can show what arrived then.
fn covered(
    machines: &[SimMachine],
    hosts: &[HostState],
    host: Option<usize>,
    t: DateTime<Utc>,
) -> bool {
    host.is_some_and(|h| {
        let hm = &machines[hosts[h].idx];
        hm.collected && hm.log_starts.is_some_and(|s| s <= t)
    })
}

/// What a host's answer shows: too low a count, or the client's clock too far off.
fn answer_findings(exp: &mut Findings, a: &Attempt) {
    match a.outcome {
        Outcome::Answered { code, .. } | Outcome::Lost { code, .. }
            if code == codes::NOT_ENOUGH_COUNT =>
        {
            exp.insert("kms-count-insufficient");
        }
        Outcome::Answered { code, .. } if code == codes::TIMESTAMP_INVALID => {
            exp.insert("clock-skew");
        }
        _ => {}
    }
}

/// What an attempt that got no answer shows: where it was lost, as far as the collected logs
/// tell, or why it failed on the client.
fn delivery_findings(
    exp: &mut Findings,
    a: &Attempt,
    role: Role,
    machines: &[SimMachine],
    hosts: &[HostState],
) {
    match a.outcome {
        Outcome::Dropped { host } => {
            exp.insert("kms-unreachable");
            if covered(machines, hosts, host, a.time) {
                exp.insert("kms-request-not-received");
            }
        }
        Outcome::Lost { host, .. } => {
            if covered(machines, hosts, Some(host), a.time) {
                exp.insert("kms-response-lost");
            } else {
                exp.insert("kms-unreachable");
            }
        }
        Outcome::Local { code } => {
            exp.insert(match code {
                codes::BIOS_BAD_FORMAT => "bios-slic-invalid",
                codes::DNS_NAME_NOT_FOUND => "kms-dns-srv-missing",
                _ if role == Role::Mak => "mak-activation-failed",
                _ => "activation-error",
            });
        }
        Outcome::Answered { .. } => {}
    }
}

/// The host that refused the attempt for its count, if it did.
fn stuck_on_count(a: &Attempt) -> Option<usize> {
    match a.outcome {
        Outcome::Answered {
            host: Some(h),
            code: codes::NOT_ENOUGH_COUNT,
        }
        | Outcome::Lost {
            host: h,
            code: codes::NOT_ENOUGH_COUNT,
        } => Some(h),
        _ => None,
    }
}

/// A genuine-state failure still in force at the end.
fn genuine_findings(exp: &mut Findings, genuine_bad: Option<u32>) {
    match genuine_bad {
        Some(codes::TAMPERED) => {
            exp.insert("non-genuine-tampered");
        }
        Some(_) => {
            exp.insert("non-genuine-invalid-key");
        }
        None => {}
    }
}

/// The license state at `now`: activation running out within 30 days, in grace, or unlicensed.
fn license_findings(exp: &mut Findings, license: License, now: DateTime<Utc>) {
    match license.status {
        1 if license.ends.is_some_and(|e| e - now <= Duration::days(30)) => {
            exp.insert("activation-expiring");
        }
        2..=4 | 6 => {
            exp.insert("grace-expiring");
        }
        0 | 5 => {
            exp.insert("unlicensed-rfm");
        }
        _ => {}
    }
}

/// The hosts' own findings: DNS publishing that fails, and clients stuck on their count.
fn host_findings(w: &mut World, host_rejected_count: &BTreeSet<usize>) {
    for (hi, h) in w.hosts.iter().enumerate() {
        let m = &mut w.machines[h.idx];
        let dns = m.dns_publishing.clone().unwrap_or_default();
        if dns != "published" && dns != "off" {
            m.expected.insert("kms-dns-publish-failed");
        }
        if host_rejected_count.contains(&hi) {
            m.expected.insert("kms-count-insufficient");
        }
    }
}
