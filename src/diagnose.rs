//! The diagnosis of machines from their license snapshots: a verdict per machine, a summary per
//! KMS host, and findings with stable ids, evidence and next steps, through the rule tables.
//!
//! It knows snapshots and rules, not file formats or report layouts.

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDateTime};

use crate::hresult::Hresult;
use crate::model::snapshot::{
    CommandResult, ExpiryKind, LicenseSnapshot, ProductLicense, RemainingKind, TextLine,
};
use crate::model::{Evidence, Finding, Host, Machine, Product, Verdict};
use crate::rules::slmgr::{FieldId, StatusId};
use crate::rules::{Category, Rules, Severity};

/// Days before an activation or grace period ends at which kmsdiag starts warning.
pub const DEFAULT_EXPIRY_WINDOW_DAYS: i64 = 30;

/// The snapshots of one machine, with the name the report will use.
#[derive(Debug, Clone)]
pub struct MachineInput {
    pub name: String,
    /// `text` or `file-name`.
    pub name_source: &'static str,
    pub snapshots: Vec<LicenseSnapshot>,
}

/// What the diagnosis produces.
#[derive(Debug, Clone, Default)]
pub struct Diagnosis {
    pub machines: Vec<Machine>,
    pub hosts: Vec<Host>,
    pub findings: Vec<Finding>,
}

/// Diagnoses every machine as of `now`.
pub fn diagnose(
    rules: &Rules,
    inputs: &[MachineInput],
    now: NaiveDateTime,
    window_days: i64,
) -> Diagnosis {
    let mut out = Diagnosis::default();
    for m in inputs {
        let mut d = MachineDiag::new(rules, m, now, window_days);
        d.run();
        let (machine, host, findings) = d.finish();
        out.machines.push(machine);
        out.hosts.extend(host);
        out.findings.extend(findings);
    }
    out.machines.sort_by(|a, b| a.name.cmp(&b.name));
    out.hosts.sort_by(|a, b| a.name.cmp(&b.name));
    crate::model::sort_findings(&mut out.findings);
    out
}

/// `t` plus a number of minutes read from the input; `None` when that is beyond any date.
pub fn add_minutes(t: NaiveDateTime, minutes: u64) -> Option<NaiveDateTime> {
    i64::try_from(minutes)
        .ok()
        .and_then(Duration::try_minutes)
        .and_then(|d| t.checked_add_signed(d))
}

/// A date for people: `2025-04-10`.
pub fn day(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%d").to_string()
}

/// A time for machines: `2025-04-10T10:20:31`.
pub fn stamp(t: NaiveDateTime) -> String {
    t.format("%Y-%m-%dT%H:%M:%S").to_string()
}

struct MachineDiag<'a> {
    rules: &'a Rules,
    input: &'a MachineInput,
    now: NaiveDateTime,
    window: i64,
    findings: Vec<Finding>,
    verdict: Verdict,
    reasons: Vec<String>,
    host: Option<Host>,
}

impl<'a> MachineDiag<'a> {
    fn new(rules: &'a Rules, input: &'a MachineInput, now: NaiveDateTime, window: i64) -> Self {
        MachineDiag {
            rules,
            input,
            now,
            window,
            findings: Vec::new(),
            verdict: Verdict::Ok,
            reasons: Vec::new(),
            host: None,
        }
    }

