//! The data that flows between the pipeline's stages: what the readers produce (license
//! snapshots, activation events) and what diagnosis hands the renderers (the report), with the
//! machine-name rules every stage compares names by. Plain data, no decisions.

pub(crate) mod event;
pub(crate) mod ids;
pub(crate) mod license;
pub(crate) mod names;
pub(crate) mod report;
pub(crate) mod snapshot;

pub(crate) use license::LicenseState;
pub use report::*;
