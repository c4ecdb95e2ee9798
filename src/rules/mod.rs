//! The rule table: the typed contents of `rules/*.toml`, embedded at build time, optionally
//! extended from a directory (`--rules DIR`), and indexed for lookups.
//!
//! Loading (`load`) always goes through the linter (`lint`), so a table that loads is a table
//! that lints clean. What the entries mean for a diagnosis is decided elsewhere; this module only
//! holds facts.

pub(crate) mod events;
pub(crate) mod inventory;
pub(crate) mod fields;
mod lint;
mod load;
pub(crate) mod ospp;
pub(crate) mod collect;
pub(crate) mod slmgr;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::hresult::Hresult;

pub(crate) use lint::{Level, Problem};
pub(crate) use load::{lint_dir, lint_embedded};
pub(crate) use slmgr::SlmgrLanguage;

/// The rule files kmsdiag knows, in the order they are checked.
pub(crate) const FILE_NAMES: &[&str] = &[
    "findings.toml",
    "codes.toml",
    "win32.toml",
    "licensing.toml",
    "slmgr.toml",
    "events.toml",
    "ospp.toml",
    "inventory.toml",
    "collect.toml",
    "fields.toml",
];

/// How serious a code is when it shows up as a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Informational,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Informational => "informational",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The area of activation a code belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    KmsCount,
    KmsConnectivity,
    KmsHost,
    Dns,
    Network,
    Key,
    Genuine,
    Bios,
    Time,
    Mak,
    LicenseState,
    Store,
    Permissions,
    TokenActivation,
    AdActivation,
    VmActivation,
    Rearm,
    Other,
}

impl Category {
    /// Every category, in table order.
    pub const ALL: &[Category] = &[
        Category::KmsCount,
        Category::KmsConnectivity,
        Category::KmsHost,
        Category::Dns,
        Category::Network,
        Category::Key,
        Category::Genuine,
        Category::Bios,
        Category::Time,
        Category::Mak,
        Category::LicenseState,
        Category::Store,
        Category::Permissions,
        Category::TokenActivation,
        Category::AdActivation,
        Category::VmActivation,
        Category::Rearm,
        Category::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Category::KmsCount => "kms-count",
            Category::KmsConnectivity => "kms-connectivity",
            Category::KmsHost => "kms-host",
            Category::Dns => "dns",
            Category::Network => "network",
            Category::Key => "key",
            Category::Genuine => "genuine",
            Category::Bios => "bios",
            Category::Time => "time",
            Category::Mak => "mak",
            Category::LicenseState => "license-state",
            Category::Store => "store",
            Category::Permissions => "permissions",
            Category::TokenActivation => "token-activation",
            Category::AdActivation => "ad-activation",
            Category::VmActivation => "vm-activation",
            Category::Rearm => "rearm",
            Category::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<Category> {
        Category::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which kind of machine a code is seen on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    KmsClient,
    KmsHost,
    Mak,
    Retail,
    Oem,
    Token,
    Ad,
}

/// One `[[code]]` entry of `codes.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CodeEntry {
    pub code: String,
    pub symbol: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub message: Option<String>,
    pub category: Category,
    pub severity: Severity,
    pub finding: Option<String>,
    #[serde(default)]
    pub applies_to: Vec<Role>,
    pub meaning: Option<String>,
    #[serde(default)]
    pub causes: Vec<String>,
    #[serde(default)]
    pub next_steps: Vec<String>,
    #[serde(default)]
    pub related_events: Vec<u32>,
    pub sources: Vec<String>,
    pub notes: Option<String>,
}

/// One `[[finding]]` entry of `findings.toml`: the contract for a finding id.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FindingRule {
    pub id: String,
    pub severity: Severity,
    pub title: String,
    pub explanation: String,
    pub next_steps: Vec<String>,
    /// The finding is about the way from a client to its KMS host: the report's summary groups
    /// its machines by the host they use.
    #[serde(default)]
    pub by_kms_host: bool,
    /// Inputs that must raise this finding (`kmsdiag rules test` runs them).
    #[serde(default, rename = "sample")]
    pub samples: Vec<FindingSample>,
}

/// An input snippet and the finding it must raise, run through the real pipeline.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FindingSample {
    /// What the sample shows, one line.
    pub name: String,
    /// The input as a user would hand it over: event XML, slmgr output, …
    pub input: String,
    /// The time to judge by (`--now`).
    pub now: Option<String>,
    /// The machine the finding must name (default: any).
    pub machine: Option<String>,
    /// Further inputs read with `input` (a host's log beside a licensing inventory).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub also: Vec<String>,
}

