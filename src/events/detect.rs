//! Which event-log format an input is, recognised by its content (not its name): `.evtx` by its
//! magic (or, its header damaged, its chunk signatures), then JSON (`evtx_dump`, `Get-WinEvent`, or
//! any export in which the field-alias table finds an event record), a SIEM's CSV whose columns
//! the table knows, event XML, the tabular exports and Splunk's classic `key=value` events by
//! their first KiB of text. Each reader says what its format looks like; this only asks them in
//! order.

use super::{evtx, json, shipper, tabular, xml};
use crate::model::InputFormat;
use crate::rules::Rules;

/// How much of a JSON input is searched for a first record.
const JSON_PROBE_BYTES: usize = 64 * 1024;

/// The format of an event-log input, recognised by content.
pub(crate) fn detect(rules: &Rules, bytes: &[u8]) -> Option<InputFormat> {
    if evtx::salvage::is_log(bytes) {
        return Some(InputFormat::Evtx);
    }
    let head = head(bytes, 8192);
    if json::looks_like(&head) {
        return Some(InputFormat::Json);
    }
    // JSON strings are decoded before any XML in them is looked at: an export with Event XML in
    // its strings is JSON.
    if json::starts_like(&head)
        && shipper::probe(&self::head(bytes, JSON_PROBE_BYTES), rules.fields())
    {
        return Some(InputFormat::Json);
    }
    // A CSV export whose columns the field-alias table knows (one of the Event Viewer and
    // `Export-Csv` forms is the tabular reader's).
    if tabular::detect(&head, rules.eventviewer_labels()).is_none()
        && shipper::csv::probe(&head, rules.fields())
    {
        return Some(InputFormat::Csv);
    }
    if xml::looks_like(&head) {
        Some(InputFormat::Xml)
    } else if let Some(form) = tabular::detect(&head, rules.eventviewer_labels()) {
        Some(form)
    } else {
        shipper::classic::looks_like(&head).then_some(InputFormat::KeyValueText)
    }
}

/// The first `n` bytes of an input, decoded.
pub(super) fn head(bytes: &[u8], n: usize) -> String {
    crate::input::encoding::decode(bytes.get(..bytes.len().min(n)).unwrap_or(bytes), &|_| 0).text
}
