//! What the simulation hands to the writer: the fleet, its machines (role, identity, clock,
//! license state at the end, ground truth) and the activation events each one logged. Plain
//! data: how the events came about is the other files' business, how they reach disk is
//! `synth::output`'s.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};

/// Which log an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Log {
    Application,
    KeyManagementService,
}

/// One activation-provider event a machine logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SimEvent {
    /// As the machine's own clock wrote it (skewed clocks included), UTC.
    pub time: DateTime<Utc>,
    pub log: Log,
    pub event_id: u16,
    pub data: Vec<String>,
}

/// What a machine is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Role {
    KmsHost,
    KmsClient,
    Mak,
}

impl Role {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Role::KmsHost => "kms-host",
            Role::KmsClient => "kms-client",
            Role::Mak => "mak",
        }
    }
}

/// The license state at the end, as slmgr would print it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct License {
    /// 0 unlicensed, 1 licensed, 2 initial grace, 3 additional grace, 5 notification.
    pub status: u8,
    /// When the current state ends (`None`: permanent).
    pub ends: Option<DateTime<Utc>>,
}

/// A simulated machine and everything the simulation knows of it.
#[allow(clippy::struct_excessive_bools)]
#[derive(Debug, Clone)]
pub(crate) struct SimMachine {
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
    pub(crate) fn n_policy(&self) -> usize {
        if self.server_os { 5 } else { 25 }
    }
}

/// The simulated fleet.
#[derive(Debug, Clone)]
pub(crate) struct Fleet {
    pub start: DateTime<Utc>,
    pub now: DateTime<Utc>,
    pub seed: u64,
    pub machines: Vec<SimMachine>,
}
