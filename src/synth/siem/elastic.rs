//! Elastic and `OpenSearch`: `winlogbeat` / Elastic Agent documents (ECS) as `_search` or
//! `elasticdump` saves their `_source` (one per line), Kibana Discover's CSV report of the
//! fields `kmsdiag collect --from elastic` names, and Wazuh's eventchannel documents (the
//! manager's `archives.json` with `logall_json`: an SPP information event raises no alert).
//! `winlogbeat` names unnamed `<Data>` `param1`, `param2`… by position and drops empty values
//! (the numbering keeps its gaps); Wazuh joins the non-empty unnamed values with ", " into
//! `data.win.eventdata.data` and keeps the message as its JSON string, quotes included.
//! Sources: elastic.co `winlogbeat` exported-fields-winlog (winlog.*), ECS event fields
//! (event.code, event.provider), elastic/beats `winlogbeat`/sys/winevent/maputil.go; Kibana
//! advanced settings (csv:quoteValues on by default, dateFormat `MMM D, YYYY @ HH:mm:ss.SSS`);
//! documentation.wazuh.com "How to collect Windows logs" (data.win.system.*, data.win.eventdata.*),
//! wazuh/wazuh src/analysisd/decoders/winevtchannel.c (the joined `data`, the quoted message).

use std::io::{self, Write};

use super::{J, Row, json_line, o, s};

/// `winlogbeat`'s `winlog.event_data`: `param{i+1}` for each non-empty unnamed value.
fn event_data(r: &Row<'_>) -> Vec<(String, String)> {
    r.r.data
        .iter()
        .enumerate()
        .filter(|(_, d)| !d.is_empty())
        .map(|(i, d)| (format!("param{}", i + 1), d.clone()))
        .collect()
}

