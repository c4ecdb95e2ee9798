//! `PowerShell` `Get-WinEvent`: the `EventLogRecord` objects as Windows `PowerShell` 5.1's
//! `Export-Csv` writes them (the `#TYPE` line, every property quoted, `TimeCreated` in the
//! machine's culture and local time, `Properties` only its type name: the payload is in
//! `Message` alone) and as `kmsdiag collect --from powershell` has `ConvertTo-Json` write them
//! (`Select-Object` of eight properties, `Properties` as `{"Value": …}` items, `TimeCreated` as
//! `\/Date(ms)\/`, four-space indent, CRLF, and `Out-File -Encoding utf8`'s byte-order mark).
//! Sources: learn.microsoft.com System.Diagnostics.Eventing.Reader.EventLogRecord (properties),
//! Export-Csv and ConvertTo-Json (Windows `PowerShell` 5.1: #TYPE header, `/Date()/` dates).

use std::io::{self, Write};

use super::{J, Row, o, s};

/// The record's properties in `Get-Member` order, as `Export-Csv` writes them.
fn csv_cells(r: &Row<'_>) -> [String; 27] {
    let guid =
        r.r.provider_guid
            .as_deref()
            .unwrap_or_default()
            .trim_matches(['{', '}'])
            .to_ascii_lowercase();
    [
        r.message.clone(),
        r.r.event_id.to_string(),
        r.r.version.to_string(),
        r.r.qualifiers.map(|q| q.to_string()).unwrap_or_default(),
        r.r.level.to_string(),
        r.r.task.to_string(),
        r.r.opcode.to_string(),
        r.r.keywords.to_string(),
        r.record_id.to_string(),
        r.r.provider.clone(),
        guid,
        r.r.channel.clone(),
        r.r.process_id.to_string(),
        r.r.thread_id.to_string(),
        r.r.computer.clone(),
        String::new(),
        r.local_time().format("%-m/%-d/%Y %-I:%M:%S %p").to_string(),
        String::new(),
        String::new(),
        r.r.channel.clone(),
        "System.Int32[]".to_owned(),
        "System.Diagnostics.Eventing.Reader.EventBookmark".to_owned(),
        r.level_name().to_owned(),
        "Info".to_owned(),
        String::new(),
        "System.Collections.ObjectModel.ReadOnlyCollection`1[System.String]".to_owned(),
        "System.Collections.Generic.List`1[System.Diagnostics.Eventing.Reader.EventProperty]"
            .to_owned(),
    ]
}

const CSV_HEADER: [&str; 27] = [
    "Message",
    "Id",
    "Version",
    "Qualifiers",
    "Level",
    "Task",
    "Opcode",
    "Keywords",
    "RecordId",
    "ProviderName",
    "ProviderId",
    "LogName",
    "ProcessId",
    "ThreadId",
    "MachineName",
    "UserId",
    "TimeCreated",
    "ActivityId",
    "RelatedActivityId",
    "ContainerLog",
    "MatchedQueryIds",
    "Bookmark",
    "LevelDisplayName",
    "OpcodeDisplayName",
    "TaskDisplayName",
    "KeywordsDisplayNames",
    "Properties",
];

fn quoted(w: &mut dyn Write, cells: &[impl AsRef<str>]) -> io::Result<()> {
    let line: Vec<String> = cells
        .iter()
        .map(|c| format!("\"{}\"", c.as_ref().replace('"', "\"\"")))
        .collect();
    w.write_all(line.join(",").as_bytes())?;
    w.write_all(b"\r\n")
}

pub(super) fn export_csv(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"#TYPE System.Diagnostics.Eventing.Reader.EventLogRecord\r\n")?;
    quoted(w, &CSV_HEADER)?;
    for r in rows {
        quoted(w, &csv_cells(r))?;
    }
    Ok(())
}

pub(super) fn convert_to_json(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    let items: Vec<J> = rows
        .iter()
        .map(|r| {
            o([
                ("Id", J::U(u64::from(r.r.event_id))),
                ("ProviderName", s(r.r.provider.as_str())),
                ("LogName", s(r.r.channel.as_str())),
                ("MachineName", s(r.r.computer.as_str())),
                ("RecordId", J::U(r.record_id)),
                (
                    "TimeCreated",
                    s(format!("/Date({})/", r.r.time_created.timestamp_millis())),
                ),
                ("Message", s(r.message.as_str())),
                (
                    "Properties",
                    J::A(
                        r.r.data
                            .iter()
                            .map(|d| o([("Value", s(d.as_str()))]))
                            .collect(),
                    ),
                ),
            ])
        })
        .collect();
    let mut buf = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
    serde::Serialize::serialize(&J::A(items), &mut ser)?;
    let text = String::from_utf8_lossy(&buf)
        .replace("\"/Date(", "\"\\/Date(")
        .replace(")/\"", ")\\/\"")
        .replace('\n', "\r\n");
    w.write_all("\u{feff}".as_bytes())?;
    w.write_all(text.as_bytes())?;
    w.write_all(b"\r\n")
}
