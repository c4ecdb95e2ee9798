//! The command line, declared with clap derive: every subcommand and flag, with the help text and
//! the exit-status table. No I/O and no decisions in this file. Beneath it: [`run`] parses a
//! command line and dispatches it, [`commands`] holds one handler per subcommand, [`output`]
//! writes a report file atomically, [`progress`] draws the progress bar and [`time`] reads the
//! time flags.

pub(crate) mod commands;
pub(crate) mod output;
pub(crate) mod progress;
pub(crate) mod run;
pub(crate) mod time;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::report::{ColorChoice, ReportFormat};
use crate::zone::Zone;

/// The exit-status table every `--help` shows (a macro, so each subcommand's help can append its
/// examples with `concat!`).
macro_rules! exit_help {
    () => {
        "\
Exit status:
  0  success: analyze found nothing at or above --fail-on; lookup found every code;
     rules lint found no problem; rules test: every sample raised its finding
  1  analyze: a finding at or above --fail-on; lookup: a code is not in kmsdiag's table
     (it is still explained from its bits) or a search found nothing;
     rules test: a sample did not raise its finding
  2  usage error, unreadable or invalid rules, no readable input, an output file (-o) that
     cannot be written, an input that is not a code,
     a scenario synth cannot simulate, no KMS host record (host-count)"
    };
}

const EXIT_HELP: &str = exit_help!();

const LOOKUP_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag lookup 0xC004F074                  explain one code (any spelling: C004F074, -1073418124)
  kmsdiag lookup \"slui 0x2a 0x803F7001\"      the code a slui command line shows
  kmsdiag lookup --search firewall           codes whose meaning, causes or steps mention a word
  kmsdiag lookup --list --category dns       the table, one line per code"
);

const ANALYZE_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag analyze testdata/fleets/mixed                 a folder per machine, hosts and clients
  kmsdiag analyze --format html -o report.html logs/    one self-contained page
  kmsdiag analyze --only failing,warning --fail-on warning logs/   just what needs doing
  cscript //nologo slmgr.vbs /dlv | kmsdiag analyze -"
);

const SLMGR_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag slmgr testdata/slmgr/en-ato-0xC004F038.txt
  kmsdiag slmgr --format json dlv.txt
  cscript //nologo slmgr.vbs /dli | kmsdiag slmgr -"
);

const EVENTS_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag events testdata/fleets/firewall
  kmsdiag events --format jsonl Application.evtx > events.jsonl
  kmsdiag events --all --format csv testdata/events/eventviewer-saved.csv"
);

const HOST_COUNT_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag host-count testdata/fleets/cloned-cmid
  kmsdiag host-count --format csv --now 2026-03-31 kms01/"
);

const COLLECT_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag collect                              list the places kmsdiag has an export for
  kmsdiag collect --from splunk > kms.spl      the Splunk search, how to run it on stderr
  kmsdiag collect --from sentinel --days 45    a longer window (default 35 days)
  kmsdiag collect --from inventory > inv.ps1   the WMI licensing inventory of many machines"
);

const SYNTH_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag synth testdata/scenarios/firewall.toml --out /tmp/firewall
  kmsdiag synth testdata/scenarios/mixed.toml --out /tmp/big --scale 10 --also xml"
);

const RULES_HELP: &str = concat!(
    exit_help!(),
    "

Examples:
  kmsdiag rules lint
  kmsdiag rules lint my-rules/
  kmsdiag rules test --finding kms-count-insufficient
  kmsdiag --rules my-rules/ lookup 0xC004F074"
);

