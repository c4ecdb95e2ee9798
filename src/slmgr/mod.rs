//! The slmgr text decoder: `/dli`, `/dlv`, `/dlv all`, `/xpr` and the result lines of `/ato`,
//! `/ipk`, `/upk`, `/skms`, `/ckms`, `/rearm`, in any UI language, in the encodings consoles and
//! editors write, as pasted, redirected or hard-wrapped — into [`LicenseSnapshot`]s.
//!
//! Labels come from `rules/slmgr.toml`. Where a label is not known, the value's shape (GUID,
//! extended PID, `server:port`, minutes, date, channel token…) and slmgr's fixed line order decide
//! what it is, and the line is listed as not understood with what it was taken as. This module
//! knows the format, not what the values mean for a diagnosis.

mod vocab;

use std::collections::BTreeMap;

use crate::hresult::{Hresult, NONGENUINE_GRACE_PERIOD, SL_E_NOT_GENUINE};
use crate::input::values;
use crate::model::snapshot::{
    AdActivationInfo, AvmaInfo, CommandResult, DateValue, ExpiryKind, ExpiryLine, KmsClientInfo,
    KmsHostInfo, LicenseSnapshot, NotUnderstood, ProductLicense, Remaining, RemainingKind,
    TextLine,
};
use crate::rules::Rules;
use crate::rules::slmgr::{FieldId, PhraseId, StatusId, WordId};
use vocab::{Match, Prepared, Vocabulary, prepare};

/// Inputs larger than this are not slmgr output; they are refused before decoding.
pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Lines longer than this are cut (a pasted line is never this long).
const MAX_LINE_CHARS: usize = 4096;
/// At most this many not-understood lines are kept per snapshot (the count is still reported).
const MAX_NOT_UNDERSTOOD: usize = 500;

/// Why a text input is not slmgr output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlmgrError {
    #[error(
        "{path}: not slmgr output (no license block, /xpr line or command result found in {lines} line(s))"
    )]
    NotSlmgr { path: String, lines: u32 },
    #[error("{path}: {size} bytes is too large for slmgr output (limit {MAX_INPUT_BYTES} bytes)")]
    TooLarge { path: String, size: usize },
}

/// Decodes and parses one input. A file may hold several machines' output (each after its own
/// machine header); each becomes one snapshot. To read many inputs, make one [`SlmgrReader`].
pub fn parse_bytes(
    rules: &Rules,
    path: &str,
    bytes: &[u8],
) -> Result<Vec<LicenseSnapshot>, SlmgrError> {
    SlmgrReader::new(rules).parse(path, bytes)
}

/// The slmgr decoder with its label tables prepared once, for reading many inputs.
pub struct SlmgrReader {
    vocab: Vocabulary,
}

impl SlmgrReader {
    pub fn new(rules: &Rules) -> SlmgrReader {
        SlmgrReader {
            vocab: Vocabulary::new(rules),
        }
    }

    /// Decodes and parses one input (see [`parse_bytes`]).
    pub fn parse(&self, path: &str, bytes: &[u8]) -> Result<Vec<LicenseSnapshot>, SlmgrError> {
        parse_with(&self.vocab, path, bytes)
    }
}

fn parse_with(
    vocab: &Vocabulary,
    path: &str,
    bytes: &[u8],
) -> Result<Vec<LicenseSnapshot>, SlmgrError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(SlmgrError::TooLarge {
            path: path.to_owned(),
            size: bytes.len(),
        });
    }
    let decoded = crate::input::encoding::decode(bytes, &|t| score(vocab, t));
    let mut snaps = parse_text(vocab, path, &decoded.text);
    for s in &mut snaps {
        decoded.encoding.clone_into(&mut s.encoding);
        if decoded.lossy {
            s.warnings.push(format!(
                "some bytes are not valid {} and were replaced",
                decoded.encoding
            ));
        }
    }
    let lines = u32::try_from(decoded.text.lines().count()).unwrap_or(u32::MAX);
    snaps.retain(has_content);
    if snaps.is_empty() {
        return Err(SlmgrError::NotSlmgr {
            path: path.to_owned(),
            lines,
        });
    }
    Ok(snaps)
}

/// How much of a text reads as slmgr output (used to choose a legacy code page).
fn score(vocab: &Vocabulary, text: &str) -> usize {
    text.lines()
        .take(120)
        .filter(|l| !l.trim().is_empty() && vocab.classify(&prepare(l)).is_some())
        .count()
}

