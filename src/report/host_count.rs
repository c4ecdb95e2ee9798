//! Rendering the KMS host count per day (`kmsdiag host-count`): as text (a bar per day), as CSV
//! (one row per host and day, spreadsheet-safe) or as JSON (one object per host). It knows the
//! correlation's host views, not how the logs were read or which hosts were picked.

use std::io::{self, Write};

use super::{csv_cell, csv_error, json, sanitize};
use crate::correlate::HostView;

/// Writes each host's count now and its timeline, a `#` per machine counted (at most 50).
pub(crate) fn write_text(out: &mut dyn Write, hosts: &[&HostView]) -> io::Result<()> {
    for h in hosts {
        writeln!(
            out,
            "{}: count {} now ({} request(s) from {} client(s))",
            sanitize(&h.name, true),
            h.count_now,
            h.requests.len(),
            h.clients.len()
        )?;
        writeln!(out, "  day         count")?;
        for d in &h.timeline {
            let bar = "#".repeat(d.count.min(50));
            writeln!(
                out,
                "  {}  {:>5}{}  {bar}",
                d.day,
                d.count,
                if d.partial { "*" } else { " " }
            )?;
        }
        if h.timeline.iter().any(|d| d.partial) {
            writeln!(
                out,
                "  * less than 30 days of log before this day: the host may count more machines"
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Writes one row per host and day: `host,day,count,partial`.
pub(crate) fn write_csv(out: &mut dyn Write, hosts: &[&HostView]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["host", "day", "count", "partial"])
        .map_err(csv_error)?;
    for h in hosts {
        for d in &h.timeline {
            w.write_record([
                csv_cell(&h.name).as_str(),
                &d.day.to_string(),
                &d.count.to_string(),
                if d.partial { "true" } else { "false" },
            ])
            .map_err(csv_error)?;
        }
    }
    w.flush()
}

/// Writes one object per host: its count now, whether the replay covers 30 days, when the count
/// falls below the thresholds, and its timeline.
pub(crate) fn write_json(out: &mut dyn Write, hosts: &[&HostView]) -> io::Result<()> {
    let v: Vec<serde_json::Value> = hosts
        .iter()
        .map(|h| {
            serde_json::json!({
                "host": h.name,
                "count_now": h.count_now,
                "complete": h.count_complete,
                "below_client_threshold_on": h.below_client_threshold.map(|d| d.to_string()),
                "below_server_threshold_on": h.below_server_threshold.map(|d| d.to_string()),
                "days": h.timeline,
            })
        })
        .collect();
    json::write_pretty(out, &v)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::correlate::CountDay;

    fn host() -> HostView {
        let day = |d: u32, count: usize, partial: bool| CountDay {
            day: chrono::NaiveDate::from_ymd_opt(2025, 6, d).unwrap(),
            count,
            partial,
        };
        HostView {
            name: "=KMS01".to_owned(),
            requests: vec![0, 1, 2],
            clients: ["pc01".to_owned(), "pc02".to_owned()].into(),
            count_now: 2,
            timeline: vec![day(1, 1, true), day(2, 2, false)],
            ..HostView::default()
        }
    }

    fn written(write: fn(&mut dyn Write, &[&HostView]) -> io::Result<()>) -> String {
        let h = host();
        let mut out = Vec::new();
        write(&mut out, &[&h]).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn text_draws_a_bar_per_day_and_marks_partial_days() {
        assert_eq!(
            written(write_text),
            "=KMS01: count 2 now (3 request(s) from 2 client(s))\n  day         count\n  \
             2025-06-01      1*  #\n  2025-06-02      2   ##\n  * less than 30 days of log \
             before this day: the host may count more machines\n\n"
        );
    }

    #[test]
    fn csv_rows_are_spreadsheet_safe() {
        assert_eq!(
            written(write_csv),
            "host,day,count,partial\n'=KMS01,2025-06-01,1,true\n'=KMS01,2025-06-02,2,false\n"
        );
    }

    #[test]
    fn json_has_one_object_per_host() {
        let v: serde_json::Value = serde_json::from_str(&written(write_json)).unwrap();
        assert_eq!(v[0]["host"], "=KMS01");
        assert_eq!(v[0]["count_now"], 2);
        assert_eq!(v[0]["days"][1]["count"], 2);
    }
}
