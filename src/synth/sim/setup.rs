//! Turns a scenario into the simulation's starting state: the KMS hosts, every client of every
//! group (named, booted, configured, licensed as the scenario says, with its own random stream),
//! the faults placed in time, and the cloned images' shared CMIDs. Nothing here runs time.
//!
//! Indexing: every index here is a position this file itself pushed (machines, clients), never a
//! number read from input.
#![allow(clippy::indexing_slicing)]

use std::collections::{BTreeSet, HashMap, VecDeque};

use chrono::{DateTime, Duration, Utc};

use super::facts::{CLIENT_ACT_ID, GRACE_DAYS, SERVER_ACT_ID, VALIDITY_DAYS};
use super::machine::{License, Role, SimMachine};
use super::rng::Rng;
use super::world::{Client, Fault, HostState, World};
use crate::synth::scenario::{Collected, FaultKind, GroupSpec, Scenario, machine_name, parse_code};

/// The starting state of `s`: the world and its clients. `scale` multiplies every group's
/// count; `now` is the end of the span (where open-ended faults stop).
pub(super) fn build(
    s: &Scenario,
    seed: u64,
    scale: f64,
    now: DateTime<Utc>,
) -> (World, Vec<Client>) {
    let mut b = Builder {
        s,
        seed,
        domain: s.domain.trim_matches('.'),
        world: World {
            machines: Vec::new(),
            hosts: Vec::new(),
            faults: Vec::new(),
        },
        clients: Vec::new(),
    };
    b.add_hosts();
    b.world.faults = place_faults(s, now);
    for g in &s.groups {
        b.add_group(g, scale);
    }
    b.clone_cmids();
    (b.world, b.clients)
}

/// The faults with their days turned into times.
fn place_faults(s: &Scenario, now: DateTime<Utc>) -> Vec<Fault> {
    let start = s.start;
    s.faults
        .iter()
        .map(|f| Fault {
            kind: f.kind,
            machines: f.machines.clone(),
            from: start + Duration::days(i64::from(f.from_day)),
            until: f.until_day.map_or(now + Duration::days(1), |d| {
                start + Duration::days(i64::from(d))
            }),
            code: f.code.as_deref().and_then(parse_code).map(|c| c.0),
            minutes: f.minutes.unwrap_or(0),
            host: f.host.clone(),
        })
        .collect()
}

/// The state being built, and what every machine is made from.
struct Builder<'a> {
    s: &'a Scenario,
    seed: u64,
    /// The scenario's domain without its dots at either end.
    domain: &'a str,
    world: World,
    clients: Vec<Client>,
}

