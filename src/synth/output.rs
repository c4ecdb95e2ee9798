//! Writes a simulated fleet to disk: per machine an `Application.evtx` (activation events among
//! other providers' noise), for hosts a `Key Management Service.evtx`, optionally the same events
//! as event XML, an `slmgr /dlv` snapshot, and `expected.json` with the ground truth.
//! Noise is made day by day while writing, so memory holds only the activation events.

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::sim::{Fleet, Log, Rng, Role, SimEvent, SimMachine, WINDOWS_APP_ID};
use crate::synth::evtx_writer::{EvtxWriter, FileState, KEYWORDS_CLASSIC, Record, WriteError};

const SPP: &str = "Microsoft-Windows-Security-SPP";
const SPP_GUID: &str = "{E23B33B0-C8C9-472C-A5F9-F2BDFEA0F156}";
const SPP_SOURCE: &str = "Software Protection Platform Service";

/// What `synth` wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Written {
    pub files: Vec<String>,
    pub records: u64,
    pub bytes: u64,
    /// The activation records with their record ids, for the SIEM exports (`super::siem`).
    #[serde(skip)]
    pub exported: Vec<(u64, Record)>,
}

/// Why output could not be written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Evtx { path: String, source: WriteError },
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> OutputError + '_ {
    move |source| OutputError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// One noise event kind of the Application log: provider, id, level and its data strings.
struct Noise {
    provider: &'static str,
    guid: Option<&'static str>,
    source: Option<&'static str>,
    id: u16,
    qualifiers: Option<u16>,
    level: u8,
    data: fn(&mut Rng, DateTime<Utc>) -> Vec<String>,
}

/// Providers that fill real Application logs (Security-SPP's own service events among them:
/// they are activation-provider records that say nothing about activation).
const NOISE: &[Noise] = &[
    Noise {
        provider: SPP,
        guid: Some(SPP_GUID),
        source: Some(SPP_SOURCE),
        id: 900,
        qualifiers: Some(16384),
        level: 4,
        data: |_, _| vec!["caller=TaskScheduler".into()],
    },
    Noise {
        provider: SPP,
        guid: Some(SPP_GUID),
        source: Some(SPP_SOURCE),
        id: 902,
        qualifiers: Some(16384),
        level: 4,
        data: |_, _| vec!["10.0.22621.2428".into()],
    },
    Noise {
        provider: SPP,
        guid: Some(SPP_GUID),
        source: Some(SPP_SOURCE),
        id: 903,
        qualifiers: Some(16384),
        level: 4,
        data: |_, _| Vec::new(),
    },
    Noise {
        provider: SPP,
        guid: Some(SPP_GUID),
        source: Some(SPP_SOURCE),
        id: 16384,
        qualifiers: Some(16384),
        level: 4,
        data: |r, t| {
            vec![
                (t + Duration::minutes(i64::try_from(r.below(600)).unwrap_or(0)))
                    .format("%Y-%m-%dT%H:%M:%SZ")
                    .to_string(),
                "RulesEngine".into(),
            ]
        },
    },
    Noise {
        provider: "Microsoft-Windows-RestartManager",
        guid: Some("{0888E5EF-9B98-4695-979D-E92CE4247224}"),
        source: None,
        id: 10000,
        qualifiers: None,
        level: 4,
        data: |r, t| {
            vec![
                format!("{}", r.below(32)),
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            ]
        },
    },
    Noise {
        provider: "MsiInstaller",
        guid: None,
        source: None,
        id: 1040,
        qualifiers: Some(0),
        level: 4,
        data: |r, _| {
            vec![
                format!(
                    "C:\\Windows\\Installer\\{:x}.msi",
                    r.next_u64() & 0x00FF_FFFF
                ),
                format!("{}", 4000 + r.below(9000)),
            ]
        },
    },
    Noise {
        provider: "Application Error",
        guid: None,
        source: None,
        id: 1000,
        qualifiers: Some(0),
        level: 2,
        data: |r, _| {
            vec![
                "Teams.exe".into(),
                "24.1.100.0".into(),
                format!("{:08x}", r.next_u64() & 0xFFFF_FFFF),
                "ntdll.dll".into(),
                "10.0.22621.2506".into(),
                format!("0xc0000005"),
                format!("0x{:016x}", r.next_u64() & 0xFFFF_FFFF),
            ]
        },
    },
    Noise {
        provider: "Windows Error Reporting",
        guid: None,
        source: None,
        id: 1001,
        qualifiers: Some(0),
        level: 4,
        data: |r, _| {
            vec![
                format!("{}", r.next_u64() % 10_000_000_000),
                "1".into(),
                "APPCRASH".into(),
                "Not available".into(),
            ]
        },
    },
    Noise {
        provider: "Microsoft-Windows-User Profiles Service",
        guid: Some("{89B1E9F0-5AFF-44A6-9B44-0A07A7CE5845}"),
        source: None,
        id: 1531,
        qualifiers: None,
        level: 4,
        data: |_, _| Vec::new(),
    },
    Noise {
        provider: "ESENT",
        guid: Some("{478EA8A8-00BE-4BA6-8E75-8B9DC7DB9F78}"),
        source: None,
        id: 326,
        qualifiers: Some(0),
        level: 4,
        data: |r, _| {
            vec![
                "svchost".into(),
                format!("{}", r.below(9000)),
                "SRUJet: ".into(),
                "C:\\Windows\\system32\\SRU\\SRUDB.dat".into(),
                "0".into(),
            ]
        },
    },
    Noise {
        provider: "SecurityCenter",
        guid: None,
        source: None,
        id: 15,
        qualifiers: Some(0),
        level: 4,
        data: |_, _| {
            vec![
                "Windows Defender".into(),
                "SECURITY_PRODUCT_STATE_ON".into(),
            ]
        },
    },
    Noise {
        provider: "Microsoft-Windows-Winlogon",
        guid: Some("{DBE9B383-7CF3-4331-91CC-A3CB16A3B538}"),
        source: None,
        id: 6003,
        qualifiers: None,
        level: 4,
        data: |_, _| Vec::new(),
    },
];

