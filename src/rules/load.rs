//! Loading the rule files: the ones compiled into the binary, and those of a `--rules DIR` that
//! extend them. Each file is read here, then checked by its module of `lint`, which keeps the
//! entries that are sound; a table that loads is a table that lints clean. How the two sets are
//! merged and indexed is the table's own business (`Rules`).

use std::collections::BTreeSet;
use std::path::Path;

use super::lint::{self, FileCtx, Level, Problem};
use super::{FILE_NAMES, RuleSet, RulesError};

/// The rule files compiled into the binary.
pub(crate) const EMBEDDED: &[(&str, &str)] = &[
    ("findings.toml", include_str!("../../rules/findings.toml")),
    ("codes.toml", include_str!("../../rules/codes.toml")),
    ("win32.toml", include_str!("../../rules/win32.toml")),
    ("licensing.toml", include_str!("../../rules/licensing.toml")),
    ("slmgr.toml", include_str!("../../rules/slmgr.toml")),
    ("events.toml", include_str!("../../rules/events.toml")),
    ("ospp.toml", include_str!("../../rules/ospp.toml")),
    ("inventory.toml", include_str!("../../rules/inventory.toml")),
    ("collect.toml", include_str!("../../rules/collect.toml")),
    ("fields.toml", include_str!("../../rules/fields.toml")),
];

/// Rule files are small; a huge one is a mistake, not a table.
const MAX_RULE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A `.toml` file of the rules, by its name, with what reading it gave.
#[derive(Debug)]
pub(crate) struct RuleFile {
    pub(crate) name: String,
    pub(crate) contents: Contents,
}

/// What reading a rule file gave.
#[derive(Debug)]
pub(crate) enum Contents {
    /// The text of a file kmsdiag reads.
    Text(String),
    /// A file kmsdiag reads, which could not be read.
    Unreadable(Unreadable),
    /// A `.toml` file that is none of [`FILE_NAMES`]: reported as ignored.
    NotARuleFile,
}

/// Why a rule file could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("file is {0} bytes; rule files are limited to {MAX_RULE_FILE_BYTES}")]
    TooLarge(u64),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("not UTF-8 text")]
    NotUtf8,
}

impl RuleFile {
    /// A file with its text.
    pub(crate) fn text(name: &str, text: &str) -> RuleFile {
        RuleFile {
            name: name.to_owned(),
            contents: Contents::Text(text.to_owned()),
        }
    }
}

/// The embedded rules, checked, and those of `dir` (when given), checked: both sets, or every
/// problem when any is an error.
pub(crate) fn checked_sets(dir: Option<&Path>) -> Result<(RuleSet, Option<RuleSet>), RulesError> {
    let (base, mut problems) = check_files(embedded_files(), "rules/");
    let overlay = match dir {
        Some(dir) => {
            let (set, more) = check_files(read_dir_files(dir)?, &dir_prefix(dir));
            problems.extend(more);
            Some(set)
        }
        None => None,
    };
    if problems.iter().any(|p| p.level == Level::Error) {
        return Err(RulesError::Invalid { problems });
    }
    Ok((base, overlay))
}

/// Lints the embedded rule files.
pub(crate) fn lint_embedded() -> Vec<Problem> {
    check_files(embedded_files(), "rules/").1
}

/// Lints the rule files in a directory (files it does not have are not required).
pub(crate) fn lint_dir(dir: &Path) -> Result<Vec<Problem>, RulesError> {
    let files = read_dir_files(dir)?;
    Ok(check_files(files, &dir_prefix(dir)).1)
}

/// How problems name the files of `dir`.
fn dir_prefix(dir: &Path) -> String {
    format!("{}/", dir.display())
}

fn embedded_files() -> Vec<RuleFile> {
    EMBEDDED
        .iter()
        .map(|(name, text)| RuleFile::text(name, text))
        .collect()
}

