//! The opening of every report: what needs doing. The fleet's machines counted by verdict, the
//! causes behind the failing and warning ones (machines grouped by finding and, where the finding
//! has one, the KMS host they use and the result code), and, when `--only` or `--min-severity`
//! left part of the report out, what was shown. Plain data: the diagnosis fills in the counts and
//! causes over everything, the report's view stage the filter note.

use serde::Serialize;

use crate::hresult::Hresult;
use crate::model::report::{Verdict, severity_name};
use crate::rules::Severity;

/// What needs doing, over the whole report (a filter never changes these counts).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Triage {
    pub machines: u64,
    pub failing: u64,
    pub warning: u64,
    pub unknown: u64,
    pub ok: u64,
    /// Causes of errors (error findings), then of warnings (warning findings); within each, most
    /// machines first. A machine appears under each finding of its most severe level (a warning
    /// about a machine with an error is covered by the error); a finding about no machine (an
    /// input that could not be read) names its inputs.
    pub causes: Vec<Cause>,
    /// Present when a filter left part of the report out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterNote>,
}

impl Triage {
    /// How many machines have `verdict`.
    pub fn count(&self, verdict: Verdict) -> u64 {
        match verdict {
            Verdict::Failing => self.failing,
            Verdict::Warning => self.warning,
            Verdict::Unknown => self.unknown,
            Verdict::Ok => self.ok,
        }
    }
}

/// One cause: the findings that machines share, and those machines.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cause {
    #[serde(serialize_with = "cause_severity")]
    pub severity: Severity,
    /// The finding ids (more than one when the same machines have several findings of this
    /// severity, such as a KMS host that cannot be reached and the host's log proving it).
    pub findings: Vec<String>,
    /// Their titles, as `rules/findings.toml` words them.
    pub titles: Vec<String>,
    /// The KMS host (`server:port`) the machines use, for findings about the way to a host.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kms_host: Option<String>,
    pub codes: Vec<Hresult>,
    /// The code's meaning from the rule table, when the cause has exactly one code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub meaning: Option<String>,
    /// The machines, in natural order.
    pub machines: Vec<String>,
    /// For a finding about no machine: the inputs it names.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's `serialize_with` passes a reference
fn cause_severity<S: serde::Serializer>(s: &Severity, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(severity_name(*s))
}

/// What a filter showed of the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FilterNote {
    /// The verdicts shown (`--only`); empty: every verdict.
    pub only: Vec<Verdict>,
    /// The least severity of the findings shown (`--min-severity`), `info`, `warning` or `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_severity: Option<&'static str>,
    pub machines_shown: u64,
    pub findings_shown: u64,
    pub findings_total: u64,
}

impl FilterNote {
    /// The filter in words: `only failing, warning; findings at warning or above`.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if !self.only.is_empty() {
            let v: Vec<&str> = self.only.iter().map(|v| v.as_str()).collect();
            parts.push(format!("only {} machines", v.join(", ")));
        }
        if let Some(s) = self.min_severity {
            parts.push(format!("findings at {s} or above"));
        }
        parts.join("; ")
    }
}