fn activation_record(m: &SimMachine, e: &SimEvent) -> Record {
    let error = matches!(e.event_id, 8198 | 8209);
    Record {
        provider: SPP.to_owned(),
        provider_guid: Some(SPP_GUID.to_owned()),
        event_source_name: Some(SPP_SOURCE.to_owned()),
        event_id: e.event_id,
        qualifiers: Some(if error { 49152 } else { 16384 }),
        level: if error { 2 } else { 4 },
        keywords: KEYWORDS_CLASSIC,
        time_created: e.time,
        process_id: 4000 + u32::try_from(m.cmid.len() * 37).unwrap_or(0),
        thread_id: 5000,
        channel: match e.log {
            Log::Application => "Application".to_owned(),
            Log::KeyManagementService => "Key Management Service".to_owned(),
        },
        computer: m.fqdn.clone(),
        data: e.data.clone(),
        ..Record::default()
    }
}

fn noise_record(m: &SimMachine, n: &Noise, t: DateTime<Utc>, rng: &mut Rng) -> Record {
    Record {
        provider: n.provider.to_owned(),
        provider_guid: n.guid.map(str::to_owned),
        event_source_name: n.source.map(str::to_owned),
        event_id: n.id,
        qualifiers: n.qualifiers,
        level: n.level,
        keywords: KEYWORDS_CLASSIC,
        time_created: t,
        process_id: u32::try_from(rng.below(20_000)).unwrap_or(0),
        thread_id: u32::try_from(rng.below(20_000)).unwrap_or(0),
        channel: "Application".to_owned(),
        computer: m.fqdn.clone(),
        data: (n.data)(rng, t),
        ..Record::default()
    }
}