    /// The snapshot to judge by: the newest (by trusted time), else the last given.
    fn latest(&self) -> Option<&'a LicenseSnapshot> {
        let snaps = &self.input.snapshots;
        snaps
            .iter()
            .filter(|s| s.windows_product().is_some())
            .max_by_key(|s| s.observed_at())
            .or_else(|| snaps.last())
    }

    fn worse(&mut self, v: Verdict, reason: String) {
        if v > self.verdict {
            self.verdict = v;
            self.reasons.insert(0, reason);
        } else {
            self.reasons.push(reason);
        }
    }

    fn evidence(path: &str, line: &TextLine) -> Evidence {
        Evidence {
            path: path.to_owned(),
            line: Some(line.line),
            record_id: None,
            time: None,
            excerpt: crate::report::sanitize(&line.text, true).into_owned(),
        }
    }

    /// Raises a finding. `detail` is what is true of this machine; the general explanation and
    /// next steps come from findings.toml, and a code's own next steps come first.
    fn raise(
        &mut self,
        id: &str,
        severity: Option<Severity>,
        codes: Vec<Hresult>,
        detail: String,
        evidence: Vec<Evidence>,
    ) {
        let rule = self
            .rules
            .finding(id)
            .or_else(|| self.rules.finding("activation-error"));
        let (title, general, mut steps, default_sev) = rule.map_or_else(
            || (id.to_owned(), String::new(), Vec::new(), Severity::Error),
            |r| {
                (
                    r.title.clone(),
                    r.explanation.clone(),
                    r.next_steps.clone(),
                    r.severity,
                )
            },
        );
        let code_steps: Vec<String> = codes
            .iter()
            .filter_map(|c| self.rules.code(*c))
            .flat_map(|e| e.next_steps.clone())
            .collect();
        if !code_steps.is_empty() {
            steps = code_steps;
        }
        let explanation = if general.is_empty() {
            detail
        } else {
            format!("{detail} {general}")
        };
        let machine = self.input.name.clone();
        // One finding per id and machine: a second cause of the same kind adds its codes and proof.
        if let Some(f) = self.findings.iter_mut().find(|f| f.id == id) {
            for c in codes {
                if !f.codes.contains(&c) {
                    f.codes.push(c);
                }
            }
            f.evidence.extend(evidence);
            f.evidence.sort();
            f.evidence.dedup();
            return;
        }
        let mut evidence = evidence;
        evidence.sort();
        evidence.dedup();
        self.findings.push(Finding {
            id: id.to_owned(),
            severity: severity.unwrap_or(default_sev),
            machines: vec![machine],
            codes,
            title,
            explanation,
            next_steps: steps,
            evidence,
        });
    }

    /// The finding a result code raises (from codes.toml), or `activation-error`.
    fn code_finding(&self, code: Hresult) -> Option<(String, Severity, Category)> {
        match self.rules.code(code) {
            Some(e) => e.finding.clone().map(|f| (f, e.severity, e.category)),
            None if code.is_failure() => Some((
                "activation-error".to_owned(),
                Severity::Error,
                Category::Other,
            )),
            None => None,
        }
    }

    fn code_words(&self, code: Hresult) -> String {
        match self.rules.code(code) {
            Some(e) => {
                let what = e.meaning.as_deref().or(e.message.as_deref()).unwrap_or("");
                let short = what
                    .split(". ")
                    .next()
                    .unwrap_or(what)
                    .trim_end_matches('.');
                format!("{code}: {}", short.trim_end_matches(['.', ' ']))
            }
            None => code.to_string(),
        }
    }

    fn run(&mut self) {
        let Some(snap) = self.latest() else {
            self.worse(
                Verdict::Unknown,
                "No license information was found for this machine.".to_owned(),
            );
            return;
        };
        let base = snap.observed_at();
        let products: Vec<&ProductLicense> = snap
            .products
            .iter()
            .filter(|p| p.in_use && (p.partial_product_key.is_some() || p.license_status.is_some()))
            .collect();
        if products.is_empty()
            && snap.products.iter().all(|p| !p.in_use)
            && !snap.products.is_empty()
        {
            self.raise(
                "wrong-key-or-channel",
                None,
                vec![Hresult(0xC004_F014)],
                format!("{}: no product on this machine has a key installed (every license says it is not in use).", self.input.name),
                snap.products.iter().filter_map(|p| p.lines.get(&FieldId::PartialProductKey)).map(|l| Self::evidence(&snap.path, l)).collect(),
            );
            self.worse(Verdict::Failing, "No product key is installed.".to_owned());
        }
        for p in &products {
            self.product(snap, p, base);
        }
        self.commands(snap);
        self.expiry_lines(snap);
        if products.is_empty() && snap.commands.is_empty() && snap.expiry.is_empty() {
            self.worse(
                Verdict::Unknown,
                "The output shows no product in use and no command result.".to_owned(),
            );
        }
    }

    fn product(&mut self, snap: &LicenseSnapshot, p: &ProductLicense, base: Option<NaiveDateTime>) {
        let name = product_label(p);
        let path = snap.path.as_str();
        let ev = |ids: &[FieldId]| -> Vec<Evidence> {
            ids.iter()
                .filter_map(|id| p.lines.get(id))
                .map(|l| Self::evidence(path, l))
                .collect()
        };
        let status = p
            .license_status
            .or_else(|| p.notification_reason.map(|_| StatusId::Notification));
        let from = base.unwrap_or(self.now);
        let ends = p
            .remaining
            .as_ref()
            .and_then(|r| add_minutes(from, r.minutes));
        let status_ev = ev(&[
            FieldId::LicenseStatus,
            FieldId::NotificationReason,
            FieldId::VolumeExpiration,
            FieldId::TimebasedExpiration,
            FieldId::AvmaExpiration,
            FieldId::TimeRemaining,
            FieldId::TrustedTime,
        ]);
        match status {
            Some(StatusId::Licensed) => self.licensed(p, &name, ends, base, status_ev),
            Some(s) if s.is_grace() => self.grace(p, &name, s, ends, status_ev),
            Some(StatusId::Notification | StatusId::Unlicensed) => {
                self.unlicensed(p, &name, status, status_ev);
            }
            _ => {
                let text = p.license_status_text.as_deref().map_or_else(
                    || "its license status was not printed".to_owned(),
                    |t| format!("its license status `{}` is in a language or wording kmsdiag does not know", crate::report::sanitize(t, true)),
                );
                self.worse(Verdict::Unknown, format!("{name}: {text}."));
            }
        }
        self.channel_checks(snap, p, &name);
        if let Some(h) = &p.kms_host
            && h.enabled
        {
            self.kms_host(snap, p, status);
        }
    }

    fn licensed(
        &mut self,
        p: &ProductLicense,
        name: &str,
        ends: Option<NaiveDateTime>,
        base: Option<NaiveDateTime>,
        evidence: Vec<Evidence>,
    ) {
        let kind = p.remaining.as_ref().map(|r| r.kind);
        let Some(ends) = ends else {
            self.worse(Verdict::Ok, format!("{name} is activated permanently."));
            return;
        };
        let what = match kind {
            Some(RemainingKind::TimebasedActivation) => {
                "its time-based activation (evaluation or subscription)"
            }
            Some(RemainingKind::AutomaticVmActivation) => "its automatic VM activation",
            _ => "its volume activation",
        };
        let left = (ends - self.now).num_days();
        // Automatic VM activation lasts 7 days and renews all the time, so a healthy guest always
        // has less than a week left: only its last day is worth a warning.
        let window = if kind == Some(RemainingKind::AutomaticVmActivation) {
            0
        } else {
            self.window
        };
        let kms = p
            .kms_client
            .as_ref()
            .and_then(|c| c.kms_host())
            .map(|h| format!(" from {h}"))
            .unwrap_or_default();
        let renewal_note = self.renewal_note(p, base);
        if left < 0 {
            self.raise(
                "activation-expiring",
                Some(Severity::Error),
                Vec::new(),
                format!("{name} was activated, but {what} ended on {} by this output's own count; unless it renewed since, it is now in a grace period.{renewal_note}", day(ends)),
                evidence,
            );
            self.worse(
                Verdict::Failing,
                format!("{name}: activation ran out on {}.", day(ends)),
            );
        } else if left <= window {
            self.raise(
                "activation-expiring",
                None,
                Vec::new(),
                format!("{name} is activated{kms}, but {what} ends on {} ({left} days from {}).{renewal_note}", day(ends), day(self.now)),
                evidence,
            );
            self.worse(
                Verdict::Warning,
                format!(
                    "{name}: activated, but the activation ends on {} (in {left} days).",
                    day(ends)
                ),
            );
        } else {
            self.worse(
                Verdict::Ok,
                format!(
                    "{name} is activated{kms}; valid until {} ({left} days).{renewal_note}",
                    day(ends)
                ),
            );
        }
    }

    /// For KMS clients: how long ago the last renewal was, when renewals are visibly overdue.
    fn renewal_note(&self, p: &ProductLicense, base: Option<NaiveDateTime>) -> String {
        let (Some(r), Some(_)) = (p.remaining.as_ref(), p.kms_client.as_ref()) else {
            return String::new();
        };
        if !matches!(
            r.kind,
            RemainingKind::VolumeActivation | RemainingKind::Unlabelled
        ) {
            return String::new();
        }
        let validity = i64::from(self.rules.kms().validity_days);
        let renewal_days = p
            .kms_client
            .as_ref()
            .and_then(|c| c.renewal_interval_minutes)
            .map_or(
                i64::from(self.rules.kms().renewal_interval_minutes) / 1440,
                |m| i64::try_from(m / 1440).unwrap_or(7),
            );
        let left_days = i64::try_from(r.minutes / 1440).unwrap_or(0);
        let since = validity - left_days;
        if since > renewal_days + 2 && base.is_some() {
            format!(
                " The last successful renewal was about {since} days before this output (renewal is due every {renewal_days} days), so renewals are failing."
            )
        } else {
            String::new()
        }
    }

    fn grace(
        &mut self,
        p: &ProductLicense,
        name: &str,
        status: StatusId,
        ends: Option<NaiveDateTime>,
        evidence: Vec<Evidence>,
    ) {
        let state = match status {
            StatusId::InitialGrace => "the initial grace period (installed, never activated)",
            StatusId::AdditionalGrace => {
                "the additional grace period (its KMS activation expired or the hardware changed too much)"
            }
            StatusId::NonGenuineGrace => "the non-genuine grace period",
            _ => "the extended grace period",
        };
        let when = ends.map_or_else(
            || "when it ends is not printed".to_owned(),
            |e| {
                let left = (e - self.now).num_days();
                if left < 0 {
                    format!("it ended on {} by this output's own count", day(e))
                } else {
                    format!("it ends on {} ({left} days from {})", day(e), day(self.now))
                }
            },
        );
        let over = ends.is_some_and(|e| e < self.now);
        let mut codes = Vec::new();
        if let Some(r) = p.notification_reason {
            codes.push(r);
        }
        self.raise(
            "grace-expiring",
            over.then_some(Severity::Error),
            codes,
            format!("{name} is not activated: it runs on {state}; {when}. After that Windows goes to notification mode."),
            evidence.clone(),
        );
        if status == StatusId::NonGenuineGrace {
            self.raise(
                "non-genuine",
                None,
                vec![Hresult(0xC004_F065)],
                format!("{name} runs in the non-genuine grace period."),
                evidence,
            );
        }
        let v = if over {
            Verdict::Failing
        } else {
            Verdict::Warning
        };
        self.worse(
            v,
            format!("{name}: not activated, on a grace period; {when}."),
        );
    }

    fn unlicensed(
        &mut self,
        p: &ProductLicense,
        name: &str,
        status: Option<StatusId>,
        evidence: Vec<Evidence>,
    ) {
        let reason = p.notification_reason;
        let state = if status == Some(StatusId::Unlicensed) {
            "unlicensed"
        } else {
            "in notification mode"
        };
        let because = reason.map_or_else(String::new, |r| {
            format!(" The notification reason is {}.", self.code_words(r))
        });
        self.raise(
            "unlicensed-rfm",
            None,
            reason.into_iter().collect(),
            format!(
                "{name} is {state}: it is not activated and its grace period is over.{because}"
            ),
            evidence.clone(),
        );
        // The reason's own finding adds a cause (non-genuine, blocked key, …) unless it only
        // restates the license state.
        if let Some(r) = reason
            && let Some((id, sev, cat)) = self.code_finding(r)
            && cat != Category::LicenseState
            && id != "unlicensed-rfm"
        {
            let words = self.code_words(r);
            self.raise(
                &id,
                Some(sev.max(Severity::Warning)),
                vec![r],
                format!("{name}: the notification reason is {words}."),
                evidence,
            );
        }
        let short = reason.map_or_else(String::new, |r| format!(" (reason {r})"));
        self.worse(
            Verdict::Failing,
            format!("{name}: not activated, {state}{short}."),
        );
    }

    fn channel_checks(&mut self, snap: &LicenseSnapshot, p: &ProductLicense, name: &str) {
        let path = snap.path.as_str();
        let channel = p.channel.as_deref().unwrap_or("");
        let line_ev = |ids: &[FieldId]| -> Vec<Evidence> {
            ids.iter()
                .filter_map(|id| p.lines.get(id))
                .map(|l| Self::evidence(path, l))
                .collect()
        };
        // A KMS host key (CSVLK) on a Windows client edition: such a host serves client editions
        // only, and the key is usually meant for a server; a workstation meant to be a KMS client
        // needs its edition's KMS client setup key (GVLK).
        let client_edition = p.is_windows()
            && !p
                .name
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase()
                .contains("server");
        if channel.starts_with("VOLUME_KMS") && channel != "VOLUME_KMSCLIENT" && client_edition {
            self.raise(
                "wrong-key-or-channel",
                Some(Severity::Warning),
                Vec::new(),
                format!("{name} carries a KMS host key ({channel}) although it is a Windows client edition. Such a host can activate only Windows client editions, never servers or Office, and the key counts against its activation limit; if this machine should be a KMS client, install its edition's KMS client setup key (GVLK) with `slmgr.vbs /ipk`."),
                line_ev(&[FieldId::Description, FieldId::ProductKeyChannel]),
            );
            self.worse(
                Verdict::Warning,
                format!("{name}: a KMS host key is installed on a client edition."),
            );
        }
        // Evaluation editions cannot be activated with KMS or MAK keys at all.
        let failed_ato = snap
            .commands
            .iter()
            .any(|c| !c.succeeded && c.command == "ato");
        if channel.starts_with("TIMEBASED_EVAL")
            && (failed_ato || p.license_status != Some(StatusId::Licensed))
        {
            self.raise(
                "wrong-key-or-channel",
                Some(if failed_ato { Severity::Error } else { Severity::Informational }),
                Vec::new(),
                format!("{name} is an evaluation edition (TIMEBASED_EVAL). KMS and MAK keys cannot activate it: convert it to a full edition first (Windows Server: `DISM /online /Set-Edition:<edition> /ProductKey:<key> /AcceptEula`) or reinstall from volume media; otherwise it stops working when the evaluation period ends."),
                line_ev(&[FieldId::Description, FieldId::ProductKeyChannel]),
            );
        }
        let Some(key) = p.product_key_channel.as_deref() else {
            return;
        };
        let expected: &[&str] = match channel {
            "VOLUME_KMSCLIENT" => &["Volume:GVLK"],
            "VOLUME_MAK" => &["Volume:MAK"],
            c if c.starts_with("VOLUME_KMS") => &["Volume:CSVLK"],
            c if c.starts_with("RETAIL") => &["Retail"],
            c if c.starts_with("OEM") => &["OEM"],
            _ => return,
        };
        if !expected.iter().any(|e| key.starts_with(e)) {
            let evidence = [FieldId::Description, FieldId::ProductKeyChannel]
                .iter()
                .filter_map(|id| p.lines.get(id))
                .map(|l| Self::evidence(path, l))
                .collect();
            self.raise(
                "wrong-key-or-channel",
                Some(Severity::Warning),
                Vec::new(),
                format!("{name}: the license is of the {channel} channel but the installed key is a {key} key."),
                evidence,
            );
            self.worse(
                Verdict::Warning,
                format!("{name}: key and channel do not match ({key} key, {channel} channel)."),
            );
        }
    }

    fn kms_host(&mut self, snap: &LicenseSnapshot, p: &ProductLicense, status: Option<StatusId>) {
        let Some(h) = p.kms_host.as_ref() else { return };
        let path = snap.path.as_str();
        let kms = self.rules.kms().clone();
        let count = h.current_count;
        let need = |t: u32| count.map(|c| u64::from(t).saturating_sub(c));
        let (need_client, need_server) =
            (need(kms.client_os_threshold), need(kms.server_os_threshold));
        let count_ev: Vec<Evidence> = p
            .lines
            .get(&FieldId::CurrentCount)
            .map(|l| Self::evidence(path, l))
            .into_iter()
            .collect();
        let mut health = "ok";
        let mut notes = Vec::new();
        if let Some(c) = count {
            notes.push(format!("current count {c}"));
            if need_server.is_some_and(|n| n > 0) {
                health = "failing";
                self.raise(
                    "kms-count-insufficient",
                    None,
                    vec![Hresult(0xC004_F038)],
                    format!(
                        "KMS host {}: current count {c}. It needs {} more distinct machine(s) to activate Windows Server and volume Office ({}), and {} more for Windows client editions ({}); until then every client gets 0xC004F038.",
                        self.input.name,
                        need_server.unwrap_or(0),
                        kms.server_os_threshold,
                        need_client.unwrap_or(0),
                        kms.client_os_threshold
                    ),
                    count_ev,
                );
            } else if need_client.is_some_and(|n| n > 0) {
                health = "warning";
                self.raise(
                    "kms-count-insufficient",
                    Some(Severity::Warning),
                    vec![Hresult(0xC004_F038)],
                    format!(
                        "KMS host {}: current count {c}. Windows Server and volume Office activate (threshold {}), but Windows client editions need {} more distinct machine(s) (threshold {}) and get 0xC004F038 until then.",
                        self.input.name,
                        kms.server_os_threshold,
                        need_client.unwrap_or(0),
                        kms.client_os_threshold
                    ),
                    count_ev,
                );
            }
        }
        let r = &h.requests;
        if let (Some(total), Some(failed)) = (r.total, r.failed) {
            notes.push(format!("{failed} of {total} requests failed"));
            if failed > 0 {
                notes.push("the host's Key Management Service log (event 12290) names each failed request's result".to_owned());
            }
        }
        for (n, what) in [
            (r.notification, "in notification mode"),
            (r.unlicensed, "unlicensed"),
            (
                r.expired_or_out_of_tolerance,
                "with an expired activation or changed hardware",
            ),
            (r.non_genuine_grace, "in the non-genuine grace period"),
        ] {
            if let Some(n) = n.filter(|n| *n > 0) {
                notes.push(format!("{n} request(s) came from clients {what}"));
            }
        }
        if h.dns_publishing == Some(false) {
            notes.push("DNS publishing is disabled, so clients only find this host through a manual SRV record or /skms".to_owned());
        }
        if status.is_some_and(|s| s != StatusId::Licensed) {
            health = "failing";
            let ev = p
                .lines
                .get(&FieldId::LicenseStatus)
                .map(|l| Self::evidence(path, l))
                .into_iter()
                .collect();
            self.raise(
                "activation-error",
                None,
                vec![Hresult(0xC004_F041)],
                format!("KMS host {}: its own KMS host key is not activated, so it refuses every client (they get 0xC004F041).", self.input.name),
                ev,
            );
            notes.push("its own host key is not activated".to_owned());
        }
        let verdict = match health {
            "failing" => Verdict::Failing,
            "warning" => Verdict::Warning,
            _ => Verdict::Ok,
        };
        self.worse(verdict, format!("KMS host: {}.", notes.join("; ")));
        self.host = Some(Host {
            name: self.input.name.clone(),
            current_count: count,
            client_threshold: kms.client_os_threshold,
            server_threshold: kms.server_os_threshold,
            needed_for_client: need_client,
            needed_for_server: need_server,
            listening_port: h.listening_port,
            dns_publishing: h.dns_publishing,
            requests: h.requests.clone(),
            health,
            summary: notes.join("; "),
            count_timeline: Vec::new(),
            log_from: None,
            log_to: None,
            clients_seen: None,
            below_client_threshold_on: None,
            below_server_threshold_on: None,
        });
    }

    fn commands(&mut self, snap: &LicenseSnapshot) {
        let path = snap.path.as_str();
        for (i, c) in snap.commands.iter().enumerate() {
            if c.succeeded {
                continue;
            }
            // A failure followed by a success of the same command is history, not a problem.
            let later_ok = snap
                .commands
                .iter()
                .skip(i + 1)
                .any(|l| l.succeeded && l.command == c.command);
            if later_ok {
                self.reasons.push(format!(
                    "An earlier /{} failed ({}) and a later one succeeded.",
                    c.command,
                    c.code
                        .map_or_else(|| "no code".to_owned(), |x| x.to_string())
                ));
                continue;
            }
            self.command_failure(path, c);
        }
    }

    fn command_failure(&mut self, path: &str, c: &CommandResult) {
        let code = c.code.or_else(|| {
            c.text
                .to_ascii_lowercase()
                .contains("product key not found")
                .then_some(Hresult(0xC004_F014))
        });
        let ev = vec![Evidence {
            path: path.to_owned(),
            line: Some(c.line),
            record_id: None,
            time: None,
            excerpt: crate::report::sanitize(&c.text, true).into_owned(),
        }];
        let what = match c.product.as_deref() {
            Some(p) => format!(
                "`slmgr /{}` for {}",
                c.command,
                crate::report::sanitize(p, true)
            ),
            None => format!("`slmgr /{}`", c.command),
        };
        let Some(code) = code else {
            self.raise(
                "activation-error",
                None,
                Vec::new(),
                format!(
                    "{}: {what} failed: {}",
                    self.input.name,
                    crate::report::sanitize(&c.text, true)
                ),
                ev,
            );
            self.worse(Verdict::Failing, format!("{what} failed."));
            return;
        };
        let (id, sev, _) = self.code_finding(code).unwrap_or_else(|| {
            (
                "activation-error".to_owned(),
                Severity::Error,
                Category::Other,
            )
        });
        let words = self.code_words(code);
        self.raise(
            &id,
            Some(sev.max(Severity::Warning)),
            vec![code],
            format!("{}: {what} failed with {words}.", self.input.name),
            ev,
        );
        let v = if sev == Severity::Error {
            Verdict::Failing
        } else {
            Verdict::Warning
        };
        self.worse(v, format!("{what} failed with {code}."));
    }

    fn expiry_lines(&mut self, snap: &LicenseSnapshot) {
        // /xpr alone (no /dli in the same output) still tells the state.
        if snap.products.iter().any(|p| p.license_status.is_some()) {
            return;
        }
        for e in &snap.expiry {
            let ev = vec![Self::evidence(&snap.path, &e.line)];
            let date = e.date.as_ref().and_then(|d| d.parsed);
            match e.kind {
                ExpiryKind::Permanent => self.worse(
                    Verdict::Ok,
                    "Windows is permanently activated (slmgr /xpr).".to_owned(),
                ),
                ExpiryKind::VolumeActivation
                | ExpiryKind::TimebasedActivation
                | ExpiryKind::AutomaticVmActivation => {
                    if let Some(d) = date {
                        let left = (d - self.now).num_days();
                        if left <= self.window {
                            self.raise(
                                "activation-expiring",
                                (left < 0).then_some(Severity::Error),
                                Vec::new(),
                                format!(
                                    "Windows is activated until {} ({left} days from {}).",
                                    day(d),
                                    day(self.now)
                                ),
                                ev,
                            );
                            self.worse(
                                if left < 0 {
                                    Verdict::Failing
                                } else {
                                    Verdict::Warning
                                },
                                format!("The activation ends on {}.", day(d)),
                            );
                        } else {
                            self.worse(
                                Verdict::Ok,
                                format!("Activated until {} ({left} days).", day(d)),
                            );
                        }
                    }
                }
                ExpiryKind::Notification | ExpiryKind::Unlicensed => {
                    self.raise(
                        "unlicensed-rfm",
                        None,
                        Vec::new(),
                        "Windows is not activated (slmgr /xpr).".to_owned(),
                        ev,
                    );
                    self.worse(Verdict::Failing, "Not activated (slmgr /xpr).".to_owned());
                }
                ExpiryKind::InitialGrace
                | ExpiryKind::AdditionalGrace
                | ExpiryKind::NonGenuineGrace
                | ExpiryKind::ExtendedGrace => {
                    let when = date.map_or_else(String::new, |d| format!(", ending {}", day(d)));
                    let over = date.is_some_and(|d| d < self.now);
                    self.raise(
                        "grace-expiring",
                        over.then_some(Severity::Error),
                        Vec::new(),
                        format!("Windows runs on a grace period ({}){when}.", e.kind),
                        ev,
                    );
                    self.worse(
                        if over {
                            Verdict::Failing
                        } else {
                            Verdict::Warning
                        },
                        format!("On a grace period{when}."),
                    );
                }
            }
        }
    }

    fn finish(mut self) -> (Machine, Option<Host>, Vec<Finding>) {
        // A machine is at least as bad as its worst finding.
        let worst = self.findings.iter().map(|f| f.severity).max();
        let floor = match worst {
            Some(Severity::Error) => Verdict::Failing,
            Some(Severity::Warning) => Verdict::Warning,
            _ => Verdict::Ok,
        };
        if floor > self.verdict {
            self.verdict = floor;
            if let Some(f) = self
                .findings
                .iter()
                .find(|f| f.severity == worst.unwrap_or(Severity::Error))
            {
                let title = format!("{}.", f.title);
                match self.reasons.first_mut() {
                    Some(first) => *first = format!("{title} {first}"),
                    None => self.reasons.push(title),
                }
            }
        }
        let snap = self.latest();
        let win = snap.and_then(LicenseSnapshot::windows_product);
        let role = match win.map_or("unknown", |p| role_of(p, snap)) {
            "unknown" => snap.map_or("unknown", |s| role_from_commands(self.rules, s)),
            r => r,
        };
        let status = win
            .and_then(|p| {
                p.license_status
                    .or_else(|| p.notification_reason.map(|_| StatusId::Notification))
            })
            .or_else(|| snap.and_then(status_from_xpr))
            .or_else(|| snap.and_then(status_from_commands))
            .unwrap_or(StatusId::Unknown);
        let base = snap.and_then(LicenseSnapshot::observed_at);
        let products = snap.map_or_else(Vec::new, |s| {
            s.products
                .iter()
                .map(|p| product_summary(p, base, self.now))
                .collect()
        });
        let client = win.and_then(|p| p.kms_client.as_ref());
        let mut ids: Vec<String> = self.findings.iter().map(|f| f.id.clone()).collect();
        ids.sort();
        ids.dedup();
        let reason = self
            .reasons
            .first()
            .cloned()
            .unwrap_or_else(|| "Nothing to report.".to_owned());
        let machine = Machine {
            name: self.input.name.clone(),
            name_source: self.input.name_source,
            role,
            license_status: status.as_str(),
            channel: win.and_then(|p| p.channel.clone()),
            verdict: self.verdict,
            reason,
            products,
            kms_host: client.and_then(|c| c.kms_host()).map(ToString::to_string),
            cmid: client.and_then(|c| c.cmid.clone()),
            findings: ids,
            attempts: Vec::new(),
            attempts_omitted: 0,
        };
        (machine, self.host, self.findings)
    }
}

