//! Integration tests: the real `kmsdiag` binary, run as a user would.

// This whole crate is test code: failing loudly on unexpected output is the point.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::many_single_char_names,
    clippy::case_sensitive_file_extension_comparisons,
    clippy::print_stderr
)]

mod bombs;
mod bundles;
mod cli;
mod collect;
mod damaged_logs;
mod decoration;
mod events;
mod evtx_writer;
mod fleet_inventory;
mod fleet_join;
mod fleets;
mod fuzz_regressions;
mod hostile;
mod identity;
mod inventory;
mod localized;
mod lookup;
mod ospp;
mod output_safety;
mod outside_kinds;
mod pastes;
mod prefilter;
mod prose;
mod regression;
mod repeated_chunks;
mod reports;
mod robustness;
mod rules;
mod shifted_logs;
mod siem;
mod siem_parity;
mod slmgr;
mod special_outputs;
mod synth;
mod times;
mod triage;
mod util;
