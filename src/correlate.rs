//! Correlation of normalized activation events across a fleet: each client's attempts (12288
//! with the 12289 that answers it), the join of attempts to the hosts' 12290 records (by CMID,
//! client time and client name), host coverage, the host count replayed from 12290s, and the
//! CMID → machine-name map. It knows events, not formats, and decides nothing: `fleet` does.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::events::{ActivationEvent, FieldValue};
use crate::hresult::Hresult;

/// The events the correlation and the fleet diagnosis read; `analyze` keeps no others.
pub const EVENT_IDS: &[u32] = &[12288, 12289, 12290, 12293, 12294, 8198, 8209, 8233, 12305];

/// A 12289 answers the 12288 before it when it follows within this long.
const RESPONSE_WINDOW_MINUTES: i64 = 10;
/// Client times of one request in 12288 and 12290 (the same clock, minute precision) are at
/// most this far apart.
const JOIN_WINDOW_MINUTES: i64 = 3;
/// Days a host counts a CMID.
pub const COUNT_WINDOW_DAYS: i64 = 30;
/// The host keeps at most this many CMIDs (twice the largest threshold).
pub const COUNT_CAP: usize = 50;
/// Result code a host gives below the count.
pub const NOT_ENOUGH_COUNT: Hresult = Hresult(0xC004_F038);
/// Result code a host gives for a bad client timestamp.
pub const TIMESTAMP_INVALID: Hresult = Hresult(0xC004_F06C);

/// A machine name for comparing: lower case; `ws01` and `ws01.contoso.com` are the same machine.
pub fn same_machine(a: &str, b: &str) -> bool {
    let (a, b) = (a.trim().to_ascii_lowercase(), b.trim().to_ascii_lowercase());
    if a == b {
        return true;
    }
    let first = |s: &str| s.split('.').next().unwrap_or("").to_owned();
    (!a.contains('.') || !b.contains('.')) && !a.is_empty() && first(&a) == first(&b)
}

fn field<'a>(e: &'a ActivationEvent, name: &str) -> Option<&'a FieldValue> {
    e.fields.get(name)
}

/// A decoded result code of an event.
pub fn code(e: &ActivationEvent, name: &str) -> Option<Hresult> {
    match field(e, name)? {
        FieldValue::Code(c) => Some(*c),
        _ => None,
    }
}

fn int(e: &ActivationEvent, name: &str) -> Option<i64> {
    match field(e, name)? {
        FieldValue::Int(i) => Some(*i),
        _ => None,
    }
}

fn text(e: &ActivationEvent, name: &str) -> Option<String> {
    match field(e, name)? {
        FieldValue::Text(t) | FieldValue::Guid(t) => Some(t.trim().to_owned()),
        _ => None,
    }
}

fn boolean(e: &ActivationEvent, name: &str) -> Option<bool> {
    match field(e, name)? {
        FieldValue::Bool(b) => Some(*b),
        FieldValue::Int(i) => Some(*i != 0),
        _ => None,
    }
}

fn client_time(e: &ActivationEvent) -> Option<NaiveDateTime> {
    match field(e, "client_time")? {
        FieldValue::Time(t) => Some(*t),
        _ => None,
    }
}

/// How the host side saw an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "seen", rename_all = "kebab-case")]
pub enum HostSide {
    /// The host logged it (index of its 12290 in the event list).
    Received { host: usize, record: usize },
    /// The host's log covers the time and has no record of it.
    NotReceived { host: usize },
    /// The host's log does not cover the time.
    NotCovered { host: usize },
    /// Sent to a host whose logs were not supplied.
    OtherHost,
    /// No host logs at all, or no host named.
    Unknown,
}

