//! The report's fixed words: a machine's role, a KMS host's health, what became of an input and
//! what format it was, what became of an activation attempt, and where the report's time and a
//! machine's name came from. Each is an enum whose JSON form and `as_str()` are the word
//! docs/report-schema.md lists, so modules compare variants, never strings. The license state
//! has its own file (`license`); the verdict lives with the report.
//!
//! It knows the words, not when each applies (that is the readers' and the diagnosis' part).

use std::fmt;

use serde::{Serialize, Serializer};

/// Declares an enum of report words: each variant with the word the report writes. The word is
/// its `as_str()`, its `Display` (which honours width and alignment) and its JSON form, so the
/// three cannot differ.
macro_rules! words {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident => $word:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            #[cfg(test)]
            pub(crate) const ALL: &[$name] = &[$($name::$variant,)+];

            /// The word the report writes.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    };
}

words! {
    /// How a machine is licensed, as its product channel, key or commands show it. Not
    /// `rules::Role` (which codes a result code applies to): that set has `token` and `ad`
    /// activation and lacks `evaluation`, `avma` and `unknown`.
    pub enum MachineRole {
        KmsClient => "kms-client",
        KmsHost => "kms-host",
        Mak => "mak",
        Retail => "retail",
        Oem => "oem",
        Evaluation => "evaluation",
        Avma => "avma",
        Unknown => "unknown",
    }
}

words! {
    /// A KMS host's health: its machine's verdict, with `unknown` counted as `ok`.
    pub enum Health {
        Ok => "ok",
        Warning => "warning",
        Failing => "failing",
    }
}

words! {
    /// What became of an input file.
    pub enum InputStatus {
        Read => "read",
        /// Read, with lines or records not understood.
        Partial => "partial",
        /// Found in a directory, not a format kmsdiag reads.
        Skipped => "skipped",
        Unreadable => "unreadable",
    }
}

impl InputStatus {
    /// Whether anything of the input was read (`read` or `partial`).
    pub(crate) fn was_read(self) -> bool {
        matches!(self, InputStatus::Read | InputStatus::Partial)
    }
}

words! {
    /// Decoration removed from a posted text before a reader could read it.
    pub enum Decoration {
        /// E-mail and Markdown `> ` quote marks.
        QuoteMarks => "quote-marks",
        /// Markdown code fences.
        CodeFences => "code-fences",
        /// Markdown code spans (backticks).
        CodeSpans => "code-spans",
        /// Markdown emphasis (`**`, `__`).
        Emphasis => "emphasis",
        /// List bullets.
        Bullets => "bullets",
        /// Indentation.
        Indentation => "indentation",
        /// Trailing `\\` or two spaces (Markdown hard breaks).
        HardBreaks => "hard-breaks",
        /// A time stamp (and a tool's tag) on every line.
        LinePrefix => "line-prefix",
        /// HTML text markup (`<p>`, `<br />`, `<code>`, `&nbsp;`) of a page the text was copied from.
        HtmlMarkup => "html-markup",
    }
}

words! {
    /// What an input turned out to be.
    pub enum InputFormat {
        Slmgr => "slmgr",
        /// Office's `ospp.vbs` output (`/dstatus`, `/act`, `/dhistorykms`, …) or a tool's
        /// licence list in its fields.
        Ospp => "ospp",
        /// A binary Windows event log.
        Evtx => "evtx",
        /// Event XML (Event Viewer "Save as XML", `wevtutil qe /f:xml`).
        Xml => "xml",
        /// `evtx_dump` or `Get-WinEvent | ConvertTo-Json`.
        Json => "json",
        /// Event Viewer CSV or `Export-Csv`.
        Csv => "csv",
        /// Event Viewer tab-separated text.
        Tsv => "tsv",
        /// Event Viewer "Save as text".
        EventviewerText => "eventviewer-text",
        /// `Get-WinEvent | Format-List`.
        FormatList => "format-list",
        /// Splunk's classic `WinEventLog` events as text (`LogName=`, `EventCode=`, `Message=`).
        KeyValueText => "key-value-text",
        /// An event log whose reading failed.
        EventLog => "event-log",
        /// A named text read only for the result codes it mentions (prose, an e-mail, a dialog).
        TextEvidence => "text-evidence",
        /// The WMI licensing inventory (`SoftwareLicensingProduct`/`Service` as Format-List,
        /// Export-Csv or ConvertTo-Json; Configuration Manager's views of them).
        WmiInventory => "wmi-inventory",
        /// Not recognised.
        Unknown => "unknown",
    }
}

