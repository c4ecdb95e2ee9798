//! Records to snapshots: each record's properties (named by `rules/inventory.toml`, Configuration Manager's
//! `0` suffix allowed) converted and stored in the product or service they belong to; records
//! grouped by the machine their export names (`PSComputerName`, `Netbios_Name0`, …, else
//! Configuration Manager's `ResourceID`, else the file); one snapshot per machine with one product per
//! `SoftwareLicensingProduct` row, the service's settings and CMID filling in what a product lacks.

use std::collections::HashMap;

use crate::model::license::LicenseState;
use crate::model::snapshot::{
    AdActivationInfo, AvmaInfo, DateValue, HostPort, KmsClientInfo, KmsHostInfo, LicenseSnapshot,
    ProductFamily, ProductLicense, Remaining, RemainingKind, TextLine,
};
use crate::rules::Rules;
use crate::rules::inventory::{ClassFamily, ClassKind, ColumnRole, Named, PropertyDef, Target};
use crate::rules::slmgr::FieldId;

use super::convert::{Value, convert};
use super::records::{Field, Record};

/// What the rows of one instance say, before it becomes a product.
#[derive(Debug, Default)]
struct Row {
    p: ProductLicense,
    kms: KmsClientInfo,
    host: KmsHostInfo,
    ad: AdActivationInfo,
    avma: AvmaInfo,
    host_enabled: Option<bool>,
    registered: Option<String>,
    registered_port: Option<u16>,
    dns: Option<String>,
    dns_port: Option<u16>,
    /// The discovered host's property was exported, empty.
    dns_empty: bool,
    /// The `PartialProductKey` property was exported, and whether it held a key.
    key_column: bool,
    key_given: bool,
    minutes: Option<u64>,
    cmid: Option<String>,
    version: Option<String>,
}

/// One machine's rows.
#[derive(Debug, Default)]
struct Machine {
    name: Option<String>,
    name_line: Option<TextLine>,
    products: Vec<Row>,
    service: Row,
    /// The service row of Office's own classes (`OfficeSoftwareProtectionService`): its CMID and
    /// KMS settings are Office's, kept apart from Windows'.
    office_service: Row,
    inventory_time: Option<DateValue>,
    fields_read: u32,
}

fn text(v: Value) -> Option<String> {
    match v {
        Value::Text(s) | Value::Unreadable(s) => Some(s),
        _ => None,
    }
}

fn number(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => Some(*n),
        _ => None,
    }
}

fn port(v: &Value) -> Option<u16> {
    number(v).and_then(|n| u16::try_from(n).ok())
}

fn date(v: Value) -> Option<DateValue> {
    match v {
        Value::Date(d) => d,
        _ => None,
    }
}

/// The slmgr field a property's line stands for as evidence.
fn evidence_field(t: Target) -> Option<FieldId> {
    use FieldId as F;
    use Target as T;
    Some(match t {
        T::Name => F::Name,
        T::Description => F::Description,
        T::ActivationId => F::ActivationId,
        T::ApplicationId => F::ApplicationId,
        T::ProductKeyChannel => F::ProductKeyChannel,
        T::PartialProductKey => F::PartialProductKey,
        T::LicenseStatus => F::LicenseStatus,
        T::StatusReason => F::NotificationReason,
        T::GraceMinutes => F::TimeRemaining,
        T::EvaluationEnd => F::EvaluationEndDate,
        T::TrustedTime => F::TrustedTime,
        T::Cmid => F::Cmid,
        T::KmsRegisteredHost | T::KmsRegisteredPort => F::KmsRegisteredName,
        T::KmsDnsHost | T::KmsDnsPort => F::KmsDnsName,
        T::CurrentCount => F::CurrentCount,
        T::ActivationInterval => F::ActivationInterval,
        T::RenewalInterval => F::RenewalInterval,
        _ => return None,
    })
}

