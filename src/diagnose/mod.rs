//! The diagnosis: what the snapshots (`slmgr` output) and the correlated events say of each
//! machine and KMS host, joined into one verdict per machine, one summary per host and one list
//! of findings. Every finding is raised through one builder (`findings`), named once in the
//! registry (`registry`, which also says where each is decided), and weighs on verdicts through
//! one table (`verdict`).
//!
//! It knows snapshots, events, the correlation and the rules; not file formats or report layouts.

mod as_of;
mod events;
mod findings;
mod inventory_join;
pub(crate) mod lookup;
mod registry;
mod silent;
mod snapshot;
mod triage;
mod verdict;

use chrono::NaiveDateTime;

use crate::correlate::{Correlation, same_machine};
use crate::events::ActivationEvent;
use crate::model::{
    Evidence, Finding, Host, InputStatus, InputSummary, LicenseState, Machine, MachineRole, Verdict,
};
use crate::rules::Rules;
use crate::zone::Zone;

pub(crate) use as_of::MachineTimes;
pub(crate) use events::{attempt_records, summarize};
pub(crate) use registry::FindingId;
pub(crate) use snapshot::{DEFAULT_EXPIRY_WINDOW_DAYS, MachineInput, stamp};
pub use snapshot::{diagnose_snapshots, group_machines};
pub(crate) use triage::triage;

use findings::{FindingSet, Raise};

/// What the diagnosis produces.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    pub machines: Vec<Machine>,
    pub hosts: Vec<Host>,
    pub findings: Vec<Finding>,
}

/// What the diagnosis is asked about, and as of when.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scope<'a> {
    /// The snapshots, grouped by machine.
    pub machines: &'a [MachineInput],
    /// The events, sorted, and their correlation.
    pub events: &'a [ActivationEvent],
    pub correlation: &'a Correlation,
    /// What became of every input (an unreadable one is a finding).
    pub inputs: &'a [InputSummary],
    pub now: NaiveDateTime,
    /// Without `--now`: each machine's own newest evidence, the time it is judged at.
    pub times: Option<&'a MachineTimes>,
    /// Days before an end at which to warn.
    pub window_days: i64,
    /// The zone explanations give times in.
    pub zone: Zone,
}

/// Diagnoses everything read: each machine from its snapshots and its events, each KMS host from
/// its `slmgr /dlv` and its log, and the fleet from the correlation.
pub(crate) fn diagnose(rules: &Rules, scope: &Scope<'_>) -> Diagnosis {
    let from_snapshots = diagnose_snapshots(rules, scope.machines, scope.now, scope.window_days);
    let from_events = events::diagnose(
        rules,
        (scope.events, scope.correlation),
        scope.now.and_utc(),
        scope.times,
        scope.window_days,
        scope.zone,
    );
    let mut findings = FindingSet::new(rules);
    let mut d = join(&mut findings, from_snapshots, from_events);
    silent::silent_clients(&mut findings, &d.machines, scope, rules.kms());
    inventory_join::inventory_join(&mut findings, &d.machines, scope, rules.kms());
    inventory_join::inventory_clones(&mut findings, scope);
    settle(&mut d.machines, &findings);
    for i in scope
        .inputs
        .iter()
        .filter(|i| i.status == InputStatus::Unreadable)
    {
        let why = i
            .error
            .clone()
            .unwrap_or_else(|| "could not be read".to_owned());
        let excerpt = crate::report::sanitize(&why, true).into_owned();
        findings.raise(Raise {
            id: FindingId::InputUnreadable,
            machines: Vec::new(),
            codes: Vec::new(),
            detail: format!("{why}."),
            evidence: vec![Evidence {
                path: i.path.clone(),
                line: None,
                record_id: None,
                time: None,
                excerpt,
            }],
            severity: None,
        });
    }
    d.findings = findings.into_sorted();
    d
}

