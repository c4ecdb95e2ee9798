//! Checks of `inventory.toml`: the conversions (required in the embedded file), classes, columns
//! and properties named once each (across columns and properties: a name is one thing), property
//! names that are identifiers, each property's value kind one its field can take, and sources.

use std::collections::BTreeMap;

use super::{FileCtx, check_sources, field_named_in};
use crate::rules::RuleSet;
use crate::rules::inventory::{ClassDef, ColumnDef, Conversions, PropertyDef};

/// Checks each part of the file; the sound entries go into `set`. A `complete` file (the
/// embedded one) must have `[conversions]`.
pub(in crate::rules) fn check(
    ctx: &mut FileCtx<'_>,
    table: &toml::Table,
    set: &mut RuleSet,
    complete: bool,
) {
    ctx.unknown_keys(table, &["conversions", "class", "column", "property"]);
    conversions(ctx, table, set, complete);
    for (i, line, entry) in ctx.entries::<ClassDef>(table, "class") {
        let label = format!("class[{i}] {}", entry.name);
        let before = ctx.problems.len();
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.inventory.classes.push(entry);
        }
    }
    // Column and property names share one namespace, compared without case.
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<ColumnDef>(table, "column") {
        let label = format!("column[{i}] {}", entry.name);
        let before = ctx.problems.len();
        name_once(ctx, line, &label, &entry.name, &mut seen);
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.inventory.columns.push(entry);
        }
    }
    for (i, line, entry) in ctx.entries::<PropertyDef>(table, "property") {
        let label = format!("property[{i}] {}", entry.name);
        let before = ctx.problems.len();
        name_once(ctx, line, &label, &entry.name, &mut seen);
        if entry.class.is_empty() {
            let l = ctx.field_line(line, "class");
            ctx.error(l, Some(&label), Some("class"), "names no class".to_owned());
        }
        if !entry.field.accepts(entry.value) {
            let l = ctx.field_line(line, "value");
            ctx.error(
                l,
                Some(&label),
                Some("value"),
                format!(
                    "field `{:?}` cannot take a `{:?}` value",
                    entry.field, entry.value
                ),
            );
        }
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.inventory.properties.push(entry);
        }
    }
}

/// A name that is an identifier (letters, digits, `_`) and not used before in the file.
fn name_once(
    ctx: &mut FileCtx<'_>,
    line: Option<usize>,
    label: &str,
    name: &str,
    seen: &mut BTreeMap<String, String>,
) {
    let ident = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !ident {
        let l = ctx.field_line(line, "name");
        ctx.error(
            l,
            Some(label),
            Some("name"),
            "a property or column name is letters, digits and `_`".to_owned(),
        );
    }
    if let Some(first) = seen.insert(name.to_ascii_lowercase(), label.to_owned()) {
        ctx.error(
            line,
            Some(label),
            Some("name"),
            format!("duplicate name: {first} already uses it"),
        );
    }
}

/// `[conversions]`: a year and sources; required in a `complete` file.
fn conversions(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet, complete: bool) {
    match table.get("conversions") {
        Some(v) => match v.clone().try_into::<Conversions>() {
            Ok(c) => {
                let line = ctx
                    .text
                    .lines()
                    .position(|l| l.trim() == "[conversions]")
                    .map(|l| l + 1);
                let before = ctx.problems.len();
                if c.not_applicable == 0 {
                    let l = ctx.field_line(line, "not_applicable");
                    ctx.error(
                        l,
                        Some("conversions"),
                        Some("not_applicable"),
                        "must be greater than 0".to_owned(),
                    );
                }
                check_sources(ctx, line, "conversions", &c.sources);
                if ctx.problems.len() == before {
                    set.inventory.conversions = Some(c);
                }
            }
            Err(e) => {
                let msg = e.message().trim().to_owned();
                let field = field_named_in(&msg);
                ctx.error(None, Some("conversions"), field.as_deref(), msg);
            }
        },
        None if complete => ctx.error(
            None,
            None,
            Some("conversions"),
            "missing [conversions] table".to_owned(),
        ),
        None => {}
    }
}