/// Whether a snapshot says anything about licensing at all. Text in which no label or phrase is
/// known must show at least three recognisable values before it is taken for slmgr output.
fn has_content(s: &LicenseSnapshot) -> bool {
    if s.lines_understood == 0 && s.lines_recovered < 3 {
        return false;
    }
    !s.commands.is_empty() || !s.expiry.is_empty() || s.products.iter().any(product_has_content)
}

fn product_has_content(p: &ProductLicense) -> bool {
    p.description.is_some()
        || p.license_status_text.is_some()
        || p.partial_product_key.is_some()
        || p.activation_id.is_some()
        || p.kms_client.is_some()
        || p.kms_host.is_some()
        || !p.in_use
}

/// Parses decoded text with a prepared vocabulary.
pub(crate) fn parse_text(vocab: &Vocabulary, path: &str, text: &str) -> Vec<LicenseSnapshot> {
    let mut p = Parser::new(vocab, path);
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw: String = raw.chars().take(MAX_LINE_CHARS).collect();
        p.line(line_no, raw.trim_end_matches('\r'));
    }
    p.finish()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    Product,
    KmsClient,
    KmsHost,
    KmsHostRequests,
    Ad,
    Avma,
}

/// The last field set, so that a hard-wrapped continuation line can be appended to it.
struct LastField {
    id: FieldId,
    value: String,
    line: u32,
}

struct Parser<'v> {
    vocab: &'v Vocabulary,
    path: String,
    done: Vec<LicenseSnapshot>,
    snap: LicenseSnapshot,
    product: Option<ProductLicense>,
    section: Section,
    /// The slmgr option last seen on a command line (`ato`, `ipk`, …).
    command: Option<String>,
    /// "Activating …" waiting for its outcome.
    pending: Option<CommandResult>,
    last_field: Option<LastField>,
    /// Index in `snap.commands` of an error whose text may continue on the next line.
    last_error: Option<usize>,
    prev_line: u32,
    raw_dates: Vec<(usize, usize, Target, values::RawDate)>,
    lang_hits: BTreeMap<usize, usize>,
    not_understood_total: usize,
}

/// What an unlabelled value was recognised as.
enum Recovered {
    Field(FieldId),
    KmsHost(crate::model::snapshot::HostPort),
    Remaining(u64, Option<u64>),
}

/// Where a date found during parsing is stored once its day/month order is known.
#[derive(Clone, Copy)]
enum Target {
    TrustedTime,
    EvaluationEnd,
    Expiry,
}

fn empty_snapshot(path: &str) -> LicenseSnapshot {
    LicenseSnapshot {
        path: path.to_owned(),
        encoding: String::new(),
        languages: Vec::new(),
        machine: None,
        machine_line: None,
        service_version: None,
        products: Vec::new(),
        commands: Vec::new(),
        expiry: Vec::new(),
        not_understood: Vec::new(),
        warnings: Vec::new(),
        lines_read: 0,
        lines_understood: 0,
        lines_recovered: 0,
    }
}

impl<'v> Parser<'v> {
    fn new(vocab: &'v Vocabulary, path: &str) -> Self {
        Parser {
            vocab,
            path: path.to_owned(),
            done: Vec::new(),
            snap: empty_snapshot(path),
            product: None,
            section: Section::Product,
            command: None,
            pending: None,
            last_field: None,
            last_error: None,
            prev_line: 0,
            raw_dates: Vec::new(),
            lang_hits: BTreeMap::new(),
            not_understood_total: 0,
        }
    }

    fn line(&mut self, no: u32, raw: &str) {
        self.snap.lines_read = self.snap.lines_read.saturating_add(1);
        let stripped = strip_decoration(raw);
        let prepared = prepare(stripped);
        if prepared.work.is_empty() {
            self.last_field = None;
            self.last_error = None;
            self.prev_line = no;
            return;
        }
        let adjacent = self.prev_line + 1 == no;
        self.prev_line = no;
        let text = TextLine {
            line: no,
            text: raw.trim().to_owned(),
        };
        if self.machine_header(&prepared, &text)
            || self.command_line(&prepared)
            || is_context(&prepared)
        {
            self.last_field = None;
            return;
        }
        match self.vocab.classify(&prepared) {
            Some(Match::Field { id, value, lang }) => {
                self.hit(lang);
                self.last_error = None;
                self.apply(id, &value, &text);
                self.last_field = Some(LastField {
                    id,
                    value,
                    line: no,
                });
            }
            Some(Match::Phrase { id, captures, lang }) => {
                self.hit(lang);
                self.last_field = None;
                self.phrase(id, &captures, &text);
            }
            None => self.unlabelled(&prepared, &text, adjacent),
        }
    }

