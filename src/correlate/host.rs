//! A KMS host's side of the correlation: its 12290 requests per CMID, the count replayed day by
//! day over the count window, the forecast of when it falls below the activation thresholds, the
//! machines stuck below the count, and the (CMID, client name) pairs it logged.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::events::ActivationEvent;
use crate::model::ids::NOT_ENOUGH_COUNT;
use crate::rules::KmsParams;

use super::fields::code;
use super::intern::IdPairs;
use super::scan::{Request, SCAN_PIECE, Scan, id_of, scan_in_pieces};
use super::{Arrival, Run};

/// One day of a host's replayed count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub(crate) struct CountDay {
    pub day: NaiveDate,
    pub count: usize,
    /// Less than 30 days of log before this day: the host may remember more machines.
    pub partial: bool,
}

/// What the logs say of one KMS host.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub(crate) struct HostView {
    pub name: String,
    /// Where its name came from.
    pub name_source: crate::model::NameSource,
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
    /// When the count falls below the client and the server threshold (25 and 5 in the rule
    /// table) if no new machine asks (None: already below).
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

/// How a host counts, from the rule table's `[kms]` parameters.
#[derive(Debug, Clone, Copy)]
struct Counting {
    /// A CMID counts this long after its last request.
    window: Duration,
    /// The host remembers at most this many CMIDs.
    cap: usize,
    client_threshold: usize,
    server_threshold: usize,
}

impl Counting {
    fn new(kms: &KmsParams) -> Counting {
        let size = |n: u32| usize::try_from(n).unwrap_or(usize::MAX);
        Counting {
            window: Duration::days(i64::from(kms.count_window_days)),
            cap: size(kms.count_cap),
            client_threshold: size(kms.client_os_threshold),
            server_threshold: size(kms.server_os_threshold),
        }
    }
}

/// What a host's view gathers per CMID from its requests.
#[derive(Default)]
struct PerCmid {
    /// Its timed requests (event indices) and the newest of them.
    requests: Vec<usize>,
    newest: Option<Arrival>,
    /// The client name last added to the host's pairs and to its recent names: a machine logs
    /// one name request after request, so the sets are asked only when it changes.
    last_paired: Option<usize>,
    last_recent: Option<usize>,
}

/// What one pass over a host's numbered requests gathers.
#[derive(Default)]
struct Gathered {
    per_cmid: Vec<PerCmid>,
    /// (client name, CMID) pairs seen within the count window.
    recent: IdPairs,
    /// Distinct (CMID, client name) pairs in the order logged.
    pairs: Vec<(usize, usize)>,
    /// (time, CMID) of every counted request.
    arrivals: Vec<(DateTime<Utc>, usize)>,
}

/// A host's view, and its distinct (CMID, client name) pairs in the order it logged them.
pub(super) fn host_view<'a>(
    events: &'a [ActivationEvent],
    name: &str,
    run: Run,
    now: DateTime<Utc>,
    threads: usize,
    kms: &KmsParams,
) -> (HostView, Vec<(&'a str, &'a str)>) {
    let counting = Counting::new(kms);
    let Run {
        requests,
        dns,
        first,
        last,
        ..
    } = run;
    let mut h = HostView {
        name: name.to_owned(),
        first,
        last,
        dns,
        ..HostView::default()
    };
    // CMIDs and client names are numbered (case ignored) as first logged.
    let Scan {
        requests: read,
        names,
        cmids,
        n_policy,
    } = scan_in_pieces(events, &requests, threads, SCAN_PIECE);
    h.n_policy = n_policy;
    let window_start = now - counting.window;
    let Gathered {
        per_cmid,
        recent,
        pairs,
        mut arrivals,
    } = gather(events, &read, window_start);
    h.clients = names.names.iter().map(|n| n.to_ascii_lowercase()).collect();
    for (n, cm) in recent {
        h.cmids_by_name
            .entry(names.name(n).to_ascii_lowercase())
            .or_default()
            .insert(cmids.name(cm).to_ascii_lowercase());
    }
    let mut latest: Vec<(String, Arrival)> = Vec::with_capacity(per_cmid.len());
    for (id, c) in per_cmid.into_iter().enumerate() {
        let (rs, Some(newest)) = (c.requests, c.newest) else {
            continue;
        };
        let cm = cmids.name(id).to_ascii_lowercase();
        latest.push((cm.clone(), newest));
        h.by_cmid.insert(cm, rs);
    }
    latest.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    arrivals.sort();
    replay_count(&mut h, &arrivals, cmids.names.len(), now, counting);
    forecast(&mut h, &arrivals, cmids.names.len(), window_start, counting);
    h.stuck = latest
        .iter()
        .map(|(_, v)| v)
        .filter(|(t, r)| {
            *t > window_start
                && events
                    .get(*r)
                    .is_some_and(|e| code(e, "result") == Some(NOT_ENOUGH_COUNT))
        })
        .map(|(_, r)| *r)
        .collect();
    h.requests = requests;
    let pairs = pairs
        .into_iter()
        .map(|(cm, n)| (cmids.name(cm), names.name(n)))
        .collect();
    (h, pairs)
}

