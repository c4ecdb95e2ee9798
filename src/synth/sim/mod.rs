//! The fleet simulation: every client's activation attempts in global time order, the hosts'
//! CMID counting, the injected faults, and the ground truth each machine ends in. Behaviour
//! follows research/domain-facts.md: retries every activation interval (120 min) until activated,
//! renewal every renewal interval (7 days), 180-day validity, 30-day grace, a host that counts the
//! distinct CMIDs it saw in 30 days (capped at 50) and answers 0xC004F038 below the client's
//! N-policy (25 client editions, 5 server editions), 0xC004F06C beyond 4 hours of clock skew.
//!
//! The numbers above are in `facts`, the fleet handed to the writer in `machine`, the
//! randomness in `rng`, and what time does to a license and an office machine in `time`.
//!
//! Indexing: every index here is a position the simulation itself pushed (machines, hosts,
//! clients), never a number read from input.
#![allow(clippy::indexing_slicing)]

mod facts;
mod machine;
mod rng;
mod time;

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc};

use facts::{
    CLIENT_ACT_ID, COUNT_CAP, COUNT_WINDOW_DAYS, GRACE_DAYS, MAX_SKEW_MINUTES, SERVER_ACT_ID,
    VALIDITY_DAYS,
};
pub use facts::{WINDOWS_APP_ID, codes};
pub use machine::{Fleet, License, Log, Role, SimEvent, SimMachine};
pub use rng::Rng;
use time::{on_time, settle};

use super::scenario::{Collected, FaultKind, Scenario, machine_name, matches, parse_code};

/// How an attempt ended, for the ground truth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
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
struct Attempt {
    time: DateTime<Utc>,
    outcome: Outcome,
}

#[derive(Debug)]
struct HostState {
    idx: usize,
    name: String,
    port: u16,
    publishes: bool,
    arrivals: VecDeque<(DateTime<Utc>, String)>,
    latest: HashMap<String, DateTime<Utc>>,
}

