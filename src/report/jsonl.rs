//! Rendering an analysis report as JSON Lines: one finding per line, each carrying the report's
//! time, for SIEM ingestion (schema `kmsdiag.finding/1`, docs/report-schema.md).

use std::io::{self, Write};

use serde::Serialize;

use crate::model::{Finding, Report};

/// The schema name of every line.
pub(crate) const SCHEMA: &str = "kmsdiag.finding/1";

#[derive(Serialize)]
struct Line<'a> {
    schema: &'static str,
    /// The time the report is relative to.
    now: &'a str,
    #[serde(flatten)]
    finding: &'a Finding,
}

/// Writes one line per finding, in the report's order (most severe first).
pub(crate) fn write_jsonl(w: &mut dyn Write, r: &Report) -> io::Result<()> {
    for f in &r.findings {
        let line = Line {
            schema: SCHEMA,
            now: &r.now,
            finding: f,
        };
        super::json::write_compact(w, &line)?;
        writeln!(w)?;
    }
    Ok(())
}
