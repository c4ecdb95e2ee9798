//! Every finding kmsdiag raises, named once, with the place its condition is decided. The text a
//! finding prints (title, explanation, next steps, severity) is its entry in
//! `rules/findings.toml`; a result code raises the finding its `rules/codes.toml` entry names.
//! The tests hold this table, the rule files and the code to each other.

use std::fmt;

/// Declares [`FindingId`] and its registry from one list: variant, id, where it is decided.
macro_rules! findings {
    ($($(#[$doc:meta])* $variant:ident = $id:literal, decided_in: [$($file:literal),*];)+) => {
        /// A finding's stable id (the report contract: `docs/report-schema.md`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub(crate) enum FindingId {
            $($(#[$doc])* $variant,)+
        }

        impl FindingId {
            /// Every finding, in the order of this table.
            pub(crate) const ALL: &[FindingId] = &[$(FindingId::$variant,)+];

            /// The id as reports and rule files write it.
            pub(crate) fn as_str(self) -> &'static str {
                match self {
                    $(FindingId::$variant => $id,)+
                }
            }

            /// The source files (under `src/diagnose/`) whose code decides it; empty when only
            /// result codes raise it (through `rules/codes.toml`). Read by the tests, which hold
            /// the table to the code.
            #[cfg(test)]
            pub(crate) fn decided_in(self) -> &'static [&'static str] {
                match self {
                    $(FindingId::$variant => &[$($file),*],)+
                }
            }
        }
    };
}

findings! {
    /// A KMS host's count is below what its clients need.
    KmsCountInsufficient = "kms-count-insufficient",
        decided_in: ["snapshot/kms_host.rs", "events/host.rs", "inventory_join.rs"];
    /// Requests that got no answer and failed on the way (network, RPC, DNS, timeouts).
    KmsUnreachable = "kms-unreachable", decided_in: ["events/client.rs"];
    /// Requests the host's log, covering that time, never recorded.
    KmsRequestNotReceived = "kms-request-not-received", decided_in: ["events/client.rs"];
    /// A KMS client known from its license state (slmgr output, the licensing inventory) whose
    /// CMID the hosts' logs do not hold in the time it should have asked.
    KmsClientNotSeen = "kms-client-not-seen", decided_in: ["silent.rs"];
    /// A KMS client whose license state says licensed while its own host's log, covering the
    /// time that activation must have happened, holds no activation of its CMID then.
    KmsLicenseUnconfirmed = "kms-license-unconfirmed", decided_in: ["inventory_join.rs"];
    /// Requests the host logged whose answer the client never processed.
    KmsResponseLost = "kms-response-lost",
        decided_in: ["events/client.rs", "inventory_join.rs"];
    /// The client finds no KMS host in DNS (raised by result codes, and by slmgr's "DNS
    /// auto-discovery: KMS name not available" on a client that is not activated).
    KmsDnsSrvMissing = "kms-dns-srv-missing", decided_in: ["snapshot/kms_discovery.rs"];
    /// A KMS host failed to publish its SRV record.
    KmsDnsPublishFailed = "kms-dns-publish-failed", decided_in: ["events/host.rs"];
    /// One CMID under several machine names.
    DuplicateCmid = "duplicate-cmid", decided_in: ["events/cmid.rs", "inventory_join.rs"];
    /// One CMID under one name, then under another: a machine renamed (a note).
    MachineRenamed = "machine-renamed", decided_in: ["events/cmid.rs"];
    /// One machine name cycling through CMIDs at a host.
    CmidChanging = "cmid-changing", decided_in: ["events/host.rs"];
    /// The host refused requests for their client time (raised by result codes; the detail says
    /// the measured skew).
    ClockSkew = "clock-skew", decided_in: ["events/client.rs", "inventory_join.rs"];
    /// The BIOS activation marker is invalid (raised by result codes).
    BiosSlicInvalid = "bios-slic-invalid", decided_in: [];
    /// Licensing files tampered with (raised by result codes).
    NonGenuineTampered = "non-genuine-tampered", decided_in: [];
    /// A blocked or invalid key (raised by result codes).
    NonGenuineInvalidKey = "non-genuine-invalid-key", decided_in: [];
    /// Windows judged itself non-genuine.
    NonGenuine = "non-genuine", decided_in: ["snapshot/license.rs", "events/client.rs"];
    /// Key and channel do not match the machine's role.
    WrongKeyOrChannel = "wrong-key-or-channel",
        decided_in: ["snapshot/mod.rs", "snapshot/channel.rs"];
    /// A MAK activation failed (raised by result codes).
    MakActivationFailed = "mak-activation-failed", decided_in: [];
    /// The activation ends within the warning window.
    ActivationExpiring = "activation-expiring",
        decided_in: ["snapshot/license.rs", "snapshot/expiry.rs", "events/expiry.rs"];
    /// The machine runs on a grace period.
    GraceExpiring = "grace-expiring",
        decided_in: ["snapshot/license.rs", "snapshot/expiry.rs", "events/expiry.rs"];
    /// Not activated and the grace period is over.
    UnlicensedRfm = "unlicensed-rfm",
        decided_in: ["snapshot/license.rs", "snapshot/expiry.rs", "events/expiry.rs"];
    /// Clients use a KMS host whose logs were not supplied.
    KmsHostUnknown = "kms-host-unknown", decided_in: ["events/client.rs", "inventory_join.rs"];
    /// An input could not be read.
    InputUnreadable = "input-unreadable", decided_in: ["mod.rs"];
    /// An activation failure with no finding of its own.
    ActivationError = "activation-error", decided_in: ["findings.rs", "snapshot/commands.rs"];
}

impl FindingId {
    /// The finding with this id, if kmsdiag has one.
    pub(crate) fn from_id(id: &str) -> Option<FindingId> {
        FindingId::ALL.iter().copied().find(|f| f.as_str() == id)
    }
}

/// Findings order by their ids, as reports list them.
impl Ord for FindingId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for FindingId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for FindingId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;
    use crate::rules::Rules;

    #[test]
    fn every_rule_file_finding_is_in_the_registry_and_back() {
        let rules = Rules::embedded().unwrap();
        let in_rules: BTreeSet<&str> = rules.findings().map(|f| f.id.as_str()).collect();
        let in_code: BTreeSet<&str> = FindingId::ALL.iter().map(|f| f.as_str()).collect();
        assert_eq!(in_rules, in_code);
        for f in FindingId::ALL {
            assert_eq!(FindingId::from_id(f.as_str()), Some(*f));
        }
        assert_eq!(FindingId::from_id("no-such-finding"), None);
    }

    #[test]
    fn every_finding_is_raised_where_the_registry_says() {
        let rules = Rules::embedded().unwrap();
        let by_codes: BTreeSet<&str> = rules
            .codes()
            .filter_map(|(_, c)| c.finding.as_deref())
            .collect();
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/diagnose");
        for f in FindingId::ALL {
            let variant = format!("FindingId::{f:?}");
            for file in f.decided_in() {
                let text = std::fs::read_to_string(dir.join(file))
                    .unwrap_or_else(|e| panic!("{f}: {file}: {e}"));
                assert!(text.contains(&variant), "{f} is not raised in {file}");
            }
            assert!(
                !f.decided_in().is_empty() || by_codes.contains(f.as_str()),
                "{f} is raised neither by code nor by any result code"
            );
        }
    }
}
