//! Checking rule files: every problem in every file is found and named (file, line, entry, field,
//! why), and the entries that are sound are returned for loading.
//!
//! Each array entry is deserialized on its own, so one bad entry does not hide the problems of
//! the others.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::slmgr::SlmgrLanguage;
use super::{
    CodeEntry, FILE_NAMES, FacilityEntry, FindingRule, KmsParams, LicenseStatusEntry, RuleSet,
    RulesError, Severity, StatusFlagEntry, Win32Entry,
};
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

/// Lints the embedded rule files.
pub fn lint_embedded() -> Vec<Problem> {
    check_files(
        super::EMBEDDED
            .iter()
            .map(|(n, t)| ((*n).to_owned(), Some((*t).to_owned())))
            .collect(),
        "rules/",
    )
    .1
}

/// Lints the rule files in a directory (files it does not have are not required).
pub fn lint_dir(dir: &Path) -> Result<Vec<Problem>, RulesError> {
    let files = read_dir_files(dir)?;
    Ok(check_files(files, &format!("{}/", dir.display())).1)
}

/// Reads the known rule files of a directory. Unknown `.toml` files are returned with no text,
/// so the linter can say they are ignored.
pub(crate) fn read_dir_files(dir: &Path) -> Result<Vec<(String, Option<String>)>, RulesError> {
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
    let mut out = Vec::new();
    for name in names {
        if FILE_NAMES.contains(&name.as_str()) {
            let path = dir.join(&name);
            // Rule files are small; a huge one is a mistake, not a table.
            let text = match std::fs::metadata(&path) {
                Ok(m) if m.len() > MAX_RULE_FILE_BYTES => Err(format!(
                    "file is {} bytes; rule files are limited to {MAX_RULE_FILE_BYTES}",
                    m.len()
                )),
                _ => std::fs::read(&path)
                    .map_err(|e| e.to_string())
                    .and_then(|b| String::from_utf8(b).map_err(|_| "not UTF-8 text".to_owned())),
            };
            out.push((name, Some(text.unwrap_or_else(|e| format!("\u{0}{e}")))));
        } else {
            out.push((name, None));
        }
    }
    Ok(out)
}

const MAX_RULE_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// Checks a set of rule files. `files` holds (name, text); a text of `None` marks a file kmsdiag
/// does not know, and a text starting with NUL carries a read error.
pub(crate) fn check_files(
    files: Vec<(String, Option<String>)>,
    prefix: &str,
) -> (RuleSet, Vec<Problem>) {
    let mut set = RuleSet::default();
    let mut problems = Vec::new();
    let complete = prefix == "rules/";
    // Finding ids that codes may name: the built-in ones plus those of the files checked.
    let mut known_findings = embedded_finding_ids();
    let mut files = files;
    // findings.toml first, so codes.toml is checked against the ids it defines.
    files.sort_by_key(|(name, _)| {
        FILE_NAMES
            .iter()
            .position(|n| n == name)
            .unwrap_or(usize::MAX)
    });
    for (name, text) in files {
        let path = format!("{prefix}{name}");
        let Some(text) = text else {
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
        };
        let mut ctx = FileCtx::new(&path, &text, &mut problems);
        if let Some(err) = text.strip_prefix('\u{0}') {
            ctx.error(None, None, None, format!("cannot read: {err}"));
            continue;
        }
        let Some(table) = ctx.parse() else { continue };
        match name.as_str() {
            "findings.toml" => {
                check_findings(&mut ctx, &table, &mut set);
                known_findings.extend(set.findings.iter().map(|f| f.id.clone()));
            }
            "slmgr.toml" => check_slmgr(&mut ctx, &table, &mut set),
            "events.toml" => check_events(&mut ctx, &table, &mut set),
            "codes.toml" => check_codes(&mut ctx, &table, &mut set, &known_findings),
            "win32.toml" => check_win32(&mut ctx, &table, &mut set),
            "licensing.toml" => check_licensing(&mut ctx, &table, &mut set, complete),
            _ => {}
        }
    }
    // Report in reading order: file, then line (problems without a line first).
    problems.sort_by(|a, b| a.file.cmp(&b.file).then(a.line.cmp(&b.line)));
    (set, problems)
}

