//! A KMS host from its own log: DNS publishing (12293/12294), client names cycling through CMIDs,
//! machines refused for the count, and the count replayed from its 12290s against the thresholds.

use chrono::Duration;

use crate::correlate::{Correlation, HostView, code, same_machine};
use crate::events::FieldValue;
use crate::hresult::Hresult;
use crate::model::ids::{NOT_ENOUGH_COUNT, event};
use crate::model::snapshot::KmsRequests;
use crate::model::{CountPoint, Health, Host, LicenseState, Machine, MachineRole};
use crate::rules::KmsParams;

use super::super::registry::FindingId;
use super::super::verdict;
use super::{Builder, rfc3339, when};

pub(super) fn host(b: &mut Builder<'_>, corr: &Correlation, h: &HostView) -> (Machine, Host) {
    let kms = b.rules().kms().clone();
    let mut health = Health::Ok;
    let mut notes = count_notes(b, h);
    let dns_publishing = dns_publishing(b, h);
    if dns_publishing == Some(false) {
        health = Health::Failing;
        notes.push("DNS publishing failing".to_owned());
    }
    cmids_changing(b, corr, h);
    if let Some(note) = refused_for_count(b, h, &kms) {
        health = Health::Failing;
        notes.push(note);
    }
    let used_by: usize = corr
        .kms_hosts_used
        .iter()
        .filter(|(k, _)| {
            let n = k.rsplit_once(':').map_or(k.as_str(), |(n, _)| n);
            same_machine(n, &h.name)
        })
        .map(|(_, v)| v.len())
        .sum();
    if used_by > 0 {
        notes.push(format!("named by {used_by} client log(s)"));
    }
    // The correlation gives no date when the count is already below.
    if let Some(d) = h.below_client_threshold {
        notes.push(format!(
            "falls below {} on {d} if no new machine asks",
            kms.client_os_threshold
        ));
    }
    summarize(h, &kms, health, &notes.join("; "), dns_publishing)
}

/// The summary's opening: the count replayed from the log, and the count the host last told
/// clients.
fn count_notes(b: &Builder<'_>, h: &HostView) -> Vec<String> {
    let mut notes = vec![format!(
        "count {}{} from {} request(s) of {} client(s) since {}",
        h.count_now,
        if h.count_complete {
            ""
        } else {
            " or more (the log covers less than 30 days)"
        },
        h.requests.len(),
        h.clients.len(),
        when(b.zone, h.first)
    )];
    if let Some((n, t)) = h.reported_count {
        notes.push(format!(
            "it told clients count {n} on {}",
            when(b.zone, Some(t))
        ));
    }
    notes
}

/// DNS publishing as the newest 12293/12294 says: `Some(false)` when publishing failed (raising
/// its finding), `Some(true)` when it succeeded, `None` without either event.
fn dns_publishing(b: &mut Builder<'_>, h: &HostView) -> Option<bool> {
    let (at, ev) = h.dns.and_then(|i| b.events.get(i).map(|e| (i, e)))?;
    if ev.event_id != event::KMS_DNS_PUBLISH_FAILED {
        return Some(true);
    }
    let result = code(ev, "result");
    let domain = match ev.payload.get("domain") {
        Some(FieldValue::Text(d)) => d.to_string(),
        _ => "its".to_owned(),
    };
    let detail = format!(
        "{} could not publish its _vlmcs._tcp SRV record in the {domain} domain (event 12293 on {}{}); clients that find their host through DNS cannot find it.",
        h.name,
        when(b.zone, ev.time),
        result
            .map(|c| format!(", {}", b.words(c)))
            .unwrap_or_default()
    );
    let proof: Vec<usize> = std::iter::once(at).collect();
    let codes: Vec<Hresult> = result.into_iter().collect();
    let me = [h.name.clone()];
    b.raise(FindingId::KmsDnsPublishFailed, &me, &codes, detail, &proof);
    Some(false)
}

