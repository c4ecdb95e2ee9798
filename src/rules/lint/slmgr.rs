//! Checks of `slmgr.toml`: one entry per UI language, its sources, and labels and phrases that
//! read as slmgr prints them (no colon, placeholders closed).

use std::collections::BTreeMap;

use super::{FileCtx, check_language_texts, check_sources};
use crate::rules::RuleSet;
use crate::rules::slmgr::SlmgrLanguage;

/// Checks the languages; the sound ones go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["language"]);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line, lang) in ctx.entries::<SlmgrLanguage>(table, "language") {
        let label = format!("language[{i}] {}", lang.id);
        let before = ctx.problems.len();
        if lang.id.trim().is_empty() {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                "a language needs an id (like en or zh-CN)".to_owned(),
            );
        }
        if let Some(first) = seen.insert(lang.id.clone(), i) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                format!("duplicate language: language[{first}] already defines it"),
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
            set.slmgr.push(lang);
        }
    }
}