/// The state `/xpr` printed, when no `/dli` says it.
fn status_from_xpr(s: &LicenseSnapshot) -> Option<StatusId> {
    s.expiry.last().map(|e| match e.kind {
        ExpiryKind::Permanent
        | ExpiryKind::VolumeActivation
        | ExpiryKind::TimebasedActivation
        | ExpiryKind::AutomaticVmActivation => StatusId::Licensed,
        ExpiryKind::InitialGrace => StatusId::InitialGrace,
        ExpiryKind::AdditionalGrace => StatusId::AdditionalGrace,
        ExpiryKind::NonGenuineGrace => StatusId::NonGenuineGrace,
        ExpiryKind::ExtendedGrace => StatusId::ExtendedGrace,
        ExpiryKind::Notification => StatusId::Notification,
        ExpiryKind::Unlicensed => StatusId::Unlicensed,
    })
}

/// A successful last `/ato` means the machine was activated when it ran.
fn status_from_commands(s: &LicenseSnapshot) -> Option<StatusId> {
    s.commands
        .iter()
        .rev()
        .find(|c| c.command == "ato")
        .filter(|c| c.succeeded)
        .map(|_| StatusId::Licensed)
}

/// Commands only a KMS client runs or gets (`/skms`, a KMS-client-only result code) tell its role.
fn role_from_commands(rules: &Rules, s: &LicenseSnapshot) -> &'static str {
    let kms_only = |c: &CommandResult| {
        c.code
            .and_then(|code| rules.code(code))
            .is_some_and(|e| e.applies_to == [crate::rules::Role::KmsClient])
    };
    if s.commands
        .iter()
        .any(|c| c.command == "skms" || c.command == "ckms" || kms_only(c))
    {
        "kms-client"
    } else {
        "unknown"
    }
}

