//! Correlation of normalized activation events across a fleet: each client's attempts (12288
//! with the 12289 that answers it), the join of attempts to the hosts' 12290 records (by CMID,
//! client time and client name), host coverage, the host count replayed from 12290s, and the
//! CMID → machine-name map. It knows events, not formats, and decides nothing: the diagnosis
//! does. Its thresholds (count window, cap, activation thresholds) come from the rule table's
//! `[kms]`.

mod client;
mod fields;
mod host;
mod identity;
mod intern;
mod scan;

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::events::ActivationEvent;
use crate::model::ids::event;
use crate::rules::KmsParams;

pub(crate) use client::{Attempt, ClientView, HostSide};
pub(crate) use fields::code;
#[cfg(test)]
pub(crate) use host::CountDay;
pub(crate) use host::HostView;
pub(crate) use identity::{Identity, Rename, identify};

use client::{Candidates, client_view, join, skew};
use fields::int;
use host::host_view;

pub(crate) use crate::model::names::same_machine;

/// The whole correlation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct Correlation {
    pub clients: Vec<ClientView>,
    pub hosts: Vec<HostView>,
    /// CMID → the machine names it was seen under (client logs and host logs).
    pub cmids: BTreeMap<String, BTreeSet<String>>,
    /// Every `server:port` clients used, with how many clients used it.
    pub kms_hosts_used: BTreeMap<String, BTreeSet<String>>,
    /// Machines seen under one name, then another (their events carry the newest name).
    #[serde(skip)]
    pub renames: Vec<Rename>,
}

/// As of when the hosts' counts are replayed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AsOf {
    /// One time for every host (`--now`).
    Fixed(DateTime<Utc>),
    /// Each host at its own log's newest event (the time its log covers), else this time.
    OwnLog(DateTime<Utc>),
}

impl Correlation {
    /// The host view for a `server:port` a client named, if its logs were supplied.
    pub(crate) fn host_for(&self, server: &str) -> Option<usize> {
        host_index(&self.hosts, server)
    }
}

/// Correlates events sorted by machine and time (see [`crate::events::sort`]), on up to `threads`
/// threads (the answer is the same at any count), every host as of `now`, each machine under the
/// name its events carry.
pub(crate) fn correlate(
    events: &[ActivationEvent],
    now: DateTime<Utc>,
    threads: usize,
    kms: &KmsParams,
) -> Correlation {
    correlate_with(events, &Identity::default(), AsOf::Fixed(now), threads, kms)
}

/// [`correlate`] with the fleet's machine names (`names`: the spellings and renames the events'
/// names were given by, so the hosts' records of a client's old names find it) and hosts counted
/// as `at` says.
pub(crate) fn correlate_with(
    events: &[ActivationEvent],
    names: &Identity,
    at: AsOf,
    threads: usize,
    kms: &KmsParams,
) -> Correlation {
    // Events come sorted by machine (ignoring case): each machine is one run of indices. Each
    // event is compared with the one before it, which shares its name's `Arc` unless a new input
    // or range of a large file begins there (names equal ignoring case are one equivalence, so
    // the runs are the same as against the run's first event).
    let mut runs: Vec<Run> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let same = i
            .checked_sub(1)
            .and_then(|p| events.get(p))
            .is_some_and(|p| crate::events::same_name(p.machine(), e.machine()).is_eq());
        match runs.last_mut() {
            Some(r) if same => r.add(i, e),
            _ => runs.push(Run::new(i, e)),
        }
    }
    let mut corr = Correlation {
        renames: names.renames.clone(),
        ..Correlation::default()
    };
    // Each host's distinct (CMID, client name) pairs, in the order it logged them.
    let mut host_pairs: Vec<Vec<(&str, &str)>> = Vec::new();
    for run in runs {
        let Some(first) = events.get(run.events.start) else {
            continue;
        };
        let name = first.machine().clone();
        let idx = run.events.clone();
        let is_client = run.client;
        if !run.requests.is_empty() || run.dns.is_some() {
            let now = match at {
                AsOf::Fixed(t) => t,
                AsOf::OwnLog(t) => run.last.unwrap_or(t),
            };
            let (mut view, pairs) = host_view(events, &name, run, now, threads, kms);
            view.name_source = first.context.name_source;
            corr.hosts.push(view);
            host_pairs.push(pairs);
        }
        if is_client {
            corr.clients.push(client_view(events, &name, idx));
        }
    }
    // CMIDs: from the clients' own requests and from the hosts' logs.
    for c in &corr.clients {
        for cm in &c.cmids {
            corr.cmids
                .entry(cm.to_ascii_lowercase())
                .or_default()
                .insert(c.name.to_ascii_lowercase());
        }
    }
    for (cm, n) in host_pairs.into_iter().flatten() {
        let n = names.directory.resolve(n);
        let seen = corr.cmids.entry(cm.to_ascii_lowercase()).or_default();
        if !seen.iter().any(|x| same_machine(x, n)) {
            seen.insert(n.to_ascii_lowercase());
        }
    }
    // Join attempts to hosts.
    // Borrowed field by field: the clients change, the hosts are only read.
    let Correlation {
        clients,
        hosts,
        kms_hosts_used,
        ..
    } = &mut corr;
    let any_host = !hosts.is_empty();
    let mut reported: Vec<Option<(i64, DateTime<Utc>)>> = vec![None; hosts.len()];
    for c in clients.iter_mut() {
        let mut candidates = Candidates::default();
        for a in &mut c.attempts {
            if let Some(server) = &a.kms_host {
                kms_hosts_used
                    .entry(server.to_ascii_lowercase())
                    .or_default()
                    .insert(c.name.to_ascii_lowercase());
            }
            a.host_side = join(
                events,
                hosts,
                (&c.name, &names.directory),
                a,
                any_host,
                &mut candidates,
            );
            if let HostSide::Received { record, .. } = a.host_side {
                a.skew_minutes = skew(events.get(a.request), events.get(record));
            }
            // What the host told the client its count was.
            if let (Some(server), Some(resp)) =
                (&a.kms_host, a.response.and_then(|r| events.get(r)))
                && let (Some(n), Some(t)) = (int(resp, "count"), resp.time)
                && let Some(hi) = host_index(hosts, server)
                && reported
                    .get(hi)
                    .copied()
                    .flatten()
                    .is_none_or(|(_, at)| t > at)
                && let Some(slot) = reported.get_mut(hi)
            {
                *slot = Some((n, t));
            }
        }
    }
    for (h, r) in hosts.iter_mut().zip(reported) {
        h.reported_count = r;
    }
    corr
}

