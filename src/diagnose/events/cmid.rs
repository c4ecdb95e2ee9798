//! Machines and their CMIDs: one CMID under several machine names at once is cloned machines
//! (`duplicate-cmid`, raised once per CMID for the fleet, naming the clones and the hosts that
//! count them as one; each client's reason says so in `client`); one CMID under one name, then
//! under another, is one machine renamed (`machine-renamed`, a note: the correlation already
//! counts it as one machine under its newest name).

use chrono::{DateTime, Utc};

use crate::correlate::{Correlation, Rename, same_machine};
use crate::events::ActivationEvent;

use super::super::registry::FindingId;
use super::{Builder, CITED, when};

/// Raises `duplicate-cmid` for every CMID seen under two or more machines.
pub(super) fn duplicates(b: &mut Builder<'_>, corr: &Correlation) {
    for (cm, names) in &corr.cmids {
        if names.len() < 2 {
            continue;
        }
        let display: Vec<String> = names
            .iter()
            .map(|n| {
                corr.clients
                    .iter()
                    .find(|c| same_machine(&c.name, n))
                    .map_or_else(|| n.clone(), |c| c.name.clone())
            })
            .collect();
        let mut proof: Vec<usize> = corr
            .clients
            .iter()
            .filter_map(|c| {
                c.attempts
                    .iter()
                    .find(|a| {
                        a.cmid
                            .as_deref()
                            .is_some_and(|x| x.eq_ignore_ascii_case(cm))
                    })
                    .map(|a| a.request)
            })
            .collect();
        proof.extend(
            corr.hosts
                .iter()
                .flat_map(|h| h.by_cmid.get(cm).into_iter().flatten().copied().take(CITED)),
        );
        let with_logs = display
            .iter()
            .filter(|n| corr.clients.iter().any(|c| same_machine(&c.name, n)))
            .count();
        let hosts: Vec<String> = corr
            .hosts
            .iter()
            .filter(|h| h.by_cmid.contains_key(cm))
            .map(|h| h.name.clone())
            .collect();
        let counted_by = if hosts.is_empty() {
            "the KMS host counts them as one".to_owned()
        } else {
            format!("{} count(s) them as one", hosts.join(", "))
        };
        let detail = format!(
            "CMID {cm} is used by {} machines: {} ({} of them sent their own logs); {counted_by}, so its count is lower than the machines it serves.",
            display.len(),
            display.join(", "),
            with_logs
        );
        let machines: Vec<String> = display.into_iter().chain(hosts).collect();
        b.raise(FindingId::DuplicateCmid, &machines, &[], detail, &proof);
    }
}

/// Raises `machine-renamed` for every machine the correlation found under several names one
/// after the other.
pub(super) fn renames(b: &mut Builder<'_>, corr: &Correlation) {
    for r in &corr.renames {
        let Some((newest, since, _)) = r.names.last() else {
            continue;
        };
        let zone = b.zone;
        let before: Vec<String> = r
            .names
            .iter()
            .take(r.names.len().saturating_sub(1))
            .map(|(n, f, l)| format!("{n} ({} to {})", when(zone, Some(*f)), when(zone, Some(*l))))
            .collect();
        let detail = format!(
            "CMID {} was seen under {}, then under {newest} from {}: the times follow one another without overlap and the machine's records go on in one sequence, so this is one machine renamed, not a clone; it is counted once, as {newest}.",
            r.cmid,
            before.join(", then "),
            when(zone, Some(*since)),
        );
        let proof = proof(b.events, corr, r);
        b.raise(
            FindingId::MachineRenamed,
            std::slice::from_ref(newest),
            &[],
            detail,
            &proof,
        );
    }
}

/// The events around each change of name: the last request under the old name and the first
/// under the new one (the machine's own, else a host's record of it).
fn proof(events: &[ActivationEvent], corr: &Correlation, r: &Rename) -> Vec<usize> {
    let mut timed: Vec<(DateTime<Utc>, usize)> = corr
        .clients
        .iter()
        .flat_map(|c| &c.attempts)
        .filter(|a| {
            a.cmid
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(&r.cmid))
        })
        .filter_map(|a| Some((a.time?, a.request)))
        .collect();
    if timed.is_empty() {
        timed = corr
            .hosts
            .iter()
            .flat_map(|h| h.by_cmid.get(&r.cmid).into_iter().flatten())
            .filter_map(|&i| Some((events.get(i)?.time?, i)))
            .collect();
    }
    timed.sort_unstable();
    let mut out = Vec::new();
    for pair in r.names.windows(2) {
        let [(_, _, old_last), (_, new_first, _)] = pair else {
            continue;
        };
        out.extend(timed.iter().rev().find(|(t, _)| t <= old_last).map(|x| x.1));
        out.extend(timed.iter().find(|(t, _)| t >= new_first).map(|x| x.1));
    }
    out
}
