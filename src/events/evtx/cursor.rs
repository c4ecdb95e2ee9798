//! Reading a chunk's bytes: a little-endian cursor that stops at the chunk's end, and UTF-16LE
//! text as chunks store it. It knows bytes and text, not what they mean.

/// A read past the end of the chunk (a size or an offset pointing outside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct OutOfChunk;

pub(super) struct Cursor<'a> {
    pub(super) buf: &'a [u8],
    pub(super) pos: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn at(buf: &'a [u8], pos: usize) -> Self {
        Cursor { buf, pos }
    }
    /// The byte at the cursor, not read past.
    pub(super) fn peek(&self) -> Result<u8, OutOfChunk> {
        self.buf.get(self.pos).copied().ok_or(OutOfChunk)
    }
    pub(super) fn u8(&mut self) -> Result<u8, OutOfChunk> {
        let v = *self.buf.get(self.pos).ok_or(OutOfChunk)?;
        self.pos += 1;
        Ok(v)
    }
    pub(super) fn u16(&mut self) -> Result<u16, OutOfChunk> {
        let b: [u8; 2] = self
            .buf
            .get(self.pos..self.pos + 2)
            .and_then(|b| b.try_into().ok())
            .ok_or(OutOfChunk)?;
        self.pos += 2;
        Ok(u16::from_le_bytes(b))
    }
    pub(super) fn u32(&mut self) -> Result<u32, OutOfChunk> {
        let b: [u8; 4] = self
            .buf
            .get(self.pos..self.pos + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or(OutOfChunk)?;
        self.pos += 4;
        Ok(u32::from_le_bytes(b))
    }
    pub(super) fn bytes(&mut self, n: usize) -> Result<&'a [u8], OutOfChunk> {
        let b = self
            .buf
            .get(self.pos..self.pos.checked_add(n).ok_or(OutOfChunk)?)
            .ok_or(OutOfChunk)?;
        self.pos += n;
        Ok(b)
    }
    pub(super) fn utf16(&mut self, chars: usize) -> Result<String, OutOfChunk> {
        let b = self.bytes(chars.checked_mul(2).ok_or(OutOfChunk)?)?;
        Ok(utf16(b))
    }
}

/// The little-endian u32 at `at` in `b`.
pub(super) fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map(u32::from_le_bytes)
}

/// The little-endian u64 at `at` in `b`.
pub(super) fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
}

/// UTF-16LE to a string (lone surrogates become U+FFFD), trailing NULs dropped.
pub(super) fn utf16(b: &[u8]) -> String {
    let mut s = String::new();
    utf16_into(b, &mut s);
    s
}

/// [`utf16`], appended to `out` (a string reused from record to record allocates nothing).
pub(super) fn utf16_into(b: &[u8], out: &mut String) {
    let mut units = b.len() / 2;
    while units > 0 && b.get(2 * units - 2..2 * units) == Some(&[0, 0]) {
        units -= 1;
    }
    let b = b.get(..2 * units).unwrap_or(&[]);
    // Nearly every value is ASCII: one byte per unit.
    if ascii_utf16(b, out) {
        return;
    }
    let units = b.chunks_exact(2).map(|c| {
        u16::from_le_bytes([
            c.first().copied().unwrap_or(0),
            c.get(1).copied().unwrap_or(0),
        ])
    });
    out.reserve(b.len() / 2);
    for c in char::decode_utf16(units) {
        out.push(c.unwrap_or(char::REPLACEMENT_CHARACTER));
    }
}

/// UTF-16LE text that is all ASCII (every high byte 0, every low byte below 0x80), appended to
/// `out`; `false` (and `out` as it was) when a unit is not. Checked, then narrowed, in two passes
/// the compiler vectorises.
fn ascii_utf16(b: &[u8], out: &mut String) -> bool {
    const NOT_ASCII: u64 = 0xFF80_FF80_FF80_FF80;
    let words = b.chunks_exact(8);
    let rest = words.remainder();
    let ascii = words
        .map(|w| w.try_into().map_or(u64::MAX, u64::from_le_bytes))
        .all(|w| w & NOT_ASCII == 0)
        && rest
            .chunks_exact(2)
            .all(|c| c.get(1) == Some(&0) && c.first().is_some_and(u8::is_ascii));
    if !ascii {
        return false;
    }
    let mut bytes = std::mem::take(out).into_bytes();
    bytes.extend(b.chunks_exact(2).map(|c| c.first().copied().unwrap_or(0)));
    // ASCII added to text: always text again (the check only fails if that were untrue, and
    // then the string is simply left empty).
    *out = String::from_utf8(bytes).unwrap_or_default();
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn le(units: &[u16]) -> Vec<u8> {
        units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    #[test]
    fn utf16_reads_like_the_standard_decoder_at_every_length_and_position() {
        let specials: [&[u16]; 5] = [
            &[0xE9],           // é
            &[0x4E2D],         // 中
            &[0xD83D, 0xDE00], // a surrogate pair
            &[0xD800],         // a lone surrogate
            &[0x80],           // just above ASCII
        ];
        for len in 0..20 {
            let ascii: Vec<u16> = (0..len).map(|i| u16::from(b'a') + i % 26).collect();
            assert_eq!(utf16(&le(&ascii)), String::from_utf16_lossy(&ascii));
            for special in specials {
                for at in 0..=ascii.len() {
                    let mut units = ascii.clone();
                    units.splice(at..at, special.iter().copied());
                    assert_eq!(
                        utf16(&le(&units)),
                        String::from_utf16_lossy(&units),
                        "{units:x?}"
                    );
                    // Appended to text already there, which a failed ASCII pass leaves as it was.
                    let mut s = String::from("\u{e9}:");
                    utf16_into(&le(&units), &mut s);
                    assert_eq!(s, format!("\u{e9}:{}", String::from_utf16_lossy(&units)));
                }
            }
        }
    }

    #[test]
    fn utf16_drops_trailing_nuls_and_an_odd_last_byte() {
        let mut b = le(&[u16::from(b'p'), u16::from(b'c'), 0, 0]);
        assert_eq!(utf16(&b), "pc");
        b.push(b'x');
        assert_eq!(utf16(&b), "pc");
        assert_eq!(utf16(&le(&[0, u16::from(b'a')])), "\0a");
    }
}
