//! The vocabulary of `rules/slmgr.toml`: which fields, license states, whole-line phrases and
//! value words slmgr prints, per UI language (the license states are the model's
//! [`LicenseState`]). Typed, so an unknown id is a lint error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::license::LicenseState;

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
    pub status: BTreeMap<LicenseState, Vec<String>>,
    #[serde(default)]
    pub phrases: BTreeMap<PhraseId, Vec<String>>,
    #[serde(default)]
    pub words: BTreeMap<WordId, Vec<String>>,
}
