//! The data that flows between the pipeline's stages: what the readers produce (license
//! snapshots, activation events) and what diagnosis hands the renderers (the report), with the
//! machine-name rules every stage compares names by, and the report's fixed words as enums (the
//! license state in `license`, the rest in `vocab`). Plain data, no decisions.

pub(crate) mod event;
pub(crate) mod ids;
pub(crate) mod license;
pub(crate) mod lookup;
pub(crate) mod names;
pub(crate) mod payload;
pub(crate) mod report;
pub(crate) mod snapshot;
pub(crate) mod triage;
pub(crate) mod vocab;

pub(crate) use license::LicenseState;
pub use report::*;
pub use triage::{Cause, FilterNote, Triage};
pub(crate) use vocab::{
    AttemptOutcome, Health, HostSeen, InputFormat, InputStatus, MachineRole, NameSource, NowSource,
};
