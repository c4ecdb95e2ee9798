//! The data that flows between the pipeline's stages: what the readers produce (license
//! snapshots, activation events) and what diagnosis hands the renderers (the report), with the
//! machine-name rules every stage compares names by. Plain data, no decisions.

pub mod event;
pub mod ids;
pub mod names;
pub mod report;
pub mod snapshot;

pub use report::*;
