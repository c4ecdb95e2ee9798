//! Checks of `fields.toml`: each export shape named once, with its sources, an event id or an
//! Event XML field to find its records by, and aliases that are keys (letters or digits in them).

use std::collections::BTreeSet;

use super::{FileCtx, check_sources, check_text_fields, is_kebab_id};
use crate::rules::RuleSet;
use crate::rules::fields::{ShipperDef, Target, normalize_key};

/// Checks the shapes; the sound ones go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["shipper"]);
    let mut ids = BTreeSet::new();
    for (i, line, s) in ctx.entries::<ShipperDef>(table, "shipper") {
        let label = format!("shipper[{i}] {}", s.id);
        let before = ctx.problems.len();
        if !is_kebab_id(&s.id) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                "a shape id is lower-case words joined by `-`".to_owned(),
            );
        }
        if !ids.insert(s.id.clone()) {
            ctx.error(
                line,
                Some(&label),
                Some("id"),
                "duplicate shape id".to_owned(),
            );
        }
        check_text_fields(ctx, line, &label, &[("name", &[s.name.as_str()])]);
        if s.event_id.is_empty() && s.event_xml.is_empty() {
            ctx.error(
                line,
                Some(&label),
                Some("event_id"),
                "a shape needs an event_id or an event_xml field to find its records by".to_owned(),
            );
        }
        for target in Target::ALL {
            let field = field_name(target);
            for alias in s.aliases(target) {
                if normalize_key(alias).is_empty() {
                    let l = ctx.field_line(line, field);
                    ctx.error(
                        l,
                        Some(&label),
                        Some(field),
                        format!("`{alias}` has no letter or digit: it matches no key"),
                    );
                }
            }
        }
        check_sources(ctx, line, &label, &s.sources);
        if ctx.problems.len() == before {
            set.shippers.push(s);
        }
    }
}

/// The TOML field that holds a target's aliases.
fn field_name(target: Target) -> &'static str {
    match target {
        Target::EventXml => "event_xml",
        Target::EventId => "event_id",
        Target::Qualifiers => "qualifiers",
        Target::Provider => "provider",
        Target::Channel => "channel",
        Target::Machine => "machine",
        Target::Time => "time",
        Target::RecordId => "record_id",
        Target::Data => "data",
        Target::Message => "message",
    }
}