/// Per-file helpers: problem reporting with line numbers.
struct FileCtx<'a> {
    path: &'a str,
    text: &'a str,
    problems: &'a mut Vec<Problem>,
    /// Line (1-based) of the n-th `[[key]]` header, per key.
    headers: HashMap<String, Vec<usize>>,
}

impl<'a> FileCtx<'a> {
    fn new(path: &'a str, text: &'a str, problems: &'a mut Vec<Problem>) -> Self {
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

    fn parse(&mut self) -> Option<toml::Table> {
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

    fn error(
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

/// The finding ids of the built-in `findings.toml` (read leniently: its own problems are reported
/// when it is linted).
fn embedded_finding_ids() -> BTreeSet<String> {
    let text = super::EMBEDDED
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

fn is_kebab_id(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn check_findings(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
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

fn check_slmgr(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
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
        check_text_fields(
            ctx,
            line,
            &label,
            &[
                ("fields", &fields),
                ("status", &status),
                ("phrases", &phrases),
                ("words", &words),
            ],
        );
        for f in &fields {
            if f.trim_end().ends_with([':', '\u{FF1A}']) {
                ctx.error(
                    line,
                    Some(&label),
                    Some("fields"),
                    format!("label `{f}` should not include its colon"),
                );
            }
        }
        for p in &phrases {
            if p.matches('%').count() % 2 != 0 {
                ctx.error(
                    line,
                    Some(&label),
                    Some("phrases"),
                    format!("phrase `{p}` has an unclosed %PLACEHOLDER%"),
                );
            }
        }
        if ctx.problems.len() == before {
            set.slmgr.push(lang);
        }
    }
}

fn check_events(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    use super::events::{EventDef, FieldType, ProviderDef};
    ctx.unknown_keys(table, &["provider", "event"]);
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
            if crate::events::message::parse_template(m).is_none() {
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
}

fn check_codes(
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
        let mut ok = true;
        let Some(value) = canonical_code(&entry.code) else {
            let l = ctx.field_line(line, "code");
            let hint = crate::hresult::read_number(&entry.code)
                .ok()
                .flatten()
                .map(|r| format!(" (write it as {})", r.value))
                .unwrap_or_default();
            ctx.error(
                l,
                Some(&label),
                Some("code"),
                format!(
                    "malformed code `{}`: expected 0x and 8 upper-case hex digits{hint}",
                    entry.code
                ),
            );
            continue;
        };
        if let Some((first, first_line)) = seen.get(&value) {
            let at = first_line
                .map(|l| format!(" at line {l}"))
                .unwrap_or_default();
            ctx.error(
                ctx.field_line(line, "code"),
                Some(&label),
                Some("code"),
                format!("duplicate code: code[{first}]{at} already defines {value}"),
            );
            ok = false;
        } else {
            seen.insert(value, (i, line));
        }
        for name in entry.symbol.iter().chain(entry.aliases.iter()) {
            let valid = name.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            if !valid {
                let l = ctx.field_line(line, "symbol");
                ctx.error(
                    l,
                    Some(&label),
                    Some("symbol"),
                    format!("`{name}` is not a symbol (upper-case letters, digits and _)"),
                );
                ok = false;
            } else if let Some(other) = symbols.get(name) {
                let l = ctx.field_line(line, "symbol");
                ctx.error(
                    l,
                    Some(&label),
                    Some("symbol"),
                    format!("symbol `{name}` is already used by {other}"),
                );
                ok = false;
            } else {
                symbols.insert(name.clone(), value.to_string());
            }
        }
        if entry.message.is_none() && entry.meaning.is_none() {
            ctx.error(line, Some(&label), Some("message"), "missing message: give the text Windows prints, or, when it is not known, explain the code in `meaning`".to_owned());
            ok = false;
        }
        match (&entry.finding, entry.severity) {
            (Some(f), _) if !known_findings.contains(f) => {
                let l = ctx.field_line(line, "finding");
                ctx.error(
                    l,
                    Some(&label),
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
                ok = false;
            }
            (Some(_), Severity::Informational) => {
                let l = ctx.field_line(line, "finding");
                ctx.error(
                    l,
                    Some(&label),
                    Some("finding"),
                    "an informational code must not raise a finding".to_owned(),
                );
                ok = false;
            }
            _ => {}
        }
        if entry.severity == Severity::Error && !value.is_failure() {
            let l = ctx.field_line(line, "severity");
            ctx.error(l, Some(&label), Some("severity"), format!("{value} has its failure bit clear (a success or informational code), so it cannot be an error"));
            ok = false;
        }
        if !entry.causes.is_empty() && entry.next_steps.is_empty() {
            let l = ctx.field_line(line, "next_steps");
            ctx.error(
                l,
                Some(&label),
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
                    Some(&label),
                    Some("related_events"),
                    format!("{ev} is not an event id (1..65535)"),
                );
                ok = false;
            }
        }
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
            &label,
            &[
                ("message", &single),
                ("causes", &causes),
                ("next_steps", &steps),
                ("sources", &sources),
            ],
        );
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() > before {
            ok = false;
        }
        if ok {
            set.codes.push((value, entry));
        }
    }
}

fn check_win32(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet) {
    ctx.unknown_keys(table, &["error"]);
    let mut seen: BTreeMap<u32, usize> = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<Win32Entry>(table, "error") {
        let label = format!("error[{i}] {}", entry.number);
        let before = ctx.problems.len();
        if entry.number == 0 || entry.number > 0xFFFF {
            let l = ctx.field_line(line, "number");
            ctx.error(
                l,
                Some(&label),
                Some("number"),
                "a Win32 error number is 1..65535".to_owned(),
            );
        }
        if let Some(first) = seen.insert(entry.number, i) {
            ctx.error(
                line,
                Some(&label),
                Some("number"),
                format!(
                    "duplicate number: error[{first}] already defines {}",
                    entry.number
                ),
            );
        }
        check_text_fields(
            ctx,
            line,
            &label,
            &[
                ("name", &[entry.name.as_str()]),
                ("message", &[entry.message.as_str()]),
            ],
        );
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.win32.push(entry);
        }
    }
}

const LICENSE_STATUS_IDS: &[&str] = &[
    "unlicensed",
    "licensed",
    "initial-grace",
    "additional-grace",
    "non-genuine-grace",
    "notification",
    "extended-grace",
    "unknown",
];

fn check_licensing(ctx: &mut FileCtx<'_>, table: &toml::Table, set: &mut RuleSet, complete: bool) {
    ctx.unknown_keys(
        table,
        &[
            "license_status",
            "status_flag",
            "kms",
            "facility",
            "facility_sources",
        ],
    );
    let mut seen = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<LicenseStatusEntry>(table, "license_status") {
        let label = format!("license_status[{i}] {}", entry.value);
        let before = ctx.problems.len();
        if !LICENSE_STATUS_IDS.contains(&entry.id.as_str()) {
            let l = ctx.field_line(line, "id");
            ctx.error(
                l,
                Some(&label),
                Some("id"),
                format!(
                    "unknown license status id `{}` (known: {})",
                    entry.id,
                    LICENSE_STATUS_IDS.join(", ")
                ),
            );
        }
        if let Some(first) = seen.insert(entry.value, i) {
            ctx.error(
                line,
                Some(&label),
                Some("value"),
                format!(
                    "duplicate value: license_status[{first}] already defines {}",
                    entry.value
                ),
            );
        }
        let slmgr: Vec<&str> = entry.slmgr.iter().map(String::as_str).collect();
        check_text_fields(
            ctx,
            line,
            &label,
            &[
                ("slmgr", &slmgr),
                ("description", &[entry.description.as_str()]),
            ],
        );
        check_sources(ctx, line, &label, &entry.sources);
        if ctx.problems.len() == before {
            set.license_statuses.push(entry);
        }
    }
    let mut bits = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<StatusFlagEntry>(table, "status_flag") {
        let label = format!("status_flag[{i}] {}", entry.value);
        let before = ctx.problems.len();
        match canonical_code(&entry.value) {
            Some(v) if v.0.is_power_of_two() => {
                if let Some(first) = bits.insert(v.0, i) {
                    ctx.error(
                        line,
                        Some(&label),
                        Some("value"),
                        format!("duplicate flag: status_flag[{first}] already defines {v}"),
                    );
                } else if ctx.problems.len() == before {
                    check_sources(ctx, line, &label, &entry.sources);
                    if ctx.problems.len() == before {
                        set.status_flags.push((v.0, entry));
                    }
                }
            }
            _ => {
                let l = ctx.field_line(line, "value");
                ctx.error(
                    l,
                    Some(&label),
                    Some("value"),
                    "a flag is one bit written as 0x and 8 upper-case hex digits".to_owned(),
                );
            }
        }
    }
    match table.get("kms") {
        Some(v) => match v.clone().try_into::<KmsParams>() {
            Ok(k) => {
                let line = ctx
                    .text
                    .lines()
                    .position(|l| l.trim() == "[kms]")
                    .map(|l| l + 1);
                let before = ctx.problems.len();
                for (name, n) in [
                    ("client_os_threshold", k.client_os_threshold),
                    ("server_os_threshold", k.server_os_threshold),
                    ("count_window_days", k.count_window_days),
                    ("count_cap", k.count_cap),
                    ("validity_days", k.validity_days),
                ] {
                    if n == 0 {
                        let l = ctx.field_line(line, name);
                        ctx.error(
                            l,
                            Some("kms"),
                            Some(name),
                            "must be greater than 0".to_owned(),
                        );
                    }
                }
                check_sources(ctx, line, "kms", &k.sources);
                if ctx.problems.len() == before {
                    set.kms = Some(k);
                }
            }
            Err(e) => {
                let msg = e.message().trim().to_owned();
                let field = field_named_in(&msg);
                ctx.error(None, Some("kms"), field.as_deref(), msg);
            }
        },
        None if complete => ctx.error(None, None, Some("kms"), "missing [kms] table".to_owned()),
        None => {}
    }
    let mut fac = BTreeMap::new();
    for (i, line, entry) in ctx.entries::<FacilityEntry>(table, "facility") {
        let label = format!("facility[{i}] {}", entry.value);
        if entry.value > 0x7FF {
            ctx.error(
                line,
                Some(&label),
                Some("value"),
                "a facility is 0..2047".to_owned(),
            );
        } else if let Some(first) = fac.insert(entry.value, i) {
            ctx.error(
                line,
                Some(&label),
                Some("value"),
                format!(
                    "duplicate facility: facility[{first}] already defines {}",
                    entry.value
                ),
            );
        } else {
            set.facilities.push(entry);
        }
    }
    if complete && table.contains_key("facility") && !table.contains_key("facility_sources") {
        ctx.error(
            None,
            None,
            Some("facility_sources"),
            "facilities need their sources".to_owned(),
        );
    }
}

/// Used only if a rules directory replaced nothing and the embedded table somehow lacked `[kms]`,
/// which the linter reports as an error before this is ever reached.
pub(crate) fn fallback_kms() -> KmsParams {
    KmsParams {
        client_os_threshold: 25,
        server_os_threshold: 5,
        count_window_days: 30,
        count_cap: 50,
        activation_interval_minutes: 120,
        renewal_interval_minutes: 10080,
        validity_days: 180,
        oot_grace_days: 30,
        default_port: 1688,
        sources: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(name: &str, text: &str) -> Vec<Problem> {
        check_files(vec![(name.to_owned(), Some(text.to_owned()))], "dir/").1
    }

    #[test]
    fn embedded_rules_are_clean() {
        let problems = lint_embedded();
        assert!(problems.is_empty(), "{problems:#?}");
    }

    #[test]
    fn every_bad_entry_is_reported_with_its_line() {
        let text = r#"
[[code]]
code = "0xC004F038"
message = "ok"
category = "kms-count"
severity = "error"
sources = ["x"]

[[code]]
code = "0xc004f038"
message = "lower case"
category = "kms-count"
severity = "error"
sources = ["x"]

[[code]]
code = "0xC004F038"
message = "dup"
category = "kms-count"
severity = "error"
sources = ["x"]

[[code]]
code = "0xC004F039"
message = "bad category"
category = "kms-cnt"
severity = "error"
sources = ["x"]

[[code]]
code = "0xC004F03A"
category = "other"
severity = "error"
sources = ["x"]
"#;
        let p = check("codes.toml", text);
        let msgs: Vec<String> = p.iter().map(ToString::to_string).collect();
        assert_eq!(p.len(), 4, "{msgs:#?}");
        assert!(
            msgs[0].contains("dir/codes.toml:10: code[1] 0xc004f038: field `code`: malformed code"),
            "{}",
            msgs[0]
        );
        assert!(msgs[0].contains("write it as 0xC004F038"));
        assert!(
            msgs[1].contains(
                ":17: code[2] 0xC004F038: field `code`: duplicate code: code[0] at line 2"
            ),
            "{}",
            msgs[1]
        );
        assert!(
            msgs[2]
                .contains(":26: code[3] 0xC004F039: field `category`: unknown variant `kms-cnt`"),
            "{}",
            msgs[2]
        );
        assert!(
            msgs[3].contains("code[4] 0xC004F03A: field `message`: missing message"),
            "{}",
            msgs[3]
        );
    }

    #[test]
    fn syntax_errors_unknown_fields_and_unknown_findings() {
        let p = check("codes.toml", "[[code]\ncode = 1");
        assert_eq!(p.len(), 1);
        assert!(p[0].to_string().contains("not valid TOML"));
        let p = check(
            "codes.toml",
            "[[code]]\ncode = \"0x4004F040\"\nmessage = \"m\"\ncategory = \"other\"\nseverity = \"error\"\nfinding = \"nope\"\ncolour = 1\nsources = [\"s\"]\n",
        );
        assert_eq!(p.len(), 1, "{p:#?}");
        assert!(p[0].to_string().contains("field `colour`: unknown field"));
        let p = check(
            "codes.toml",
            "[[code]]\ncode = \"0x4004F040\"\nmessage = \"m\"\ncategory = \"other\"\nseverity = \"error\"\nfinding = \"nope\"\nsources = []\n",
        );
        let all = p
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("unknown finding id `nope`"), "{all}");
        assert!(all.contains("failure bit clear"), "{all}");
        assert!(all.contains("needs at least one source"), "{all}");
    }

    #[test]
    fn licensing_and_win32_checks() {
        let p = check(
            "licensing.toml",
            "[[status_flag]]\nvalue = \"0x00000003\"\nsymbol = \"X\"\nseverity = \"error\"\ndescription = \"d\"\nsources = [\"s\"]\n[[license_status]]\nvalue = 1\nid = \"activated\"\nslmgr = [\"Licensed\"]\ndescription = \"d\"\nsources = [\"s\"]\n",
        );
        let all = p
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n");
        assert!(all.contains("one bit"), "{all}");
        assert!(
            all.contains("unknown license status id `activated`"),
            "{all}"
        );
        let p = check(
            "win32.toml",
            "[[error]]\nnumber = 70000\nname = \"X\"\nmessage = \"\"\nsources = [\"s\"]\n",
        );
        assert_eq!(p.len(), 2, "{p:#?}");
    }
}
