//! Which event-log format an input is, recognised by its content (not its name): `.evtx` by its
//! magic, then event XML, JSON and the tabular exports by their first 8 KiB of text. Each reader
//! says what its format looks like; this only asks them in order.

use super::{evtx, json, tabular, xml};

/// The format of an event-log input, recognised by content.
pub(crate) fn detect(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(evtx::MAGIC) {
        return Some("evtx");
    }
    let head =
        crate::input::encoding::decode(bytes.get(..bytes.len().min(8192)).unwrap_or(bytes), &|_| 0)
            .text;
    if xml::looks_like(&head) {
        Some("xml")
    } else if json::looks_like(&head) {
        Some("json")
    } else {
        tabular::detect(&head)
    }
}
