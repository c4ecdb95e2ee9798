//! The `.evtx` pre-filter's old path. The pre-filter now lives in [`super::evtx`] (`template.rs`,
//! `values.rs`, `record.rs`, `chunk.rs`, `file.rs`); these re-exports keep the code that still
//! names `events::evtx_fast` compiling, and go once nothing does.

pub use super::evtx::file::{read, read_chunks};
pub use super::evtx::{
    ChunkRead, Damage, Part, Positioned, Select, Tally, chunk_count, chunk_offset, header,
};
