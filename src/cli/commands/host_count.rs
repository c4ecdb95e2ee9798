//! `kmsdiag host-count`: reads the hosts' logs, replays each KMS host's count per day with the
//! correlation, and writes the timelines through [`report::host_count`]. No host record in the
//! inputs is an error.

use std::io::{self, Write};

use super::{cpus, error};
use crate::cli::ExitStatus;
use crate::cli::time::time_flag;
use crate::cli::{CountFormat, HostCountArgs};
use crate::correlate::{HostView, correlate};
use crate::pipeline::read_inputs;
use crate::report;
use crate::rules::Rules;

/// `kmsdiag host-count`.
pub(crate) fn run(
    args: &HostCountArgs,
    rules: &Rules,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let now = match time_flag("--now", args.now.as_deref()) {
        Ok(now) => now,
        Err(e) => return Ok(error(&e.to_string())),
    };
    let inputs = read_inputs(rules, &args.paths);
    let newest = inputs.events.iter().filter_map(|e| e.time).max();
    let Some(now) = now.map(|n| n.and_utc()).or(newest) else {
        return Ok(error("no readable event log among the inputs"));
    };
    let corr = correlate(&inputs.events, now, cpus(), rules.kms());
    let hosts: Vec<&HostView> = corr
        .hosts
        .iter()
        .filter(|h| !h.requests.is_empty())
        .collect();
    if hosts.is_empty() {
        return Ok(error("no KMS host records (event 12290) in the inputs"));
    }
    match args.format {
        CountFormat::Text => report::host_count::write_text(out, &hosts)?,
        CountFormat::Csv => report::host_count::write_csv(out, &hosts)?,
        CountFormat::Json => report::host_count::write_json(out, &hosts)?,
    }
    Ok(ExitStatus::Ok)
}
