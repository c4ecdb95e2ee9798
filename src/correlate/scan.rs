//! A KMS host's requests read for its view: each 12290's client name and CMID numbered, whether it
//! counts, the highest count policy; read in consecutive pieces on several threads when a host
//! logs hundreds of thousands of requests, joined so the numbers equal a one-pass read.

use std::num::NonZeroU32;

use crate::events::{ActivationEvent, Fields};
use crate::model::ids::INVALID_TIMESTAMP;

use super::fields::{code_of, int_of, text_of};
use super::intern::Interner;

/// A host's request as its view counts it: the event, its client name and CMID numbered (plus
/// one, so an absent one costs no room) and whether it counts towards the activation count.
#[derive(Debug, Clone, Copy)]
pub(super) struct Request {
    pub(super) at: u32,
    pub(super) client: Option<NonZeroU32>,
    pub(super) cmid: Option<NonZeroU32>,
    pub(super) counted: bool,
}

/// A name's number as [`Request`] keeps it; `None` past four billion names, which no input that
/// fits in memory holds.
pub(super) fn packed(id: usize) -> Option<NonZeroU32> {
    u32::try_from(id.checked_add(1)?)
        .ok()
        .and_then(NonZeroU32::new)
}

pub(super) fn id_of(p: NonZeroU32) -> usize {
    p.get() as usize - 1
}

/// A host's requests read: their names numbered in the order first logged, the highest count
/// policy any of them reported.
#[derive(Default)]
pub(super) struct Scan<'a> {
    /// The requests, in order.
    pub(super) requests: Vec<Request>,
    pub(super) names: Interner<'a>,
    pub(super) cmids: Interner<'a>,
    pub(super) n_policy: Option<i64>,
}

/// Reads the fields the host view counts from the requests `at` (event indices), as one piece.
pub(super) fn scan<'a>(events: &'a [ActivationEvent], at: &[usize]) -> Scan<'a> {
    let mut fields = Fields::new(["client_name", "n_policy", "cmid", "result"]);
    let mut s = Scan {
        requests: Vec::with_capacity(at.len()),
        ..Scan::default()
    };
    for &r in at {
        let (Some(e), Ok(at)) = (events.get(r), u32::try_from(r)) else {
            continue;
        };
        let [client, n_policy, cmid, result] = fields.get(&e.payload);
        s.n_policy = s.n_policy.max(n_policy.and_then(int_of));
        s.requests.push(Request {
            at,
            client: client.and_then(text_of).and_then(|n| packed(s.names.id(n))),
            cmid: cmid.and_then(text_of).and_then(|c| packed(s.cmids.id(c))),
            counted: result.and_then(code_of) != Some(INVALID_TIMESTAMP),
        });
    }
    s
}

/// Requests per piece below which a host's requests are read on one thread.
pub(super) const SCAN_PIECE: usize = 16_384;

/// [`scan`] in up to `threads` consecutive pieces at once (a KMS host logs hundreds of thousands
/// of requests), each numbering its own names; the pieces are then joined in order, every
/// piece's names renumbered (in place) by the names before it, which gives exactly the one-pass
/// numbers.
pub(super) fn scan_in_pieces<'a>(
    events: &'a [ActivationEvent],
    at: &[usize],
    threads: usize,
    piece: usize,
) -> Scan<'a> {
    let pieces = threads.min(at.len() / piece.max(1)).max(1);
    if pieces == 1 {
        return scan(events, at);
    }
    let read: Option<Vec<Scan<'a>>> = std::thread::scope(|s| {
        let handles: Vec<_> = at
            .chunks(at.len().div_ceil(pieces))
            .map(|piece| s.spawn(move || scan(events, piece)))
            .collect();
        handles.into_iter().map(|h| h.join().ok()).collect()
    });
    let Some(read) = read else {
        // A piece's thread failed: read them all here.
        return scan(events, at);
    };
    let mut read = read.into_iter();
    let mut all = read.next().unwrap_or_default();
    for piece in read {
        let renumber = |ids: &Interner<'a>, into: &mut Interner<'a>| -> Vec<Option<NonZeroU32>> {
            ids.names.iter().map(|n| packed(into.id(n))).collect()
        };
        let names = renumber(&piece.names, &mut all.names);
        let cmids = renumber(&piece.cmids, &mut all.cmids);
        let new = |map: &[Option<NonZeroU32>], id: Option<NonZeroU32>| {
            id.and_then(|i| map.get(id_of(i)).copied().flatten())
        };
        all.requests.extend(piece.requests.iter().map(|q| Request {
            client: new(&names, q.client),
            cmid: new(&cmids, q.cmid),
            ..*q
        }));
        all.n_policy = all.n_policy.max(piece.n_policy);
    }
    all
}