/// One `[[error]]` entry of `win32.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Win32Entry {
    pub number: u32,
    pub name: String,
    pub message: String,
    pub sources: Vec<String>,
}

/// One `[[license_status]]` entry of `licensing.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LicenseStatusEntry {
    pub value: u32,
    pub id: String,
    pub slmgr: Vec<String>,
    pub description: String,
    pub sources: Vec<String>,
}

/// One `[[status_flag]]` entry of `licensing.toml` (event 12288/12289 field 1).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct StatusFlagEntry {
    pub value: String,
    pub symbol: String,
    pub severity: Severity,
    pub description: String,
    pub sources: Vec<String>,
}

/// The `[kms]` table of `licensing.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct KmsParams {
    pub client_os_threshold: u32,
    pub server_os_threshold: u32,
    pub count_window_days: u32,
    pub count_cap: u32,
    pub activation_interval_minutes: u32,
    pub renewal_interval_minutes: u32,
    pub validity_days: u32,
    pub oot_grace_days: u32,
    pub default_port: u16,
    pub sources: Vec<String>,
}

/// One `[[facility]]` entry of `licensing.toml`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FacilityEntry {
    pub value: u16,
    pub name: String,
    pub description: Option<String>,
}

/// The loaded, validated and indexed rule table.
#[derive(Debug, Clone)]
pub struct Rules {
    codes: BTreeMap<Hresult, CodeEntry>,
    symbols: HashMap<String, Hresult>,
    win32: BTreeMap<u16, Win32Entry>,
    win32_names: HashMap<String, u16>,
    license_statuses: BTreeMap<u32, LicenseStatusEntry>,
    status_flags: Vec<(u32, StatusFlagEntry)>,
    kms: KmsParams,
    facilities: BTreeMap<u16, FacilityEntry>,
    findings: BTreeMap<String, FindingRule>,
    slmgr: Vec<SlmgrLanguage>,
    ospp: ospp::OsppRules,
    events: events::Catalogue,
    inventory: inventory::Inventory,
    collect: Vec<collect::CollectSource>,
    fields: fields::FieldAliases,
    eventviewer: events::HeaderLabels,
}

/// Rules that could not be loaded: every problem found, not only the first.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rules directory {}: {source}", path.display())]
    Dir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the rules have {} problem(s); run `kmsdiag rules lint` for the list", problems.iter().filter(|p| p.level == Level::Error).count())]
    Invalid { problems: Vec<Problem> },
}

/// The parsed contents of one set of rule files, before merging.
#[derive(Debug, Default)]
pub(crate) struct RuleSet {
    pub(crate) findings: Vec<FindingRule>,
    pub(crate) slmgr: Vec<SlmgrLanguage>,
    pub(crate) ospp: ospp::OsppRules,
    pub(crate) providers: Vec<events::ProviderDef>,
    pub(crate) events: Vec<events::EventDef>,
    pub(crate) logs: Vec<events::LogDef>,
    pub(crate) codes: Vec<(Hresult, CodeEntry)>,
    pub(crate) win32: Vec<Win32Entry>,
    pub(crate) license_statuses: Vec<LicenseStatusEntry>,
    pub(crate) status_flags: Vec<(u32, StatusFlagEntry)>,
    pub(crate) kms: Option<KmsParams>,
    pub(crate) facilities: Vec<FacilityEntry>,
    pub(crate) inventory: inventory::InventorySet,
    pub(crate) collect: Vec<collect::CollectSource>,
    pub(crate) shippers: Vec<fields::ShipperDef>,
    pub(crate) eventviewer: Vec<events::EventViewerLanguage>,
}

impl Rules {
    /// The rules compiled into the binary.
    pub fn embedded() -> Result<Rules, RulesError> {
        Rules::load(None)
    }

    /// The embedded rules, extended by the rule files found in `dir`: an entry in `dir` replaces
    /// the embedded entry with the same key (code, error number, status value) and adds the rest.
    pub fn load(dir: Option<&Path>) -> Result<Rules, RulesError> {
        let (base, overlay) = load::checked_sets(dir)?;
        Ok(Rules::merge(base, overlay))
    }