pub(super) fn host_index(hosts: &[HostView], server: &str) -> Option<usize> {
    let name = server.rsplit_once(':').map_or(server, |(h, _)| h);
    hosts.iter().position(|h| same_machine(&h.name, name))
}

/// When a request arrived, and its event index.
type Arrival = (DateTime<Utc>, usize);

/// What one machine's run of events holds, gathered in the pass that finds the runs (a host's
/// run is hundreds of thousands of events, each pass over it a walk through memory).
pub(super) struct Run {
    /// Where its events are.
    pub(super) events: Range<usize>,
    /// Its 12290s (requests a KMS host processed).
    pub(super) requests: Vec<usize>,
    /// The newest of its 12293/12294s (DNS publishing), the last one among equals, and its time.
    pub(super) dns: Option<usize>,
    pub(super) dns_time: Option<DateTime<Utc>>,
    /// Whether it holds a client's events (requests sent, answers, activation attempts).
    pub(super) client: bool,
    /// The oldest request's time and the newest event's time.
    pub(super) first: Option<DateTime<Utc>>,
    pub(super) last: Option<DateTime<Utc>>,
}

impl Run {
    /// A run that starts with event `i`, `e`.
    pub(super) fn new(i: usize, e: &ActivationEvent) -> Run {
        let mut run = Run {
            events: i..i,
            requests: Vec::new(),
            dns: None,
            dns_time: None,
            client: false,
            first: None,
            last: None,
        };
        run.add(i, e);
        run
    }

    /// Event `i`, `e`, the next one of the run.
    pub(super) fn add(&mut self, i: usize, e: &ActivationEvent) {
        self.events.end = i + 1;
        self.last = self.last.max(e.time);
        match e.event_id {
            event::KMS_REQUEST_PROCESSED => {
                self.requests.push(i);
                if let Some(t) = e.time {
                    self.first = Some(self.first.map_or(t, |f| f.min(t)));
                }
            }
            event::KMS_DNS_PUBLISH_FAILED | event::KMS_DNS_PUBLISH_SUCCEEDED
                if self.dns.is_none() || e.time >= self.dns_time =>
            {
                self.dns = Some(i);
                self.dns_time = e.time;
            }
            event::KMS_REQUEST_SENT
            | event::KMS_RESPONSE_PROCESSED
            | event::SLUI_ACTIVATION_FAILED
            | event::GENUINE_STATE_NON_GENUINE
            | event::VL_ACTIVATION_ATTEMPT_FAILED
            | event::GENUINE_STATE_GENUINE => self.client = true,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests;
