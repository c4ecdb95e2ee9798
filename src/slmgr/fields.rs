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
    /// Stores a field's value.
    pub(super) fn apply(&mut self, id: FieldId, value: &str, text: &TextLine) {
        let line = text.line;
        let v = value.trim();
        match id {
            FieldId::ServiceVersion => {
                self.snap.service_version = Some(v.to_owned());
                return;
            }
            FieldId::Name => {
                let starts_new = self
                    .product
                    .as_ref()
                    .is_some_and(|p| p.name.is_some() || product_has_content(p));
                if starts_new || self.product.is_none() {
                    self.start_product(line);
                }
                self.product_mut(line).name = Some(v.to_owned());
            }
            FieldId::Description => {
                let p = self.product_mut(line);
                p.description = Some(v.to_owned());
                p.channel = values::channel(v);
            }
            FieldId::AdditionalInfo | FieldId::Url => {}
            FieldId::ActivationId => {
                self.product_mut(line).activation_id =
                    Some(values::guid(v).unwrap_or_else(|| v.to_owned()));
            }
            FieldId::ApplicationId => {
                self.product_mut(line).application_id =
                    Some(values::guid(v).unwrap_or_else(|| v.to_owned()));
            }
            FieldId::ExtendedPid => self.product_mut(line).extended_pid = Some(v.to_owned()),
            FieldId::ProductKeyChannel => {
                self.product_mut(line).product_key_channel = Some(v.to_owned());
            }
            FieldId::InstallationId => self.product_mut(line).installation_id = Some(v.to_owned()),
            FieldId::PartialProductKey => {
                let p = self.product_mut(line);
                p.partial_product_key = Some(v.to_owned());
                p.in_use = true;
            }
            FieldId::LicenseStatus => {
                let status = self.vocab.status(v);
                let p = self.product_mut(line);
                p.license_status = status;
                p.license_status_text = Some(v.to_owned());
            }
            FieldId::VolumeExpiration => self.remaining(RemainingKind::VolumeActivation, v, line),
            FieldId::TimebasedExpiration => {
                self.remaining(RemainingKind::TimebasedActivation, v, line);
            }
            FieldId::AvmaExpiration => {
                self.remaining(RemainingKind::AutomaticVmActivation, v, line);
            }
            FieldId::TimeRemaining => self.remaining(RemainingKind::Grace, v, line),
            FieldId::NotificationReason => {
                self.product_mut(line).notification_reason = values::leading_code(v);
            }
            FieldId::EvaluationEndDate => self.date(Target::EvaluationEnd, v, line),
            FieldId::TrustedTime => self.date(Target::TrustedTime, v, line),
            FieldId::RearmWindows => {
                let n = values::whole_number(v);
                let p = self.product_mut(line);
                // German prints the Windows and the SKU count under the same label.
                if p.rearm_windows.is_some() && p.rearm_sku.is_none() {
                    p.rearm_sku = n;
                    p.lines.insert(FieldId::RearmSku, text.clone());
                    return;
                }
                p.rearm_windows = n;
            }
            FieldId::RearmApp => self.product_mut(line).rearm_app = values::whole_number(v),
            FieldId::RearmSku => self.product_mut(line).rearm_sku = values::whole_number(v),
            FieldId::ActivationType => self.product_mut(line).activation_type = Some(v.to_owned()),
            FieldId::Cmid => {
                self.section = Section::KmsClient;
                self.kms_client(line).cmid = Some(values::guid(v).unwrap_or_else(|| v.to_owned()));
            }
            FieldId::KmsLookupDomain => self.kms_client(line).lookup_domain = Some(v.to_owned()),
            FieldId::KmsRegisteredName => {
                self.kms_client(line).registered_host = values::host_port(v);
            }
            FieldId::KmsDnsName => {
                let hp = values::host_port(v);
                let failed = hp.is_none() && self.vocab.is_word(v, WordId::NotAvailable);
                let c = self.kms_client(line);
                c.dns_host = hp;
                c.dns_discovery_failed |= failed;
            }
            FieldId::KmsDnsDiscovery => {
                let failed = self.vocab.is_word(v, WordId::NotAvailable)
                    || v.to_ascii_lowercase().contains("not available");
                self.kms_client(line).dns_discovery_failed |= failed;
            }
            FieldId::KmsIp => {
                let ip = values::ip_address(v);
                self.kms_client(line).host_ip = ip;
            }
            FieldId::KmsEpid => self.kms_client(line).host_extended_pid = Some(v.to_owned()),
            FieldId::ActivationInterval => {
                self.kms_client(line).activation_interval_minutes = values::first_number(v);
            }
            FieldId::RenewalInterval => {
                self.kms_client(line).renewal_interval_minutes = values::first_number(v);
            }
            FieldId::CurrentCount => {
                self.section = Section::KmsHost;
                let h = self.kms_host(line);
                h.enabled = true;
                h.current_count = values::first_number(v);
            }
            FieldId::ListeningPort => {
                let port = values::first_number(v)
                    .and_then(|n| u16::try_from(n).ok())
                    .map(|p| if p == 0 { 1688 } else { p });
                self.kms_host(line).listening_port = port;
            }
            FieldId::DnsPublishing => {
                let on = if self.vocab.is_word(v, WordId::Enabled) {
                    Some(true)
                } else if self.vocab.is_word(v, WordId::Disabled) {
                    Some(false)
                } else {
                    None
                };
                self.kms_host(line).dns_publishing = on;
            }
            FieldId::KmsPriority => self.kms_host(line).priority = Some(v.to_owned()),
            FieldId::RequestsTotal
            | FieldId::RequestsFailed
            | FieldId::RequestsUnlicensed
            | FieldId::RequestsLicensed
            | FieldId::RequestsInitialGrace
            | FieldId::RequestsOot
            | FieldId::RequestsNongenuineGrace
            | FieldId::RequestsNotification => {
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
            }
            FieldId::AoName | FieldId::AoDn | FieldId::AoEpid | FieldId::AoActivationId => {
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
            }
            FieldId::AvmaGuestIaid
            | FieldId::AvmaHostName
            | FieldId::AvmaActivationTime
            | FieldId::AvmaHostPid2 => {
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
            }
        }
        self.product_mut(line).lines.insert(id, text.clone());
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
