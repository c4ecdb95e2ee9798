//! The slmgr text decoder: `/dli`, `/dlv`, `/dlv all`, `/xpr` and the result lines of `/ato`,
//! `/ipk`, `/upk`, `/skms`, `/ckms`, `/rearm`, in any UI language, in the encodings consoles and
//! editors write, as pasted, redirected or hard-wrapped — into [`LicenseSnapshot`]s.
//!
//! Labels come from `rules/slmgr.toml`. Where a label is not known, the value's shape (GUID,
//! extended PID, `server:port`, minutes, date, channel token…) and slmgr's fixed line order decide
//! what it is, and the line is listed as not understood with what it was taken as. This module
//! knows the format, not what the values mean for a diagnosis.
//!
//! The reader is cut along its seams: `parser` walks the lines and holds the state, `fields`
//! stores a labelled value, `recover` reads values whose label is not known, `session` judges the
//! terminal session around the output (machine headers, prompts, transcripts), and `vocab`
//! matches labels in every language. This file holds the entry points.

mod fields;
mod parser;
mod recover;
mod session;
mod vocab;

use crate::model::snapshot::LicenseSnapshot;
use crate::rules::Rules;
use parser::{Parser, product_has_content};
use vocab::{Vocabulary, prepare};

/// Inputs larger than this are not slmgr output; they are refused before decoding.
pub(crate) const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
/// Lines longer than this are cut (a pasted line is never this long).
const MAX_LINE_CHARS: usize = 4096;

/// Why a text input is not slmgr output.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SlmgrError {
    #[error(
        "{path}: not slmgr output (no license block, /xpr line or command result found in {lines} line(s))"
    )]
    NotSlmgr { path: String, lines: u32 },
    #[error("{path}: {size} bytes is too large for slmgr output (limit {MAX_INPUT_BYTES} bytes)")]
    TooLarge { path: String, size: usize },
}

/// Decodes and parses one input. A file may hold several machines' output (each after its own
/// machine header); each becomes one snapshot. To read many inputs, make one [`SlmgrReader`].
pub fn parse_bytes(
    rules: &Rules,
    path: &str,
    bytes: &[u8],
) -> Result<Vec<LicenseSnapshot>, SlmgrError> {
    SlmgrReader::new(rules).parse(path, bytes)
}

/// The slmgr decoder with its label tables prepared once, for reading many inputs.
pub struct SlmgrReader {
    vocab: Vocabulary,
}

impl SlmgrReader {
    pub fn new(rules: &Rules) -> SlmgrReader {
        SlmgrReader {
            vocab: Vocabulary::new(rules),
        }
    }

    /// Decodes and parses one input (see [`parse_bytes`]).
    pub fn parse(&self, path: &str, bytes: &[u8]) -> Result<Vec<LicenseSnapshot>, SlmgrError> {
        parse_with(&self.vocab, path, bytes)
    }

    /// The `/xpr` license-state lines a fragment of running text quotes (`it says "Windows
    /// Professional edition: Windows is in notification mode"`), read as this reader reads them:
    /// a product name before `: ` stands on its own line, as `/xpr` prints it. Each comes with
    /// `line` as its line.
    pub(crate) fn quoted_states(
        &self,
        fragment: &str,
        line: &crate::model::snapshot::TextLine,
    ) -> Vec<crate::model::snapshot::ExpiryLine> {
        let text = fragment.replacen(": ", ":\n", 1);
        let mut out = Vec::new();
        for snap in parse_text(&self.vocab, "", &text) {
            out.extend(snap.expiry.into_iter().map(|mut e| {
                e.line = line.clone();
                e
            }));
        }
        out
    }

    /// Decodes an input as this reader would (a legacy code page chosen by how much of the text
    /// then reads as slmgr output).
    pub(crate) fn decode(&self, bytes: &[u8]) -> crate::input::encoding::Decoded {
        crate::input::encoding::decode(bytes, &|t| score(&self.vocab, t))
    }
}

