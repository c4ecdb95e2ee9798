//! Splunk: the Universal Forwarder's `[WinEventLog://<log>]` input with `renderXml = true`
//! (sourcetype `XmlWinEventLog`, `_raw` the event XML with its `RenderingInfo`) exported by
//! `search/jobs/export` as JSON (one `{"preview","offset","result"}` object per line) and CSV
//! (a header, then one row per event), and the classic rendering (`renderXml = false`,
//! sourcetype `WinEventLog`: a time line then `key=value` lines ending with the multi-line
//! `Message=`) exported raw. A search returns the newest event first.
//! Sources: docs.splunk.com RESTREF/RESTsearch (search/jobs/export, `output_mode` json/csv/raw);
//! Splunk Add-on for Windows, "Source types and CIM data models" (`XmlWinEventLog` and
//! `WinEventLog`, source `WinEventLog:<log>` / `XmlWinEventLog:<log>`).

use std::io::{self, Write};

use super::{J, Row, csv_row, json_line, o, s};

/// `_time` as the search head renders it: milliseconds and the user's offset (UTC here).
fn time(r: &Row<'_>) -> String {
    r.r.time_created
        .format("%Y-%m-%dT%H:%M:%S%.3f+00:00")
        .to_string()
}

fn source(r: &Row<'_>) -> String {
    format!("XmlWinEventLog:{}", r.r.channel)
}

/// `search/jobs/export?output_mode=json` of `| table _time host source sourcetype EventCode _raw`.
pub(super) fn json(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    let last = rows.len().saturating_sub(1);
    for (offset, r) in rows.iter().rev().enumerate() {
        let result = o([
            ("_time", s(time(r))),
            ("host", s(r.short_name())),
            ("source", s(source(r))),
            ("sourcetype", s("XmlWinEventLog")),
            ("EventCode", s(r.r.event_id.to_string())),
            ("_raw", s(r.xml_rendered())),
        ]);
        let mut line = vec![
            ("preview", J::B(false)),
            ("offset", J::U(offset as u64)),
            ("result", result),
        ];
        if offset == last {
            line.push(("lastrow", J::B(true)));
        }
        json_line(w, &o(line))?;
    }
    Ok(())
}

/// `search/jobs/export?output_mode=csv` of the same search.
pub(super) fn csv(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    w.write_all(b"\"_time\",host,source,sourcetype,EventCode,\"_raw\"\r\n")?;
    for r in rows.iter().rev() {
        csv_row(
            w,
            &[
                time(r),
                r.short_name().to_owned(),
                source(r),
                "XmlWinEventLog".to_owned(),
                r.r.event_id.to_string(),
                r.xml_rendered(),
            ],
        )?;
    }
    Ok(())
}

/// `output_mode=raw` of the classic `WinEventLog` events: each `_raw` on its own, the time line
/// in the machine's local time as the forwarder writes it.
pub(super) fn classic(rows: &[Row<'_>], w: &mut dyn Write) -> io::Result<()> {
    for r in rows.iter().rev() {
        let raw = format!(
            "{}\nLogName={}\nEventCode={}\nEventType={}\nComputerName={}\nSourceName={}\nType={}\nRecordNumber={}\nKeywords=Classic\nTaskCategory=None\nOpCode=Info\nMessage={}\n",
            r.local_time().format("%m/%d/%Y %I:%M:%S %p"),
            r.r.channel,
            r.r.event_id,
            r.r.level,
            r.r.computer,
            r.r.provider,
            r.level_name(),
            r.record_id,
            r.message,
        );
        w.write_all(raw.as_bytes())?;
    }
    Ok(())
}
