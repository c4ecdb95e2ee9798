//! Rendering an analysis report as one self-contained HTML page: no network, no external assets,
//! one inline script allowed by its hash ([`script`]) that only sorts and filters the machine
//! table (the page reads whole without it). What needs doing first, then the machines (failing,
//! warning, unknown as cards, the others folded, and a table of all: [`machines`]), the KMS hosts'
//! count timelines and the troubled clients' attempts as inline SVG, the findings with evidence
//! and next steps, and what was read. Every string from the input is escaped.

mod machines;
mod script;

use std::fmt::Write as _;
use std::io::{self, Write};

use super::escape::esc;
use super::text::severity_word;
use super::{View, svg};
use crate::model::{
    AttemptRecord, Finding, InputStatus, Machine, NowSource, Report, Verdict, severity_name,
};

/// An id usable as a fragment: only `[a-z0-9-]`.
pub(super) fn anchor(prefix: &str, s: &str) -> String {
    let mut a = String::from(prefix);
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            a.push(c.to_ascii_lowercase());
        } else {
            a.push('-');
        }
    }
    a
}

const CSS: &str = r"
:root{--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--unk:#6e7781;--line:#d0d7de;--bg:#f6f8fa;--fg:#1f2328}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);margin:0 auto;max-width:1100px;padding:24px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:32px 0 10px;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{font-size:15px;margin:0 0 6px}
.meta{color:var(--unk)}
.tiles{display:flex;gap:12px;flex-wrap:wrap;margin:12px 0}
.tile{border:1px solid var(--line);border-radius:6px;padding:10px 16px;min-width:120px;background:var(--bg)}
.tile b{display:block;font-size:22px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.card{border:1px solid var(--line);border-left:6px solid var(--unk);border-radius:6px;padding:10px 12px;background:#fff}
.card.failing{border-left-color:var(--bad)}.card.warning{border-left-color:var(--warn)}.card.ok{border-left-color:var(--ok)}
.badge{display:inline-block;font-size:11px;font-weight:700;padding:1px 7px;border-radius:10px;color:#fff;background:var(--unk);vertical-align:middle}
.badge.failing,.badge.error{background:var(--bad)}.badge.warning{background:var(--warn)}.badge.ok{background:var(--ok)}.badge.info{background:#0969da}
.facts{color:var(--unk);font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0}th,td{border:1px solid var(--line);padding:4px 6px;text-align:left;vertical-align:top}
th{background:var(--bg)}
code,.mono{font-family:ui-monospace,SFMono-Regular,Consolas,monospace;font-size:12px;overflow-wrap:anywhere}
.finding{border:1px solid var(--line);border-radius:6px;padding:10px 12px;margin:10px 0}
.chart{max-width:100%;height:auto;background:#fff;border:1px solid var(--line);border-radius:4px}
.chart .axis{font-size:10px;fill:#57606a}.chart .frame{stroke:#8c959f;stroke-width:1}
.chart .threshold{stroke:var(--bad);stroke-dasharray:5 4;stroke-width:1}.chart .threshold-label{font-size:10px;fill:var(--bad)}
.chart .count{fill:none;stroke:#0969da;stroke-width:2}.chart .count.partial{stroke:#8cb4e8;stroke-dasharray:3 3}
.chart .pt{fill:#0969da}.chart .pt.partial{fill:#8cb4e8}
.chart .ok{fill:var(--ok)}.chart .bad{fill:var(--bad)}.chart .none{fill:var(--unk)}.chart .lost{fill:#fff;stroke:var(--bad);stroke-width:2}
.legend span{margin-right:14px}.dot{display:inline-block;width:10px;height:10px;border-radius:5px;margin-right:4px;vertical-align:middle}
.strip{margin:6px 0 14px}
.tile.failing b{color:var(--bad)}.tile.warning b{color:var(--warn)}.tile.ok b{color:var(--ok)}
.causes{list-style:none;padding:0;margin:8px 0}.causes li{border:1px solid var(--line);border-left:6px solid var(--warn);border-radius:6px;padding:8px 12px;margin:8px 0}
.causes li.error{border-left-color:var(--bad)}.names{margin-top:4px;overflow-wrap:anywhere}
.filter{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:6px 10px}
h3.group{margin:18px 0 8px}
details.rest,details.inputs{margin:14px 0}details summary{cursor:pointer;font-weight:600}
.controls{margin:8px 0}.controls input,.controls select{font:inherit;padding:2px 6px}
.scroll{max-width:100%;overflow-x:auto}
table.machines td,table.machines th{white-space:nowrap}table.machines td:last-child{white-space:normal}
th button{font:inherit;font-weight:600;background:none;border:0;padding:0;cursor:pointer;color:inherit}
th[aria-sort=ascending] button::after{content:' \25B2'}th[aria-sort=descending] button::after{content:' \25BC'}
td{overflow-wrap:anywhere}
footer{margin-top:40px;color:var(--unk);font-size:12px}
";

pub(super) fn verdict_badge(v: Verdict) -> String {
    format!(
        r#"<span class="badge {}">{}</span>"#,
        v.as_str(),
        v.as_str().to_ascii_uppercase()
    )
}

/// The activation requests in the clients' logs and the KMS hosts they name.
fn write_overview(s: &mut String, r: &Report) {
    if r.attempts.total == 0 && r.kms_inventory.is_empty() {
        return;
    }
    s.push_str(r#"<section id="overview"><h2>Activation requests</h2>"#);
    let a = &r.attempts;
    if a.total > 0 {
        let _ = write!(
            s,
            "<p>{} activation request(s) in the clients' logs: {} activated, {} refused, {} without an answer. As the hosts' logs saw them: {} received, {} never received, {} sent to hosts whose logs were not supplied, {} outside the logs' time.</p>",
            a.total,
            a.activated,
            a.rejected,
            a.no_response,
            a.host_received,
            a.host_not_received,
            a.other_host,
            a.host_not_covered
        );
        if !a.rejected_by_code.is_empty() {
            let codes: Vec<String> = a
                .rejected_by_code
                .iter()
                .map(|(c, n)| format!("<code>{}</code> ×{n}", esc(c)))
                .collect();
            let _ = write!(s, "<p>Refusals by code: {}.</p>", codes.join(", "));
        }
    }
    if !r.kms_inventory.is_empty() {
        s.push_str("<table><tr><th>KMS host the clients name</th><th>Clients</th><th>Its log supplied</th></tr>");
        for k in &r.kms_inventory {
            let _ = write!(
                s,
                r#"<tr><td class="mono">{}</td><td>{}</td><td>{}</td></tr>"#,
                esc(&k.server),
                k.clients,
                if k.logs_supplied { "yes" } else { "no" }
            );
        }
        s.push_str("</table>");
    }
    s.push_str("</section>");
}

fn write_hosts(s: &mut String, view: &View, r: &Report) {
    if r.hosts.is_empty() {
        return;
    }
    let _ = write!(s, r#"<section id="hosts"><h2>KMS hosts</h2>"#);
    for h in &r.hosts {
        let count = h
            .current_count
            .map_or_else(|| "count unknown".to_owned(), |c| format!("count {c}"));
        let _ = write!(
            s,
            r#"<div class="finding" id="{}"><h3>{} <span class="badge {}">{}</span></h3><p>{} · servers activate at {}, client editions at {}</p><p>{}</p>"#,
            anchor("h-", &h.name),
            esc(&h.name),
            h.health.as_str(),
            esc(&h.health.as_str().to_ascii_uppercase()),
            esc(&count),
            h.server_threshold,
            h.client_threshold,
            esc(&h.summary)
        );
        if let (Some(from), Some(to)) = (&h.log_from, &h.log_to) {
            let _ = write!(
                s,
                r#"<p class="facts">Log covers {} to {}</p>"#,
                esc(&view.zone.show(from)),
                esc(&view.zone.show(to))
            );
        }
        if !h.count_timeline.is_empty() {
            s.push_str(&svg::count_timeline(
                &h.count_timeline,
                h.client_threshold,
                h.server_threshold,
                &h.name,
            ));
            s.push_str(r#"<p class="facts">Distinct machines the host counted in the 30 days up to each day (UTC days; capped at 50). Dashed: the log holds less than 30 days before that day, so the host may count more.</p>"#);
        }
        s.push_str("</div>");
    }
    s.push_str("</section>");
}

fn write_attempts(s: &mut String, view: &View, r: &Report) {
    let troubled: Vec<&Machine> = r
        .machines
        .iter()
        .filter(|m| {
            matches!(m.verdict, Verdict::Failing | Verdict::Warning) && !m.attempts.is_empty()
        })
        .collect();
    if troubled.is_empty() {
        return;
    }
    let all: Vec<&AttemptRecord> = troubled.iter().flat_map(|m| m.attempts.iter()).collect();
    let Some((from, to)) = svg::span(&all) else {
        return;
    };
    let _ = write!(
        s,
        r#"<section id="attempts"><h2>Attempts of failing clients</h2><p class="facts">Each mark is one activation: a request to a KMS host (12288) and its answer, or an activation that failed on the machine itself (8198, 8233: no request was sent), the same records the verdicts are drawn from.</p><p class="legend"><span><i class="dot" style="background:var(--ok)"></i>activated</span><span><i class="dot" style="background:var(--bad)"></i>refused or failed</span><span><i class="dot" style="background:var(--unk)"></i>no answer</span><span><i class="dot" style="border:2px solid var(--bad)"></i>never reached the host</span></p>"#
    );
    for m in troubled {
        let omitted = if m.attempts_omitted > 0 {
            format!(
                " (newest {}; {} older not shown)",
                m.attempts.len(),
                m.attempts_omitted
            )
        } else {
            format!(" ({})", m.attempts.len())
        };
        let _ = write!(
            s,
            r#"<div class="strip"><h3>{} {}<span class="facts">{}</span></h3>{}</div>"#,
            esc(&m.name),
            verdict_badge(m.verdict),
            esc(&omitted),
            svg::attempts_strip(&m.attempts, from, to, view.zone, &m.name)
        );
    }
    s.push_str("</section>");
}

fn write_finding(s: &mut String, view: &View, f: &Finding) {
    let _ = write!(
        s,
        r#"<div class="finding" id="{}"><h3><span class="badge {}">{}</span> <code>{}</code> {}</h3>"#,
        anchor("f-", &f.id),
        severity_name(f.severity),
        severity_word(f.severity),
        esc(&f.id),
        esc(&f.title)
    );
    if !f.machines.is_empty() {
        let names: Vec<String> = f
            .machines
            .iter()
            .map(|m| format!(r##"<a href="#{}">{}</a>"##, anchor("m-", m), esc(m)))
            .collect();
        let _ = write!(s, r#"<p class="facts">Machines: {}</p>"#, names.join(", "));
    }
    if !f.codes.is_empty() {
        let codes: Vec<String> = f
            .codes
            .iter()
            .map(|c| format!("<code>{c}</code>"))
            .collect();
        let _ = write!(s, r#"<p class="facts">Codes: {}</p>"#, codes.join(", "));
    }
    let _ = write!(s, "<p>{}</p>", esc(&f.explanation));
    if !f.evidence.is_empty() {
        s.push_str("<table><tr><th>Where</th><th>Time</th><th>What</th></tr>");
        for e in &f.evidence {
            let mut at = esc(&e.path);
            if let Some(l) = e.line {
                let _ = write!(at, ":{l}");
            }
            if let Some(id) = e.record_id {
                let _ = write!(at, " #{id}");
            }
            let _ = write!(
                s,
                r#"<tr><td class="mono">{at}</td><td class="mono">{}</td><td class="mono">{}</td></tr>"#,
                e.time
                    .as_deref()
                    .map(|t| esc(&view.zone.show(t)))
                    .unwrap_or_default(),
                esc(&e.excerpt)
            );
        }
        s.push_str("</table>");
    }
    if !f.next_steps.is_empty() {
        s.push_str("<p><b>Next steps</b></p><ol>");
        for n in &f.next_steps {
            let _ = write!(s, "<li>{}</li>", code_spans(n));
        }
        s.push_str("</ol>");
    }
    s.push_str("</div>");
}

fn write_inputs(s: &mut String, r: &Report) {
    let troubled = r
        .inputs
        .iter()
        .filter(|i| i.status != InputStatus::Read || !i.warnings.is_empty())
        .count();
    let _ = write!(
        s,
        r#"<section id="inputs"><h2>Inputs</h2><details class="inputs"{}><summary>{} input(s), {troubled} not plainly read</summary><div class="scroll"><table><tr><th>File</th><th>Format</th><th>Status</th><th>Records / lines</th><th>Notes</th></tr>"#,
        if troubled > 0 { " open" } else { "" },
        r.inputs.len()
    );
    for i in &r.inputs {
        let notes: Vec<String> = i
            .error
            .iter()
            .chain(i.warnings.iter())
            .map(|x| esc(x))
            .collect();
        let _ = write!(
            s,
            r#"<tr><td class="mono">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>"#,
            esc(&i.path),
            esc(i.format.as_str()),
            esc(i.status.as_str()),
            i.lines,
            notes.join("<br>")
        );
    }
    s.push_str("</table></div></details></section>");
}

/// Text of our own wording (next steps) with its `code spans` as `<code>`, everything escaped;
/// with an odd number of backticks nothing is taken as a span.
fn code_spans(text: &str) -> String {
    if !text.matches('`').count().is_multiple_of(2) {
        return esc(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, part) in text.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{}</code>", esc(part));
        } else {
            out.push_str(&esc(part));
        }
    }
    out
}

/// Writes the report as one HTML page.
pub(crate) fn write_html(w: &mut dyn Write, view: &View, r: &Report) -> io::Result<()> {
    let mut s = String::with_capacity(64 * 1024);
    s.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    let _ = write!(
        s,
        r#"<meta http-equiv="Content-Security-Policy" content="{}">"#,
        script::content_security_policy()
    );
    s.push_str(r#"<meta name="viewport" content="width=device-width, initial-scale=1">"#);
    let _ = write!(
        s,
        "<title>kmsdiag activation report, {}</title>",
        esc(&r.now)
    );
    let _ = write!(s, "<style>{CSS}</style></head><body>");
    let as_of = match r.now_source {
        NowSource::Flag => "set with --now",
        NowSource::Input => {
            "the newest time in the input; each machine as of its own newest evidence"
        }
        NowSource::Clock => "the clock",
    };
    let _ = write!(
        s,
        r#"<header><h1>kmsdiag activation report</h1><div class="meta">As of {} ({as_of}); event times in {}.</div></header>"#,
        esc(&r.now.replacen('T', " ", 1)),
        esc(&view.zone.label())
    );
    machines::write_triage(&mut s, r);
    machines::write_machines(&mut s, r);
    write_overview(&mut s, r);
    write_hosts(&mut s, view, r);
    write_attempts(&mut s, view, r);
    if !r.findings.is_empty() {
        s.push_str(r#"<section id="findings"><h2>Findings</h2>"#);
        for f in &r.findings {
            write_finding(&mut s, view, f);
        }
        s.push_str("</section>");
    }
    write_inputs(&mut s, r);
    let _ = write!(
        s,
        "<footer>kmsdiag {} · report schema {} · this page needs no network; its one script only sorts and filters the machine table.</footer>",
        env!("CARGO_PKG_VERSION"),
        r.schema
    );
    let _ = writeln!(s, "<script>{}</script></body></html>", script::SCRIPT);
    w.write_all(s.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_spans_become_code_and_stay_escaped() {
        assert_eq!(
            code_spans("Run `slmgr.vbs /ato` on <pc>"),
            "Run <code>slmgr.vbs /ato</code> on &lt;pc&gt;"
        );
        assert_eq!(code_spans("`<script>`"), "<code>&lt;script&gt;</code>");
        assert_eq!(code_spans("odd ` tick"), "odd ` tick");
    }

    #[test]
    fn anchors_are_plain() {
        assert_eq!(anchor("m-", "WS01.contoso.com"), "m-ws01-contoso-com");
        assert_eq!(anchor("m-", "\"><script>"), "m----script-");
    }
}
