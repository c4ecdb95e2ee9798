//! The text renderer of an analysis report, for a terminal or a ticket: a verdict line per
//! machine, then the findings with their evidence and next steps, KMS hosts, what was read, and a
//! closing summary table. One function per section; the other formats sit beside it.

use std::fmt::Write as _;
use std::io::{self, Write};

use tabled::builder::Builder;
use tabled::settings::{Style as TableStyle, Width, peaker::Priority};

use super::{Detail, Style, View, sanitize};
use crate::model::{Evidence, Finding, InputStatus, Machine, NowSource, Report, Verdict};
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

/// Writes the whole report: the headline and what needs doing, then (unless quiet) a block per
/// failing and warning machine and one line per other machine, the findings, the KMS hosts and
/// the inputs; quiet closes with the summary table instead.
pub(crate) fn write_text(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let style = &view.style;
    write_headline(w, view, r)?;
    write_triage(w, style, r)?;
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
    Ok(())
}

/// The first line: machines by verdict (over the whole report, filtered or not) and the time
/// judged by; then the filter when one is on, and the display zone when it is not UTC.
fn write_headline(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let style = &view.style;
    let t = &r.triage;
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
            t.machines, t.failing, t.warning, t.ok, t.unknown
        ))
    )?;
    if let Some(f) = &t.filter {
        writeln!(
            w,
            "{}",
            style.dim(&format!(
                "filter on ({}): showing {} of {} machine(s), {} of {} finding(s)",
                f.describe(),
                f.machines_shown,
                t.machines,
                f.findings_shown,
                f.findings_total
            ))
        )?;
    }
    if view.zone != crate::zone::Zone::Utc {
        writeln!(
            w,
            "{}",
            style.dim(&format!("times in {}", view.zone.label()))
        )?;
    }
    Ok(())
}

/// Inputs listed one by one without `--verbose`; beyond this only those not plainly read.
const INPUTS_LISTED: usize = 20;

/// Names shown in one line of the summary before "and N more".
const NAMES_SHOWN: usize = 12;

/// What needs doing: the causes of errors, then of warnings, each with how many machines, the
/// KMS host and code where it has them, and the machines.
fn write_triage(w: &mut dyn Write, style: &Style, r: &Report) -> io::Result<()> {
    let t = &r.triage;
    if t.causes.is_empty() {
        return Ok(());
    }
    let clean = |s: &str| sanitize(s, true).into_owned();
    writeln!(w)?;
    writeln!(w, "{}", style.heading("What needs doing"))?;
    let mut level = None;
    for c in &t.causes {
        if level != Some(c.severity) {
            level = Some(c.severity);
            let mut names: Vec<&str> = t
                .causes
                .iter()
                .filter(|x| x.severity == c.severity)
                .flat_map(|x| x.machines.iter().map(String::as_str))
                .collect();
            names.sort_unstable();
            names.dedup();
            let word = match c.severity {
                Severity::Error => "Errors",
                Severity::Warning => "Warnings",
                Severity::Informational => "For information",
            };
            let head = format!("{word} ({} machine(s))", names.len());
            writeln!(w, "  {}", style.severity(c.severity, &head))?;
        }
        let n = if c.machines.is_empty() {
            format!("{} input(s)", c.inputs.len())
        } else {
            format!("{}", c.machines.len())
        };
        let titles: Vec<String> = c.titles.iter().map(|x| clean(x)).collect();
        writeln!(
            w,
            "{}",
            style.wrap(&titles.join("; "), &format!("    {n:>3}  "), "         ")
        )?;
        let mut about = Vec::new();
        if let Some(h) = &c.kms_host {
            about.push(format!("KMS host {}", clean(h)));
        }
        if !c.codes.is_empty() {
            let codes: Vec<String> = c.codes.iter().map(ToString::to_string).collect();
            let meaning = c
                .meaning
                .as_deref()
                .map(|m| format!(": {}", clean(m)))
                .unwrap_or_default();
            about.push(format!("{}{meaning}", codes.join(", ")));
        }
        if !about.is_empty() {
            writeln!(
                w,
                "{}",
                style.wrap(&style.dim(&about.join(" · ")), "         ", "         ")
            )?;
        }
        let names = if c.machines.is_empty() {
            &c.inputs
        } else {
            &c.machines
        };
        writeln!(
            w,
            "{}",
            style.wrap(&name_list(names), "         ", "         ")
        )?;
    }
    Ok(())
}

