//! The line walk of the ospp reader: each line classified by the vocabulary, product blocks
//! opened and closed at their boundaries (separator lines, `/act`'s "attempting to activate",
//! a licence name standing alone, a second SKU ID or licence name), and each closed block turned
//! into a product licence and, for activation output, the command result it printed. What the
//! shape of the text says (is it ospp output at all) is counted on the way.

use std::collections::{BTreeMap, BTreeSet};

use super::fields;
use super::vocab::{Line, Vocabulary};
use crate::hresult::Hresult;
use crate::input::values;
use crate::model::ids::PKEY_NOT_INSTALLED;
use crate::model::license::LicenseState;
use crate::model::snapshot::{
    CommandResult, CommandTool, DateValue, KmsAttemptLine, KmsClientInfo, LicenseSnapshot,
    NotUnderstood, ProductFamily, ProductLicense, TextLine,
};
use crate::rules::Rules;
use crate::rules::ospp::{OsppField, OsppPhrase, OsppWord};
use crate::rules::slmgr::FieldId;

/// At most this many not-understood lines are kept (the rest are counted).
const MAX_NOT_UNDERSTOOD: usize = 500;
/// At most this many attempts are kept from one history.
const MAX_ATTEMPTS: usize = 10_000;

/// What the text looked like: the structural signs of ospp output.
#[derive(Debug, Default)]
pub(super) struct Shape {
    markers: usize,
    dashed_status: usize,
    act_attempts: usize,
    history: usize,
    headers: usize,
    names: usize,
    labels: BTreeSet<OsppField>,
}

impl Shape {
    /// Whether the signs say ospp output (or a tool's licence list in ospp's fields): its
    /// `---Processing---` frame, a `---STATUS---` value, an activation or history header, or two
    /// labels only Office licence output prints (one, under a licence name standing alone).
    pub(super) fn is_ospp(&self) -> bool {
        const OFFICE_LABELS: [OsppField; 9] = [
            OsppField::SkuId,
            OsppField::LicenseName,
            OsppField::LicenseDescription,
            OsppField::RemainingGrace,
            OsppField::PartialKey,
            OsppField::BetaExpiration,
            OsppField::ProductId,
            OsppField::HistoryErrorHost,
            OsppField::InstallationId,
        ];
        let office = self
            .labels
            .iter()
            .filter(|l| OFFICE_LABELS.contains(l))
            .count();
        self.markers > 0
            || self.dashed_status > 0
            || self.act_attempts > 0
            || self.history > 0
            || office >= 2
            || ((self.names > 0 || self.headers > 0) && office >= 1)
    }
}

/// A product block being read.
struct Block {
    product: ProductLicense,
    /// Opened by `/act`'s "attempting to activate": its error code is the activation's result.
    act: bool,
    error: Option<(Hresult, TextLine, bool)>,
    error_text: Option<String>,
    success: Option<TextLine>,
    remaining: Option<(Option<u64>, Option<u64>, TextLine)>,
}

impl Block {
    fn new(line: u32) -> Block {
        Block {
            product: ProductLicense {
                line,
                in_use: true,
                family: Some(ProductFamily::Office),
                ..ProductLicense::default()
            },
            act: false,
            error: None,
            error_text: None,
            success: None,
            remaining: None,
        }
    }
}

/// The reader's state over one input.
pub(super) struct Parser<'v> {
    vocab: &'v Vocabulary,
    rules: &'v Rules,
    pub(super) snap: LicenseSnapshot,
    block: Option<Block>,
    /// The ospp.vbs option of the last prompt line.
    command: Option<String>,
    /// The command result an `ERROR DESCRIPTION` outside a block belongs to.
    last_command: Option<usize>,
    pending_time: Option<DateValue>,
    lang_hits: BTreeMap<usize, usize>,
    pub(super) shape: Shape,
    not_understood_total: usize,
}

impl<'v> Parser<'v> {
    pub(super) fn new(vocab: &'v Vocabulary, rules: &'v Rules, path: &str) -> Self {
        Parser {
            vocab,
            rules,
            snap: LicenseSnapshot::empty(path),
            block: None,
            command: None,
            last_command: None,
            pending_time: None,
            lang_hits: BTreeMap::new(),
            shape: Shape::default(),
            not_understood_total: 0,
        }
    }

