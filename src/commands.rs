//! Subcommand handlers: each takes its parsed arguments, calls the library, and writes the
//! answer through a renderer. They return the exit status; they never exit themselves.

use std::io::{self, Write};

use crate::ExitStatus;
use crate::cli::{Format, LookupArgs, RulesCommand};
use crate::hresult;
use crate::lookup::{self, Answer, LookupError};
use crate::report::{self, Style};
use crate::rules::{self, Category, Level, Rules, RulesError};

/// Loads the rule table, reporting every problem when it cannot.
pub fn load_rules(dir: Option<&std::path::Path>) -> Result<Rules, ExitStatus> {
    match Rules::load(dir) {
        Ok(r) => Ok(r),
        Err(RulesError::Invalid { problems }) => {
            for p in problems.iter().filter(|p| p.level == Level::Error) {
                report::diagnostic_raw(&p.to_string());
            }
            report::diagnostic(
                "error",
                "the rules cannot be loaded; fix the problems above (`kmsdiag rules lint DIR` lists them)",
            );
            Err(ExitStatus::Error)
        }
        Err(e) => {
            report::diagnostic("error", &e.to_string());
            Err(ExitStatus::Error)
        }
    }
}

/// `kmsdiag lookup`.
pub fn lookup(
    args: &LookupArgs,
    rules: &Rules,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    let category = match args.category.as_deref().map(|c| (c, Category::parse(c))) {
        Some((c, None)) => {
            let all: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
            report::diagnostic(
                "error",
                &format!("`{c}` is not a category; use one of {}", all.join(", ")),
            );
            return Ok(ExitStatus::Error);
        }
        Some((_, Some(c))) => Some(c),
        None => None,
    };
    if let Some(value) = &args.flags {
        return match lookup::decode_flags(rules, value) {
            Ok(f) => {
                match args.format {
                    Format::Text => report::lookup::write_flags(out, style, &f)?,
                    Format::Json => {
                        report::lookup::write_json(out, std::slice::from_ref(&f), false)?;
                    }
                }
                Ok(if f.unknown_bits.is_empty() {
                    ExitStatus::Ok
                } else {
                    ExitStatus::Findings
                })
            }
            Err(e) => {
                report::diagnostic(
                    "error",
                    &e.to_string().replace("an error code", "a flags value"),
                );
                Ok(ExitStatus::Error)
            }
        };
    }
    if args.list || args.search.is_some() {
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
        return Ok(ExitStatus::Ok);
    }
    let mut answers: Vec<Answer> = Vec::new();
    let mut status = ExitStatus::Ok;
    for input in &args.codes {
        if hresult::is_label_word(input) {
            continue;
        }
        match lookup::resolve(rules, input) {
            Ok(a) => {
                if !a.known {
                    status = status.max(ExitStatus::Findings);
                }
                answers.push(a);
            }
            Err(e) => {
                report::diagnostic("error", &error_text(&e));
                status = ExitStatus::Error;
            }
        }
    }
    if answers.is_empty() && status == ExitStatus::Ok {
        report::diagnostic("error", "no code given: pass a code such as 0xC004F038");
        return Ok(ExitStatus::Error);
    }
    match args.format {
        Format::Text => report::lookup::write_answers(out, style, &answers)?,
        Format::Json if !answers.is_empty() => report::lookup::write_json(out, &answers, false)?,
        Format::Json => {}
    }
    Ok(status)
}

fn error_text(e: &LookupError) -> String {
    e.to_string()
}

/// `kmsdiag rules ...`.
pub fn rules_command(
    cmd: &RulesCommand,
    style: &Style,
    out: &mut dyn Write,
) -> io::Result<ExitStatus> {
    match cmd {
        RulesCommand::Lint { dir, format } => {
            let (checked, problems) = match dir {
                None => ("built-in rules".to_owned(), rules::lint_embedded()),
                Some(d) => match rules::lint_dir(d) {
                    Ok(p) => (d.display().to_string(), p),
                    Err(e) => {
                        report::diagnostic("error", &e.to_string());
                        return Ok(ExitStatus::Error);
                    }
                },
            };
            match format {
                Format::Text => report::problems::write_text(out, style, &checked, &problems)?,
                Format::Json => report::problems::write_json(out, &checked, &problems)?,
            }
            Ok(if problems.iter().any(|p| p.level == Level::Error) {
                ExitStatus::Error
            } else {
                ExitStatus::Ok
            })
        }
    }
}
