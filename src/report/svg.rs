//! Inline SVG charts for the HTML report: a KMS host's count per day against its activation
//! thresholds, and a client's activation attempts over time. Plain SVG text, no scripts; every
//! label is escaped with [`esc`].

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::escape::esc;
use crate::model::{AttemptOutcome, AttemptRecord, CountPoint, HostSeen};
use crate::zone::Zone;

const W: f64 = 720.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 12.0;

/// The host count per day as a line, with dashed lines at the client and server thresholds.
/// Days whose count may be low because the log holds less than 30 days before them are drawn
/// lighter.
#[allow(clippy::many_single_char_names)] // x, y: the chart's coordinates
pub(crate) fn count_timeline(
    points: &[CountPoint],
    client: u32,
    server: u32,
    host: &str,
) -> String {
    let height = 200.0;
    let (top, bottom) = (14.0, 28.0);
    let max_count = points.iter().map(|p| p.count).max().unwrap_or(0);
    let y_max = f64::from(
        u32::try_from(max_count)
            .unwrap_or(u32::MAX)
            .max(client)
            .max(50),
    );
    let plot_h = height - top - bottom;
    let plot_w = W - LEFT - RIGHT;
    let steps = points.len().max(2) - 1;
    #[allow(clippy::cast_precision_loss)] // days and counts are small
    let x = |i: usize| LEFT + plot_w * (i as f64) / (steps as f64);
    let y = |c: f64| top + plot_h * (1.0 - c / y_max);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart count" viewBox="0 0 {W} {height}" width="100%" role="img" aria-label="KMS host count per day for {}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(host)
    );
    let _ = write!(s, "<title>Count per day, {}</title>", esc(host));
    // Axes and gridlines.
    for c in [0.0, f64::from(client), y_max] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="end">{c}</text>"#,
            LEFT - 6.0,
            y(c) + 4.0
        );
    }
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="{:.1}" x2="{:.1}" y2="{:.1}" class="frame"/>"#,
        y(0.0),
        W - RIGHT,
        y(0.0)
    );
    for (t, label) in [(client, "client editions"), (server, "servers")] {
        let ty = y(f64::from(t));
        let _ = write!(
            s,
            r#"<line x1="{LEFT}" y1="{ty:.1}" x2="{:.1}" y2="{ty:.1}" class="threshold"/><text x="{:.1}" y="{:.1}" class="threshold-label" text-anchor="start">{t}: {label} activate</text>"#,
            W - RIGHT,
            LEFT + 4.0,
            ty + 12.0
        );
    }
    // The count line, split where completeness changes.
    let mut i = 0;
    while i < points.len() {
        let partial = points.get(i).is_some_and(|p| p.partial);
        let mut j = i;
        while points.get(j + 1).is_some_and(|p| p.partial == partial) {
            j += 1;
        }
        // Join to the next run so the line has no gap.
        let end = (j + 1).min(points.len() - 1);
        let mut path = String::new();
        #[allow(clippy::cast_precision_loss)]
        for (k, p) in points.iter().enumerate().take(end + 1).skip(i) {
            let _ = write!(path, "{:.1},{:.1} ", x(k), y(p.count as f64));
        }
        let class = if partial { "count partial" } else { "count" };
        let _ = write!(
            s,
            r#"<polyline points="{}" class="{class}"/>"#,
            path.trim_end()
        );
        i = j + 1;
    }
    #[allow(clippy::cast_precision_loss)]
    for (k, p) in points.iter().enumerate() {
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="{:.1}" r="2.5" class="pt{}"><title>{}: count {}{}</title></circle>"#,
            x(k),
            y(p.count as f64),
            if p.partial { " partial" } else { "" },
            esc(&p.day),
            p.count,
            if p.partial {
                " or more (log holds less than 30 days)"
            } else {
                ""
            }
        );
    }
    // Date labels: first, middle, last.
    let mut labelled = vec![0, points.len() / 2, points.len().saturating_sub(1)];
    labelled.dedup();
    for k in labelled {
        if let Some(p) = points.get(k) {
            let anchor = if k == 0 {
                "start"
            } else if k + 1 == points.len() {
                "end"
            } else {
                "middle"
            };
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" class="axis" text-anchor="{anchor}">{}</text>"#,
                x(k),
                height - 8.0,
                esc(&p.day)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// The time span covered by a set of attempts (for a shared axis).
pub(crate) fn span(attempts: &[&AttemptRecord]) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let times = attempts
        .iter()
        .filter_map(|a| a.time.as_deref())
        .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc));
    let mut lo: Option<DateTime<Utc>> = None;
    let mut hi: Option<DateTime<Utc>> = None;
    for t in times {
        lo = Some(lo.map_or(t, |l| l.min(t)));
        hi = Some(hi.map_or(t, |h| h.max(t)));
    }
    lo.zip(hi)
}

/// One client's attempts as marks on a time axis from `from` to `to`: filled green when it
/// activated, red when refused or failed on the client (8198, 8233), grey when no answer came;
/// hollow when the host's log covers the time and has no record of the request.
pub(crate) fn attempts_strip(
    attempts: &[AttemptRecord],
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    zone: Zone,
    machine: &str,
) -> String {
    let height = 46.0;
    let plot_w = W - LEFT - RIGHT;
    let total = (to - from).num_seconds().max(1);
    #[allow(clippy::cast_precision_loss)]
    let x = |t: DateTime<Utc>| LEFT + plot_w * ((t - from).num_seconds() as f64) / (total as f64);
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="chart attempts" viewBox="0 0 {W} {height}" width="100%" role="img" aria-label="Activation attempts of {}" xmlns="http://www.w3.org/2000/svg">"#,
        esc(machine)
    );
    let _ = write!(
        s,
        r#"<line x1="{LEFT}" y1="16" x2="{:.1}" y2="16" class="frame"/>"#,
        W - RIGHT
    );
    for a in attempts {
        let Some(t) = a
            .time
            .as_deref()
            .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        else {
            continue;
        };
        let t = t.with_timezone(&Utc);
        let class = match (a.outcome, a.host_seen) {
            (AttemptOutcome::Activated, _) => "ok",
            (_, HostSeen::NotReceived) => "lost",
            (AttemptOutcome::Rejected | AttemptOutcome::Failed, _) => "bad",
            (AttemptOutcome::NoResponse, _) => "none",
        };
        let code = a.code.map(|c| format!(" {c}")).unwrap_or_default();
        let _ = write!(
            s,
            r#"<circle cx="{:.1}" cy="16" r="4" class="{class}"><title>{} {}{code}; host log: {}</title></circle>"#,
            x(t),
            esc(&zone.rfc3339(t)),
            a.outcome,
            a.host_seen
        );
    }
    for (t, anchor) in [(from, "start"), (to, "end")] {
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="40" class="axis" text-anchor="{anchor}">{}</text>"#,
            x(t),
            esc(&zone.format(t, "%Y-%m-%d %H:%M"))
        );
    }
    s.push_str("</svg>");
    s
}