fn product_label(p: &ProductLicense) -> String {
    p.name.as_deref().map_or_else(
        || "The product".to_owned(),
        |n| crate::report::sanitize(n, true).into_owned(),
    )
}

fn role_of(p: &ProductLicense, snap: Option<&LicenseSnapshot>) -> &'static str {
    let is_host = snap.is_some_and(|s| {
        s.products
            .iter()
            .any(|q| q.kms_host.as_ref().is_some_and(|h| h.enabled))
    });
    if is_host {
        return "kms-host";
    }
    let channel = p.channel.as_deref().unwrap_or("");
    let key = p.product_key_channel.as_deref().unwrap_or("");
    match (channel, key) {
        ("VOLUME_KMSCLIENT", _) | (_, "Volume:GVLK") => "kms-client",
        (c, _) if c.starts_with("VOLUME_KMS") => "kms-host",
        (_, "Volume:CSVLK") => "kms-host",
        ("VOLUME_MAK", _) | (_, "Volume:MAK") => "mak",
        (c, _) if c.starts_with("TIMEBASED_EVAL") => "evaluation",
        (_, k) if k.starts_with("Retail:TB:Eval") => "evaluation",
        (c, _) if c.starts_with("RETAIL") => "retail",
        (c, _) if c.starts_with("OEM") => "oem",
        (_, k) if k.starts_with("OEM") => "oem",
        (_, k) if k.starts_with("Retail") => "retail",
        ("VIRTUAL_MACHINE_ACTIVATION", _) => "avma",
        _ => "unknown",
    }
}

