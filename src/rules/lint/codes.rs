//! Checks of `codes.toml`: each code written canonically and defined once, its symbols, the
//! finding it raises (one `findings.toml` defines), and a severity, causes and related events
//! that agree with the code.

use std::collections::{BTreeSet, HashMap};

use super::{FileCtx, canonical_code, check_sources, check_text_fields};
use crate::hresult::Hresult;
use crate::rules::{CodeEntry, RuleSet, Severity};

/// Checks the codes against the finding ids that may be raised; the sound ones go into `set`.
pub(in crate::rules) fn check(
    ctx: &mut FileCtx<'_>,
    table: &toml::Table,
    set: &mut RuleSet,
    known_findings: &BTreeSet<String>,
) {
    ctx.unknown_keys(table, &["code"]);
    if !table.contains_key("code") {
        ctx.error(None, None, Some("code"), "no [[code]] entries".to_owned());
    }
    let mut seen: HashMap<Hresult, (usize, Option<usize>)> = HashMap::new();
    let mut symbols: HashMap<String, String> = HashMap::new();
    for (i, line, entry) in ctx.entries::<CodeEntry>(table, "code") {
        let label = format!("code[{i}] {}", entry.code);
        let Some(value) = code_value(ctx, line, &label, &entry.code) else {
            continue;
        };
        // Every check runs (`&=` does not stop at the first), so each reports its problem.
        let mut ok = first_of(ctx, &mut seen, (i, line), &label, value);
        ok &= symbols_valid(ctx, &mut symbols, line, &label, &entry, value);
        ok &= explained(ctx, line, &label, &entry);
        ok &= finding_known(ctx, line, &label, &entry, known_findings);
        ok &= consistent(ctx, line, &label, &entry, value);
        ok &= texts_valid(ctx, line, &label, &entry);
        if ok {
            set.codes.push((value, entry));
        }
    }
}

/// The code's value, when it is written as `0x` and 8 upper-case hex digits.
fn code_value(
    ctx: &mut FileCtx<'_>,
    line: Option<usize>,
    label: &str,
    code: &str,
) -> Option<Hresult> {
    let value = canonical_code(code);
    if value.is_none() {
        let l = ctx.field_line(line, "code");
        let hint = crate::hresult::read_number(code)
            .ok()
            .flatten()
            .map(|r| format!(" (write it as {})", r.value))
            .unwrap_or_default();
        ctx.error(
            l,
            Some(label),
            Some("code"),
            format!("malformed code `{code}`: expected 0x and 8 upper-case hex digits{hint}"),
        );
    }
    value
}

/// Whether this is the first entry for `value` (remembered with its index and line if so).
fn first_of(
    ctx: &mut FileCtx<'_>,
    seen: &mut HashMap<Hresult, (usize, Option<usize>)>,
    (i, line): (usize, Option<usize>),
    label: &str,
    value: Hresult,
) -> bool {
    if let Some((first, first_line)) = seen.get(&value) {
        let at = first_line
            .map(|l| format!(" at line {l}"))
            .unwrap_or_default();
        ctx.error(
            ctx.field_line(line, "code"),
            Some(label),
            Some("code"),
            format!("duplicate code: code[{first}]{at} already defines {value}"),
        );
        return false;
    }
    seen.insert(value, (i, line));
    true
}

/// Whether the symbol and aliases are symbols, each used by one code only (`symbols` maps the
/// ones seen so far to their code).
fn symbols_valid(
    ctx: &mut FileCtx<'_>,
    symbols: &mut HashMap<String, String>,
    line: Option<usize>,
    label: &str,
    entry: &CodeEntry,
    value: Hresult,
) -> bool {
    let mut ok = true;
    for name in entry.symbol.iter().chain(entry.aliases.iter()) {
        let valid = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
            && name
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        let problem = if !valid {
            format!("`{name}` is not a symbol (upper-case letters, digits and _)")
        } else if let Some(other) = symbols.get(name) {
            format!("symbol `{name}` is already used by {other}")
        } else {
            symbols.insert(name.clone(), value.to_string());
            continue;
        };
        let l = ctx.field_line(line, "symbol");
        ctx.error(l, Some(label), Some("symbol"), problem);
        ok = false;
    }
    ok
}

