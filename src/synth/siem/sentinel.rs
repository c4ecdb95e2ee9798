//! Microsoft Sentinel / Log Analytics: the `Event` table (the agent's "Windows event logs" data
//! source: `EventData` the `<DataItem>`-wrapped `<EventData>` XML string, `ParameterXml` the
//! insertion strings as `<Param>` elements, `RenderedDescription` the message; no record id) and
//! the `WindowsEvent` table (Windows Forwarded Events: `EventRecordId`, `EventData` dynamic,
//! `RawEventData` the event XML), each as `az monitor log-analytics query -o json` prints the
//! `kmsdiag collect --from sentinel` projection (a JSON array, keys sorted, every value a
//! string, `TableName` added) and as the portal's "Export to CSV" writes it (a byte-order mark,
//! the time column named `TimeGenerated [UTC]` in the portal's en-US format).
//! Sources: learn.microsoft.com azure-monitor/reference/tables/event and .../windowsevent;
//! research/fleet-inputs.md §3.3 (the `DataItem` layout of two real rows).

use std::fmt::Write as _;
use std::io::{self, Write};

use super::{J, Row, csv_row, o, s};

fn iso(r: &Row<'_>) -> String {
    r.r.time_created
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// The portal's time: `10/5/2026, 8:00:00.000 AM` (UTC).
fn portal_time(r: &Row<'_>) -> String {
    r.r.time_created
        .format("%-m/%-d/%Y, %-I:%M:%S%.3f %p")
        .to_string()
}

fn data_item(r: &Row<'_>) -> String {
    format!(
        "<DataItem type=\"System.XmlData\" time=\"{}\" sourceHealthServiceId=\"00000000-0000-0000-0000-000000000000\">{}</DataItem>",
        super::ticks_time(r.r.time_created),
        r.event_data_xml()
    )
}

fn parameter_xml(r: &Row<'_>) -> String {
    let mut out = String::new();
    for d in &r.r.data {
        let _ = write!(out, "<Param>{}</Param>", quick_xml::escape::escape(d));
    }
    out
}

/// `RawEventData`: the event XML as the agent renders it (double-quoted attributes).
fn raw_event_data(r: &Row<'_>) -> String {
    r.xml().replace('\'', "\"")
}

/// `EventData` of `WindowsEvent` (dynamic): the unnamed `<Data>` strings as a `Data` list.
fn windows_event_data(r: &Row<'_>) -> J {
    o([(
        "Data",
        J::A(r.r.data.iter().map(|d| s(d.as_str())).collect()),
    )])
}

/// The `Event` projection: (column, value) in the query's order.
fn event_columns(r: &Row<'_>) -> [(&'static str, String); 9] {
    [
        ("TimeGenerated", iso(r)),
        ("Computer", r.r.computer.clone()),
        ("EventLog", r.r.channel.clone()),
        ("Source", r.r.provider.clone()),
        ("EventID", r.r.event_id.to_string()),
        ("EventLevelName", r.level_name().to_owned()),
        ("RenderedDescription", r.message.clone()),
        ("ParameterXml", parameter_xml(r)),
        ("EventData", data_item(r)),
    ]
}

/// An `az … -o json` array: every row's keys sorted, `TableName` among them.
fn az_json(rows: Vec<Vec<(&'static str, J)>>, w: &mut dyn Write) -> io::Result<()> {
    let rows: Vec<J> = rows
        .into_iter()
        .map(|mut fields| {
            fields.push(("TableName", s("PrimaryResult")));
            fields.sort_by(|a, b| a.0.cmp(b.0));
            o(fields)
        })
        .collect();
    serde_json::to_writer_pretty(&mut *w, &J::A(rows))?;
    w.write_all(b"\n")
}

pub(super) fn event_json(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    let rows = rows
        .iter()
        .map(|r| {
            event_columns(r)
                .into_iter()
                .map(|(k, v)| (k, J::S(v)))
                .collect()
        })
        .collect();
    az_json(rows, w)
}

pub(super) fn event_csv(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    w.write_all("\u{feff}".as_bytes())?;
    let mut header: Vec<&str> = vec!["TimeGenerated [UTC]"];
    if let Some(r) = rows.first() {
        header.extend(event_columns(r).iter().skip(1).map(|(k, _)| *k));
    }
    csv_row(w, &header)?;
    for r in rows {
        let mut cells: Vec<String> = vec![portal_time(r)];
        cells.extend(event_columns(r).into_iter().skip(1).map(|(_, v)| v));
        csv_row(w, &cells)?;
    }
    Ok(())
}

/// The `WindowsEvent` projection, `EventData` left as a value.
fn windows_event_columns(r: &Row<'_>) -> Vec<(&'static str, J)> {
    vec![
        ("TimeGenerated", s(iso(r))),
        ("Computer", s(r.r.computer.as_str())),
        ("Channel", s(r.r.channel.as_str())),
        ("Provider", s(r.r.provider.as_str())),
        ("EventID", s(r.r.event_id.to_string())),
        ("EventRecordId", s(r.record_id.to_string())),
        ("EventData", windows_event_data(r)),
        ("RawEventData", s(raw_event_data(r))),
    ]
}

pub(super) fn windows_event_json(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    az_json(rows.iter().map(windows_event_columns).collect(), w)
}

pub(super) fn windows_event_csv(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    w.write_all("\u{feff}".as_bytes())?;
    csv_row(
        w,
        &[
            "TimeGenerated [UTC]",
            "Computer",
            "Channel",
            "Provider",
            "EventID",
            "EventRecordId",
            "EventData",
            "RawEventData",
        ],
    )?;
    for r in rows {
        let cells = [
            portal_time(r),
            r.r.computer.clone(),
            r.r.channel.clone(),
            r.r.provider.clone(),
            r.r.event_id.to_string(),
            r.record_id.to_string(),
            serde_json::to_string(&windows_event_data(r))?,
            raw_event_data(r),
        ];
        csv_row(w, &cells)?;
    }
    Ok(())
}