fn parse_with(
    vocab: &Vocabulary,
    path: &str,
    bytes: &[u8],
) -> Result<Vec<LicenseSnapshot>, SlmgrError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(SlmgrError::TooLarge {
            path: path.to_owned(),
            size: bytes.len(),
        });
    }
    let decoded = crate::input::encoding::decode(bytes, &|t| score(vocab, t));
    let mut snaps = parse_text(vocab, path, &decoded.text);
    for s in &mut snaps {
        decoded.encoding.clone_into(&mut s.encoding);
        if decoded.lossy {
            s.warnings.push(format!(
                "some bytes are not valid {} and were replaced",
                decoded.encoding
            ));
        }
    }
    let lines = u32::try_from(decoded.text.lines().count()).unwrap_or(u32::MAX);
    snaps.retain(has_content);
    if snaps.is_empty() {
        return Err(SlmgrError::NotSlmgr {
            path: path.to_owned(),
            lines,
        });
    }
    Ok(snaps)
}

/// How much of a text reads as slmgr output (used to choose a legacy code page).
fn score(vocab: &Vocabulary, text: &str) -> usize {
    text.lines()
        .take(120)
        .filter(|l| !l.trim().is_empty() && vocab.classify(&prepare(l)).is_some())
        .count()
}

/// Whether a snapshot says anything about licensing at all. Text in which no label or phrase is
/// known must show at least three recognisable values before it is taken for slmgr output.
fn has_content(s: &LicenseSnapshot) -> bool {
    if s.lines_understood == 0 && s.lines_recovered < 3 {
        return false;
    }
    // One generic label (`Description:`, `Name:`) stands in many texts that are not slmgr's:
    // a product needs a second line read, unless a command result or an expiry line says more.
    let product_lines = s.lines_understood.saturating_add(s.lines_recovered);
    if product_lines < 2 && s.commands.is_empty() && s.expiry.is_empty() {
        return false;
    }
    !s.commands.is_empty() || !s.expiry.is_empty() || s.products.iter().any(product_has_content)
}

