//! The scenario file `kmsdiag synth` reads: KMS hosts, client groups, the time span and the
//! faults to inject (TOML, documented in docs/synth.md), checked before anything is simulated.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::hresult::Hresult;

/// A whole scenario.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Scenario {
    /// One line saying what the fleet shows.
    #[serde(default)]
    pub description: String,
    /// When the simulation starts (UTC).
    pub start: DateTime<Utc>,
    /// How many days it runs; the report's "now" is the end.
    pub days: u32,
    /// The seed used when `--seed` is not given.
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// The DNS domain machine names are made in.
    #[serde(default = "default_domain")]
    pub domain: String,
    /// Minutes between attempts while not activated (Windows' default: 120).
    #[serde(default = "default_activation_interval")]
    pub activation_interval: u32,
    /// Minutes between renewals once activated (Windows' default: 10080, seven days).
    #[serde(default = "default_renewal_interval")]
    pub renewal_interval: u32,
    /// Events of other providers written per machine per day of uptime.
    #[serde(default = "default_noise")]
    pub noise_per_day: u32,
    /// Also write each machine's events as event XML.
    #[serde(default)]
    pub xml: bool,
    /// Write an `slmgr /dlv` snapshot per machine whose logs are collected.
    #[serde(default = "yes")]
    pub slmgr: bool,
    /// Also write the licensing inventory (`inventory/*.csv`, see `synth::inventory`).
    #[serde(default)]
    pub inventory: bool,
    #[serde(default, rename = "host")]
    pub hosts: Vec<HostSpec>,
    #[serde(default, rename = "clients")]
    pub groups: Vec<GroupSpec>,
    #[serde(default, rename = "fault")]
    pub faults: Vec<FaultSpec>,
}

fn default_seed() -> u64 {
    1
}
fn default_domain() -> String {
    "contoso.com".to_owned()
}
fn default_activation_interval() -> u32 {
    120
}
fn default_renewal_interval() -> u32 {
    10080
}
fn default_noise() -> u32 {
    20
}
fn yes() -> bool {
    true
}
fn default_port() -> u16 {
    1688
}

/// A KMS host.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HostSpec {
    /// Short name; the FQDN is `name.domain`.
    pub name: String,
    #[serde(default = "default_port")]
    pub port: u16,
    /// `published` (default), `off` (publishing disabled), or a failure code such as
    /// `0x8007267C` (12293 logged every day).
    #[serde(default = "default_dns")]
    pub dns: String,
    /// How many records its Key Management Service log keeps (0: all); older ones roll off.
    #[serde(default)]
    pub log_capacity: u32,
    /// Whether the host's logs are part of the collected set.
    #[serde(default = "yes")]
    pub logs: bool,
}

fn default_dns() -> String {
    "published".to_owned()
}

/// How many of a group's machines have their logs collected.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
pub(crate) enum Collected {
    All(bool),
    First(u32),
}

impl Default for Collected {
    fn default() -> Self {
        Collected::All(true)
    }
}

/// A group of KMS (or MAK) clients made alike.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupSpec {
    /// Name pattern: `{n}` is the 1-based index, `{n:03}` zero-padded to 3 digits.
    pub name: String,
    pub count: u32,
    /// `client` (N-policy 25) or `server` (N-policy 5).
    #[serde(default = "default_os")]
    pub os: String,
    #[serde(default)]
    pub vm: bool,
    /// A host of `[[host]]` by name, `dns` (auto-discovery through `_vlmcs._tcp`), or any other
    /// `name:port` (a host whose logs are not supplied).
    #[serde(default = "default_kms")]
    pub kms: String,
    /// `kms` (`VOLUME_KMSCLIENT`) or `mak` (`VOLUME_MAK`).
    #[serde(default = "default_channel")]
    pub channel: String,
    /// `true`, `false`, or how many of the group (the first N) have their logs collected.
    #[serde(default)]
    pub logs: Collected,
    /// `office` (weekdays 08:00–18:00 local) or `always`.
    #[serde(default = "default_hours")]
    pub hours: String,
    /// Day of the span on which the machines first boot.
    #[serde(default)]
    pub join_day: u32,
    /// Days before the start at which they were last activated (0: never activated, in grace).
    #[serde(default)]
    pub activated_days_ago: u32,
    /// The machines' time zone, minutes east of UTC (the client-time fields are local).
    #[serde(default)]
    pub utc_offset: i32,
}