    pub(super) fn line(&mut self, line: u32, raw: &str) {
        self.snap.lines_read = line;
        let text = TextLine {
            line,
            text: raw.trim().to_owned(),
        };
        match self.vocab.classify(raw) {
            Line::Blank => {}
            Line::Separator { marker } => {
                self.shape.markers += usize::from(marker);
                self.understood(None);
                self.close();
            }
            Line::Prompt(cmd) => {
                self.close();
                self.command = Some(cmd);
            }
            Line::Phrase { id, rest, lang } => {
                self.understood(Some(lang));
                self.phrase(id, rest, text);
            }
            Line::Field { id, value, lang } => {
                self.understood(Some(lang));
                self.shape.labels.insert(id);
                self.field(id, value, text);
            }
            Line::LicenseName(name) => {
                self.shape.names += 1;
                self.understood(None);
                self.close();
                let b = self.block_at(line);
                b.product.name = Some(name.to_owned());
                b.product.lines.insert(FieldId::Name, text);
            }
            Line::Other => {
                self.not_understood_total += 1;
                if self.snap.not_understood.len() < MAX_NOT_UNDERSTOOD {
                    self.snap.not_understood.push(NotUnderstood {
                        line: text,
                        taken_as: None,
                    });
                }
            }
        }
    }

    fn understood(&mut self, lang: Option<usize>) {
        self.snap.lines_understood = self.snap.lines_understood.saturating_add(1);
        if let Some(l) = lang {
            *self.lang_hits.entry(l).or_default() += 1;
        }
    }

    fn block_at(&mut self, line: u32) -> &mut Block {
        self.block.get_or_insert_with(|| Block::new(line))
    }

    /// The current block, or a new one when it already has `taken` (a second SKU ID or name
    /// starts the next product even without a separator between them).
    fn block_for(&mut self, line: u32, taken: impl Fn(&ProductLicense) -> bool) -> &mut Block {
        if self.block.as_ref().is_some_and(|b| taken(&b.product)) {
            self.close();
        }
        self.block_at(line)
    }

    fn command_or(&self, default: &str) -> String {
        self.command.clone().unwrap_or_else(|| default.to_owned())
    }

    fn push_command(
        &mut self,
        command: String,
        succeeded: bool,
        code: Option<Hresult>,
        text: &TextLine,
    ) {
        self.snap.commands.push(CommandResult {
            tool: CommandTool::Ospp,
            command,
            product: None,
            succeeded,
            code,
            text: text.text.clone(),
            line: text.line,
        });
        self.last_command = Some(self.snap.commands.len() - 1);
    }

    fn phrase(&mut self, id: OsppPhrase, rest: &str, text: TextLine) {
        match id {
            OsppPhrase::Processing | OsppPhrase::Exiting => {
                self.shape.markers += 1;
                self.close();
            }
            OsppPhrase::ActAttempt => {
                self.shape.act_attempts += 1;
                self.close();
                self.block_at(text.line).act = true;
            }
            OsppPhrase::ActSuccess | OsppPhrase::OfflineActSuccess => match self.block.as_mut() {
                Some(b) => b.success = Some(text),
                None => self.push_command(self.command_or("act"), true, None, &text),
            },
            OsppPhrase::KeyInstalled => {
                self.push_command(self.command_or("inpkey"), true, None, &text);
            }
            OsppPhrase::KeyUninstalled => {
                self.push_command(self.command_or("unpkey"), true, None, &text);
            }
            OsppPhrase::LicenseInstalled => {
                self.push_command(self.command_or("inslic"), true, None, &text);
            }
            OsppPhrase::SettingApplied => {
                self.push_command(self.command_or("unknown"), true, None, &text);
            }
            OsppPhrase::NoKeys => {
                self.close();
                self.push_command(
                    self.command_or("dstatus"),
                    false,
                    Some(PKEY_NOT_INSTALLED),
                    &text,
                );
            }
            OsppPhrase::KeyNotFound => {
                self.push_command(
                    self.command_or("unpkey"),
                    false,
                    Some(PKEY_NOT_INSTALLED),
                    &text,
                );
            }
            OsppPhrase::NoKmsLicenses => {
                self.push_command(self.command_or("unknown"), false, None, &text);
            }
            OsppPhrase::DnsDiscoveryFailed => {
                let b = self.block_at(text.line);
                b.product
                    .kms_client
                    .get_or_insert_with(KmsClientInfo::default)
                    .dns_discovery_failed = true;
                b.product.lines.insert(FieldId::KmsDnsDiscovery, text);
            }
            OsppPhrase::HistorySearch => {
                self.shape.history += 1;
                self.close();
                let machine = rest.trim();
                if self.snap.machine.is_none() && !machine.is_empty() {
                    self.snap.machine = Some(machine.to_owned());
                    self.snap.machine_line = Some(text);
                }
            }
            OsppPhrase::Header => self.shape.headers += 1,
            OsppPhrase::HistoryNone
            | OsppPhrase::HistoryHint
            | OsppPhrase::KbNotice
            | OsppPhrase::KbLink
            | OsppPhrase::InfoOnly
            | OsppPhrase::Banner => {}
        }
    }