impl Builder<'_> {
    /// The machine's full name: `short.domain`, unless it has a dot already or there is none.
    fn fq(&self, short: &str) -> String {
        if self.domain.is_empty() || short.contains('.') {
            short.to_owned()
        } else {
            format!("{short}.{}", self.domain)
        }
    }

    fn add_hosts(&mut self) {
        let start = self.s.start;
        for h in &self.s.hosts {
            let mut rng = Rng::derive(self.seed, &h.name);
            let idx = self.world.machines.len();
            self.world.machines.push(SimMachine {
                short: h.name.clone(),
                fqdn: self.fq(&h.name),
                role: Role::KmsHost,
                collected: h.logs,
                server_os: true,
                vm: false,
                cmid: rng.guid(),
                activation_id: SERVER_ACT_ID,
                utc_offset: 0,
                kms_configured: None,
                kms_used: None,
                skew_minutes: 0,
                events: Vec::new(),
                boot: start,
                office_hours: false,
                license: License {
                    status: 1,
                    ends: None,
                },
                host_count: Some(0),
                log_starts: None,
                rolled_off: 0,
                dns_publishing: Some(h.dns.clone()),
                port: h.port,
                faults: Vec::new(),
                expected: BTreeSet::new(),
            });
            self.world.hosts.push(HostState {
                idx,
                name: self.fq(&h.name),
                port: h.port,
                publishes: h.dns == "published",
                arrivals: VecDeque::new(),
                latest: HashMap::new(),
            });
        }
    }

    fn add_group(&mut self, g: &GroupSpec, scale: f64) {
        // Bounded by the scenario check (count) and the CLI (scale): the product fits.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let count = (f64::from(g.count) * scale)
            .round()
            .clamp(0.0, f64::from(u32::MAX)) as u32;
        let collect_n = match g.logs {
            Collected::All(true) => count,
            Collected::All(false) => 0,
            Collected::First(n) => n,
        };
        for n in 1..=count {
            let (m, activated_at) = self.client_machine(g, n, n <= collect_n);
            self.clients
                .push(Client::new(self.world.machines.len(), activated_at));
            self.world.machines.push(m);
        }
    }

    /// The `n`th machine of group `g`, and when it was last activated before the span.
    fn client_machine(
        &self,
        g: &GroupSpec,
        n: u32,
        collected: bool,
    ) -> (SimMachine, Option<DateTime<Utc>>) {
        let start = self.s.start;
        let short = machine_name(&g.name, n);
        let mut rng = Rng::derive(self.seed, &short);
        let server_os = g.os == "server";
        let boot = start
            + Duration::days(i64::from(g.join_day))
            + Duration::seconds(i64::try_from(rng.below(6 * 3600)).unwrap_or(0));
        let role = if g.channel == "mak" {
            Role::Mak
        } else {
            Role::KmsClient
        };
        let activated_at = (g.activated_days_ago > 0)
            .then(|| start - Duration::days(i64::from(g.activated_days_ago)));
        let mut m = SimMachine {
            short: short.clone(),
            fqdn: self.fq(&short),
            role,
            collected,
            server_os,
            vm: g.vm,
            cmid: rng.guid(),
            activation_id: if server_os {
                SERVER_ACT_ID
            } else {
                CLIENT_ACT_ID
            },
            utc_offset: g.utc_offset,
            kms_configured: self.configured_kms(g),
            kms_used: None,
            skew_minutes: 0,
            events: Vec::new(),
            boot,
            office_hours: g.hours == "office",
            license: starting_license(role, activated_at, boot),
            host_count: None,
            log_starts: None,
            rolled_off: 0,
            dns_publishing: None,
            port: 0,
            faults: Vec::new(),
            expected: BTreeSet::new(),
        };
        for f in self.world.faults.iter().filter(|f| f.applies(&short)) {
            m.faults.push(format!("{:?}", f.kind));
            if f.kind == FaultKind::ClockSkew {
                m.skew_minutes = f.minutes;
            }
        }
        (m, activated_at)
    }

    /// The host a group is configured for (`name:port`), or `None` for DNS discovery.
    fn configured_kms(&self, g: &GroupSpec) -> Option<String> {
        if g.kms == "dns" {
            None
        } else if g.kms.contains(':') {
            Some(g.kms.clone())
        } else {
            self.s
                .hosts
                .iter()
                .find(|h| h.name == g.kms)
                .map(|h| format!("{}:{}", self.fq(&h.name), h.port))
        }
    }

    /// Cloned images: every machine of a cloned-cmid fault takes the first one's CMID.
    fn clone_cmids(&mut self) {
        let World {
            machines, faults, ..
        } = &mut self.world;
        for f in faults.iter().filter(|f| f.kind == FaultKind::ClonedCmid) {
            let mut first: Option<String> = None;
            for c in &self.clients {
                let m = &mut machines[c.m];
                if f.applies(&m.short) {
                    match &first {
                        None => first = Some(m.cmid.clone()),
                        Some(cmid) => m.cmid.clone_from(cmid),
                    }
                }
            }
        }
    }
}

/// The license a client starts the span with: activated (MAK for good, KMS for the validity
/// period) or, never activated, in initial grace from its first boot.
fn starting_license(
    role: Role,
    activated_at: Option<DateTime<Utc>>,
    boot: DateTime<Utc>,
) -> License {
    match activated_at {
        Some(_) if role == Role::Mak => License {
            status: 1,
            ends: None,
        },
        Some(a) => License {
            status: 1,
            ends: Some(a + Duration::days(VALIDITY_DAYS)),
        },
        None => License {
            status: 2,
            ends: Some(boot + Duration::days(GRACE_DAYS)),
        },
    }
}