/// Per CMID its timed requests and the newest of them, the (CMID, client name) pairs, the names
/// seen within the count window, and the arrivals (time, CMID) of every counted request.
fn gather(events: &[ActivationEvent], read: &[Request], window_start: DateTime<Utc>) -> Gathered {
    let mut g = Gathered::default();
    let mut paired = IdPairs::default();
    for q in read {
        let (r, client) = (q.at as usize, q.client.map(id_of));
        let Some(cm) = q.cmid.map(id_of) else {
            continue;
        };
        if g.per_cmid.len() <= cm {
            g.per_cmid.resize_with(cm + 1, PerCmid::default);
        }
        let Some(this) = g.per_cmid.get_mut(cm) else {
            continue;
        };
        if let Some(n) = client
            && this.last_paired != Some(n)
        {
            this.last_paired = Some(n);
            if paired.insert((cm, n)) {
                g.pairs.push((cm, n));
            }
        }
        let Some(t) = events.get(r).and_then(|e| e.time) else {
            continue;
        };
        if t > window_start
            && let Some(n) = client
            && this.last_recent != Some(n)
        {
            this.last_recent = Some(n);
            g.recent.insert((n, cm));
        }
        this.requests.push(r);
        this.newest = Some((t, r));
        if q.counted {
            g.arrivals.push((t, cm));
        }
    }
    g
}

/// The count day by day from the first request to `now`, and now: distinct CMIDs in
/// (t - window, t], capped. A window slides over the sorted arrivals with a count per CMID, so
/// the whole timeline costs one pass (times only move forward).
fn replay_count(
    h: &mut HostView,
    arrivals: &[(DateTime<Utc>, usize)],
    ids: usize,
    now: DateTime<Utc>,
    counting: Counting,
) {
    let Some(first) = h.first else {
        return;
    };
    let mut seen = vec![0u32; ids];
    let (mut lo, mut hi, mut distinct) = (0usize, 0usize, 0usize);
    let mut count_at = |t: DateTime<Utc>| {
        let from = t - counting.window;
        while hi < arrivals.len() && arrivals.get(hi).is_some_and(|(a, _)| *a <= t) {
            if let Some(slot) = arrivals.get(hi).and_then(|(_, i)| seen.get_mut(*i)) {
                if *slot == 0 {
                    distinct += 1;
                }
                *slot += 1;
            }
            hi += 1;
        }
        while lo < hi && arrivals.get(lo).is_some_and(|(a, _)| *a <= from) {
            if let Some(slot) = arrivals.get(lo).and_then(|(_, i)| seen.get_mut(*i)) {
                *slot -= 1;
                if *slot == 0 {
                    distinct -= 1;
                }
            }
            lo += 1;
        }
        distinct.min(counting.cap)
    };
    let mut day = first.date_naive();
    let last_day = now.date_naive();
    let full_from = first + counting.window;
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

/// With no new machines, the count falls as CMIDs age out: the days it falls below the client
/// and the server threshold.
fn forecast(
    h: &mut HostView,
    arrivals: &[(DateTime<Utc>, usize)],
    ids: usize,
    window_start: DateTime<Utc>,
    counting: Counting,
) {
    let mut last_seen: Vec<DateTime<Utc>> = {
        // Arrivals are in time order: the last one of a CMID is its newest.
        let mut per: Vec<Option<DateTime<Utc>>> = vec![None; ids];
        for (t, c) in arrivals {
            if let Some(slot) = per.get_mut(*c) {
                *slot = Some(*t);
            }
        }
        per.into_iter()
            .flatten()
            .filter(|t| *t > window_start)
            .collect()
    };
    last_seen.sort_by(|a, b| b.cmp(a));
    let drop_below = |threshold: usize| {
        last_seen
            .get(threshold.saturating_sub(1))
            .map(|t| (*t + counting.window).date_naive())
    };
    h.below_client_threshold = drop_below(counting.client_threshold);
    h.below_server_threshold = drop_below(counting.server_threshold);
}
