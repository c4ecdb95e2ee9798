//! `kmsdiag collect`'s output: the list of places kmsdiag has an export for, and one export query
//! with the notes on how to run it. The query is written as it is (it is kmsdiag's own text from
//! `rules/collect.toml`, for a shell or a search bar); the notes go to standard error so the query
//! can be redirected into a file and run.

use std::io::{self, Write};

use super::Style;
use crate::rules::collect::CollectSource;

/// The places, one line each: id and title.
pub(crate) fn write_list(
    w: &mut dyn Write,
    style: &Style,
    sources: &[CollectSource],
) -> io::Result<()> {
    writeln!(
        w,
        "{}",
        style.heading("Places kmsdiag has an export query for")
    )?;
    let width = sources.iter().map(|s| s.id.len()).max().unwrap_or(0);
    for s in sources {
        writeln!(w, "  {:<width$}  {}", style.bold(&s.id), s.title)?;
    }
    writeln!(w)?;
    writeln!(
        w,
        "Print one with: kmsdiag collect --from <place> [--days N]"
    )
}

/// The query on `w`, its notes on `notes`.
pub(crate) fn write_query(
    w: &mut dyn Write,
    notes: &mut dyn Write,
    source: &CollectSource,
    query: &str,
    days: u32,
) -> io::Result<()> {
    writeln!(notes, "# {} (the last {days} days)", source.title)?;
    writeln!(notes, "# Run on: {}", source.run_on)?;
    writeln!(notes, "# kmsdiag reads: {}", source.reads)?;
    writeln!(
        notes,
        "# Then: kmsdiag analyze <the output files or their folder>"
    )?;
    w.write_all(query.as_bytes())?;
    if !query.ends_with('\n') {
        writeln!(w)?;
    }
    Ok(())
}
