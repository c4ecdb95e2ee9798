//! Rendering parsed slmgr snapshots (`kmsdiag slmgr`): every value read, where it came from, and
//! every line that was not understood; or the snapshots as JSON.

use std::io::{self, Write};

use super::{Style, json, sanitize};
use crate::model::snapshot::{LicenseSnapshot, ProductLicense};

fn opt<T: std::fmt::Display>(v: Option<T>) -> Option<String> {
    v.map(|x| sanitize(&x.to_string(), true).into_owned())
}

/// Writes the snapshots as one pretty-printed JSON array.
pub(crate) fn write_json(w: &mut dyn Write, snaps: &[LicenseSnapshot]) -> io::Result<()> {
    json::write_pretty(w, snaps)?;
    writeln!(w)
}

/// Writes the snapshots as text.
pub(crate) fn write_text(
    w: &mut dyn Write,
    style: &Style,
    snaps: &[LicenseSnapshot],
) -> io::Result<()> {
    for (i, s) in snaps.iter().enumerate() {
        if i > 0 {
            writeln!(w)?;
        }
        let machine = s.machine.as_deref().map_or_else(
            || "machine not named in the text".to_owned(),
            |m| format!("machine {m}"),
        );
        writeln!(
            w,
            "{}",
            style.bold(&format!("{}  ({machine})", sanitize(&s.path, true)))
        )?;
        let langs = if s.languages.is_empty() {
            "no known labels".to_owned()
        } else {
            s.languages.join("+")
        };
        writeln!(
            w,
            "  {}",
            style.dim(&format!(
                "{} · {langs} · {} line(s)",
                s.encoding, s.lines_read
            ))
        )?;
        if let Some(v) = &s.service_version {
            writeln!(
                w,
                "  Software licensing service version: {}",
                sanitize(v, true)
            )?;
        }
        for p in &s.products {
            write_product(w, style, p)?;
        }
        for c in &s.commands {
            let outcome = if c.succeeded {
                style.ok("succeeded")
            } else {
                style.severity(crate::rules::Severity::Error, "failed")
            };
            let code = c.code.map_or_else(String::new, |c| format!(" {c}"));
            writeln!(
                w,
                "  /{} {outcome}{code}  (line {})",
                sanitize(&c.command, true),
                c.line
            )?;
            writeln!(
                w,
                "{}",
                style.wrap(&sanitize(&c.text, true), "    ", "    ")
            )?;
        }
        for e in &s.expiry {
            let date = e
                .date
                .as_ref()
                .and_then(|d| d.parsed)
                .map_or_else(String::new, |d| format!(" {}", d.format("%Y-%m-%d %H:%M")));
            writeln!(w, "  /xpr {}{date}  (line {})", e.kind, e.line.line)?;
        }
        if !s.not_understood.is_empty() {
            writeln!(w, "  {}", style.heading("Lines not understood"))?;
            for n in &s.not_understood {
                let taken = n.taken_as.map_or_else(
                    || "not used".to_owned(),
                    |id| {
                        format!(
                            "read as {}",
                            serde_json::to_value(id)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default()
                        )
                    },
                );
                writeln!(
                    w,
                    "    {:>5}: {}  {}",
                    n.line.line,
                    sanitize(&n.line.text, true),
                    style.dim(&format!("({taken})"))
                )?;
            }
        }
        for warning in &s.warnings {
            writeln!(w, "  warning: {}", sanitize(warning, true))?;
        }
    }
    Ok(())
}

fn write_product(w: &mut dyn Write, style: &Style, p: &ProductLicense) -> io::Result<()> {
    writeln!(w)?;
    let name = p.name.as_deref().map_or_else(
        || "(product without a name line)".to_owned(),
        |n| sanitize(n, true).into_owned(),
    );
    writeln!(
        w,
        "  {}  {}",
        style.bold(&name),
        style.dim(&format!("line {}", p.line))
    )?;
    let status = p.license_status.map(|s| s.as_str().to_owned()).or_else(|| {
        p.license_status_text
            .as_ref()
            .map(|t| format!("not understood: {}", sanitize(t, true)))
    });
    let remaining = p
        .remaining
        .as_ref()
        .map(|r| format!("{} minutes ({:?})", r.minutes, r.kind));
    let client = p.kms_client.as_ref();
    let host = p.kms_host.as_ref();
    let rows: Vec<(&str, Option<String>)> = vec![
        ("channel", opt(p.channel.as_ref())),
        ("product key channel", opt(p.product_key_channel.as_ref())),
        ("activation id", opt(p.activation_id.as_ref())),
        ("application id", opt(p.application_id.as_ref())),
        ("extended pid", opt(p.extended_pid.as_ref())),
        (
            "partial key",
            if p.in_use {
                opt(p.partial_product_key.as_ref())
            } else {
                Some("license not in use".to_owned())
            },
        ),
        ("license status", status),
        ("notification reason", opt(p.notification_reason)),
        ("remaining", remaining),
        ("evaluation end", p.evaluation_end.as_ref().map(date_text)),
        ("trusted time", p.trusted_time.as_ref().map(date_text)),
        ("rearm count (windows)", opt(p.rearm_windows)),
        ("rearm count (sku)", opt(p.rearm_sku)),
        ("rearm count (app)", opt(p.rearm_app)),
        ("activation type", opt(p.activation_type.as_ref())),
        ("cmid", opt(client.and_then(|c| c.cmid.as_ref()))),
        ("kms host", opt(client.and_then(|c| c.kms_host()))),
        (
            "dns discovery",
            client
                .filter(|c| c.dns_discovery_failed)
                .map(|_| "KMS name not available from DNS".to_owned()),
        ),
        ("kms host ip", opt(client.and_then(|c| c.host_ip.as_ref()))),
        (
            "intervals (activation/renewal)",
            client
                .and_then(|c| {
                    c.activation_interval_minutes
                        .zip(c.renewal_interval_minutes)
                })
                .map(|(a, r)| format!("{a}/{r} minutes")),
        ),
        (
            "kms host: current count",
            opt(host.and_then(|h| h.current_count)),
        ),
        ("kms host: port", opt(host.and_then(|h| h.listening_port))),
        (
            "kms host: dns publishing",
            opt(host.and_then(|h| h.dns_publishing)),
        ),
        (
            "kms host: requests total/failed",
            host.and_then(|h| h.requests.total.zip(h.requests.failed))
                .map(|(t, f)| format!("{t}/{f}")),
        ),
    ];
    for (label, value) in rows {
        if let Some(v) = value {
            writeln!(w, "    {label:<32} {v}")?;
        }
    }
    Ok(())
}

fn date_text(d: &crate::model::snapshot::DateValue) -> String {
    match d.parsed {
        Some(p) => {
            let note = if d.ambiguous {
                " (day/month order guessed)"
            } else {
                ""
            };
            format!("{}{note}", p.format("%Y-%m-%d %H:%M:%S"))
        }
        None => format!("{} (not a date kmsdiag can read)", sanitize(&d.text, true)),
    }
}
