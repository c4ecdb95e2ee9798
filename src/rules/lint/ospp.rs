//! Checks of `ospp.toml`: its languages (an id, sources, labels without their colon, closed
//! placeholders) and its Office SKU ids (a GUID, a name and a source each).

use std::collections::BTreeSet;

use super::{FileCtx, check_language_texts, check_sources, check_text_fields};
use crate::rules::RuleSet;
use crate::rules::ospp::{OfficeId, OsppLanguage};

/// Checks the file; the sound entries go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["language", "sku"]);
    let mut seen = BTreeSet::new();
    for (i, line, lang) in ctx.entries::<OsppLanguage>(table, "language") {
        let label = format!("language[{i}] {}", lang.id);
        let before = ctx.problems.len();
        if lang.id.trim().is_empty() || !seen.insert(lang.id.clone()) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                "a language needs an id of its own (like en or zh-CN)".to_owned(),
            );
        }
        check_sources(ctx, line, &label, &lang.sources);
        let fields: Vec<&str> = lang.fields.values().flatten().map(String::as_str).collect();
        let status: Vec<&str> = lang.status.values().flatten().map(String::as_str).collect();
        let phrases: Vec<&str> = lang
            .phrases
            .values()
            .flatten()
            .map(String::as_str)
            .collect();
        let words: Vec<&str> = lang.words.values().flatten().map(String::as_str).collect();
        check_language_texts(ctx, line, &label, [&fields, &status, &phrases, &words]);
        if ctx.problems.len() == before {
            set.ospp.languages.push(lang);
        }
    }
    let skus = check_ids(ctx, table, "sku");
    set.ospp.skus.extend(skus);
}

/// The sound entries of `[[key]]`: a lower-case GUID, a name and a source each, no id twice.
fn check_ids(ctx: &mut FileCtx<'_>, table: &toml::Table, key: &str) -> Vec<OfficeId> {
    let mut out: Vec<OfficeId> = Vec::new();
    for (i, line, e) in ctx.entries::<OfficeId>(table, key) {
        let label = format!("{key}[{i}] {}", e.id);
        let before = ctx.problems.len();
        if !is_lower_guid(&e.id) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                "must be a GUID in lower case without braces".to_owned(),
            );
        }
        if out.iter().any(|o| o.id == e.id) {
            let l = ctx.field_line(line, "id");
            ctx.error(l, Some(&label), Some("id"), "listed twice".to_owned());
        }
        check_sources(ctx, line, &label, &e.sources);
        check_text_fields(ctx, line, &label, &[("name", &[e.name.as_str()])]);
        if ctx.problems.len() == before {
            out.push(e);
        }
    }
    out
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx` in lower-case hex.
fn is_lower_guid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12])
        && parts.iter().all(|p| {
            p.chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        })
}
