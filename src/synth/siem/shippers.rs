//! Log shippers: `NXLog`'s `im_msvistalog` records as `to_json()` writes them (with the Event XML
//! that `CaptureEventXML TRUE` keeps, as `kmsdiag collect --from nxlog` configures; unnamed
//! `<Data>` is not a field of its own) and as `xm_gelf` sends them to Graylog (GELF 1.1: `host`,
//! `short_message` cut at 64 characters, `full_message`, epoch `timestamp`, the other fields
//! prefixed `_`; the payload only in the message), `OpenWEC`'s `json` format (the event's System
//! block, `EventData.Data` the unnamed values in order, the `OpenWEC` block), and Fluent Bit's
//! `winevtlog` input (`StringInserts` the values in order) through `out_file`'s JSON lines.
//! Sources: docs.nxlog.co refman `im_msvistalog` (fields, `CaptureEventXML`) and `xm_gelf`
//! (`ShortMessageLength` 64, field mapping); go2docs.graylog.org GELF 1.1; cea-sec/openwec
//! doc/formats.md (json); docs.fluentbit.io inputs windows-event-log-winevtlog.

use std::io::{self, Write};

use super::{J, Row, json_line, o, s};

/// `NXLog`'s `EventType` / `Severity` names and `SeverityValue`.
fn nxlog_severity(r: &Row<'_>) -> (&'static str, u64) {
    match r.r.level {
        1 => ("CRITICAL", 5),
        2 => ("ERROR", 4),
        3 => ("WARNING", 3),
        _ => ("INFO", 2),
    }
}

/// `NXLog`'s time: local, no zone, as `EventTime` is written.
fn nxlog_time(r: &Row<'_>) -> String {
    r.local_time().format("%Y-%m-%d %H:%M:%S").to_string()
}

pub(super) fn nxlog(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        let (severity, value) = nxlog_severity(r);
        let doc = o([
            ("EventTime", s(nxlog_time(r))),
            ("Hostname", s(r.r.computer.as_str())),
            ("Keywords", s(r.r.keywords.to_string())),
            ("EventType", s(severity)),
            ("SeverityValue", J::U(value)),
            ("Severity", s(severity)),
            ("EventID", J::U(u64::from(r.r.event_id))),
            ("SourceName", s(r.r.provider.as_str())),
            (
                "ProviderGuid",
                s(r.r.provider_guid.clone().unwrap_or_default()),
            ),
            ("Version", J::U(u64::from(r.r.version))),
            ("Task", J::U(u64::from(r.r.task))),
            ("OpcodeValue", J::U(u64::from(r.r.opcode))),
            ("RecordNumber", J::U(r.record_id)),
            ("ProcessID", J::U(u64::from(r.r.process_id))),
            ("ThreadID", J::U(u64::from(r.r.thread_id))),
            ("Channel", s(r.r.channel.as_str())),
            ("Message", s(r.message.as_str())),
            ("Opcode", s("Info")),
            ("EventXML", s(r.xml())),
            ("EventReceivedTime", s(nxlog_time(r))),
            ("SourceModuleName", s("kms")),
            ("SourceModuleType", s("im_msvistalog")),
        ]);
        json_line(w, &doc)?;
    }
    Ok(())
}

/// `xm_gelf`'s syslog level: 3 error, 4 warning, 6 informational.
fn gelf_level(r: &Row<'_>) -> u64 {
    match r.r.level {
        1 => 2,
        2 => 3,
        3 => 4,
        _ => 6,
    }
}

pub(super) fn gelf(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        let (severity, value) = nxlog_severity(r);
        let short: String = r
            .message
            .lines()
            .next()
            .unwrap_or_default()
            .chars()
            .take(64)
            .collect();
        let epoch = super::epoch_seconds(r.r.time_created);
        let doc = o([
            ("version", s("1.1")),
            ("host", s(r.r.computer.as_str())),
            ("short_message", s(short)),
            ("full_message", s(r.message.as_str())),
            ("timestamp", J::F(epoch)),
            ("level", J::U(gelf_level(r))),
            ("_EventReceivedTime", s(nxlog_time(r))),
            ("_SourceModuleName", s("kms")),
            ("_SourceModuleType", s("im_msvistalog")),
            ("_Keywords", s(r.r.keywords.to_string())),
            ("_EventType", s(severity)),
            ("_SeverityValue", J::U(value)),
            ("_Severity", s(severity)),
            ("_EventID", J::U(u64::from(r.r.event_id))),
            ("_SourceName", s(r.r.provider.as_str())),
            (
                "_ProviderGuid",
                s(r.r.provider_guid.clone().unwrap_or_default()),
            ),
            ("_Task", J::U(u64::from(r.r.task))),
            ("_RecordNumber", J::U(r.record_id)),
            ("_ProcessID", J::U(u64::from(r.r.process_id))),
            ("_ThreadID", J::U(u64::from(r.r.thread_id))),
            ("_Channel", s(r.r.channel.as_str())),
            ("_Opcode", s("Info")),
        ]);
        json_line(w, &doc)?;
    }
    Ok(())
}

