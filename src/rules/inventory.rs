//! The vocabulary of `rules/inventory.toml`: the WMI licensing classes, the columns exports add
//! (machine, Configuration Manager resource and inventory time), each property kmsdiag reads with the
//! snapshot field it fills and how its value is written, and the conversions WMI's values need.
//! Typed, so an unknown field or value kind is a lint error; indexed by name for the reader.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

/// `[conversions]`: how WMI writes values.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Conversions {
    /// A uint32 that does not apply (`0xFFFFFFFF` as an unsigned decimal).
    pub not_applicable: u64,
    /// The year of a datetime that was never set.
    pub no_date_year: i32,
    /// The suffix Configuration Manager adds to a property's name to make its column's.
    pub configmgr_suffix: String,
    pub sources: Vec<String>,
}

/// Which of the two classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ClassKind {
    Product,
    Service,
}

/// Whose licences a class holds, when the class alone tells (Office's own classes under
/// `osppsvc`); unset: the instance's `ApplicationID` or name tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ClassFamily {
    Office,
}

/// One `[[class]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClassDef {
    pub name: String,
    pub kind: ClassKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<ClassFamily>,
    /// The names Configuration Manager gives it (views, WMI classes).
    #[serde(default)]
    pub configmgr: Vec<String>,
    pub sources: Vec<String>,
}

/// What a column an export adds tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ColumnRole {
    /// The machine's name.
    Machine,
    /// An id of the machine when no name is given (Configuration Manager's `ResourceID`).
    Resource,
    /// When the inventory was taken.
    InventoryTime,
    /// The class the row is an instance of.
    Class,
}

/// One `[[column]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ColumnDef {
    pub name: String,
    pub role: ColumnRole,
    pub sources: Vec<String>,
}

/// How a property's value is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum ValueKind {
    Text,
    Guid,
    /// The last five characters of the key; empty when none is installed.
    PartialKey,
    /// `LicenseStatus`: a number of `licensing.toml`'s `[[license_status]]` (or its slmgr text).
    LicenseStatus,
    /// An HRESULT as an unsigned or signed decimal, or in hex.
    Hresult,
    /// A uint32 count of minutes.
    Minutes,
    /// A uint32 count; the not-applicable value means none.
    Count,
    /// A rearm count; the not-applicable value is -1.
    Rearm,
    /// A TCP port; 0 means the default.
    Port,
    /// A boolean (`True`/`False`, `1`/`0`).
    Flag,
    /// A DMTF datetime, a `/Date(ms)/`, an ISO 8601 or a culture-formatted date.
    Datetime,
}

/// The snapshot field a property fills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Target {
    /// Read only to recognise the input.
    None,
    Name,
    Description,
    ActivationId,
    ApplicationId,
    ExtendedPid,
    ProductKeyChannel,
    InstallationId,
    PartialProductKey,
    LicenseStatus,
    StatusReason,
    GraceMinutes,
    EvaluationEnd,
    TrustedTime,
    RearmWindows,
    RearmApp,
    RearmSku,
    Cmid,
    ServiceVersion,
    KmsLookupDomain,
    KmsRegisteredHost,
    KmsRegisteredPort,
    KmsDnsHost,
    KmsDnsPort,
    KmsIp,
    KmsExtendedPid,
    ActivationInterval,
    RenewalInterval,
    HostCaching,
    KmsHostEnabled,
    CurrentCount,
    ListeningPort,
    DnsPublishing,
    LowPriority,
    RequestsTotal,
    RequestsFailed,
    RequestsUnlicensed,
    RequestsLicensed,
    RequestsInitialGrace,
    RequestsOot,
    RequestsNongenuineGrace,
    RequestsNotification,
    AdObjectName,
    AdObjectDn,
    AdExtendedPid,
    AdActivationId,
    AvmaGuestIaid,
    AvmaHostName,
    AvmaHostPid2,
    AvmaActivationTime,
}

impl Target {
    /// The value kinds this field can take (the linter checks each property against it).
    pub(crate) fn accepts(self, kind: ValueKind) -> bool {
        use Target as T;
        use ValueKind as V;
        match self {
            T::None => true,
            T::PartialProductKey => kind == V::PartialKey,
            T::LicenseStatus => kind == V::LicenseStatus,
            T::StatusReason => kind == V::Hresult,
            T::GraceMinutes | T::ActivationInterval | T::RenewalInterval => kind == V::Minutes,
            T::EvaluationEnd | T::TrustedTime | T::AvmaActivationTime => kind == V::Datetime,
            T::RearmWindows | T::RearmApp | T::RearmSku => kind == V::Rearm,
            T::KmsRegisteredPort | T::KmsDnsPort | T::ListeningPort => kind == V::Port,
            T::HostCaching | T::KmsHostEnabled | T::DnsPublishing | T::LowPriority => {
                kind == V::Flag
            }
            T::CurrentCount
            | T::RequestsTotal
            | T::RequestsFailed
            | T::RequestsUnlicensed
            | T::RequestsLicensed
            | T::RequestsInitialGrace
            | T::RequestsOot
            | T::RequestsNongenuineGrace
            | T::RequestsNotification => kind == V::Count,
            _ => matches!(kind, V::Text | V::Guid),
        }
    }
}

