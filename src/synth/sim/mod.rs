//! The fleet simulation: every client's activation attempts in global time order, the hosts'
//! CMID counting, the injected faults, and the ground truth each machine ends in. Behaviour
//! follows research/domain-facts.md: retries every activation interval (120 min) until activated,
//! renewal every renewal interval (7 days), 180-day validity, 30-day grace, a host that counts the
//! distinct CMIDs it saw in 30 days (capped at 50) and answers 0xC004F038 below the client's
//! N-policy (25 client editions, 5 server editions), 0xC004F06C beyond 4 hours of clock skew.
//!
//! Indexing: every index here is a position the simulation itself pushed (machines, hosts,
//! clients), never a number read from input.
#![allow(clippy::indexing_slicing)]

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, VecDeque};

use chrono::{DateTime, Datelike, Duration, Timelike, Utc, Weekday};

use super::scenario::{Collected, FaultKind, Scenario, machine_name, matches, parse_code};

/// Windows' application id, written into 8198/8209/12305.
pub const WINDOWS_APP_ID: &str = "55c92734-d682-4d71-983e-d6ec3f16059f";
/// Activation id used for client editions (Windows Enterprise, KMS client channel).
const CLIENT_ACT_ID: &str = "73111121-5638-40f6-bc11-f1d7b0d64300";
/// Activation id used for server editions.
const SERVER_ACT_ID: &str = "de32eafd-aaee-4662-9444-c1befb41bde2";
/// Minutes of validity a KMS activation gives.
const VALIDITY_DAYS: i64 = 180;
/// Days of initial and out-of-tolerance grace.
const GRACE_DAYS: i64 = 30;
/// Days a host remembers a CMID for its count.
const COUNT_WINDOW_DAYS: i64 = 30;
/// The host keeps twice the largest threshold.
const COUNT_CAP: usize = 50;
/// Beyond this clock difference the host rejects the request (KB 974998: "more than 4 hours").
const MAX_SKEW_MINUTES: i64 = 240;

/// Result codes the simulation writes.
pub mod codes {
    pub const OK: u32 = 0;
    pub const NOT_ENOUGH_COUNT: u32 = 0xC004_F038;
    pub const TIMESTAMP_INVALID: u32 = 0xC004_F06C;
    pub const RPC_UNAVAILABLE: u32 = 0x8007_06BA;
    pub const TIMEOUT: u32 = 0x8007_05B4;
    pub const DNS_NAME_NOT_FOUND: u32 = 0x8007_232B;
    pub const BIOS_BAD_FORMAT: u32 = 0xC004_F059;
    pub const TAMPERED: u32 = 0x8004_C40B;
    pub const BLOCKED_KEY: u32 = 0x8004_C465;
}

/// `SplitMix64`: small, fast, and its output never changes with a dependency's version.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// A stream of its own for `name`, so adding a machine never changes the others.
    pub fn derive(seed: u64, name: &str) -> Self {
        let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        });
        Rng(seed ^ h.rotate_left(17))
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }
    pub fn guid(&mut self) -> String {
        let a = self.next_u64();
        let b = self.next_u64();
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xFFFF,
            a & 0x0FFF,
            ((b >> 48) & 0x3FFF) | 0x8000,
            b & 0xFFFF_FFFF_FFFF
        )
    }
}

/// Which log an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Log {
    Application,
    KeyManagementService,
}

/// One activation-provider event a machine logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimEvent {
    /// As the machine's own clock wrote it (skewed clocks included), UTC.
    pub time: DateTime<Utc>,
    pub log: Log,
    pub event_id: u16,
    pub data: Vec<String>,
}

/// What a machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    KmsHost,
    KmsClient,
    Mak,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::KmsHost => "kms-host",
            Role::KmsClient => "kms-client",
            Role::Mak => "mak",
        }
    }
}

/// The license state at the end, as slmgr would print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct License {
    /// 0 unlicensed, 1 licensed, 2 initial grace, 3 additional grace, 5 notification.
    pub status: u8,
    /// When the current state ends (`None`: permanent).
    pub ends: Option<DateTime<Utc>>,
}

/// A simulated machine and everything the simulation knows of it.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub struct SimMachine {
    pub short: String,
    pub fqdn: String,
    pub role: Role,
    /// Whether its logs are part of the collected set (written to the output).
    pub collected: bool,
    pub server_os: bool,
    pub vm: bool,
    pub cmid: String,
    pub activation_id: &'static str,
    pub utc_offset: i32,
    /// The host it is configured for (`name:port`), or `None` for DNS discovery.
    pub kms_configured: Option<String>,
    /// The host it last talked to (`name:port`).
    pub kms_used: Option<String>,
    /// Its clock's error in minutes (clock-skew fault).
    pub skew_minutes: i64,
    /// Activation events of its Application log (and, for a host, its KMS log), in time order.
    pub events: Vec<SimEvent>,
    /// First boot.
    pub boot: DateTime<Utc>,
    pub office_hours: bool,
    pub license: License,
    /// Host only: the count at the end, the first retained 12290's time, records rolled off.
    pub host_count: Option<usize>,
    pub log_starts: Option<DateTime<Utc>>,
    pub rolled_off: u64,
    pub dns_publishing: Option<String>,
    pub port: u16,
    /// The faults applied to it, for the ground truth.
    pub faults: Vec<String>,
    /// Finding ids a correct analysis raises for it.
    pub expected: BTreeSet<&'static str>,
}

impl SimMachine {
    pub fn n_policy(&self) -> usize {
        if self.server_os { 5 } else { 25 }
    }
}

/// The simulated fleet.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub start: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub seed: u64,
    pub machines: Vec<SimMachine>,
}

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

/// Applies the state changes time brings: validity runs out into grace, grace into notification.
fn settle(mut l: License, t: DateTime<Utc>) -> License {
    loop {
        match (l.status, l.ends) {
            (1, Some(e)) if t >= e => {
                l = License {
                    status: 3,
                    ends: Some(e + Duration::days(GRACE_DAYS)),
                };
            }
            (2 | 3, Some(e)) if t >= e => {
                l = License {
                    status: 5,
                    ends: None,
                };
            }
            _ => return l,
        }
    }
}

/// The next moment at or after `t` the machine is running.
fn on_time(t: DateTime<Utc>, m: &SimMachine) -> DateTime<Utc> {
    if !m.office_hours {
        return t;
    }
    let off = Duration::minutes(i64::from(m.utc_offset));
    let mut local = t + off;
    for _ in 0..8 {
        let workday = !matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
        if workday && (8..18).contains(&local.hour()) {
            return local - off;
        }
        let day_start = local
            .date_naive()
            .and_hms_opt(8, 0, 0)
            .map_or(local, |d| d.and_utc());
        local = if workday && local.hour() < 8 {
            day_start
        } else {
            day_start + Duration::days(1)
        };
        // A few minutes after the machine is switched on.
        let jitter = m
            .short
            .bytes()
            .fold(0u32, |a, b| a.wrapping_add(u32::from(b)))
            % 40;
        local += Duration::minutes(i64::from(jitter));
    }
    local - off
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
