//! kmsdiag: explains Windows volume activation (KMS, MAK, AD-based, retail/OEM) from what
//! helpdesks and KMS administrators have — result codes today; event logs and `slmgr` output as
//! the pipeline grows (inputs → normalized events → correlation → findings → renderers).
//!
//! The binary is a thin wrapper around [`run`] (in [`cli::run`]); [`ExitStatus`] is what it
//! exits with.

pub mod cli;
pub mod correlate;
pub mod diagnose;
pub mod events;
pub mod evtx_writer;
pub mod harness;
pub mod hresult;
pub mod input;
pub mod lookup;
pub mod model;
pub mod pipeline;
pub mod report;
pub mod rules;
pub mod slmgr;

pub mod synth;

pub mod zone;

pub use cli::run::run;

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