    fn hit(&mut self, lang: usize) {
        self.snap.lines_understood = self.snap.lines_understood.saturating_add(1);
        *self.lang_hits.entry(lang).or_default() += 1;
    }

    /// A line naming the machine: a PowerShell transcript header, `hostname`-style output, or
    /// slmgr's own "Connected to server NAME." for remote runs. Starts a new snapshot when the
    /// current one already holds another machine's output.
    fn machine_header(&mut self, p: &Prepared, text: &TextLine) -> bool {
        let name = machine_name(p);
        let Some(name) = name else { return false };
        let has_output = self.product.is_some()
            || !self.snap.products.is_empty()
            || !self.snap.commands.is_empty();
        if has_output || self.snap.machine.is_some() {
            self.finish_snapshot();
        }
        self.snap.machine = Some(name);
        self.snap.machine_line = Some(text.clone());
        true
    }

    /// A command line that runs slmgr (`C:\> cscript slmgr.vbs /ato`): remembers the option.
    fn command_line(&mut self, p: &Prepared) -> bool {
        let Some(pos) = p.lower.find("slmgr") else {
            return false;
        };
        let after = p.lower.get(pos..).unwrap_or("");
        let option = after
            .split_whitespace()
            .skip(1)
            .find_map(|w| w.strip_prefix('/').or_else(|| w.strip_prefix('-')))
            .map(|o| o.trim_end_matches(['.', ',']).to_owned());
        let Some(option) = option else { return false };
        // A prose sentence mentioning slmgr is not a command line.
        let before = p.lower.get(..pos).unwrap_or("");
        if before.split_whitespace().count() > 4 {
            return false;
        }
        self.flush_pending();
        self.command = Some(option);
        true
    }

    fn product_mut(&mut self, line: u32) -> &mut ProductLicense {
        self.product.get_or_insert_with(|| ProductLicense {
            line,
            in_use: true,
            ..ProductLicense::default()
        })
    }

    fn start_product(&mut self, line: u32) {
        if let Some(p) = self.product.take() {
            self.snap.products.push(p);
        }
        self.section = Section::Product;
        self.product = Some(ProductLicense {
            line,
            in_use: true,
            ..ProductLicense::default()
        });
    }

    fn kms_client(&mut self, line: u32) -> &mut KmsClientInfo {
        self.product_mut(line)
            .kms_client
            .get_or_insert_with(KmsClientInfo::default)
    }

    fn kms_host(&mut self, line: u32) -> &mut KmsHostInfo {
        self.product_mut(line)
            .kms_host
            .get_or_insert_with(KmsHostInfo::default)
    }