/// Parses decoded text with a prepared vocabulary.
pub(crate) fn parse_text(vocab: &Vocabulary, path: &str, text: &str) -> Vec<LicenseSnapshot> {
    let mut p = Parser::new(vocab, path);
    for (i, raw) in text.lines().enumerate() {
        let line_no = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let raw: String = raw.chars().take(MAX_LINE_CHARS).collect();
        p.line(line_no, raw.trim_end_matches('\r'));
    }
    p.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hresult::Hresult;
    use crate::model::ids::{NONGENUINE_GRACE_PERIOD, SL_E_NOT_GENUINE};
    use crate::model::license::LicenseState;
    use crate::model::snapshot::{ExpiryKind, RemainingKind};

    fn parse(text: &str) -> Vec<LicenseSnapshot> {
        let rules = Rules::embedded().unwrap();
        parse_bytes(&rules, "t.txt", text.as_bytes()).unwrap()
    }

    const DLV_CLIENT: &str = "\
Microsoft (R) Windows Script Host Version 5.812
Copyright (C) Microsoft Corporation. All rights reserved.

Software licensing service version: 10.0.19041.3636

Name: Windows(R), Enterprise edition
Description: Windows(R) Operating System, VOLUME_KMSCLIENT channel
Activation ID: 73111121-5638-40f6-bc11-f1d7b0d64300
Application ID: 55c92734-d682-4d71-983e-d6ec3f16059f
Extended PID: 03612-03380-000-000000-03-1033-19041.0000-1062024
Product Key Channel: Volume:GVLK
Installation ID: 189844539606059265855451803261440643485915018321605276862695924
Partial Product Key: 2YT43
License Status: Licensed
Volume activation expiration: 254581 minute(s) (177 day(s))
Remaining Windows rearm count: 1001
Remaining SKU rearm count: 1001
Trusted time: 3/14/2025 10:20:31 AM
Configured Activation Type: All

Most recent activation information:
Key Management Service client information
    Client Machine ID (CMID): 268127a6-eeb4-4e42-9124-418a49c3aa2b
    KMS machine name from DNS: kms01.contoso.com:1688
    KMS machine IP address: 10.0.0.5
    KMS machine extended PID: 06401-00206-555-634715-03-4105-9600.0000-2122014
    Activation interval: 120 minutes
    Renewal interval: 10080 minutes
    KMS host caching is enabled
";

    #[test]
    fn a_full_dlv_of_a_kms_client() {
        let s = parse(DLV_CLIENT);
        assert_eq!(s.len(), 1);
        let s = &s[0];
        assert_eq!(s.service_version.as_deref(), Some("10.0.19041.3636"));
        assert_eq!(s.products.len(), 1);
        let p = &s.products[0];
        assert_eq!(p.channel.as_deref(), Some("VOLUME_KMSCLIENT"));
        assert_eq!(p.license_status, Some(LicenseState::Licensed));
        assert_eq!(
            p.remaining
                .as_ref()
                .map(|r| (r.kind, r.minutes, r.days_printed)),
            Some((RemainingKind::VolumeActivation, 254_581, Some(177)))
        );
        assert_eq!(
            p.trusted_time
                .as_ref()
                .and_then(|d| d.parsed)
                .map(|d| d.to_string())
                .as_deref(),
            Some("2025-03-14 10:20:31")
        );
        let c = p.kms_client.as_ref().unwrap();
        assert_eq!(
            c.cmid.as_deref(),
            Some("268127a6-eeb4-4e42-9124-418a49c3aa2b")
        );
        assert_eq!(
            c.dns_host.as_ref().map(ToString::to_string).as_deref(),
            Some("kms01.contoso.com:1688")
        );
        assert_eq!(
            (
                c.activation_interval_minutes,
                c.renewal_interval_minutes,
                c.host_caching
            ),
            (Some(120), Some(10080), Some(true))
        );
        assert!(s.not_understood.is_empty(), "{:?}", s.not_understood);
        assert_eq!(s.languages.first().map(String::as_str), Some("en"));
    }

    #[test]
    fn hard_wrapped_lines_are_joined() {
        let text = "Name: Windows(R), Enterprise edition\nDescription: Windows(R) Operating System,\nVOLUME_KMSCLIENT channel\nActivation ID: 73111121-5638-40f6-\nbc11-f1d7b0d64300\nLicense Status: Licensed\n";
        let p = &parse(text)[0].products[0];
        assert_eq!(p.channel.as_deref(), Some("VOLUME_KMSCLIENT"));
        assert_eq!(
            p.activation_id.as_deref(),
            Some("73111121-5638-40f6-bc11-f1d7b0d64300")
        );
    }

    #[test]
    fn not_slmgr_output_is_an_error() {
        let rules = Rules::embedded().unwrap();
        let err = parse_bytes(
            &rules,
            "notes.txt",
            b"Dear helpdesk,\nmy PC says it is not activated.\n",
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("notes.txt: not slmgr output"),
            "{err}"
        );
        assert!(parse_bytes(&rules, "empty.txt", b"").is_err());
    }

    #[test]
    fn machines_split_at_headers_and_commands_are_read() {
        let text = "Host Name: PC001\nslmgr /ato\nActivating Windows(R), Enterprise edition (73111121-5638-40f6-bc11-f1d7b0d64300) ...\nError: 0xC004F074 The Software Licensing Service reported that the computer could not be activated. No Key\nManagement Service (KMS) could be contacted.\nHost Name: PC002\nslmgr /xpr\nThe machine is permanently activated.\n";
        let s = parse(text);
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].machine.as_deref(), Some("PC001"));
        let c = &s[0].commands[0];
        assert_eq!(
            (c.command.as_str(), c.succeeded, c.code),
            ("ato", false, Some(Hresult(0xC004_F074)))
        );
        assert!(c.text.ends_with("could be contacted."), "{}", c.text);
        assert_eq!(s[1].machine.as_deref(), Some("PC002"));
        assert_eq!(s[1].expiry[0].kind, ExpiryKind::Permanent);
    }

    #[test]
    fn named_codes_are_the_rule_tables() {
        let rules = Rules::embedded().unwrap();
        assert_eq!(rules.symbol("SL_E_NOT_GENUINE"), Some(SL_E_NOT_GENUINE));
        assert!(rules.code(NONGENUINE_GRACE_PERIOD).is_some());
        assert_eq!(
            rules.symbol("SL_I_NONGENUINE_GRACE_PERIOD"),
            Some(Hresult(NONGENUINE_GRACE_PERIOD.0 & !0x8000_0000))
        );
    }
}