    fn field(&mut self, id: OsppField, value: &str, text: TextLine) {
        let line = text.line;
        match id {
            OsppField::ProductId => {
                self.block_for(line, |p| p.activation_id.is_some() || p.name.is_some());
            }
            OsppField::SkuId => {
                let b = self.block_for(line, |p| p.activation_id.is_some());
                b.product.activation_id = values::guid(value);
                b.product.lines.insert(FieldId::ActivationId, text);
            }
            OsppField::LicenseName => {
                let b = self.block_for(line, |p| p.name.is_some());
                b.product.name = (!value.is_empty()).then(|| value.to_owned());
                b.product.lines.insert(FieldId::Name, text);
            }
            OsppField::LicenseDescription => {
                let b = self.block_for(line, |p| p.description.is_some());
                b.product.description = Some(value.to_owned());
                b.product.channel = fields::channel(value);
                b.product.lines.insert(FieldId::Description, text);
            }
            OsppField::BetaExpiration => {
                let date = values::date(value).map(|r| r.resolve(r.default_order()));
                let b = self.block_at(line);
                if let Some(d) =
                    date.filter(|d| d.parsed.is_some_and(|t| chrono::Datelike::year(&t) > 1601))
                {
                    b.product.evaluation_end = Some(d);
                    b.product.lines.insert(FieldId::EvaluationEndDate, text);
                }
            }
            OsppField::LicenseStatus => {
                self.shape.dashed_status += usize::from(value.starts_with("---"));
                let state = self.vocab.status(value);
                let b = self.block_at(line);
                b.product.license_status = state;
                b.product.license_status_text = Some(value.trim_matches(['-', ' ']).to_owned());
                b.product.lines.insert(FieldId::LicenseStatus, text);
            }
            OsppField::ErrorCode => self.error_code(value, text),
            OsppField::ErrorDescription => match (self.block.as_mut(), self.last_command) {
                (Some(b), _) => b.error_text = Some(value.to_owned()),
                (None, Some(i)) => {
                    if let Some(c) = self.snap.commands.get_mut(i) {
                        c.text = format!("{} {}", c.text, value);
                    }
                }
                (None, None) => {}
            },
            OsppField::RemainingGrace => {
                let (days, minutes) = fields::grace_numbers(self.vocab, value);
                self.block_at(line).remaining = Some((days, minutes, text));
            }
            OsppField::PartialKey => {
                let key = values::partial_key(value);
                let b = self.block_at(line);
                b.product.partial_product_key = key;
                b.product.lines.insert(FieldId::PartialProductKey, text);
            }
            OsppField::ActivationType => {
                let b = self.block_at(line);
                b.product.activation_type = Some(value.to_owned());
                b.product.lines.insert(FieldId::ActivationType, text);
            }
            OsppField::InstallationId => {
                self.close();
                let (name, iid) = value.rsplit_once([':', '\u{FF1A}']).unwrap_or(("", value));
                let b = self.block_at(line);
                b.product.name = Some(name.trim().to_owned()).filter(|n| !n.is_empty());
                b.product.installation_id = Some(iid.trim().to_owned()).filter(|n| !n.is_empty());
                b.product.lines.insert(FieldId::InstallationId, text);
            }
            OsppField::HistoryEventId => self.shape.history += 1,
            OsppField::HistoryTime => {
                self.pending_time = values::date(value).map(|r| r.resolve(r.default_order()));
            }
            OsppField::HistoryErrorHost => self.attempt(value, text),
            _ => self.kms_field(id, value, text),
        }
    }

    /// The KMS client and AD activation lines of a KMS licence's block.
    fn kms_field(&mut self, id: OsppField, value: &str, text: TextLine) {
        let host_caching = match self.vocab.word_at(value) {
            Some(OsppWord::Enabled) => Some(true),
            Some(OsppWord::Disabled) => Some(false),
            _ => None,
        };
        if let Some(b) = self.block.as_mut() {
            fields::kms_field(&mut b.product, host_caching, id, value, text);
        }
    }