/// Names joined, the first [`NAMES_SHOWN`] of them and how many more.
pub(crate) fn name_list(names: &[String]) -> String {
    let mut shown: Vec<String> = names
        .iter()
        .take(NAMES_SHOWN)
        .map(|n| sanitize(n, true).into_owned())
        .collect();
    if names.len() > NAMES_SHOWN {
        shown.push(format!("and {} more", names.len() - NAMES_SHOWN));
    }
    shown.join(", ")
}

/// The machines, problems first: a block per failing and warning machine (name, verdict and
/// facts, the reason, the KMS host it used, and, verbose, its attempts), then one line per other
/// machine (every machine gets a block when verbose).
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
    let facts = |m: &Machine| {
        let mut facts = vec![m.role.as_str().to_owned()];
        if let Some(c) = &m.channel {
            facts.push(clean(c));
        }
        facts.push(m.license_status.as_str().to_owned());
        facts.join(" · ")
    };
    let verbose = view.detail == Detail::Verbose;
    let mut heading = None;
    for m in &r.machines {
        let block = verbose || m.verdict != Verdict::Ok;
        if heading != Some(m.verdict) {
            heading = Some(m.verdict);
            let count = r.machines.iter().filter(|x| x.verdict == m.verdict).count();
            let title = match m.verdict {
                Verdict::Failing => "Failing",
                Verdict::Warning => "Warning",
                Verdict::Unknown => "Unknown",
                Verdict::Ok => "OK",
            };
            writeln!(w)?;
            writeln!(w, "{}", style.heading(&format!("{title} ({count})")))?;
        }
        if !block {
            let ends = ends(m).map(|d| format!(" · until {d}")).unwrap_or_default();
            writeln!(
                w,
                "  {}  {}{ends}",
                style.bold(&format!("{:<name_width$}", clean(&m.name))),
                facts(m)
            )?;
            continue;
        }
        writeln!(w)?;
        writeln!(
            w,
            "{}  {}  {}",
            style.bold(&format!("{:<name_width$}", clean(&m.name))),
            verdict_style(style, m.verdict),
            facts(m)
        )?;
        writeln!(w, "{}", style.wrap(&clean(&m.reason), "  ", "  "))?;
        if let Some(h) = &m.kms_host {
            writeln!(
                w,
                "  {}",
                style.dim(&format!("KMS host used: {}", clean(h)))
            )?;
        }
        if verbose {
            write_attempts(w, view, m)?;
        }
    }
    Ok(())
}

/// The day the machine's licence in use next ends (activation, grace or evaluation), if known.
fn ends(m: &Machine) -> Option<String> {
    let p = m.products.iter().find(|p| p.in_use)?;
    let end = p
        .activation_ends
        .as_deref()
        .or(p.grace_ends.as_deref())
        .or(p.evaluation_ends.as_deref())?;
    Some(sanitize(end.get(..10).unwrap_or(end), true).into_owned())
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
    // A fleet's inputs are many: then only those not plainly read are listed, the rest counted.
    let each = verbose || r.inputs.len() <= INPUTS_LISTED;
    let plain = |i: &&crate::model::InputSummary| {
        !each && i.status == InputStatus::Read && i.warnings.is_empty() && i.error.is_none()
    };
    let mut tally: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for i in r.inputs.iter().filter(plain) {
        *tally.entry(i.format.as_str()).or_default() += 1;
    }
    if !tally.is_empty() {
        let parts: Vec<String> = tally.iter().map(|(f, n)| format!("{n} {f}")).collect();
        writeln!(
            w,
            "  {}",
            style.dim(&format!(
                "{} input(s) read: {} (--verbose lists each)",
                tally.values().sum::<usize>(),
                parts.join(", ")
            ))
        )?;
    }
    for i in r.inputs.iter().filter(|i| !plain(i)) {
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