    fn merge(base: RuleSet, overlay: Option<RuleSet>) -> Rules {
        let mut set = base;
        if let Some(extra) = overlay {
            set.codes.extend(extra.codes);
            set.win32.extend(extra.win32);
            set.license_statuses.extend(extra.license_statuses);
            set.status_flags.extend(extra.status_flags);
            set.facilities.extend(extra.facilities);
            set.findings.extend(extra.findings);
            set.providers.extend(extra.providers);
            set.events.extend(extra.events);
            for s in extra.shippers {
                set.shippers.retain(|b| b.id != s.id);
                set.shippers.push(s);
            }
            set.logs.extend(extra.logs);
            for lang in extra.slmgr {
                set.slmgr.retain(|l| l.id != lang.id);
                set.slmgr.push(lang);
            }
            for lang in extra.ospp.languages {
                set.ospp.languages.retain(|l| l.id != lang.id);
                set.ospp.languages.push(lang);
            }
            set.ospp.skus.extend(extra.ospp.skus);
            if extra.kms.is_some() {
                set.kms = extra.kms;
            }
            set.inventory.extend(extra.inventory);
            for lang in extra.eventviewer {
                set.eventviewer.retain(|l| l.language != lang.language);
                set.eventviewer.push(lang);
            }
            for src in extra.collect {
                set.collect.retain(|s| s.id != src.id);
                set.collect.push(src);
            }
        }
        let codes: BTreeMap<Hresult, CodeEntry> = set.codes.into_iter().collect();
        let mut symbols = HashMap::new();
        for (value, entry) in &codes {
            for name in entry.symbol.iter().chain(entry.aliases.iter()) {
                symbols.entry(name.to_ascii_uppercase()).or_insert(*value);
            }
        }
        let win32: BTreeMap<u16, Win32Entry> = set
            .win32
            .into_iter()
            .filter_map(|e| u16::try_from(e.number).ok().map(|n| (n, e)))
            .collect();
        let win32_names = win32
            .iter()
            .map(|(n, e)| (e.name.to_ascii_uppercase(), *n))
            .collect();
        let mut flags: BTreeMap<u32, StatusFlagEntry> = BTreeMap::new();
        for (v, e) in set.status_flags {
            flags.insert(v, e);
        }
        Rules {
            codes,
            symbols,
            win32,
            win32_names,
            license_statuses: set
                .license_statuses
                .into_iter()
                .map(|e| (e.value, e))
                .collect(),
            status_flags: flags.into_iter().collect(),
            // The embedded licensing.toml always has [kms]; the linter checks it.
            kms: set.kms.unwrap_or_else(fallback_kms),
            facilities: set.facilities.into_iter().map(|e| (e.value, e)).collect(),
            findings: set
                .findings
                .into_iter()
                .map(|f| (f.id.clone(), f))
                .collect(),
            slmgr: set.slmgr,
            ospp: set.ospp,
            events: events::Catalogue::new(set.providers, set.events, set.logs),
            inventory: inventory::Inventory::new(set.inventory),
            collect: set.collect,
            fields: fields::FieldAliases::new(set.shippers),
            eventviewer: events::HeaderLabels::new(&set.eventviewer),
        }
    }

    /// The entry for a code, if the table has one.
    pub fn code(&self, value: Hresult) -> Option<&CodeEntry> {
        self.codes.get(&value)
    }

    /// Every code entry, in numeric order.
    pub fn codes(&self) -> impl Iterator<Item = (Hresult, &CodeEntry)> {
        self.codes.iter().map(|(k, v)| (*k, v))
    }

    /// The code a symbol names: a code symbol or alias, or a Win32 error name (wrapped as
    /// facility 7). Case does not matter.
    pub fn symbol(&self, name: &str) -> Option<Hresult> {
        let upper = name.to_ascii_uppercase();
        self.symbols.get(&upper).copied().or_else(|| {
            self.win32_names
                .get(&upper)
                .map(|n| Hresult::from_win32(*n))
        })
    }

    /// A Win32 / Winsock / `WinINet` error number's entry.
    pub fn win32(&self, number: u16) -> Option<&Win32Entry> {
        self.win32.get(&number)
    }

    /// A facility's name.
    pub fn facility(&self, value: u16) -> Option<&FacilityEntry> {
        self.facilities.get(&value)
    }

    /// The license status for a `LicenseStatus` number (0..6).
    pub fn license_status(&self, value: u32) -> Option<&LicenseStatusEntry> {
        self.license_statuses.get(&value)
    }

