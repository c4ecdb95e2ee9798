//! A record's substitution values: the array that follows its template instance, each value
//! typed by its descriptor and decoded only when asked for, and template content rendered to
//! text from them as the `evtx` crate renders it. It knows value types, not which element a
//! value fills (`record.rs`).

use std::fmt::Write;

use super::cursor::{Cursor, utf16_into};
use super::decline::Decline;
use super::layout::value_type;
use super::template::{Child, Content};

/// A decoded substitution value.
#[derive(Debug, Clone)]
pub(super) enum Value<'a> {
    Null,
    /// UTF-16LE text, decoded where it is written.
    Text(&'a [u8]),
    Num(u64),
    FileTime(u64),
    /// A GUID's 16 bytes.
    Guid(&'a [u8]),
    /// Chunk offset and size of a nested fragment.
    BinXml(usize, usize),
    /// A type this reader does not render (the type): the chunk goes to the crate if the value
    /// is needed.
    Other(u8),
}

impl Value<'_> {
    /// Appends the value's text as the crate renders it; a null adds nothing.
    fn write(&self, out: &mut String) -> Result<(), Decline> {
        match self {
            Value::Null => {}
            Value::Text(b) => utf16_into(b, out),
            Value::Guid(b) => guid_text(b, out),
            Value::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Value::FileTime(_) => return Err(Decline::UnsupportedValueType(value_type::FILETIME)),
            Value::BinXml(..) => return Err(Decline::UnsupportedValueType(value_type::BINXML)),
            Value::Other(ty) => return Err(Decline::UnsupportedValueType(*ty)),
        }
        Ok(())
    }
}

/// Most substitution values a record may have.
const MAX_VALUES: usize = 4096;

/// The substitution array: descriptors, then the values one after the other.
/// The descriptors go to `values` (a buffer reused from record to record).
pub(super) fn substitutions<'a, 'v>(
    c: &mut Cursor<'a>,
    values: &'v mut Vec<(usize, usize, u8)>,
) -> Result<Subs<'a, 'v>, Decline> {
    let count = c.u32()? as usize;
    if count > MAX_VALUES {
        return Err(Decline::TooManyValues);
    }
    // Each value's descriptor: its size (u16), its type, a pad byte; the values follow.
    let table = c.bytes(count * 4)?;
    let mut at = c.pos;
    values.clear();
    values.extend(table.chunks_exact(4).map(|d| {
        let (size, ty) = match *d {
            [lo, hi, ty, _] => (usize::from(u16::from_le_bytes([lo, hi])), ty),
            _ => (0, 0),
        };
        let start = at;
        // At most 4096 values of at most 64 KiB each: no overflow.
        at += size;
        (start, size, ty)
    }));
    if at > c.buf.len() {
        return Err(Decline::OutOfChunk);
    }
    c.pos = at;
    Ok(Subs { buf: c.buf, values })
}

/// A record's substitution values, decoded only when asked for.
pub(super) struct Subs<'a, 'v> {
    buf: &'a [u8],
    values: &'v [(usize, usize, u8)],
}

impl<'a> Subs<'a, '_> {
    pub(super) fn get(&self, i: u16) -> Option<Value<'a>> {
        let (start, size, ty) = *self.values.get(usize::from(i))?;
        let raw = self.buf.get(start..start + size)?;
        let num = || -> u64 {
            match raw.len() {
                8 => raw.try_into().map_or(0, u64::from_le_bytes),
                4 => raw
                    .try_into()
                    .map_or(0, |w| u64::from(u32::from_le_bytes(w))),
                2 => raw
                    .try_into()
                    .map_or(0, |w| u64::from(u16::from_le_bytes(w))),
                _ => raw
                    .iter()
                    .take(8)
                    .rev()
                    .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)),
            }
        };
        Some(match ty {
            value_type::NULL => Value::Null,
            value_type::STRING => Value::Text(raw),
            value_type::UINT8 | value_type::UINT16 | value_type::UINT32 | value_type::UINT64
                if size <= 8 =>
            {
                Value::Num(num())
            }
            value_type::FILETIME if size == 8 => Value::FileTime(num()),
            value_type::GUID if size == 16 => Value::Guid(raw),
            value_type::BINXML => Value::BinXml(start, size),
            _ => Value::Other(ty),
        })
    }

    /// The type of value `i`, as its descriptor gives it (null when there is no such value).
    pub(super) fn type_of(&self, i: u16) -> u8 {
        self.values
            .get(usize::from(i))
            .map_or(value_type::NULL, |v| v.2)
    }
}

/// A GUID's 16 bytes as the `evtx` crate writes them: `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`,
/// lower case, the first three groups little-endian.
fn guid_text(b: &[u8], s: &mut String) {
    const ORDER: [usize; 16] = [3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15];
    s.reserve(38);
    s.push('{');
    for (i, idx) in ORDER.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            s.push('-');
        }
        let byte = b.get(*idx).copied().unwrap_or(0);
        for nibble in [byte >> 4, byte & 0x0F] {
            s.push(char::from_digit(u32::from(nibble), 16).unwrap_or('0'));
        }
    }
    s.push('}');
}

/// The text an element's content renders to.
pub(super) fn render(content: &[Child], values: &Subs<'_, '_>) -> Result<String, Decline> {
    let mut s = String::new();
    render_into(content, values, &mut s)?;
    Ok(s)
}

/// [`render`], appended to `out`.
pub(super) fn render_into(
    content: &[Child],
    values: &Subs<'_, '_>,
    out: &mut String,
) -> Result<(), Decline> {
    for ch in content {
        match ch {
            Child::Content(Content::Text(t)) => out.push_str(t),
            Child::Content(Content::Sub(id)) => {
                values.get(*id).ok_or(Decline::MissingValue)?.write(out)?;
            }
            Child::Element(_) => return Err(Decline::ElementInText),
        }
    }
    Ok(())
}

/// An attribute's text; `None` when it is absent (an attribute whose only substitution is null
/// is left out, as Windows renders it).
pub(super) fn render_attr(
    value: &[Content],
    values: &Subs<'_, '_>,
) -> Result<Option<String>, Decline> {
    match value {
        [Content::Sub(id)] => match values.get(*id) {
            Some(Value::Null) | None => Ok(None),
            Some(v) => {
                let mut s = String::new();
                v.write(&mut s)?;
                Ok(Some(s))
            }
        },
        [Content::Text(t)] => Ok(Some(t.to_string())),
        _ => {
            let children: Vec<Child> = value.iter().cloned().map(Child::Content).collect();
            render(&children, values).map(Some)
        }
    }
}
