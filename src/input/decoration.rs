//! Decoration people add when they post a text — e-mail quote marks, Markdown emphasis, code
//! spans and fences, bullets, indentation, hard-break marks, HTML text markup of a copied page, and
//! a log line prefix (a time stamp and a tool's tag) on every line — removed so the strict
//! readers see the text a tool printed.
//! Decoration is noise, not a format: this knows no reader and no label, only how posting
//! decorates lines. Each line stays on its line (line numbers in evidence keep pointing at the
//! input), and what was removed is named so the report can say it.

use crate::model::vocab::Decoration;

/// A text with its decoration removed, and which kinds were removed (in a fixed order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Undecorated {
    pub text: String,
    pub removed: Vec<Decoration>,
}

/// Removes the decoration of `text`. `None` when there is none to remove.
pub(crate) fn undecorate(text: &str) -> Option<Undecorated> {
    let lines: Vec<&str> = text.lines().collect();
    let prefix = LinePrefix::of(&lines);
    let mut removed = Vec::new();
    let mut out = String::with_capacity(text.len());
    for line in &lines {
        let mut l = line.trim_end_matches('\r');
        if let Some(kept) = strip_quote(l) {
            note(&mut removed, Decoration::QuoteMarks);
            l = kept;
        }
        if is_fence(l) {
            note(&mut removed, Decoration::CodeFences);
            out.push('\n');
            continue;
        }
        if let Some(kept) = prefix.strip(l) {
            note(&mut removed, Decoration::LinePrefix);
            l = kept;
        }
        let trimmed = l.trim_start();
        if trimmed.len() != l.len() && !trimmed.is_empty() {
            note(&mut removed, Decoration::Indentation);
        }
        let mut l = trimmed;
        if let Some(kept) = strip_bullet(l) {
            note(&mut removed, Decoration::Bullets);
            l = kept;
        }
        let end = l.trim_end();
        let end = match end.strip_suffix('\\') {
            Some(kept) => {
                note(&mut removed, Decoration::HardBreaks);
                kept.trim_end()
            }
            None => end,
        };
        if end.len() != l.len() && l.ends_with("  ") {
            note(&mut removed, Decoration::HardBreaks);
        }
        let (plain, kinds) = strip_inline(end);
        for k in kinds {
            note(&mut removed, k);
        }
        let plain = match strip_html(&plain) {
            Some(kept) => {
                note(&mut removed, Decoration::HtmlMarkup);
                kept.trim().to_owned()
            }
            None => plain,
        };
        out.push_str(&plain);
        out.push('\n');
    }
    removed.sort_unstable();
    (!removed.is_empty()).then_some(Undecorated { text: out, removed })
}

fn note(removed: &mut Vec<Decoration>, d: Decoration) {
    if !removed.contains(&d) {
        removed.push(d);
    }
}

/// `> ` quote marks of e-mail and Markdown, nested or not (`> > `, `>> `).
fn strip_quote(l: &str) -> Option<&str> {
    let t = l.trim_start();
    if !t.starts_with('>') {
        return None;
    }
    let rest = t.trim_start_matches(['>', ' ']);
    Some(rest)
}

/// A Markdown code fence line: three or more backticks or tildes, perhaps a language name.
fn is_fence(l: &str) -> bool {
    let t = l.trim();
    let fence = |c: char| {
        let n = t.chars().take_while(|&x| x == c).count();
        n >= 3
            && t.get(n..)
                .is_some_and(|rest| rest.chars().all(|x| x.is_alphanumeric() || x == '-'))
    };
    fence('`') || fence('~')
}

/// A list bullet at the start of a line: `- `, `* `, `+ `, `• `, `· `, `‣ `.
fn strip_bullet(l: &str) -> Option<&str> {
    let mut chars = l.chars();
    let bullet = chars.next()?;
    if !matches!(bullet, '-' | '*' | '+' | '•' | '·' | '‣' | '◦') {
        return None;
    }
    let rest = chars.as_str();
    // A bullet is followed by a space; `--` rules, `**bold**` and `-5` are not bullets.
    let after = rest.strip_prefix(' ')?;
    (!after.trim().is_empty()).then_some(after.trim_start())
}

/// Markdown emphasis (`**x**`, `__x__`) and code spans (`` `x` ``) inside a line: the marks go,
/// the text stays.
fn strip_inline(l: &str) -> (String, Vec<Decoration>) {
    let mut kinds = Vec::new();
    let mut s = l.to_owned();
    if s.contains('`') {
        s = s.replace('`', "");
        kinds.push(Decoration::CodeSpans);
    }
    for mark in ["**", "__"] {
        if paired(&s, mark) {
            s = s.replace(mark, "");
            kinds.push(Decoration::Emphasis);
        }
    }
    (s, kinds)
}

/// The HTML elements that only lay out text on a page (paragraphs, breaks, code and emphasis):
/// a text copied from a page's source keeps them around every line. Elements that carry data
/// (an event's `<Data>`, a table's cells) are not among them.
const HTML_TEXT_TAGS: &[&str] = &[
    "p",
    "br",
    "code",
    "pre",
    "tt",
    "kbd",
    "samp",
    "span",
    "div",
    "font",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "blockquote",
    "li",
    "ul",
    "ol",
];

/// The character entities such a page writes for text characters.
const HTML_ENTITIES: &[(&str, &str)] = &[
    ("&nbsp;", " "),
    ("&lt;", "<"),
    ("&gt;", ">"),
    ("&quot;", "\""),
    ("&#39;", "'"),
    ("&amp;", "&"),
];

