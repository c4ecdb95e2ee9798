//! Rendering rule-file problems (`kmsdiag rules lint`): one line per problem, then a summary.

use std::io::{self, Write};

use super::{Style, sanitize};
use crate::rules::{Level, Problem};

/// Writes the problems and a closing line that says what was checked.
pub(crate) fn write_text(
    w: &mut dyn Write,
    style: &Style,
    checked: &str,
    problems: &[Problem],
) -> io::Result<()> {
    for p in problems {
        let line = sanitize(&p.to_string(), true).into_owned();
        let line = match p.level {
            Level::Error => style.severity(crate::rules::Severity::Error, &line),
            Level::Warning => style.severity(crate::rules::Severity::Warning, &line),
        };
        writeln!(w, "{line}")?;
    }
    let errors = problems.iter().filter(|p| p.level == Level::Error).count();
    let warnings = problems.len() - errors;
    if errors == 0 {
        writeln!(
            w,
            "{}",
            style.bold(&format!("{checked}: no problems ({warnings} warning(s))"))
        )
    } else {
        writeln!(
            w,
            "{}",
            style.bold(&format!(
                "{checked}: {errors} problem(s), {warnings} warning(s)"
            ))
        )
    }
}

/// Writes the problems as a JSON document.
pub(crate) fn write_json(w: &mut dyn Write, checked: &str, problems: &[Problem]) -> io::Result<()> {
    let doc = serde_json::json!({
        "checked": checked,
        "errors": problems.iter().filter(|p| p.level == Level::Error).count(),
        "problems": problems,
    });
    super::json::write_pretty(w, &doc)?;
    writeln!(w)
}
