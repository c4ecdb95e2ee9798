//! The text renderer of an analysis report, for a terminal or a ticket: a verdict line per
//! machine, then the findings with their evidence and next steps, KMS hosts, what was read, and a
//! closing summary table. One function per section; the other formats sit beside it.

use std::fmt::Write as _;
use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::{Style as TableStyle, Width, peaker::Priority};

use super::{Detail, Style, View, sanitize};
use crate::model::{Evidence, Finding, Machine, NowSource, Report, Verdict};
use crate::rules::Severity;

fn verdict_style(style: &Style, v: Verdict) -> String {
    let word = format!("{:<8}", v.as_str().to_ascii_uppercase());
    match v {
        Verdict::Failing => style.severity(Severity::Error, &word),
        Verdict::Warning => style.severity(Severity::Warning, &word),
        Verdict::Ok => style.ok(&word),
        Verdict::Unknown => style.dim(&word),
    }
}

/// `severity` as reports print it.
pub(crate) fn severity_word(s: Severity) -> String {
    crate::model::severity_name(s).to_ascii_uppercase()
}

/// The closing table: one row per machine with its verdict, what it is, and its findings.
fn summary_table(style: &Style, r: &Report) -> String {
    // Long names are cut so the table stays readable; the blocks above give them whole.
    let clean = |s: &str| {
        let s = sanitize(s, true);
        if s.chars().count() > 32 {
            let mut t: String = s.chars().take(31).collect();
            t.push('…');
            t
        } else {
            s.into_owned()
        }
    };
    let mut b = Builder::default();
    b.push_record(["Machine", "Verdict", "Role", "KMS host", "Findings"]);
    for m in &r.machines {
        b.push_record([
            clean(&m.name),
            m.verdict.as_str().to_owned(),
            m.role.as_str().to_owned(),
            m.kms_host.as_deref().map(clean).unwrap_or_default(),
            m.findings.join("\n"),
        ]);
    }
    let mut t = b.build();
    t.with(TableStyle::sharp())
        .with(Width::wrap(style.width).priority(Priority::max(true)));
    t.to_string()
}

/// Every attempt of a machine, one line each.
fn write_attempts(w: &mut dyn Write, view: &View, m: &Machine) -> io::Result<()> {
    if m.attempts.is_empty() {
        return Ok(());
    }
    let style = &view.style;
    let omitted = if m.attempts_omitted > 0 {
        format!(" (the newest; {} older not shown)", m.attempts_omitted)
    } else {
        String::new()
    };
    writeln!(
        w,
        "  {}",
        style.dim(&format!("Attempts: {}{omitted}", m.attempts.len()))
    )?;
    for a in &m.attempts {
        let time = a
            .time
            .as_deref()
            .map_or_else(|| "unknown time    ".to_owned(), |t| view.zone.short(t));
        let code = a.code.map(|c| c.to_string()).unwrap_or_default();
        let host = a
            .kms_host
            .as_deref()
            .map(|h| sanitize(h, true))
            .unwrap_or_default();
        writeln!(
            w,
            "    {time}  {:<11}  {code:<10}  {host}  host: {}",
            a.outcome, a.host_seen
        )?;
    }
    Ok(())
}

/// Writes the whole report: the headline, then (unless quiet) a block per machine, the findings,
/// the KMS hosts and the inputs, and the summary table.
pub(crate) fn write_text(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let style = &view.style;
    write_headline(w, view, r)?;
    if view.detail == Detail::Quiet {
        if !r.machines.is_empty() {
            writeln!(w)?;
            writeln!(w, "{}", summary_table(style, r))?;
        }
        return Ok(());
    }
    write_machines(w, view, r)?;
    if !r.findings.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", style.heading("Findings"))?;
        for f in &r.findings {
            write_finding(w, view, f)?;
        }
    }
    write_hosts(w, style, r)?;
    write_inputs(w, style, r, view.detail == Detail::Verbose)?;
    if !r.machines.is_empty() {
        writeln!(w)?;
        writeln!(w, "{}", style.heading("Summary"))?;
        writeln!(w, "{}", summary_table(style, r))?;
    }
    Ok(())
}

