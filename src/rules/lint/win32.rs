//! Checks of `win32.toml`: error numbers in range and once each, with a name, a message and
//! sources.

use std::collections::BTreeMap;

use super::{FileCtx, check_sources, check_text_fields};
use crate::rules::{RuleSet, Win32Entry};

/// Checks the errors; the sound ones go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["error"]);
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<Win32Entry>(table, "error") {
        let label = format!("error[{i}] {}", entry.number);
        let before = ctx.problems.len();
        if entry.number == 0 || entry.number > 0xFFFF {
            let l = ctx.field_line(line, "number");
            ctx.error(
                l,
                Some(&label),
                Some("number"),
                "a Win32 error number is 1..65535".to_owned(),
            );
        }
        if let Some(first) = seen.insert(entry.number, i) {
            ctx.error(
                line,
                Some(&label),
                Some("number"),
                format!(
                    "duplicate number: error[{first}] already defines {}",
                    entry.number
                ),
            );
        }
        check_text_fields(
            ctx,
            line,
            &label,
            &[
                ("name", &[entry.name.as_str()]),
                ("message", &[entry.message.as_str()]),
            ],
        );
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.win32.push(entry);
        }
    }
}
