//! Rendering the KMS host count per day (`kmsdiag host-count`): as text (a bar per day), as CSV
//! (one row per host and day, spreadsheet-safe) or as JSON (one object per host). It knows the
//! correlation's host views, not how the logs were read or which hosts were picked.

use std::io::{self, Write};

use super::{json, sanitize, spreadsheet_safe};
use crate::correlate::HostView;

/// Writes each host's count now and its timeline, a `#` per machine counted (at most 50).
pub fn write_text(out: &mut dyn Write, hosts: &[&HostView]) -> io::Result<()> {
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
pub fn write_csv(out: &mut dyn Write, hosts: &[&HostView]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["host", "day", "count", "partial"])?;
    for h in hosts {
        for d in &h.timeline {
            w.write_record([
                spreadsheet_safe(&h.name).as_ref(),
                &d.day.to_string(),
                &d.count.to_string(),
                if d.partial { "true" } else { "false" },
            ])?;
        }
    }
    w.flush()
}

/// Writes one object per host: its count now, whether the replay covers 30 days, when the count
/// falls below the thresholds, and its timeline.
pub fn write_json(out: &mut dyn Write, hosts: &[&HostView]) -> io::Result<()> {
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