/// One record as `wevtutil qe /f:xml` prints it.
pub(crate) fn record_xml(r: &Record, record_id: u64) -> String {
    let mut provider = format!(
        "<Provider Name='{}'",
        quick_xml::escape::escape(&r.provider)
    );
    if let Some(g) = &r.provider_guid {
        let _ = write!(provider, " Guid='{}'", quick_xml::escape::escape(g));
    }
    if let Some(s) = &r.event_source_name {
        let _ = write!(
            provider,
            " EventSourceName='{}'",
            quick_xml::escape::escape(s)
        );
    }
    provider.push_str("/>");
    let qualifiers = r
        .qualifiers
        .map(|q| format!(" Qualifiers='{q}'"))
        .unwrap_or_default();
    let mut data = String::new();
    for d in &r.data {
        let _ = write!(data, "<Data>{}</Data>", quick_xml::escape::escape(d));
    }
    format!(
        "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>{provider}<EventID{qualifiers}>{}</EventID><Version>{}</Version><Level>{}</Level><Task>{}</Task><Opcode>{}</Opcode><Keywords>0x{:x}</Keywords><TimeCreated SystemTime='{}'/><EventRecordID>{record_id}</EventRecordID><Correlation/><Execution ProcessID='{}' ThreadID='{}'/><Channel>{}</Channel><Computer>{}</Computer><Security/></System><EventData>{data}</EventData></Event>",
        r.event_id,
        r.version,
        r.level,
        r.task,
        r.opcode,
        r.keywords,
        r.time_created.format("%Y-%m-%dT%H:%M:%S%.9fZ"),
        r.process_id,
        r.thread_id,
        quick_xml::escape::escape(&r.channel),
        quick_xml::escape::escape(&r.computer),
    )
}

/// Besides each `.evtx`: its event XML; the records SIEM exports take, kept only when asked.
#[derive(Clone, Copy)]
pub(crate) struct Forms {
    pub xml: bool,
    pub keep: bool,
}

/// Writes one log: its records to `.evtx` (and `.xml`), ids from `first_id`.
struct LogFile {
    evtx: EvtxWriter<BufWriter<File>>,
    xml: Option<BufWriter<File>>,
    path: PathBuf,
    xml_path: Option<PathBuf>,
    next_id: u64,
    records: u64,
    kept: Vec<(u64, Record)>,
    keep: bool,
}

impl LogFile {
    fn create(dir: &Path, name: &str, first_id: u64, forms: Forms) -> Result<Self, OutputError> {
        let path = dir.join(format!("{name}.evtx"));
        let f = File::create(&path).map_err(io(&path))?;
        let evtx =
            EvtxWriter::new(BufWriter::new(f), first_id).map_err(|source| OutputError::Evtx {
                path: path.display().to_string(),
                source,
            })?;
        let (xml, xml_path) = if forms.xml {
            let p = dir.join(format!("{name}.xml"));
            let f = File::create(&p).map_err(io(&p))?;
            (Some(BufWriter::new(f)), Some(p))
        } else {
            (None, None)
        };
        Ok(LogFile {
            evtx,
            xml,
            path,
            xml_path,
            next_id: first_id.max(1),
            records: 0,
            kept: Vec::new(),
            keep: forms.keep,
        })
    }

    fn write(&mut self, r: &Record) -> Result<(), OutputError> {
        let id = self.evtx.write(r).map_err(|source| OutputError::Evtx {
            path: self.path.display().to_string(),
            source,
        })?;
        debug_assert_eq!(id, self.next_id);
        if let (Some(x), Some(p)) = (self.xml.as_mut(), self.xml_path.as_ref()) {
            writeln!(x, "{}", record_xml(r, id)).map_err(io(p))?;
        }
        if self.keep && super::siem::exported(r) {
            self.kept.push((id, r.clone()));
        }
        self.next_id = id + 1;
        self.records += 1;
        Ok(())
    }

    fn finish(self, state: FileState, written: &mut Written) -> Result<(), OutputError> {
        let path = self.path.clone();
        let mut w = self
            .evtx
            .finish(state)
            .map_err(|source| OutputError::Evtx {
                path: path.display().to_string(),
                source,
            })?;
        w.flush().map_err(io(&path))?;
        drop(w);
        written.records += self.records;
        written.exported.extend(self.kept);
        written.files.push(path.display().to_string());
        if let (Some(mut x), Some(p)) = (self.xml, self.xml_path) {
            x.flush().map_err(io(&p))?;
            written.files.push(p.display().to_string());
        }
        Ok(())
    }
}

