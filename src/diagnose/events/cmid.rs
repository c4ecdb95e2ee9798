//! Cloned machines: one CMID under several machine names, in client or host logs. Raised once per
//! CMID for the fleet; each client's own verdict says so in `client`.

use crate::correlate::{Correlation, same_machine};

use super::super::registry::FindingId;
use super::{Builder, CITED};

/// Raises `duplicate-cmid` for every CMID seen under two or more names.
pub(super) fn duplicates(b: &mut Builder<'_>, corr: &Correlation) {
    // Cloned machines: one CMID under several names, in client or host logs.
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
        let detail = format!(
            "CMID {cm} is used by {} machines: {} ({} of them sent their own logs); the KMS host counts them as one.",
            display.len(),
            display.join(", "),
            with_logs
        );
        b.raise(FindingId::DuplicateCmid, &display, &[], detail, &proof);
    }
}
