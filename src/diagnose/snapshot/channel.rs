//! A product's channel against its key: a KMS host key on a client edition, an evaluation
//! edition, a key of another channel than the license.

use crate::model::license::LicenseState;
use crate::model::snapshot::{LicenseSnapshot, ProductLicense};
use crate::model::{Evidence, Verdict};
use crate::rules::Severity;
use crate::rules::slmgr::FieldId;

use super::super::registry::FindingId;
use super::MachineDiag;

impl MachineDiag<'_> {
    pub(super) fn channel_checks(
        &mut self,
        snap: &LicenseSnapshot,
        p: &ProductLicense,
        name: &str,
    ) {
        let path = snap.path.as_str();
        let channel = p.channel.as_deref().unwrap_or("");
        let line_ev = |ids: &[FieldId]| -> Vec<Evidence> {
            ids.iter()
                .filter_map(|id| p.lines.get(id))
                .map(|l| Self::evidence(path, l))
                .collect()
        };
        // A KMS host key (CSVLK) on a Windows client edition: such a host serves client editions
        // only, and the key is usually meant for a server; a workstation meant to be a KMS client
        // needs its edition's KMS client setup key (GVLK).
        let client_edition = p.is_windows()
            && !p
                .name
                .as_deref()
                .unwrap_or("")
                .to_ascii_lowercase()
                .contains("server");
        if channel.starts_with("VOLUME_KMS") && channel != "VOLUME_KMSCLIENT" && client_edition {
            self.raise(
                FindingId::WrongKeyOrChannel,
                Some(Severity::Warning),
                Vec::new(),
                format!("{name} carries a KMS host key ({channel}) although it is a Windows client edition. Such a host can activate only Windows client editions, never servers or Office, and the key counts against its activation limit; if this machine should be a KMS client, install its edition's KMS client setup key (GVLK) with `slmgr.vbs /ipk`."),
                line_ev(&[FieldId::Description, FieldId::ProductKeyChannel]),
            );
            self.worse(
                Verdict::Warning,
                format!("{name}: a KMS host key is installed on a client edition."),
            );
        }
        // Evaluation editions cannot be activated with KMS or MAK keys at all.
        let failed_ato = snap
            .commands
            .iter()
            .any(|c| !c.succeeded && c.command == "ato");
        if channel.starts_with("TIMEBASED_EVAL")
            && (failed_ato || p.license_status != Some(LicenseState::Licensed))
        {
            self.raise(
                FindingId::WrongKeyOrChannel,
                Some(if failed_ato { Severity::Error } else { Severity::Informational }),
                Vec::new(),
                format!("{name} is an evaluation edition (TIMEBASED_EVAL). KMS and MAK keys cannot activate it: convert it to a full edition first (Windows Server: `DISM /online /Set-Edition:<edition> /ProductKey:<key> /AcceptEula`) or reinstall from volume media; otherwise it stops working when the evaluation period ends."),
                line_ev(&[FieldId::Description, FieldId::ProductKeyChannel]),
            );
        }
        let Some(key) = p.product_key_channel.as_deref() else {
            return;
        };
        let expected: &[&str] = match channel {
            "VOLUME_KMSCLIENT" => &["Volume:GVLK"],
            "VOLUME_MAK" => &["Volume:MAK"],
            c if c.starts_with("VOLUME_KMS") => &["Volume:CSVLK"],
            c if c.starts_with("RETAIL") => &["Retail"],
            c if c.starts_with("OEM") => &["OEM"],
            _ => return,
        };
        if !expected.iter().any(|e| key.starts_with(e)) {
            let evidence = [FieldId::Description, FieldId::ProductKeyChannel]
                .iter()
                .filter_map(|id| p.lines.get(id))
                .map(|l| Self::evidence(path, l))
                .collect();
            self.raise(
                FindingId::WrongKeyOrChannel,
                Some(Severity::Warning),
                Vec::new(),
                format!("{name}: the license is of the {channel} channel but the installed key is a {key} key."),
                evidence,
            );
            self.worse(
                Verdict::Warning,
                format!("{name}: key and channel do not match ({key} key, {channel} channel)."),
            );
        }
    }
}
