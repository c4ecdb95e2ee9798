//! The vocabulary of `rules/ospp.toml`: which fields, licence states, whole-line phrases and value
//! words Office's `ospp.vbs` prints (and tools that print its fields in another UI language), per
//! language; and the Office SKU ids that name an Office product. Typed, so an
//! unknown id is a lint error.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::license::LicenseState;

/// A field of ospp output (the text before the colon).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsppField {
    ProductId,
    SkuId,
    LicenseName,
    LicenseDescription,
    BetaExpiration,
    LicenseStatus,
    ErrorCode,
    ErrorDescription,
    RemainingGrace,
    PartialKey,
    ActivationType,
    KmsDnsName,
    KmsRegistryOverride,
    ActivationInterval,
    RenewalInterval,
    HostCaching,
    KmsLookupDomain,
    Cmid,
    AoName,
    AoDn,
    AoEpid,
    AoActivationId,
    HistoryEventId,
    HistoryTime,
    HistoryErrorHost,
    InstallationId,
}

/// A whole line ospp prints without a `label: value` shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsppPhrase {
    Processing,
    Exiting,
    ActAttempt,
    ActSuccess,
    OfflineActSuccess,
    KeyInstalled,
    KeyUninstalled,
    LicenseInstalled,
    SettingApplied,
    NoKeys,
    KeyNotFound,
    NoKmsLicenses,
    DnsDiscoveryFailed,
    HistorySearch,
    HistoryNone,
    HistoryHint,
    KbNotice,
    KbLink,
    InfoOnly,
    Banner,
    Header,
}

/// Words ospp uses inside values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OsppWord {
    Days,
    Minutes,
    Enabled,
    Disabled,
}

/// One `[[language]]` of `ospp.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OsppLanguage {
    pub id: String,
    pub name: String,
    pub sources: Vec<String>,
    #[serde(default)]
    pub fields: BTreeMap<OsppField, Vec<String>>,
    #[serde(default)]
    pub status: BTreeMap<LicenseState, Vec<String>>,
    #[serde(default)]
    pub phrases: BTreeMap<OsppPhrase, Vec<String>>,
    #[serde(default)]
    pub words: BTreeMap<OsppWord, Vec<String>>,
}

/// A `[[sku]]` of `ospp.toml`: an Office activation id, with the product it names.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OfficeId {
    pub id: String,
    pub name: String,
    pub sources: Vec<String>,
}

/// Everything `ospp.toml` holds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OsppRules {
    pub languages: Vec<OsppLanguage>,
    pub skus: Vec<OfficeId>,
}

impl OsppRules {
    /// The name of an Office SKU id (any case), if the table has it.
    pub fn sku_name(&self, id: &str) -> Option<&str> {
        self.skus
            .iter()
            .find(|s| s.id.eq_ignore_ascii_case(id))
            .map(|s| s.name.as_str())
    }
}
