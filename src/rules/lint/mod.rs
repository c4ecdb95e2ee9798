//! Checking rule files: every problem in every file is found and named (file, line, entry, field,
//! why), and the entries that are sound are kept for loading. This module holds what every check
//! shares (the [`Problem`] it reports, the per-file context that finds lines, the text and source
//! checks); each rule file has its own module of checks. Which files are read, and in what order,
//! is the loader's (`load`).
//!
//! Each array entry is deserialized on its own, so one bad entry does not hide the problems of
//! the others.

pub(super) mod codes;
pub(super) mod collect;
pub(super) mod events;
pub(super) mod fields;
pub(super) mod findings;
pub(super) mod inventory;
pub(super) mod licensing;
pub(super) mod ospp;
pub(super) mod slmgr;
pub(super) mod win32;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};
use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::hresult::Hresult;

/// Whether a problem stops the rules from loading.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Level {
    Warning,
    Error,
}

/// One thing wrong in a rule file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub level: Level,
    pub file: String,
    pub line: Option<usize>,
    /// The entry, e.g. `code[17] 0xC004F038`.
    pub entry: Option<String>,
    pub field: Option<String>,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let level = match self.level {
            Level::Warning => "warning",
            Level::Error => "error",
        };
        write!(f, "{level}: {}", self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(entry) = &self.entry {
            write!(f, ": {entry}")?;
        }
        if let Some(field) = &self.field {
            write!(f, ": field `{field}`")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Per-file helpers: problem reporting with line numbers.
pub(super) struct FileCtx<'a> {
    path: &'a str,
    text: &'a str,
    problems: &'a mut Vec<Problem>,
    /// Line (1-based) of the n-th `[[key]]` header, per key.
    headers: HashMap<String, Vec<usize>>,
}

impl<'a> FileCtx<'a> {
    pub(super) fn new(path: &'a str, text: &'a str, problems: &'a mut Vec<Problem>) -> Self {
        let mut headers: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, line) in text.lines().enumerate() {
            let t = line.trim();
            if let Some(key) = t.strip_prefix("[[").and_then(|r| r.split("]]").next()) {
                headers
                    .entry(key.trim().to_owned())
                    .or_default()
                    .push(i + 1);
            }
        }
        FileCtx {
            path,
            text,
            problems,
            headers,
        }
    }

    pub(super) fn parse(&mut self) -> Option<toml::Table> {
        match self.text.parse::<toml::Table>() {
            Ok(t) => Some(t),
            Err(e) => {
                let line = e.span().map(|s| line_of(self.text, s.start));
                self.error(
                    line,
                    None,
                    None,
                    format!("not valid TOML: {}", e.message().trim()),
                );
                None
            }
        }
    }

    fn push(
        &mut self,
        level: Level,
        line: Option<usize>,
        entry: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        self.problems.push(Problem {
            level,
            file: self.path.to_owned(),
            line,
            entry: entry.map(str::to_owned),
            field: field.map(str::to_owned),
            message,
        });
    }

    pub(super) fn error(
        &mut self,
        line: Option<usize>,
        entry: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        self.push(Level::Error, line, entry, field, message);
    }

    fn header_line(&self, key: &str, index: usize) -> Option<usize> {
        self.headers.get(key).and_then(|v| v.get(index)).copied()
    }

    /// Line of `field = ` inside the entry that starts at `start`.
    fn field_line(&self, start: Option<usize>, field: &str) -> Option<usize> {
        let start = start?;
        for (i, line) in self.text.lines().enumerate().skip(start) {
            let t = line.trim_start();
            if t.starts_with('[') {
                break;
            }
            if let Some(rest) = t.strip_prefix(field)
                && rest.trim_start().starts_with('=')
            {
                return Some(i + 1);
            }
        }
        Some(start)
    }

    /// Re-reads the text of entry `index` of `[[key]]` on its own to find the line and the field
    /// an error points at (the parsed value no longer knows where it came from).
    fn locate<T: DeserializeOwned>(
        &self,
        key: &str,
        index: usize,
    ) -> Option<(usize, Option<String>)> {
        let starts = self.headers.get(key)?;
        let start = *starts.get(index)?;
        let lines: Vec<&str> = self.text.lines().collect();
        let end = lines
            .iter()
            .enumerate()
            .skip(start)
            .find(|(_, l)| l.trim_start().starts_with('['))
            .map_or(lines.len(), |(i, _)| i);
        let slice = lines.get(start - 1..end)?.join("\n");
        let err = toml::from_str::<BTreeMap<String, Vec<T>>>(&slice).err()?;
        let span = err.span()?;
        let rel = line_of(&slice, span.start);
        let line_text = lines.get(start - 1 + rel - 1)?;
        let field = line_text
            .split_once('=')
            .map(|(k, _)| k.trim().to_owned())
            .filter(|k| !k.is_empty() && !k.starts_with('['));
        Some((start + rel - 1, field))
    }

    fn unknown_keys(&mut self, table: &toml::Table, known: &[&str]) {
        for key in table.keys() {
            if !known.contains(&key.as_str()) {
                let line = self.text.lines().position(|l| {
                    let t = l.trim_start();
                    t.starts_with(&format!("{key} "))
                        || t.starts_with(&format!("{key}="))
                        || t.starts_with(&format!("[{key}]"))
                        || t.starts_with(&format!("[[{key}]]"))
                });
                self.error(
                    line.map(|l| l + 1),
                    None,
                    Some(key),
                    format!("unknown top-level key (expected {})", known.join(", ")),
                );
            }
        }
    }

    /// Deserializes each element of the array `key` on its own. Returns (index, header line, entry).
    fn entries<T: DeserializeOwned>(
        &mut self,
        table: &toml::Table,
        key: &str,
    ) -> Vec<(usize, Option<usize>, T)> {
        let Some(value) = table.get(key) else {
            return Vec::new();
        };
        let Some(items) = value.as_array() else {
            self.error(
                None,
                None,
                Some(key),
                "must be an array of tables ([[...]])".to_owned(),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let line = self.header_line(key, i);
            match item.clone().try_into::<T>() {
                Ok(v) => out.push((i, line, v)),
                Err(e) => {
                    let msg = e.message().trim().to_owned();
                    let label = entry_label(key, i, item);
                    let (fline, field) = self.locate::<T>(key, i).map_or_else(
                        || {
                            let field = field_named_in(&msg);
                            (
                                field.as_deref().map_or(line, |f| self.field_line(line, f)),
                                field,
                            )
                        },
                        |(l, f)| (Some(l), f.or_else(|| field_named_in(&msg))),
                    );
                    self.error(fline, Some(&label), field.as_deref(), msg);
                }
            }
        }
        out
    }
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset)
        .map_or(1, |s| s.matches('\n').count() + 1)
}

