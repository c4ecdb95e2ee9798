//! The diagnosis of machines from their license snapshots (`slmgr` output): a verdict per
//! machine, a summary per KMS host, and findings raised through the one finding builder. Each
//! part of a snapshot has its file: the license state (`license`), `/xpr` alone (`expiry`), the
//! channel and key (`channel`), an activation history (`history`), a KMS client that found no host in DNS (`kms_discovery`), a KMS
//! host's count (`kms_host`), slmgr commands (`commands`), result codes running text mentions
//! (`mentions`) and what the report shows of the machine (`summary`).
//!
//! It knows snapshots and rules, not file formats or report layouts.

mod channel;
mod commands;
mod expiry;
mod history;
mod kms_discovery;
mod kms_host;
mod license;
mod mentions;
mod summary;

use chrono::NaiveDateTime;

use crate::hresult::Hresult;
use crate::model::ids::PKEY_NOT_INSTALLED;
use crate::model::license::LicenseState;
use crate::model::snapshot::{LicenseSnapshot, ProductLicense, TextLine};
use crate::model::{Evidence, Finding, Host, Machine, MachineRole, NameSource, Verdict};
use crate::rules::slmgr::FieldId;
use crate::rules::{Rules, Severity};

use super::Diagnosis;
use super::findings::{FindingSet, Raise};
use super::registry::FindingId;
use super::verdict;
pub use summary::group_machines;
pub(crate) use summary::stamp;
use summary::{product_summary, role_from_commands, role_of};
use summary::{status_from_commands, status_from_xpr};

/// Days before an activation or grace period ends at which kmsdiag starts warning.
pub(crate) const DEFAULT_EXPIRY_WINDOW_DAYS: i64 = 30;

/// The snapshots of one machine, with the name the report will use.
#[derive(Debug, Clone)]
pub struct MachineInput {
    pub name: String,
    /// From the input's text, its folder, the file's name or `--machine-name`.
    pub name_source: NameSource,
    pub snapshots: Vec<LicenseSnapshot>,
    /// The time to judge it at, when it is not the one [`diagnose_snapshots`] is given (its own
    /// newest evidence).
    pub as_of: Option<NaiveDateTime>,
}

/// Diagnoses every machine as of `now`.
pub fn diagnose_snapshots(
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

/// One machine's diagnosis as it is made.
struct MachineDiag<'a> {
    rules: &'a Rules,
    input: &'a MachineInput,
    now: NaiveDateTime,
    /// Days before an end at which to warn.
    window: i64,
    findings: FindingSet<'a>,
    verdict: Verdict,
    /// Why, the worst reason first.
    reasons: Vec<String>,
    host: Option<Host>,
}

impl<'a> MachineDiag<'a> {
    fn new(rules: &'a Rules, input: &'a MachineInput, now: NaiveDateTime, window: i64) -> Self {
        MachineDiag {
            rules,
            input,
            now: input.as_of.unwrap_or(now),
            window,
            findings: FindingSet::new(rules),
            verdict: Verdict::Ok,
            reasons: Vec::new(),
            host: None,
        }
    }