/// kmsdiag explains Windows volume activation (KMS, MAK, AD-based, retail/OEM): what a result code
/// means, why activation fails, and what to do next.
#[derive(Debug, Parser)]
#[command(name = "kmsdiag", version, about, after_help = EXIT_HELP)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes: listed last, under their own heading, so a subcommand's help
/// opens with its own options rather than the colour choice.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub(crate) struct GlobalArgs {
    /// When to colour output: auto colours on a terminal unless `NO_COLOR` is set.
    #[arg(long, value_enum, default_value_t = ColorArg::Auto, global = true)]
    pub color: ColorArg,
    /// Extend the built-in rule table with the rule files in DIR (codes.toml, win32.toml,
    /// licensing.toml); an entry there replaces the built-in entry with the same key.
    #[arg(long, value_name = "DIR", global = true)]
    pub rules: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Explain activation error codes: meaning, causes, next steps, related events.
    ///
    /// Codes can be pasted in any spelling: 0xC004F038, C004F038, hr=0xC004F038,
    /// "Error: 0xC004F038", -1073418184, 3221549112, `SL_E_VL_NOT_ENOUGH_COUNT`. A decimal from
    /// 1 to 65535 is read as a Win32 error number (1722 is 0x800706BA).
    #[command(after_help = LOOKUP_HELP)]
    Lookup(LookupArgs),
    /// Diagnose machines and KMS hosts from event logs (.evtx, XML, JSON, CSV/text) and slmgr
    /// output (/dli, /dlv, /xpr, /ato…): verdict per machine, findings with evidence and next steps.
    ///
    /// Client requests (12288/12289) are paired with the hosts' records (12290) across all inputs.
    ///
    /// Inputs are files, directories (read recursively) or - for standard input; the format is
    /// recognised by content. A named file that cannot be read is reported as an input-unreadable
    /// finding and the rest is still analyzed.
    #[command(after_help = ANALYZE_HELP)]
    Analyze(AnalyzeArgs),
    /// Show what kmsdiag reads from slmgr output: every value, and every line it did not understand.
    #[command(after_help = SLMGR_HELP)]
    Slmgr(SlmgrArgs),
    /// List the activation events of event logs (.evtx, event XML, `evtx_dump` JSON), decoded and
    /// normalized, sorted by machine, time and record id.
    #[command(after_help = EVENTS_HELP)]
    Events(EventsArgs),
    /// The KMS host count per day, replayed from the hosts' 12290 records: distinct CMIDs in the
    /// last 30 days, capped at 50.
    #[command(after_help = HOST_COUNT_HELP)]
    HostCount(HostCountArgs),
    /// Print the query or script that exports only the activation evidence kmsdiag reads, for
    /// one place a fleet keeps it: a machine's own logs (wevtutil, PowerShell), a WEF collector,
    /// Sentinel, Splunk, Elastic, `NXLog`, the WMI licensing inventory or Configuration Manager.
    ///
    /// The query goes to standard output, how to run it and what to give kmsdiag to standard
    /// error. Without --from, lists the places.
    #[command(after_help = COLLECT_HELP)]
    Collect(CollectArgs),
    /// Simulate a KMS fleet from a scenario file and write its logs (.evtx, optionally event
    /// XML, and slmgr /dlv text) with expected.json, the findings a correct analysis raises.
    ///
    /// Same scenario and seed, same bytes. See docs/synth.md for the scenario format and
    /// testdata/scenarios/ for examples.
    #[command(after_help = SYNTH_HELP)]
    Synth(SynthArgs),
    /// Work with the rule table.
    #[command(subcommand, after_help = RULES_HELP)]
    Rules(RulesCommand),
}

#[derive(Debug, Args)]
pub(crate) struct CollectArgs {
    /// The place to export from (see the list without --from).
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,
    /// How many days back to export (1-400; 35 covers the 30-day count window and a renewal).
    #[arg(long, value_name = "N", default_value_t = 35, value_parser = clap::value_parser!(u32).range(1..=400))]
    pub days: u32,
}

#[derive(Debug, Args)]
pub(crate) struct SynthArgs {
    /// The scenario file (TOML).
    #[arg(value_name = "SCENARIO")]
    pub scenario: PathBuf,
    /// The directory to write the fleet into (created if missing; files in it are replaced).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Seed of the simulation (default: the scenario's `seed`).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Multiply every client group's count by this factor (for large fleets).
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    pub scale: f64,
    /// Also write the events in these forms: xml (wevtutil-style event XML beside each .evtx);
    /// inventory (the licensing inventory as an Export-Csv fan-out writes it, inventory/*.csv).
    #[arg(long, value_enum, value_name = "FORM")]
    pub also: Vec<AlsoForm>,
    /// Events of other providers per machine per day (default: the scenario's `noise_per_day`).
    #[arg(long, value_name = "N")]
    pub noise_per_day: Option<u32>,
    /// Also write the fleet's activation events as these SIEM / shipper exports, under
    /// DIR/exports/ (comma-separated shape names, or `all`; docs/synth.md lists them).
    #[arg(long, value_name = "SHAPE", value_delimiter = ',')]
    pub export: Vec<String>,
}

/// Extra output forms of `kmsdiag synth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AlsoForm {
    Xml,
    /// The licensing inventory an `Invoke-Command … Get-CimInstance … | Export-Csv` fan-out
    /// writes (`inventory/*.csv`).
    Inventory,
}

