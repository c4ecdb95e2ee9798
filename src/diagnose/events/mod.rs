//! The diagnosis of a fleet from its correlated events: per client the failures since its last
//! successful activation, explained by what the host logs show (answered, never received, answer
//! lost, another host), its genuine state and expiry (`client`, `expiry`); per host DNS publishing,
//! renamed CMIDs and the count (`host`); cloned machines sharing a CMID (`cmid`). Findings carry
//! the events that prove them and are raised through the one finding builder. It knows events and
//! rules, not formats.

mod client;
mod cmid;
mod expiry;
mod host;

use chrono::{DateTime, Utc};

use crate::correlate::{ClientView, Correlation, HostSide, same_machine};
use crate::events::ActivationEvent;
use crate::hresult::Hresult;
use crate::model::{
    AttemptOutcome, AttemptRecord, AttemptSummary, Evidence, HostSeen, KmsUse,
    MAX_ATTEMPTS_PER_MACHINE, MachineRole,
};
use crate::rules::{Category, Rules, Severity};
use crate::zone::Zone;

use super::findings::{FindingSet, Raise};
use super::registry::FindingId;
use super::{Diagnosis, MachineTimes};

/// Events cited per raise (the first and the newest); the explanation gives the total.
const CITED: usize = 6;

/// A time for machines: RFC 3339 UTC (`2026-10-05T08:14:00Z`; the snapshot diagnosis's
/// `stamp` writes local times without a zone).
fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// The attempts by outcome, and the hosts the clients named.
pub(crate) fn summarize(corr: &Correlation) -> (AttemptSummary, Vec<KmsUse>) {
    let mut s = AttemptSummary::default();
    for c in &corr.clients {
        for a in &c.attempts {
            s.total += 1;
            if a.activated {
                s.activated += 1;
            } else if a.response.is_some() {
                s.rejected += 1;
                if let Some(r) = a.result {
                    *s.rejected_by_code.entry(r.to_string()).or_default() += 1;
                }
            } else {
                s.no_response += 1;
            }
            match a.host_side {
                HostSide::Received { .. } => s.host_received += 1,
                HostSide::NotReceived { .. } => s.host_not_received += 1,
                HostSide::NotCovered { .. } => s.host_not_covered += 1,
                HostSide::OtherHost => s.other_host += 1,
                HostSide::Unknown => {}
            }
        }
    }
    let inventory = corr
        .kms_hosts_used
        .iter()
        .map(|(server, clients)| KmsUse {
            server: server.clone(),
            clients: clients.len() as u64,
            logs_supplied: corr.host_for(server).is_some(),
        })
        .collect();
    (s, inventory)
}

/// A client's attempts as the report lists them, oldest first: each request (12288) with what
/// became of it, and each activation that failed on the client itself (8198, 8233: what the
/// verdict counts too); the newest [`MAX_ATTEMPTS_PER_MACHINE`], and how many older ones were
/// left out.
pub(crate) fn attempt_records(
    events: &[ActivationEvent],
    client: &ClientView,
) -> (Vec<AttemptRecord>, u64) {
    let requests = client.attempts.iter().map(|a| {
        let record = AttemptRecord {
            time: a.time.map(rfc3339),
            outcome: if a.activated {
                AttemptOutcome::Activated
            } else if a.response.is_some() {
                AttemptOutcome::Rejected
            } else {
                AttemptOutcome::NoResponse
            },
            code: a.result,
            kms_host: a.kms_host.clone(),
            host_seen: match a.host_side {
                HostSide::Received { .. } => HostSeen::Received,
                HostSide::NotReceived { .. } => HostSeen::NotReceived,
                HostSide::NotCovered { .. } => HostSeen::NotCovered,
                HostSide::OtherHost => HostSeen::OtherHost,
                HostSide::Unknown => HostSeen::Unknown,
            },
        };
        (a.request, record)
    });
    let local = client.local_failures.iter().map(|&(i, code)| {
        let record = AttemptRecord {
            time: events.get(i).and_then(|e| e.time).map(rfc3339),
            outcome: AttemptOutcome::Failed,
            code: Some(code),
            kms_host: None,
            host_seen: HostSeen::NotSent,
        };
        (i, record)
    });
    // Events are sorted by machine and time: their indices are the order they happened in.
    let mut all: Vec<(usize, AttemptRecord)> = requests.chain(local).collect();
    all.sort_by_key(|(i, _)| *i);
    let skip = all.len().saturating_sub(MAX_ATTEMPTS_PER_MACHINE);
    let records = all.into_iter().skip(skip).map(|(_, r)| r).collect();
    (records, skip as u64)
}

/// A time for people: `2026-10-05 08:14`.
fn when(zone: Zone, t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "an unknown time".to_owned(),
        |t| zone.format(t, "%Y-%m-%d %H:%M"),
    )
}

/// `on 2026-10-05 08:14`, or `between … and …` when the two differ.
fn span(zone: Zone, first: Option<DateTime<Utc>>, last: Option<DateTime<Utc>>) -> String {
    if when(zone, first) == when(zone, last) {
        format!("on {}", when(zone, first))
    } else {
        format!("between {} and {}", when(zone, first), when(zone, last))
    }
}

fn day(zone: Zone, t: DateTime<Utc>) -> String {
    zone.format(t, "%Y-%m-%d")
}

