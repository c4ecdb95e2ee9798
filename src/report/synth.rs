//! Rendering what `kmsdiag synth` wrote: one line with the machines, records, files and bytes and
//! the directory they went to. It knows the writer's tally, not the simulation.

use std::io::{self, Write};
use std::path::Path;

use super::sanitize;
use crate::synth::Written;

/// Writes the one-line summary of a generated fleet of `machines` machines.
pub(crate) fn write_summary(
    out: &mut dyn Write,
    machines: usize,
    written: &Written,
    dir: &Path,
) -> io::Result<()> {
    writeln!(
        out,
        "wrote {machines} machine(s), {} record(s), {} file(s), {} bytes to {}",
        written.records,
        written.files.len(),
        written.bytes,
        sanitize(&dir.display().to_string(), true)
    )
}
