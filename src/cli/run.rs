//! Running one command line: parse it, decide the terminal style once, load the rule table once
//! (every command but `rules lint` runs on it), hand the command to its handler, flush, and turn
//! what happened into an [`ExitStatus`]. A closed pipe is not an error: standard output goes
//! through [`PipeSink`], so `… | head` ends quietly with the status the run would have had.

use std::ffi::OsString;
use std::io::{self, IsTerminal, Write};

use clap::Parser;

use super::commands;
use super::{
    AnalyzeArgs, Cli, CollectArgs, Command, EventsArgs, Format, HostCountArgs, LookupArgs,
    RulesCommand, SlmgrArgs, SynthArgs,
};
use crate::cli::ExitStatus;
use crate::cli::output::PipeSink;
use crate::report::{self, Style};
use crate::rules::{Level, Rules, RulesError};

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
    let styles = Styles {
        stdout: Style::decide(cli.global.color.into(), width, no_color),
        // A report written to a file is coloured only when asked for, and not wrapped to the
        // terminal.
        file: Style::decide(cli.global.color.into(), None, no_color),
    };
    let mut out = PipeSink::new(io::BufWriter::new(stdout.lock()));
    let result = dispatch(&cli, &styles, &mut out);
    let flushed = out.flush();
    if std::env::var_os("KMSDIAG_PEAK_MEMORY").is_some() {
        report::diagnostic("note", &peak_memory());
    }
    match result.and_then(|status| flushed.map(|()| status)) {
        Ok(status) => status,
        // A closed pipe (`kmsdiag lookup --list | head`) is not an error; PipeSink takes it
        // already, this is the safety net.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitStatus::Ok,
        Err(e) => {
            report::diagnostic("error", &format!("cannot write output: {e}"));
            ExitStatus::Error
        }
    }
}

/// How text looks where it goes, decided once from `--color`, the terminal and `NO_COLOR`.
struct Styles {
    /// Standard output.
    stdout: Style,
    /// A report file (`analyze -o FILE`).
    file: Style,
}

/// Hands the command to its handler: `rules lint` as it is, every other command with the rule
/// table (built in, extended by `--rules DIR`), loaded here once.
fn dispatch(cli: &Cli, styles: &Styles, out: &mut dyn Write) -> io::Result<ExitStatus> {
    let style = &styles.stdout;
    let command = match &cli.command {
        // Checks rule files itself, so it runs when the table or `--rules DIR` is broken.
        Command::Rules(RulesCommand::Lint { dir, format }) => {
            return commands::rules::lint(dir.as_deref(), *format, style, out);
        }
        Command::Rules(RulesCommand::Test { finding, format }) => {
            Ruled::RulesTest(finding.as_deref(), *format)
        }
        Command::Lookup(args) => Ruled::Lookup(args),
        Command::Analyze(args) => Ruled::Analyze(args),
        Command::Slmgr(args) => Ruled::Slmgr(args),
        Command::Events(args) => Ruled::Events(args),
        Command::HostCount(args) => Ruled::HostCount(args),
        Command::Synth(args) => Ruled::Synth(args),
        Command::Collect(args) => Ruled::Collect(args),
    };
    let rules = match load_rules(cli.global.rules.as_deref()) {
        Ok(rules) => rules,
        Err(status) => return Ok(status),
    };
    match command {
        Ruled::Lookup(args) => commands::lookup::run(args, &rules, style, out),
        Ruled::Analyze(args) => {
            let style = if args.output.is_some() {
                &styles.file
            } else {
                style
            };
            commands::analyze::run(args, &rules, style, out)
        }
        Ruled::Slmgr(args) => commands::slmgr::run(args, &rules, style, out),
        Ruled::Events(args) => commands::events::run(args, &rules, style, out),
        Ruled::HostCount(args) => commands::host_count::run(args, &rules, out),
        Ruled::Synth(args) => commands::synth::run(args, &rules, out),
        Ruled::Collect(args) => commands::collect::run(args, &rules, style, out),
        Ruled::RulesTest(finding, format) => commands::rules::test(&rules, finding, format, out),
    }
}

/// The commands that run on the loaded rule table: every one but `rules lint`.
enum Ruled<'a> {
    Lookup(&'a LookupArgs),
    Analyze(&'a AnalyzeArgs),
    Slmgr(&'a SlmgrArgs),
    Events(&'a EventsArgs),
    HostCount(&'a HostCountArgs),
    Synth(&'a SynthArgs),
    Collect(&'a CollectArgs),
    RulesTest(Option<&'a str>, Format),
}

/// Loads the rule table, reporting every problem when it cannot.
fn load_rules(dir: Option<&std::path::Path>) -> Result<Rules, ExitStatus> {
    match Rules::load(dir) {
        Ok(r) => Ok(r),
        Err(RulesError::Invalid { problems }) => {
            for p in problems.iter().filter(|p| p.level == Level::Error) {
                report::diagnostic_raw(&p.to_string());
            }
            report::diagnostic(
                "error",
                "the rules cannot be loaded; fix the problems above (`kmsdiag rules lint DIR` lists them)",
            );
            Err(ExitStatus::Error)
        }
        Err(e) => {
            report::diagnostic("error", &e.to_string());
            Err(ExitStatus::Error)
        }
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