fn default_os() -> String {
    "client".to_owned()
}
fn default_kms() -> String {
    "dns".to_owned()
}
fn default_channel() -> String {
    "kms".to_owned()
}
fn default_hours() -> String {
    "always".to_owned()
}

/// A fault injected into some machines for some days.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FaultSpec {
    pub kind: FaultKind,
    /// Machine names (short) or patterns with `*`, e.g. `ws0*`.
    #[serde(default)]
    pub machines: Vec<String>,
    #[serde(default)]
    pub from_day: u32,
    /// Last day (exclusive); default: to the end.
    pub until_day: Option<u32>,
    /// A result code (`mak-failure`).
    pub code: Option<String>,
    /// Clock offset in minutes (`clock-skew`).
    pub minutes: Option<i64>,
    /// The host clients are sent to (`rogue-host`), `name:port`.
    pub host: Option<String>,
}

/// What can go wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum FaultKind {
    /// The machines share the first one's CMID (imaged without sysprep /generalize).
    ClonedCmid,
    /// Their requests are dropped before reaching the host.
    Firewall,
    /// The host answers, the answer never arrives.
    ResponseLost,
    /// Off the corporate network: nothing reaches any host.
    Offline,
    /// `_vlmcs._tcp` cannot be found for them.
    DnsSrvMissing,
    /// Their clock runs `minutes` off.
    ClockSkew,
    /// They activate against `host`, a KMS host nobody supplied logs of.
    RogueHost,
    /// The BIOS licensing marker is invalid (0xC004F059).
    BiosSlic,
    /// Licensing files tampered with (8209, 0x8004C40B).
    Tampered,
    /// The installed key is invalid or blocked (8209, 0x8004C465).
    BlockedKey,
    /// MAK online activation fails with `code`.
    MakFailure,
}

/// A scenario that cannot be simulated, and why.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ScenarioError {
    #[error("{path}: {message}")]
    Parse { path: String, message: String },
    #[error("{path}: {message}")]
    Invalid { path: String, message: String },
}

/// Most machines one scenario (after `--scale`) may make.
pub(crate) const MAX_MACHINES: u64 = 200_000;