/// Writes every collected machine's files under `out`.
pub(crate) fn write_fleet(
    fleet: &Fleet,
    out: &Path,
    noise_per_day: u32,
    forms: Forms,
    slmgr: bool,
    renewal_interval: u32,
    activation_interval: u32,
) -> Result<Written, OutputError> {
    std::fs::create_dir_all(out).map_err(io(out))?;
    let mut written = Written::default();
    for m in fleet.machines.iter().filter(|m| m.collected) {
        let dir = out.join(&m.fqdn);
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        write_application(fleet, m, &dir, noise_per_day, forms, &mut written)?;
        if m.role == Role::KmsHost {
            let mut log = LogFile::create(&dir, "Key Management Service", m.rolled_off + 1, forms)?;
            for e in m
                .events
                .iter()
                .filter(|e| e.log == Log::KeyManagementService)
            {
                log.write(&activation_record(m, e))?;
            }
            let state = FileState {
                dirty: false,
                full: m.rolled_off > 0,
            };
            log.finish(state, &mut written)?;
        }
        if slmgr {
            let p = dir.join("slmgr-dlv.txt");
            let text = slmgr_dlv(fleet, m, renewal_interval, activation_interval);
            std::fs::write(&p, text).map_err(io(&p))?;
            written.files.push(p.display().to_string());
        }
    }
    for f in &written.files {
        written.bytes += std::fs::metadata(f).map_or(0, |m| m.len());
    }
    Ok(written)
}

fn write_application(
    fleet: &Fleet,
    m: &SimMachine,
    dir: &Path,
    noise_per_day: u32,
    forms: Forms,
    written: &mut Written,
) -> Result<(), OutputError> {
    let mut log = LogFile::create(dir, "Application", 1, forms)?;
    let mut rng = Rng::derive(fleet.seed ^ 0x006E_6F69_7365, &m.fqdn);
    let mut activation = m
        .events
        .iter()
        .filter(|e| e.log == Log::Application)
        .peekable();
    let skew = Duration::minutes(m.skew_minutes);
    let mut day = m.boot.min(fleet.start);
    while day < fleet.now {
        let end = (day + Duration::days(1)).min(fleet.now);
        let mut noise: Vec<(DateTime<Utc>, usize)> = (0..noise_per_day)
            .map(|_| {
                let secs = rng.below(86_400);
                let t = day + Duration::seconds(i64::try_from(secs).unwrap_or(0)) + skew;
                let kind = usize::try_from(rng.below(NOISE.len() as u64)).unwrap_or(0);
                (t, kind)
            })
            .filter(|(t, _)| *t - skew < end && *t - skew >= m.boot)
            .collect();
        noise.sort();
        for (t, kind) in noise {
            while let Some(e) = activation.next_if(|e| e.time <= t) {
                log.write(&activation_record(m, e))?;
            }
            if let Some(n) = NOISE.get(kind) {
                log.write(&noise_record(m, n, t, &mut rng))?;
            }
        }
        day = end;
    }
    for e in activation {
        log.write(&activation_record(m, e))?;
    }
    log.finish(FileState::default(), written)
}

/// The time as slmgr prints it on an en-US machine: `7/1/2025 8:45:12 AM`.
fn slmgr_time(t: DateTime<Utc>) -> String {
    t.format("%-m/%-d/%Y %-I:%M:%S %p").to_string()
}