/// One `[[property]]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PropertyDef {
    pub name: String,
    pub class: Vec<ClassKind>,
    pub field: Target,
    pub value: ValueKind,
    /// The name is specific to these classes.
    #[serde(default)]
    pub decisive: bool,
    pub sources: Vec<String>,
}

/// The entries of one set of rule files (before merging).
#[derive(Debug, Clone, Default)]
pub(crate) struct InventorySet {
    pub conversions: Option<Conversions>,
    pub classes: Vec<ClassDef>,
    pub columns: Vec<ColumnDef>,
    pub properties: Vec<PropertyDef>,
}

impl InventorySet {
    /// Adds `other`'s entries; one with the name of an entry here replaces it.
    pub(crate) fn extend(&mut self, other: InventorySet) {
        fn merge<T>(into: &mut Vec<T>, from: Vec<T>, name: impl Fn(&T) -> &str) {
            for e in from {
                into.retain(|x| !name(x).eq_ignore_ascii_case(name(&e)));
                into.push(e);
            }
        }
        if other.conversions.is_some() {
            self.conversions = other.conversions;
        }
        merge(&mut self.classes, other.classes, |c| &c.name);
        merge(&mut self.columns, other.columns, |c| &c.name);
        merge(&mut self.properties, other.properties, |p| &p.name);
    }
}

/// What a name in an export is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Named<'a> {
    Property(&'a PropertyDef),
    Column(&'a ColumnDef),
}

/// The inventory vocabulary, indexed by lower-case name.
#[derive(Debug, Clone)]
pub(crate) struct Inventory {
    pub conversions: Conversions,
    classes: Vec<ClassDef>,
    columns: Vec<ColumnDef>,
    properties: Vec<PropertyDef>,
    by_name: HashMap<String, (bool, usize)>,
}

impl Inventory {
    pub(crate) fn new(set: InventorySet) -> Inventory {
        let mut by_name = HashMap::new();
        for (i, p) in set.properties.iter().enumerate() {
            by_name.insert(p.name.to_ascii_lowercase(), (true, i));
        }
        for (i, c) in set.columns.iter().enumerate() {
            by_name.insert(c.name.to_ascii_lowercase(), (false, i));
        }
        Inventory {
            // The embedded inventory.toml always has [conversions]; the linter checks it.
            conversions: set.conversions.unwrap_or_else(|| Conversions {
                not_applicable: u64::from(u32::MAX),
                no_date_year: 1601,
                configmgr_suffix: "0".to_owned(),
                sources: Vec::new(),
            }),
            classes: set.classes,
            columns: set.columns,
            properties: set.properties,
            by_name,
        }
    }

    fn exact(&self, lower: &str) -> Option<Named<'_>> {
        let (property, i) = *self.by_name.get(lower)?;
        if property {
            self.properties.get(i).map(Named::Property)
        } else {
            self.columns.get(i).map(Named::Column)
        }
    }

    /// What a property or column name (any case, with or without Configuration Manager's suffix) is.
    pub(crate) fn named(&self, name: &str) -> Option<Named<'_>> {
        let lower = name.trim().to_ascii_lowercase();
        self.exact(&lower).or_else(|| {
            let suffix = self.conversions.configmgr_suffix.to_ascii_lowercase();
            lower
                .strip_suffix(suffix.as_str())
                .filter(|_| !suffix.is_empty())
                .and_then(|base| self.exact(base))
        })
    }

    /// The class a class name (WMI or Configuration Manager) names; a CIM class path
    /// (`root/cimv2:OfficeSoftwareProtectionProduct`) names the class after its namespace.
    pub(crate) fn class(&self, name: &str) -> Option<&ClassDef> {
        let name = name.trim();
        let name = name.rsplit([':', '/', '\\']).next().unwrap_or(name).trim();
        self.classes.iter().find(|c| {
            c.name.eq_ignore_ascii_case(name)
                || c.configmgr.iter().any(|n| n.eq_ignore_ascii_case(name))
        })
    }

    /// Every column of a role, in the file's order (the order of preference).
    pub(crate) fn columns(&self, role: ColumnRole) -> impl Iterator<Item = &ColumnDef> {
        self.columns.iter().filter(move |c| c.role == role)
    }
}