    /// The snapshot to judge by: the newest (by trusted time), else the last slmgr output given,
    /// else the last text read for the codes it mentions.
    pub(super) fn latest(&self) -> Option<&'a LicenseSnapshot> {
        let snaps = &self.input.snapshots;
        snaps
            .iter()
            .filter(|s| s.windows_product().is_some())
            .max_by_key(|s| s.observed_at())
            .or_else(|| snaps.iter().rev().find(|s| s.mentions.is_empty()))
            .or_else(|| snaps.last())
    }

    pub(super) fn worse(&mut self, v: Verdict, reason: String) {
        if v > self.verdict {
            self.verdict = v;
            self.reasons.insert(0, reason);
        } else {
            self.reasons.push(reason);
        }
    }

    pub(super) fn evidence(path: &str, line: &TextLine) -> Evidence {
        Evidence {
            path: path.to_owned(),
            line: Some(line.line),
            record_id: None,
            time: None,
            excerpt: crate::report::sanitize(&line.text, true).into_owned(),
        }
    }

    /// Raises a finding about this machine. `detail` is what is true of it; the finding's text
    /// and next steps come from the one finding builder.
    pub(super) fn raise(
        &mut self,
        id: FindingId,
        severity: Option<Severity>,
        codes: Vec<Hresult>,
        detail: String,
        evidence: Vec<Evidence>,
    ) {
        self.findings.raise(
            Raise::about(id, &self.input.name, detail)
                .codes(codes)
                .evidence(evidence)
                .severity(severity),
        );
    }

    fn run(&mut self) {
        // Codes mentioned in prose count whatever else the machine's inputs show.
        let mentioned = self.mentions();
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
                FindingId::WrongKeyOrChannel,
                None,
                vec![PKEY_NOT_INSTALLED],
                format!("{}: no product on this machine has a key installed (every license says it is not in use).", self.input.name),
                snap.products.iter().filter_map(|p| p.lines.get(&FieldId::PartialProductKey)).map(|l| Self::evidence(&snap.path, l)).collect(),
            );
            self.worse(Verdict::Failing, "No product key is installed.".to_owned());
        }
        for p in &products {
            self.product(snap, p, base);
        }
        self.commands(snap);
        self.kms_history(snap);
        self.expiry_lines(snap);
        // Prose shows no product by its nature: its mentions gave the reason.
        let prose_only = mentioned && !snap.mentions.is_empty();
        if products.is_empty()
            && snap.commands.is_empty()
            && snap.expiry.is_empty()
            && snap.kms_attempts.is_empty()
            && !prose_only
        {
            self.worse(
                Verdict::Unknown,
                "The output shows no product in use and no command result.".to_owned(),
            );
        }
    }

    fn finish(mut self) -> (Machine, Option<Host>, Vec<Finding>) {
        // A machine is at least as bad as its worst finding.
        let worst = self.findings.all().iter().map(|f| f.severity).max();
        let floor = verdict::floor(worst);
        if floor > self.verdict {
            self.verdict = floor;
            if let Some(f) = self
                .findings
                .all()
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
        let role = match win.map_or(MachineRole::Unknown, |p| role_of(p, snap)) {
            MachineRole::Unknown => {
                snap.map_or(MachineRole::Unknown, |s| role_from_commands(self.rules, s))
            }
            r => r,
        };
        let status = win
            .and_then(|p| {
                p.license_status
                    .or_else(|| p.notification_reason.map(|_| LicenseState::Notification))
            })
            .or_else(|| snap.and_then(status_from_xpr))
            .or_else(|| snap.and_then(status_from_commands))
            .unwrap_or(LicenseState::Unknown);
        let base = snap.and_then(LicenseSnapshot::observed_at);
        let products = snap.map_or_else(Vec::new, |s| {
            s.products
                .iter()
                .map(|p| product_summary(p, base, self.now))
                .collect()
        });
        let client = win.and_then(|p| p.kms_client.as_ref());
        let mut ids: Vec<String> = self.findings.all().iter().map(|f| f.id.clone()).collect();
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
            as_of: Some(stamp(self.now)),
            role,
            license_status: status,
            channel: win.and_then(|p| p.channel.clone()),
            verdict: self.verdict,
            reason,
            products,
            kms_host: client.and_then(|c| c.kms_host()).map(ToString::to_string),
            cmid: client.and_then(|c| c.cmid.clone()).or_else(|| {
                self.input
                    .snapshots
                    .iter()
                    .rev()
                    .find_map(|s| s.cmid.clone())
            }),
            findings: ids,
            attempts: Vec::new(),
            attempts_omitted: 0,
        };
        (machine, self.host, self.findings.into_sorted())
    }
}
