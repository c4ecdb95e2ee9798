//! The HTML report's opening and its machines: what needs doing (the causes, with links to the
//! machines), a card per failing, warning and unknown machine, the other machines' cards folded
//! in a `<details>`, and the machine table every machine has a row in (sortable and filterable
//! when the page's script runs; a plain table without it).

use std::fmt::Write as _;

use super::{anchor, verdict_badge};
use crate::model::{Machine, Report, Verdict, severity_name};
use crate::report::escape::esc;
use crate::rules::Severity;

/// Names linked in one cause before "and N more".
const NAMES_LINKED: usize = 40;

/// What needs doing: counts by verdict, the filter when one is on, and the causes.
pub(super) fn write_triage(s: &mut String, r: &Report) {
    // Machines a filter left out are named, not linked.
    let shown = |n: &str| r.machines.iter().any(|m| m.name == n);
    let t = &r.triage;
    s.push_str(r#"<section id="triage"><h2>What needs doing</h2><div class="tiles">"#);
    let _ = write!(
        s,
        r#"<div class="tile">Machines<b>{}</b></div>"#,
        t.machines
    );
    for (v, label) in [
        (Verdict::Failing, "Failing"),
        (Verdict::Warning, "Warning"),
        (Verdict::Unknown, "Unknown"),
        (Verdict::Ok, "OK"),
    ] {
        let _ = write!(
            s,
            r#"<div class="tile {}">{label}<b>{}</b></div>"#,
            v.as_str(),
            t.count(v)
        );
    }
    s.push_str("</div>");
    if let Some(f) = &t.filter {
        let _ = write!(
            s,
            r#"<p class="filter">Filter on ({}): this page shows {} of {} machines and {} of {} findings; the counts above are of every machine.</p>"#,
            esc(&f.describe()),
            f.machines_shown,
            t.machines,
            f.findings_shown,
            f.findings_total
        );
    }
    if t.causes.is_empty() {
        s.push_str("<p>Nothing needs doing: no finding is an error or a warning.</p>");
    } else {
        s.push_str(r#"<ul class="causes">"#);
        for c in &t.causes {
            write_cause(s, c, &shown);
        }
        s.push_str("</ul>");
    }
    s.push_str("</section>");
}

fn write_cause(s: &mut String, c: &crate::model::Cause, shown: &dyn Fn(&str) -> bool) {
    let count = if c.machines.is_empty() {
        format!("{} input(s)", c.inputs.len())
    } else {
        format!("{} machine(s)", c.machines.len())
    };
    let titles: Vec<String> = c.titles.iter().map(|x| esc(x)).collect();
    let _ = write!(
        s,
        r#"<li class="{}"><span class="badge {}">{}</span> <b>{count}</b>: {}"#,
        severity_name(c.severity),
        severity_name(c.severity),
        if c.severity == Severity::Error {
            "ERROR"
        } else {
            "WARNING"
        },
        titles.join("; ")
    );
    let mut about = Vec::new();
    if let Some(h) = &c.kms_host {
        about.push(format!(r#"KMS host <span class="mono">{}</span>"#, esc(h)));
    }
    if !c.codes.is_empty() {
        let codes: Vec<String> = c
            .codes
            .iter()
            .map(|x| format!("<code>{x}</code>"))
            .collect();
        let meaning = c
            .meaning
            .as_deref()
            .map(|m| format!(": {}", esc(m)))
            .unwrap_or_default();
        about.push(format!("{}{meaning}", codes.join(", ")));
    }
    if !about.is_empty() {
        let _ = write!(s, r#"<div class="facts">{}</div>"#, about.join(" · "));
    }
    let mut names: Vec<String> = if c.machines.is_empty() {
        c.inputs
            .iter()
            .map(|i| format!(r#"<span class="mono">{}</span>"#, esc(i)))
            .collect()
    } else {
        c.machines
            .iter()
            .take(NAMES_LINKED)
            .map(|m| {
                if shown(m) {
                    format!(r##"<a href="#{}">{}</a>"##, anchor("m-", m), esc(m))
                } else {
                    esc(m)
                }
            })
            .collect()
    };
    if c.machines.len() > NAMES_LINKED {
        names.push(format!(
            "and {} more (filter the machine table)",
            c.machines.len() - NAMES_LINKED
        ));
    }
    let _ = write!(s, r#"<div class="names">{}</div></li>"#, names.join(", "));
}

/// A machine's card.
fn write_card(s: &mut String, m: &Machine) {
    let mut facts = vec![esc(m.role.as_str())];
    if let Some(c) = &m.channel {
        facts.push(esc(c));
    }
    facts.push(esc(m.license_status.as_str()));
    let _ = write!(
        s,
        r#"<div class="card {}" id="{}"><h3>{} {}</h3><div class="facts">{}</div><p>{}</p>"#,
        m.verdict.as_str(),
        anchor("m-", &m.name),
        esc(&m.name),
        verdict_badge(m.verdict),
        facts.join(" · "),
        esc(&m.reason)
    );
    if let Some(h) = &m.kms_host {
        let _ = write!(
            s,
            r#"<div class="facts">KMS host: <span class="mono">{}</span></div>"#,
            esc(h)
        );
    }
    if !m.findings.is_empty() {
        let links: Vec<String> = m
            .findings
            .iter()
            .map(|id| {
                format!(
                    r##"<a href="#{}"><code>{}</code></a>"##,
                    anchor("f-", id),
                    esc(id)
                )
            })
            .collect();
        let _ = write!(
            s,
            r#"<div class="facts">Findings: {}</div>"#,
            links.join(" ")
        );
    }
    s.push_str("</div>");
}

/// The machines: cards for the failing, warning and unknown ones in that order, the OK ones
/// folded away, then the table of all.
pub(super) fn write_machines(s: &mut String, r: &Report) {
    s.push_str(r#"<section id="machines"><h2>Machines</h2>"#);
    for (v, title) in [
        (Verdict::Failing, "Failing"),
        (Verdict::Warning, "Warning"),
        (Verdict::Unknown, "Unknown"),
    ] {
        let group: Vec<&Machine> = r.machines.iter().filter(|m| m.verdict == v).collect();
        if group.is_empty() {
            continue;
        }
        let _ = write!(
            s,
            r#"<h3 class="group">{title} ({})</h3><div class="cards">"#,
            group.len()
        );
        for m in group {
            write_card(s, m);
        }
        s.push_str("</div>");
    }
    let rest: Vec<&Machine> = r
        .machines
        .iter()
        .filter(|m| m.verdict == Verdict::Ok)
        .collect();
    if !rest.is_empty() {
        let _ = write!(
            s,
            r#"<details class="rest"><summary>{} machine(s) OK</summary><div class="cards">"#,
            rest.len()
        );
        for m in rest {
            write_card(s, m);
        }
        s.push_str("</div></details>");
    }
    write_table(s, r);
    s.push_str("</section>");
}

/// The sort key of a verdict: failing first.
fn verdict_key(v: Verdict) -> &'static str {
    match v {
        Verdict::Failing => "1",
        Verdict::Warning => "2",
        Verdict::Unknown => "3",
        Verdict::Ok => "4",
    }
}

/// The day the machine's licence in use next ends, if known.
fn ends(m: &Machine) -> String {
    m.products
        .iter()
        .find(|p| p.in_use)
        .and_then(|p| {
            p.activation_ends
                .as_deref()
                .or(p.grace_ends.as_deref())
                .or(p.evaluation_ends.as_deref())
        })
        .map(|e| esc(e.get(..10).unwrap_or(e)))
        .unwrap_or_default()
}

/// Every machine, one row each, in report order (problems first, names in natural order). The
/// controls stay hidden until the script shows them.
fn write_table(s: &mut String, r: &Report) {
    if r.machines.is_empty() {
        return;
    }
    let _ = write!(
        s,
        r#"<h3 class="group">All machines ({})</h3><div id="machine-controls" class="controls" hidden><label>Filter <input id="machine-filter" type="search" placeholder="name, role, finding…"></label> <label>Verdict <select id="machine-verdict"><option value="">any</option><option value="failing">failing</option><option value="warning">warning</option><option value="unknown">unknown</option><option value="ok">ok</option></select></label> <span id="machine-count" class="facts"></span></div>"#,
        r.machines.len()
    );
    s.push_str(r#"<div class="scroll"><table id="machine-table" class="machines"><thead><tr><th>Machine</th><th>Verdict</th><th>Role</th><th>Licence</th><th>Until</th><th>KMS host</th><th>Findings</th></tr></thead><tbody>"#);
    for m in &r.machines {
        let _ = write!(
            s,
            r##"<tr data-verdict="{v}"><td class="mono"><a href="#{a}">{name}</a></td><td data-key="{k}"><span class="badge {v}">{V}</span></td><td>{role}</td><td>{lic}</td><td class="mono">{until}</td><td class="mono">{host}</td><td class="mono">{findings}</td></tr>"##,
            v = m.verdict.as_str(),
            a = anchor("m-", &m.name),
            name = esc(&m.name),
            k = verdict_key(m.verdict),
            V = m.verdict.as_str().to_ascii_uppercase(),
            role = esc(m.role.as_str()),
            lic = esc(m.license_status.as_str()),
            until = ends(m),
            host = m.kms_host.as_deref().map(esc).unwrap_or_default(),
            findings = esc(&m.findings.join(" ")),
        );
    }
    s.push_str("</tbody></table></div>");
}
