//! Rendering an analysis report as Markdown for a ticket: what needs doing, then per failing,
//! warning and unknown machine its verdict, reason and the findings about it with evidence and
//! next steps, then the other machines one table row each.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write};

use super::text::severity_word;
use super::{Detail, View, sanitize};
use crate::model::{Finding, InputStatus, Machine, Report, Verdict};

/// Escapes text for Markdown so that nothing in it becomes markup, a link or HTML. Control
/// characters are made visible first. With `code`, `` `spans` `` are kept as code spans (our own
/// wording quotes commands that way; nothing inside a span is interpreted); text from logs never
/// gets that.
fn esc_with(s: &str, code: bool) -> String {
    let s = sanitize(s, true);
    let mut out = String::with_capacity(s.len() + 8);
    if code && s.matches('`').count().is_multiple_of(2) {
        for (i, part) in s.split('`').enumerate() {
            if i % 2 == 1 {
                out.push('`');
                out.push_str(part);
                out.push('`');
            } else {
                escape_into(&mut out, part);
            }
        }
    } else {
        escape_into(&mut out, &s);
    }
    out
}

fn escape_into(out: &mut String, s: &str) {
    for c in s.chars() {
        // Brackets are escaped, so parentheses can never complete a link.
        if matches!(
            c,
            '\\' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' | '`'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
}

/// Escapes log-derived text.
fn esc(s: &str) -> String {
    esc_with(s, false)
}

/// A value inside a code span: backticks cannot be escaped there, so the span is fenced with more
/// backticks than the value holds.
fn code(s: &str) -> String {
    let s = sanitize(s, true);
    let mut longest = 0;
    let mut run = 0;
    for c in s.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') || s.is_empty() {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{s}{pad}{fence}")
}

fn write_finding(w: &mut String, view: &View, f: &Finding) {
    let _ = writeln!(
        w,
        "#### {} {}: {}\n",
        severity_word(f.severity),
        code(&f.id),
        esc(&f.title)
    );
    if f.machines.len() > 1 {
        let names: Vec<String> = f.machines.iter().map(|m| esc(m)).collect();
        let _ = writeln!(w, "Machines: {}\n", names.join(", "));
    }
    if !f.codes.is_empty() {
        let codes: Vec<String> = f.codes.iter().map(|c| code(&c.to_string())).collect();
        let _ = writeln!(w, "Codes: {}\n", codes.join(", "));
    }
    let _ = writeln!(w, "{}\n", esc(&f.explanation));
    if !f.evidence.is_empty() {
        let _ = writeln!(w, "Evidence:\n");
        for e in &f.evidence {
            let mut at = e.path.clone();
            if let Some(l) = e.line {
                let _ = write!(at, ":{l}");
            }
            if let Some(id) = e.record_id {
                let _ = write!(at, " #{id}");
            }
            let time = e
                .time
                .as_deref()
                .map(|t| format!(" {}", esc(&view.zone.show(t))))
                .unwrap_or_default();
            let _ = writeln!(w, "- {}{time}: {}", code(&at), code(&e.excerpt));
        }
        let _ = writeln!(w);
    }
    if !f.next_steps.is_empty() {
        let _ = writeln!(w, "Next steps:\n");
        for (i, s) in f.next_steps.iter().enumerate() {
            let _ = writeln!(w, "{}. {}", i + 1, esc_with(s, true));
        }
        let _ = writeln!(w);
    }
}

/// A finding written in full under an earlier machine: its heading and where the rest is (a
/// clone finding names every clone; written under each of them, a fleet's report would grow with
/// the square of its clones).
fn write_finding_again(w: &mut String, f: &Finding, first: &str) {
    let _ = writeln!(
        w,
        "#### {} {}: {}

As written under {} above.
",
        severity_word(f.severity),
        code(&f.id),
        esc(&f.title),
        esc(first)
    );
}

/// Writes a machine's section; `findings` are the positions in the report of the findings that
/// concern it, `first_under` the machine each finding was first written under.
fn write_machine<'r>(
    w: &mut String,
    view: &View,
    r: &'r Report,
    m: &'r Machine,
    findings: &[usize],
    first_under: &mut [Option<&'r str>],
) {
    let _ = writeln!(
        w,
        "### {} — {}\n",
        esc(&m.name),
        m.verdict.as_str().to_ascii_uppercase()
    );
    let mut facts = vec![m.role.as_str().to_owned()];
    if let Some(c) = &m.channel {
        facts.push(esc(c));
    }
    facts.push(m.license_status.as_str().to_owned());
    if let Some(h) = &m.kms_host {
        facts.push(format!("KMS host {}", esc(h)));
    }
    if let Some(c) = &m.cmid {
        facts.push(format!("CMID {}", code(c)));
    }
    let _ = writeln!(w, "{}\n", facts.join(" · "));
    let _ = writeln!(w, "{}\n", esc(&m.reason));
    for &i in findings {
        let (Some(f), Some(first)) = (r.findings.get(i), first_under.get_mut(i)) else {
            continue;
        };
        if let Some(name) = first {
            write_finding_again(w, f, name);
        } else {
            write_finding(w, view, f);
            *first = Some(&m.name);
        }
    }
    if view.detail == Detail::Verbose && !m.attempts.is_empty() {
        let _ = writeln!(w, "Attempts ({}):\n", m.attempts.len());
        let _ = writeln!(w, "| Time | Outcome | Code | KMS host | Host log |");
        let _ = writeln!(w, "|---|---|---|---|---|");
        for a in &m.attempts {
            let _ = writeln!(
                w,
                "| {} | {} | {} | {} | {} |",
                a.time
                    .as_deref()
                    .map(|t| view.zone.short(t))
                    .unwrap_or_default(),
                a.outcome,
                a.code.map(|c| c.to_string()).unwrap_or_default(),
                a.kms_host.as_deref().map(esc).unwrap_or_default(),
                a.host_seen
            );
        }
        let _ = writeln!(w);
    }
}

/// What needs doing: the causes, machines counted, with host, codes and the machines.
fn write_triage(s: &mut String, r: &Report) {
    let t = &r.triage;
    if t.causes.is_empty() {
        return;
    }
    let _ = writeln!(s, "### What needs doing\n");
    for c in &t.causes {
        let titles: Vec<String> = c.titles.iter().map(|x| esc(x)).collect();
        let (n, names) = if c.machines.is_empty() {
            (format!("{} input(s)", c.inputs.len()), &c.inputs)
        } else {
            (format!("{} machine(s)", c.machines.len()), &c.machines)
        };
        let mut about = Vec::new();
        if let Some(h) = &c.kms_host {
            about.push(format!("KMS host {}", code(h)));
        }
        if !c.codes.is_empty() {
            let codes: Vec<String> = c.codes.iter().map(|x| code(&x.to_string())).collect();
            let meaning = c
                .meaning
                .as_deref()
                .map(|m| format!(": {}", esc(m.trim_end_matches('.'))))
                .unwrap_or_default();
            about.push(format!("{}{meaning}", codes.join(", ")));
        }
        let about = if about.is_empty() {
            String::new()
        } else {
            format!(" ({})", about.join("; "))
        };
        let _ = writeln!(
            s,
            "- **{} {n}**: {}{about}: {}",
            severity_word(c.severity),
            titles.join("; "),
            esc(&super::text::name_list(names))
        );
    }
    let _ = writeln!(s);
}

/// Writes the report as Markdown: the counts and what needs doing, a section per failing,
/// warning and unknown machine (and OK machine with findings) with its findings, a table of the
/// other machines, the findings about no machine, the KMS hosts and the inputs not fully read.
pub(crate) fn write_markdown(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let mut s = String::new();
    let t = &r.triage;
    let _ = writeln!(s, "## kmsdiag: activation report\n");
    let _ = writeln!(
        s,
        "{} machine(s): {} failing, {} warning, {} ok, {} unknown; as of {}{}.\n",
        t.machines,
        t.failing,
        t.warning,
        t.ok,
        t.unknown,
        esc(&r.now.replacen('T', " ", 1)),
        if view.zone == crate::zone::Zone::Utc {
            String::new()
        } else {
            format!("; event times in {}", esc(&view.zone.label()))
        }
    );
    if let Some(f) = &t.filter {
        let _ = writeln!(
            s,
            "Filter on ({}): showing {} of {} machine(s), {} of {} finding(s).\n",
            esc(&f.describe()),
            f.machines_shown,
            t.machines,
            f.findings_shown,
            f.findings_total
        );
    }
    write_triage(&mut s, r);
    let plain = |m: &Machine| m.verdict == Verdict::Ok && m.findings.is_empty();
    if view.detail == Detail::Quiet {
        write_table(&mut s, r.machines.iter().collect(), "Machines");
    } else {
        // Which findings concern each machine, found once (not a scan of every finding for
        // every machine).
        let mut of_machine: HashMap<&str, Vec<usize>> = HashMap::new();
        for (i, f) in r.findings.iter().enumerate() {
            for n in &f.machines {
                let list = of_machine.entry(n.as_str()).or_default();
                if list.last() != Some(&i) {
                    list.push(i);
                }
            }
        }
        let mut first_under = vec![None; r.findings.len()];
        for m in r.machines.iter().filter(|m| !plain(m)) {
            let findings = of_machine
                .get(m.name.as_str())
                .map_or(&[][..], Vec::as_slice);
            write_machine(&mut s, view, r, m, findings, &mut first_under);
        }
        write_table(
            &mut s,
            r.machines.iter().filter(|m| plain(m)).collect(),
            "Other machines",
        );
        write_rest(&mut s, view, r);
    }
    w.write_all(s.trim_end().as_bytes())?;
    writeln!(w)
}

/// Machines one row each.
fn write_table(s: &mut String, machines: Vec<&Machine>, title: &str) {
    if machines.is_empty() {
        return;
    }
    let _ = writeln!(s, "### {title} ({})\n", machines.len());
    let _ = writeln!(
        s,
        "| Machine | Verdict | Role | License | KMS host | Findings |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|");
    for m in machines {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {} |",
            esc(&m.name),
            m.verdict.as_str().to_ascii_uppercase(),
            m.role,
            m.license_status,
            m.kms_host.as_deref().map(esc).unwrap_or_default(),
            esc(&m.findings.join(", "))
        );
    }
    let _ = writeln!(s);
}

/// The findings about no machine of the report, the KMS hosts and the inputs not fully read.
fn write_rest(s: &mut String, view: &View, r: &Report) {
    let names: HashSet<&str> = r.machines.iter().map(|m| m.name.as_str()).collect();
    let others: Vec<&Finding> = r
        .findings
        .iter()
        .filter(|f| !f.machines.iter().any(|n| names.contains(n.as_str())))
        .collect();
    if !others.is_empty() {
        let _ = writeln!(s, "### Other findings\n");
        for f in others {
            write_finding(s, view, f);
        }
    }
    for h in &r.hosts {
        let count = h
            .current_count
            .map_or_else(|| "count unknown".to_owned(), |c| format!("count {c}"));
        let _ = writeln!(
            s,
            "### KMS host {} — {}\n\n{count} (servers activate at {}, clients at {}). {}\n",
            esc(&h.name),
            h.health.as_str().to_ascii_uppercase(),
            h.server_threshold,
            h.client_threshold,
            esc(&h.summary)
        );
    }
    let troubled: Vec<_> = r
        .inputs
        .iter()
        .filter(|i| i.status != InputStatus::Read || !i.warnings.is_empty())
        .collect();
    if !troubled.is_empty() {
        let _ = writeln!(s, "### Inputs not fully read\n");
        for i in troubled {
            let why = i
                .error
                .iter()
                .chain(i.warnings.iter())
                .map(|x| esc(x))
                .collect::<Vec<_>>()
                .join("; ");
            let _ = writeln!(s, "- {} ({}, {}): {why}", code(&i.path), i.format, i.status);
        }
        let _ = writeln!(s);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_links_and_html() {
        assert_eq!(esc("a|b"), "a\\|b");
        assert_eq!(esc("[x](http://e)"), "\\[x\\](http://e)");
        assert_eq!(esc("<script>"), "\\<script\\>");
        assert_eq!(esc("`rm`"), "\\`rm\\`");
        assert_eq!(esc_with("`slmgr /ato`", true), "`slmgr /ato`");
        assert_eq!(
            esc_with("Run `nslookup <kms-host>` on <pc>", true),
            "Run `nslookup <kms-host>` on \\<pc\\>"
        );
        assert_eq!(esc_with("odd ` tick", true), "odd \\` tick");
        assert_eq!(esc("x\u{1b}[2Jy"), "x\\\\u{1b}\\[2Jy");
    }

    #[test]
    fn code_spans_survive_backticks() {
        assert_eq!(code("plain"), "`plain`");
        assert_eq!(code("a`b"), "``a`b``");
        assert_eq!(code("`x"), "`` `x ``");
    }
}
