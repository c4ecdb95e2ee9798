//! The data that flows between the pipeline's stages: what the readers produce (license
//! snapshots) and what diagnosis hands the renderers (the report). Plain data, no decisions.

pub mod ids;
pub mod report;
pub mod snapshot;

pub use report::*;
