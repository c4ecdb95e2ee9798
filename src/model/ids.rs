//! Numbers of the protocol named once: the event ids the correlation and diagnosis read, and the
//! result codes the readers and the diagnosis test for. Their meanings and messages live in the rule table
//! (`rules/events.toml`, `rules/codes.toml`); these are only the names code matches on.

use crate::hresult::Hresult;

/// Event ids (Microsoft-Windows-Security-SPP and the KMS service), named as in `rules/events.toml`.
pub(crate) mod event {
    /// A client sent a KMS activation request (`kms-request-sent`).
    pub(crate) const KMS_REQUEST_SENT: u32 = 12288;
    /// A client processed the host's answer (`kms-response-processed`).
    pub(crate) const KMS_RESPONSE_PROCESSED: u32 = 12289;
    /// A KMS host processed a client's request (`kms-request-processed`).
    pub(crate) const KMS_REQUEST_PROCESSED: u32 = 12290;
    /// A KMS host failed to publish its SRV record (`kms-dns-publish-failed`).
    pub(crate) const KMS_DNS_PUBLISH_FAILED: u32 = 12293;
    /// A KMS host published its SRV record (`kms-dns-publish-succeeded`).
    pub(crate) const KMS_DNS_PUBLISH_SUCCEEDED: u32 = 12294;
    /// The genuine state is genuine again (`genuine-state-genuine`).
    pub(crate) const GENUINE_STATE_GENUINE: u32 = 12305;
    /// slui's activation failed (`slui-activation-failed`).
    pub(crate) const SLUI_ACTIVATION_FAILED: u32 = 8198;
    /// The genuine state is non-genuine (`genuine-state-non-genuine`).
    pub(crate) const GENUINE_STATE_NON_GENUINE: u32 = 8209;
    /// The rules engine failed a volume activation (`vl-activation-attempt-failed`).
    pub(crate) const VL_ACTIVATION_ATTEMPT_FAILED: u32 = 8233;

    /// The events the correlation and the diagnosis read; `analyze` keeps no others.
    pub const CORRELATED: &[u32] = &[
        KMS_REQUEST_SENT,
        KMS_RESPONSE_PROCESSED,
        KMS_REQUEST_PROCESSED,
        KMS_DNS_PUBLISH_FAILED,
        KMS_DNS_PUBLISH_SUCCEEDED,
        SLUI_ACTIVATION_FAILED,
        GENUINE_STATE_NON_GENUINE,
        VL_ACTIVATION_ATTEMPT_FAILED,
        GENUINE_STATE_GENUINE,
    ];
}

/// `SL_E_PKEY_NOT_INSTALLED`: no product key is installed.
pub(crate) const PKEY_NOT_INSTALLED: Hresult = Hresult(0xC004_F014);
/// `SL_E_VL_KEY_MANAGEMENT_SERVICE_NOT_ACTIVATED`: a KMS host whose own host key is not
/// activated refuses every client.
pub(crate) const KMS_HOST_NOT_ACTIVATED: Hresult = Hresult(0xC004_F041);

/// `SL_E_VL_NOT_ENOUGH_COUNT`: a host refused the request, its count is below the threshold.
pub(crate) const NOT_ENOUGH_COUNT: Hresult = Hresult(0xC004_F038);
/// `SL_E_VL_INVALID_TIMESTAMP`: a host refused a request whose client time is too far from its own.
pub(crate) const INVALID_TIMESTAMP: Hresult = Hresult(0xC004_F06C);

/// `SL_E_NOT_GENUINE`: the licensing service reports the current state as not genuine (the
/// reason behind slmgr's "non-genuine notification period" result).
pub(crate) const SL_E_NOT_GENUINE: Hresult = Hresult(0xC004_F200);

/// The non-genuine grace period, as Microsoft's documents and slmgr write it (0xC004F065).
/// `rules/codes.toml` gives this spelling no symbol: the SDK defines the same message as the
/// informational 0x4004F065, `SL_I_NONGENUINE_GRACE_PERIOD`, hence the name without a prefix.
pub(crate) const NONGENUINE_GRACE_PERIOD: Hresult = Hresult(0xC004_F065);
