//! The vocabulary of `rules/slmgr.toml`: which fields, license states, whole-line phrases and
//! value words slmgr prints, per UI language. Typed, so an unknown id is a lint error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A field of slmgr output (the text before the colon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldId {
    ServiceVersion,
    Name,
    Description,
    AdditionalInfo,
    ActivationId,
    ApplicationId,
    ExtendedPid,
    ProductKeyChannel,
    InstallationId,
    Url,
    PartialProductKey,
    LicenseStatus,
    VolumeExpiration,
    TimebasedExpiration,
    AvmaExpiration,
    TimeRemaining,
    NotificationReason,
    EvaluationEndDate,
    RearmWindows,
    RearmApp,
    RearmSku,
    TrustedTime,
    ActivationType,
    Cmid,
    KmsLookupDomain,
    KmsRegisteredName,
    KmsDnsName,
    KmsDnsDiscovery,
    KmsIp,
    KmsEpid,
    ActivationInterval,
    RenewalInterval,
    CurrentCount,
    ListeningPort,
    DnsPublishing,
    KmsPriority,
    RequestsTotal,
    RequestsFailed,
    RequestsUnlicensed,
    RequestsLicensed,
    RequestsInitialGrace,
    RequestsOot,
    RequestsNongenuineGrace,
    RequestsNotification,
    AoName,
    AoDn,
    AoEpid,
    AoActivationId,
    AvmaGuestIaid,
    AvmaHostName,
    AvmaActivationTime,
    AvmaHostPid2,
}

/// A whole line slmgr prints without a `label: value` shape (or whose text is the meaning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PhraseId {
    Banner,
    KmsClientInfo,
    MostRecentActivation,
    KmsHostEnabled,
    KmsHostRequests,
    HostCachingEnabled,
    HostCachingDisabled,
    DnsPublishingEnabled,
    DnsPublishingDisabled,
    LicenseNotInUse,
    PleaseActivate,
    AdClientInfo,
    AvmaClientInfo,
    Activated,
    ActivationFailed,
    Activating,
    PkeyInstalled,
    PkeyUninstalled,
    KmsNameSet,
    KmsNameCleared,
    CommandCompleted,
    RestartNeeded,
    PermanentlyActivated,
    XprVolume,
    XprTimebased,
    XprAvma,
    XprInitialGrace,
    XprAdditionalGrace,
    XprNongenuineGrace,
    XprExtendedGrace,
    XprNotification,
    XprUnlicensed,
    Error,
    SluiHint,
    NongenuineGraceError,
    NongenuineNotificationError,
    SkmsWarning,
}

/// Words slmgr uses inside values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WordId {
    NotAvailable,
    Enabled,
    Disabled,
    Minutes,
    Days,
}

/// A license state as slmgr shows it (the kmsdiag ids of `licensing.toml`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatusId {
    Unlicensed,
    Licensed,
    InitialGrace,
    AdditionalGrace,
    NonGenuineGrace,
    Notification,
    ExtendedGrace,
    Unknown,
}

impl StatusId {
    /// Every state, in `LicenseStatus` number order (`Unknown` last): the ids `licensing.toml`
    /// may use.
    pub const ALL: [StatusId; 8] = [
        StatusId::Unlicensed,
        StatusId::Licensed,
        StatusId::InitialGrace,
        StatusId::AdditionalGrace,
        StatusId::NonGenuineGrace,
        StatusId::Notification,
        StatusId::ExtendedGrace,
        StatusId::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            StatusId::Unlicensed => "unlicensed",
            StatusId::Licensed => "licensed",
            StatusId::InitialGrace => "initial-grace",
            StatusId::AdditionalGrace => "additional-grace",
            StatusId::NonGenuineGrace => "non-genuine-grace",
            StatusId::Notification => "notification",
            StatusId::ExtendedGrace => "extended-grace",
            StatusId::Unknown => "unknown",
        }
    }

    /// The state for a `LicenseStatus` number (0..6).
    pub fn from_number(n: u32) -> StatusId {
        match n {
            0 => StatusId::Unlicensed,
            1 => StatusId::Licensed,
            2 => StatusId::InitialGrace,
            3 => StatusId::AdditionalGrace,
            4 => StatusId::NonGenuineGrace,
            5 => StatusId::Notification,
            6 => StatusId::ExtendedGrace,
            _ => StatusId::Unknown,
        }
    }

    /// Whether the machine is running on a grace period that will end.
    pub fn is_grace(self) -> bool {
        matches!(
            self,
            StatusId::InitialGrace
                | StatusId::AdditionalGrace
                | StatusId::NonGenuineGrace
                | StatusId::ExtendedGrace
        )
    }
}

/// One `[[language]]` of `slmgr.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SlmgrLanguage {
    pub id: String,
    pub name: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub fields: BTreeMap<FieldId, Vec<String>>,
    #[serde(default)]
    pub status: BTreeMap<StatusId, Vec<String>>,
    #[serde(default)]
    pub phrases: BTreeMap<PhraseId, Vec<String>>,
    #[serde(default)]
    pub words: BTreeMap<WordId, Vec<String>>,
}