/// The first line: machines by verdict and the time judged by; then the display zone when it
/// is not UTC.
fn write_headline(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let style = &view.style;
    let count = |v: Verdict| r.machines.iter().filter(|m| m.verdict == v).count();
    let now_day = r.now.get(..10).unwrap_or(&r.now);
    let as_of = match r.now_source {
        NowSource::Flag => format!("as of {now_day} (--now)"),
        NowSource::Input => {
            format!("as of each machine's newest evidence (the newest: {now_day})")
        }
        NowSource::Clock => format!("as of {now_day} (today)"),
    };
    writeln!(
        w,
        "{}",
        style.bold(&format!(
            "kmsdiag: {} machine(s): {} failing, {} warning, {} ok, {} unknown; {as_of}",
            r.machines.len(),
            count(Verdict::Failing),
            count(Verdict::Warning),
            count(Verdict::Ok),
            count(Verdict::Unknown)
        ))
    )?;
    if view.zone != crate::zone::Zone::Utc {
        writeln!(
            w,
            "{}",
            style.dim(&format!("times in {}", view.zone.label()))
        )?;
    }
    Ok(())
}

/// A block per machine: name, verdict and facts, the reason, the KMS host it used, and (verbose)
/// its attempts.
fn write_machines(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let style = &view.style;
    let clean = |s: &str| sanitize(s, true).into_owned();
    let name_width = r
        .machines
        .iter()
        .map(|m| m.name.chars().count())
        .max()
        .unwrap_or(0)
        .min(32);
    for m in &r.machines {
        writeln!(w)?;
        let mut facts = vec![m.role.as_str().to_owned()];
        if let Some(c) = &m.channel {
            facts.push(clean(c));
        }
        facts.push(m.license_status.as_str().to_owned());
        writeln!(
            w,
            "{}  {}  {}",
            style.bold(&format!("{:<name_width$}", clean(&m.name))),
            verdict_style(style, m.verdict),
            facts.join(" · ")
        )?;
        writeln!(w, "{}", style.wrap(&clean(&m.reason), "  ", "  "))?;
        if let Some(h) = &m.kms_host {
            writeln!(
                w,
                "  {}",
                style.dim(&format!("KMS host used: {}", clean(h)))
            )?;
        }
        if view.detail == Detail::Verbose {
            write_attempts(w, view, m)?;
        }
    }
    Ok(())
}

/// One finding: severity, id, title and machines, its codes, the explanation, the evidence and
/// the numbered next steps.
fn write_finding(w: &mut dyn Write, view: &View, f: &Finding) -> io::Result<()> {
    let style = &view.style;
    let clean = |s: &str| sanitize(s, true).into_owned();
    writeln!(w)?;
    let sev = severity_word(f.severity);
    let who = if f.machines.is_empty() {
        String::new()
    } else {
        format!("  [{}]", clean(&f.machines.join(", ")))
    };
    writeln!(
        w,
        "  {}  {}  {}{who}",
        style.severity(f.severity, &sev),
        style.bold(&clean(&f.id)),
        clean(&f.title)
    )?;
    if !f.codes.is_empty() {
        let codes: Vec<String> = f.codes.iter().map(ToString::to_string).collect();
        writeln!(w, "    Codes: {}", codes.join(", "))?;
    }
    writeln!(w, "{}", style.wrap(&clean(&f.explanation), "    ", "    "))?;
    if !f.evidence.is_empty() {
        writeln!(w, "    {}", style.dim("Evidence:"))?;
        for e in &f.evidence {
            write_evidence(w, view, e)?;
        }
    }
    writeln!(w, "    {}", style.dim("Next steps:"))?;
    for (i, s) in f.next_steps.iter().enumerate() {
        writeln!(
            w,
            "{}",
            style.wrap(&clean(s), &format!("      {}. ", i + 1), "         ")
        )?;
    }
    Ok(())
}

