//! Checks of `findings.toml`: finding ids (kebab-case, once each), their texts and next steps,
//! and the samples `kmsdiag rules test` runs.

use std::collections::BTreeMap;

use super::{FileCtx, Level, check_text_fields, is_kebab_id};
use crate::rules::{FindingRule, RuleSet};

/// Checks the findings; the sound ones go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["finding"]);
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<FindingRule>(table, "finding") {
        let label = format!("finding[{i}] {}", entry.id);
        let before = ctx.problems.len();
        if !is_kebab_id(&entry.id) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                "a finding id is lower-case words joined by `-` (like kms-unreachable)".to_owned(),
            );
        }
        if let Some(first) = seen.insert(entry.id.clone(), i) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                format!("duplicate finding id: finding[{first}] already defines it"),
            );
        }
        let steps: Vec<&str> = entry.next_steps.iter().map(String::as_str).collect();
        check_text_fields(
            ctx,
            line,
            &label,
            &[
                ("title", &[entry.title.as_str()]),
                ("explanation", &[entry.explanation.as_str()]),
                ("next_steps", &steps),
            ],
        );
        if entry.next_steps.is_empty() {
            let l = ctx.field_line(line, "next_steps");
            ctx.error(
                l,
                Some(&label),
                Some("next_steps"),
                "a finding needs next steps".to_owned(),
            );
        }
        if entry.samples.is_empty() {
            ctx.push(
                Level::Warning,
                line,
                Some(&label),
                Some("sample"),
                "no [[finding.sample]]: `kmsdiag rules test` cannot check this finding".to_owned(),
            );
        }
        for (k, sample) in entry.samples.iter().enumerate() {
            if sample.input.trim().is_empty() || sample.name.trim().is_empty() {
                ctx.error(
                    line,
                    Some(&label),
                    Some("sample"),
                    format!("sample[{k}] needs a name and an input"),
                );
            }
        }
        if ctx
            .problems
            .iter()
            .skip(before)
            .all(|p| p.level != Level::Error)
        {
            set.findings.push(entry);
        }
    }
}
