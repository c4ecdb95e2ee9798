//! The Windows licensing inventory reader: instances of the WMI classes `SoftwareLicensingProduct`
//! and `SoftwareLicensingService` as `Get-CimInstance` / `Get-WmiObject` print or export them
//! (`Format-List`, `Export-Csv` with or without `#TYPE`, `ConvertTo-Json`; one machine or an
//! `Invoke-Command` fan-out naming each in `PSComputerName`), wmic's `/format:csv` (machine in
//! `Node`) and `/format:list`, and Configuration Manager's views of the same
//! classes (`<Property>0` columns, `Netbios_Name0`, `ResourceID`, `TimeStamp`) — into one
//! [`LicenseSnapshot`] per machine, one product per instance, as the slmgr reader fills them
//! (slmgr.vbs reads these very properties).
//!
//! An input is taken for an inventory by its property names (`rules/inventory.toml`): at least
//! two known and one specific to these classes. `records` cuts the three serializations into
//! records, `convert` reads WMI's values (4294967295 = -1, DMTF and `/Date()/` dates, HRESULTs
//! as unsigned decimals, `LicenseStatus` numbers), `build` groups them by machine. This module
//! knows the format, not what the values mean for a diagnosis.

mod build;
mod convert;
mod records;

#[cfg(test)]
mod tests;

use crate::model::snapshot::LicenseSnapshot;
use crate::rules::Rules;
use crate::rules::inventory::Named;

/// How much of the start of a text is looked at to recognise an inventory.
const HEAD_BYTES: usize = 64 * 1024;

/// Whether these names are an inventory's: two known property names, one of them specific to
/// the licensing classes.
fn recognised(rules: &Rules, names: &[String]) -> bool {
    let inv = rules.inventory();
    let mut known: Vec<&str> = Vec::new();
    let mut decisive = false;
    for n in names {
        if let Some(Named::Property(p)) = inv.named(n)
            && !known.contains(&p.name.as_str())
        {
            known.push(&p.name);
            decisive |= p.decisive;
        }
    }
    decisive && known.len() >= 2
}

/// The first [`HEAD_BYTES`] of an input, cut where no UTF-8 character is split.
fn head_bytes(bytes: &[u8]) -> &[u8] {
    let Some(head) = bytes.get(..HEAD_BYTES) else {
        return bytes;
    };
    match std::str::from_utf8(head) {
        Err(e) if e.error_len().is_none() => head.get(..e.valid_up_to()).unwrap_or(head),
        _ => head,
    }
}

/// How many lines of a decoded text look like an inventory's (to choose a legacy code page).
fn score(rules: &Rules, text: &str) -> usize {
    let head = text
        .get(..text.floor_char_boundary(HEAD_BYTES))
        .unwrap_or("");
    let (_, names) = records::names(head);
    let inv = rules.inventory();
    names.iter().filter(|n| inv.named(n).is_some()).count()
}

/// Reads an input that is a licensing inventory; `None` when it is not one (its property names
/// do not say so, or it holds no instance).
pub(crate) fn read(rules: &Rules, path: &str, bytes: &[u8]) -> Option<Vec<LicenseSnapshot>> {
    // Only the start is decoded to decide: every text input passes here first, large event
    // exports included.
    let head = crate::input::encoding::decode(head_bytes(bytes), &|t| score(rules, t));
    let (_, names) = records::names(&head.text);
    if !recognised(rules, &names) {
        return None;
    }
    let decoded = crate::input::encoding::decode(bytes, &|t| score(rules, t));
    let text = decoded.text.as_str();
    let start = text
        .get(..text.floor_char_boundary(HEAD_BYTES))
        .unwrap_or("");
    let (shape, _) = records::names(start);
    let recs = records::read(shape, text);
    let lines = u32::try_from(text.lines().count()).unwrap_or(u32::MAX);
    let mut snaps = build::snapshots(rules, path, &recs, lines);
    if snaps.is_empty() {
        return None;
    }
    for s in &mut snaps {
        decoded.encoding.clone_into(&mut s.encoding);
        if decoded.lossy {
            s.warnings.push(format!(
                "some bytes are not valid {} and were replaced",
                decoded.encoding
            ));
        }
    }
    Some(snaps)
}
