//! Rendering the outcome of `kmsdiag rules test`: one line per finding sample (`ok` or `FAIL`,
//! with what the sample raised instead), or the results as JSON. It knows the results, not how
//! the samples were run.

use std::io::{self, Write};

/// One sample's outcome.
#[derive(Debug, serde::Serialize)]
pub struct SampleResult {
    pub finding: String,
    pub sample: String,
    pub passed: bool,
    /// The findings the sample raised, `id@machine`.
    pub raised: Vec<String>,
}

/// Writes a line per sample and a closing count of passed and failed samples.
pub fn write_text(out: &mut dyn Write, results: &[SampleResult]) -> io::Result<()> {
    for r in results {
        let mark = if r.passed { "ok  " } else { "FAIL" };
        writeln!(out, "{mark}  {}  {}", r.finding, r.sample)?;
        if !r.passed {
            writeln!(out, "      raised instead: {}", r.raised.join("; "))?;
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    writeln!(out, "{} passed, {failed} failed", results.len() - failed)
}

/// Writes the results as a pretty-printed JSON array.
pub fn write_json(out: &mut dyn Write, results: &[SampleResult]) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, results)?;
    writeln!(out)
}