fn slmgr_dlv(fleet: &Fleet, m: &SimMachine, renewal: u32, activation: u32) -> String {
    let clock =
        fleet.now + Duration::minutes(m.skew_minutes) + Duration::minutes(i64::from(m.utc_offset));
    let minutes =
        |end: Option<DateTime<Utc>>| end.map_or(0, |e| (e - fleet.now).num_minutes().max(0));
    let mut s = String::new();
    s.push_str("Microsoft (R) Windows Script Host Version 5.812\r\nCopyright (C) Microsoft Corporation. All rights reserved.\r\n\r\n");
    s.push_str("Software licensing service version: 10.0.22621.2428\r\n\r\n");
    let (name, channel, key_channel, key) = match m.role {
        Role::KmsHost => (
            "Windows(R), ServerStandard edition",
            "VOLUME_KMS_2012-R2_WIN10",
            "Volume:CSVLK",
            "7YK9Q",
        ),
        Role::Mak => (
            "Windows(R), Enterprise edition",
            "VOLUME_MAK",
            "Volume:MAK",
            "8XKQ3",
        ),
        Role::KmsClient if m.server_os => (
            "Windows(R), ServerStandard edition",
            "VOLUME_KMSCLIENT",
            "Volume:GVLK",
            "VDYBN",
        ),
        Role::KmsClient => (
            "Windows(R), Enterprise edition",
            "VOLUME_KMSCLIENT",
            "Volume:GVLK",
            "2YT43",
        ),
    };
    let _ = write!(
        s,
        "Name: {name}\r\nDescription: Windows(R) Operating System, {channel} channel\r\n"
    );
    let _ = write!(
        s,
        "Activation ID: {}\r\nApplication ID: {WINDOWS_APP_ID}\r\n",
        m.activation_id
    );
    let _ = write!(
        s,
        "Product Key Channel: {key_channel}\r\nPartial Product Key: {key}\r\n"
    );
    let l = m.license;
    match l.status {
        1 => {
            s.push_str("License Status: Licensed\r\n");
            if let Some(e) = l.ends {
                let mins = minutes(Some(e));
                let _ = write!(s,
                    "Volume activation expiration: {mins} minute(s) ({} day(s))\r\n",
                    mins / 1440
                );
            }
        }
        2 | 3 => {
            s.push_str(if l.status == 2 {
                "License Status: Initial grace period\r\n"
            } else {
                "License Status: Additional grace period (KMS license expired or hardware out of tolerance)\r\n"
            });
            let mins = minutes(l.ends);
            let _ = write!(s, "Time remaining: {mins} minute(s) ({} day(s))\r\n", mins / 1440);
        }
        5 => s.push_str("License Status: Notification\r\nNotification Reason: 0xC004F009 (grace time expired).\r\n"),
        _ => s.push_str("License Status: Unlicensed\r\n"),
    }
    s.push_str("Remaining Windows rearm count: 1001\r\nRemaining SKU rearm count: 1001\r\n");
    let _ = write!(s, "Trusted time: {}\r\n", slmgr_time(clock));
    match m.role {
        Role::KmsHost => {
            let dns = m.dns_publishing.as_deref() != Some("off");
            let _ = write!(
                s,
                "\r\nKey Management Service is enabled on this machine\r\n    Current count: {}\r\n    Listening on Port: {}\r\n    DNS publishing {}\r\n    KMS priority: Normal\r\n",
                m.host_count.unwrap_or(0),
                m.port,
                if dns { "enabled" } else { "disabled" }
            );
        }
        Role::KmsClient => {
            s.push_str("Configured Activation Type: All\r\n");
            if l.status == 1 {
                let _ = write!(
                    s,
                    "\r\nMost recent activation information:\r\nKey Management Service client information\r\n    Client Machine ID (CMID): {}\r\n",
                    m.cmid
                );
                match (&m.kms_configured, &m.kms_used) {
                    (Some(c), _) => {
                        let _ = write!(s, "    Registered KMS machine name: {c}\r\n");
                    }
                    (None, Some(u)) => {
                        let _ = write!(s, "    KMS machine name from DNS: {u}\r\n");
                    }
                    (None, None) => {}
                }
                let _ = write!(
                    s,
                    "    Activation interval: {activation} minutes\r\n    Renewal interval: {renewal} minutes\r\n    KMS host caching is enabled\r\n"
                );
            } else {
                s.push_str("\r\nPlease use slmgr.vbs /ato to activate and update KMS client information in order to update values.\r\n");
            }
        }
        Role::Mak => {}
    }
    s
}