/// A line without its HTML text markup (`<p>`, `<br />`, `</code>`, `<p style="…">`, `&nbsp;`);
/// `None` when it has none.
fn strip_html(l: &str) -> Option<String> {
    let mut out = String::with_capacity(l.len());
    let mut rest = l;
    let mut found = false;
    while let Some(open) = rest.find('<') {
        let after = rest.get(open + 1..).unwrap_or("");
        let tag = after.find('>').and_then(|close| {
            let inner = after.get(..close)?;
            let name: String = inner
                .trim_start_matches('/')
                .chars()
                .take_while(char::is_ascii_alphanumeric)
                .collect::<String>()
                .to_ascii_lowercase();
            let tail = inner.trim_start_matches('/').get(name.len()..)?;
            let shaped = tail.is_empty() || tail.starts_with([' ', '/']);
            (HTML_TEXT_TAGS.contains(&name.as_str()) && shaped).then_some(close)
        });
        out.push_str(rest.get(..open).unwrap_or(""));
        if let Some(close) = tag {
            found = true;
            rest = after.get(close + 1..).unwrap_or("");
        } else {
            out.push('<');
            rest = after;
        }
    }
    out.push_str(rest);
    for (entity, text) in HTML_ENTITIES {
        if out.contains(entity) {
            found = true;
            out = out.replace(entity, text);
        }
    }
    found.then_some(out)
}

/// Whether `mark` appears an even number of times, as emphasis does (open and close).
fn paired(s: &str, mark: &str) -> bool {
    let n = s.matches(mark).count();
    n >= 2 && n.is_multiple_of(2)
}

/// A prefix a logging tool puts on every line: a time stamp, then perhaps a tag that ends with
/// `:` or `]` and is the same on those lines (`2024/05/19 07:20:28 Setup: `, `[10:02:11] `).
struct LinePrefix {
    /// The tag after the time stamp that most prefixed lines share, if they share one.
    tag: Option<String>,
    active: bool,
}

impl LinePrefix {
    /// Most non-empty lines (at least two, and three in four) must start with a time stamp.
    fn of(lines: &[&str]) -> LinePrefix {
        let mut stamped = 0usize;
        let mut total = 0usize;
        let mut tags: Vec<(String, usize)> = Vec::new();
        for l in lines.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
            total += 1;
            if let Some(rest) = after_stamp(l) {
                stamped += 1;
                if let Some(tag) = leading_tag(rest) {
                    if let Some((_, n)) = tags.iter_mut().find(|(t, _)| *t == tag) {
                        *n += 1;
                    } else if tags.len() < 16 {
                        tags.push((tag.to_owned(), 1));
                    }
                }
            }
        }
        let active = stamped >= 2 && stamped * 4 >= total * 3;
        let tag = tags
            .into_iter()
            .filter(|(_, n)| *n * 4 >= stamped * 3)
            .max_by_key(|(_, n)| *n)
            .map(|(t, _)| t);
        LinePrefix { tag, active }
    }

    fn strip<'a>(&self, l: &'a str) -> Option<&'a str> {
        if !self.active {
            return None;
        }
        let rest = after_stamp(l.trim_start())?;
        Some(match &self.tag {
            Some(tag) => rest
                .strip_prefix(tag.as_str())
                .map_or(rest, str::trim_start),
            None => rest,
        })
    }
}

/// The text after a leading time stamp: a date and a time (`2024/05/19 07:20:28`,
/// `2024-05-19T07:20:28.123Z`, `19.05.2024 07:20:28`) or a time alone (`07:20:28`), bracketed or
/// not, followed by a space.
fn after_stamp(l: &str) -> Option<&str> {
    let (inner, rest) = if let Some(r) = l.strip_prefix('[') {
        r.split_once(']')?
    } else {
        // Up to two space-separated tokens: a date and a time, or a time.
        let mut end = 0;
        let mut tokens = 0;
        for (i, tok) in l.split(' ').enumerate().take(2) {
            if !is_stamp_token(tok) {
                break;
            }
            tokens = i + 1;
            end += tok.len() + usize::from(i > 0);
        }
        if tokens == 0 {
            return None;
        }
        (l.get(..end)?, l.get(end..)?)
    };
    let has_time = inner.split([' ', 'T']).any(is_time);
    (has_time
        && inner
            .split([' ', 'T'])
            .all(|t| is_stamp_token(t) || t.is_empty()))
    .then(|| rest.trim_start())
}

/// A date (`2024/05/19`, `2024-05-19`, `19.05.2024`), a time (`07:20:28`, `07:20:28.123Z`,
/// `07:20:28,123`), or an ISO date-time joined by `T`.
fn is_stamp_token(t: &str) -> bool {
    if let Some((d, tm)) = t.split_once('T') {
        return is_date(d) && is_time(tm);
    }
    is_date(t) || is_time(t)
}

fn is_date(t: &str) -> bool {
    let parts: Vec<&str> = t.split(['/', '-', '.']).collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| (1..=4).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        && parts.iter().any(|p| p.len() == 4)
}

fn is_time(t: &str) -> bool {
    let t = t.trim_end_matches('Z');
    let (hms, frac) = t.split_once(['.', ',']).unwrap_or((t, "0"));
    let parts: Vec<&str> = hms.split(':').collect();
    (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_digit()))
        && frac
            .trim_end_matches(['+', '-', ':'])
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'+' || b == b'-' || b == b':')
}

/// A tool's tag at the start of a line: one word ending with `:` (`Setup:`), or `[word]`.
fn leading_tag(rest: &str) -> Option<&str> {
    let word = rest.split(' ').next()?;
    let tagged = (word.len() > 1 && word.ends_with(':'))
        || (word.starts_with('[') && word.ends_with(']') && word.len() > 2);
    let body = word.trim_start_matches('[').trim_end_matches([':', ']']);
    (tagged
        && body
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c)))
    .then_some(word)
}

#[cfg(test)]
mod tests;
