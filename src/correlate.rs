//! Correlation of normalized activation events across a fleet: each client's attempts (12288
//! with the 12289 that answers it), the join of attempts to the hosts' 12290 records (by CMID,
//! client time and client name), host coverage, the host count replayed from 12290s, and the
//! CMID → machine-name map. It knows events, not formats, and decides nothing: `fleet` does.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::num::NonZeroU32;
use std::ops::Range;

use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, Utc};
use serde::Serialize;

use crate::events::{ActivationEvent, FieldValue, Fields};
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

pub use crate::model::names::same_machine;

/// A name (CMID, client name) hashed and compared ignoring ASCII case, borrowed from its event:
/// the host views count hundreds of thousands of requests by a few hundred names without
/// copying each.
#[derive(Debug, Clone, Copy)]
struct NoCase<'a>(&'a str);

impl PartialEq for NoCase<'_> {
    fn eq(&self, other: &Self) -> bool {
        // Names are mostly logged in one spelling: the plain comparison answers first.
        self.0 == other.0 || self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for NoCase<'_> {}

impl std::hash::Hash for NoCase<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // Eight bytes a word, the case bit (0x20) set in every byte: an upper- and a lower-case
        // letter hash alike, and names equal ignoring case (whose other bytes are identical)
        // always hash alike.
        const CASE: u64 = 0x2020_2020_2020_2020;
        let b = self.0.as_bytes();
        h.write_usize(b.len());
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            h.write_u64(w.try_into().map_or(0, u64::from_le_bytes) | CASE);
        }
        let mut tail = [0u8; 8];
        for (d, s) in tail.iter_mut().zip(words.remainder()) {
            *d = *s;
        }
        h.write_u64(u64::from_le_bytes(tail) | CASE);
    }
}

/// A hasher for pairs of the small numbers [`Interner`] gives: the numbers come from the order
/// names were met, not from their text, so a multiply-and-rotate spreads them well enough, at a
/// fraction of the cost of `SipHash` per request.
#[derive(Default)]
struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A set of (id, id) pairs.
type IdPairs = HashSet<(usize, usize), std::hash::BuildHasherDefault<IdHasher>>;

/// Names (case ignored) numbered in the order first met, borrowed from the events. Hashed with
/// `foldhash` (hashbrown's own default), seeded at random per map like the standard hasher but at
/// a third of its cost per name: the names come from the network (a host logs whatever a client
/// sends), so the hash stays keyed.
#[derive(Default)]
struct Interner<'a> {
    ids: HashMap<NoCase<'a>, usize, foldhash::fast::RandomState>,
    names: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    fn id(&mut self, name: &'a str) -> usize {
        *self.ids.entry(NoCase(name)).or_insert_with(|| {
            self.names.push(name);
            self.names.len() - 1
        })
    }

    fn name(&self, id: usize) -> &'a str {
        self.names.get(id).copied().unwrap_or("")
    }
}

fn field<'a>(e: &'a ActivationEvent, name: &str) -> Option<FieldValue<'a>> {
    e.payload.get(name)
}

/// A decoded result code of an event.
pub fn code(e: &ActivationEvent, name: &str) -> Option<Hresult> {
    code_of(field(e, name)?)
}

fn code_of(v: FieldValue<'_>) -> Option<Hresult> {
    match v {
        FieldValue::Code(c) => Some(c),
        _ => None,
    }
}

fn int(e: &ActivationEvent, name: &str) -> Option<i64> {
    int_of(field(e, name)?)
}

fn int_of(v: FieldValue<'_>) -> Option<i64> {
    match v {
        FieldValue::Int(i) => Some(i),
        _ => None,
    }
}

fn text(e: &ActivationEvent, name: &str) -> Option<String> {
    text_ref(e, name).map(str::to_owned)
}

/// A text field, trimmed, borrowed from the event.
fn text_ref<'a>(e: &'a ActivationEvent, name: &str) -> Option<&'a str> {
    text_of(field(e, name)?)
}

fn text_of(v: FieldValue<'_>) -> Option<&str> {
    match v {
        FieldValue::Text(t) | FieldValue::Guid(t) => Some(crate::input::encoding::trim(t)),
        _ => None,
    }
}

fn boolean(e: &ActivationEvent, name: &str) -> Option<bool> {
    match field(e, name)? {
        FieldValue::Bool(b) => Some(b),
        FieldValue::Int(i) => Some(i != 0),
        _ => None,
    }
}

