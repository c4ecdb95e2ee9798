//! The slmgr commands a transcript shows (`/ato`, `/ipk`, `/skms`…): a failure not followed by a
//! success raises the finding its result code names.

use crate::model::ids::PKEY_NOT_INSTALLED;
use crate::model::snapshot::{CommandResult, CommandTool, LicenseSnapshot};
use crate::model::{Evidence, Verdict};
use crate::rules::Severity;

use super::super::registry::FindingId;
use super::MachineDiag;

impl MachineDiag<'_> {
    pub(super) fn commands(&mut self, snap: &LicenseSnapshot) {
        let path = snap.path.as_str();
        for (i, c) in snap.commands.iter().enumerate() {
            if c.succeeded {
                continue;
            }
            // A failure followed by a success of the same command is history, not a problem.
            // ospp.vbs /act activates each Office product on its own: only a later success of
            // the same product makes a failure history.
            let same = |l: &CommandResult| {
                l.tool == c.tool
                    && l.command == c.command
                    && (c.tool == CommandTool::Slmgr || l.product == c.product)
            };
            let later_ok = snap
                .commands
                .iter()
                .skip(i + 1)
                .any(|l| l.succeeded && same(l));
            if later_ok {
                self.reasons.push(format!(
                    "An earlier {}/{} failed ({}) and a later one succeeded.",
                    if c.tool == CommandTool::Ospp {
                        "ospp.vbs "
                    } else {
                        ""
                    },
                    c.command,
                    c.code
                        .map_or_else(|| "no code".to_owned(), |x| x.to_string())
                ));
                continue;
            }
            // Another Office licence that activated in the same run: this one's failure is a
            // leftover licence's, worth a look but no alarm.
            let other_ok = c.tool == CommandTool::Ospp
                && snap
                    .commands
                    .iter()
                    .any(|l| l.succeeded && l.tool == c.tool && l.command == c.command);
            self.command_failure(path, c, other_ok.then_some(Severity::Warning));
        }
    }

    /// Raises the finding of a failed command; `cap` limits its severity.
    pub(super) fn command_failure(&mut self, path: &str, c: &CommandResult, cap: Option<Severity>) {
        let code = c.code.or_else(|| {
            c.text
                .to_ascii_lowercase()
                .contains("product key not found")
                .then_some(PKEY_NOT_INSTALLED)
        });
        let ev = vec![Evidence {
            path: path.to_owned(),
            line: Some(c.line),
            record_id: None,
            time: None,
            excerpt: crate::report::sanitize(&c.text, true).into_owned(),
        }];
        let script = c.tool.script();
        let what = match c.product.as_deref() {
            Some(p) => format!(
                "`{script} /{}` for {}",
                c.command,
                crate::report::sanitize(p, true)
            ),
            None => format!("`{script} /{}`", c.command),
        };
        let Some(code) = code else {
            self.raise(
                FindingId::ActivationError,
                None,
                Vec::new(),
                format!(
                    "{}: {what} failed: {}",
                    self.input.name,
                    crate::report::sanitize(&c.text, true)
                ),
                ev,
            );
            self.worse(Verdict::Failing, format!("{what} failed."));
            return;
        };
        let (id, sev) = self
            .findings
            .code_finding(code)
            .map_or((FindingId::ActivationError, Severity::Error), |f| {
                (f.id, f.severity)
            });
        let sev = cap.map_or(sev, |cap| sev.min(cap));
        let words = self.findings.code_words(code);
        self.raise(
            id,
            Some(sev.max(Severity::Warning)),
            vec![code],
            format!("{}: {what} failed with {words}.", self.input.name),
            ev,
        );
        let v = if sev == Severity::Error {
            Verdict::Failing
        } else {
            Verdict::Warning
        };
        self.worse(v, format!("{what} failed with {code}."));
    }
}