/// One activation attempt of a client.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attempt {
    /// Index of the 12288 in the event list.
    pub request: usize,
    /// Index of the 12289 that answered it.
    pub response: Option<usize>,
    pub time: Option<DateTime<Utc>>,
    pub kms_host: Option<String>,
    pub cmid: Option<String>,
    /// The response's result, else the request's.
    pub result: Option<Hresult>,
    pub activated: bool,
    pub host_side: HostSide,
    /// How far the client's clock was from the host's for this request, in minutes (from the
    /// client time both logged, each against its own `TimeCreated`); only for joined attempts.
    pub skew_minutes: Option<i64>,
}

/// What the client logs say of one machine.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ClientView {
    pub name: String,
    pub attempts: Vec<Attempt>,
    /// 8198 failures (event index, code).
    pub local_failures: Vec<(usize, Hresult)>,
    /// 8209 not followed by 12305 (event index, code).
    pub genuine: Option<(usize, Option<Hresult>)>,
    pub cmids: BTreeSet<String>,
    /// The newest 12288 (event index).
    pub last_request: Option<usize>,
}

/// One day of a host's replayed count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CountDay {
    pub day: NaiveDate,
    pub count: usize,
    /// Less than 30 days of log before this day: the host may remember more machines.
    pub partial: bool,
}

/// What the logs say of one KMS host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HostView {
    pub name: String,
    /// Indices of its 12290s, in time order.
    pub requests: Vec<usize>,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    /// The newest 12293/12294 (event index).
    pub dns: Option<usize>,
    pub timeline: Vec<CountDay>,
    pub count_now: usize,
    /// The count replay covers a full 30 days.
    pub count_complete: bool,
    /// When the count falls below 25 and below 5 if no new machine asks (None: already below).
    pub below_client_threshold: Option<NaiveDate>,
    pub below_server_threshold: Option<NaiveDate>,
    /// The largest N-policy among its requests.
    pub n_policy: Option<i64>,
    /// CMIDs whose newest request was refused for the count (event index of that 12290).
    pub stuck: Vec<usize>,
    /// Distinct client names in its log.
    pub clients: BTreeSet<String>,
    /// The count the host itself reported in its newest answer a client logged (12289), and
    /// when.
    pub reported_count: Option<(i64, DateTime<Utc>)>,
    /// Client name (lower case) → the CMIDs it used in the last 30 days.
    pub cmids_by_name: BTreeMap<String, BTreeSet<String>>,
    /// Its 12290s by CMID (lower case), for the join.
    #[serde(skip)]
    pub by_cmid: BTreeMap<String, Vec<usize>>,
}

/// The whole correlation.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Correlation {
    pub clients: Vec<ClientView>,
    pub hosts: Vec<HostView>,
    /// CMID → the machine names it was seen under (client logs and host logs).
    pub cmids: BTreeMap<String, BTreeSet<String>>,
    /// Every `server:port` clients used, with how many clients used it.
    pub kms_hosts_used: BTreeMap<String, BTreeSet<String>>,
}

impl Correlation {
    /// The host view for a `server:port` a client named, if its logs were supplied.
    pub fn host_for(&self, server: &str) -> Option<usize> {
        host_index(&self.hosts, server)
    }
}

