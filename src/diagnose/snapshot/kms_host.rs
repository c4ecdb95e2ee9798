//! A KMS host's own `slmgr /dlv`: its count against the thresholds, its request statistics, DNS
//! publishing and whether its host key is activated.

use crate::model::ids::{KMS_HOST_NOT_ACTIVATED, NOT_ENOUGH_COUNT};
use crate::model::license::LicenseState;
use crate::model::snapshot::{LicenseSnapshot, ProductLicense};
use crate::model::{Evidence, Health, Host};
use crate::rules::Severity;
use crate::rules::slmgr::FieldId;

use super::super::registry::FindingId;
use super::super::verdict;
use super::MachineDiag;

impl MachineDiag<'_> {
    pub(super) fn kms_host(
        &mut self,
        snap: &LicenseSnapshot,
        p: &ProductLicense,
        status: Option<LicenseState>,
    ) {
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
        let mut health = Health::Ok;
        let mut notes = Vec::new();
        // A count below the server threshold refuses the clients that ask; whether any asked is
        // in the host's request statistics. Without a request (a new host, total 0) or without
        // the statistics (`/dli`), the low count is a warning about what clients will get, not
        // a failure the text shows.
        let asked = h.requests.total.is_some_and(|t| t > 0);
        if let Some(c) = count {
            notes.push(format!("current count {c}"));
            if need_server.is_some_and(|n| n > 0) {
                health = if asked {
                    Health::Failing
                } else {
                    Health::Warning
                };
                self.raise(
                    FindingId::KmsCountInsufficient,
                    (!asked).then_some(Severity::Warning),
                    vec![NOT_ENOUGH_COUNT],
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
                health = Health::Warning;
                self.raise(
                    FindingId::KmsCountInsufficient,
                    Some(Severity::Warning),
                    vec![NOT_ENOUGH_COUNT],
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
        if status.is_some_and(|s| s != LicenseState::Licensed) {
            health = Health::Failing;
            let ev = p
                .lines
                .get(&FieldId::LicenseStatus)
                .map(|l| Self::evidence(path, l))
                .into_iter()
                .collect();
            self.raise(
                FindingId::ActivationError,
                None,
                vec![KMS_HOST_NOT_ACTIVATED],
                format!("KMS host {}: its own KMS host key is not activated, so it refuses every client (they get 0xC004F041).", self.input.name),
                ev,
            );
            notes.push("its own host key is not activated".to_owned());
        }
        self.worse(
            verdict::of_health(health),
            format!("KMS host: {}.", notes.join("; ")),
        );
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
}
