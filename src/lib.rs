//! kmsdiag: explains Windows volume activation (KMS, MAK, AD-based, retail/OEM) from what
//! helpdesks and KMS administrators have — result codes today; event logs and `slmgr` output as
//! the pipeline grows (inputs → normalized events → correlation → findings → renderers).
//!
//! The binary is a thin wrapper around [`run`] (in [`cli::run`]); [`ExitStatus`] is what it
//! exits with.

// The pipeline, in order: inputs are collected and decoded by the readers into the model
// (events, snapshots), correlated, diagnosed and rendered; the command line sits on top.
mod cli;
mod correlate;
mod diagnose;
mod events;
mod input;
mod model;
mod pipeline;
mod report;
mod slmgr;
// What every stage consults: the rule table, result codes, the display time zone.
mod codes;
mod rules;
mod zone;
// Beside the product path: the fleet simulator (with its .evtx writer) and the fuzz entry points.
#[doc(hidden)]
pub mod harness;
mod synth;

pub use cli::run::run;
pub use rules::Rules;

// What integration tests, fuzz targets and benchmarks reach below the command line: not an API.
#[doc(hidden)]
pub use crate::{
    diagnose::{diagnose_snapshots, group_machines},
    events::evtx::file::read as read_evtx_chunks,
    events::evtx::{Select, chunk_count, read_file, read_file_selected},
    events::{Keep, RawEvent, with_select},
    model::ids::event::CORRELATED,
    model::vocab::NowSource,
    model::{AttemptSummary, Report, SCHEMA},
    pipeline::{Options, analyze_input},
    report::{ReportFormat, View, render},
    rules::events::Catalogue,
    slmgr::{SlmgrReader, parse_bytes},
    synth::evtx_writer::{EvtxWriter, FileState, Record},
};

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
