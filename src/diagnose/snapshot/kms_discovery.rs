//! A KMS client that found no host through DNS: slmgr printed "DNS auto-discovery: KMS name not
//! available" (or "KMS machine name from DNS: not available", in any wording the slmgr vocabulary
//! knows, read into [`KmsClientInfo::dns_discovery_failed`]) on a machine that is not activated
//! and has no KMS host set by hand (`/skms`). Such a client has nobody to ask, whatever `/ato`
//! is retried, so `kms-dns-srv-missing` says where to look. A licensed client with the same line
//! activated through a host it had then (or one set by hand and cleared since): nothing to say.
//!
//! It knows the parsed KMS client section of a product, not how slmgr words it.

use crate::model::Verdict;
use crate::model::license::LicenseState;
use crate::model::snapshot::{KmsClientInfo, LicenseSnapshot, ProductLicense};
use crate::rules::Severity;
use crate::rules::slmgr::FieldId;

use super::super::registry::FindingId;
use super::MachineDiag;
use super::summary::product_label;

impl MachineDiag<'_> {
    /// Raises `kms-dns-srv-missing` for a product whose KMS client section says DNS discovery
    /// found no host, when it is not licensed and no host is registered.
    pub(super) fn kms_discovery(
        &mut self,
        snap: &LicenseSnapshot,
        p: &ProductLicense,
        status: Option<LicenseState>,
    ) {
        let Some(client) = p.kms_client.as_ref() else {
            return;
        };
        if !needs_dns(client, status) {
            return;
        }
        let evidence = [FieldId::KmsDnsDiscovery, FieldId::KmsDnsName]
            .iter()
            .filter_map(|id| p.lines.get(id))
            .map(|l| Self::evidence(&snap.path, l))
            .collect();
        let domain = client.lookup_domain.as_deref().map_or_else(
            || "its DNS domain".to_owned(),
            |d| format!("the lookup domain {}", crate::report::sanitize(d, true)),
        );
        // While a grace period runs the machine still works: a warning until it ends (no
        // error-severity finding on a machine in grace with time left).
        let severity = status
            .is_some_and(LicenseState::is_grace)
            .then_some(Severity::Warning);
        self.raise(
            FindingId::KmsDnsSrvMissing,
            severity,
            Vec::new(),
            format!(
                "{} is a KMS client that is not activated, has no KMS host set with /skms, and found no KMS host through DNS: its licensing data holds no KMS name from auto-discovery, so no _vlmcs._tcp record answered in {domain}. Retrying /ato will not help until a host is found.",
                product_label(p)
            ),
            evidence,
        );
        self.worse(
            if severity.is_some() {
                Verdict::Warning
            } else {
                Verdict::Failing
            },
            format!(
                "{}: no KMS host is found in DNS (_vlmcs._tcp) and none is set with /skms, so it cannot activate.",
                product_label(p)
            ),
        );
    }
}

/// A client that depends on DNS discovery, found nothing, and is not activated.
fn needs_dns(client: &KmsClientInfo, status: Option<LicenseState>) -> bool {
    client.dns_discovery_failed
        && client.kms_host().is_none()
        && status.is_some_and(|s| s != LicenseState::Licensed && s != LicenseState::Unknown)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> KmsClientInfo {
        KmsClientInfo {
            dns_discovery_failed: true,
            ..KmsClientInfo::default()
        }
    }

    #[test]
    fn an_unactivated_client_without_a_host_needs_dns() {
        for s in [
            LicenseState::InitialGrace,
            LicenseState::AdditionalGrace,
            LicenseState::Notification,
            LicenseState::Unlicensed,
        ] {
            assert!(needs_dns(&failed(), Some(s)), "{s:?}");
        }
    }

    #[test]
    fn a_licensed_client_or_a_set_host_or_an_unknown_state_does_not() {
        assert!(!needs_dns(&failed(), Some(LicenseState::Licensed)));
        assert!(!needs_dns(&failed(), Some(LicenseState::Unknown)));
        assert!(!needs_dns(&failed(), None));
        let set = KmsClientInfo {
            registered_host: crate::input::values::host_port("kms01.contoso.com:1688"),
            ..failed()
        };
        assert!(set.registered_host.is_some());
        assert!(!needs_dns(&set, Some(LicenseState::InitialGrace)));
        assert!(!needs_dns(
            &KmsClientInfo::default(),
            Some(LicenseState::InitialGrace)
        ));
    }
}
