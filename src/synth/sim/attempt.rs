//! The clients' activation attempts, run in global time order: when each client tries (at boot,
//! again every activation interval until it is activated, then every renewal interval), and how
//! one attempt goes, step by step: a MAK client activates online; a KMS client may fail before
//! sending (bad BIOS marker, no host found), picks its host (a rogue one, the configured one, or
//! the one DNS names), may lose the request on the way (firewall, offline), lets the host count
//! and decide, and may lose the answer on the way back. Each step writes the events it causes
//! and records the outcome for the ground truth.
//!
//! Indexing: every index here is a position the simulation itself pushed (machines, hosts,
//! clients), never a number read from input.
#![allow(clippy::indexing_slicing)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use chrono::{DateTime, Duration, Utc};

use super::events::{Request, local_failure};
use super::facts::{COUNT_CAP, MAX_SKEW_MINUTES, VALIDITY_DAYS, codes};
use super::machine::{License, Role, SimMachine};
use super::time::{on_time, settle};
use super::world::{Attempt, Client, Fault, HostState, Outcome, World, configured_host, discover};
use crate::synth::scenario::{FaultKind, Scenario};

/// Runs every client's attempts from its first (boot, or the renewal due after an activation
/// before the span) until `now`, one at a time in time order.
pub(super) fn run_attempts(
    s: &Scenario,
    w: &mut World,
    clients: &mut [Client],
    now: DateTime<Utc>,
) {
    let mut queue: BinaryHeap<Reverse<(DateTime<Utc>, usize)>> = BinaryHeap::new();
    for (i, c) in clients.iter().enumerate() {
        let m = &w.machines[c.m];
        let first = if c.activated_at.is_some() && m.role == Role::KmsClient {
            // Renewal is due a renewal interval after the last activation; catch up at boot.
            let due = c.activated_at.unwrap_or(s.start)
                + Duration::minutes(i64::from(s.renewal_interval));
            due.max(m.boot)
        } else if c.activated_at.is_some() {
            continue;
        } else {
            m.boot
        };
        queue.push(Reverse((on_time(first, m), i)));
    }
    while let Some(Reverse((t, i))) = queue.pop() {
        if t >= now {
            continue;
        }
        let next = attempt(s, w, &mut clients[i], t);
        if let Some(n) = next {
            let m = &w.machines[clients[i].m];
            queue.push(Reverse((on_time(n, m), i)));
        }
    }
}

/// Client `c` tries to activate at true time `t`. Returns when it tries next (`None`: never).
fn attempt(s: &Scenario, w: &mut World, c: &mut Client, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let World {
        machines,
        hosts,
        faults,
    } = w;
    let machine = &mut machines[c.m];
    machine.license = settle(machine.license, t);
    let license = machine.license;
    let role = machine.role;
    let clock = t + Duration::minutes(machine.skew_minutes);
    let mut turn = Turn {
        s,
        c,
        machines,
        hosts,
        faults,
        t,
        clock,
        retry: t + Duration::minutes(i64::from(s.activation_interval)),
    };
    if role == Role::Mak {
        return turn.mak();
    }
    if turn.active(FaultKind::BiosSlic).is_some() {
        turn.local_fail(codes::BIOS_BAD_FORMAT);
        return Some(turn.retry);
    }
    let Some((host, server)) = turn.target() else {
        turn.local_fail(codes::DNS_NAME_NOT_FOUND);
        return Some(turn.retry);
    };
    turn.note_host(host, &server);
    let req = Request::new(turn.machine(), server, license, t, clock);
    if turn.active(FaultKind::Firewall).is_some() || turn.active(FaultKind::Offline).is_some() {
        turn.unanswered(&req, codes::RPC_UNAVAILABLE, Outcome::Dropped { host });
        return Some(turn.retry);
    }
    let (code, count) = turn.host_decides(host, &req);
    if let (Some(h), Some(_)) = (host, turn.active(FaultKind::ResponseLost)) {
        turn.unanswered(&req, codes::TIMEOUT, Outcome::Lost { host: h, code });
        return Some(turn.retry);
    }
    Some(turn.answered(host, &req, code, count))
}

/// One attempt in progress: the client, the world it reaches, and the moment.
struct Turn<'a> {
    s: &'a Scenario,
    c: &'a mut Client,
    machines: &'a mut [SimMachine],
    hosts: &'a mut [HostState],
    faults: &'a [Fault],
    /// The true time, and the same moment by the client's (maybe skewed) clock.
    t: DateTime<Utc>,
    clock: DateTime<Utc>,
    /// When the client tries again after a failure.
    retry: DateTime<Utc>,
}

