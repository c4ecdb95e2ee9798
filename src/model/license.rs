//! A product's license state: the one vocabulary for what slmgr prints (`License Status:`), what
//! WMI and events 12288/12290 carry as a `LicenseStatus` number (0-6), and what the report writes
//! (`licensed`, `initial-grace`, …). It knows the words and numbers, not how any input spells them
//! in a UI language (that is `rules/slmgr.toml`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A license state. Its serde form is the report's word and the id `slmgr.toml` and
/// `licensing.toml` use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Deserialize, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LicenseState {
    Unlicensed,
    Licensed,
    InitialGrace,
    AdditionalGrace,
    NonGenuineGrace,
    Notification,
    ExtendedGrace,
    Unknown,
}

impl LicenseState {
    /// Every state, in `LicenseStatus` number order (`Unknown` last): the ids `licensing.toml`
    /// may use.
    pub const ALL: [LicenseState; 8] = [
        LicenseState::Unlicensed,
        LicenseState::Licensed,
        LicenseState::InitialGrace,
        LicenseState::AdditionalGrace,
        LicenseState::NonGenuineGrace,
        LicenseState::Notification,
        LicenseState::ExtendedGrace,
        LicenseState::Unknown,
    ];

    /// The word every report writes.
    pub fn as_str(self) -> &'static str {
        match self {
            LicenseState::Unlicensed => "unlicensed",
            LicenseState::Licensed => "licensed",
            LicenseState::InitialGrace => "initial-grace",
            LicenseState::AdditionalGrace => "additional-grace",
            LicenseState::NonGenuineGrace => "non-genuine-grace",
            LicenseState::Notification => "notification",
            LicenseState::ExtendedGrace => "extended-grace",
            LicenseState::Unknown => "unknown",
        }
    }

    /// The state for a `LicenseStatus` number (0-6) as WMI and the events write it; `Unknown`
    /// for any other.
    pub fn from_number(n: u8) -> LicenseState {
        match n {
            0 => LicenseState::Unlicensed,
            1 => LicenseState::Licensed,
            2 => LicenseState::InitialGrace,
            3 => LicenseState::AdditionalGrace,
            4 => LicenseState::NonGenuineGrace,
            5 => LicenseState::Notification,
            6 => LicenseState::ExtendedGrace,
            _ => LicenseState::Unknown,
        }
    }

    /// Whether the machine is running on a grace period that will end.
    pub fn is_grace(self) -> bool {
        matches!(
            self,
            LicenseState::InitialGrace
                | LicenseState::AdditionalGrace
                | LicenseState::NonGenuineGrace
                | LicenseState::ExtendedGrace
        )
    }
}

impl fmt::Display for LicenseState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_numbers_and_serde_agree() {
        for (n, s) in LicenseState::ALL.iter().enumerate() {
            let json = serde_json::to_string(s).unwrap();
            assert_eq!(json, format!("\"{}\"", s.as_str()));
            let n = u8::try_from(n).unwrap();
            assert_eq!(LicenseState::from_number(n), *s);
        }
        assert_eq!(LicenseState::from_number(200), LicenseState::Unknown);
        assert!(LicenseState::ExtendedGrace.is_grace());
        assert!(!LicenseState::Notification.is_grace());
    }
}
