//! `kmsdiag synth`: reads a scenario file, checks `--scale`, simulates the fleet and writes its
//! logs through [`crate::synth`], then says what was written ([`report::synth`]).

use std::io::{self, Write};

use super::error;
use crate::cli::ExitStatus;
use crate::cli::{AlsoForm, SynthArgs};
use crate::report;
use crate::rules::Rules;
use crate::synth::{self, Options, Scenario};

/// `kmsdiag synth`.
pub(crate) fn run(args: &SynthArgs, rules: &Rules, out: &mut dyn Write) -> io::Result<ExitStatus> {
    let path = args.scenario.display().to_string();
    let text = match std::fs::read_to_string(&args.scenario) {
        Ok(t) => t,
        Err(e) => return Ok(error(&format!("{path}: {e}"))),
    };
    let scenario = match Scenario::parse(&path, &text) {
        Ok(s) => s,
        Err(e) => return Ok(error(&e.to_string())),
    };
    if !(args.scale.is_finite() && args.scale > 0.0 && args.scale <= 10_000.0) {
        return Ok(error("--scale must be a number above 0 and at most 10000"));
    }
    let mut export = synth::siem::Shapes::default();
    for name in &args.export {
        if name.trim().eq_ignore_ascii_case("all") {
            export = synth::siem::Shape::ALL
                .into_iter()
                .fold(export, synth::siem::Shapes::with);
        } else if let Some(shape) = synth::siem::Shape::parse(name) {
            export = export.with(shape);
        } else {
            let names: Vec<&str> = synth::siem::Shape::ALL.iter().map(|s| s.id()).collect();
            return Ok(error(&format!(
                "--export: no shape `{name}`; kmsdiag writes: all, {}",
                names.join(", ")
            )));
        }
    }
    let opts = Options {
        seed: args.seed,
        scale: args.scale,
        xml: args.also.contains(&AlsoForm::Xml),
        noise_per_day: args.noise_per_day,
        inventory: args.also.contains(&AlsoForm::Inventory),
        export,
    };
    match synth::generate(rules, &scenario, &opts, &args.out) {
        Ok((expected, written)) => {
            report::synth::write_summary(out, expected.machines.len(), &written, &args.out)?;
            Ok(ExitStatus::Ok)
        }
        Err(e) => Ok(error(&e.to_string())),
    }
}