fn product_summary(p: &ProductLicense, base: Option<NaiveDateTime>, now: NaiveDateTime) -> Product {
    let from = base.unwrap_or(now);
    let end = p
        .remaining
        .as_ref()
        .and_then(|r| add_minutes(from, r.minutes).map(|t| (r.kind, t)));
    let status = p
        .license_status
        .or_else(|| p.notification_reason.map(|_| StatusId::Notification));
    let grace = status.is_some_and(StatusId::is_grace);
    Product {
        name: p.name.clone(),
        description: p.description.clone(),
        channel: p.channel.clone(),
        product_key_channel: p.product_key_channel.clone(),
        license_status: status.unwrap_or(StatusId::Unknown).as_str(),
        license_status_text: if p.license_status.is_none() {
            p.license_status_text.clone()
        } else {
            None
        },
        partial_key: p.partial_product_key.clone(),
        in_use: p.in_use,
        notification_reason: p.notification_reason,
        remaining_minutes: p.remaining.as_ref().map(|r| r.minutes),
        activation_ends: end
            .filter(|(k, _)| *k != RemainingKind::Grace && !grace)
            .map(|(_, t)| stamp(t)),
        grace_ends: end
            .filter(|(k, _)| *k == RemainingKind::Grace || grace)
            .map(|(_, t)| stamp(t)),
        evaluation_ends: p.evaluation_end.as_ref().and_then(|d| d.parsed).map(stamp),
        observed_at: p.trusted_time.as_ref().and_then(|d| d.parsed).map(stamp),
    }
}

