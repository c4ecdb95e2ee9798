//! Lines no label table knows: a hard-wrapped continuation of the field or error above, or a
//! field whose label is in a language kmsdiag does not know, recognised by its value's shape
//! (GUID, extended PID, `server:port`, minutes, date, channel token…), by the section it stands
//! in, and by which of the product's fields slmgr's fixed order still leaves empty. What is
//! recovered is stored like a labelled value and listed as not understood, with what it was
//! taken as.

use super::parser::{LastField, MAX_NOT_UNDERSTOOD, Parser, Section};
use super::vocab::Prepared;
use crate::input::values;
use crate::model::snapshot::{
    HostPort, NotUnderstood, ProductLicense, Remaining, RemainingKind, TextLine,
};
use crate::rules::slmgr::FieldId;

/// What an unlabelled value was recognised as.
enum Recovered {
    Field(FieldId),
    KmsHost(HostPort),
    Remaining(u64, Option<u64>),
}

impl Parser<'_> {
    /// A line no table knows: a hard-wrapped continuation, a field whose label is in another
    /// language (recovered from its value), or a line kmsdiag does not understand.
    pub(super) fn unlabelled(&mut self, p: &Prepared, text: &TextLine, adjacent: bool) {
        if adjacent && self.continue_wrapped(p, text) {
            return;
        }
        // `/xpr` names the product on its own line: "Windows(R), Enterprise edition:".
        if let Some(name) = p.work.strip_suffix(':')
            && looks_like_product_name(name)
        {
            self.last_field = None;
            return;
        }
        let value = match p.work.split_once(':') {
            Some((label, value)) if !label.trim().is_empty() && label.chars().count() <= 80 => {
                value.trim()
            }
            _ => p.work.as_str(),
        };
        let taken_as = self.recover(value, text);
        if taken_as.is_some() {
            self.snap.lines_recovered = self.snap.lines_recovered.saturating_add(1);
        }
        if let Some(id) = taken_as {
            self.last_field = Some(LastField {
                id,
                value: value.to_owned(),
                line: text.line,
            });
        } else {
            self.last_field = None;
        }
        self.not_understood(text, taken_as);
    }

    fn not_understood(&mut self, text: &TextLine, taken_as: Option<FieldId>) {
        self.not_understood_total += 1;
        if self.snap.not_understood.len() < MAX_NOT_UNDERSTOOD {
            self.snap.not_understood.push(NotUnderstood {
                line: text.clone(),
                taken_as,
            });
        }
    }

    /// Appends a line to the field (or error text) above it when a console or forum wrapped it.
    fn continue_wrapped(&mut self, p: &Prepared, text: &TextLine) -> bool {
        if let Some(pending) = self.pending.as_mut() {
            pending.text = format!("{} {}", pending.text, p.work);
            if let Some(product) = pending.product.as_mut() {
                product.push(' ');
                product.push_str(p.work.trim_end_matches(['.', ' ']));
            }
            return true;
        }
        if let Some(idx) = self.last_error
            && let Some(cmd) = self.snap.commands.get_mut(idx)
        {
            cmd.text = format!("{} {}", cmd.text, p.work);
            return true;
        }
        let Some(last) = self.last_field.take() else {
            return false;
        };
        let wrappable = matches!(
            last.id,
            FieldId::Name
                | FieldId::Description
                | FieldId::ActivationId
                | FieldId::ApplicationId
                | FieldId::ExtendedPid
                | FieldId::InstallationId
                | FieldId::Cmid
                | FieldId::KmsEpid
                | FieldId::AoDn
                | FieldId::AoName
                | FieldId::KmsLookupDomain
                | FieldId::KmsRegisteredName
                | FieldId::KmsDnsName
                | FieldId::ProductKeyChannel
                | FieldId::LicenseStatus
                | FieldId::VolumeExpiration
                | FieldId::TimebasedExpiration
                | FieldId::AvmaExpiration
                | FieldId::TimeRemaining
                | FieldId::KmsDnsDiscovery
        );
        let piece = p.work.as_str();
        // A continuation is a fragment, not a new "label: value" line.
        if !wrappable || piece.contains(": ") {
            self.last_field = Some(last);
            return false;
        }
        let glue = if last.value.ends_with(['-', '_', '\\', '/', '.'])
            || piece.starts_with('-')
            || both_ids(&last.value, piece)
        {
            ""
        } else {
            " "
        };
        let joined = format!("{}{glue}{piece}", last.value);
        let line = TextLine {
            line: last.line,
            text: format!("{} / {}", last.value, text.text),
        };
        self.apply(last.id, &joined, &line);
        self.last_field = Some(LastField {
            id: last.id,
            value: joined,
            line: last.line,
        });
        true
    }

    /// Decides what an unlabelled value is from its shape and where it stands; stores it.
    fn recover(&mut self, v: &str, text: &TextLine) -> Option<FieldId> {
        let line = text.line;
        match self.decide(v)? {
            Recovered::Field(id) => {
                self.apply(id, v, text);
                Some(id)
            }
            Recovered::KmsHost(hp) => {
                self.section = Section::KmsClient;
                self.kms_client(line).host = Some(hp);
                self.product_mut(line)
                    .lines
                    .insert(FieldId::KmsRegisteredName, text.clone());
                Some(FieldId::KmsRegisteredName)
            }
            Recovered::Remaining(minutes, days_printed) => {
                let p = self.product_mut(line);
                p.remaining = Some(Remaining {
                    kind: RemainingKind::Unlabelled,
                    minutes,
                    days_printed,
                });
                p.lines.insert(FieldId::VolumeExpiration, text.clone());
                Some(FieldId::VolumeExpiration)
            }
        }
    }

    /// What an unlabelled value is, judged by its shape, the section it stands in, and which
    /// fields of the product are still empty (slmgr prints them in a fixed order).
    fn decide(&self, v: &str) -> Option<Recovered> {
        let product = self.product.as_ref();
        let has = |f: &dyn Fn(&ProductLicense) -> bool| product.is_some_and(f);
        let field = |id| Some(Recovered::Field(id));
        if let Some(code) = values::leading_code(v) {
            // slmgr prints a notification reason as a failure HRESULT (its top bit set) inside a
            // product's block. A short number (`Facility error: 0xBC6`, the low bits of a code
            // printed beside it) or a code before any product belongs to some other text.
            let failure = code.0 & 0x8000_0000 != 0;
            return (failure && product.is_some())
                .then_some(Recovered::Field(FieldId::NotificationReason));
        }
        if values::guid(v).is_some() {
            let has_cmid = has(&|p| p.kms_client.as_ref().is_some_and(|c| c.cmid.is_some()));
            return match self.section {
                Section::KmsClient if !has_cmid => field(FieldId::Cmid),
                Section::Ad => field(FieldId::AoActivationId),
                _ if !has(&|p| p.activation_id.is_some()) => field(FieldId::ActivationId),
                _ if !has(&|p| p.application_id.is_some()) => field(FieldId::ApplicationId),
                _ => None,
            };
        }
        if values::channel(v).is_some() && !has(&|p| p.description.is_some()) {
            return field(FieldId::Description);
        }
        if values::is_extended_pid(v) {
            return match self.section {
                Section::KmsClient => field(FieldId::KmsEpid),
                Section::Ad => field(FieldId::AoEpid),
                _ if !has(&|p| p.extended_pid.is_some()) => field(FieldId::ExtendedPid),
                _ => field(FieldId::KmsEpid),
            };
        }
        if values::is_product_key_channel(v) {
            return field(FieldId::ProductKeyChannel);
        }
        if values::is_installation_id(v) {
            return field(FieldId::InstallationId);
        }
        if let Some(hp) = values::host_port(v) {
            return Some(Recovered::KmsHost(hp));
        }
        if values::ip_address(v).is_some() {
            return field(FieldId::KmsIp);
        }
        if let Some((minutes, Some(days))) = values::minutes(v)
            && !has(&|p| p.remaining.is_some())
        {
            return Some(Recovered::Remaining(minutes, Some(days)));
        }
        if values::date(v).is_some() {
            return if has(&|p| p.rearm_windows.is_some()) {
                field(FieldId::TrustedTime)
            } else {
                field(FieldId::EvaluationEndDate)
            };
        }
        if values::whole_number(v).is_some() {
            return self.bare_number().map(Recovered::Field);
        }
        if self.section == Section::KmsClient && values::minutes(v).is_some() {
            let c = product.and_then(|p| p.kms_client.as_ref());
            let first_seen = c.is_some_and(|c| c.activation_interval_minutes.is_some());
            return field(if first_seen {
                FieldId::RenewalInterval
            } else {
                FieldId::ActivationInterval
            });
        }
        if values::partial_key(v).is_some() && !has(&|p| p.partial_product_key.is_some()) {
            return field(FieldId::PartialProductKey);
        }
        if values::is_version(v) && self.snap.products.is_empty() && self.product.is_none() {
            return field(FieldId::ServiceVersion);
        }
        if looks_like_product_name(v) {
            return field(FieldId::Name);
        }
        // Right after the partial key comes the license status: a short text without digits.
        let status_due =
            has(&|p| p.partial_product_key.is_some() && p.license_status_text.is_none());
        if status_due && !v.chars().any(|c| c.is_ascii_digit()) && v.chars().count() <= 120 {
            return field(FieldId::LicenseStatus);
        }
        None
    }

    /// What a bare number is, by the section it stands in: the next empty request counter of a
    /// KMS host, its current count and then its port, or a product's Windows and then SKU rearm
    /// count.
    fn bare_number(&self) -> Option<FieldId> {
        let product = self.product.as_ref();
        match self.section {
            Section::KmsHostRequests => {
                let r = product
                    .and_then(|p| p.kms_host.as_ref())
                    .map(|h| h.requests.clone())
                    .unwrap_or_default();
                [
                    (r.total, FieldId::RequestsTotal),
                    (r.failed, FieldId::RequestsFailed),
                    (r.unlicensed, FieldId::RequestsUnlicensed),
                    (r.licensed, FieldId::RequestsLicensed),
                    (r.initial_grace, FieldId::RequestsInitialGrace),
                    (r.expired_or_out_of_tolerance, FieldId::RequestsOot),
                    (r.non_genuine_grace, FieldId::RequestsNongenuineGrace),
                    (r.notification, FieldId::RequestsNotification),
                ]
                .into_iter()
                .find(|(n, _)| n.is_none())
                .map(|(_, id)| id)
            }
            Section::KmsHost => {
                let counted = product
                    .and_then(|p| p.kms_host.as_ref())
                    .is_some_and(|h| h.current_count.is_some());
                Some(if counted {
                    FieldId::ListeningPort
                } else {
                    FieldId::CurrentCount
                })
            }
            _ if product.is_some() => Some(if product.is_some_and(|p| p.rearm_windows.is_some()) {
                FieldId::RearmSku
            } else {
                FieldId::RearmWindows
            }),
            _ => None,
        }
    }
}

/// Both sides of a wrap are parts of one identifier (digits or hex).
fn both_ids(left: &str, right: &str) -> bool {
    let tail = left.chars().last().is_some_and(|c| c.is_ascii_hexdigit());
    let head = right.chars().all(|c| c.is_ascii_hexdigit() || c == '-');
    tail && head && !right.is_empty()
}

fn looks_like_product_name(v: &str) -> bool {
    let lower = v.to_ascii_lowercase();
    (lower.starts_with("windows") || lower.starts_with("office") || lower.starts_with("microsoft"))
        && (lower.contains("edition") || lower.contains("(r)") || lower.contains("(tm)"))
        && values::channel(v).is_none()
}