/// One event as proof.
pub(crate) fn evidence(e: &ActivationEvent) -> Evidence {
    let name = e.name().unwrap_or("");
    // The Info string, or the first payload string (8198's second one is a long rule list).
    let payload = e.payload.raw().next().unwrap_or("");
    let mut excerpt = format!("{} {name}: {payload}", e.event_id);
    if excerpt.chars().count() > 160 {
        excerpt = excerpt.chars().take(159).collect::<String>() + "…";
    }
    Evidence {
        path: e.source.path().to_owned(),
        line: e.source.line,
        record_id: e.record_id,
        time: e.time.map(rfc3339),
        excerpt: crate::report::sanitize(&excerpt, true).into_owned(),
    }
}

fn bounded(events: &[ActivationEvent], idx: &[usize]) -> Vec<Evidence> {
    let mut idx: Vec<usize> = idx.to_vec();
    idx.sort_unstable();
    idx.dedup();
    let pick: Vec<usize> = if idx.len() <= CITED {
        idx
    } else {
        let head = CITED / 2;
        idx.iter()
            .take(head)
            .chain(idx.iter().skip(idx.len() - (CITED - head)))
            .copied()
            .collect()
    };
    pick.iter()
        .filter_map(|i| events.get(*i))
        .map(evidence)
        .collect()
}

/// Why a client stands as it does: each finding's detail with its severity, in the order raised.
type Reasons = Vec<(Severity, String)>;

/// Raises a finding about a client and keeps its detail as a candidate for the verdict's reason.
fn raise(
    b: &mut Builder<'_>,
    reasons: &mut Reasons,
    id: FindingId,
    machine: &str,
    codes: &[Hresult],
    detail: String,
    proof: &[usize],
) {
    raise_capped(b, reasons, id, machine, (codes, detail, proof), None);
}

/// [`raise`], with the finding's severity held at most at `cap` when one is given (a failure
/// that says less about the machine than the finding usually does).
fn raise_capped(
    b: &mut Builder<'_>,
    reasons: &mut Reasons,
    id: FindingId,
    machine: &str,
    (codes, detail, proof): (&[Hresult], String, &[usize]),
    cap: Option<Severity>,
) {
    let sev = b.findings.severity(id);
    let sev = cap.map_or(sev, |c| sev.min(c));
    reasons.push((sev, detail.clone()));
    b.raise_with(
        id,
        &[machine.to_owned()],
        codes,
        detail,
        proof,
        cap.map(|_| sev),
    );
}

/// The event diagnosis as it is made: the findings so far and what their texts need.
struct Builder<'a> {
    findings: FindingSet<'a>,
    events: &'a [ActivationEvent],
    /// The zone explanations give times in.
    zone: Zone,
}

impl<'a> Builder<'a> {
    fn rules(&self) -> &'a Rules {
        self.findings.rules()
    }

    /// Raises (or adds to) the finding `id` about `machines`, citing the events `proof`; returns
    /// its severity.
    fn raise(
        &mut self,
        id: FindingId,
        machines: &[String],
        codes: &[Hresult],
        detail: String,
        proof: &[usize],
    ) -> Severity {
        self.raise_with(id, machines, codes, detail, proof, None)
    }

    /// [`Builder::raise`] with a severity of its own instead of the finding's.
    fn raise_with(
        &mut self,
        id: FindingId,
        machines: &[String],
        codes: &[Hresult],
        detail: String,
        proof: &[usize],
        severity: Option<Severity>,
    ) -> Severity {
        self.findings.raise(Raise {
            id,
            machines: machines.to_vec(),
            codes: codes.to_vec(),
            detail,
            evidence: bounded(self.events, proof),
            severity,
        })
    }

    /// Whether a request that got no answer failed on the way (network, RPC, timeouts) rather
    /// than for a reason of its own.
    fn is_connectivity(&self, c: Option<Hresult>) -> bool {
        match c {
            None => true,
            Some(c) if !c.is_failure() => true,
            Some(c) => match self.rules().code(c) {
                Some(e) => matches!(e.category, Category::Network | Category::KmsConnectivity),
                None => c.facility() == 7,
            },
        }
    }

    /// A result code in a sentence.
    fn words(&self, c: Hresult) -> String {
        self.findings.code_words(c)
    }
}

/// Diagnoses the fleet as of `now`, or with `times` each client as of its own newest evidence.
pub(super) fn diagnose(
    rules: &Rules,
    (events, corr): (&[ActivationEvent], &Correlation),
    now: DateTime<Utc>,
    times: Option<&MachineTimes>,
    window_days: i64,
    zone: Zone,
) -> Diagnosis {
    let mut b = Builder {
        findings: FindingSet::new(rules),
        events,
        zone,
    };
    let mut out = Diagnosis::default();
    for c in &corr.clients {
        let at = times
            .and_then(|t| t.get(&c.name))
            .map_or(now, |t| t.and_utc());
        let mut machine = client::client(&mut b, corr, c, at, window_days);
        machine.as_of = Some(super::stamp(at.naive_utc()));
        out.machines.push(machine);
    }
    for h in &corr.hosts {
        let (machine, host) = host::host(&mut b, corr, h);
        match out
            .machines
            .iter_mut()
            .find(|m| same_machine(&m.name, &h.name))
        {
            Some(m) => {
                m.role = MachineRole::KmsHost;
                m.kms_host = None;
                m.verdict = m.verdict.max(machine.verdict);
                if machine.verdict >= m.verdict {
                    m.reason = machine.reason;
                }
            }
            None => out.machines.push(machine),
        }
        out.hosts.push(host);
    }
    cmid::duplicates(&mut b, corr);
    cmid::renames(&mut b, corr);
    super::settle(&mut out.machines, &b.findings);
    out.findings = b.findings.into_sorted();
    out.machines.sort_by(|a, b| a.name.cmp(&b.name));
    out.hosts.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests;
