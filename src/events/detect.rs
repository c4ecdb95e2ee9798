//! Which event-log format an input is, recognised by its content (not its name): `.evtx` by its
//! magic (or, its header damaged, its chunk signatures), then event XML, JSON and the tabular exports by their first 8 KiB of text. Each reader
//! says what its format looks like; this only asks them in order.

use super::{evtx, json, tabular, xml};
use crate::model::InputFormat;

/// The format of an event-log input, recognised by content.
pub(crate) fn detect(bytes: &[u8]) -> Option<InputFormat> {
    if evtx::salvage::is_log(bytes) {
        return Some(InputFormat::Evtx);
    }
    let head =
        crate::input::encoding::decode(bytes.get(..bytes.len().min(8192)).unwrap_or(bytes), &|_| 0)
            .text;
    if xml::looks_like(&head) {
        Some(InputFormat::Xml)
    } else if json::looks_like(&head) {
        Some(InputFormat::Json)
    } else {
        tabular::detect(&head)
    }
}