    /// Every license status, by value.
    pub fn license_statuses(&self) -> impl Iterator<Item = &LicenseStatusEntry> {
        self.license_statuses.values()
    }

    /// The known 12288/12289 status flags with their bit values, in bit order.
    pub fn status_flags(&self) -> &[(u32, StatusFlagEntry)] {
        &self.status_flags
    }

    /// The rule for a finding id.
    pub fn finding(&self, id: &str) -> Option<&FindingRule> {
        self.findings.get(id)
    }

    /// Every finding rule, by id.
    pub fn findings(&self) -> impl Iterator<Item = &FindingRule> {
        self.findings.values()
    }

    /// The event catalogue: activation providers and the events kmsdiag decodes.
    pub fn events(&self) -> &events::Catalogue {
        &self.events
    }

    /// What `collect.toml` holds: the export query of each source of evidence, in file order.
    pub(crate) fn collect_sources(&self) -> &[collect::CollectSource] {
        &self.collect
    }

    /// What `ospp.toml` holds: ospp's labels per language, Office's SKU ids.
    pub fn ospp(&self) -> &ospp::OsppRules {
        &self.ospp
    }

    /// Event Viewer's header labels ("Log Name", "Ereignis-ID", …) in every language listed.
    pub(crate) fn eventviewer_labels(&self) -> &events::HeaderLabels {
        &self.eventviewer
    }

    /// The field-alias table of SIEM and shipper exports.
    pub(crate) fn fields(&self) -> &fields::FieldAliases {
        &self.fields
    }

    /// The slmgr label tables, one per UI language.
    pub fn slmgr_languages(&self) -> &[SlmgrLanguage] {
        &self.slmgr
    }

    /// KMS thresholds and timers.
    pub fn kms(&self) -> &KmsParams {
        &self.kms
    }

    /// The licensing inventory's classes, columns and properties.
    pub(crate) fn inventory(&self) -> &inventory::Inventory {
        &self.inventory
    }
}

/// Used only if a rules directory replaced nothing and the embedded table somehow lacked `[kms]`,
/// which the linter reports as an error before this is ever reached.
fn fallback_kms() -> KmsParams {
    KmsParams {
        client_os_threshold: 25,
        server_os_threshold: 5,
        count_window_days: 30,
        count_cap: 50,
        activation_interval_minutes: 120,
        renewal_interval_minutes: 10080,
        validity_days: 180,
        oot_grace_days: 30,
        default_port: 1688,
        sources: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_rules_load_and_index() {
        let rules = Rules::embedded().unwrap();
        let e = rules.code(Hresult(0xC004_F038)).unwrap();
        assert_eq!(e.symbol.as_deref(), Some("SL_E_VL_NOT_ENOUGH_COUNT"));
        assert_eq!(e.category, Category::KmsCount);
        assert_eq!(
            rules.symbol("sl_e_vl_not_enough_count"),
            Some(Hresult(0xC004_F038))
        );
        assert_eq!(
            rules.symbol("DNS_ERROR_NO_DNS_SERVERS"),
            Some(Hresult(0x8007_267C))
        );
        assert_eq!(rules.win32(1722).unwrap().name, "RPC_S_SERVER_UNAVAILABLE");
        assert_eq!(rules.kms().client_os_threshold, 25);
        assert_eq!(rules.kms().server_os_threshold, 5);
        assert_eq!(rules.license_status(5).unwrap().id, "notification");
        assert!(rules.codes().count() > 350);
    }

    #[test]
    fn informational_codes_are_not_errors() {
        let rules = Rules::embedded().unwrap();
        let e = rules.code(Hresult(0x4004_F040)).unwrap();
        assert_eq!(e.severity, Severity::Informational);
        assert_eq!(e.finding, None);
    }

    #[test]
    fn seed_codes_have_full_explanations() {
        let rules = Rules::embedded().unwrap();
        for code in [
            0xC004_F038,
            0xC004_F059,
            0x8007_267C,
            0x8004_C40B,
            0x8004_C465,
            0xC004_F074,
        ] {
            let e = rules.code(Hresult(code)).unwrap();
            assert!(e.meaning.is_some(), "{code:#X}");
            assert!(!e.causes.is_empty(), "{code:#X}");
            assert!(!e.next_steps.is_empty(), "{code:#X}");
            assert!(!e.sources.is_empty(), "{code:#X}");
        }
    }
}