    /// `ERROR CODE:` in a block (the state's reason, or the activation's result) or alone (the
    /// result of the command the output is of).
    fn error_code(&mut self, value: &str, text: TextLine) {
        let Some(code) = values::leading_code(value) else {
            return;
        };
        let info = self.vocab.contains_phrase(value, OsppPhrase::InfoOnly);
        if let Some(b) = self.block.as_mut() {
            b.error = Some((code, text, info));
        } else {
            let cmd = self.command_or("unknown");
            self.push_command(cmd, !code.is_failure(), Some(code), &text);
        }
    }

    /// `ERROR/HOST: 0xC004F074, 0x00000000, kms01.contoso.com` of `/dhistorykms`: one attempt.
    fn attempt(&mut self, value: &str, text: TextLine) {
        let parts: Vec<&str> = value.split(',').map(str::trim).collect();
        let Some(code) = parts.first().and_then(|p| values::leading_code(p)) else {
            return;
        };
        let host = parts
            .iter()
            .skip(1)
            .rev()
            .find(|p| !p.is_empty() && values::leading_code(p).is_none())
            .map(|h| (*h).to_owned());
        if self.snap.kms_attempts.len() < MAX_ATTEMPTS {
            self.snap.kms_attempts.push(KmsAttemptLine {
                time: self.pending_time.take(),
                code,
                host,
                line: text,
            });
        }
    }

    /// Ends the current block: its product, and for activation output the result it printed.
    fn close(&mut self) {
        let Some(b) = self.block.take() else {
            return;
        };
        let mut p = b.product;
        if p.name.is_none()
            && let Some(id) = &p.activation_id
        {
            p.name = self.rules.ospp().sku_name(id).map(str::to_owned);
        }
        let status_shown = p.license_status.is_some() || p.license_status_text.is_some();
        if let Some((code, line, info)) = b.error {
            if status_shown && !b.act {
                let reason =
                    info || !code.is_failure() || p.license_status == Some(LicenseState::Licensed);
                if reason {
                    p.status_reason = Some(code);
                } else {
                    p.notification_reason = Some(code);
                }
                p.lines.insert(FieldId::NotificationReason, line);
            } else {
                let text = match &b.error_text {
                    Some(t) => format!("{} {t}", line.text),
                    None => line.text.clone(),
                };
                let command = if b.act {
                    "act".to_owned()
                } else {
                    self.command_or("act")
                };
                self.snap.commands.push(CommandResult {
                    tool: CommandTool::Ospp,
                    command,
                    product: p.name.clone(),
                    succeeded: !code.is_failure(),
                    code: Some(code),
                    text,
                    line: line.line,
                });
            }
        } else if let Some(ok) = b.success {
            self.snap.commands.push(CommandResult {
                tool: CommandTool::Ospp,
                command: "act".to_owned(),
                product: p.name.clone(),
                succeeded: true,
                code: None,
                text: ok.text,
                line: ok.line,
            });
        }
        if let Some((days, minutes, line)) = b.remaining {
            fields::remaining(&mut p, days, minutes, line);
        }
        p.in_use = p.partial_product_key.is_some()
            || b.act
            || p.installation_id.is_some()
            || p.license_status
                .is_some_and(|s| s != LicenseState::Unlicensed);
        let has_content = p.name.is_some()
            || p.activation_id.is_some()
            || p.description.is_some()
            || status_shown
            || p.partial_product_key.is_some();
        if has_content {
            self.snap.products.push(p);
        }
        self.last_command = None;
    }

    pub(super) fn finish(mut self) -> (LicenseSnapshot, Shape) {
        self.close();
        let mut hits: Vec<(usize, usize)> = self.lang_hits.iter().map(|(l, n)| (*l, *n)).collect();
        hits.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        self.snap.languages = hits
            .iter()
            .filter_map(|(l, _)| self.vocab.languages.get(*l).cloned())
            .collect();
        if self.not_understood_total > MAX_NOT_UNDERSTOOD {
            self.snap.warnings.push(format!(
                "{} lines not understood; the first {MAX_NOT_UNDERSTOOD} are listed",
                self.not_understood_total
            ));
        }
        (self.snap, self.shape)
    }
}