/// Joins the diagnosis from snapshots with the one from events: one machine per name, one
/// finding per id and machines. Where a host's own KMS log was read, its count is judged from
/// the requests it refused, not from the bare number slmgr printed.
fn join(findings: &mut FindingSet<'_>, d: Diagnosis, f: Diagnosis) -> Diagnosis {
    let Diagnosis {
        mut machines,
        mut hosts,
        findings: from_snapshots,
    } = d;
    let event_hosts: Vec<String> = f.hosts.iter().map(|h| h.name.clone()).collect();
    let mut recounted: Vec<String> = Vec::new();
    for x in from_snapshots {
        let replayed = x.id == FindingId::KmsCountInsufficient.as_str()
            && x.machines.len() == 1
            && event_hosts
                .iter()
                .any(|h| x.machines.iter().any(|m| same_machine(m, h)));
        if replayed {
            recounted.extend(x.machines.iter().cloned());
        } else {
            findings.add(x);
        }
    }
    for m in f.machines {
        match machines.iter_mut().find(|x| same_machine(&x.name, &m.name)) {
            Some(x) => join_machine(x, m, &recounted),
            None => machines.push(m),
        }
    }
    for h in f.hosts {
        match hosts.iter_mut().find(|x| same_machine(&x.name, &h.name)) {
            Some(x) => {
                x.dns_publishing = x.dns_publishing.or(h.dns_publishing);
                x.summary = format!("{}; from its log: {}", x.summary, h.summary);
                x.count_timeline = h.count_timeline;
                x.log_from = h.log_from;
                x.log_to = h.log_to;
                x.clients_seen = h.clients_seen;
                x.below_client_threshold_on = h.below_client_threshold_on;
                x.below_server_threshold_on = h.below_server_threshold_on;
            }
            None => hosts.push(h),
        }
    }
    for nf in f.findings {
        findings.add(nf);
    }
    settle(&mut machines, findings);
    for h in &mut hosts {
        if !event_hosts.iter().any(|e| same_machine(e, &h.name)) {
            continue;
        }
        if let Some(m) = machines.iter().find(|m| same_machine(&m.name, &h.name)) {
            h.health = verdict::health(m.verdict);
        }
    }
    machines.sort_by(crate::model::machine_order);
    hosts.sort_by(|a, b| crate::model::names::natural_cmp(&a.name, &b.name));
    Diagnosis {
        machines,
        hosts,
        findings: Vec::new(),
    }
}

/// A machine seen both in snapshots (`x`) and in events (`m`).
fn join_machine(x: &mut Machine, m: Machine, recounted: &[String]) {
    if recounted.iter().any(|t| same_machine(t, &x.name)) {
        x.verdict = Verdict::Ok;
    }
    // A host's own log says more about it than its license block.
    let host_view = m.role == MachineRole::KmsHost && m.verdict >= x.verdict;
    if host_view
        || m.verdict > x.verdict
        || (m.verdict == x.verdict && !m.findings.is_empty() && x.findings.is_empty())
    {
        x.reason = m.reason;
    }
    x.verdict = x.verdict.max(m.verdict);
    if x.role == MachineRole::Unknown {
        x.role = m.role;
    }
    if x.license_status == LicenseState::Unknown {
        x.license_status = m.license_status;
    }
    x.kms_host = x.kms_host.take().or(m.kms_host);
    x.cmid = x.cmid.take().or(m.cmid);
    x.as_of = x.as_of.take().max(m.as_of);
    x.name_source = crate::model::names::better_source(x.name_source, m.name_source);
}

/// Every machine: the ids of its findings, and a verdict at least as bad as the worst of them.
/// A fleet's harm is not a machine's state: machines that share a CMID are judged by their own
/// state, and the KMS host that counts them as one is warned.
fn settle(machines: &mut [Machine], findings: &FindingSet<'_>) {
    let fleet = FindingId::DuplicateCmid.as_str();
    for m in machines {
        let mut ids: Vec<String> = findings.about(&m.name).map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        m.findings = ids;
        let worst = findings
            .about(&m.name)
            .filter(|f| f.id != fleet)
            .map(|f| f.severity)
            .max();
        m.verdict = m.verdict.max(verdict::floor(worst));
        if m.role == MachineRole::KmsHost && m.findings.iter().any(|f| f == fleet) {
            m.verdict = m.verdict.max(Verdict::Warning);
        }
    }
}
