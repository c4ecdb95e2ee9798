//! kmsdiag: explains Windows volume activation (KMS, MAK, AD-based, retail/OEM) from what
//! helpdesks and KMS administrators have — result codes today; event logs and `slmgr` output as
//! the pipeline grows (inputs → normalized events → correlation → findings → renderers).
//!
//! The binary is a thin wrapper around [`run`].

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod correlate;
pub mod diagnose;
pub mod events;
pub mod evtx_writer;
pub mod fleet;
pub mod harness;
pub mod hresult;
pub mod input;
pub mod lookup;
pub mod model;
pub mod report;
pub mod rules;
pub mod slmgr;

pub mod synth;

pub mod zone;

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::report::Style;

/// What the process exits with (documented in `--help` and README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Nothing to report at or above the threshold.
    Ok,
    /// Something was found: an unknown code, findings at or above `--fail-on`.
    Findings,
    /// Usage error, unreadable rules, no readable input.
    Error,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Ok => 0,
            ExitStatus::Findings => 1,
            ExitStatus::Error => 2,
        }
    }
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s.code())
    }
}

/// The process's peak resident memory, as Linux counts it (`VmHWM`), for `KMSDIAG_PEAK_MEMORY=1`:
/// tests and benchmarks measure memory from inside the process, on any machine.
fn peak_memory() -> String {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .map_or_else(
            || "peak memory: unknown on this system".to_owned(),
            |v| format!("peak memory: {}", v.trim()),
        )
}

/// Runs kmsdiag with the given command line and returns the exit status.
pub fn run<I, T>(args: I) -> ExitStatus
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help, version and usage errors itself, to the right stream.
            let _ = e.print();
            return if e.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Ok
            };
        }
    };
    let stdout = io::stdout();
    let width = stdout
        .is_terminal()
        .then(textwrap::termwidth)
        .filter(|w| *w > 0);
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    let style = Style::decide(cli.global.color, width, no_color);
    let mut out = io::BufWriter::new(stdout.lock());
    let result = match &cli.command {
        Command::Lookup(args) => match commands::load_rules(cli.global.rules.as_deref()) {
            Ok(rules) => commands::lookup(args, &rules, &style, &mut out),
            Err(status) => Ok(status),
        },
        Command::Analyze(args) => match commands::load_rules(cli.global.rules.as_deref()) {
            Ok(rules) => {
                // A report written to a file is coloured only when asked for, and not wrapped to
                // the terminal.
                let style = if args.output.is_some() {
                    Style::decide(cli.global.color, None, no_color)
                } else {
                    style
                };
                commands::analyze(args, &rules, &style, &mut out)
            }
            Err(status) => Ok(status),
        },
        Command::Slmgr(args) => match commands::load_rules(cli.global.rules.as_deref()) {
            Ok(rules) => commands::slmgr(args, &rules, &style, &mut out),
            Err(status) => Ok(status),
        },
        Command::Events(args) => match commands::load_rules(cli.global.rules.as_deref()) {
            Ok(rules) => commands::events(args, &rules, &style, &mut out),
            Err(status) => Ok(status),
        },
        Command::HostCount(args) => match commands::load_rules(cli.global.rules.as_deref()) {
            Ok(rules) => commands::host_count(args, &rules, &mut out),
            Err(status) => Ok(status),
        },
        Command::Synth(args) => match commands::load_rules(cli.global.rules.as_deref()) {
            Ok(rules) => commands::synth(args, &rules, &mut out),
            Err(status) => Ok(status),
        },
        Command::Rules(cli::RulesCommand::Test { finding, format }) => {
            match commands::load_rules(cli.global.rules.as_deref()) {
                Ok(rules) => commands::rules_test(&rules, finding.as_deref(), *format, &mut out),
                Err(status) => Ok(status),
            }
        }
        Command::Rules(cmd) => commands::rules_command(cmd, &style, &mut out),
    };
    let flushed = out.flush();
    if std::env::var_os("KMSDIAG_PEAK_MEMORY").is_some() {
        report::diagnostic("note", &peak_memory());
    }
    match result.and_then(|status| flushed.map(|()| status)) {
        Ok(status) => status,
        // A closed pipe (`kmsdiag lookup --list | head`) is not an error.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitStatus::Ok,
        Err(e) => {
            report::diagnostic("error", &format!("cannot write output: {e}"));
            ExitStatus::Error
        }
    }
}