/// One piece of evidence: where (path, line, record, time) and the excerpt.
fn write_evidence(w: &mut dyn Write, view: &View, e: &Evidence) -> io::Result<()> {
    let clean = |s: &str| sanitize(s, true).into_owned();
    let mut at = match e.line {
        Some(l) => format!("{}:{l}", clean(&e.path)),
        None => clean(&e.path),
    };
    if let Some(id) = e.record_id {
        let _ = write!(at, " #{id}");
    }
    if let Some(t) = &e.time {
        let _ = write!(at, " {}", clean(&view.zone.show(t)));
    }
    writeln!(
        w,
        "{}",
        view.style.wrap(
            &format!("{at}  {}", clean(&e.excerpt)),
            "      ",
            "        "
        )
    )
}

/// The KMS hosts: health, count and thresholds, and what their logs say.
fn write_hosts(w: &mut dyn Write, style: &Style, r: &Report) -> io::Result<()> {
    if r.hosts.is_empty() {
        return Ok(());
    }
    let clean = |s: &str| sanitize(s, true).into_owned();
    writeln!(w)?;
    writeln!(w, "{}", style.heading("KMS hosts"))?;
    for h in &r.hosts {
        let count = h
            .current_count
            .map_or_else(|| "count unknown".to_owned(), |c| format!("count {c}"));
        writeln!(
            w,
            "  {}  {}  {count} (activates servers at {}, clients at {})",
            style.bold(&clean(&h.name)),
            h.health.as_str().to_ascii_uppercase(),
            h.server_threshold,
            h.client_threshold
        )?;
        if !h.summary.is_empty() {
            writeln!(w, "{}", style.wrap(&clean(&h.summary), "    ", "    "))?;
        }
    }
    Ok(())
}

/// What was read: each input's format, status, encoding, languages and lines not understood,
/// with its error and warnings.
fn write_inputs(w: &mut dyn Write, style: &Style, r: &Report, verbose: bool) -> io::Result<()> {
    let clean = |s: &str| sanitize(s, true).into_owned();
    writeln!(w)?;
    writeln!(w, "{}", style.heading("Inputs"))?;
    for i in &r.inputs {
        let mut facts = vec![i.format.as_str().to_owned(), i.status.as_str().to_owned()];
        if let Some(e) = &i.encoding {
            facts.push(e.clone());
        }
        if !i.languages.is_empty() {
            facts.push(i.languages.join("+"));
        }
        let unknown = i
            .not_understood
            .iter()
            .filter(|n| n.taken_as.is_none())
            .count();
        let recovered = i.not_understood.len() - unknown;
        if recovered > 0 {
            facts.push(format!("{recovered} line(s) read by value shape"));
        }
        if unknown > 0 {
            facts.push(format!("{unknown} line(s) not understood"));
        }
        writeln!(w, "  {}  {}", clean(&i.path), style.dim(&facts.join(" · ")))?;
        if let Some(e) = &i.error {
            writeln!(w, "{}", style.wrap(&clean(e), "    ", "    "))?;
        }
        for warning in &i.warnings {
            writeln!(
                w,
                "{}",
                style.wrap(&format!("warning: {}", clean(warning)), "    ", "    ")
            )?;
        }
        if verbose && !i.evtx_chunks_declined.is_empty() {
            let reasons: Vec<String> = i
                .evtx_chunks_declined
                .iter()
                .map(|(why, n)| format!("{n} × {why}"))
                .collect();
            let line = format!(
                "chunks read by the evtx crate, not the fast reader: {}",
                reasons.join(", ")
            );
            writeln!(w, "{}", style.wrap(&clean(&line), "    ", "    "))?;
        }
    }
    Ok(())
}