/// `code[17] 0xC004F038`: the array name, index and its key value when readable.
fn entry_label(key: &str, index: usize, item: &toml::Value) -> String {
    let id = ["code", "number", "value", "name"]
        .iter()
        .find_map(|k| item.get(k))
        .map(|v| match v {
            toml::Value::String(s) => format!(" {s}"),
            toml::Value::Integer(n) => format!(" {n}"),
            _ => String::new(),
        })
        .unwrap_or_default();
    format!("{key}[{index}]{id}")
}

/// Pulls the field name out of serde messages like "unknown field `foo`" or "missing field `bar`".
fn field_named_in(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let len = msg.get(start..)?.find('`')?;
    let field = msg.get(start..start + len)?;
    (msg.contains("field") && !field.is_empty()).then(|| field.to_owned())
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn check_text_fields(
    ctx: &mut FileCtx<'_>,
    line: Option<usize>,
    label: &str,
    fields: &[(&str, &[&str])],
) {
    for (name, values) in fields {
        for v in *values {
            if v.trim().is_empty() {
                let l = ctx.field_line(line, name);
                ctx.error(l, Some(label), Some(name), "is empty".to_owned());
            } else if has_control(v) {
                let l = ctx.field_line(line, name);
                ctx.error(
                    l,
                    Some(label),
                    Some(name),
                    "contains control characters".to_owned(),
                );
            }
        }
    }
}

/// The texts of one language of a tool's output table (slmgr, ospp): fields, status values,
/// phrases and words, each checked as text; labels without their colon, phrases with their
/// `%PLACEHOLDER%`s closed.
fn check_language_texts(
    ctx: &mut FileCtx<'_>,
    line: Option<usize>,
    label: &str,
    [fields, status, phrases, words]: [&[&str]; 4],
) {
    check_text_fields(
        ctx,
        line,
        label,
        &[
            ("fields", fields),
            ("status", status),
            ("phrases", phrases),
            ("words", words),
        ],
    );
    for f in fields {
        if f.trim_end().ends_with([':', '\u{FF1A}']) {
            ctx.error(
                line,
                Some(label),
                Some("fields"),
                format!("label `{f}` should not include its colon"),
            );
        }
    }
    for p in phrases {
        if p.matches('%').count() % 2 != 0 {
            ctx.error(
                line,
                Some(label),
                Some("phrases"),
                format!("phrase `{p}` has an unclosed %PLACEHOLDER%"),
            );
        }
    }
}

fn check_sources(ctx: &mut FileCtx<'_>, line: Option<usize>, label: &str, sources: &[String]) {
    if sources.is_empty() {
        let l = ctx.field_line(line, "sources");
        ctx.error(
            l,
            Some(label),
            Some("sources"),
            "needs at least one source (a link or a document named precisely)".to_owned(),
        );
    }
}

fn canonical_code(s: &str) -> Option<Hresult> {
    let digits = s.strip_prefix("0x")?;
    (digits.len() == 8
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || ('A'..='F').contains(&c)))
    .then(|| u32::from_str_radix(digits, 16).ok().map(Hresult))
    .flatten()
}

fn is_kebab_id(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