impl Scenario {
    /// Reads and checks a scenario file's text.
    pub(crate) fn parse(path: &str, text: &str) -> Result<Scenario, ScenarioError> {
        let s: Scenario = toml::from_str(text).map_err(|e| ScenarioError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        s.check(path)?;
        Ok(s)
    }

    fn check(&self, path: &str) -> Result<(), ScenarioError> {
        let bad = |message: String| ScenarioError::Invalid {
            path: path.to_owned(),
            message,
        };
        if self.days == 0 || self.days > 3650 {
            return Err(bad(format!("days = {}: use 1 to 3650", self.days)));
        }
        if self.activation_interval == 0 || self.renewal_interval == 0 {
            return Err(bad("intervals must be at least one minute".to_owned()));
        }
        for h in &self.hosts {
            if h.dns != "published" && h.dns != "off" && parse_code(&h.dns).is_none() {
                return Err(bad(format!(
                    "host {}: dns = \"{}\": use published, off, or a code like 0x8007267C",
                    h.name, h.dns
                )));
            }
        }
        let mut total = 0u64;
        for g in &self.groups {
            if !g.name.contains("{n") {
                return Err(bad(format!(
                    "clients \"{}\": the name needs {{n}} (or {{n:03}}) for the index",
                    g.name
                )));
            }
            if !matches!(g.os.as_str(), "client" | "server") {
                return Err(bad(format!(
                    "clients {}: os = \"{}\": use client or server",
                    g.name, g.os
                )));
            }
            if !matches!(g.channel.as_str(), "kms" | "mak") {
                return Err(bad(format!(
                    "clients {}: channel = \"{}\": use kms or mak",
                    g.name, g.channel
                )));
            }
            if !matches!(g.hours.as_str(), "office" | "always") {
                return Err(bad(format!(
                    "clients {}: hours = \"{}\": use office or always",
                    g.name, g.hours
                )));
            }
            if g.kms != "dns" && !g.kms.contains(':') && !self.hosts.iter().any(|h| h.name == g.kms)
            {
                return Err(bad(format!(
                    "clients {}: kms = \"{}\" is neither a [[host]], dns, nor name:port",
                    g.name, g.kms
                )));
            }
            if g.utc_offset.abs() > 14 * 60 {
                return Err(bad(format!(
                    "clients {}: utc_offset beyond ±14 hours",
                    g.name
                )));
            }
            total += u64::from(g.count);
        }
        if total > MAX_MACHINES {
            return Err(bad(format!("{total} machines: at most {MAX_MACHINES}")));
        }
        for f in &self.faults {
            let need = |what: bool, field: &str| {
                if what {
                    Ok(())
                } else {
                    Err(bad(format!("fault {:?} needs `{field}`", f.kind)))
                }
            };
            match f.kind {
                FaultKind::MakFailure => need(
                    f.code.as_deref().and_then(parse_code).is_some(),
                    "code = \"0x…\"",
                )?,
                FaultKind::ClockSkew => need(
                    f.minutes.is_some_and(|m| m.abs() <= 60 * 24 * 365),
                    "minutes",
                )?,
                FaultKind::RogueHost => need(
                    f.host.as_deref().is_some_and(|h| h.contains(':')),
                    "host = \"name:port\"",
                )?,
                _ => {}
            }
            if f.machines.is_empty() {
                return Err(bad(format!("fault {:?} names no machines", f.kind)));
            }
        }
        Ok(())
    }
}

/// A result code written `0x…` (or any spelling the code reader takes).
pub(crate) fn parse_code(s: &str) -> Option<Hresult> {
    crate::hresult::read_raw(s).ok().flatten().map(Hresult)
}

/// Expands a name pattern for index `n` (1-based).
pub(crate) fn machine_name(pattern: &str, n: u32) -> String {
    let Some(open) = pattern.find("{n") else {
        return pattern.to_owned();
    };
    let Some(close) = pattern
        .get(open..)
        .and_then(|r| r.find('}'))
        .map(|c| open + c)
    else {
        return pattern.to_owned();
    };
    let spec = pattern.get(open + 2..close).unwrap_or("");
    let width: usize = spec
        .strip_prefix(":0")
        .or_else(|| spec.strip_prefix(':'))
        .and_then(|w| w.parse().ok())
        .unwrap_or(0)
        .min(12);
    format!(
        "{}{n:0width$}{}",
        pattern.get(..open).unwrap_or(""),
        pattern.get(close + 1..).unwrap_or("")
    )
}

/// Whether a machine's short name matches a fault's name or `*` pattern.
pub(crate) fn matches(pattern: &str, name: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern.eq_ignore_ascii_case(name),
        Some((pre, post)) => {
            let (n, pre, post) = (
                name.to_ascii_lowercase(),
                pre.to_ascii_lowercase(),
                post.to_ascii_lowercase(),
            );
            n.len() >= pre.len() + post.len() && n.starts_with(&pre) && n.ends_with(&post)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_from_patterns() {
        assert_eq!(machine_name("ws{n:03}", 7), "ws007");
        assert_eq!(machine_name("lap-{n}", 12), "lap-12");
        assert!(matches("ws0*", "WS007"));
        assert!(!matches("ws1*", "ws007"));
        assert!(matches("ws007", "ws007"));
    }

    #[test]
    fn problems_are_named() {
        let e = Scenario::parse(
            "x.toml",
            "start = \"2026-01-01T00:00:00Z\"\ndays = 5\n[[clients]]\nname = \"ws\"\ncount = 2\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("{n}"), "{e}");
        let e = Scenario::parse("x.toml", "start = 3").unwrap_err();
        assert!(e.to_string().starts_with("x.toml:"), "{e}");
    }
}
