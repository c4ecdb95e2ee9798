//! The activation facts the simulation follows (research/domain-facts.md): the application and
//! activation ids it writes, how long an activation and a grace period last, how a host counts
//! CMIDs, how much clock skew it accepts, and the result codes it answers with. Numbers only:
//! what a machine does with them is decided elsewhere.

/// Windows' application id, written into 8198/8209/12305.
pub(crate) const WINDOWS_APP_ID: &str = "55c92734-d682-4d71-983e-d6ec3f16059f";
/// Activation id used for client editions (Windows Enterprise, KMS client channel).
pub(super) const CLIENT_ACT_ID: &str = "73111121-5638-40f6-bc11-f1d7b0d64300";
/// Activation id used for server editions.
pub(super) const SERVER_ACT_ID: &str = "de32eafd-aaee-4662-9444-c1befb41bde2";
/// Minutes of validity a KMS activation gives.
pub(super) const VALIDITY_DAYS: i64 = 180;
/// Days of initial and out-of-tolerance grace.
pub(super) const GRACE_DAYS: i64 = 30;
/// Days a host remembers a CMID for its count.
pub(super) const COUNT_WINDOW_DAYS: i64 = 30;
/// The host keeps twice the largest threshold.
pub(super) const COUNT_CAP: usize = 50;
/// Beyond this clock difference the host rejects the request (KB 974998: "more than 4 hours").
pub(super) const MAX_SKEW_MINUTES: i64 = 240;

/// Result codes the simulation writes.
pub(crate) mod codes {
    pub(crate) const OK: u32 = 0;
    pub(crate) const NOT_ENOUGH_COUNT: u32 = 0xC004_F038;
    pub(crate) const TIMESTAMP_INVALID: u32 = 0xC004_F06C;
    pub(crate) const RPC_UNAVAILABLE: u32 = 0x8007_06BA;
    pub(crate) const TIMEOUT: u32 = 0x8007_05B4;
    pub(crate) const DNS_NAME_NOT_FOUND: u32 = 0x8007_232B;
    pub(crate) const BIOS_BAD_FORMAT: u32 = 0xC004_F059;
    pub(crate) const TAMPERED: u32 = 0x8004_C40B;
    pub(crate) const BLOCKED_KEY: u32 = 0x8004_C465;
}