/// Stores what a product's identity and license state properties say.
fn apply_product(row: &mut Row, target: Target, v: Value) {
    let p = &mut row.p;
    match target {
        Target::Name => p.name = text(v),
        Target::Description => p.description = text(v),
        Target::ActivationId => p.activation_id = text(v),
        Target::ApplicationId => p.application_id = text(v),
        Target::ExtendedPid => p.extended_pid = text(v),
        Target::ProductKeyChannel => p.product_key_channel = text(v),
        Target::InstallationId => p.installation_id = text(v),
        Target::PartialProductKey => {
            row.key_column = true;
            row.key_given = !matches!(v, Value::Empty);
            p.partial_product_key = match v {
                Value::Text(k) => Some(k),
                _ => None,
            };
        }
        Target::LicenseStatus => match v {
            Value::State(s) => p.license_status = Some(s),
            other => p.license_status_text = text(other),
        },
        Target::StatusReason => {
            if let Value::Code(c) = v {
                p.notification_reason = Some(c);
            }
        }
        Target::GraceMinutes => row.minutes = number(&v),
        Target::EvaluationEnd => p.evaluation_end = date(v),
        Target::TrustedTime => p.trusted_time = date(v),
        Target::RearmWindows | Target::RearmApp | Target::RearmSku => {
            let n = match v {
                Value::Signed(n) => Some(n),
                _ => None,
            };
            match target {
                Target::RearmWindows => p.rearm_windows = n,
                Target::RearmApp => p.rearm_app = n,
                _ => p.rearm_sku = n,
            }
        }
        Target::Cmid => row.cmid = text(v),
        Target::ServiceVersion => row.version = text(v),
        Target::AdObjectName => row.ad.object_name = text(v),
        Target::AdObjectDn => row.ad.object_dn = text(v),
        Target::AdExtendedPid => row.ad.extended_pid = text(v),
        Target::AdActivationId => row.ad.activation_id = text(v),
        Target::AvmaGuestIaid => row.avma.guest_iaid = text(v),
        Target::AvmaHostName => row.avma.host_name = text(v),
        Target::AvmaHostPid2 => row.avma.host_digital_pid2 = text(v),
        Target::AvmaActivationTime => row.avma.activation_time = date(v).map(|d| d.text),
        other => apply_kms(row, other, &v),
    }
}

/// Stores what a KMS client or host property says.
fn apply_kms(row: &mut Row, target: Target, v: &Value) {
    let flag = match v {
        Value::Flag(b) => Some(*b),
        _ => None,
    };
    let count = number(v);
    let r = &mut row.host.requests;
    match target {
        Target::KmsLookupDomain => row.kms.lookup_domain = text(v.clone()),
        Target::KmsRegisteredHost => row.registered = text(v.clone()),
        Target::KmsRegisteredPort => row.registered_port = port(v),
        Target::KmsDnsHost => {
            row.dns_empty = matches!(v, Value::Empty);
            row.dns = text(v.clone());
        }
        Target::KmsDnsPort => row.dns_port = port(v),
        Target::KmsIp => row.kms.host_ip = text(v.clone()),
        Target::KmsExtendedPid => row.kms.host_extended_pid = text(v.clone()),
        Target::ActivationInterval => row.kms.activation_interval_minutes = count,
        Target::RenewalInterval => row.kms.renewal_interval_minutes = count,
        Target::HostCaching => row.kms.host_caching = flag,
        Target::KmsHostEnabled => row.host_enabled = flag,
        Target::CurrentCount => row.host.current_count = count,
        Target::ListeningPort => row.host.listening_port = port(v),
        Target::DnsPublishing => row.host.dns_publishing = flag,
        Target::LowPriority => {
            row.host.priority = flag.map(|low| if low { "Low" } else { "Normal" }.to_owned());
        }
        Target::RequestsTotal => r.total = count,
        Target::RequestsFailed => r.failed = count,
        Target::RequestsUnlicensed => r.unlicensed = count,
        Target::RequestsLicensed => r.licensed = count,
        Target::RequestsInitialGrace => r.initial_grace = count,
        Target::RequestsOot => r.expired_or_out_of_tolerance = count,
        Target::RequestsNongenuineGrace => r.non_genuine_grace = count,
        Target::RequestsNotification => r.notification = count,
        _ => {}
    }
}

/// Which class a record is an instance of (and whose licences it holds, when the class says):
/// named by a class column, else told by a property only one class has.
fn class_of(rules: &Rules, rec: &Record) -> (ClassKind, Option<ClassFamily>) {
    let inv = rules.inventory();
    let only = |kind: ClassKind| {
        rec.fields.iter().any(|f| {
            !f.value.trim().is_empty()
                && matches!(inv.named(&f.name), Some(Named::Property(p)) if p.class == [kind])
        })
    };
    for f in &rec.fields {
        if let Some(Named::Column(c)) = inv.named(&f.name)
            && c.role == ColumnRole::Class
            && let Some(c) = inv.class(&f.value)
        {
            return (c.kind, c.family);
        }
    }
    if !only(ClassKind::Product) && only(ClassKind::Service) {
        (ClassKind::Service, None)
    } else {
        (ClassKind::Product, None)
    }
}

/// The machine a record names (first column of the preferred role), with its line.
fn machine_of<'r>(rules: &Rules, rec: &'r Record) -> Option<(String, &'r Field)> {
    let inv = rules.inventory();
    for role in [ColumnRole::Machine, ColumnRole::Resource] {
        for col in inv.columns(role) {
            let found = rec.fields.iter().find(|f| {
                !f.value.trim().is_empty()
                    && matches!(inv.named(&f.name), Some(Named::Column(c)) if c.name == col.name)
            });
            if let Some(f) = found {
                let name = match role {
                    ColumnRole::Resource => format!("{} {}", col.name, f.value.trim()),
                    _ => f.value.trim().to_owned(),
                };
                return Some((name, f));
            }
        }
    }
    None
}

