//! The line state machine of the slmgr reader: the [`Parser`]'s state (the snapshot and product
//! being filled, the section, the pending command, the last field for wrapped lines), what each
//! line is (session line, labelled field, phrase, or unlabelled), the whole-line phrases (section
//! starts, command results, `/xpr` lines), and closing a snapshot with its dates read in one
//! day/month order. Storing a labelled value is in `fields`, values without a known label in
//! `recover`; the session lines around the output are judged in `session`.

use std::collections::BTreeMap;

use super::session;
use super::vocab::{Match, Prepared, Vocabulary, prepare};
use crate::hresult::Hresult;
use crate::input::values;
use crate::model::ids::{NONGENUINE_GRACE_PERIOD, SL_E_NOT_GENUINE};
use crate::model::snapshot::{
    AdActivationInfo, AvmaInfo, CommandResult, CommandTool, ExpiryKind, ExpiryLine, KmsClientInfo,
    KmsHostInfo, LicenseSnapshot, ProductLicense, TextLine,
};
use crate::rules::slmgr::{FieldId, PhraseId};

/// At most this many not-understood lines are kept per snapshot (the count is still reported).
pub(super) const MAX_NOT_UNDERSTOOD: usize = 500;

/// Whether a product block says something about a license (a name alone does not).
pub(super) fn product_has_content(p: &ProductLicense) -> bool {
    p.description.is_some()
        || p.license_status_text.is_some()
        || p.partial_product_key.is_some()
        || p.activation_id.is_some()
        || p.kms_client.is_some()
        || p.kms_host.is_some()
        || !p.in_use
}

/// The part of a product block the current line stands in: it decides what an unlabelled value
/// is, and which request counter a bare number fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Product,
    KmsClient,
    KmsHost,
    KmsHostRequests,
    Ad,
    Avma,
}

/// The last field set, so that a hard-wrapped continuation line can be appended to it.
pub(super) struct LastField {
    pub(super) id: FieldId,
    pub(super) value: String,
    pub(super) line: u32,
}

/// The reader's state while it walks the lines of one input.
pub(super) struct Parser<'v> {
    pub(super) vocab: &'v Vocabulary,
    path: String,
    done: Vec<LicenseSnapshot>,
    pub(super) snap: LicenseSnapshot,
    pub(super) product: Option<ProductLicense>,
    pub(super) section: Section,
    /// The slmgr option last seen on a command line (`ato`, `ipk`, …).
    command: Option<String>,
    /// "Activating …" waiting for its outcome.
    pub(super) pending: Option<CommandResult>,
    pub(super) last_field: Option<LastField>,
    /// Index in `snap.commands` of an error whose text may continue on the next line.
    pub(super) last_error: Option<usize>,
    prev_line: u32,
    pub(super) raw_dates: Vec<(usize, usize, Target, values::RawDate)>,
    lang_hits: BTreeMap<usize, usize>,
    pub(super) not_understood_total: usize,
}

/// Where a date found during parsing is stored once its day/month order is known.
#[derive(Clone, Copy)]
pub(super) enum Target {
    TrustedTime,
    EvaluationEnd,
    Expiry,
}

impl<'v> Parser<'v> {
    pub(super) fn new(vocab: &'v Vocabulary, path: &str) -> Self {
        Parser {
            vocab,
            path: path.to_owned(),
            done: Vec::new(),
            snap: LicenseSnapshot::empty(path),
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

    pub(super) fn line(&mut self, no: u32, raw: &str) {
        self.snap.lines_read = self.snap.lines_read.saturating_add(1);
        let stripped = session::strip_decoration(raw);
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
            || session::is_context(&prepared)
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
        let name = session::machine_name(p);
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
        let Some(option) = session::slmgr_option(p) else {
            return false;
        };
        self.flush_pending();
        self.command = Some(option);
        true
    }

    pub(super) fn product_mut(&mut self, line: u32) -> &mut ProductLicense {
        self.product.get_or_insert_with(|| ProductLicense {
            line,
            in_use: true,
            ..ProductLicense::default()
        })
    }

    pub(super) fn start_product(&mut self, line: u32) {
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

    pub(super) fn kms_client(&mut self, line: u32) -> &mut KmsClientInfo {
        self.product_mut(line)
            .kms_client
            .get_or_insert_with(KmsClientInfo::default)
    }

    pub(super) fn kms_host(&mut self, line: u32) -> &mut KmsHostInfo {
        self.product_mut(line)
            .kms_host
            .get_or_insert_with(KmsHostInfo::default)
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
                    tool: CommandTool::Slmgr,
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
                self.expiry(ExpiryKind::AdditionalGrace, Some(cap), text);
            }
            PhraseId::XprNongenuineGrace => {
                self.expiry(ExpiryKind::NonGenuineGrace, Some(cap), text);
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
                tool: CommandTool::Slmgr,
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
        let next = LicenseSnapshot::empty(&self.path);
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

    pub(super) fn finish(mut self) -> Vec<LicenseSnapshot> {
        self.finish_snapshot();
        self.done
    }
}
