//! Checks of `collect.toml`: each source has an id of its own, words for where to run it and what
//! kmsdiag reads from it, a template that uses only the placeholders kmsdiag fills, and sources.

use std::collections::BTreeSet;

use super::{FileCtx, check_sources};
use crate::rules::RuleSet;
use crate::rules::collect::{CollectSource, unknown_placeholders};

/// Checks the file; the sound entries go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["source"]);
    let mut seen = BTreeSet::new();
    for (i, line, src) in ctx.entries::<CollectSource>(table, "source") {
        let label = format!("source[{i}] {}", src.id);
        let before = ctx.problems.len();
        let id_ok = !src.id.is_empty()
            && src
                .id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !id_ok || !seen.insert(src.id.clone()) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                "a source needs an id of its own, in lower case (like splunk)".to_owned(),
            );
        }
        for (field, value) in [
            ("title", &src.title),
            ("run_on", &src.run_on),
            ("reads", &src.reads),
            ("template", &src.template),
        ] {
            if value.trim().is_empty() {
                ctx.error(
                    line,
                    Some(&label),
                    Some(field),
                    format!("`{field}` is empty"),
                );
            }
        }
        for name in unknown_placeholders(&src.template) {
            ctx.error(
                line,
                Some(&label),
                Some("template"),
                format!("`{{{{{name}` is not a placeholder kmsdiag fills"),
            );
        }
        check_sources(ctx, line, &label, &src.sources);
        if ctx.problems.len() == before {
            set.collect.push(src);
        }
    }
}
