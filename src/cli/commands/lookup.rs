//! `kmsdiag lookup`: explains codes, searches or lists the code table, or decodes the status
//! flags of events 12288/12289. The answers come from [`crate::diagnose::lookup`] and are written by
//! [`report::lookup`].

use std::io::{self, Write};

use super::error;
use crate::cli::ExitStatus;
use crate::cli::{Format, LookupArgs};
use crate::diagnose::lookup;
use crate::model::lookup::Answer;
use crate::report::{self, Style};
use crate::rules::{Category, Rules};

/// `kmsdiag lookup`.
pub(crate) fn run(
    args: &LookupArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let category = match args.category.as_deref().map(|c| (c, Category::parse(c))) {
        None => None,
        Some((_, Some(category))) => Some(category),
        Some((c, None)) => {
            let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            return Ok(error(&format!(
                "`{c}` is not a category; use one of {}",
                all.join(", ")
            )));
        }
    };
    if let Some(value) = &args.flags {
        return flags(args.format, rules, value, style, out);
    }
    if args.list || args.search.is_some() {
        return listing(args, category, rules, style, out);
    }
    codes(args, rules, style, out)
}

/// `--flags VALUE`: the status flags of events 12288/12289, bit by bit.
fn flags(
    format: Format,
    rules: &Rules,
    value: &str,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let f = match lookup::decode_flags(rules, value) {
        Ok(f) => f,
        Err(e) => {
            return Ok(error(
                &e.to_string().replace("an error code", "a flags value"),
            ));
        }
    };
    match format {
        Format::Text => report::lookup::write_flags(out, style, &f)?,
        Format::Json => report::lookup::write_json(out, std::slice::from_ref(&f), false)?,
    }
    Ok(if f.unknown_bits.is_empty() {
        ExitStatus::Ok
    } else {
        ExitStatus::Findings
    })
}

/// `--list` and `--search WORDS`: the codes of the table that match.
fn listing(
    args: &LookupArgs,
    category: Option<Category>,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let query = args
        .search
        .as_ref()
        .map(|w| w.join(" "))
        .unwrap_or_default();
    let found = lookup::search(rules, &query, category);
    match args.format {
        Format::Text => report::lookup::write_listing(out, style, &found)?,
        Format::Json => report::lookup::write_json(out, &found, true)?,
    }
    if found.is_empty() {
        report::diagnostic("note", &format!("no code matches \"{query}\""));
        return Ok(ExitStatus::Findings);
    }
    Ok(ExitStatus::Ok)
}

/// Codes given on the command line, each explained.
fn codes(
    args: &LookupArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let mut answers: Vec<Answer> = Vec::new();
    let mut status = ExitStatus::Ok;
    for resolved in lookup::resolve_args(rules, &args.codes) {
        match resolved {
            Ok(a) => {
                if !a.known {
                    status = status.max(ExitStatus::Findings);
                }
                answers.push(a);
            }
            Err(e) => status = error(&e.to_string()),
        }
    }
    if answers.is_empty() && status == ExitStatus::Ok {
        return Ok(error("no code given: pass a code such as 0xC004F038"));
    }
    match args.format {
        Format::Text => report::lookup::write_answers(out, style, &answers)?,
        Format::Json if !answers.is_empty() => report::lookup::write_json(out, &answers, false)?,
        Format::Json => {}
    }
    Ok(status)
}
