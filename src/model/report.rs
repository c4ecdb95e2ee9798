//! The report: machines with verdicts, KMS hosts, findings with evidence, and what was read.
//! Plain data, produced by the diagnosis and rendered by `report`; its JSON form is the
//! `kmsdiag.report/1` contract (docs/report-schema.md).

use std::cmp::Ordering;

use serde::{Serialize, Serializer};

use crate::hresult::Hresult;
use crate::model::license::LicenseState;
use crate::model::names::natural_cmp;
use crate::model::snapshot::{KmsRequests, NotUnderstood};
use crate::model::vocab::{
    AttemptOutcome, Health, HostSeen, InputFormat, InputStatus, MachineRole, NameSource, NowSource,
};
use crate::rules::Severity;

/// The schema name written into every JSON report.
pub const SCHEMA: &str = "kmsdiag.report/1";

/// One whole analysis.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub schema: &'static str,
    /// The time the report is relative to (`--now`, else the newest time in the input, else the
    /// clock), as `YYYY-MM-DDTHH:MM:SS`.
    pub now: String,
    /// `flag`, `input` or `clock`.
    pub now_source: NowSource,
    /// What needs doing: machines by verdict and the causes behind the failing and warning
    /// ones, over the whole report even when a filter is on.
    pub triage: crate::model::triage::Triage,
    pub inputs: Vec<InputSummary>,
    pub machines: Vec<Machine>,
    pub hosts: Vec<Host>,
    pub findings: Vec<Finding>,
    /// The clients' activation attempts in the event logs, by outcome (absent without events).
    #[serde(skip_serializing_if = "AttemptSummary::is_empty")]
    pub attempts: AttemptSummary,
    /// Every `server:port` the clients' requests named, with how many clients and whether the
    /// host's own logs were supplied.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kms_inventory: Vec<KmsUse>,
}

/// Activation attempts (12288) by what became of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttemptSummary {
    pub total: u64,
    /// Answered and activated (or renewed).
    pub activated: u64,
    /// Answered with a failure code.
    pub rejected: u64,
    /// No 12289 followed.
    pub no_response: u64,
    /// Of all attempts: the host's log has the request.
    pub host_received: u64,
    /// The host's log covers the time and has no record.
    pub host_not_received: u64,
    /// Sent to a host whose logs were not supplied.
    pub other_host: u64,
    /// The host's log does not cover the time.
    pub host_not_covered: u64,
    /// Rejections by result code (`0x…` → count).
    pub rejected_by_code: std::collections::BTreeMap<String, u64>,
}

impl AttemptSummary {
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }
}

/// One KMS host as the clients name it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KmsUse {
    pub server: String,
    pub clients: u64,
    /// The host's own logs are among the inputs.
    pub logs_supplied: bool,
}

/// The host count on one day, replayed from the host's 12290 records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CountPoint {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub count: u64,
    /// The log holds less than 30 days before this day: the host may count more machines.
    pub partial: bool,
}

/// What became of one input file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct InputSummary {
    pub path: String,
    /// `slmgr`; for event logs `evtx`, `xml`, `json`, `csv`, `tsv`, `eventviewer-text`,
    /// `format-list` or `key-value-text` (`event-log` when reading it failed); `unknown` when the
    /// content was not recognised.
    pub format: InputFormat,
    /// `read`, `partial` (read, with lines not understood), `skipped` (found in a directory,
    /// not a format kmsdiag reads) or `unreadable`.
    pub status: InputStatus,
    pub encoding: Option<String>,
    pub languages: Vec<String>,
    pub machines: Vec<String>,
    pub lines: u32,
    pub not_understood: Vec<NotUnderstood>,
    pub warnings: Vec<String>,
    pub error: Option<String>,
    /// For an `.evtx` log: the chunks the fast reader handed to the `evtx` crate, by reason (the
    /// answer is the same; the crate is slower). Absent when it read every chunk itself.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub evtx_chunks_declined: std::collections::BTreeMap<String, u64>,
    /// Decoration removed from a posted text before a reader could read it (quote marks,
    /// Markdown, bullets, a time stamp on every line…). Absent when there was none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub decoration_removed: Vec<crate::model::vocab::Decoration>,
}

/// A machine's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Ok,
    Unknown,
    Warning,
    Failing,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Ok => "ok",
            Verdict::Unknown => "unknown",
            Verdict::Warning => "warning",
            Verdict::Failing => "failing",
        }
    }
}

/// One machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Machine {
    pub name: String,
    /// `text` when the input names the machine, `folder` or `file-name` when it was taken from
    /// the path, `flag` when given with `--machine-name`.
    pub name_source: NameSource,
    /// The time the machine is judged at: `--now`, else its own newest evidence.
    pub as_of: Option<String>,
    /// `kms-client`, `kms-host`, `mak`, `retail`, `oem`, `evaluation`, `avma`, `unknown`.
    pub role: MachineRole,
    /// Of the Windows product: `licensed`, `initial-grace`, … (see DESIGN.md).
    pub license_status: LicenseState,
    /// Of the Windows product: the channel token as Windows names it.
    pub channel: Option<String>,
    pub verdict: Verdict,
    /// One sentence saying why.
    pub reason: String,
    pub products: Vec<Product>,
    /// The KMS host this machine activates against, when it is a KMS client.
    pub kms_host: Option<String>,
    pub cmid: Option<String>,
    /// Ids of the findings about this machine.
    pub findings: Vec<String>,
    /// Its activation attempts in its event log, oldest first: the newest
    /// [`MAX_ATTEMPTS_PER_MACHINE`] (absent without a log).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attempts: Vec<AttemptRecord>,
    /// Older attempts left out of `attempts`.
    #[serde(skip_serializing_if = "is_zero")]
    pub attempts_omitted: u64,
}

