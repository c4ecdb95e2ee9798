//! Checks of `events.toml`: providers named once with their sources, each event's id, name,
//! typed payload fields and message templates, and the logs' names with their sources.

use std::collections::{BTreeMap, BTreeSet};

use super::{FileCtx, check_sources, is_kebab_id};
use crate::rules::RuleSet;
use crate::rules::events::{
    EventDef, EventViewerLanguage, FieldType, LogDef, ProviderDef, parse_template,
};

/// Checks the providers and events; the sound ones go into `set`.
pub(in crate::rules) fn check(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["provider", "event", "eventviewer", "log"]);
    for (i, line, l) in ctx.entries::<LogDef>(table, "log") {
        let label = format!("log[{i}] {}", l.name);
        let before = ctx.problems.len();
        if l.name.trim().is_empty() || l.names.iter().any(|n| n.trim().is_empty()) {
            ctx.error(
                line,
                Some(&label),
                Some("name"),
                "a log name is not empty".to_owned(),
            );
        }
        check_sources(ctx, line, &label, &l.sources);
        if ctx.problems.len() == before {
            set.logs.push(l);
        }
    }
    let mut names = BTreeSet::new();
    for (i, line, p) in ctx.entries::<ProviderDef>(table, "provider") {
        let label = format!("provider[{i}] {}", p.name);
        let before = ctx.problems.len();
        if !names.insert(p.name.to_ascii_lowercase()) {
            ctx.error(
                line,
                Some(&label),
                Some("name"),
                "duplicate provider".to_owned(),
            );
        }
        check_sources(ctx, line, &label, &p.sources);
        if ctx.problems.len() == before {
            set.providers.push(p);
        }
    }
    let mut ids = BTreeMap::new();
    for (i, line, e) in ctx.entries::<EventDef>(table, "event") {
        let label = format!("event[{i}] {}", e.id);
        let before = ctx.problems.len();
        if let Some(first) = ids.insert(e.id, i) {
            ctx.error(
                line,
                Some(&label),
                Some("id"),
                format!("duplicate event id: event[{first}] already defines it"),
            );
        }
        if !is_kebab_id(&e.name) {
            let l = ctx.field_line(line, "name");
            ctx.error(
                l,
                Some(&label),
                Some("name"),
                "an event name is lower-case words joined by `-`".to_owned(),
            );
        }
        let mut seen = BTreeSet::new();
        for f in &e.fields {
            match f.split_once(':') {
                Some((name, ty)) if !name.is_empty() && FieldType::parse(ty).is_some() => {
                    if !seen.insert(name) {
                        let l = ctx.field_line(line, "fields");
                        ctx.error(
                            l,
                            Some(&label),
                            Some("fields"),
                            format!("field `{name}` appears twice"),
                        );
                    }
                }
                _ => {
                    let l = ctx.field_line(line, "fields");
                    ctx.error(l, Some(&label), Some("fields"), format!("`{f}` is not name:type (types: code, flags, int, bool, time, guid, hostport, text)"));
                }
            }
        }
        for m in &e.messages {
            if parse_template(m).is_none() {
                let l = ctx.field_line(line, "messages");
                ctx.error(
                    l,
                    Some(&label),
                    Some("messages"),
                    format!("`{m}` has a malformed placeholder (use %1, %2, … and %n)"),
                );
            }
        }
        check_sources(ctx, line, &label, &e.sources);
        if ctx.problems.len() == before {
            set.events.push(e);
        }
    }
    check_eventviewer(ctx, table, set);
}

/// The `[[eventviewer]]` header labels: a language named once, sources, the two headers a copied
/// block is recognised by (log name, event id), and labels without their colon.
fn check_eventviewer(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    let mut languages = BTreeSet::new();
    for (i, line, l) in ctx.entries::<EventViewerLanguage>(table, "eventviewer") {
        let label = format!("eventviewer[{i}] {}", l.language);
        let before = ctx.problems.len();
        if l.language.trim().is_empty() || !languages.insert(l.language.clone()) {
            ctx.error(
                line,
                Some(&label),
                Some("language"),
                "a language needs an id of its own (like de or zh-CN)".to_owned(),
            );
        }
        if l.log_name.is_empty() || l.event_id.is_empty() {
            ctx.error(
                line,
                Some(&label),
                None,
                "`log_name` and `event_id` are needed: a copied event is recognised by them"
                    .to_owned(),
            );
        }
        let all = [
            &l.log_name,
            &l.source,
            &l.date,
            &l.event_id,
            &l.task_category,
            &l.level,
            &l.keywords,
            &l.user,
            &l.computer,
            &l.description,
            &l.event_xml,
        ];
        for name in all.into_iter().flatten() {
            if name.trim().is_empty() || name.trim_end().ends_with([':', '\u{FF1A}']) {
                ctx.error(
                    line,
                    Some(&label),
                    None,
                    format!("label `{name}` must be the text before the colon"),
                );
            }
        }
        check_sources(ctx, line, &label, &l.sources);
        if ctx.problems.len() == before {
            set.eventviewer.push(l);
        }
    }
}
