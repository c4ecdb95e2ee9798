//! Names numbered as first met, compared and hashed ignoring ASCII case: the correlation counts a
//! KMS host's hundreds of thousands of requests by a few hundred names without copying each. Pure
//! machinery; it knows nothing of activation.

use std::collections::{HashMap, HashSet};

/// A name (CMID, client name) hashed and compared ignoring ASCII case, borrowed from its event:
/// the host views count hundreds of thousands of requests by a few hundred names without
/// copying each.
#[derive(Debug, Clone, Copy)]
pub(super) struct NoCase<'a>(pub(super) &'a str);

impl PartialEq for NoCase<'_> {
    fn eq(&self, other: &Self) -> bool {
        // Names are mostly logged in one spelling: the plain comparison answers first.
        self.0 == other.0 || self.0.eq_ignore_ascii_case(other.0)
    }
}

impl Eq for NoCase<'_> {}

impl std::hash::Hash for NoCase<'_> {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        // Eight bytes a word, the case bit (0x20) set in every byte: an upper- and a lower-case
        // letter hash alike, and names equal ignoring case (whose other bytes are identical)
        // always hash alike.
        const CASE: u64 = 0x2020_2020_2020_2020;
        let b = self.0.as_bytes();
        h.write_usize(b.len());
        let mut words = b.chunks_exact(8);
        for w in &mut words {
            h.write_u64(w.try_into().map_or(0, u64::from_le_bytes) | CASE);
        }
        let mut tail = [0u8; 8];
        for (d, s) in tail.iter_mut().zip(words.remainder()) {
            *d = *s;
        }
        h.write_u64(u64::from_le_bytes(tail) | CASE);
    }
}

/// A hasher for pairs of the small numbers [`Interner`] gives: the numbers come from the order
/// names were met, not from their text, so a multiply-and-rotate spreads them well enough, at a
/// fraction of the cost of `SipHash` per request.
#[derive(Default)]
pub(super) struct IdHasher(u64);

impl std::hash::Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.write_u64(u64::from(*b));
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = (self.0 ^ n)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15)
            .rotate_left(29);
    }

    fn write_usize(&mut self, n: usize) {
        self.write_u64(n as u64);
    }
}

/// A set of (id, id) pairs.
pub(super) type IdPairs = HashSet<(usize, usize), std::hash::BuildHasherDefault<IdHasher>>;

/// Names (case ignored) numbered in the order first met, borrowed from the events. Hashed with
/// `foldhash` (hashbrown's own default), seeded at random per map like the standard hasher but at
/// a third of its cost per name: the names come from the network (a host logs whatever a client
/// sends), so the hash stays keyed.
#[derive(Default)]
pub(super) struct Interner<'a> {
    ids: HashMap<NoCase<'a>, usize, foldhash::fast::RandomState>,
    pub(super) names: Vec<&'a str>,
}

impl<'a> Interner<'a> {
    pub(super) fn id(&mut self, name: &'a str) -> usize {
        *self.ids.entry(NoCase(name)).or_insert_with(|| {
            self.names.push(name);
            self.names.len() - 1
        })
    }

    pub(super) fn name(&self, id: usize) -> &'a str {
        self.names.get(id).copied().unwrap_or("")
    }
}
