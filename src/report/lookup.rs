//! Rendering `kmsdiag lookup` answers: a readable block per code, a one-line-per-code listing for
//! searches, the status-flag breakdown, and their JSON forms.

use std::fmt::Write as _;
use std::io::{self, Write};

use serde::Serialize;

use super::{Style, sanitize};
use crate::model::lookup::{Answer, FlagsAnswer};
use crate::rules::Severity;

/// One full block per answer, separated by blank lines.
pub(crate) fn write_answers(
    w: &mut dyn Write,
    style: &Style,
    answers: &[Answer],
) -> io::Result<()> {
    for (i, a) in answers.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        write_answer(w, style, a)?;
    }
    Ok(())
}

fn write_answer(w: &mut dyn Write, style: &Style, a: &Answer) -> io::Result<()> {
    let clean = |s: &str| sanitize(s, true).into_owned();
    let mut title = style.bold(&a.code.to_string());
    if let Some(sym) = &a.symbol {
        title.push_str("  ");
        title.push_str(&clean(sym));
    }
    let sev = style.severity(a.severity, a.severity.as_str());
    let tag = match a.category {
        Some(c) => format!("{sev} · {c}"),
        None => sev,
    };
    writeln!(w, "{title}  [{tag}]")?;
    if !a.known {
        writeln!(
            w,
            "{}",
            style.wrap(
                "Not in kmsdiag's table of activation codes; what the value itself says is below.",
                "  ",
                "  "
            )
        )?;
    }
    if let Some(r) = read_as(a) {
        writeln!(w, "  {}", style.dim(&r))?;
    }
    if let Some(m) = &a.message {
        let label = if a.known {
            "Windows says"
        } else {
            "System text"
        };
        writeln!(
            w,
            "{}",
            style.wrap(&format!("{label}: \"{}\"", clean(m)), "  ", "    ")
        )?;
    }
    if let Some(m) = &a.meaning {
        writeln!(
            w,
            "{}",
            style.wrap(&format!("Meaning: {}", clean(m)), "  ", "    ")
        )?;
    }
    if !a.causes.is_empty() {
        writeln!(w, "  {}", style.heading("Likely causes:"))?;
        for c in &a.causes {
            writeln!(w, "{}", style.wrap(&clean(c), "    - ", "      "))?;
        }
    }
    if !a.next_steps.is_empty() {
        writeln!(w, "  {}", style.heading("Next steps:"))?;
        for (i, s) in a.next_steps.iter().enumerate() {
            let n = format!("    {}. ", i + 1);
            writeln!(w, "{}", style.wrap(&clean(s), &n, "       "))?;
        }
    }
    if a.known && a.meaning.is_none() && a.severity != Severity::Informational {
        writeln!(w, "{}", style.wrap("No troubleshooting notes for this code yet: the text above is Windows' own. Check events 12288 (client) and 12290 (KMS host) around the time it appeared.", "  ", "  "))?;
    }
    if !a.related_events.is_empty() {
        let ev: Vec<String> = a.related_events.iter().map(ToString::to_string).collect();
        writeln!(w, "  Related events: {}", ev.join(", "))?;
    }
    if let Some(f) = &a.finding {
        writeln!(w, "  kmsdiag finding: {}", clean(f))?;
    }
    write_structure(w, style, a)?;
    if let Some(n) = &a.notes {
        writeln!(
            w,
            "{}",
            style.dim(&style.wrap(&format!("Note: {}", clean(n)), "  ", "    "))
        )?;
    }
    if !a.sources.is_empty() {
        writeln!(w, "  {}", style.dim("Sources:"))?;
        for s in &a.sources {
            writeln!(w, "{}", style.dim(&style.wrap(&clean(s), "    ", "      ")))?;
        }
    }
    Ok(())
}

/// How the input was read, when it was not written as hex.
fn read_as(a: &Answer) -> Option<String> {
    let clean = |s: &str| sanitize(s, true).into_owned();
    match a.interpreted_as {
        crate::hresult::Spelling::SignedDecimal => {
            Some(format!("read `{}` as a signed decimal", clean(&a.input)))
        }
        crate::hresult::Spelling::UnsignedDecimal => {
            Some(format!("read `{}` as an unsigned decimal", clean(&a.input)))
        }
        crate::hresult::Spelling::Win32Number => Some(format!(
            "read `{}` as Win32 error {}",
            clean(&a.input),
            a.structure.code
        )),
        crate::hresult::Spelling::Symbol => Some(format!("read `{}` as a symbol", clean(&a.input))),
        crate::hresult::Spelling::Hex => None,
    }
}

