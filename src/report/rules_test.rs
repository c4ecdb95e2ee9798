//! Rendering the outcome of `kmsdiag rules test`: one line per finding sample (`ok` or `FAIL`,
//! with what the sample raised instead), or the results as JSON. It knows the results, not how
//! the samples were run.

use std::io::{self, Write};

use super::sanitize;

/// One sample's outcome.
#[derive(Debug, serde::Serialize)]
pub(crate) struct SampleResult {
    pub finding: String,
    pub sample: String,
    pub passed: bool,
    /// The findings the sample raised, `id@machine`.
    pub raised: Vec<String>,
}

/// Writes a line per sample and a closing count of passed and failed samples.
pub(crate) fn write_text(out: &mut dyn Write, results: &[SampleResult]) -> io::Result<()> {
    for r in results {
        let mark = if r.passed { "ok  " } else { "FAIL" };
        writeln!(
            out,
            "{mark}  {}  {}",
            sanitize(&r.finding, true),
            sanitize(&r.sample, true)
        )?;
        if !r.passed {
            writeln!(
                out,
                "      raised instead: {}",
                sanitize(&r.raised.join("; "), true)
            )?;
        }
    }
    let failed = results.iter().filter(|r| !r.passed).count();
    writeln!(out, "{} passed, {failed} failed", results.len() - failed)
}

/// Writes the results as a pretty-printed JSON array.
pub(crate) fn write_json(out: &mut dyn Write, results: &[SampleResult]) -> io::Result<()> {
    super::json::write_pretty(out, results)?;
    writeln!(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_says_what_a_failed_sample_raised_instead() {
        let results = [
            SampleResult {
                finding: "kms-unreachable".to_owned(),
                sample: "firewall".to_owned(),
                passed: true,
                raised: vec!["kms-unreachable@PC01".to_owned()],
            },
            SampleResult {
                finding: "dns-no-srv".to_owned(),
                sample: "empty zone".to_owned(),
                passed: false,
                raised: vec!["a@PC01".to_owned(), "b@".to_owned()],
            },
        ];
        let mut out = Vec::new();
        write_text(&mut out, &results).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ok    kms-unreachable  firewall\nFAIL  dns-no-srv  empty zone\n      raised \
             instead: a@PC01; b@\n1 passed, 1 failed\n"
        );
    }
}
