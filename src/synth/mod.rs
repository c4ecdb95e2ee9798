//! `kmsdiag synth`: simulates a KMS fleet from a scenario file and writes its logs as real
//! `.evtx` (plus event XML and `slmgr /dlv` text) with `expected.json`, the findings a correct
//! analysis must raise for every machine. Same scenario and seed, same bytes.

pub(crate) mod evtx_writer;
pub(crate) mod inventory;
pub(crate) mod output;
pub(crate) mod scenario;
pub(crate) mod siem;
pub(crate) mod sim;

use std::path::Path;

use serde::Serialize;

pub(crate) use output::Written;
pub(crate) use scenario::{Scenario, ScenarioError};
pub(crate) use sim::{Fleet, simulate};

use crate::rules::{Rules, Severity};

/// The schema name of `expected.json`.
pub(crate) const EXPECTED_SCHEMA: &str = "kmsdiag.synth-expected/1";

/// How to synthesise.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Options {
    pub seed: Option<u64>,
    pub scale: f64,
    /// Write event XML beside the `.evtx` files (also set by the scenario's `xml = true`).
    pub xml: bool,
    /// Override the scenario's noise events per machine per day.
    pub noise_per_day: Option<u32>,
    /// Also write the licensing inventory (also set by the scenario's `inventory = true`).
    pub inventory: bool,
    /// Also write the activation events as these SIEM / shipper exports (`DIR/exports/`).
    pub export: siem::Shapes,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            seed: None,
            scale: 1.0,
            xml: false,
            noise_per_day: None,
            inventory: false,
            export: siem::Shapes::default(),
        }
    }
}

/// The ground truth of a fleet.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Expected {
    pub schema: &'static str,
    pub description: String,
    pub seed: u64,
    pub start: String,
    /// The time the truth is stated at (the end of the span): analyze with `--now` this.
    pub now: String,
    pub machines: Vec<ExpectedMachine>,
}

/// One machine whose logs were collected.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct ExpectedMachine {
    pub name: String,
    pub role: &'static str,
    pub verdict: &'static str,
    /// Finding ids a correct analysis raises for this machine, sorted.
    pub findings: Vec<&'static str>,
    pub cmid: String,
    pub license_status: &'static str,
    pub kms_host: Option<String>,
    /// Hosts: the count at `now`.
    pub host_count: Option<usize>,
    /// The faults injected into it.
    pub faults: Vec<String>,
}

/// The truth as written to `expected.json`.
pub(crate) fn expected(rules: &Rules, s: &Scenario, fleet: &Fleet) -> Expected {
    let mut machines: Vec<ExpectedMachine> = fleet
        .machines
        .iter()
        .filter(|m| m.collected)
        .map(|m| {
            let findings: Vec<&'static str> = m.expected.iter().copied().collect();
            // Sharing a CMID is the fleet's harm, not the machine's state: it warns the host
            // that counts the clones as one and leaves the clones' own verdicts alone.
            let fleet = |f: &&&str| **f == "duplicate-cmid";
            let worst = findings
                .iter()
                .filter(|f| !fleet(f))
                .filter_map(|f| rules.finding(f).map(|r| r.severity))
                .chain(
                    (m.role == sim::Role::KmsHost && findings.iter().any(|f| fleet(&f)))
                        .then_some(Severity::Warning),
                )
                .max();
            ExpectedMachine {
                name: m.fqdn.clone(),
                role: m.role.as_str(),
                verdict: match worst {
                    Some(Severity::Error) => "failing",
                    Some(Severity::Warning) => "warning",
                    _ => "ok",
                },
                findings,
                cmid: m.cmid.clone(),
                license_status: crate::model::license::LicenseState::from_number(m.license.status)
                    .as_str(),
                kms_host: m.kms_used.clone().or_else(|| m.kms_configured.clone()),
                host_count: m.host_count,
                faults: m.faults.clone(),
            }
        })
        .collect();
    machines.sort_by(|a, b| a.name.cmp(&b.name));
    Expected {
        schema: EXPECTED_SCHEMA,
        description: s.description.clone(),
        seed: fleet.seed,
        start: fleet
            .start
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        now: fleet.now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        machines,
    }
}

/// Why synth failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SynthError {
    #[error(transparent)]
    Scenario(#[from] ScenarioError),
    #[error(transparent)]
    Output(#[from] output::OutputError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// Simulates `scenario` and writes the fleet under `out`.
pub(crate) fn generate(
    rules: &Rules,
    scenario: &Scenario,
    opts: &Options,
    out: &Path,
) -> Result<(Expected, Written), SynthError> {
    let seed = opts.seed.unwrap_or(scenario.seed);
    let fleet = simulate(scenario, seed, opts.scale);
    let mut written = output::write_fleet(
        &fleet,
        out,
        opts.noise_per_day.unwrap_or(scenario.noise_per_day),
        output::Forms {
            xml: opts.xml || scenario.xml,
            keep: !opts.export.is_empty(),
        },
        scenario.slmgr,
        scenario.renewal_interval,
        scenario.activation_interval,
    )?;
    if opts.inventory || scenario.inventory {
        let iv = inventory::Intervals {
            activation: scenario.activation_interval,
            renewal: scenario.renewal_interval,
        };
        let inv = inventory::write(&fleet, out, iv)?;
        written.files.extend(inv.files);
        written.bytes += inv.bytes;
    }
    let exported = std::mem::take(&mut written.exported);
    siem::write_exports(rules, &fleet, opts.export, &exported, out, &mut written)?;
    let exp = expected(rules, scenario, &fleet);
    let path = out.join("expected.json");
    let mut text = serde_json::to_string_pretty(&exp).unwrap_or_default();
    text.push('\n');
    std::fs::write(&path, &text).map_err(|source| SynthError::Io {
        path: path.display().to_string(),
        source,
    })?;
    written.files.push(path.display().to_string());
    written.bytes += text.len() as u64;
    Ok((exp, written))
}
