//! `kmsdiag slmgr`: reads slmgr output from files or stdin and shows every value read and every
//! line not understood, through [`report::snapshot`]. A file that cannot be read or parsed is an
//! error; the others are still shown.

use std::io::{self, Write};

use super::error;
use crate::cli::ExitStatus;
use crate::cli::{Format, SlmgrArgs};
use crate::input;
use crate::report::{self, Style};
use crate::rules::Rules;
use crate::slmgr::SlmgrReader;

/// `kmsdiag slmgr`.
pub(crate) fn run(
    args: &SlmgrArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let mut snapshots = Vec::new();
    let mut status = ExitStatus::Ok;
    let reader = SlmgrReader::new(rules);
    for mut f in input::collect(&args.paths) {
        f.load();
        let parsed = f
            .bytes
            .map_err(|e| format!("{}: {e}", f.path))
            .and_then(|b| {
                // Binary content goes to no text reader.
                if input::encoding::looks_binary(&b) {
                    return Err(format!("{}: binary content, not slmgr output", f.path));
                }
                reader.parse(&f.path, &b).map_err(|e| e.to_string())
            });
        match parsed {
            Ok(s) => snapshots.extend(s),
            Err(e) => status = error(&e),
        }
    }
    match args.format {
        Format::Text => report::snapshot::write_text(out, style, &snapshots)?,
        Format::Json => report::snapshot::write_json(out, &snapshots)?,
    }
    Ok(status)
}