#[derive(Debug, Args)]
pub(crate) struct EventsArgs {
    /// Files, directories or - (standard input).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format: jsonl writes one event per line (for SIEM ingestion); csv one row per event,
    /// safe to open in a spreadsheet.
    #[arg(long, value_enum, default_value_t = EventsFormat::Text)]
    pub format: EventsFormat,
    /// Include events of other providers too (decoded as raw strings only).
    #[arg(long)]
    pub all: bool,
}

/// Output formats of `kmsdiag events`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EventsFormat {
    Text,
    Json,
    Jsonl,
    Csv,
}

#[derive(Debug, Args)]
pub(crate) struct AnalyzeArgs {
    /// Files, directories or - (standard input).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format: text (terminal, ticket), json (`kmsdiag.report/1`, docs/report-schema.md),
    /// jsonl (one finding per line, for SIEM ingestion), csv (one row per finding and machine,
    /// spreadsheet-safe), md (Markdown for a ticket), html (one self-contained page). Default:
    /// the `-o` file's extension (.html, .json, .jsonl, .csv, .md, .txt), else text.
    #[arg(long, value_enum)]
    pub format: Option<ReportFormatArg>,
    /// Write the report to FILE instead of standard output. The file is replaced atomically: an
    /// interrupted run leaves the previous report in place.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Show times in this zone: utc (default), local, an offset (+02:00) or a zone name
    /// (Europe/Berlin). JSON and JSONL fields stay in UTC; their explanations follow --tz.
    #[arg(long, value_name = "ZONE", default_value = "utc", value_parser = Zone::parse, allow_hyphen_values = true)]
    pub tz: Zone,
    /// Text: only the summary table (machines and their verdicts).
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Text and Markdown: also list every activation attempt of every machine.
    #[arg(short, long)]
    pub verbose: bool,
    /// The time to judge by; default: the newest trusted time in the input, else now.
    ///
    /// A time is 2026-03-31, 2026-03-31T12:00, 2026-03-31T12:00:00 (optionally with fractional
    /// seconds), a space instead of the T, then Z, UTC or an offset (+02:00, -0500), which is
    /// converted to UTC; without one the time is UTC. Every time kmsdiag prints is accepted.
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
    /// Exit with status 1 when a finding has at least this severity.
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Warn when an activation or grace period ends within this many days.
    #[arg(long, value_name = "DAYS", default_value_t = 30, value_parser = clap::value_parser!(u16).range(0..=3650))]
    pub expiry_window: u16,
    /// Only analyze events at or after this time (a time as for --now; UTC unless it says Z or an
    /// offset).
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only analyze events at or before this time (a time as for --now).
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Report only this machine (repeatable); every input still takes part in the correlation.
    #[arg(long = "machine", value_name = "NAME")]
    pub machines: Vec<String>,
    /// Name the machine of an input that names none (repeatable): an export named after its log
    /// with no folder to name it (`--machine-name Application.csv=PC01`). FILE is the path as
    /// given, or its end (`PC01/Application.csv`).
    #[arg(long = "machine-name", value_name = "FILE=NAME", value_parser = file_and_name)]
    pub machine_names: Vec<(String, String)>,
    /// Show only machines with this verdict (repeatable, or a comma list: failing,warning), and
    /// the findings about them. The summary at the top still counts every machine and says a
    /// filter is on; the exit status still follows every finding.
    #[arg(long, value_enum, value_name = "VERDICT", value_delimiter = ',')]
    pub only: Vec<OnlyArg>,
    /// Show only findings at least this severe. The summary still counts everything.
    #[arg(long, value_enum, value_name = "SEVERITY")]
    pub min_severity: Option<MinSeverity>,
    /// Reading threads (default: the number of CPUs): files are read at once, a large .evtx in
    /// 2 MiB ranges. The report is the same for any value.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    pub threads: Option<u16>,
}

#[derive(Debug, Args)]
pub(crate) struct HostCountArgs {
    /// Files, directories or - (standard input): the hosts' Key Management Service logs (and
    /// anything else; only 12290 records count).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CountFormat::Text)]
    pub format: CountFormat,
    /// The last day of the timeline (default: the newest event). Any time kmsdiag prints:
    /// 2026-03-31, 2026-03-31T12:00:00Z, 2026-03-31 14:00+02:00 (converted to UTC), …
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// Output formats of `kmsdiag host-count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CountFormat {
    Text,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct SlmgrArgs {
    /// Files or - (standard input).
    #[arg(value_name = "FILE", required = true)]
    pub paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

/// A verdict `analyze --only` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnlyArg {
    Failing,
    Warning,
    Unknown,
    Ok,
}

/// The least severe finding `analyze --min-severity` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum MinSeverity {
    Info,
    Warning,
    Error,
}

