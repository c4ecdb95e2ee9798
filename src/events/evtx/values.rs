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
    /// A signed integer (written in decimal, as a JSON number by the crate).
    Signed(i64),
    /// A boolean stored as 0 or 1 (any other stored value reads as a signed integer, as the
    /// crate keeps it).
    Bool(bool),
    /// A hexadecimal integer (and a pointer-sized one): `0x` and lower-case digits.
    Hex(u64),
    /// Binary bytes: upper-case hex digits.
    Binary(&'a [u8]),
    /// A security identifier's bytes, checked to hold its sub-authorities.
    Sid(&'a [u8]),
    FileTime(u64),
    /// A GUID's 16 bytes.
    Guid(&'a [u8]),
    /// NUL-terminated UTF-16 strings one after the other (each item's terminator checked): an
    /// array substitution, which repeats the `Data` element holding it once per item.
    Strings(&'a [u8]),
    /// Chunk offset and size of a nested fragment.
    BinXml(usize, usize),
    /// A type this reader does not render (the type): the chunk goes to the crate if the value
    /// is needed.
    Other(u8),
}

impl<'a> Value<'a> {
    /// Appends the value's text as the crate renders it; a null adds nothing.
    fn write(&self, out: &mut String) -> Result<(), Decline> {
        match self {
            Value::Null => {}
            Value::Text(b) => utf16_into(b, out),
            Value::Guid(b) => guid_text(b, out),
            Value::Num(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Signed(n) => {
                let _ = write!(out, "{n}");
            }
            Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Value::Hex(n) => {
                let _ = write!(out, "0x{n:x}");
            }
            Value::Binary(b) => {
                for byte in *b {
                    let _ = write!(out, "{byte:02X}");
                }
            }
            Value::Sid(b) => sid_text(b, out),
            // One item renders as itself, none as nothing; more repeat their element, which
            // only `Data` does here (see `array_items`).
            Value::Strings(b) => match string_items(b).as_slice() {
                [] => {}
                [one] => utf16_into(one, out),
                _ => return Err(Decline::UnsupportedValueType(value_type::STRING_ARRAY)),
            },
            Value::FileTime(_) => return Err(Decline::UnsupportedValueType(value_type::FILETIME)),
            Value::BinXml(..) => return Err(Decline::UnsupportedValueType(value_type::BINXML)),
            Value::Other(ty) => return Err(Decline::UnsupportedValueType(*ty)),
        }
        Ok(())
    }

    /// The items of a string array, `None` for any other value.
    pub(super) fn array_items(&self) -> Option<Vec<&'a [u8]>> {
        match self {
            Value::Strings(b) => Some(string_items(b)),
            _ => None,
        }
    }
}

/// A string array's items: its payload split at each NUL unit (the payload ends in one: see
/// [`Subs::get`]); none when it is empty.
fn string_items(b: &[u8]) -> Vec<&[u8]> {
    let mut items = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while let Some(unit) = b.get(i..i + 2) {
        if unit == [0, 0] {
            items.push(b.get(start..i).unwrap_or(&[]));
            start = i + 2;
        }
        i += 2;
    }
    items
}

/// A SID as the crate writes it: `S-revision-authority-sub…`, the authority big-endian in six
/// bytes, each sub-authority a little-endian u32 (the size was checked in [`Subs::get`]).
fn sid_text(b: &[u8], s: &mut String) {
    let [revision, _count, a0, a1, a2, a3, a4, a5, subs @ ..] = b else {
        return;
    };
    let authority = u64::from_be_bytes([0, 0, *a0, *a1, *a2, *a3, *a4, *a5]);
    let _ = write!(s, "S-{revision}-{authority}");
    for sub in subs.chunks_exact(4) {
        let v = sub.try_into().map_or(0, u32::from_le_bytes);
        let _ = write!(s, "-{v}");
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
        let signed = || -> i64 {
            match raw.len() {
                1 => i64::from(raw.first().map_or(0, |b| b.cast_signed())),
                2 => raw
                    .try_into()
                    .map_or(0, |w| i64::from(i16::from_le_bytes(w))),
                4 => raw
                    .try_into()
                    .map_or(0, |w| i64::from(i32::from_le_bytes(w))),
                _ => raw.try_into().map_or(0, i64::from_le_bytes),
            }
        };
        Some(match (ty, size) {
            (value_type::NULL, _) => Value::Null,
            (value_type::STRING, _) => Value::Text(raw),
            (value_type::UINT8, 1)
            | (value_type::UINT16, 2)
            | (value_type::UINT32, 4)
            | (value_type::UINT64, 8) => Value::Num(num()),
            (value_type::INT8, 1)
            | (value_type::INT16, 2)
            | (value_type::INT32, 4)
            | (value_type::INT64, 8) => Value::Signed(signed()),
            (value_type::BOOL, 4) => match signed() {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                n => Value::Signed(n),
            },
            (value_type::HEXINT32 | value_type::SIZE_T, 4)
            | (value_type::HEXINT64 | value_type::SIZE_T, 8) => Value::Hex(num()),
            (value_type::BINARY, _) => Value::Binary(raw),
            (value_type::SID, _) if sid_fits(raw) => Value::Sid(raw),
            (value_type::FILETIME, 8) => Value::FileTime(num()),
            (value_type::GUID, 16) => Value::Guid(raw),
            (value_type::STRING_ARRAY, _)
                if raw.len() % 2 == 0 && (raw.is_empty() || raw.ends_with(&[0, 0])) =>
            {
                Value::Strings(raw)
            }
            (value_type::BINXML, _) => Value::BinXml(start, size),
            _ => Value::Other(ty),
        })
    }

    /// Whether value `i` is a null (the type the crate leaves an element out for, when the
    /// element depends on it).
    pub(super) fn is_null(&self, i: u16) -> bool {
        self.values
            .get(usize::from(i))
            .is_some_and(|v| v.2 == value_type::NULL)
    }

    /// The type of value `i`, as its descriptor gives it (null when there is no such value).
    pub(super) fn type_of(&self, i: u16) -> u8 {
        self.values
            .get(usize::from(i))
            .map_or(value_type::NULL, |v| v.2)
    }
}

/// Whether a SID's bytes hold exactly the sub-authorities its count says (8 bytes, then 4 each).
fn sid_fits(b: &[u8]) -> bool {
    b.get(1).is_some_and(|n| b.len() == 8 + 4 * usize::from(*n))
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