fn windows_time(r: &Row<'_>) -> String {
    super::ticks_time(r.r.time_created)
}

pub(super) fn openwec(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        let mut provider = vec![("Name", s(r.r.provider.as_str()))];
        if let Some(g) = &r.r.provider_guid {
            provider.push(("Guid", s(g.as_str())));
        }
        if let Some(n) = &r.r.event_source_name {
            provider.push(("EventSourceName", s(n.as_str())));
        }
        let mut system = vec![
            ("Provider", o(provider)),
            ("EventID", J::U(u64::from(r.r.event_id))),
        ];
        if let Some(q) = r.r.qualifiers {
            system.push(("EventIDQualifiers", J::U(u64::from(q))));
        }
        system.extend([
            ("Version", J::U(u64::from(r.r.version))),
            ("Level", J::U(u64::from(r.r.level))),
            ("Task", J::U(u64::from(r.r.task))),
            ("Opcode", J::U(u64::from(r.r.opcode))),
            ("Keywords", s(format!("0x{:x}", r.r.keywords))),
            ("TimeCreated", s(windows_time(r))),
            ("EventRecordID", J::U(r.record_id)),
            ("Correlation", o([])),
            (
                "Execution",
                o([
                    ("ProcessID", J::U(u64::from(r.r.process_id))),
                    ("ThreadID", J::U(u64::from(r.r.thread_id))),
                ]),
            ),
            ("Channel", s(r.r.channel.as_str())),
            ("Computer", s(r.r.computer.as_str())),
        ]);
        let data = J::A(r.r.data.iter().map(|d| s(d.as_str())).collect());
        let doc = o([
            ("System", o(system)),
            ("EventData", o([("Data", data)])),
            (
                "OpenWEC",
                o([
                    ("IpAddress", s("192.0.2.10")),
                    ("TimeReceived", s(windows_time(r))),
                    (
                        "Principal",
                        s(format!(
                            "{}$@CONTOSO.COM",
                            r.short_name().to_ascii_uppercase()
                        )),
                    ),
                    (
                        "Subscription",
                        o([
                            ("Name", s("activation")),
                            ("Uuid", s("00000000-0000-0000-0000-000000000001")),
                        ]),
                    ),
                ]),
            ),
        ]);
        json_line(w, &doc)?;
    }
    Ok(())
}

pub(super) fn fluent_bit(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        let offset = r.utc_offset;
        let zone = format!(
            "{}{:02}{:02}",
            if offset < 0 { '-' } else { '+' },
            offset.unsigned_abs() / 60,
            offset.unsigned_abs() % 60
        );
        let doc = o([
            ("date", J::F(super::epoch_seconds(r.r.time_created))),
            ("ProviderName", s(r.r.provider.as_str())),
            (
                "ProviderGuid",
                s(r.r.provider_guid.clone().unwrap_or_default()),
            ),
            ("Qualifiers", J::U(u64::from(r.r.qualifiers.unwrap_or(0)))),
            ("EventID", J::U(u64::from(r.r.event_id))),
            ("Version", J::U(u64::from(r.r.version))),
            ("Level", J::U(u64::from(r.r.level))),
            ("Task", J::U(u64::from(r.r.task))),
            ("Opcode", J::U(u64::from(r.r.opcode))),
            ("Keywords", s(format!("0x{:x}", r.r.keywords))),
            (
                "TimeCreated",
                s(format!(
                    "{} {zone}",
                    r.local_time().format("%Y-%m-%d %H:%M:%S")
                )),
            ),
            ("EventRecordID", J::U(r.record_id)),
            ("ActivityID", s("")),
            ("RelatedActivityID", s("")),
            ("ProcessID", J::U(u64::from(r.r.process_id))),
            ("ThreadID", J::U(u64::from(r.r.thread_id))),
            ("Channel", s(r.r.channel.as_str())),
            ("Computer", s(r.r.computer.as_str())),
            ("UserID", s("")),
            ("Message", s(r.message.as_str())),
            (
                "StringInserts",
                J::A(r.r.data.iter().map(|d| s(d.as_str())).collect()),
            ),
        ]);
        json_line(w, &doc)?;
    }
    Ok(())
}