/// Correlates events sorted by machine and time (see [`crate::events::sort`]).
pub fn correlate(events: &[ActivationEvent], now: DateTime<Utc>) -> Correlation {
    // Events come sorted by machine (ignoring case): each machine is one run.
    let mut runs: Vec<Vec<usize>> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let same = runs
            .last()
            .and_then(|r| r.first())
            .and_then(|f| events.get(*f))
            .is_some_and(|f| f.machine.eq_ignore_ascii_case(&e.machine));
        match runs.last_mut() {
            Some(r) if same => r.push(i),
            _ => runs.push(vec![i]),
        }
    }
    let mut corr = Correlation::default();
    for idx in &runs {
        let Some(first) = idx.first().and_then(|i| events.get(*i)) else {
            continue;
        };
        let name = first.machine.clone();
        let kms: Vec<usize> = idx
            .iter()
            .copied()
            .filter(|i| events.get(*i).is_some_and(|e| e.event_id == 12290))
            .collect();
        let publishes = idx.iter().any(|i| {
            events
                .get(*i)
                .is_some_and(|e| matches!(e.event_id, 12293 | 12294))
        });
        if !kms.is_empty() || publishes {
            corr.hosts.push(host_view(events, &name, idx, kms, now));
        }
        if idx.iter().any(|i| {
            events
                .get(*i)
                .is_some_and(|e| matches!(e.event_id, 12288 | 12289 | 8198 | 8209 | 8233 | 12305))
        }) {
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
    for h in &corr.hosts {
        for &r in &h.requests {
            let Some(e) = events.get(r) else { continue };
            if let (Some(cm), Some(n)) = (text(e, "cmid"), text(e, "client_name")) {
                let names = corr.cmids.entry(cm.to_ascii_lowercase()).or_default();
                if !names.iter().any(|x| same_machine(x, &n)) {
                    names.insert(n.to_ascii_lowercase());
                }
            }
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
        for a in &mut c.attempts {
            if let Some(server) = &a.kms_host {
                kms_hosts_used
                    .entry(server.to_ascii_lowercase())
                    .or_default()
                    .insert(c.name.to_ascii_lowercase());
            }
            a.host_side = join(events, hosts, &c.name, a, any_host);
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

fn host_index(hosts: &[HostView], server: &str) -> Option<usize> {
    let name = server.rsplit_once(':').map_or(server, |(h, _)| h);
    hosts.iter().position(|h| same_machine(&h.name, name))
}

#[allow(clippy::many_single_char_names)] // e: event, i: its index, v: the view, a: attempt
fn client_view(events: &[ActivationEvent], name: &str, idx: &[usize]) -> ClientView {
    let mut v = ClientView {
        name: name.to_owned(),
        ..ClientView::default()
    };
    let mut open: Option<usize> = None;
    for &i in idx {
        let Some(e) = events.get(i) else { continue };
        match e.event_id {
            12288 => {
                let cmid = text(e, "cmid");
                if let Some(c) = &cmid {
                    v.cmids.insert(c.to_ascii_lowercase());
                }
                v.attempts.push(Attempt {
                    request: i,
                    response: None,
                    time: e.time,
                    kms_host: text(e, "kms_host").filter(|h| !h.is_empty()),
                    cmid,
                    result: code(e, "result"),
                    activated: false,
                    host_side: HostSide::Unknown,
                    skew_minutes: None,
                });
                open = Some(v.attempts.len() - 1);
                v.last_request = Some(i);
            }
            12289 => {
                let Some(a) = open.and_then(|o| v.attempts.get_mut(o)) else {
                    continue;
                };
                let req_time = events.get(a.request).and_then(|r| r.time);
                let close = match (req_time, e.time) {
                    (Some(r), Some(t)) => {
                        t >= r - Duration::minutes(1)
                            && t - r <= Duration::minutes(RESPONSE_WINDOW_MINUTES)
                    }
                    _ => true,
                };
                if close {
                    a.response = Some(i);
                    let result = code(e, "result");
                    a.result = result.or(a.result);
                    a.activated =
                        boolean(e, "activated").unwrap_or_else(|| result.is_some_and(|r| r.0 == 0));
                    open = None;
                }
            }
            // slui's failure (8198) and the rules engine's failed volume activation (8233, whose
            // reason is often the real cause behind a 0xC004F074).
            8198 | 8233 => {
                if let Some(c) = code(e, "result").filter(|c| c.is_failure()) {
                    v.local_failures.push((i, c));
                }
            }
            8209 => v.genuine = Some((i, code(e, "result"))),
            12305 => v.genuine = None,
            _ => {}
        }
    }
    v
}

fn host_view(
    events: &[ActivationEvent],
    name: &str,
    all: &[usize],
    requests: Vec<usize>,
    now: DateTime<Utc>,
) -> HostView {
    let mut h = HostView {
        name: name.to_owned(),
        ..HostView::default()
    };
    h.first = requests.iter().filter_map(|i| events.get(*i)?.time).min();
    h.last = all.iter().filter_map(|i| events.get(*i)?.time).max();
    h.dns = all
        .iter()
        .copied()
        .filter(|i| {
            events
                .get(*i)
                .is_some_and(|e| matches!(e.event_id, 12293 | 12294))
        })
        .max_by_key(|i| events.get(*i).and_then(|e| e.time));
    // Arrivals: (time, cmid) of every counted request.
    let mut latest: BTreeMap<String, (DateTime<Utc>, usize)> = BTreeMap::new();
    let mut arrivals: Vec<(DateTime<Utc>, String)> = Vec::new();
    for &r in &requests {
        let Some(e) = events.get(r) else { continue };
        if let Some(n) = text(e, "client_name") {
            h.clients.insert(n.to_ascii_lowercase());
        }
        h.n_policy = h.n_policy.max(int(e, "n_policy"));
        let (Some(t), Some(cm)) = (e.time, text(e, "cmid")) else {
            continue;
        };
        let cm = cm.to_ascii_lowercase();
        if t > now - Duration::days(COUNT_WINDOW_DAYS)
            && let Some(n) = text(e, "client_name")
        {
            h.cmids_by_name
                .entry(n.to_ascii_lowercase())
                .or_default()
                .insert(cm.clone());
        }
        h.by_cmid.entry(cm.clone()).or_default().push(r);
        latest.insert(cm.clone(), (t, r));
        if code(e, "result") != Some(TIMESTAMP_INVALID) {
            arrivals.push((t, cm));
        }
    }
    arrivals.sort();
    // Distinct CMIDs in (t - 30 days, t]: a window sliding over the sorted arrivals, with a count
    // per CMID, so the whole timeline costs one pass (times only move forward).
    let ids: Vec<usize> = {
        let mut index: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        arrivals
            .iter()
            .map(|(_, c)| {
                let next = index.len();
                *index.entry(c.as_str()).or_insert(next)
            })
            .collect()
    };
    let mut seen = vec![0u32; ids.len()];
    let (mut lo, mut hi, mut distinct) = (0usize, 0usize, 0usize);
    let mut count_at = |t: DateTime<Utc>| {
        let from = t - Duration::days(COUNT_WINDOW_DAYS);
        while hi < arrivals.len() && arrivals.get(hi).is_some_and(|(a, _)| *a <= t) {
            if let Some(slot) = ids.get(hi).and_then(|i| seen.get_mut(*i)) {
                if *slot == 0 {
                    distinct += 1;
                }
                *slot += 1;
            }
            hi += 1;
        }
        while lo < hi && arrivals.get(lo).is_some_and(|(a, _)| *a <= from) {
            if let Some(slot) = ids.get(lo).and_then(|i| seen.get_mut(*i)) {
                *slot -= 1;
                if *slot == 0 {
                    distinct -= 1;
                }
            }
            lo += 1;
        }
        distinct.min(COUNT_CAP)
    };
    if let Some(first) = h.first {
        let mut day = first.date_naive();
        let last_day = now.date_naive();
        let full_from = first + Duration::days(COUNT_WINDOW_DAYS);
        // At most ten years of days.
        for _ in 0..3660 {
            if day > last_day {
                break;
            }
            let end = day
                .succ_opt()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map_or(now, |d| d.and_utc())
                .min(now);
            h.timeline.push(CountDay {
                day,
                count: count_at(end),
                partial: end < full_from,
            });
            match day.succ_opt() {
                Some(d) => day = d,
                None => break,
            }
        }
        h.count_now = count_at(now);
        h.count_complete = now >= full_from;
    }
    // Forecast: with no new machines, the count falls as CMIDs age out.
    let mut last_seen: Vec<DateTime<Utc>> = {
        let mut per: BTreeMap<&String, DateTime<Utc>> = BTreeMap::new();
        for (t, c) in &arrivals {
            per.insert(c, *t);
        }
        per.into_values()
            .filter(|t| *t > now - Duration::days(COUNT_WINDOW_DAYS))
            .collect()
    };
    last_seen.sort_by(|a, b| b.cmp(a));
    let drop_below = |threshold: usize| {
        last_seen
            .get(threshold.saturating_sub(1))
            .map(|t| (*t + Duration::days(COUNT_WINDOW_DAYS)).date_naive())
    };
    h.below_client_threshold = drop_below(25);
    h.below_server_threshold = drop_below(5);
    h.stuck = latest
        .values()
        .filter(|(t, r)| {
            *t > now - Duration::days(COUNT_WINDOW_DAYS)
                && events
                    .get(*r)
                    .is_some_and(|e| code(e, "result") == Some(NOT_ENOUGH_COUNT))
        })
        .map(|(_, r)| *r)
        .collect();
    h.requests = requests;
    h
}

/// The client clock's offset from the host's: each log's client time against its own
/// `TimeCreated` (the client's local-time offset cancels out), in minutes.
fn skew(request: Option<&ActivationEvent>, record: Option<&ActivationEvent>) -> Option<i64> {
    let (req, rec) = (request?, record?);
    let client_side = client_time(req)? - req.time?.naive_utc();
    let host_side = client_time(rec)? - rec.time?.naive_utc();
    Some((host_side - client_side).num_minutes())
}

fn join(
    events: &[ActivationEvent],
    hosts: &[HostView],
    client: &str,
    a: &Attempt,
    any_host: bool,
) -> HostSide {
    let Some(server) = &a.kms_host else {
        return HostSide::Unknown;
    };
    let name = server.rsplit_once(':').map_or(server.as_str(), |(h, _)| h);
    let Some(hi) = hosts.iter().position(|h| same_machine(&h.name, name)) else {
        return if any_host {
            HostSide::OtherHost
        } else {
            HostSide::Unknown
        };
    };
    let Some(host) = hosts.get(hi) else {
        return HostSide::Unknown;
    };
    let request = events.get(a.request);
    let sent_clock = request.and_then(client_time);
    let sent_at = request.and_then(|e| e.time);
    let candidates = a
        .cmid
        .as_ref()
        .and_then(|c| host.by_cmid.get(&c.to_ascii_lowercase()))
        .map_or(&[][..], Vec::as_slice);
    let found = candidates.iter().copied().find(|&r| {
        let Some(e) = events.get(r) else { return false };
        let name_ok = text(e, "client_name").is_none_or(|n| same_machine(&n, client));
        let time_ok = match (sent_clock, client_time(e)) {
            (Some(x), Some(y)) => (x - y).num_minutes().abs() <= JOIN_WINDOW_MINUTES,
            _ => match (sent_at, e.time) {
                (Some(x), Some(y)) => (x - y).num_minutes().abs() <= JOIN_WINDOW_MINUTES,
                _ => false,
            },
        };
        name_ok && time_ok
    });
    if let Some(r) = found {
        return HostSide::Received {
            host: hi,
            record: r,
        };
    }
    let covered = match (sent_at, host.first, host.last) {
        (Some(t), Some(f), Some(l)) => t >= f && t <= l,
        _ => false,
    };
    if covered {
        HostSide::NotReceived { host: hi }
    } else {
        HostSide::NotCovered { host: hi }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names_compare_loosely() {
        assert!(same_machine("WS01", "ws01.contoso.com"));
        assert!(same_machine("ws01.contoso.com", "WS01.CONTOSO.COM"));
        assert!(!same_machine("ws01.a.com", "ws01.b.com"));
        assert!(!same_machine("ws01", "ws02"));
    }
}