/// Reads one record into its machine.
fn read_record(rules: &Rules, m: &mut Machine, rec: &Record) {
    let inv = rules.inventory();
    let (class, family) = class_of(rules, rec);
    let mut row = Row::default();
    if family == Some(ClassFamily::Office) {
        row.p.family = Some(ProductFamily::Office);
    }
    for f in &rec.fields {
        let def: &PropertyDef = match inv.named(&f.name) {
            Some(Named::Property(p)) => p,
            Some(Named::Column(c)) if c.role == ColumnRole::InventoryTime => {
                let v = convert(
                    rules,
                    crate::rules::inventory::ValueKind::Datetime,
                    &f.value,
                );
                m.inventory_time = m.inventory_time.take().or_else(|| date(v));
                continue;
            }
            _ => continue,
        };
        m.fields_read = m.fields_read.saturating_add(1);
        let v = convert(rules, def.value, &f.value);
        // An empty discovered host is what slmgr words as "DNS auto-discovery: KMS name not
        // available": its line is that evidence.
        let id = match (def.field, &v) {
            (Target::KmsDnsHost, Value::Empty) => Some(FieldId::KmsDnsDiscovery),
            (_, Value::Empty) => None,
            (t, _) => evidence_field(t),
        };
        if let Some(id) = id {
            let line = TextLine {
                line: f.line,
                text: f.text.clone(),
            };
            row.p.lines.entry(id).or_insert(line);
        }
        let target: &mut Row = match (class, family) {
            (ClassKind::Service, Some(ClassFamily::Office)) => &mut m.office_service,
            (ClassKind::Service, None) => &mut m.service,
            _ => &mut row,
        };
        apply_product(target, def.field, v);
    }
    if class == ClassKind::Product {
        row.p.line = rec.fields.first().map_or(0, |f| f.line);
        m.products.push(row);
    }
}

/// Groups the records by machine and makes one snapshot of each.
pub(super) fn snapshots(
    rules: &Rules,
    path: &str,
    records: &[Record],
    lines_read: u32,
) -> Vec<LicenseSnapshot> {
    let mut machines: Vec<Machine> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for rec in records {
        let named = machine_of(rules, rec);
        let key = named
            .as_ref()
            .map_or_else(String::new, |(n, _)| n.to_ascii_lowercase());
        let i = *index.entry(key).or_insert_with(|| {
            machines.push(Machine {
                name: named.as_ref().map(|(n, _)| n.clone()),
                name_line: named.as_ref().map(|(_, f)| TextLine {
                    line: f.line,
                    text: f.text.clone(),
                }),
                ..Machine::default()
            });
            machines.len() - 1
        });
        if let Some(m) = machines.get_mut(i) {
            read_record(rules, m, rec);
        }
    }
    machines
        .into_iter()
        .filter(|m| m.fields_read > 0)
        .map(|m| snapshot(rules, path, m, lines_read))
        .collect()
}

fn snapshot(rules: &Rules, path: &str, mut m: Machine, lines_read: u32) -> LicenseSnapshot {
    // Windows' CMID names the machine; Office's own service has another, used by its products.
    let cmid = m
        .products
        .iter()
        .chain([&m.service, &m.office_service])
        .find_map(|r| r.cmid.clone());
    let office_cmid = m.office_service.cmid.clone().or_else(|| cmid.clone());
    // Without the PartialProductKey column, an Unlicensed row beside rows in another state is
    // a SKU installed without a key (as `slmgr /dlv all` shows them), not the machine's state.
    let others = m.products.iter().any(|r| {
        r.p.license_status
            .is_some_and(|s| s != LicenseState::Unlicensed)
    });
    let service = std::mem::take(&mut m.service);
    let office_service = std::mem::take(&mut m.office_service);
    let mut products = Vec::with_capacity(m.products.len());
    for mut row in std::mem::take(&mut m.products) {
        row.p.in_use = if row.key_column {
            row.key_given
        } else {
            !(others && row.p.license_status == Some(LicenseState::Unlicensed))
        };
        if row.p.trusted_time.is_none() {
            row.p.trusted_time.clone_from(&m.inventory_time);
        }
        let product = if row.p.family == Some(ProductFamily::Office) {
            product(rules, row, &office_service, office_cmid.as_deref())
        } else {
            product(rules, row, &service, cmid.as_deref())
        };
        products.push(product);
    }
    LicenseSnapshot {
        path: path.to_owned(),
        encoding: String::new(),
        languages: Vec::new(),
        machine: m.name,
        machine_line: m.name_line,
        service_version: service.version.clone().or(office_service.version),
        cmid,
        products,
        commands: Vec::new(),
        expiry: Vec::new(),
        not_understood: Vec::new(),
        mentions: Vec::new(),
        kms_attempts: Vec::new(),
        warnings: Vec::new(),
        lines_read,
        lines_understood: m.fields_read,
        lines_recovered: 0,
    }
}