/// A client name cycling through CMIDs (three or more) is counted again and again: a finding
/// about that client.
fn cmids_changing(b: &mut Builder<'_>, corr: &Correlation, h: &HostView) {
    for (name, cmids) in &h.cmids_by_name {
        if cmids.len() < 3 {
            continue;
        }
        let proof: Vec<usize> = cmids
            .iter()
            .filter_map(|c| h.by_cmid.get(c).and_then(|v| v.last().copied()))
            .collect();
        let display = corr
            .clients
            .iter()
            .find(|c| same_machine(&c.name, name))
            .map_or_else(|| name.clone(), |c| c.name.clone());
        let detail = format!(
            "{display} reached {} with {} different CMIDs in the last 30 days ({}).",
            h.name,
            cmids.len(),
            cmids.iter().cloned().collect::<Vec<_>>().join(", ")
        );
        b.raise(FindingId::CmidChanging, &[display], &[], detail, &proof);
    }
}

/// Machines whose last answer was a refusal for the count (0xC004F038): raises the finding and
/// gives the summary's note; `None` when there are none.
fn refused_for_count(b: &mut Builder<'_>, h: &HostView, kms: &KmsParams) -> Option<String> {
    if h.stuck.is_empty() {
        return None;
    }
    let npol = h.n_policy.unwrap_or(i64::from(kms.client_os_threshold));
    let detail = format!(
        "KMS host {}: {} machine(s) were last refused for the count (0xC004F038, N-policy {npol}); the count replayed from its log is {} (newest request {}).",
        h.name,
        h.stuck.len(),
        h.count_now,
        when(b.zone, h.last)
    );
    let note = format!("{} machine(s) refused for the count", h.stuck.len());
    let me = [h.name.clone()];
    b.raise(
        FindingId::KmsCountInsufficient,
        &me,
        &[NOT_ENOUGH_COUNT],
        detail,
        &h.stuck,
    );
    Some(note)
}

/// The host as the report lists it twice: as a machine (role `kms-host`, its verdict from its
/// health) and as a KMS host with its count, thresholds and timeline.
fn summarize(
    h: &HostView,
    kms: &KmsParams,
    health: Health,
    summary: &str,
    dns_publishing: Option<bool>,
) -> (Machine, Host) {
    let need = |t: u32, current: u64| Some(u64::from(t).saturating_sub(current));
    let machine = Machine {
        name: h.name.clone(),
        name_source: h.name_source,
        as_of: h.last.map(|t| crate::diagnose::stamp(t.naive_utc())),
        role: MachineRole::KmsHost,
        license_status: LicenseState::Unknown,
        channel: None,
        verdict: verdict::of_health(health),
        reason: format!("KMS host: {summary}."),
        products: Vec::new(),
        kms_host: None,
        cmid: None,
        findings: Vec::new(),
        attempts: Vec::new(),
        attempts_omitted: 0,
    };
    // What the host itself last said beats a replay of a log shorter than 30 days.
    let current = match h.reported_count {
        Some((n, t)) if !h.count_complete && h.last.is_none_or(|l| t >= l - Duration::days(1)) => {
            u64::try_from(n).unwrap_or(0).max(h.count_now as u64)
        }
        _ => h.count_now as u64,
    };
    let host = Host {
        name: h.name.clone(),
        current_count: Some(current),
        client_threshold: kms.client_os_threshold,
        server_threshold: kms.server_os_threshold,
        needed_for_client: need(kms.client_os_threshold, current),
        needed_for_server: need(kms.server_os_threshold, current),
        listening_port: None,
        dns_publishing,
        requests: KmsRequests::default(),
        health,
        summary: summary.to_owned(),
        count_timeline: h
            .timeline
            .iter()
            .map(|d| CountPoint {
                // ISO 8601 (as `%Y-%m-%d`), without parsing a format for each of ~3,650 days.
                day: d.day.to_string(),
                count: d.count as u64,
                partial: d.partial,
            })
            .collect(),
        log_from: h.first.map(rfc3339),
        log_to: h.last.map(rfc3339),
        clients_seen: Some(h.clients.len() as u64),
        below_client_threshold_on: h
            .below_client_threshold
            .map(|d| d.format("%Y-%m-%d").to_string()),
        below_server_threshold_on: h
            .below_server_threshold
            .map(|d| d.format("%Y-%m-%d").to_string()),
    };
    (machine, host)
}