fn client_time(e: &ActivationEvent) -> Option<NaiveDateTime> {
    match field(e, "client_time")? {
        FieldValue::Time(t) => Some(t),
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

/// Correlates events sorted by machine and time (see [`crate::events::sort`]), on up to `threads`
/// threads (the answer is the same at any count).
pub fn correlate(events: &[ActivationEvent], now: DateTime<Utc>, threads: usize) -> Correlation {
    // Events come sorted by machine (ignoring case): each machine is one run of indices. Each
    // event is compared with the one before it, which shares its name's `Arc` unless a new input
    // or range of a large file begins there (names equal ignoring case are one equivalence, so
    // the runs are the same as against the run's first event).
    let mut runs: Vec<Run> = Vec::new();
    for (i, e) in events.iter().enumerate() {
        let same = i
            .checked_sub(1)
            .and_then(|p| events.get(p))
            .is_some_and(|p| crate::events::same_machine_name(p.machine(), e.machine()));
        match runs.last_mut() {
            Some(r) if same => r.add(i, e),
            _ => runs.push(Run::new(i, e)),
        }
    }
    let mut corr = Correlation::default();
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
            let (view, pairs) = host_view(events, &name, run, now, threads);
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
        let names = corr.cmids.entry(cm.to_ascii_lowercase()).or_default();
        if !names.iter().any(|x| same_machine(x, n)) {
            names.insert(n.to_ascii_lowercase());
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
fn client_view(events: &[ActivationEvent], name: &str, idx: Range<usize>) -> ClientView {
    let mut v = ClientView {
        name: name.to_owned(),
        ..ClientView::default()
    };
    let mut open: Option<usize> = None;
    for i in idx {
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

/// A host's request as its view counts it: the event, its client name and CMID numbered (plus
/// one, so an absent one costs no room) and whether it counts towards the activation count.
#[derive(Debug, Clone, Copy)]
struct Request {
    at: u32,
    client: Option<NonZeroU32>,
    cmid: Option<NonZeroU32>,
    counted: bool,
}

/// A name's number as [`Request`] keeps it; `None` past four billion names, which no input that
/// fits in memory holds.
fn packed(id: usize) -> Option<NonZeroU32> {
    u32::try_from(id.checked_add(1)?)
        .ok()
        .and_then(NonZeroU32::new)
}

fn id_of(p: NonZeroU32) -> usize {
    p.get() as usize - 1
}

/// A host's requests read: their names numbered in the order first logged, the highest count
/// policy any of them reported.
#[derive(Default)]
struct Scan<'a> {
    /// The requests, in order.
    requests: Vec<Request>,
    names: Interner<'a>,
    cmids: Interner<'a>,
    n_policy: Option<i64>,
}

/// Reads the fields the host view counts from the requests `at` (event indices), as one piece.
fn scan<'a>(events: &'a [ActivationEvent], at: &[usize]) -> Scan<'a> {
    let mut fields = Fields::new(["client_name", "n_policy", "cmid", "result"]);
    let mut s = Scan {
        requests: Vec::with_capacity(at.len()),
        ..Scan::default()
    };
    for &r in at {
        let (Some(e), Ok(at)) = (events.get(r), u32::try_from(r)) else {
            continue;
        };
        let [client, n_policy, cmid, result] = fields.get(&e.payload);
        s.n_policy = s.n_policy.max(n_policy.and_then(int_of));
        s.requests.push(Request {
            at,
            client: client.and_then(text_of).and_then(|n| packed(s.names.id(n))),
            cmid: cmid.and_then(text_of).and_then(|c| packed(s.cmids.id(c))),
            counted: result.and_then(code_of) != Some(TIMESTAMP_INVALID),
        });
    }
    s
}

/// Requests per piece below which a host's requests are read on one thread.
const SCAN_PIECE: usize = 16_384;

/// [`scan`] in up to `threads` consecutive pieces at once (a KMS host logs hundreds of thousands
/// of requests), each numbering its own names; the pieces are then joined in order, every
/// piece's names renumbered (in place) by the names before it, which gives exactly the one-pass
/// numbers.
fn scan_in_pieces<'a>(
    events: &'a [ActivationEvent],
    at: &[usize],
    threads: usize,
    piece: usize,
) -> Scan<'a> {
    let pieces = threads.min(at.len() / piece.max(1)).max(1);
    if pieces == 1 {
        return scan(events, at);
    }
    let read: Option<Vec<Scan<'a>>> = std::thread::scope(|s| {
        let handles: Vec<_> = at
            .chunks(at.len().div_ceil(pieces))
            .map(|piece| s.spawn(move || scan(events, piece)))
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    let Some(read) = read else {
        // A piece's thread failed: read them all here.
        return scan(events, at);
    };
    let mut read = read.into_iter();
    let mut all = read.next().unwrap_or_default();
    for piece in read {
        let renumber = |ids: &Interner<'a>, into: &mut Interner<'a>| -> Vec<Option<NonZeroU32>> {
            ids.names.iter().map(|n| packed(into.id(n))).collect()
        };
        let names = renumber(&piece.names, &mut all.names);
        let cmids = renumber(&piece.cmids, &mut all.cmids);
        let new = |map: &[Option<NonZeroU32>], id: Option<NonZeroU32>| {
            id.and_then(|i| map.get(id_of(i)).copied().flatten())
        };
        all.requests.extend(piece.requests.iter().map(|q| Request {
            client: new(&names, q.client),
            cmid: new(&cmids, q.cmid),
            ..*q
        }));
        all.n_policy = all.n_policy.max(piece.n_policy);
    }
    all
}

/// When a request arrived, and its event index.
type Arrival = (DateTime<Utc>, usize);

/// What one machine's run of events holds, gathered in the pass that finds the runs (a host's
/// run is hundreds of thousands of events, each pass over it a walk through memory).
struct Run {
    /// Where its events are.
    events: Range<usize>,
    /// Its 12290s (requests a KMS host processed).
    requests: Vec<usize>,
    /// The newest of its 12293/12294s (DNS publishing), the last one among equals, and its time.
    dns: Option<usize>,
    dns_time: Option<DateTime<Utc>>,
    /// Whether it holds a client's events (requests sent, answers, activation attempts).
    client: bool,
    /// The oldest request's time and the newest event's time.
    first: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

impl Run {
    /// A run that starts with event `i`, `e`.
    fn new(i: usize, e: &ActivationEvent) -> Run {
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
    fn add(&mut self, i: usize, e: &ActivationEvent) {
        self.events.end = i + 1;
        self.last = self.last.max(e.time);
        match e.event_id {
            12290 => {
                self.requests.push(i);
                if let Some(t) = e.time {
                    self.first = Some(self.first.map_or(t, |f| f.min(t)));
                }
            }
            12293 | 12294 if self.dns.is_none() || e.time >= self.dns_time => {
                self.dns = Some(i);
                self.dns_time = e.time;
            }
            12288 | 12289 | 8198 | 8209 | 8233 | 12305 => self.client = true,
            _ => {}
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

/// A host's view, and its distinct (CMID, client name) pairs in the order it logged them.
fn host_view<'a>(
    events: &'a [ActivationEvent],
    name: &str,
    run: Run,
    now: DateTime<Utc>,
    threads: usize,
) -> (HostView, Vec<(&'a str, &'a str)>) {
    let mut h = HostView {
        name: name.to_owned(),
        ..HostView::default()
    };
    let Run {
        requests,
        dns,
        first,
        last,
        ..
    } = run;
    h.first = first;
    h.last = last;
    h.dns = dns;
    // CMIDs and client names are numbered (case ignored) as first logged; per CMID its timed
    // requests and the newest of them; arrivals are (time, CMID) of every counted request.
    let Scan {
        requests: read,
        names,
        cmids,
        n_policy,
    } = scan_in_pieces(events, &requests, threads, SCAN_PIECE);
    h.n_policy = n_policy;
    let mut per_cmid: Vec<PerCmid> = Vec::new();
    let mut recent = IdPairs::default();
    let mut pairs: Vec<(usize, usize)> = Vec::new();
    let mut paired = IdPairs::default();
    let mut arrivals: Vec<(DateTime<Utc>, usize)> = Vec::new();
    let window_start = now - Duration::days(COUNT_WINDOW_DAYS);
    for q in &read {
        let (r, client) = (q.at as usize, q.client.map(id_of));
        let Some(cm) = q.cmid.map(id_of) else {
            continue;
        };
        if per_cmid.len() <= cm {
            per_cmid.resize_with(cm + 1, PerCmid::default);
        }
        let Some(this) = per_cmid.get_mut(cm) else {
            continue;
        };
        if let Some(n) = client
            && this.last_paired != Some(n)
        {
            this.last_paired = Some(n);
            if paired.insert((cm, n)) {
                pairs.push((cm, n));
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
            recent.insert((n, cm));
        }
        this.requests.push(r);
        this.newest = Some((t, r));
        if q.counted {
            arrivals.push((t, cm));
        }
    }
    h.clients = names.names.iter().map(|n| n.to_ascii_lowercase()).collect();
    for (n, cm) in recent {
        h.cmids_by_name
            .entry(names.name(n).to_ascii_lowercase())
            .or_default()
            .insert(cmids.name(cm).to_ascii_lowercase());
    }
    let mut latest: Vec<(String, (DateTime<Utc>, usize))> = Vec::with_capacity(per_cmid.len());
    for (id, c) in per_cmid.into_iter().enumerate() {
        let (rs, Some(newest)) = (c.requests, c.newest) else {
            continue;
        };
        let cm = cmids.name(id).to_ascii_lowercase();
        latest.push((cm.clone(), newest));
        h.by_cmid.insert(cm, rs);
    }
    latest.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    let ids = cmids.names.len();
    arrivals.sort();
    // Distinct CMIDs in (t - 30 days, t]: a window sliding over the sorted arrivals, with a count
    // per CMID, so the whole timeline costs one pass (times only move forward).
    let mut seen = vec![0u32; ids];
    let (mut lo, mut hi, mut distinct) = (0usize, 0usize, 0usize);
    let mut count_at = |t: DateTime<Utc>| {
        let from = t - Duration::days(COUNT_WINDOW_DAYS);
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
        // Arrivals are in time order: the last one of a CMID is its newest.
        let mut per: Vec<Option<DateTime<Utc>>> = vec![None; ids];
        for (t, c) in &arrivals {
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
            .map(|t| (*t + Duration::days(COUNT_WINDOW_DAYS)).date_naive())
    };
    h.below_client_threshold = drop_below(25);
    h.below_server_threshold = drop_below(5);
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

    /// A host log's requests: client names and CMIDs repeating in changing case, some without a
    /// CMID, some not counted, the count policy varying.
    fn host_requests(n: usize) -> Vec<ActivationEvent> {
        let raws = (0..n)
            .map(|i| {
                let name = format!("PC{:02}.contoso.com", (i * 7) % 37);
                let name = if i % 3 == 0 {
                    name.to_lowercase()
                } else {
                    name
                };
                let cmid = format!("{:08x}-27f8-4950-8877-7a03be5fb181", (i * 11) % 53);
                let cmid = match i % 5 {
                    0 => cmid.to_uppercase(),
                    4 => String::new(),
                    _ => cmid,
                };
                let code = if i % 4 == 0 { "0xC004F06C" } else { "0x0" };
                crate::events::RawEvent {
                    provider: "Microsoft-Windows-Security-SPP".into(),
                    event_id: 12290,
                    time_created: DateTime::from_timestamp(
                        1_780_000_000 + i64::try_from(i).unwrap() * 60,
                        0,
                    ),
                    computer: Some("kms01.contoso.com".into()),
                    data: vec![format!(
                        "{code},{},{name},{cmid},2026/6/1 10:00,0,2,0,",
                        5 + i % 25
                    )],
                    index: i as u64,
                    ..crate::events::RawEvent::default()
                }
            })
            .collect::<Vec<_>>();
        let rules = crate::rules::Rules::load(None).unwrap();
        crate::events::normalize_all(
            &rules,
            &raws,
            "kms.evtx",
            "evtx",
            crate::events::Keep::Activation,
        )
    }

    #[test]
    fn a_hosts_requests_read_in_pieces_number_names_as_one_pass_does() {
        let events = host_requests(500);
        let at: Vec<usize> = (0..events.len()).collect();
        let one = scan_in_pieces(&events, &at, 1, 1);
        assert_eq!(one.requests.len(), 500);
        assert_eq!(one.names.names.len(), 37);
        assert_eq!(one.cmids.names.len(), 53);
        assert_eq!(one.n_policy, Some(29));
        let ids = |s: &Scan<'_>| -> Vec<_> {
            s.requests
                .iter()
                .map(|q| (q.at, q.client, q.cmid, q.counted))
                .collect()
        };
        for (threads, piece) in [(2, 1), (2, 100), (3, 7), (4, 250), (8, 499)] {
            let split = scan_in_pieces(&events, &at, threads, piece);
            assert_eq!(
                ids(&split),
                ids(&one),
                "{threads} threads, pieces of {piece}"
            );
            assert_eq!(split.names.names, one.names.names);
            assert_eq!(split.cmids.names, one.cmids.names);
            assert_eq!(split.n_policy, one.n_policy);
        }
        let now = DateTime::from_timestamp(1_780_000_000 + 600 * 60, 0).unwrap();
        assert_eq!(correlate(&events, now, 1), correlate(&events, now, 2));
    }

    #[test]
    fn a_machines_run_is_read_in_one_pass() {
        // (event id, minutes after the first): requests, DNS publishing (two at the newest time,
        // one untimed) and a client's request, in the order a log keeps them.
        let log: [(u32, Option<i64>); 8] = [
            (12293, Some(5)),
            (12290, Some(9)),
            (12294, Some(30)),
            (12290, Some(3)),
            (12293, None),
            (12294, Some(30)),
            (12290, None),
            (12288, Some(40)),
        ];
        let raws: Vec<_> = log
            .iter()
            .enumerate()
            .map(|(i, (id, at))| crate::events::RawEvent {
                provider: "Microsoft-Windows-Security-SPP".into(),
                event_id: *id,
                time_created: at.and_then(|m| DateTime::from_timestamp(1_780_000_000 + m * 60, 0)),
                computer: Some("kms01.contoso.com".into()),
                index: i as u64,
                ..crate::events::RawEvent::default()
            })
            .collect();
        let rules = crate::rules::Rules::load(None).unwrap();
        let events = crate::events::normalize_all(
            &rules,
            &raws,
            "kms.evtx",
            "evtx",
            crate::events::Keep::All,
        );
        let at = |m: i64| DateTime::from_timestamp(1_780_000_000 + m * 60, 0);
        let run_of = |idx: Range<usize>| {
            let mut run: Option<Run> = None;
            for i in idx {
                match run.as_mut() {
                    Some(r) => r.add(i, &events[i]),
                    None => run = Some(Run::new(i, &events[i])),
                }
            }
            run.unwrap()
        };
        let run = run_of(0..events.len());
        assert_eq!(run.requests, [1, 3, 6]);
        // The newest publishing event, the last of the two at that time.
        assert_eq!(run.dns, Some(5));
        assert!(run.client);
        assert_eq!(run.first, at(3));
        assert_eq!(run.last, at(40));
        let host_only = run_of(0..7);
        assert!(!host_only.client);
        assert_eq!(host_only.last, at(30));
        let nothing = run_of(7..8);
        assert!(nothing.requests.is_empty() && nothing.dns.is_none() && nothing.first.is_none());
    }

    #[test]
    fn names_differing_only_in_case_are_one_name() {
        use std::hash::BuildHasher;
        let state = foldhash::fast::RandomState::default();
        let pairs = [
            ("PC01.contoso.com", "pc01.CONTOSO.COM"),
            ("ABCDEFGH", "abcdefgh"),
            (
                "7F3E1A55-27F8-4950-8877-7A03BE5FB181",
                "7f3e1a55-27f8-4950-8877-7a03be5fb181",
            ),
            ("ünïcode-PC", "ünïcode-pc"),
            ("", ""),
        ];
        for (a, b) in pairs {
            assert_eq!(NoCase(a), NoCase(b));
            assert_eq!(state.hash_one(NoCase(a)), state.hash_one(NoCase(b)), "{a}");
        }
        // Bytes the case bit merges but that are not letters stay different names.
        assert_ne!(NoCase("pc@1"), NoCase("pc`1"));
        assert_ne!(NoCase("pc01"), NoCase("pc01 "));
        let mut names = Interner::default();
        let ids: Vec<usize> = ["PC01", "pc02", "pc01", "pc@1", "pc`1", "PC02"]
            .iter()
            .map(|n| names.id(n))
            .collect();
        assert_eq!(ids, [0, 1, 0, 2, 3, 1]);
        assert_eq!(names.name(0), "PC01");
    }

    #[test]
    fn machine_names_compare_loosely() {
        assert!(same_machine("WS01", "ws01.contoso.com"));
        assert!(same_machine("ws01.contoso.com", "WS01.CONTOSO.COM"));
        assert!(!same_machine("ws01.a.com", "ws01.b.com"));
        assert!(!same_machine("ws01", "ws02"));
    }
}