/// Whether the entry says what the code means: the text Windows prints, or an explanation.
fn explained(ctx: &mut FileCtx<'_>, line: Option<usize>, label: &str, entry: &CodeEntry) -> bool {
    if entry.message.is_none() && entry.meaning.is_none() {
        ctx.error(line, Some(label), Some("message"), "missing message: give the text Windows prints, or, when it is not known, explain the code in `meaning`".to_owned());
        return false;
    }
    true
}

/// Whether the finding the code raises, if any, is one a findings file defines, raised by a code
/// that is not merely informational.
fn finding_known(
    ctx: &mut FileCtx<'_>,
    line: Option<usize>,
    label: &str,
    entry: &CodeEntry,
    known_findings: &BTreeSet<String>,
) -> bool {
    match (&entry.finding, entry.severity) {
        (Some(f), _) if !known_findings.contains(f) => {
            let l = ctx.field_line(line, "finding");
            ctx.error(
                l,
                Some(label),
                Some("finding"),
                format!(
                    "unknown finding id `{f}` (known: {})",
                    known_findings
                        .iter()
                        .map(String::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            );
            false
        }
        (Some(_), Severity::Informational) => {
            let l = ctx.field_line(line, "finding");
            ctx.error(
                l,
                Some(label),
                Some("finding"),
                "an informational code must not raise a finding".to_owned(),
            );
            false
        }
        _ => true,
    }
}

/// Whether the entry agrees with its code and itself: an error has the failure bit set, causes
/// come with next steps, related events are event ids.
fn consistent(
    ctx: &mut FileCtx<'_>,
    line: Option<usize>,
    label: &str,
    entry: &CodeEntry,
    value: Hresult,
) -> bool {
    let mut ok = true;
    if entry.severity == Severity::Error && !value.is_failure() {
        let l = ctx.field_line(line, "severity");
        ctx.error(l, Some(label), Some("severity"), format!("{value} has its failure bit clear (a success or informational code), so it cannot be an error"));
        ok = false;
    }
    if !entry.causes.is_empty() && entry.next_steps.is_empty() {
        let l = ctx.field_line(line, "next_steps");
        ctx.error(
            l,
            Some(label),
            Some("next_steps"),
            "an entry that lists causes needs next steps".to_owned(),
        );
        ok = false;
    }
    for ev in &entry.related_events {
        if *ev == 0 || *ev > 65535 {
            let l = ctx.field_line(line, "related_events");
            ctx.error(
                l,
                Some(label),
                Some("related_events"),
                format!("{ev} is not an event id (1..65535)"),
            );
            ok = false;
        }
    }
    ok
}

/// Whether the entry's texts are filled and plain, and it names its sources.
fn texts_valid(ctx: &mut FileCtx<'_>, line: Option<usize>, label: &str, entry: &CodeEntry) -> bool {
    let single: Vec<&str> = [&entry.message, &entry.meaning, &entry.notes]
        .iter()
        .filter_map(|o| o.as_deref())
        .collect();
    let causes: Vec<&str> = entry.causes.iter().map(String::as_str).collect();
    let steps: Vec<&str> = entry.next_steps.iter().map(String::as_str).collect();
    let sources: Vec<&str> = entry.sources.iter().map(String::as_str).collect();
    let before = ctx.problems.len();
    check_text_fields(
        ctx,
        line,
        label,
        &[
            ("message", &single),
            ("causes", &causes),
            ("next_steps", &steps),
            ("sources", &sources),
        ],
    );
    check_sources(ctx, line, label, &entry.sources);
    ctx.problems.len() == before
}
