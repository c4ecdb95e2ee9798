//! `LicenseSnapshot`: what one piece of `slmgr` output says about a machine's licenses, as plain
//! data. Produced by the slmgr decoder (license blocks, `/xpr` lines, command results) and by the
//! evidence reader (only the result codes running text mentions, never a license state), and by the
//! licensing inventory reader (one snapshot per machine of a WMI or Configuration Manager export); read by
//! the diagnosis. Every value keeps the line it came from so findings can quote it.

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde::Serialize;

use crate::hresult::Hresult;
use crate::model::license::LicenseState;
use crate::rules::slmgr::FieldId;

/// A line of the input: its 1-based number and its text as read (after decoding).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct TextLine {
    pub line: u32,
    pub text: String,
}

/// A date as printed, with the reading kmsdiag chose.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DateValue {
    pub text: String,
    /// Local time of the machine that printed it (slmgr prints local time).
    pub parsed: Option<NaiveDateTime>,
    /// `mdy`, `dmy` or `ymd`: the order the numbers were read in.
    pub order: Option<&'static str>,
    /// True when day and month could be swapped and nothing in the file decided it.
    pub ambiguous: bool,
}

/// `server:port` as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HostPort {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for HostPort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Which remaining-time line a product has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RemainingKind {
    /// "Volume activation expiration" (KMS activation validity).
    VolumeActivation,
    /// "Timebased activation expiration" (evaluation and subscription editions).
    TimebasedActivation,
    /// "Automatic VM activation expiration".
    AutomaticVmActivation,
    /// "Time remaining" (a grace period).
    Grace,
    /// A minutes value whose label was not understood.
    Unlabelled,
}

/// Minutes left, as slmgr prints them ("243720 minute(s) (169 day(s))").
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Remaining {
    pub kind: RemainingKind,
    pub minutes: u64,
    /// The day count slmgr printed, if any (rounded differently across versions: use minutes).
    pub days_printed: Option<u64>,
}

/// The KMS client section of a product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KmsClientInfo {
    pub cmid: Option<String>,
    pub lookup_domain: Option<String>,
    /// Set with `slmgr /skms`.
    pub registered_host: Option<HostPort>,
    /// Found through DNS.
    pub dns_host: Option<HostPort>,
    /// A `server:port` whose label was not understood.
    pub host: Option<HostPort>,
    /// "DNS auto-discovery: KMS name not available".
    pub dns_discovery_failed: bool,
    pub host_ip: Option<String>,
    pub host_extended_pid: Option<String>,
    pub activation_interval_minutes: Option<u64>,
    pub renewal_interval_minutes: Option<u64>,
    pub host_caching: Option<bool>,
}

impl KmsClientInfo {
    /// The host the client uses, however it was printed.
    pub fn kms_host(&self) -> Option<&HostPort> {
        self.registered_host
            .as_ref()
            .or(self.dns_host.as_ref())
            .or(self.host.as_ref())
    }
}

/// Cumulative requests a KMS host received, by the client's license status.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KmsRequests {
    pub total: Option<u64>,
    pub failed: Option<u64>,
    pub unlicensed: Option<u64>,
    pub licensed: Option<u64>,
    pub initial_grace: Option<u64>,
    pub expired_or_out_of_tolerance: Option<u64>,
    pub non_genuine_grace: Option<u64>,
    pub notification: Option<u64>,
}

/// The KMS host section of a product.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KmsHostInfo {
    pub enabled: bool,
    pub current_count: Option<u64>,
    pub listening_port: Option<u16>,
    pub dns_publishing: Option<bool>,
    pub priority: Option<String>,
    pub requests: KmsRequests,
}

/// Active Directory-based activation details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AdActivationInfo {
    pub object_name: Option<String>,
    pub object_dn: Option<String>,
    pub extended_pid: Option<String>,
    pub activation_id: Option<String>,
}

/// Automatic VM activation details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AvmaInfo {
    pub guest_iaid: Option<String>,
    pub host_name: Option<String>,
    pub activation_time: Option<String>,
    pub host_digital_pid2: Option<String>,
}

/// Which family of products a licence belongs to, when its reader can tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ProductFamily {
    Windows,
    Office,
}

