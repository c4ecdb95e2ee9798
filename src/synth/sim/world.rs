//! The simulation's working state, shared by its phases: the machines being simulated, each KMS
//! host's memory of the CMIDs it counted, the faults with their time spans, and each client's
//! record of its attempts and how they ended. The state and its small rules (how a host counts,
//! when a fault applies, which host DNS names); the phases that change it live beside it.

use std::collections::{HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

use super::facts::{COUNT_CAP, COUNT_WINDOW_DAYS};
use super::machine::SimMachine;
use crate::synth::scenario::{FaultKind, matches};

/// Everything the phases of one simulation work on.
#[derive(Debug)]
pub(super) struct World {
    /// Hosts first (in scenario order), then clients.
    pub(super) machines: Vec<SimMachine>,
    pub(super) hosts: Vec<HostState>,
    pub(super) faults: Vec<Fault>,
}

/// The host a client configured as `cfg` (`name:port`) reaches, if it is one of the fleet's.
pub(super) fn configured_host(hosts: &[HostState], cfg: &str) -> Option<usize> {
    hosts
        .iter()
        .position(|h| h.address().eq_ignore_ascii_case(cfg))
}

/// The host a DNS-discovering client finds: the first that publishes.
pub(super) fn discover(hosts: &[HostState]) -> Option<usize> {
    hosts.iter().position(|h| h.publishes)
}

/// How an attempt ended, for the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Outcome {
    /// A host answered with this code (`supplied`: a host of the collected set).
    Answered { host: Option<usize>, code: u32 },
    /// Dropped on the way to this host.
    Dropped { host: Option<usize> },
    /// The host answered; the answer was lost.
    Lost { host: usize, code: u32 },
    /// Failed on the client, nothing sent.
    Local { code: u32 },
}

#[derive(Debug, Clone, Copy)]
pub(super) struct Attempt {
    pub(super) time: DateTime<Utc>,
    pub(super) outcome: Outcome,
}

/// A client machine's side of the simulation: what it has done so far.
#[derive(Debug)]
pub(super) struct Client {
    /// Its position in [`World::machines`].
    pub(super) m: usize,
    pub(super) activated_at: Option<DateTime<Utc>>,
    pub(super) attempts: Vec<Attempt>,
    /// It talked to a host whose logs are not collected.
    pub(super) used_unsupplied: bool,
    /// The genuine-state failure still in force at the end.
    pub(super) genuine_bad: Option<u32>,
}

impl Client {
    pub(super) fn new(m: usize, activated_at: Option<DateTime<Utc>>) -> Self {
        Client {
            m,
            activated_at,
            attempts: Vec::new(),
            used_unsupplied: false,
            genuine_bad: None,
        }
    }
}

/// A KMS host's side of the simulation: where it is and the CMIDs it counts.
#[derive(Debug)]
pub(super) struct HostState {
    /// Its position in [`World::machines`].
    pub(super) idx: usize,
    pub(super) name: String,
    pub(super) port: u16,
    pub(super) publishes: bool,
    pub(super) arrivals: VecDeque<(DateTime<Utc>, String)>,
    pub(super) latest: HashMap<String, DateTime<Utc>>,
}

impl HostState {
    /// `name:port`, as clients are configured with it and write it.
    pub(super) fn address(&self) -> String {
        format!("{}:{}", self.name, self.port)
    }
    /// The count at `t`: distinct CMIDs seen in the window before it, capped.
    pub(super) fn count(&mut self, t: DateTime<Utc>) -> usize {
        let cutoff = t - Duration::days(COUNT_WINDOW_DAYS);
        while let Some((at, cmid)) = self.arrivals.front() {
            if *at >= cutoff {
                break;
            }
            if self.latest.get(cmid) == Some(at) {
                self.latest.remove(cmid);
            }
            self.arrivals.pop_front();
        }
        self.latest.len().min(COUNT_CAP)
    }
    pub(super) fn see(&mut self, t: DateTime<Utc>, cmid: &str) {
        self.latest.insert(cmid.to_owned(), t);
        self.arrivals.push_back((t, cmid.to_owned()));
    }
}

/// A scenario fault placed in time.
#[derive(Debug, Clone)]
pub(super) struct Fault {
    pub(super) kind: FaultKind,
    pub(super) machines: Vec<String>,
    pub(super) from: DateTime<Utc>,
    pub(super) until: DateTime<Utc>,
    pub(super) code: Option<u32>,
    pub(super) minutes: i64,
    pub(super) host: Option<String>,
}

impl Fault {
    pub(super) fn active(&self, t: DateTime<Utc>) -> bool {
        t >= self.from && t < self.until
    }
    pub(super) fn applies(&self, short: &str) -> bool {
        self.machines.iter().any(|p| matches(p, short))
    }
}