    /// Stores a field's value.
    fn apply(&mut self, id: FieldId, value: &str, text: &TextLine) {
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

    fn phrase(&mut self, id: PhraseId, caps: &[String], text: &TextLine) {
        let line = text.line;
        let cap = caps.first().map_or("", String::as_str);
        match id {
            PhraseId::Banner
            | PhraseId::MostRecentActivation
            | PhraseId::PleaseActivate
            | PhraseId::RestartNeeded
            | PhraseId::SkmsWarning => {}
            PhraseId::KmsClientInfo => {
                self.section = Section::KmsClient;
                self.kms_client(line);
            }
            PhraseId::KmsHostEnabled => {
                self.section = Section::KmsHost;
                self.kms_host(line).enabled = true;
            }
            PhraseId::KmsHostRequests => {
                self.section = Section::KmsHostRequests;
                self.kms_host(line);
            }
            PhraseId::HostCachingEnabled => self.kms_client(line).host_caching = Some(true),
            PhraseId::HostCachingDisabled => self.kms_client(line).host_caching = Some(false),
            PhraseId::DnsPublishingEnabled => self.kms_host(line).dns_publishing = Some(true),
            PhraseId::DnsPublishingDisabled => self.kms_host(line).dns_publishing = Some(false),
            PhraseId::LicenseNotInUse => {
                let p = self.product_mut(line);
                p.in_use = false;
                p.lines.insert(FieldId::PartialProductKey, text.clone());
            }
            PhraseId::AdClientInfo => {
                self.section = Section::Ad;
                self.product_mut(line)
                    .ad_activation
                    .get_or_insert_with(AdActivationInfo::default);
            }
            PhraseId::AvmaClientInfo => {
                self.section = Section::Avma;
                self.product_mut(line)
                    .avma
                    .get_or_insert_with(AvmaInfo::default);
            }
            PhraseId::Activating => {
                self.flush_pending();
                self.pending = Some(CommandResult {
                    command: self.command.clone().unwrap_or_else(|| "ato".to_owned()),
                    product: Some(cap.to_owned()),
                    succeeded: false,
                    code: None,
                    text: text.text.clone(),
                    line,
                });
            }
            PhraseId::Activated => self.outcome("ato", true, None, text),
            PhraseId::ActivationFailed => self.outcome("ato", false, None, text),
            PhraseId::PkeyInstalled => self.outcome("ipk", true, None, text),
            PhraseId::PkeyUninstalled => self.outcome("upk", true, None, text),
            PhraseId::KmsNameSet => self.outcome("skms", true, None, text),
            PhraseId::KmsNameCleared => self.outcome("ckms", true, None, text),
            PhraseId::CommandCompleted => {
                let cmd = self.command.clone().unwrap_or_else(|| "rearm".to_owned());
                self.outcome(&cmd, true, None, text);
            }
            PhraseId::Error => {
                let code = values::code_in(cap);
                let cmd = self.command.clone().unwrap_or_else(|| "unknown".to_owned());
                self.outcome(&cmd, false, code, text);
                self.last_error = self.snap.commands.len().checked_sub(1);
            }
            PhraseId::SluiHint => {
                let code = values::code_in(cap);
                if let Some(last) = self.snap.commands.last_mut()
                    && last.code.is_none()
                {
                    last.code = code;
                }
            }
            PhraseId::NongenuineGraceError | PhraseId::NongenuineNotificationError => {
                let cmd = self.command.clone().unwrap_or_else(|| "ato".to_owned());
                let code = if id == PhraseId::NongenuineGraceError {
                    NONGENUINE_GRACE_PERIOD
                } else {
                    SL_E_NOT_GENUINE
                };
                self.outcome(&cmd, false, Some(code), text);
            }
            PhraseId::PermanentlyActivated => self.expiry(ExpiryKind::Permanent, None, text),
            PhraseId::XprVolume => self.expiry(ExpiryKind::VolumeActivation, Some(cap), text),
            PhraseId::XprTimebased => self.expiry(ExpiryKind::TimebasedActivation, Some(cap), text),
            PhraseId::XprAvma => self.expiry(ExpiryKind::AutomaticVmActivation, Some(cap), text),
            PhraseId::XprInitialGrace => self.expiry(ExpiryKind::InitialGrace, Some(cap), text),
            PhraseId::XprAdditionalGrace => {
                self.expiry(ExpiryKind::AdditionalGrace, Some(cap), text)
            }
            PhraseId::XprNongenuineGrace => {
                self.expiry(ExpiryKind::NonGenuineGrace, Some(cap), text)
            }
            PhraseId::XprExtendedGrace => self.expiry(ExpiryKind::ExtendedGrace, Some(cap), text),
            PhraseId::XprNotification => self.expiry(ExpiryKind::Notification, None, text),
            PhraseId::XprUnlicensed => self.expiry(ExpiryKind::Unlicensed, None, text),
        }
    }

    /// Records a command's outcome, completing a pending "Activating …" when there is one.
    fn outcome(&mut self, default_cmd: &str, ok: bool, code: Option<Hresult>, text: &TextLine) {
        let result = match self.pending.take() {
            Some(mut p) => {
                p.succeeded = ok;
                p.code = code.or(p.code);
                p.text = format!("{} {}", p.text, text.text);
                p.line = text.line;
                p
            }
            None => CommandResult {
                command: self
                    .command
                    .clone()
                    .unwrap_or_else(|| default_cmd.to_owned()),
                product: None,
                succeeded: ok,
                code,
                text: text.text.clone(),
                line: text.line,
            },
        };
        self.snap.commands.push(result);
    }

    fn flush_pending(&mut self) {
        if let Some(p) = self.pending.take() {
            self.snap.commands.push(p);
        }
    }

    fn expiry(&mut self, kind: ExpiryKind, date: Option<&str>, text: &TextLine) {
        let idx = self.snap.expiry.len();
        self.snap.expiry.push(ExpiryLine {
            kind,
            date: None,
            line: text.clone(),
        });
        if let Some(raw) = date.and_then(values::date) {
            self.raw_dates.push((usize::MAX, idx, Target::Expiry, raw));
        }
    }

    /// A line no table knows: a hard-wrapped continuation, a field whose label is in another
    /// language (recovered from its value), or a line kmsdiag does not understand.
    fn unlabelled(&mut self, p: &Prepared, text: &TextLine, adjacent: bool) {
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
        if values::leading_code(v).is_some() {
            return field(FieldId::NotificationReason);
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
            return match self.section {
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
                    .and_then(|(_, id)| field(id))
                }
                Section::KmsHost => {
                    let counted = product
                        .and_then(|p| p.kms_host.as_ref())
                        .is_some_and(|h| h.current_count.is_some());
                    field(if counted {
                        FieldId::ListeningPort
                    } else {
                        FieldId::CurrentCount
                    })
                }
                _ if product.is_some() => field(if has(&|p| p.rearm_windows.is_some()) {
                    FieldId::RearmSku
                } else {
                    FieldId::RearmWindows
                }),
                _ => None,
            };
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

    fn finish_snapshot(&mut self) {
        self.flush_pending();
        if let Some(p) = self.product.take() {
            self.snap.products.push(p);
        }
        self.resolve_dates();
        let mut hits: Vec<(usize, usize)> = self.lang_hits.iter().map(|(l, n)| (*l, *n)).collect();
        hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.snap.languages = hits
            .into_iter()
            .filter_map(|(l, _)| self.vocab.languages.get(l).cloned())
            .collect();
        if self.not_understood_total > MAX_NOT_UNDERSTOOD {
            self.snap.warnings.push(format!(
                "{} lines were not understood; the first {MAX_NOT_UNDERSTOOD} are listed",
                self.not_understood_total
            ));
        }
        let next = empty_snapshot(&self.path);
        let done = std::mem::replace(&mut self.snap, next);
        self.done.push(done);
        self.section = Section::Product;
        self.command = None;
        self.last_field = None;
        self.last_error = None;
        self.lang_hits.clear();
        self.not_understood_total = 0;
    }

    /// Decides day/month order once for the whole snapshot: a date whose numbers force an order
    /// decides it for the ambiguous ones; otherwise each date's own clues do.
    fn resolve_dates(&mut self) {
        let dates = std::mem::take(&mut self.raw_dates);
        let forced = dates
            .iter()
            .find_map(|(_, _, _, d)| d.forced_order().filter(|o| *o != "ymd"));
        for (product, expiry, target, raw) in dates {
            let order = forced.unwrap_or_else(|| raw.default_order());
            let mut value = raw.resolve(order);
            if forced.is_some() {
                value.ambiguous = false;
            }
            match target {
                Target::Expiry => {
                    if let Some(e) = self.snap.expiry.get_mut(expiry) {
                        e.date = Some(value);
                    }
                }
                Target::TrustedTime | Target::EvaluationEnd => {
                    if let Some(p) = self.snap.products.get_mut(product) {
                        if matches!(target, Target::TrustedTime) {
                            p.trusted_time = Some(value);
                        } else {
                            p.evaluation_end = Some(value);
                        }
                    }
                }
            }
        }
    }

    fn finish(mut self) -> Vec<LicenseSnapshot> {
        self.finish_snapshot();
        self.done
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

/// Lines of a PowerShell transcript header.
const TRANSCRIPT: &[&str] = &[
    "windows powershell transcript",
    "start time:",
    "end time:",
    "username:",
    "runas user:",
    "configuration name:",
    "host application:",
    "process id:",
    "psversion:",
    "psedition:",
    "pscompatibleversions:",
    "buildversion:",
    "clrversion:",
    "wsmanstackversion:",
    "psremotingprotocolversion:",
    "serializationversion:",
    "transcript started, output file is",
];

/// Lines of the terminal session around slmgr's output: prompts running other commands,
/// PowerShell transcript headers and rulers. Understood, and of no interest.
fn is_context(p: &Prepared) -> bool {
    let l = p.lower.as_str();
    if l.len() >= 3 && l.chars().all(|c| matches!(c, '*' | '=' | '-' | '_' | '#')) {
        return true;
    }
    if TRANSCRIPT.iter().any(|t| l.starts_with(t)) {
        return true;
    }
    // The Windows Script Host banner, in any language (its product name is not translated).
    if l.contains("windows script host") || l.starts_with("copyright (c) microsoft") {
        return true;
    }
    // A prompt: "PS C:\Users\me> …" or "C:\Windows\system32>…".
    let prompt_end = l.find('>');

    prompt_end.is_some_and(|end| {
        let head = l.get(..end).unwrap_or("");
        let head = head.strip_prefix("ps ").unwrap_or(head);
        let b = head.as_bytes();
        b.len() >= 2 && b.first().is_some_and(u8::is_ascii_alphabetic) && b.get(1) == Some(&b':')
    })
}

/// Removes the decoration pastes add: list bullets, quote marks, and leading spaces.
fn strip_decoration(line: &str) -> &str {
    let mut t = line.trim_start();
    // Quote marks may nest ("> > "), and a quoted blank line is just ">".
    while let Some(rest) = t.strip_prefix('>') {
        t = rest.trim_start();
    }
    for prefix in ["- ", "* ", "\u{2022} "] {
        if let Some(rest) = t.strip_prefix(prefix) {
            t = rest.trim_start();
        }
    }
    t
}

/// The machine a header line names, if it is one.
fn machine_name(p: &Prepared) -> Option<String> {
    let lower = p.lower.as_str();
    let work = p.work.as_str();
    let value_after = |prefixes: &[&str]| {
        prefixes.iter().find_map(|pre| {
            lower
                .strip_prefix(pre)
                .map(|_| work.get(pre.len()..).unwrap_or("").trim())
        })
    };
    // PowerShell transcript: "Machine: PC042 (Microsoft Windows NT 10.0.19045.0)".
    if let Some(rest) = value_after(&["machine:"]) {
        let name = rest.split_whitespace().next()?;
        return rest.contains('(').then(|| clean_name(name)).flatten();
    }
    if let Some(rest) = value_after(&[
        "computer name:",
        "computername:",
        "computername=",
        "host name:",
        "hostname:",
    ]) {
        let mut words = rest.split_whitespace();
        let name = words.next()?;
        return words.next().is_none().then(|| clean_name(name)).flatten();
    }
    // slmgr.vbs run against a remote machine: "Connected to server PC042."
    if let Some(rest) = value_after(&["connected to server "]) {
        return clean_name(rest.trim_end_matches('.'));
    }
    None
}

fn clean_name(s: &str) -> Option<String> {
    let ok = !s.is_empty()
        && s.len() <= 255
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| s.to_owned())
}

/// The license state a status number or text stands for, for callers outside the parser.
pub fn status_from_text(rules: &Rules, text: &str) -> Option<StatusId> {
    Vocabulary::new(rules).status(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Vec<LicenseSnapshot> {
        let rules = Rules::embedded().unwrap();
        parse_bytes(&rules, "t.txt", text.as_bytes()).unwrap()
    }

    const DLV_CLIENT: &str = "\
Microsoft (R) Windows Script Host Version 5.812
Copyright (C) Microsoft Corporation. All rights reserved.

Software licensing service version: 10.0.19041.3636

Name: Windows(R), Enterprise edition
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
Activation ID: 73111121-5638-40f6-bc11-f1d7b0d64300
Application ID: 55c92734-d682-4d71-983e-d6ec3f16059f
Extended PID: 03612-03380-000-000000-03-1033-19041.0000-1062024
Product Key Channel: Volume:GVLK
Installation ID: 189844539606059265855451803261440643485915018321605276862695924
Partial Product Key: 2YT43
License Status: Licensed
Volume activation expiration: 254581 minute(s) (177 day(s))
Remaining Windows rearm count: 1001
Remaining SKU rearm count: 1001
Trusted time: 3/14/2025 10:20:31 AM
Configured Activation Type: All

Most recent activation information:
Key Management Service client information
    Client Machine ID (CMID): 268127a6-eeb4-4e42-9124-418a49c3aa2b
    KMS machine name from DNS: kms01.contoso.com:1688
    KMS machine IP address: 10.0.0.5
    KMS machine extended PID: 06401-00206-555-634715-03-4105-9600.0000-2122014
    Activation interval: 120 minutes
    Renewal interval: 10080 minutes
    KMS host caching is enabled
";

    #[test]
    fn a_full_dlv_of_a_kms_client() {
        let s = parse(DLV_CLIENT);
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!(s.service_version.as_deref(), Some("10.0.19041.3636"));
        assert_eq!(s.products.len(), 1);
        let p = &s.products[0];
        assert_eq!(p.channel.as_deref(), Some("VOLUME_KMSCLIENT"));
        assert_eq!(p.license_status, Some(StatusId::Licensed));
        assert_eq!(
            p.remaining
                .as_ref()
                .map(|r| (r.kind, r.minutes, r.days_printed)),
            Some((RemainingKind::VolumeActivation, 254_581, Some(177)))
        );
        assert_eq!(
            p.trusted_time
                .as_ref()
                .and_then(|d| d.parsed)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2025-03-14 10:20:31")
        );
        let c = p.kms_client.as_ref().unwrap();
        assert_eq!(
            c.cmid.as_deref(),
            Some("268127a6-eeb4-4e42-9124-418a49c3aa2b")
        );
        assert_eq!(
            c.dns_host.as_ref().map(ToString::to_string).as_deref(),
            Some("kms01.contoso.com:1688")
        );
        assert_eq!(
            (
                c.activation_interval_minutes,
                c.renewal_interval_minutes,
                c.host_caching
            ),
            (Some(120), Some(10080), Some(true))
        );
        assert!(s.not_understood.is_empty(), "{:?}", s.not_understood);
        assert_eq!(s.languages.first().map(String::as_str), Some("en"));
    }

    #[test]
    fn hard_wrapped_lines_are_joined() {
        let text = "Name: Windows(R), Enterprise edition\nDescription: Windows(R) Operating System,\nVOLUME_KMSCLIENT channel\nActivation ID: 73111121-5638-40f6-\nbc11-f1d7b0d64300\nLicense Status: Licensed\n";
        let p = &parse(text)[0].products[0];
        assert_eq!(p.channel.as_deref(), Some("VOLUME_KMSCLIENT"));
        assert_eq!(
            p.activation_id.as_deref(),
            Some("73111121-5638-40f6-bc11-f1d7b0d64300")
        );
    }

    #[test]
    fn not_slmgr_output_is_an_error() {
        let rules = Rules::embedded().unwrap();
        let err = parse_bytes(
            &rules,
            "notes.txt",
            b"Dear helpdesk,\nmy PC says it is not activated.\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("notes.txt: not slmgr output"),
            "{err}"
        );
        assert!(parse_bytes(&rules, "empty.txt", b"").is_err());
    }

    #[test]
    fn machines_split_at_headers_and_commands_are_read() {
        let text = "Host Name: PC001\nslmgr /ato\nActivating Windows(R), Enterprise edition (73111121-5638-40f6-bc11-f1d7b0d64300) ...\nError: 0xC004F074 The Software Licensing Service reported that the computer could not be activated. No Key\nManagement Service (KMS) could be contacted.\nHost Name: PC002\nslmgr /xpr\nThe machine is permanently activated.\n";
        let s = parse(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].machine.as_deref(), Some("PC001"));
        let c = &s[0].commands[0];
        assert_eq!(
            (c.command.as_str(), c.succeeded, c.code),
            ("ato", false, Some(Hresult(0xC004_F074)))
        );
        assert!(c.text.ends_with("could be contacted."), "{}", c.text);
        assert_eq!(s[1].machine.as_deref(), Some("PC002"));
        assert_eq!(s[1].expiry[0].kind, ExpiryKind::Permanent);
    }

    #[test]
    fn named_codes_are_the_rule_tables() {
        let rules = Rules::embedded().unwrap();
        assert_eq!(rules.symbol("SL_E_NOT_GENUINE"), Some(SL_E_NOT_GENUINE));
        assert!(rules.code(NONGENUINE_GRACE_PERIOD).is_some());
        assert_eq!(
            rules.symbol("SL_I_NONGENUINE_GRACE_PERIOD"),
            Some(Hresult(NONGENUINE_GRACE_PERIOD.0 & !0x8000_0000))
        );
    }
}