/// Reads the `.toml` files of a directory, by name. Those that are not rule files are returned
/// without being read, so the linter can say they are ignored.
fn read_dir_files(dir: &Path) -> Result<Vec<RuleFile>, RulesError> {
    let entries = std::fs::read_dir(dir).map_err(|source| RulesError::Dir {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| {
            Path::new(n)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
        })
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|name| {
            let contents = if FILE_NAMES.contains(&name.as_str()) {
                read_rule_file(&dir.join(&name)).map_or_else(Contents::Unreadable, Contents::Text)
            } else {
                Contents::NotARuleFile
            };
            RuleFile { name, contents }
        })
        .collect())
}

fn read_rule_file(path: &Path) -> Result<String, Unreadable> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() > MAX_RULE_FILE_BYTES => Err(Unreadable::TooLarge(m.len())),
        _ => String::from_utf8(std::fs::read(path)?).map_err(|_| Unreadable::NotUtf8),
    }
}

/// Checks a set of rule files, each by its module of `lint`; `prefix` is how problems name
/// their directory (`rules/` for the embedded files, which must then be complete). Returns the
/// sound entries and every problem, in reading order.
pub(crate) fn check_files(mut files: Vec<RuleFile>, prefix: &str) -> (RuleSet, Vec<Problem>) {
    let mut set = RuleSet::default();
    let mut problems = Vec::new();
    let complete = prefix == "rules/";
    // Finding ids that codes may name: the built-in ones plus those of the files checked.
    let mut known_findings = embedded_finding_ids();
    // findings.toml first, so codes.toml is checked against the ids it defines.
    files.sort_by_key(|f| {
        FILE_NAMES
            .iter()
            .position(|n| *n == f.name)
            .unwrap_or(usize::MAX)
    });
    for RuleFile { name, contents } in files {
        let path = format!("{prefix}{name}");
        let text = match contents {
            Contents::Text(text) => text,
            Contents::Unreadable(e) => {
                FileCtx::new(&path, "", &mut problems).error(
                    None,
                    None,
                    None,
                    format!("cannot read: {e}"),
                );
                continue;
            }
            Contents::NotARuleFile => {
                problems.push(Problem {
                    level: Level::Warning,
                    file: path,
                    line: None,
                    entry: None,
                    field: None,
                    message: format!(
                        "not a rule file kmsdiag reads (it reads {}); ignored",
                        FILE_NAMES.join(", ")
                    ),
                });
                continue;
            }
        };
        let mut ctx = FileCtx::new(&path, &text, &mut problems);
        let Some(table) = ctx.parse() else { continue };
        match name.as_str() {
            "findings.toml" => {
                lint::findings::check(&mut ctx, &table, &mut set);
                known_findings.extend(set.findings.iter().map(|f| f.id.clone()));
            }
            "slmgr.toml" => lint::slmgr::check(&mut ctx, &table, &mut set),
            "events.toml" => lint::events::check(&mut ctx, &table, &mut set),
            "ospp.toml" => lint::ospp::check(&mut ctx, &table, &mut set),
            "fields.toml" => lint::fields::check(&mut ctx, &table, &mut set),
            "codes.toml" => lint::codes::check(&mut ctx, &table, &mut set, &known_findings),
            "win32.toml" => lint::win32::check(&mut ctx, &table, &mut set),
            "licensing.toml" => lint::licensing::check(&mut ctx, &table, &mut set, complete),
            "inventory.toml" => lint::inventory::check(&mut ctx, &table, &mut set, complete),
            "collect.toml" => lint::collect::check(&mut ctx, &table, &mut set),
            _ => {}
        }
    }
    // Report in reading order: file, then line (problems without a line first).
    problems.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    (set, problems)
}

/// The finding ids of the built-in `findings.toml` (read leniently: its own problems are reported
/// when it is linted).
fn embedded_finding_ids() -> BTreeSet<String> {
    let text = EMBEDDED
        .iter()
        .find(|(n, _)| *n == "findings.toml")
        .map_or("", |(_, t)| *t);
    text.parse::<toml::Table>()
        .ok()
        .and_then(|t| t.get("finding").and_then(|v| v.as_array()).cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|f| f.get("id").and_then(|v| v.as_str()).map(str::to_owned))
        .collect()
}
