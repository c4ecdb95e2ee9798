//! A client's side of the correlation: its attempts (each 12288 with the 12289 that answers it),
//! its local failures and genuine state, and the join of each attempt to the host's 12290 record
//! of it (by CMID, client time and client name).

use std::collections::BTreeSet;
use std::ops::Range;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;

use crate::events::ActivationEvent;
use crate::hresult::Hresult;
use crate::model::NameSource;
use crate::model::names::Directory;

use super::fields::{boolean, client_time, code, text};
use super::host::HostView;
use super::same_machine;

/// A 12289 answers the 12288 before it when it follows within this long.
const RESPONSE_WINDOW_MINUTES: i64 = 10;
/// Client times of one request in 12288 and 12290 (the same clock, minute precision) are at
/// most this far apart.
const JOIN_WINDOW_MINUTES: i64 = 3;

/// How the host side saw an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "seen", rename_all = "kebab-case")]
pub(crate) enum HostSide {
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
pub(crate) struct Attempt {
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
pub(crate) struct ClientView {
    pub name: String,
    pub attempts: Vec<Attempt>,
    /// 8198 failures (event index, code).
    pub local_failures: Vec<(usize, Hresult)>,
    /// 8209 not followed by 12305 (event index, code).
    pub genuine: Option<(usize, Option<Hresult>)>,
    pub cmids: BTreeSet<String>,
    /// The newest 12288 (event index).
    pub last_request: Option<usize>,
    /// Where its name came from (the record's own, when any of its events names it).
    pub name_source: NameSource,
    /// Its newest event's time.
    pub last_time: Option<DateTime<Utc>>,
}

#[allow(clippy::many_single_char_names)] // e: event, i: its index, v: the view, a: attempt
pub(super) fn client_view(events: &[ActivationEvent], name: &str, idx: Range<usize>) -> ClientView {
    let mut v = ClientView {
        name: name.to_owned(),
        name_source: events
            .get(idx.start)
            .map_or(NameSource::Text, |e| e.context.name_source),
        ..ClientView::default()
    };
    let mut open: Option<usize> = None;
    for i in idx {
        let Some(e) = events.get(i) else { continue };
        v.last_time = v.last_time.max(e.time);
        v.name_source = crate::model::names::better_source(v.name_source, e.context.name_source);
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

/// The client clock's offset from the host's: each log's client time against its own
/// `TimeCreated` (the client's local-time offset cancels out), in minutes.
pub(super) fn skew(
    request: Option<&ActivationEvent>,
    record: Option<&ActivationEvent>,
) -> Option<i64> {
    let (req, rec) = (request?, record?);
    let client_side = client_time(req)? - req.time?.naive_utc();
    let host_side = client_time(rec)? - rec.time?.naive_utc();
    Some((host_side - client_side).num_minutes())
}

/// A host's record of one request, read once for all of a client's attempts: the join compares
/// every attempt with every record of its CMID, and reading the names and times anew for each
/// pair made it cost minutes on a fleet whose clients retry for weeks.
#[derive(Debug, Clone, Copy)]
pub(super) struct Candidate {
    record: usize,
    /// The record names this client (or no client at all).
    name_ok: bool,
    /// The client's clock as the record carries it, and the record's own time.
    client_time: Option<NaiveDateTime>,
    time: Option<DateTime<Utc>>,
}

/// The records of `cmid` at the host `hi` that a join of `client`'s attempts reads, kept while
/// the attempts name the same host and CMID (a client's attempts nearly always do).
#[derive(Debug, Default)]
pub(super) struct Candidates {
    key: Option<(usize, String)>,
    records: Vec<Candidate>,
}

impl Candidates {
    fn of(
        &mut self,
        events: &[ActivationEvent],
        host: (usize, &HostView),
        (client, names): (&str, &Directory),
        cmid: Option<&str>,
    ) -> &[Candidate] {
        let Some(cmid) = cmid.map(str::to_ascii_lowercase) else {
            return &[];
        };
        let key = (host.0, cmid);
        if self.key.as_ref() != Some(&key) {
            self.records = host
                .1
                .by_cmid
                .get(&key.1)
                .map_or(&[][..], Vec::as_slice)
                .iter()
                .filter_map(|&r| {
                    let e = events.get(r)?;
                    Some(Candidate {
                        record: r,
                        name_ok: text(e, "client_name")
                            .is_none_or(|n| same_machine(names.resolve(&n), client)),
                        client_time: client_time(e),
                        time: e.time,
                    })
                })
                .collect();
            self.key = Some(key);
        }
        &self.records
    }
}

/// How the host side saw attempt `a` of `client`: received (the first record of its CMID, named
/// for it, within the join window by client clock, else by event time), not received although
/// the host's log covers the time, outside the log, or sent to another host.
pub(super) fn join(
    events: &[ActivationEvent],
    hosts: &[HostView],
    (client, names): (&str, &Directory),
    a: &Attempt,
    any_host: bool,
    candidates: &mut Candidates,
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
    let within = |d: chrono::TimeDelta| d.num_minutes().abs() <= JOIN_WINDOW_MINUTES;
    let found = candidates
        .of(events, (hi, host), (client, names), a.cmid.as_deref())
        .iter()
        .find(|c| {
            let time_ok = match (sent_clock, c.client_time) {
                (Some(x), Some(y)) => within(x - y),
                _ => match (sent_at, c.time) {
                    (Some(x), Some(y)) => within(x - y),
                    _ => false,
                },
            };
            c.name_ok && time_ok
        });
    if let Some(c) = found {
        return HostSide::Received {
            host: hi,
            record: c.record,
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