/// One product block of `/dli`, `/dlv` or `/dlv all` (or of Office's `ospp.vbs /dstatus`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ProductLicense {
    /// Line where the block starts.
    pub line: u32,
    pub name: Option<String>,
    pub description: Option<String>,
    /// The channel token, repaired (`VOLUME_KMSCLIENT`, `RETAIL`, `OEM_DM`, …).
    pub channel: Option<String>,
    pub activation_id: Option<String>,
    pub application_id: Option<String>,
    pub extended_pid: Option<String>,
    pub product_key_channel: Option<String>,
    pub installation_id: Option<String>,
    pub partial_product_key: Option<String>,
    /// False when slmgr printed "This license is not in use."
    pub in_use: bool,
    pub license_status: Option<LicenseState>,
    /// The status text as printed (kept when it was not understood).
    pub license_status_text: Option<String>,
    pub notification_reason: Option<Hresult>,
    /// A success code given as the reason for the state (`0x4004F00C` in the initial grace
    /// period, `0x4004FC04` on a time-based licence): information, never a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<Hresult>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub family: Option<ProductFamily>,
    pub remaining: Option<Remaining>,
    pub evaluation_end: Option<DateValue>,
    pub rearm_windows: Option<i64>,
    pub rearm_app: Option<i64>,
    pub rearm_sku: Option<i64>,
    pub trusted_time: Option<DateValue>,
    pub activation_type: Option<String>,
    pub kms_client: Option<KmsClientInfo>,
    pub kms_host: Option<KmsHostInfo>,
    pub ad_activation: Option<AdActivationInfo>,
    pub avma: Option<AvmaInfo>,
    /// The line each field came from, for evidence.
    pub lines: BTreeMap<FieldId, TextLine>,
}

impl ProductLicense {
    /// Whether this is a Windows product (not Office or another application).
    pub fn is_windows(&self) -> bool {
        const WINDOWS_APP_ID: &str = "55c92734-d682-4d71-983e-d6ec3f16059f";
        if let Some(f) = self.family {
            return f == ProductFamily::Windows;
        }
        if self.application_id.as_deref() == Some(WINDOWS_APP_ID) {
            return true;
        }
        let text = format!(
            "{} {}",
            self.name.as_deref().unwrap_or(""),
            self.description.as_deref().unwrap_or("")
        )
        .to_ascii_lowercase();
        text.contains("windows") && !text.contains("office")
    }
}

/// The script a command result came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CommandTool {
    #[default]
    Slmgr,
    /// Office's `ospp.vbs`.
    Ospp,
}

impl CommandTool {
    /// How a report names the script.
    pub fn script(self) -> &'static str {
        match self {
            CommandTool::Slmgr => "slmgr",
            CommandTool::Ospp => "ospp.vbs",
        }
    }

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
    fn is_slmgr(&self) -> bool {
        *self == CommandTool::Slmgr
    }
}

/// What an `/ato`, `/ipk`, `/skms`, `/rearm` (…) printed, or an `ospp.vbs /act`, `/inpkey` (…).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CommandResult {
    #[serde(skip_serializing_if = "CommandTool::is_slmgr")]
    pub tool: CommandTool,
    /// `ato`, `ipk`, `upk`, `skms`, `ckms`, `rearm` (slmgr); `act`, `inpkey`, `unpkey`, `sethst`
    /// (…, ospp.vbs); or `unknown` when the command was not shown.
    pub command: String,
    /// The product named in "Activating …", if any.
    pub product: Option<String>,
    pub succeeded: bool,
    pub code: Option<Hresult>,
    pub text: String,
    pub line: u32,
}

/// What a line of `/xpr` output says the license state is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ExpiryKind {
    /// "Volume activation will expire …" (KMS).
    VolumeActivation,
    /// "Timebased activation will expire …".
    TimebasedActivation,
    /// "Automatic VM activation will expire …".
    AutomaticVmActivation,
    /// "The machine is permanently activated."
    Permanent,
    /// "Initial grace period ends …".
    InitialGrace,
    /// "Additional grace period ends …".
    AdditionalGrace,
    /// "Non-genuine grace period ends …".
    NonGenuineGrace,
    /// "Extended grace period ends …".
    ExtendedGrace,
    /// "Windows is in Notification mode".
    Notification,
    /// "Unlicensed".
    Unlicensed,
}

