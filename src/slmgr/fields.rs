//! Storing a labelled value: the field a known label names decides where its value goes in the
//! product being read (identity, license state, remaining time and dates, rearm counts, KMS
//! client and host settings, AD and AVMA details), in the shape the value grammar reads it, and
//! the line is kept as evidence for that field.

use super::parser::{Parser, Section, Target, product_has_content};
use crate::input::values;
use crate::model::snapshot::{
    AdActivationInfo, AvmaInfo, DateValue, Remaining, RemainingKind, TextLine,
};
use crate::rules::slmgr::{FieldId, WordId};

impl Parser<'_> {
    /// Stores a field's value in the product being read and keeps its line as evidence for the
    /// field. The service version belongs to the snapshot, not to a product, and keeps no line.
    pub(super) fn apply(&mut self, id: FieldId, value: &str, text: &TextLine) {
        let line = text.line;
        let v = value.trim();
        let kept_as = match id {
            FieldId::ServiceVersion => {
                self.snap.service_version = Some(v.to_owned());
                return;
            }
            FieldId::Name
            | FieldId::Description
            | FieldId::AdditionalInfo
            | FieldId::Url
            | FieldId::ActivationId
            | FieldId::ApplicationId
            | FieldId::ExtendedPid
            | FieldId::ProductKeyChannel
            | FieldId::InstallationId
            | FieldId::PartialProductKey => self.apply_identity(id, v, line),
            FieldId::LicenseStatus | FieldId::NotificationReason | FieldId::ActivationType => {
                self.apply_license_state(id, v, line)
            }
            FieldId::VolumeExpiration
            | FieldId::TimebasedExpiration
            | FieldId::AvmaExpiration
            | FieldId::TimeRemaining
            | FieldId::EvaluationEndDate
            | FieldId::TrustedTime => self.apply_time(id, v, line),
            FieldId::RearmWindows | FieldId::RearmApp | FieldId::RearmSku => {
                self.apply_rearm(id, v, line)
            }
            FieldId::Cmid
            | FieldId::KmsLookupDomain
            | FieldId::KmsRegisteredName
            | FieldId::KmsDnsName
            | FieldId::KmsDnsDiscovery
            | FieldId::KmsIp
            | FieldId::KmsEpid
            | FieldId::ActivationInterval
            | FieldId::RenewalInterval => self.apply_kms_client(id, v, line),
            FieldId::CurrentCount
            | FieldId::ListeningPort
            | FieldId::DnsPublishing
            | FieldId::KmsPriority => self.apply_kms_host(id, v, line),
            FieldId::RequestsTotal
            | FieldId::RequestsFailed
            | FieldId::RequestsUnlicensed
            | FieldId::RequestsLicensed
            | FieldId::RequestsInitialGrace
            | FieldId::RequestsOot
            | FieldId::RequestsNongenuineGrace
            | FieldId::RequestsNotification => self.apply_kms_requests(id, v, line),
            FieldId::AoName | FieldId::AoDn | FieldId::AoEpid | FieldId::AoActivationId => {
                self.apply_ad(id, v, line)
            }
            FieldId::AvmaGuestIaid
            | FieldId::AvmaHostName
            | FieldId::AvmaActivationTime
            | FieldId::AvmaHostPid2 => self.apply_avma(id, v, line),
        };
        self.product_mut(line).lines.insert(kept_as, text.clone());
    }

    // Each `apply_*` stores the fields of one family (`apply` routes only that family's fields
    // to it, so the catch-all arms are never taken) and returns the field the line is kept as.

    /// What the product is: name (which starts a new product block), description and channel,
    /// IDs, key channel and partial key.
    fn apply_identity(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        if id == FieldId::Name {
            let starts_new = self
                .product
                .as_ref()
                .is_some_and(|p| p.name.is_some() || product_has_content(p));
            if starts_new || self.product.is_none() {
                self.start_product(line);
            }
        }
        let p = self.product_mut(line);
        match id {
            FieldId::Name => p.name = Some(v.to_owned()),
            FieldId::Description => {
                p.description = Some(v.to_owned());
                p.channel = values::channel(v);
            }
            FieldId::ActivationId => {
                p.activation_id = Some(values::guid(v).unwrap_or_else(|| v.to_owned()));
            }
            FieldId::ApplicationId => {
                p.application_id = Some(values::guid(v).unwrap_or_else(|| v.to_owned()));
            }
            FieldId::ExtendedPid => p.extended_pid = Some(v.to_owned()),
            FieldId::ProductKeyChannel => p.product_key_channel = Some(v.to_owned()),
            FieldId::InstallationId => p.installation_id = Some(v.to_owned()),
            FieldId::PartialProductKey => {
                p.partial_product_key = Some(v.to_owned());
                p.in_use = true;
            }
            // Additional information and the URL are kept as lines only.
            _ => {}
        }
        id
    }

    /// The license status (as a state and as printed), the notification reason, and the
    /// configured activation type.
    fn apply_license_state(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        let vocab = self.vocab;
        let p = self.product_mut(line);
        match id {
            FieldId::LicenseStatus => {
                p.license_status = vocab.status(v);
                p.license_status_text = Some(v.to_owned());
            }
            FieldId::NotificationReason => p.notification_reason = values::leading_code(v),
            _ => p.activation_type = Some(v.to_owned()),
        }
        id
    }

    /// Remaining activation or grace time, the evaluation end and the trusted time.
    fn apply_time(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        match id {
            FieldId::VolumeExpiration => self.remaining(RemainingKind::VolumeActivation, v, line),
            FieldId::TimebasedExpiration => {
                self.remaining(RemainingKind::TimebasedActivation, v, line);
            }
            FieldId::AvmaExpiration => {
                self.remaining(RemainingKind::AutomaticVmActivation, v, line);
            }
            FieldId::TimeRemaining => self.remaining(RemainingKind::Grace, v, line),
            FieldId::EvaluationEndDate => self.date(Target::EvaluationEnd, v, line),
            _ => self.date(Target::TrustedTime, v, line),
        }
        id
    }

    /// The rearm counts. German prints the Windows and the SKU count under the same label: a
    /// second Windows count is the SKU count, and its line is kept as that.
    fn apply_rearm(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        let n = values::whole_number(v);
        let p = self.product_mut(line);
        match id {
            FieldId::RearmWindows if p.rearm_windows.is_some() && p.rearm_sku.is_none() => {
                p.rearm_sku = n;
                return FieldId::RearmSku;
            }
            FieldId::RearmWindows => p.rearm_windows = n,
            FieldId::RearmApp => p.rearm_app = n,
            _ => p.rearm_sku = n,
        }
        id
    }

    /// The KMS client section: CMID, the host as registered, found in DNS or by IP, the host's
    /// extended PID, and the activation and renewal intervals.
    fn apply_kms_client(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        if id == FieldId::Cmid {
            self.section = Section::KmsClient;
        }
        let vocab = self.vocab;
        let c = self.kms_client(line);
        match id {
            FieldId::Cmid => c.cmid = Some(values::guid(v).unwrap_or_else(|| v.to_owned())),
            FieldId::KmsLookupDomain => c.lookup_domain = Some(v.to_owned()),
            FieldId::KmsRegisteredName => c.registered_host = values::host_port(v),
            FieldId::KmsDnsName => {
                let hp = values::host_port(v);
                c.dns_discovery_failed |= hp.is_none() && vocab.is_word(v, WordId::NotAvailable);
                c.dns_host = hp;
            }
            FieldId::KmsDnsDiscovery => {
                c.dns_discovery_failed |= vocab.is_word(v, WordId::NotAvailable)
                    || v.to_ascii_lowercase().contains("not available");
            }
            FieldId::KmsIp => c.host_ip = values::ip_address(v),
            FieldId::KmsEpid => c.host_extended_pid = Some(v.to_owned()),
            FieldId::ActivationInterval => c.activation_interval_minutes = values::first_number(v),
            _ => c.renewal_interval_minutes = values::first_number(v),
        }
        id
    }

    /// The KMS host section: the current count (which marks the host as enabled), the port
    /// (0 means the default 1688), DNS publishing and priority.
    fn apply_kms_host(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        if id == FieldId::CurrentCount {
            self.section = Section::KmsHost;
        }
        let vocab = self.vocab;
        let h = self.kms_host(line);
        match id {
            FieldId::CurrentCount => {
                h.enabled = true;
                h.current_count = values::first_number(v);
            }
            FieldId::ListeningPort => {
                h.listening_port = values::first_number(v)
                    .and_then(|n| u16::try_from(n).ok())
                    .map(|p| if p == 0 { 1688 } else { p });
            }
            FieldId::DnsPublishing => {
                h.dns_publishing = if vocab.is_word(v, WordId::Enabled) {
                    Some(true)
                } else if vocab.is_word(v, WordId::Disabled) {
                    Some(false)
                } else {
                    None
                };
            }
            _ => h.priority = Some(v.to_owned()),
        }
        id
    }

    /// The requests a KMS host counted, by the client's license status.
    fn apply_kms_requests(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        self.section = Section::KmsHostRequests;
        let n = values::first_number(v);
        let r = &mut self.kms_host(line).requests;
        let slot = match id {
            FieldId::RequestsTotal => &mut r.total,
            FieldId::RequestsFailed => &mut r.failed,
            FieldId::RequestsUnlicensed => &mut r.unlicensed,
            FieldId::RequestsLicensed => &mut r.licensed,
            FieldId::RequestsInitialGrace => &mut r.initial_grace,
            FieldId::RequestsOot => &mut r.expired_or_out_of_tolerance,
            FieldId::RequestsNongenuineGrace => &mut r.non_genuine_grace,
            _ => &mut r.notification,
        };
        *slot = n;
        id
    }

    /// Active Directory-based activation: the activation object's name, DN, extended PID and ID.
    fn apply_ad(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        self.section = Section::Ad;
        let ad = self
            .product_mut(line)
            .ad_activation
            .get_or_insert_with(AdActivationInfo::default);
        let slot = match id {
            FieldId::AoName => &mut ad.object_name,
            FieldId::AoDn => &mut ad.object_dn,
            FieldId::AoEpid => &mut ad.extended_pid,
            _ => &mut ad.activation_id,
        };
        *slot = Some(v.to_owned());
        id
    }

    /// Automatic VM activation: the guest's IAID, and the host's name, time and digital PID.
    fn apply_avma(&mut self, id: FieldId, v: &str, line: u32) -> FieldId {
        self.section = Section::Avma;
        let avma = self
            .product_mut(line)
            .avma
            .get_or_insert_with(AvmaInfo::default);
        let slot = match id {
            FieldId::AvmaGuestIaid => &mut avma.guest_iaid,
            FieldId::AvmaHostName => &mut avma.host_name,
            FieldId::AvmaActivationTime => &mut avma.activation_time,
            _ => &mut avma.host_digital_pid2,
        };
        *slot = Some(v.to_owned());
        id
    }

    fn remaining(&mut self, kind: RemainingKind, v: &str, line: u32) {
        let r = values::minutes(v).map(|(minutes, days_printed)| Remaining {
            kind,
            minutes,
            days_printed,
        });
        self.product_mut(line).remaining = r;
    }

    fn date(&mut self, target: Target, v: &str, line: u32) {
        if let Some(raw) = values::date(v) {
            let product = self.snap.products.len();
            self.product_mut(line);
            self.raw_dates.push((product, 0, target, raw));
        } else {
            let text = DateValue {
                text: v.to_owned(),
                parsed: None,
                order: None,
                ambiguous: false,
            };
            let p = self.product_mut(line);
            match target {
                Target::TrustedTime => p.trusted_time = Some(text),
                Target::EvaluationEnd => p.evaluation_end = Some(text),
                Target::Expiry => {}
            }
        }
    }
}