impl<'a> Turn<'a> {
    fn machine(&self) -> &SimMachine {
        &self.machines[self.c.m]
    }

    fn machine_mut(&mut self) -> &mut SimMachine {
        &mut self.machines[self.c.m]
    }

    /// The fault of `kind` in force on this client now, if any.
    fn active(&self, kind: FaultKind) -> Option<&'a Fault> {
        let faults: &'a [Fault] = self.faults;
        let short = &self.machine().short;
        faults
            .iter()
            .find(|f| f.kind == kind && f.applies(short) && f.active(self.t))
    }

    fn record(&mut self, outcome: Outcome) {
        self.c.attempts.push(Attempt {
            time: self.t,
            outcome,
        });
    }

    /// Failed on the client with `code`: it logs 8198 and sends nothing.
    fn local_fail(&mut self, code: u32) {
        let ev = local_failure(self.machine(), self.clock, code);
        self.machine_mut().events.push(ev);
        self.record(Outcome::Local { code });
    }

    /// A request that got no answer: the client logs 12288 with the failure `hr`, no 12289.
    fn unanswered(&mut self, req: &Request, hr: u32, outcome: Outcome) {
        self.machine_mut().events.push(req.sent(hr));
        self.record(outcome);
    }

    /// A MAK client activates online once, or fails (`mak-failure`) and tries again next day.
    fn mak(&mut self) -> Option<DateTime<Utc>> {
        if let Some(f) = self.active(FaultKind::MakFailure) {
            self.local_fail(f.code.unwrap_or(0xC004_C003));
            return Some(self.t + Duration::days(1));
        }
        self.c.activated_at = Some(self.t);
        self.machine_mut().license = License {
            status: 1,
            ends: None,
        };
        self.record(Outcome::Answered {
            host: None,
            code: codes::OK,
        });
        None
    }

    /// Which host: a rogue one, the configured one, or the one DNS names (`None`: DNS names
    /// none). The index is `None` for a host outside the fleet; the text is `name:port`.
    fn target(&self) -> Option<(Option<usize>, String)> {
        if let Some(f) = self.active(FaultKind::RogueHost) {
            f.host.clone().map(|h| (None, h))
        } else if let Some(cfg) = self.machine().kms_configured.clone() {
            Some((configured_host(self.hosts, &cfg), cfg))
        } else if self.active(FaultKind::DnsSrvMissing).is_some() {
            None
        } else {
            let i = discover(self.hosts)?;
            Some((Some(i), self.hosts[i].address()))
        }
    }

    /// The client talks to `server` (`host` in the fleet, if it is one).
    fn note_host(&mut self, host: Option<usize>, server: &str) {
        let supplied = host.is_some_and(|h| self.machines[self.hosts[h].idx].collected);
        if !supplied {
            self.c.used_unsupplied = true;
        }
        self.machine_mut().kms_used = Some(server.to_owned());
    }

    /// The host counts the client and answers: the code and the count it answers with. A host
    /// of the fleet logs 12290; one outside it activates everyone.
    fn host_decides(&mut self, host: Option<usize>, req: &Request) -> (u32, usize) {
        let Some(h) = host else {
            return (codes::OK, COUNT_CAP);
        };
        let skewed = self.machine().skew_minutes.abs() > MAX_SKEW_MINUTES;
        let fqdn = self.machine().fqdn.clone();
        let hs = &mut self.hosts[h];
        if !skewed {
            hs.see(self.t, req.cmid());
        }
        let count = hs.count(self.t);
        let code = if skewed {
            codes::TIMESTAMP_INVALID
        } else if count < req.n_policy() {
            codes::NOT_ENOUGH_COUNT
        } else {
            codes::OK
        };
        let host_idx = hs.idx;
        self.machines[host_idx]
            .events
            .push(req.received(self.t, &fqdn, code));
        (code, count)
    }

    /// The answer arrived: the client logs 12288 and 12289. Returns when it tries next: a renewal
    /// interval on if activated, an activation interval on if not.
    fn answered(
        &mut self,
        host: Option<usize>,
        req: &Request,
        code: u32,
        count: usize,
    ) -> DateTime<Utc> {
        let s = self.s;
        let m = self.machine_mut();
        m.events.push(req.sent(code));
        m.events
            .push(req.answer(code, count, s.activation_interval, s.renewal_interval));
        self.record(Outcome::Answered { host, code });
        if code != codes::OK {
            return self.retry;
        }
        self.c.activated_at = Some(self.t);
        self.machine_mut().license = License {
            status: 1,
            ends: Some(self.t + Duration::days(VALIDITY_DAYS)),
        };
        self.t + Duration::minutes(i64::from(s.renewal_interval))
    }
}
