//! Subcommand handlers, one file per subcommand: each reads and checks its flags, calls the
//! library, and writes the answer through a renderer in `report`; none formats output itself.
//! They return the exit status; they never exit themselves. This file holds what several share:
//! saying an error and the default thread count (time flags are read by [`crate::cli::time`]).

pub(crate) mod analyze;
pub(crate) mod collect;
pub(crate) mod events;
pub(crate) mod host_count;
pub(crate) mod lookup;
pub(crate) mod rules;
pub(crate) mod slmgr;
pub(crate) mod synth;

use crate::cli::ExitStatus;
use crate::report;

/// Says `message` as an error on stderr; the command then exits with [`ExitStatus::Error`].
fn error(message: &str) -> ExitStatus {
    report::diagnostic("error", message);
    ExitStatus::Error
}

/// The threads to use when not told: one per CPU.
fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}