words! {
    /// What became of an activation request (12288).
    pub enum AttemptOutcome {
        Activated => "activated",
        /// Answered with a failure.
        Rejected => "rejected",
        /// No 12289 followed.
        NoResponse => "no-response",
        /// The activation failed on the client itself (event 8198 or 8233: slui, the licensing
        /// service, a MAK's online activation); no KMS request (12288) was sent.
        Failed => "failed",
    }
}

words! {
    /// How the KMS host's log saw an activation request.
    pub enum HostSeen {
        Received => "received",
        /// The log covers the time and has no record.
        NotReceived => "not-received",
        /// The log does not cover the time.
        NotCovered => "not-covered",
        /// Sent to a host whose log was not supplied.
        OtherHost => "other-host",
        /// No request reached the network: the activation failed on the client.
        NotSent => "not-sent",
        Unknown => "unknown",
    }
}

words! {
    /// Where the report's `now` came from.
    pub enum NowSource {
        /// `--now`.
        Flag => "flag",
        /// The newest time in the input.
        Input => "input",
        /// The clock.
        Clock => "clock",
    }
}

words! {
    /// Where a machine's name came from.
    pub enum NameSource {
        /// The input names the machine.
        Text => "text",
        /// Taken from the folder of an export named after its log or command
        /// (`PC01/Application.csv`, a zip's `PC042/dlv.txt`).
        Folder => "folder",
        /// Taken from the file's name.
        FileName => "file-name",
        /// Given with `--machine-name FILE=NAME`.
        Flag => "flag",
    }
}

impl Default for NameSource {
    /// A machine's name is the input's own unless something says otherwise.
    fn default() -> Self {
        NameSource::Text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The JSON words of every variant, space-separated.
    fn words<T: Serialize>(all: &[T]) -> String {
        let words: Vec<String> = all
            .iter()
            .map(|v| serde_json::to_string(v).unwrap())
            .collect();
        words.join(" ").replace('"', "")
    }

    #[test]
    fn json_and_as_str_are_the_schema_words() {
        assert_eq!(
            words(MachineRole::ALL),
            "kms-client kms-host mak retail oem evaluation avma unknown"
        );
        assert_eq!(words(Health::ALL), "ok warning failing");
        assert_eq!(words(InputStatus::ALL), "read partial skipped unreadable");
        assert_eq!(
            words(InputFormat::ALL),
            "slmgr ospp evtx xml json csv tsv eventviewer-text format-list key-value-text event-log text-evidence wmi-inventory unknown"
        );
        assert_eq!(
            words(AttemptOutcome::ALL),
            "activated rejected no-response failed"
        );
        assert_eq!(
            words(HostSeen::ALL),
            "received not-received not-covered other-host not-sent unknown"
        );
        assert_eq!(words(NowSource::ALL), "flag input clock");
        assert_eq!(words(NameSource::ALL), "text folder file-name flag");
        assert_eq!(
            words(Decoration::ALL),
            "quote-marks code-fences code-spans emphasis bullets indentation hard-breaks line-prefix html-markup"
        );
        assert_eq!(format!("{:<9}|", Health::Ok), "ok       |");
        assert_eq!(
            InputFormat::EventviewerText.to_string(),
            InputFormat::EventviewerText.as_str()
        );
        assert!(InputStatus::Partial.was_read() && !InputStatus::Skipped.was_read());
    }
}