/// How many attempts a machine's entry keeps: a machine retrying every two hours for a month
/// makes about 360.
pub(crate) const MAX_ATTEMPTS_PER_MACHINE: usize = 500;

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `skip_serializing_if` passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// One activation request (12288) of a KMS client and what became of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttemptRecord {
    /// When the client sent it (RFC 3339, UTC).
    pub time: Option<String>,
    /// `activated`, `rejected` (answered with a failure) or `no-response` (no 12289 followed).
    pub outcome: AttemptOutcome,
    /// The result code of the answer, else of the request.
    pub code: Option<Hresult>,
    /// `server:port` the request went to.
    pub kms_host: Option<String>,
    /// How the host's log saw it: `received`, `not-received` (the log covers the time and has no
    /// record), `not-covered`, `other-host` (a host whose log was not supplied) or `unknown`.
    pub host_seen: HostSeen,
}

/// One licensed product of a machine.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[allow(clippy::struct_field_names)] // `product_key_channel` is the report contract's name
pub struct Product {
    pub name: Option<String>,
    pub description: Option<String>,
    pub channel: Option<String>,
    pub product_key_channel: Option<String>,
    pub license_status: LicenseState,
    /// The status text as printed, when it was not understood.
    pub license_status_text: Option<String>,
    pub partial_key: Option<String>,
    /// `office` for an Office licence read from ospp output (absent when the reader cannot tell).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<crate::model::snapshot::ProductFamily>,
    pub in_use: bool,
    pub notification_reason: Option<Hresult>,
    pub remaining_minutes: Option<u64>,
    /// When the activation (KMS validity, time-based or VM activation) ends.
    pub activation_ends: Option<String>,
    /// When the grace period ends.
    pub grace_ends: Option<String>,
    pub evaluation_ends: Option<String>,
    /// When the snapshot was taken (the licensing service's trusted time).
    pub observed_at: Option<String>,
}

/// A KMS host and how it stands.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Host {
    pub name: String,
    pub current_count: Option<u64>,
    pub client_threshold: u32,
    pub server_threshold: u32,
    /// How many more distinct machines the host must see before client editions activate.
    pub needed_for_client: Option<u64>,
    /// The same for server editions and volume Office.
    pub needed_for_server: Option<u64>,
    pub listening_port: Option<u16>,
    pub dns_publishing: Option<bool>,
    pub requests: KmsRequests,
    /// `ok`, `warning` or `failing`.
    pub health: Health,
    pub summary: String,
    /// From the host's Key Management Service log: the count per day (absent without it).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub count_timeline: Vec<CountPoint>,
    /// The first and newest time its logs cover.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_to: Option<String>,
    /// Distinct client names in its log.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub clients_seen: Option<u64>,
    /// The day the count falls below 25 (client editions) and 5 (servers) if no new machine
    /// asks; absent when already below or unknown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below_client_threshold_on: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub below_server_threshold_on: Option<String>,
}

/// Where a finding's proof is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Evidence {
    pub path: String,
    pub line: Option<u32>,
    pub record_id: Option<u64>,
    pub time: Option<String>,
    pub excerpt: String,
}

/// One finding: a stable id, how bad it is, who it concerns, why, what to do, and the proof.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub id: String,
    #[serde(serialize_with = "finding_severity")]
    pub severity: Severity,
    pub machines: Vec<String>,
    pub codes: Vec<Hresult>,
    pub title: String,
    pub explanation: String,
    pub next_steps: Vec<String>,
    pub evidence: Vec<Evidence>,
}

/// Findings say `info` where codes say `informational` (DESIGN.md's report contract).
#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
fn finding_severity<S: Serializer>(s: &Severity, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(severity_name(*s))
}

/// A finding's severity as every report writes it: `error`, `warning`, `info`.
pub(crate) fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
        Severity::Informational => "info",
    }
}

/// Orders findings for every report: most severe first, then by id, machines (in natural order)
/// and codes.
pub(crate) fn sort_findings(findings: &mut [Finding]) {
    findings.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| names_cmp(&a.machines, &b.machines))
            .then_with(|| a.codes.cmp(&b.codes))
    });
}

/// Two lists of names, element by element in natural order.
pub(crate) fn names_cmp(a: &[String], b: &[String]) -> Ordering {
    a.iter()
        .zip(b)
        .map(|(x, y)| natural_cmp(x, y))
        .find(|o| o.is_ne())
        .unwrap_or_else(|| a.len().cmp(&b.len()))
}

/// The order every report lists machines in: what needs doing first (failing, then warning,
/// then unknown, then ok), each group by name in natural order (`br2` before `br10`).
pub(crate) fn machine_order(a: &Machine, b: &Machine) -> Ordering {
    b.verdict
        .cmp(&a.verdict)
        .then_with(|| natural_cmp(&a.name, &b.name))
}