/// Groups snapshots by machine: named machines by name, unnamed ones by the name their path
/// suggests.
pub fn group_machines(snapshots: Vec<LicenseSnapshot>) -> Vec<MachineInput> {
    let mut by_name: BTreeMap<String, MachineInput> = BTreeMap::new();
    for s in snapshots {
        let (name, source) = match &s.machine {
            Some(m) => (m.clone(), "text"),
            None => (machine_from_path(&s.path), "file-name"),
        };
        let key = name.to_ascii_lowercase();
        let entry = by_name.entry(key).or_insert_with(|| MachineInput {
            name,
            name_source: source,
            snapshots: Vec::new(),
        });
        if source == "text" {
            entry.name_source = "text";
        }
        entry.snapshots.push(s);
    }
    by_name.into_values().collect()
}

/// The machine name a path suggests: the file name without extension, or the folder's name when
/// the file is only named after the command (`PC042/dlv.txt` → `PC042`).
pub fn machine_from_path(full: &str) -> String {
    // Inside a zip (`bundle.zip!PC042/dlv.txt`) the inner path names the machine; an entry at the
    // archive's top level is named after the archive.
    let (archive, path) = match full.rsplit_once('!') {
        Some((outer, inner)) => (Some(outer), inner),
        None => (None, full),
    };
    let p = std::path::Path::new(path);
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("stdin");
    let generic = {
        let s = stem.to_ascii_lowercase();
        let s = s
            .trim_start_matches("slmgr")
            .trim_matches(|c: char| !c.is_ascii_alphanumeric());
        let s = s
            .trim_start_matches("vbs")
            .trim_matches(|c: char| !c.is_ascii_alphanumeric());
        s.is_empty()
            || [
                "dli",
                "dlv",
                "dlvall",
                "dlv_all",
                "dlv-all",
                "xpr",
                "ato",
                "ipk",
                "output",
                "out",
                "license",
                "licence",
                "activation",
                "status",
                "all",
            ]
            .contains(&s)
    };
    if generic
        && let Some(dir) = p
            .parent()
            .and_then(|d| d.file_name())
            .and_then(|d| d.to_str())
        && !dir.is_empty()
    {
        return dir.to_owned();
    }
    if generic && let Some(outer) = archive {
        return machine_from_path(outer);
    }
    stem.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_names_from_paths() {
        assert_eq!(machine_from_path("bundle/PC042/dlv.txt"), "PC042");
        assert_eq!(machine_from_path("bundle/PC042/slmgr-dli.txt"), "PC042");
        assert_eq!(machine_from_path("PC042.txt"), "PC042");
        assert_eq!(machine_from_path("tickets/LAPTOP-7.log"), "LAPTOP-7");
        assert_eq!(machine_from_path("-"), "-");
        assert_eq!(machine_from_path("/tmp/ticket.zip!PC042/dlv.txt"), "PC042");
        assert_eq!(
            machine_from_path("/tmp/ticket.zip!more/inner.zip!PC077/slmgr-dlv.txt"),
            "PC077"
        );
        assert_eq!(machine_from_path("/tmp/ticket.zip!dlv.txt"), "ticket");
    }
}
