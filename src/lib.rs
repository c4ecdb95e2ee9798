//! kmsdiag: explains Windows volume activation (KMS, MAK, AD-based, retail/OEM) from what
//! helpdesks and KMS administrators have: result codes, event logs and `slmgr` output, read into
//! one model, correlated across a fleet, diagnosed into findings and rendered as a report.
//!
//! The modules below follow the pipeline (inputs → readers → model → correlation → diagnosis →
//! reports, the command line on top); README's "Layout" gives one line per folder. The binary is a
//! thin wrapper around [`run`]; [`ExitStatus`] is what it exits with.

// The pipeline, in order: inputs are collected and decoded by the readers into the model
// (events, snapshots), correlated, diagnosed and rendered; the command line sits on top.
mod input;
mod events;
mod slmgr;
mod ospp;
mod inventory;
mod evidence;
mod model;
mod correlate;
mod diagnose;
mod report;
mod pipeline;
mod cli;
// What every stage consults: the rule table, result codes, the display time zone.
mod rules;
mod hresult;
mod zone;
// Beside the product path: the fleet simulator (with its .evtx writer) and the fuzz entry points.
mod synth;
#[doc(hidden)]
pub mod harness;

pub use cli::ExitStatus;
pub use cli::run::run;
pub use rules::Rules;

// What integration tests, fuzz targets and benchmarks reach below the command line: not an API.
#[doc(hidden)]
pub use crate::{
    diagnose::{diagnose_snapshots, group_machines},
    events::evtx::file::read as read_evtx_chunks,
    events::evtx::{EvtxError, Select, chunk_count, read_file, read_file_selected},
    events::{Keep, RawEvent, with_select},
    model::ids::event::CORRELATED,
    model::vocab::NowSource,
    model::{AttemptSummary, Cause, FilterNote, Report, SCHEMA, Triage},
    pipeline::{Options, analyze_input},
    report::{Filter, ReportFormat, View, render},
    rules::events::Catalogue,
    slmgr::{SlmgrReader, parse_bytes},
    synth::evtx_writer::{EvtxWriter, FileState, Record},
};