/// The least severe finding that makes `analyze` exit with status 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum FailOn {
    Error,
    Warning,
    Info,
    Never,
}

#[derive(Debug, Args)]
pub(crate) struct LookupArgs {
    /// Codes to explain.
    #[arg(
        value_name = "CODE",
        required_unless_present_any = ["search", "list", "flags"],
        allow_negative_numbers = true
    )]
    pub codes: Vec<String>,
    /// Find codes whose symbol, message, meaning, causes or next steps contain all these words
    /// (ranked: hits in the symbol, message or meaning first).
    #[arg(long, value_name = "WORDS", num_args = 1.., conflicts_with_all = ["codes", "list", "flags"])]
    pub search: Option<Vec<String>>,
    /// List every code in the table.
    #[arg(long, conflicts_with_all = ["codes", "flags"])]
    pub list: bool,
    /// Only codes of this category (with --list or --search), e.g. kms-count, dns, genuine.
    #[arg(long, value_name = "CATEGORY")]
    pub category: Option<String>,
    /// Decode the status flags of events 12288/12289 (e.g. 0x04000008).
    #[arg(long, value_name = "VALUE", conflicts_with_all = ["codes"])]
    pub flags: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub(crate) enum RulesCommand {
    /// Check rule files and report every problem (file, line, entry, field, why).
    ///
    /// Without DIR the built-in rules are checked. Exit 0 when there are no problems, 2 otherwise.
    #[command(after_help = RULES_HELP)]
    Lint {
        /// A directory of rule files to check instead of the built-in ones.
        dir: Option<PathBuf>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Run every finding's samples (findings.toml `[[finding.sample]]`) through the real
    /// analysis and check each raises its finding.
    ///
    /// Tests the built-in rules, extended by `--rules DIR`. Exit 0 when every sample raises its
    /// finding, 1 when one does not.
    #[command(after_help = RULES_HELP)]
    Test {
        /// Only the samples of this finding id.
        #[arg(long, value_name = "ID")]
        finding: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

/// `--color`, as clap reads it: the words of [`ColorChoice`], which knows no clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorArg {
    /// Colour when writing to a terminal and `NO_COLOR` is not set.
    Auto,
    Always,
    Never,
}

impl From<ColorArg> for ColorChoice {
    fn from(c: ColorArg) -> ColorChoice {
        match c {
            ColorArg::Auto => ColorChoice::Auto,
            ColorArg::Always => ColorChoice::Always,
            ColorArg::Never => ColorChoice::Never,
        }
    }
}

/// `analyze --format`, as clap reads it: the words of [`ReportFormat`], which knows no clap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormatArg {
    Text,
    Json,
    Jsonl,
    Csv,
    Md,
    Html,
}

impl From<ReportFormatArg> for ReportFormat {
    fn from(f: ReportFormatArg) -> ReportFormat {
        match f {
            ReportFormatArg::Text => ReportFormat::Text,
            ReportFormatArg::Json => ReportFormat::Json,
            ReportFormatArg::Jsonl => ReportFormat::Jsonl,
            ReportFormatArg::Csv => ReportFormat::Csv,
            ReportFormatArg::Md => ReportFormat::Md,
            ReportFormatArg::Html => ReportFormat::Html,
        }
    }
}

/// Output formats of the lookup and rules commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_report_format_has_its_word() {
        let read: Vec<ReportFormat> = ReportFormatArg::value_variants()
            .iter()
            .map(|&f| f.into())
            .collect();
        assert_eq!(read, ReportFormat::ALL);
        assert_eq!(ColorChoice::from(ColorArg::Auto), ColorChoice::default());
    }
}

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

/// `FILE=NAME` of `--machine-name`.
fn file_and_name(s: &str) -> Result<(String, String), String> {
    match s.rsplit_once('=') {
        Some((file, name)) if !file.trim().is_empty() && !name.trim().is_empty() => {
            Ok((file.trim().to_owned(), name.trim().to_owned()))
        }
        _ => Err(format!(
            "`{s}` is not FILE=NAME (for example Application.csv=PC01)"
        )),
    }
}