impl HostState {
    fn count(&mut self, t: DateTime<Utc>) -> usize {
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
    fn see(&mut self, t: DateTime<Utc>, cmid: &str) {
        self.latest.insert(cmid.to_owned(), t);
        self.arrivals.push_back((t, cmid.to_owned()));
    }
}

#[derive(Debug, Clone)]
struct Fault {
    kind: FaultKind,
    machines: Vec<String>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    code: Option<u32>,
    minutes: i64,
    host: Option<String>,
}

impl Fault {
    fn active(&self, t: DateTime<Utc>) -> bool {
        t >= self.from && t < self.until
    }
    fn applies(&self, short: &str) -> bool {
        self.machines.iter().any(|p| matches(p, short))
    }
}

/// The client time as written inside 12288/12289: `yyyy/MM/dd HH:mm`, the client's local clock.
fn client_time(t: DateTime<Utc>, offset: i32) -> String {
    let l = t + Duration::minutes(i64::from(offset));
    l.format("%Y/%m/%d %H:%M").to_string()
}

/// The same clock as the host writes it in 12290: no zero padding (`2010/9/29 21:46`).
fn host_client_time(t: DateTime<Utc>, offset: i32) -> String {
    let l = t + Duration::minutes(i64::from(offset));
    format!(
        "{}/{}/{} {}:{:02}",
        l.year(),
        l.month(),
        l.day(),
        l.hour(),
        l.minute()
    )
}

fn hex(code: u32) -> String {
    format!("0x{code:08X}")
}

/// Minutes from `t` to `end`, never negative.
fn minutes_until(t: DateTime<Utc>, end: Option<DateTime<Utc>>) -> i64 {
    end.map_or(0, |e| (e - t).num_minutes().max(0))
}

struct Client {
    m: usize,
    activated_at: Option<DateTime<Utc>>,
    attempts: Vec<Attempt>,
    used_unsupplied: bool,
    genuine_bad: Option<u32>,
}

/// Runs a scenario. `scale` multiplies every group's count.
pub fn simulate(s: &Scenario, seed: u64, scale: f64) -> Fleet {
    let start = s.start;
    let now = start + Duration::days(i64::from(s.days));
    let mut machines: Vec<SimMachine> = Vec::new();
    let mut hosts: Vec<HostState> = Vec::new();
    let domain = s.domain.trim_matches('.');
    let fq = |short: &str| {
        if domain.is_empty() || short.contains('.') {
            short.to_owned()
        } else {
            format!("{short}.{domain}")
        }
    };
    for h in &s.hosts {
        let mut rng = Rng::derive(seed, &h.name);
        let idx = machines.len();
        machines.push(SimMachine {
            short: h.name.clone(),
            fqdn: fq(&h.name),
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
        hosts.push(HostState {
            idx,
            name: fq(&h.name),
            port: h.port,
            publishes: h.dns == "published",
            arrivals: VecDeque::new(),
            latest: HashMap::new(),
        });
    }
    let faults: Vec<Fault> = s
        .faults
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
        .collect();
    let mut clients: Vec<Client> = Vec::new();
    for g in &s.groups {
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
            let short = machine_name(&g.name, n);
            let mut rng = Rng::derive(seed, &short);
            let server_os = g.os == "server";
            let boot = start
                + Duration::days(i64::from(g.join_day))
                + Duration::seconds(i64::try_from(rng.below(6 * 3600)).unwrap_or(0));
            let kms_configured = if g.kms == "dns" {
                None
            } else if g.kms.contains(':') {
                Some(g.kms.clone())
            } else {
                s.hosts
                    .iter()
                    .find(|h| h.name == g.kms)
                    .map(|h| format!("{}:{}", fq(&h.name), h.port))
            };
            let role = if g.channel == "mak" {
                Role::Mak
            } else {
                Role::KmsClient
            };
            let activated_at = (g.activated_days_ago > 0)
                .then(|| start - Duration::days(i64::from(g.activated_days_ago)));
            let license = match activated_at {
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
            };
            let mut m = SimMachine {
                short: short.clone(),
                fqdn: fq(&short),
                role,
                collected: n <= collect_n,
                server_os,
                vm: g.vm,
                cmid: rng.guid(),
                activation_id: if server_os {
                    SERVER_ACT_ID
                } else {
                    CLIENT_ACT_ID
                },
                utc_offset: g.utc_offset,
                kms_configured,
                kms_used: None,
                skew_minutes: 0,
                events: Vec::new(),
                boot,
                office_hours: g.hours == "office",
                license,
                host_count: None,
                log_starts: None,
                rolled_off: 0,
                dns_publishing: None,
                port: 0,
                faults: Vec::new(),
                expected: BTreeSet::new(),
            };
            for f in faults.iter().filter(|f| f.applies(&short)) {
                m.faults.push(format!("{:?}", f.kind));
                if f.kind == FaultKind::ClockSkew {
                    m.skew_minutes = f.minutes;
                }
            }
            clients.push(Client {
                m: machines.len(),
                activated_at,
                attempts: Vec::new(),
                used_unsupplied: false,
                genuine_bad: None,
            });
            machines.push(m);
        }
    }
    // Cloned images: every machine of a cloned-cmid fault takes the first one's CMID.
    for f in faults.iter().filter(|f| f.kind == FaultKind::ClonedCmid) {
        let mut first: Option<String> = None;
        for c in &clients {
            let m = &mut machines[c.m];
            if f.applies(&m.short) {
                match &first {
                    None => first = Some(m.cmid.clone()),
                    Some(cmid) => m.cmid.clone_from(cmid),
                }
            }
        }
    }
    host_periodic(s, &mut machines, &hosts, now);
    // The hosts' memory of the weeks before the span: clients activated within the count window.
    let mut prior: Vec<(DateTime<Utc>, usize, String)> = Vec::new();
    for c in &clients {
        let m = &machines[c.m];
        let Some(a) = c.activated_at else { continue };
        if m.role != Role::KmsClient || a < start - Duration::days(COUNT_WINDOW_DAYS) {
            continue;
        }
        let host = match &m.kms_configured {
            Some(cfg) => hosts
                .iter()
                .position(|h| format!("{}:{}", h.name, h.port).eq_ignore_ascii_case(cfg)),
            None => discover(&hosts),
        };
        if let Some(h) = host {
            prior.push((a, h, m.cmid.clone()));
        }
    }
    prior.sort();
    for (t, h, cmid) in prior {
        hosts[h].see(t, &cmid);
    }

    let mut queue: BinaryHeap<Reverse<(DateTime<Utc>, usize)>> = BinaryHeap::new();
    for (i, c) in clients.iter().enumerate() {
        let m = &machines[c.m];
        let first = if c.activated_at.is_some() && m.role == Role::KmsClient {
            // Renewal is due a renewal interval after the last activation; catch up at boot.
            let due =
                c.activated_at.unwrap_or(start) + Duration::minutes(i64::from(s.renewal_interval));
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
        let next = attempt(s, &mut clients[i], &mut machines, &mut hosts, &faults, t);
        if let Some(n) = next {
            let m = &machines[clients[i].m];
            queue.push(Reverse((on_time(n, m), i)));
        }
    }
    // Genuine-state faults: 8209 once a day while they last, 12305 when they end.
    for c in &mut clients {
        genuine_events(&mut machines[c.m], c, &faults, now);
    }
    for h in &mut hosts {
        let count = h.count(now);
        machines[h.idx].host_count = Some(count);
    }
    for m in &mut machines {
        m.events
            .sort_by(|a, b| a.time.cmp(&b.time).then(a.log.cmp(&b.log)));
        m.license = settle(m.license, now);
    }
    roll_off(s, &mut machines);
    expectations(&mut machines, &clients, &hosts, now);
    Fleet {
        start,
        now,
        seed,
        machines,
    }
}

/// The host a DNS-discovering client finds: the first that publishes.
fn discover(hosts: &[HostState]) -> Option<usize> {
    hosts.iter().position(|h| h.publishes)
}

fn attempt(
    s: &Scenario,
    c: &mut Client,
    machines: &mut [SimMachine],
    hosts: &mut [HostState],
    faults: &[Fault],
    t: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let retry = t + Duration::minutes(i64::from(s.activation_interval));
    let renew = t + Duration::minutes(i64::from(s.renewal_interval));
    let short = machines[c.m].short.clone();
    let active = |k: FaultKind| {
        faults
            .iter()
            .find(|f| f.kind == k && f.applies(&short) && f.active(t))
    };
    let skew = Duration::minutes(machines[c.m].skew_minutes);
    let clock = t + skew;
    {
        let m = &mut machines[c.m];
        m.license = settle(m.license, t);
    }
    let m_license = machines[c.m].license;
    let local_fail = |m: &mut SimMachine, c: &mut Client, code: u32| {
        m.events.push(SimEvent {
            time: clock,
            log: Log::Application,
            event_id: 8198,
            data: vec![
                format!("hr={}", hex(code)),
                format!(
                    "RuleId=31e71c49-8da7-4a2f-ad92-45d98a1c79ba;Action=AutoActivate;AppId={WINDOWS_APP_ID};SkuId={};NotificationInterval=1440;Trigger=TimerEvent",
                    m.activation_id
                ),
            ],
        });
        c.attempts.push(Attempt {
            time: t,
            outcome: Outcome::Local { code },
        });
    };
    if machines[c.m].role == Role::Mak {
        if let Some(f) = active(FaultKind::MakFailure) {
            local_fail(&mut machines[c.m], c, f.code.unwrap_or(0xC004_C003));
            return Some(t + Duration::days(1));
        }
        c.activated_at = Some(t);
        machines[c.m].license = License {
            status: 1,
            ends: None,
        };
        c.attempts.push(Attempt {
            time: t,
            outcome: Outcome::Answered {
                host: None,
                code: codes::OK,
            },
        });
        return None;
    }
    if active(FaultKind::BiosSlic).is_some() {
        local_fail(&mut machines[c.m], c, codes::BIOS_BAD_FORMAT);
        return Some(retry);
    }
    // Which host: a rogue one, the configured one, or the one DNS names.
    let target: Option<(Option<usize>, String)> = if let Some(f) = active(FaultKind::RogueHost) {
        f.host.clone().map(|h| (None, h))
    } else if let Some(cfg) = machines[c.m].kms_configured.clone() {
        let idx = hosts
            .iter()
            .position(|h| format!("{}:{}", h.name, h.port).eq_ignore_ascii_case(&cfg));
        Some((idx, cfg))
    } else if active(FaultKind::DnsSrvMissing).is_some() {
        None
    } else {
        discover(hosts).map(|i| (Some(i), format!("{}:{}", hosts[i].name, hosts[i].port)))
    };
    let Some((host, server)) = target else {
        local_fail(&mut machines[c.m], c, codes::DNS_NAME_NOT_FOUND);
        return Some(retry);
    };
    let supplied = host.is_some_and(|h| machines[hosts[h].idx].collected);
    if !supplied {
        c.used_unsupplied = true;
    }
    machines[c.m].kms_used = Some(server.clone());
    let (cmid, vm, npol, actid, offset) = {
        let m = &machines[c.m];
        (
            m.cmid.clone(),
            m.vm,
            m.n_policy(),
            m.activation_id,
            m.utc_offset,
        )
    };
    let ls = m_license.status;
    let mins = minutes_until(t, m_license.ends);
    let request = |hr: u32| {
        format!(
            "{}, 0x00000000, {server}, {cmid}, {}, {}, {ls}, {mins}, {actid}, {npol}",
            hex(hr),
            client_time(clock, offset),
            u8::from(vm)
        )
    };
    if active(FaultKind::Firewall).is_some() || active(FaultKind::Offline).is_some() {
        unanswered(
            &mut machines[c.m],
            c,
            clock,
            t,
            request(codes::RPC_UNAVAILABLE),
            Outcome::Dropped { host },
        );
        return Some(retry);
    }
    // The host decides.
    let (code, count) = match host {
        Some(h) => {
            let hs = &mut hosts[h];
            let skewed = machines[c.m].skew_minutes.abs() > MAX_SKEW_MINUTES;
            if !skewed {
                hs.see(t, &cmid);
            }
            let count = hs.count(t);
            let code = if skewed {
                codes::TIMESTAMP_INVALID
            } else if count < npol {
                codes::NOT_ENOUGH_COUNT
            } else {
                codes::OK
            };
            let fqdn = machines[c.m].fqdn.clone();
            let host_m = &mut machines[hs.idx];
            host_m.events.push(SimEvent {
                time: t,
                log: Log::KeyManagementService,
                event_id: 12290,
                data: vec![format!(
                    "{},{npol},{fqdn},{cmid},{},{},{ls},{mins},{actid}",
                    hex(code),
                    host_client_time(clock, offset),
                    u8::from(vm)
                )],
            });
            (code, count)
        }
        // A host outside the supplied set activates everyone.
        None => (codes::OK, COUNT_CAP),
    };
    if let (Some(h), Some(_)) = (host, active(FaultKind::ResponseLost)) {
        unanswered(
            &mut machines[c.m],
            c,
            clock,
            t,
            request(codes::TIMEOUT),
            Outcome::Lost { host: h, code },
        );
        return Some(retry);
    }
    let activated = code == codes::OK;
    let flags: u32 = if code == codes::NOT_ENOUGH_COUNT {
        0x0400_0000
    } else {
        0
    };
    let answered = clock + Duration::seconds(1);
    {
        let m = &mut machines[c.m];
        m.events.push(SimEvent {
            time: clock,
            log: Log::Application,
            event_id: 12288,
            data: vec![request(code)],
        });
        m.events.push(SimEvent {
            time: answered,
            log: Log::Application,
            event_id: 12289,
            data: vec![format!(
                "{}, 0x{flags:08X}, {}, 0, {count}, {}, {}, {}",
                hex(code),
                u8::from(activated),
                s.activation_interval,
                s.renewal_interval,
                client_time(answered, offset)
            )],
        });
    }
    c.attempts.push(Attempt {
        time: t,
        outcome: Outcome::Answered { host, code },
    });
    if activated {
        c.activated_at = Some(t);
        machines[c.m].license = License {
            status: 1,
            ends: Some(t + Duration::days(VALIDITY_DAYS)),
        };
        Some(renew)
    } else {
        Some(retry)
    }
}

/// A request that got no answer: the client logs 12288 with the failure, no 12289.
fn unanswered(
    m: &mut SimMachine,
    c: &mut Client,
    clock: DateTime<Utc>,
    t: DateTime<Utc>,
    info: String,
    outcome: Outcome,
) {
    m.events.push(SimEvent {
        time: clock,
        log: Log::Application,
        event_id: 12288,
        data: vec![info],
    });
    c.attempts.push(Attempt { time: t, outcome });
}

/// A host's own Application-log activation events: DNS publishing at start and every 24 hours.
fn host_periodic(
    s: &Scenario,
    machines: &mut [SimMachine],
    hosts: &[HostState],
    now: DateTime<Utc>,
) {
    for h in hosts {
        let m = &mut machines[h.idx];
        let dns = m.dns_publishing.clone().unwrap_or_default();
        if dns == "off" {
            continue;
        }
        let mut t = s.start + Duration::minutes(3);
        while t < now {
            let ev = if dns == "published" {
                SimEvent {
                    time: t,
                    log: Log::Application,
                    event_id: 12294,
                    data: vec![s.domain.clone()],
                }
            } else {
                SimEvent {
                    time: t,
                    log: Log::Application,
                    event_id: 12293,
                    data: vec![dns.clone(), s.domain.clone()],
                }
            };
            m.events.push(ev);
            t += Duration::days(1);
        }
    }
}

fn genuine_events(m: &mut SimMachine, c: &mut Client, faults: &[Fault], now: DateTime<Utc>) {
    for f in faults.iter().filter(|f| {
        matches!(f.kind, FaultKind::Tampered | FaultKind::BlockedKey) && f.applies(&m.short)
    }) {
        let code = if f.kind == FaultKind::Tampered {
            codes::TAMPERED
        } else {
            codes::BLOCKED_KEY
        };
        let mut t = f.from.max(m.boot) + Duration::minutes(5);
        let skew = Duration::minutes(m.skew_minutes);
        while t < f.until.min(now) {
            m.events.push(SimEvent {
                time: t + skew,
                log: Log::Application,
                event_id: 8209,
                data: vec![hex(code), WINDOWS_APP_ID.to_owned()],
            });
            t += Duration::days(1);
        }
        if f.until < now {
            m.events.push(SimEvent {
                time: f.until + skew,
                log: Log::Application,
                event_id: 12305,
                data: vec![WINDOWS_APP_ID.to_owned()],
            });
        } else {
            c.genuine_bad = Some(code);
        }
    }
}

/// Hosts whose KMS log keeps fewer records than were written lose the oldest.
fn roll_off(s: &Scenario, machines: &mut [SimMachine]) {
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

/// What a correct analysis concludes, from the truth and what the collected logs can show.
fn expectations(
    machines: &mut [SimMachine],
    clients: &[Client],
    hosts: &[HostState],
    now: DateTime<Utc>,
) {
    let any_host_logs = hosts.iter().any(|h| machines[h.idx].collected);
    // Which names each CMID is seen under, in the collected logs.
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
    let covered = |machines: &[SimMachine], host: Option<usize>, t: DateTime<Utc>| {
        host.is_some_and(|h| {
            let hm = &machines[hosts[h].idx];
            hm.collected && hm.log_starts.is_some_and(|s| s <= t)
        })
    };
    let mut host_rejected_count: BTreeSet<usize> = BTreeSet::new();
    for c in clients {
        let mut exp: BTreeSet<&'static str> = BTreeSet::new();
        let last_ok = c.attempts.iter().rposition(|a| {
            matches!(
                a.outcome,
                Outcome::Answered {
                    code: codes::OK,
                    ..
                }
            )
        });
        let streak = &c.attempts[last_ok.map_or(0, |i| i + 1)..];
        for a in streak {
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
            match a.outcome {
                Outcome::Dropped { host } => {
                    exp.insert("kms-unreachable");
                    if covered(machines, host, a.time) {
                        exp.insert("kms-request-not-received");
                    }
                }
                Outcome::Lost { host, .. } => {
                    if covered(machines, Some(host), a.time) {
                        exp.insert("kms-response-lost");
                    } else {
                        exp.insert("kms-unreachable");
                    }
                }
                Outcome::Local { code } => {
                    exp.insert(match code {
                        codes::BIOS_BAD_FORMAT => "bios-slic-invalid",
                        codes::DNS_NAME_NOT_FOUND => "kms-dns-srv-missing",
                        _ if machines[c.m].role == Role::Mak => "mak-activation-failed",
                        _ => "activation-error",
                    });
                }
                Outcome::Answered { .. } => {}
            }
        }
        // A client still stuck on a host's count makes it a host finding too.
        for a in streak {
            if let Outcome::Answered {
                host: Some(h),
                code: codes::NOT_ENOUGH_COUNT,
            }
            | Outcome::Lost {
                host: h,
                code: codes::NOT_ENOUGH_COUNT,
            } = a.outcome
            {
                host_rejected_count.insert(h);
            }
        }
        let m = &machines[c.m];
        if c.used_unsupplied && any_host_logs && m.role == Role::KmsClient {
            exp.insert("kms-host-unknown");
        }
        if names.get(&m.cmid).is_some_and(|n| n.len() > 1) {
            exp.insert("duplicate-cmid");
        }
        match c.genuine_bad {
            Some(codes::TAMPERED) => {
                exp.insert("non-genuine-tampered");
            }
            Some(_) => {
                exp.insert("non-genuine-invalid-key");
            }
            None => {}
        }
        match m.license.status {
            1 if m
                .license
                .ends
                .is_some_and(|e| e - now <= Duration::days(30)) =>
            {
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
        machines[c.m].expected = exp;
    }
    for (hi, h) in hosts.iter().enumerate() {
        let m = &mut machines[h.idx];
        let dns = m.dns_publishing.clone().unwrap_or_default();
        if dns != "published" && dns != "off" {
            m.expected.insert("kms-dns-publish-failed");
        }
        if host_rejected_count.contains(&hi) {
            m.expected.insert("kms-count-insufficient");
        }
    }
}