/// The code's bit layout, and the Win32 error inside it.
fn write_structure(w: &mut dyn Write, style: &Style, a: &Answer) -> io::Result<()> {
    let clean = |s: &str| sanitize(s, true).into_owned();
    let s = &a.structure;
    let facility = match &s.facility_name {
        Some(n) => format!("{} {n}", s.facility),
        None => s.facility.to_string(),
    };
    let mut layout = format!(
        "Structure: {} · facility {facility} · code 0x{:04X} ({}) · decimal {} / {}",
        if s.failure { "failure" } else { "success" },
        s.code,
        s.code,
        s.signed_decimal,
        s.unsigned_decimal
    );
    if let Some(range) = s.licensing_range {
        let _ = write!(layout, " · Software Licensing range: {range}");
    }
    writeln!(w, "{}", style.dim(&style.wrap(&layout, "  ", "    ")))?;
    if let Some(win) = &s.win32 {
        let mut line = format!("Win32 error {}", win.number);
        if let Some(n) = &win.name {
            let _ = write!(line, " {}", clean(n));
        }
        if let Some(m) = &win.message {
            let _ = write!(line, ": {}", clean(m));
        }
        writeln!(w, "{}", style.wrap(&line, "  ", "    "))?;
    }
    Ok(())
}

/// Width of the severity column: the longest severity word ("informational").
const SEVERITY_WIDTH: usize = 13;
/// Width of the category column: the longest category word.
const CATEGORY_WIDTH: usize = 16;
/// Columns are separated by this many spaces, so no two run together.
const GAP: &str = "  ";

/// One line per code: code, severity, category, symbol, message (cut to the width), each column
/// padded to its widest value and set apart from the next by two spaces.
pub(crate) fn write_listing(
    w: &mut dyn Write,
    style: &Style,
    answers: &[Answer],
) -> io::Result<()> {
    let sym_width = answers
        .iter()
        .map(|a| a.symbol.as_deref().map_or(1, |s| s.chars().count()))
        .max()
        .unwrap_or(1)
        .min(40);
    for a in answers {
        let sev = format!("{:<SEVERITY_WIDTH$}", a.severity.as_str());
        let cat = format!(
            "{:<CATEGORY_WIDTH$}",
            a.category.map_or("-", |c| c.as_str())
        );
        let sym = format!(
            "{:<sym_width$}",
            sanitize(a.symbol.as_deref().unwrap_or("-"), true)
        );
        let head = [a.code.to_string(), sev.clone(), cat.clone(), sym.clone()].join(GAP);
        let text = a.message.as_deref().or(a.meaning.as_deref()).unwrap_or("");
        let room = style.width.saturating_sub(head.chars().count() + GAP.len());
        let text = sanitize(text, true);
        let cut: String = if text.chars().count() > room {
            let mut t: String = text.chars().take(room.saturating_sub(1)).collect();
            t.push('…');
            t
        } else {
            text.into_owned()
        };
        let line = [
            style.bold(&a.code.to_string()),
            style.severity(a.severity, &sev),
            cat,
            sym.trim_end().to_owned(),
        ]
        .join(GAP);
        if cut.is_empty() || room < 10 {
            writeln!(w, "{line}")?;
        } else {
            let pad = " ".repeat(sym.chars().count() - sym.trim_end().chars().count());
            writeln!(w, "{line}{pad}{GAP}{}", style.dim(&cut))?;
        }
    }
    writeln!(w, "{}", style.dim(&format!("{} code(s)", answers.len())))
}

/// The status-flag breakdown.
pub(crate) fn write_flags(w: &mut dyn Write, style: &Style, f: &FlagsAnswer) -> io::Result<()> {
    writeln!(
        w,
        "{}  status flags (field 2 of events 12288/12289)",
        style.bold(&f.value.to_string())
    )?;
    if f.flags.is_empty() && f.unknown_bits.is_empty() {
        writeln!(w, "  no flags set")?;
    }
    for flag in &f.flags {
        writeln!(
            w,
            "  {}  {}  [{}]",
            flag.value,
            sanitize(&flag.symbol, true),
            style.severity(flag.severity, flag.severity.as_str())
        )?;
        writeln!(
            w,
            "{}",
            style.wrap(&sanitize(&flag.description, true), "      ", "      ")
        )?;
    }
    for bit in &f.unknown_bits {
        writeln!(w, "  {bit}  (not a documented flag)")?;
    }
    Ok(())
}

/// JSON: a single value as an object, several as an array.
pub(crate) fn write_json<T: Serialize>(
    w: &mut dyn Write,
    items: &[T],
    always_array: bool,
) -> io::Result<()> {
    match items {
        [one] if !always_array => super::json::write_pretty(w, one)?,
        _ => super::json::write_pretty(w, items)?,
    }
    writeln!(w)
}