/// A product from its row, the machine's service row filling what the product lacks.
fn product(rules: &Rules, mut row: Row, service: &Row, cmid: Option<&str>) -> ProductLicense {
    let default_port = rules.kms().default_port;
    let mut p = std::mem::take(&mut row.p);
    p.channel = p
        .description
        .as_deref()
        .and_then(crate::input::values::channel);
    if p.rearm_windows.is_none() {
        p.rearm_windows = service.p.rearm_windows;
    }
    let channel = p.channel.as_deref().unwrap_or("");
    let key = p.product_key_channel.as_deref().unwrap_or("");
    let kms_client = channel == "VOLUME_KMSCLIENT" || key.eq_ignore_ascii_case("Volume:GVLK");
    let hostport = |host: &Option<String>, port: Option<u16>| {
        host.as_ref().map(|h| HostPort {
            host: h.clone(),
            port: port.filter(|p| *p != 0).unwrap_or(default_port),
        })
    };
    let registered = hostport(&row.registered, row.registered_port)
        .or_else(|| hostport(&service.registered, service.registered_port));
    let dns = hostport(&row.dns, row.dns_port).or_else(|| hostport(&service.dns, service.dns_port));
    if kms_client || registered.is_some() || dns.is_some() {
        let mut k = std::mem::take(&mut row.kms);
        let s = &service.kms;
        k.cmid = cmid.map(str::to_owned);
        k.dns_discovery_failed = kms_client
            && registered.is_none()
            && dns.is_none()
            && (row.dns_empty || service.dns_empty);
        k.registered_host = registered;
        k.dns_host = dns;
        k.lookup_domain = k.lookup_domain.or_else(|| s.lookup_domain.clone());
        k.host_ip = k.host_ip.or_else(|| s.host_ip.clone());
        k.host_extended_pid = k.host_extended_pid.or_else(|| s.host_extended_pid.clone());
        k.activation_interval_minutes = k
            .activation_interval_minutes
            .or(s.activation_interval_minutes);
        k.renewal_interval_minutes = k.renewal_interval_minutes.or(s.renewal_interval_minutes);
        k.host_caching = k.host_caching.or(s.host_caching);
        p.kms_client = Some(k);
    }
    if row.host_enabled == Some(true) {
        let s = &service.host;
        let mut h = std::mem::take(&mut row.host);
        h.enabled = true;
        h.current_count = h.current_count.or(s.current_count);
        h.listening_port = h.listening_port.or(s.listening_port);
        h.dns_publishing = h.dns_publishing.or(s.dns_publishing);
        h.priority = h.priority.or_else(|| s.priority.clone());
        p.kms_host = Some(h);
    }
    let ad = std::mem::take(&mut row.ad);
    if ad != AdActivationInfo::default() {
        p.ad_activation = Some(ad);
    }
    let avma = std::mem::take(&mut row.avma);
    if avma.host_name.is_some() {
        p.avma = Some(avma);
    }
    p.remaining = remaining(&p, row.minutes, kms_client);
    // A licensed product's reason is a success code (or none); only a failure is worth keeping.
    let success = p.notification_reason.is_some_and(|c| !c.is_failure());
    if (p.license_status == Some(LicenseState::Licensed) && success)
        || p.notification_reason.is_some_and(|c| c.0 == 0)
    {
        p.notification_reason = None;
    }
    p
}

/// The minutes left, labelled the way slmgr would label them for this product.
fn remaining(p: &ProductLicense, minutes: Option<u64>, kms_client: bool) -> Option<Remaining> {
    let minutes = minutes.filter(|m| *m > 0)?;
    let channel = p.channel.as_deref().unwrap_or("");
    let key = p.product_key_channel.as_deref().unwrap_or("");
    let kind = match p.license_status {
        Some(LicenseState::Licensed)
            if channel.starts_with("TIMEBASED") || key.contains(":TB:") =>
        {
            RemainingKind::TimebasedActivation
        }
        Some(LicenseState::Licensed) if channel.starts_with("VIRTUAL_MACHINE") => {
            RemainingKind::AutomaticVmActivation
        }
        Some(LicenseState::Licensed) if kms_client => RemainingKind::VolumeActivation,
        Some(LicenseState::Licensed) | None => RemainingKind::Unlabelled,
        Some(_) => RemainingKind::Grace,
    };
    Some(Remaining {
        kind,
        minutes,
        days_printed: None,
    })
}
