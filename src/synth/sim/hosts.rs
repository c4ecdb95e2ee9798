//! The KMS hosts' side of the simulation outside the clients' requests: the DNS publishing
//! events they log every day, their memory of the clients activated in the weeks before the
//! span, their count at the end, and the oldest KMS-log records lost to a full log. What a host
//! answers a request is decided with the request, in `attempt.rs`.
//!
//! Indexing: every index here is a position the simulation itself pushed (machines, hosts),
//! never a number read from input.
#![allow(clippy::indexing_slicing)]

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};

use super::events::{dns_publish_failed, dns_published};
use super::facts::COUNT_WINDOW_DAYS;
use super::machine::{Log, Role, SimMachine};
use super::world::{Client, World, configured_host, discover};
use crate::synth::scenario::Scenario;

/// A host's own Application-log activation events: DNS publishing at start and every 24 hours.
pub(super) fn publish_dns(s: &Scenario, w: &mut World, now: DateTime<Utc>) {
    for h in &w.hosts {
        let m = &mut w.machines[h.idx];
        let dns = m.dns_publishing.clone().unwrap_or_default();
        if dns == "off" {
            continue;
        }
        let mut t = s.start + Duration::minutes(3);
        while t < now {
            let ev = if dns == "published" {
                dns_published(t, &s.domain)
            } else {
                dns_publish_failed(t, &dns, &s.domain)
            };
            m.events.push(ev);
            t += Duration::days(1);
        }
    }
}

/// The hosts' memory of the weeks before the span: clients activated within the count window.
pub(super) fn remember_prior(w: &mut World, clients: &[Client], start: DateTime<Utc>) {
    let mut prior: Vec<(DateTime<Utc>, usize, String)> = Vec::new();
    for c in clients {
        let m = &w.machines[c.m];
        let Some(a) = c.activated_at else { continue };
        if m.role != Role::KmsClient || a < start - Duration::days(COUNT_WINDOW_DAYS) {
            continue;
        }
        let host = match &m.kms_configured {
            Some(cfg) => configured_host(&w.hosts, cfg),
            None => discover(&w.hosts),
        };
        if let Some(h) = host {
            prior.push((a, h, m.cmid.clone()));
        }
    }
    prior.sort();
    for (t, h, cmid) in prior {
        w.hosts[h].see(t, &cmid);
    }
}

/// Each host's count at `now`, for the ground truth and its slmgr text.
pub(super) fn record_counts(w: &mut World, now: DateTime<Utc>) {
    for h in &mut w.hosts {
        let count = h.count(now);
        w.machines[h.idx].host_count = Some(count);
    }
}

/// Hosts whose KMS log keeps fewer records than were written lose the oldest.
pub(super) fn roll_off(s: &Scenario, machines: &mut [SimMachine]) {
    for (i, h) in s.hosts.iter().enumerate() {
        let Some(m) = machines.get_mut(i) else {
            continue;
        };
        let kms: Vec<usize> = m
            .events
            .iter()
            .enumerate()
            .filter(|(_, e)| e.log == Log::KeyManagementService)
            .map(|(i, _)| i)
            .collect();
        let cap = h.log_capacity as usize;
        if cap > 0 && kms.len() > cap {
            let drop: BTreeSet<usize> = kms.iter().take(kms.len() - cap).copied().collect();
            m.rolled_off = drop.len() as u64;
            let mut i = 0;
            m.events.retain(|_| {
                let keep = !drop.contains(&i);
                i += 1;
                keep
            });
        }
        m.log_starts = m
            .events
            .iter()
            .find(|e| e.log == Log::KeyManagementService)
            .map(|e| e.time);
    }
}