impl ExpiryKind {
    /// The kebab-case word the reports print (the same as the JSON spelling).
    pub fn as_str(self) -> &'static str {
        match self {
            ExpiryKind::VolumeActivation => "volume-activation",
            ExpiryKind::TimebasedActivation => "timebased-activation",
            ExpiryKind::AutomaticVmActivation => "automatic-vm-activation",
            ExpiryKind::Permanent => "permanent",
            ExpiryKind::InitialGrace => "initial-grace",
            ExpiryKind::AdditionalGrace => "additional-grace",
            ExpiryKind::NonGenuineGrace => "non-genuine-grace",
            ExpiryKind::ExtendedGrace => "extended-grace",
            ExpiryKind::Notification => "notification",
            ExpiryKind::Unlicensed => "unlicensed",
        }
    }
}

impl std::fmt::Display for ExpiryKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A line of `/xpr` output.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiryLine {
    pub kind: ExpiryKind,
    pub date: Option<DateValue>,
    pub line: TextLine,
}

/// A line kmsdiag did not fully understand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotUnderstood {
    pub line: TextLine,
    /// When the label was unknown but the value was recognised: the field it was taken as.
    pub taken_as: Option<FieldId>,
}

/// A result code found in running text (prose, an e-mail, a chat message, a dialog's text), with
/// the line it stood in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mention {
    pub line: TextLine,
    pub code: Hresult,
}

/// One KMS activation attempt a history lists (`ospp.vbs /dhistorykms`: the client's event 12288
/// with the result code and the KMS host it asked).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KmsAttemptLine {
    /// When the event was written, as printed (UTC).
    pub time: Option<DateValue>,
    pub code: Hresult,
    pub host: Option<String>,
    pub line: TextLine,
}

/// Everything read from one slmgr text input, or the codes a text input mentions.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LicenseSnapshot {
    pub path: String,
    pub encoding: String,
    /// UI languages whose labels were found, most matches first.
    pub languages: Vec<String>,
    /// The machine name, when the text names it (transcript header, `hostname`, …).
    pub machine: Option<String>,
    pub machine_line: Option<TextLine>,
    pub service_version: Option<String>,
    /// The machine's client machine ID as its licensing service reports it (WMI
    /// `SoftwareLicensingService.ClientMachineID`), whatever its products' channels: the key a
    /// KMS host's records of the machine carry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cmid: Option<String>,
    pub products: Vec<ProductLicense>,
    pub commands: Vec<CommandResult>,
    pub expiry: Vec<ExpiryLine>,
    pub not_understood: Vec<NotUnderstood>,
    /// Result codes found in running text by the evidence reader (empty for slmgr output).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub mentions: Vec<Mention>,
    /// KMS activation attempts a history listed (empty for slmgr output).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub kms_attempts: Vec<KmsAttemptLine>,
    pub warnings: Vec<String>,
    pub lines_read: u32,
    /// Lines understood by a known label or phrase.
    pub lines_understood: u32,
    /// Lines whose label was unknown but whose value was recognised.
    pub lines_recovered: u32,
}

impl LicenseSnapshot {
    /// A snapshot of `path` with nothing read yet.
    pub(crate) fn empty(path: &str) -> LicenseSnapshot {
        LicenseSnapshot {
            path: path.to_owned(),
            encoding: String::new(),
            languages: Vec::new(),
            machine: None,
            machine_line: None,
            service_version: None,
            cmid: None,
            products: Vec::new(),
            commands: Vec::new(),
            expiry: Vec::new(),
            not_understood: Vec::new(),
            mentions: Vec::new(),
            kms_attempts: Vec::new(),
            warnings: Vec::new(),
            lines_read: 0,
            lines_understood: 0,
            lines_recovered: 0,
        }
    }

    /// The Windows product in use: the one with a partial key, else the first Windows product.
    pub fn windows_product(&self) -> Option<&ProductLicense> {
        let windows = || self.products.iter().filter(|p| p.is_windows());
        windows()
            .find(|p| p.in_use && p.partial_product_key.is_some())
            .or_else(|| windows().find(|p| p.in_use))
            .or_else(|| {
                self.products
                    .iter()
                    .find(|p| p.in_use && p.partial_product_key.is_some())
            })
            .or_else(|| self.products.first())
    }

    /// When the snapshot was taken: the newest trusted time printed (the licensing service's
    /// clock when slmgr ran). Expiry and evaluation dates lie in the future and do not count.
    pub fn observed_at(&self) -> Option<NaiveDateTime> {
        self.products
            .iter()
            .filter_map(|p| p.trusted_time.as_ref().and_then(|d| d.parsed))
            .max()
    }
}
