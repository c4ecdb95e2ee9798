//! What `collect.toml` holds: for each place a fleet keeps activation evidence (a machine's own
//! logs, a WEF collector, a SIEM, the licensing inventory), the query or script that exports only
//! what kmsdiag reads, as a template; and how a template's placeholders are filled from the event
//! catalogue and the ids `analyze` keeps. It knows query text, not how the output is read.

use serde::Deserialize;

/// One source of evidence and its export query.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct CollectSource {
    pub(crate) id: String,
    pub(crate) title: String,
    /// Where and how to run it.
    pub(crate) run_on: String,
    /// What kmsdiag makes of its output.
    pub(crate) reads: String,
    pub(crate) template: String,
    pub(crate) sources: Vec<String>,
}

/// The placeholders a template may use.
pub(crate) const PLACEHOLDERS: &[&str] = &[
    "IDS",
    "XPATH_IDS",
    "XPATH_PROVIDERS",
    "PS_PROVIDERS",
    "QUOTED_PROVIDERS",
    "OR_IDS",
    "OR_PROVIDERS",
    "DAYS",
    "MS",
    "KMS_LOG",
];

/// The name of the KMS host's own event log.
const KMS_LOG: &str = "Key Management Service";

/// What fills the placeholders: the event ids to export, the providers by their names, and the
/// names with their aliases (engines that match the source name as exports spell it).
pub(crate) struct Fill<'a> {
    pub(crate) ids: &'a [u32],
    pub(crate) providers: &'a [&'a str],
    pub(crate) names_and_aliases: &'a [&'a str],
    pub(crate) days: u32,
}

/// `{{NAME}}` placeholders in a template that [`PLACEHOLDERS`] does not list.
pub(crate) fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let after = rest.get(start + 2..).unwrap_or("");
        let Some(end) = after.find("}}") else {
            out.push(after.chars().take(20).collect());
            break;
        };
        let name = after.get(..end).unwrap_or("");
        if !PLACEHOLDERS.contains(&name) {
            out.push(name.to_owned());
        }
        rest = after.get(end + 2..).unwrap_or("");
    }
    out
}

/// The template with its placeholders filled.
pub(crate) fn render(template: &str, fill: &Fill<'_>) -> String {
    let mut ids = fill.ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    let join = |items: Vec<String>, sep: &str| items.join(sep);
    let quoted = |names: &[&str], q: char| names.iter().map(|n| format!("{q}{n}{q}")).collect();
    let values = [
        ("IDS", join(ids.iter().map(u32::to_string).collect(), ",")),
        (
            "XPATH_IDS",
            join(ids.iter().map(|i| format!("EventID={i}")).collect(), " or "),
        ),
        (
            "XPATH_PROVIDERS",
            join(
                fill.providers
                    .iter()
                    .map(|p| format!("@Name='{p}'"))
                    .collect(),
                " or ",
            ),
        ),
        ("PS_PROVIDERS", join(quoted(fill.providers, '\''), ",")),
        (
            "QUOTED_PROVIDERS",
            join(quoted(fill.names_and_aliases, '"'), ","),
        ),
        (
            "OR_IDS",
            join(ids.iter().map(u32::to_string).collect(), " or "),
        ),
        (
            "OR_PROVIDERS",
            join(quoted(fill.names_and_aliases, '"'), " or "),
        ),
        ("DAYS", fill.days.to_string()),
        ("MS", (u64::from(fill.days) * 86_400_000).to_string()),
        ("KMS_LOG", KMS_LOG.to_owned()),
    ];
    let mut out = template.trim_start_matches('\n').to_owned();
    for (name, value) in values {
        out = out.replace(&format!("{{{{{name}}}}}"), &value);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fill() -> Fill<'static> {
        Fill {
            ids: &[12289, 8198, 12288],
            providers: &[
                "Microsoft-Windows-Security-SPP",
                "Microsoft-Windows-Security-Licensing-SLC",
            ],
            names_and_aliases: &["Microsoft-Windows-Security-SPP", "Security-SPP"],
            days: 2,
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        let all: String = PLACEHOLDERS.iter().flat_map(|p| ["{{", p, "}}|"]).collect();
        let out = render(&all, &fill());
        assert!(!out.contains("{{"), "{out}");
        assert_eq!(
            out,
            "8198,12288,12289|EventID=8198 or EventID=12288 or EventID=12289|\
             @Name='Microsoft-Windows-Security-SPP' or @Name='Microsoft-Windows-Security-Licensing-SLC'|\
             'Microsoft-Windows-Security-SPP','Microsoft-Windows-Security-Licensing-SLC'|\
             \"Microsoft-Windows-Security-SPP\",\"Security-SPP\"|8198 or 12288 or 12289|\
             \"Microsoft-Windows-Security-SPP\" or \"Security-SPP\"|2|172800000|Key Management Service|"
        );
    }

    #[test]
    fn unknown_and_unclosed_placeholders_are_found() {
        assert_eq!(unknown_placeholders("a {{IDS}} b {{NOPE}} c"), vec!["NOPE"]);
        assert_eq!(unknown_placeholders("x {{IDS"), vec!["IDS"]);
        assert!(unknown_placeholders("@{ LogName = 'x' } { $_ }").is_empty());
    }
}