fn iso_ms(r: &Row<'_>) -> String {
    r.r.time_created
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

/// One `winlogbeat` 8 document per line.
pub(super) fn ecs(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    for r in rows {
        let data = J::O(
            event_data(r)
                .into_iter()
                .map(|(k, v)| (k, J::S(v)))
                .collect(),
        );
        let doc = o([
            ("@timestamp", s(iso_ms(r))),
            (
                "agent",
                o([("type", s("winlogbeat")), ("version", s("8.13.4"))]),
            ),
            ("ecs", o([("version", s("8.0.0"))])),
            (
                "event",
                o([
                    ("code", s(r.r.event_id.to_string())),
                    ("created", s(iso_ms(r))),
                    ("kind", s("event")),
                    ("provider", s(r.r.provider.as_str())),
                ]),
            ),
            (
                "host",
                o([("name", s(r.short_name().to_ascii_lowercase()))]),
            ),
            (
                "log",
                o([("level", s(r.level_name().to_ascii_lowercase()))]),
            ),
            ("message", s(r.message.as_str())),
            (
                "winlog",
                o([
                    ("api", s("wineventlog")),
                    ("channel", s(r.r.channel.as_str())),
                    ("computer_name", s(r.r.computer.as_str())),
                    ("event_data", data),
                    ("event_id", s(r.r.event_id.to_string())),
                    ("keywords", J::A(vec![s("Classic")])),
                    ("opcode", s("Info")),
                    (
                        "process",
                        o([
                            ("pid", J::U(u64::from(r.r.process_id))),
                            ("thread", o([("id", J::U(u64::from(r.r.thread_id)))])),
                        ]),
                    ),
                    (
                        "provider_guid",
                        s(r.r.provider_guid.clone().unwrap_or_default()),
                    ),
                    ("provider_name", s(r.r.provider.as_str())),
                    ("record_id", s(r.record_id.to_string())),
                ]),
            ),
        ]);
        json_line(w, &doc)?;
    }
    Ok(())
}

/// Kibana's `@timestamp` in a CSV report: `Oct 5, 2026 @ 08:00:00.000` (UTC here).
fn kibana_time(r: &Row<'_>) -> String {
    r.r.time_created
        .format("%b %-d, %Y @ %H:%M:%S%.3f")
        .to_string()
}

/// Discover → Share → CSV report: every value quoted, a missing field empty.
pub(super) fn kibana_csv(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    let params = rows
        .iter()
        .map(|r| r.r.data.len())
        .max()
        .unwrap_or(1)
        .max(1);
    let mut header: Vec<String> = [
        "@timestamp",
        "host.name",
        "winlog.computer_name",
        "winlog.channel",
        "winlog.provider_name",
        "event.code",
        "winlog.record_id",
    ]
    .iter()
    .map(|h| (*h).to_owned())
    .collect();
    header.extend((1..=params).map(|i| format!("winlog.event_data.param{i}")));
    header.push("message".to_owned());
    quoted_row(w, &header)?;
    for r in rows {
        let data = event_data(r);
        let mut cells = vec![
            kibana_time(r),
            r.short_name().to_ascii_lowercase(),
            r.r.computer.clone(),
            r.r.channel.clone(),
            r.r.provider.clone(),
            r.r.event_id.to_string(),
            r.record_id.to_string(),
        ];
        cells.extend((1..=params).map(|i| {
            let key = format!("param{i}");
            data.iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        }));
        cells.push(r.message.clone());
        quoted_row(w, &cells)?;
    }
    Ok(())
}

/// A CSV row with every value quoted (`csv:quoteValues`), LF-terminated.
fn quoted_row(w: &mut dyn Write, cells: &[String]) -> io::Result<()> {
    let line: Vec<String> = cells
        .iter()
        .map(|c| format!("\"{}\"", c.replace('"', "\"\"")))
        .collect();
    w.write_all(line.join(",").as_bytes())?;
    w.write_all(b"\n")
}

/// Wazuh's `data.win.eventdata.data`: the non-empty unnamed values joined with ", ".
fn wazuh_data(r: &Row<'_>) -> Option<String> {
    let kept: Vec<&str> =
        r.r.data
            .iter()
            .map(String::as_str)
            .filter(|d| !d.is_empty() && *d != "-" && *d != "(NULL)")
            .collect();
    (!kept.is_empty()).then(|| kept.join(", "))
}

/// One eventchannel document per line, as the manager writes `archives.json`.
pub(super) fn wazuh(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    let mut agents: Vec<&str> = rows.iter().map(|r| r.r.computer.as_str()).collect();
    agents.sort_unstable();
    agents.dedup();
    for (i, r) in rows.iter().enumerate() {
        let agent = agents.binary_search(&r.r.computer.as_str()).unwrap_or(0) + 1;
        let system = o([
            ("providerName", s(r.r.provider.as_str())),
            (
                "providerGuid",
                s(r.r.provider_guid.clone().unwrap_or_default()),
            ),
            (
                "eventSourceName",
                s(r.r.event_source_name.clone().unwrap_or_default()),
            ),
            ("eventID", s(r.r.event_id.to_string())),
            ("version", s(r.r.version.to_string())),
            ("level", s(r.r.level.to_string())),
            ("task", s(r.r.task.to_string())),
            ("opcode", s(r.r.opcode.to_string())),
            ("keywords", s(format!("0x{:x}", r.r.keywords))),
            ("systemTime", s(super::ticks_time(r.r.time_created))),
            ("eventRecordID", s(r.record_id.to_string())),
            ("processID", s(r.r.process_id.to_string())),
            ("threadID", s(r.r.thread_id.to_string())),
            ("channel", s(r.r.channel.as_str())),
            ("computer", s(r.r.computer.as_str())),
            ("severityValue", s(r.level_name().to_ascii_uppercase())),
            ("message", s(format!("\"{}\"", r.message))),
        ]);
        let mut win = vec![("system", system)];
        if let Some(d) = wazuh_data(r) {
            win.push(("eventdata", o([("data", s(d))])));
        }
        let doc = o([
            (
                "timestamp",
                s(r.r
                    .time_created
                    .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
                    .to_string()),
            ),
            (
                "agent",
                o([
                    ("id", s(format!("{agent:03}"))),
                    ("name", s(r.short_name())),
                ]),
            ),
            ("manager", o([("name", s("wazuh-manager"))])),
            (
                "id",
                s(format!("{}.{}", r.r.time_created.timestamp(), 1000 + i)),
            ),
            ("decoder", o([("name", s("windows_eventchannel"))])),
            ("data", o([("win", o(win))])),
            ("location", s("EventChannel")),
        ]);
        json_line(w, &doc)?;
    }
    Ok(())
}
