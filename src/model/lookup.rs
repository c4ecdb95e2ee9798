//! What `kmsdiag lookup` answers about a code: its meaning, causes and next steps from the rule
//! table, its bit layout, and the named flags of a 12288/12289 status value. Plain data,
//! produced by `diagnose::lookup` and rendered by `report::lookup`.

use serde::Serialize;

use crate::hresult::{Hresult, Spelling};
use crate::rules::{Category, Role, Severity};

/// Everything kmsdiag can say about one code.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Answer {
    /// What the user typed.
    pub input: String,
    /// How the input was read.
    pub interpreted_as: Spelling,
    /// Canonical `0x` + 8 upper-case hex digits.
    pub code: Hresult,
    /// Whether the rule table has an entry for the code.
    pub known: bool,
    pub symbol: Option<String>,
    pub aliases: Vec<String>,
    pub severity: Severity,
    pub category: Option<Category>,
    /// The finding id the code raises when seen as a result.
    pub finding: Option<String>,
    /// The text Windows prints for the code.
    pub message: Option<String>,
    pub meaning: Option<String>,
    pub causes: Vec<String>,
    pub next_steps: Vec<String>,
    pub related_events: Vec<u32>,
    pub applies_to: Vec<Role>,
    pub sources: Vec<String>,
    pub notes: Option<String>,
    /// The bit layout of the value.
    pub structure: Structure,
}

/// The HRESULT bit layout, spelled out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Structure {
    /// Bit 31.
    pub failure: bool,
    /// Bit 29 (defined by a component, not by the system).
    pub customer: bool,
    pub facility: u16,
    pub facility_name: Option<String>,
    /// The low 16 bits.
    pub code: u16,
    pub signed_decimal: i32,
    pub unsigned_decimal: u32,
    /// For facility 7 (`0x8007xxxx`): the Win32 error inside.
    pub win32: Option<Win32Info>,
    /// For Software Licensing codes (facility 4, `0x?004Axxx`..`0x?004Fxxx`): which part of the
    /// licensing stack the code range belongs to.
    pub licensing_range: Option<&'static str>,
}

/// A Win32 error number with its name and text when the table knows them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Win32Info {
    pub number: u16,
    pub name: Option<String>,
    pub message: Option<String>,
}

/// The 12288/12289 status field, bit by bit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FlagsAnswer {
    pub input: String,
    pub value: Hresult,
    pub flags: Vec<FlagInfo>,
    /// Set bits the table does not name.
    pub unknown_bits: Vec<Hresult>,
}

/// One named status flag that is set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct FlagInfo {
    pub value: Hresult,
    pub symbol: String,
    pub severity: Severity,
    pub description: String,
}
