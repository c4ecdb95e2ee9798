//! The `.evtx` pre-filter: reads each chunk's records far enough to learn their provider and
//! event id — from the record's template definition (parsed once per chunk) and its substitution
//! values — and decodes in full only the records asked for, without building any XML or JSON.
//! A chunk holding anything this reader does not understand (an unusual template shape, a value
//! type it does not render, damage) is handed whole to the `evtx` crate, so the answer is the
//! crate's answer, only faster. Chunks can be read apart (ranges of one file on several threads)
//! and put back in file order by a [`Tally`], which every read ends in. Layout: MS-EVEN6 §2.2
//! (chunk, record, binary XML).

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::rc::Rc;
use std::sync::Arc;

use super::RawEvent;

const FILE_HEADER: usize = 4096;
const CHUNK: usize = 65536;

/// What a chunk read by the crate yields: its kept records (numbered from 0 within the chunk),
/// what could not be read, its record count.
pub type ChunkRead = (Vec<RawEvent>, Vec<Damage>, u64);

/// Something in a chunk that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The record's position within its chunk, when one record is meant: said as its position
    /// in the file once the records before the chunk are counted.
    pub record: Option<u64>,
    /// What is wrong (said after `record #N ` when a record is meant).
    pub what: String,
}

impl Damage {
    /// Damage that is not one record's.
    pub fn said(what: String) -> Damage {
        Damage { record: None, what }
    }
}

/// What to decode: a provider (by name, GUID or source name) and an event id.
pub struct Select<'a> {
    pub provider: &'a dyn Fn(&str) -> bool,
    pub event_id: &'a dyn Fn(u32) -> bool,
}

/// Content of a template node.
#[derive(Debug, Clone)]
enum Content {
    /// Literal text, shared with every record of the template (provider, channel and computer
    /// names are literal in Windows' templates).
    Text(Arc<str>),
    Sub(u16),
}

#[derive(Debug, Clone, Default)]
struct Element {
    name: Rc<str>,
    attrs: Vec<(Rc<str>, Vec<Content>)>,
    children: Vec<Child>,
}

#[derive(Debug, Clone)]
enum Child {
    Element(Element),
    Content(Content),
}

/// A decoded substitution value.
#[derive(Debug, Clone)]
enum Value<'a> {
    Null,
    /// UTF-16LE text, decoded where it is written.
    Text(&'a [u8]),
    Num(u64),
    FileTime(u64),
    /// A GUID's 16 bytes.
    Guid(&'a [u8]),
    /// Chunk offset and size of a nested fragment.
    BinXml(usize, usize),
    /// A type this reader does not render: the chunk goes to the crate if the value is needed.
    Other,
}

impl Value<'_> {
    /// Appends the value's text as the crate renders it (`None`: not rendered by this reader);
    /// a null adds nothing.
    fn write(&self, out: &mut String) -> Option<()> {
        match self {
            Value::Null => {}
            Value::Text(b) => utf16_into(b, out),
            Value::Guid(b) => guid_text(b, out),
            Value::Num(n) => {
                use std::fmt::Write;
                let _ = write!(out, "{n}");
            }
            _ => return None,
        }
        Some(())
    }
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn u8(&mut self) -> Option<u8> {
        let v = *self.buf.get(self.pos)?;
        self.pos += 1;
        Some(v)
    }
    fn u16(&mut self) -> Option<u16> {
        let b: [u8; 2] = self.buf.get(self.pos..self.pos + 2)?.try_into().ok()?;
        self.pos += 2;
        Some(u16::from_le_bytes(b))
    }
    fn u32(&mut self) -> Option<u32> {
        let b: [u8; 4] = self.buf.get(self.pos..self.pos + 4)?.try_into().ok()?;
        self.pos += 4;
        Some(u32::from_le_bytes(b))
    }
    fn bytes(&mut self, n: usize) -> Option<&'a [u8]> {
        let b = self.buf.get(self.pos..self.pos.checked_add(n)?)?;
        self.pos += n;
        Some(b)
    }
    fn utf16(&mut self, chars: usize) -> Option<String> {
        let b = self.bytes(chars.checked_mul(2)?)?;
        Some(utf16(b))
    }
}

/// UTF-16LE to a string (lone surrogates become U+FFFD), trailing NULs dropped.
fn utf16(b: &[u8]) -> String {
    let mut s = String::new();
    utf16_into(b, &mut s);
    s
}

/// [`utf16`], appended to `out` (a string reused from record to record allocates nothing).
fn utf16_into(b: &[u8], out: &mut String) {
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

/// A name in the chunk's string table, at `off`, and its length in UTF-16 units.
fn name_at(chunk: &[u8], off: usize) -> Option<(Rc<str>, usize)> {
    let mut c = Cursor {
        buf: chunk,
        pos: off,
    };
    let _next = c.u32()?;
    let _hash = c.u16()?;
    let n = c.u16()?;
    Some((Rc::from(c.utf16(usize::from(n))?), usize::from(n)))
}

/// The element and attribute names of one chunk's templates, by offset: the same few dozen
/// names (`Event`, `System`, `Provider`, `Data`…) recur in every template, decoded once.
#[derive(Default)]
struct Names {
    known: HashMap<usize, (Rc<str>, usize), foldhash::fast::RandomState>,
    /// Where in the chunk the names read since this was last cleared stand: their first byte
    /// and their last.
    reach: Option<(usize, usize)>,
}

/// Distinct names kept per chunk (its string table cannot hold many more); past it, names are
/// decoded each time.
const NAMES_KEPT: usize = 4096;

/// Reads a name reference; skips the name when it is defined in place.
fn name_ref(c: &mut Cursor<'_>, names: &mut Names) -> Option<Rc<str>> {
    let off = c.u32()? as usize;
    let (name, n) = if let Some(known) = names.known.get(&off) {
        known.clone()
    } else {
        let found = name_at(c.buf, off)?;
        if names.known.len() < NAMES_KEPT {
            names.known.insert(off, found.clone());
        }
        found
    };
    // A name is next(4) hash(2) count(2) chars, NUL(2).
    let last = off.saturating_add(8 + n * 2 + 1);
    names.reach = Some(
        names
            .reach
            .map_or((off, last), |(lo, hi)| (lo.min(off), hi.max(last))),
    );
    if off == c.pos {
        // Defined in place: read past it.
        c.pos = last.saturating_add(1);
    }
    Some(name)
}

/// An element's attributes, by name.
type Attrs = Vec<(Rc<str>, Vec<Content>)>;

/// An element's start tag, after its token: its name, its attributes and whether content
/// follows (`false`: the element closed itself).
fn start_tag(c: &mut Cursor<'_>, names: &mut Names, token: u8) -> Option<(Rc<str>, Attrs, bool)> {
    let _dep = c.u16()?;
    let _size = c.u32()?;
    let name = name_ref(c, names)?;
    let mut attrs = Vec::new();
    if token & 0x40 != 0 {
        let _attr_size = c.u32()?;
        loop {
            let t = *c.buf.get(c.pos)?;
            if t & 0x0F != 0x06 {
                break;
            }
            c.pos += 1;
            let name = name_ref(c, names)?;
            let mut value = Vec::new();
            loop {
                let t = *c.buf.get(c.pos)?;
                match t {
                    0x05 | 0x45 => {
                        c.pos += 1;
                        value.push(Content::Text(text_value(c)?.into()));
                    }
                    0x0D | 0x0E => {
                        c.pos += 1;
                        let id = c.u16()?;
                        let _ty = c.u8()?;
                        value.push(Content::Sub(id));
                    }
                    _ => break,
                }
            }
            attrs.push((name, value));
        }
    }
    match c.u8()? {
        0x03 => Some((name, attrs, false)),
        0x02 => Some((name, attrs, true)),
        _ => None,
    }
}

/// Parses a template definition's element tree (tokens after the fragment header).
fn parse_element(
    c: &mut Cursor<'_>,
    names: &mut Names,
    token: u8,
    depth: usize,
) -> Option<Element> {
    if depth > 32 {
        return None;
    }
    let (name, attrs, open) = start_tag(c, names, token)?;
    let mut el = Element {
        name,
        attrs,
        children: Vec::new(),
    };
    if !open {
        return Some(el);
    }
    loop {
        let t = c.u8()?;
        match t {
            0x04 => return Some(el),
            0x01 | 0x41 => el
                .children
                .push(Child::Element(parse_element(c, names, t, depth + 1)?)),
            0x05 | 0x45 => el
                .children
                .push(Child::Content(Content::Text(text_value(c)?.into()))),
            0x0D | 0x0E => {
                let id = c.u16()?;
                let _ty = c.u8()?;
                el.children.push(Child::Content(Content::Sub(id)));
            }
            // CDATA, character and entity references, processing instructions: rare in event
            // templates; let the crate render them.
            _ => return None,
        }
    }
}

fn text_value(c: &mut Cursor<'_>) -> Option<String> {
    match c.u8()? {
        0x01 => {
            let n = c.u16()?;
            c.utf16(usize::from(n))
        }
        _ => None,
    }
}

/// A template definition at `off`: a cursor at its root element's token, the token, and where
/// the definition ends.
fn template_start(chunk: &[u8], off: usize) -> Option<(Cursor<'_>, u8, usize)> {
    let mut c = Cursor {
        buf: chunk,
        pos: off,
    };
    let _next = c.u32()?;
    let _guid = c.bytes(16)?;
    let size = c.u32()? as usize;
    let end = c.pos.checked_add(size)?;
    if end > chunk.len() {
        return None;
    }
    if c.u8()? == 0x0F {
        c.pos += 3;
    } else {
        c.pos -= 1;
    }
    let t = c.u8()?;
    (t & 0x0F == 0x01).then_some((c, t, end))
}

/// A template definition at `off`: its root element, and — when it read nothing of the chunk
/// but its own bytes — where it ends (the same bytes at the same offset in another chunk are
/// then the same template).
fn template_at(chunk: &[u8], off: usize, names: &mut Names) -> Option<(Element, Option<usize>)> {
    let (mut c, t, end) = template_start(chunk, off)?;
    names.reach = None;
    let root = parse_element(&mut c, names, t, 0)?;
    let own = c.pos <= end && names.reach.is_none_or(|(lo, hi)| lo >= off && hi < end);
    Some((root, own.then_some(end)))
}

/// The attributes of a template's provider when the template opens the usual way,
/// `<Event><System><Provider …>`: read without parsing the rest, so a template of a provider
/// that is not wanted costs its first three tags (most of a busy log's templates are such).
fn peek_provider(chunk: &[u8], off: usize, names: &mut Names) -> Option<Attrs> {
    let (mut c, mut t, _) = template_start(chunk, off)?;
    for want in ["Event", "System"] {
        let (name, _, open) = start_tag(&mut c, names, t)?;
        if &*name != want || !open {
            return None;
        }
        t = c.u8()?;
        if t & 0x0F != 0x01 {
            return None;
        }
    }
    let (name, attrs, _) = start_tag(&mut c, names, t)?;
    (&*name == "Provider").then_some(attrs)
}

/// What a provider's literal names decide for every record of its template: `Some(true)` when
/// one is wanted, `Some(false)` when none is, `None` when a name is a substitution (each record
/// then says).
fn literal_decision(attrs: &[(Rc<str>, Vec<Content>)], select: &Select<'_>) -> Option<bool> {
    let literal: Option<Vec<&str>> = ["Name", "Guid", "EventSourceName"]
        .iter()
        .filter_map(|n| attr_in(attrs, n))
        .map(|v| match v {
            [Content::Text(t)] => Some(&**t),
            _ => None,
        })
        .collect();
    literal.map(|names| names.iter().any(|n| (select.provider)(n)))
}

/// A template instance at `c`: the template (cached by offset) and the substitution values.
fn instance<'a, 'v>(
    c: &mut Cursor<'a>,
    templates: &mut Templates,
    scratch: &'v mut Vec<(usize, usize, u8)>,
) -> Option<(usize, Subs<'a, 'v>)> {
    let def = instance_header(c, templates, None)?;
    Some((def, substitutions(c, scratch)?))
}

/// The template instance's header: the template's offset (parsed into the cache on first use);
/// leaves the cursor at the substitution array.
fn instance_header(
    c: &mut Cursor<'_>,
    templates: &mut Templates,
    select: Option<&Select<'_>>,
) -> Option<usize> {
    if c.u8()? == 0x0F {
        c.pos += 3;
    } else {
        c.pos -= 1;
    }
    if c.u8()? != 0x0C {
        return None;
    }
    let _unknown = c.u8()?;
    let _id = c.u32()?;
    let def = c.u32()? as usize;
    if def == c.pos {
        let mut h = Cursor {
            buf: c.buf,
            pos: c.pos,
        };
        let _next = h.u32()?;
        let _guid = h.bytes(16)?;
        let size = h.u32()? as usize;
        c.pos = h.pos.checked_add(size)?;
    }
    templates.parse(c.buf, def, select);
    Some(def)
}

/// One chunk's templates by offset, each parsed on first use (`None`: a shape this reader leaves
/// to the crate), with what its literal provider decides. A chunk holds a few dozen at most, so
/// a scan from the last one used beats hashing the offset for every record.
#[derive(Default)]
struct Templates {
    entries: Vec<Template>,
    last: usize,
    names: Names,
    /// Templates of earlier chunks, reused where this one has the same bytes.
    kept: Vec<Kept>,
}

/// A template parsed in an earlier chunk that read nothing but its own bytes, with those bytes
/// (after the definition's first four, a link that differs from chunk to chunk). A log's chunks
/// mostly define the same few templates at the same offsets — a KMS host's, one template in
/// every chunk — which are then taken from here instead of parsed again.
#[derive(Debug)]
struct Kept {
    at: usize,
    bytes: Box<[u8]>,
    root: Rc<Element>,
}

/// Templates kept from chunk to chunk (the oldest gives way).
const KEPT: usize = 16;

struct Template {
    /// Its offset in the chunk.
    at: usize,
    /// Its root element; `None`: a shape this reader leaves to the crate.
    root: Option<Rc<Element>>,
    /// What its literal provider decides, once worked out (`None`: nothing literal); known
    /// from the peek when the template opens the usual way, and then, when it is `Some(false)`,
    /// the template is not parsed at all.
    provider: std::cell::OnceCell<Option<bool>>,
    /// Where the System elements the reader wants stand, found once.
    plan: std::cell::OnceCell<Plan>,
}

/// Positions of the elements a record's System fields are read from: in the root's children
/// (`System`), then in System's children — the first element of each name, as a search by name
/// finds it, looked up once per template instead of for every record.
#[derive(Debug, Clone, Copy, Default)]
struct Plan {
    system: Option<usize>,
    provider: Option<usize>,
    event_id: Option<usize>,
    time_created: Option<usize>,
    level: Option<usize>,
    record_id: Option<usize>,
    channel: Option<usize>,
    computer: Option<usize>,
}

impl Plan {
    fn of(root: &Element) -> Plan {
        let at = |el: &Element, name: &str| {
            el.children
                .iter()
                .position(|c| matches!(c, Child::Element(e) if *e.name == *name))
        };
        let system = at(root, "System");
        let Some(s) = system.and_then(|i| nth(root, Some(i))) else {
            return Plan::default();
        };
        Plan {
            system,
            provider: at(s, "Provider"),
            event_id: at(s, "EventID"),
            time_created: at(s, "TimeCreated"),
            level: at(s, "Level"),
            record_id: at(s, "EventRecordID"),
            channel: at(s, "Channel"),
            computer: at(s, "Computer"),
        }
    }
}

/// The child element at a position a [`Plan`] found.
fn nth(el: &Element, i: Option<usize>) -> Option<&Element> {
    match el.children.get(i?)? {
        Child::Element(e) => Some(e),
        Child::Content(_) => None,
    }
}

impl Templates {
    fn find(&mut self, def: usize) -> Option<usize> {
        if self.entries.get(self.last).is_some_and(|e| e.at == def) {
            return Some(self.last);
        }
        let i = self.entries.iter().position(|e| e.at == def)?;
        self.last = i;
        Some(i)
    }

    /// Parses the template at `def` unless it is known already. With `select` (a record's own
    /// template, not a nested one), a template whose literal provider is not wanted is only
    /// marked so, not parsed.
    fn parse(&mut self, chunk: &[u8], def: usize, select: Option<&Select<'_>>) {
        if self.find(def).is_none() {
            let provider = std::cell::OnceCell::new();
            if let Some(decided) = select.and_then(|select| {
                peek_provider(chunk, def, &mut self.names)
                    .map(|attrs| literal_decision(&attrs, select))
            }) {
                let _ = provider.set(decided);
            }
            let unwanted = provider.get() == Some(&Some(false));
            let root = if unwanted {
                None
            } else {
                self.root_at(chunk, def)
            };
            self.entries.push(Template {
                at: def,
                root,
                provider,
                plan: std::cell::OnceCell::new(),
            });
            self.last = self.entries.len() - 1;
        }
    }

    /// The root of the template at `def`: one kept from an earlier chunk that has the same bytes
    /// there, else parsed (and kept when it read nothing but its own bytes).
    fn root_at(&mut self, chunk: &[u8], def: usize) -> Option<Rc<Element>> {
        let from = def.checked_add(4)?;
        if let Some(k) = self
            .kept
            .iter()
            .find(|k| k.at == def && chunk.get(from..).is_some_and(|b| b.starts_with(&k.bytes)))
        {
            return Some(k.root.clone());
        }
        let (root, end) = template_at(chunk, def, &mut self.names)?;
        let root = Rc::new(root);
        if let Some(bytes) = end.and_then(|end| chunk.get(from..end)) {
            if self.kept.len() >= KEPT {
                self.kept.remove(0);
            }
            self.kept.push(Kept {
                at: def,
                bytes: bytes.into(),
                root: root.clone(),
            });
        }
        Some(root)
    }

    /// The template at `def`, if it was parsed and its shape is understood.
    fn get(&mut self, def: usize) -> Option<Rc<Element>> {
        let i = self.find(def)?;
        self.entries.get(i).and_then(|e| e.root.clone())
    }

    /// The template at `def`, if it was parsed.
    fn entry(&mut self, def: usize) -> Option<&Template> {
        let i = self.find(def)?;
        self.entries.get(i)
    }
}

/// The substitution array: descriptors, then the values one after the other.
/// The descriptors go to `values` (a buffer reused from record to record).
fn substitutions<'a, 'v>(
    c: &mut Cursor<'a>,
    values: &'v mut Vec<(usize, usize, u8)>,
) -> Option<Subs<'a, 'v>> {
    let count = c.u32()? as usize;
    if count > 4096 {
        return None;
    }
    // Each value's descriptor: its size (u16), its type, a pad byte; the values follow.
    let table = c.bytes(count.checked_mul(4)?)?;
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
        return None;
    }
    c.pos = at;
    Some(Subs { buf: c.buf, values })
}

/// A record's substitution values, decoded only when asked for.
struct Subs<'a, 'v> {
    buf: &'a [u8],
    values: &'v [(usize, usize, u8)],
}

impl<'a> Subs<'a, '_> {
    fn get(&self, i: u16) -> Option<Value<'a>> {
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
            0x00 => Value::Null,
            0x01 => Value::Text(raw),
            0x04 | 0x06 | 0x08 | 0x0A if size <= 8 => Value::Num(num()),
            0x11 if size == 8 => Value::FileTime(num()),
            0x0F if size == 16 => Value::Guid(raw),
            0x21 => Value::BinXml(start, size),
            _ => Value::Other,
        })
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

/// The text an element's content renders to (`None`: a value this reader does not render).
fn render(content: &[Child], values: &Subs<'_, '_>) -> Option<String> {
    let mut s = String::new();
    render_into(content, values, &mut s)?;
    Some(s)
}

/// [`render`], appended to `out`.
fn render_into(content: &[Child], values: &Subs<'_, '_>, out: &mut String) -> Option<()> {
    for ch in content {
        match ch {
            Child::Content(Content::Text(t)) => out.push_str(t),
            Child::Content(Content::Sub(id)) => values.get(*id)?.write(out)?,
            Child::Element(_) => return None,
        }
    }
    Some(())
}

#[allow(clippy::option_option)] // outer: rendered at all; inner: present (a null is left out)
fn render_attr(value: &[Content], values: &Subs<'_, '_>) -> Option<Option<String>> {
    match value {
        // An attribute whose only substitution is null is left out, as Windows renders it.
        [Content::Sub(id)] => match values.get(*id) {
            Some(Value::Null) | None => Some(None),
            Some(v) => {
                let mut s = String::new();
                v.write(&mut s)?;
                Some(Some(s))
            }
        },
        [Content::Text(t)] => Some(Some(t.to_string())),
        _ => {
            let children: Vec<Child> = value.iter().cloned().map(Child::Content).collect();
            render(&children, values).map(Some)
        }
    }
}

fn attr<'e>(el: &'e Element, name: &str) -> Option<&'e [Content]> {
    attr_in(&el.attrs, name)
}

fn attr_in<'e>(attrs: &'e [(Rc<str>, Vec<Content>)], name: &str) -> Option<&'e [Content]> {
    attrs
        .iter()
        .find(|(n, _)| **n == *name)
        .map(|(_, v)| v.as_slice())
}

/// Decides whether a record is wanted and, when it is, writes it over `ev` (its data strings
/// reused); `Err(())` when it cannot tell (the chunk goes to the crate).
#[allow(clippy::too_many_lines)]
fn decode_record(
    chunk: &[u8],
    at: usize,
    size: usize,
    templates: &mut Templates,
    select: &Select<'_>,
    scratch: &mut [Vec<(usize, usize, u8)>; 2],
    ev: &mut RawEvent,
) -> Result<bool, ()> {
    let [outer, inner] = scratch;
    let mut c = Cursor {
        buf: chunk,
        pos: at,
    };
    let def = instance_header(&mut c, templates, Some(select)).ok_or(())?;
    let template = templates.entry(def).ok_or(())?;
    // A provider written as literal text in the template decides every record of it at once.
    if template.provider.get() == Some(&Some(false)) {
        return Ok(false);
    }
    let root = template.root.clone().ok_or(())?;
    if &*root.name != "Event" {
        return Err(());
    }
    let plan = *template.plan.get_or_init(|| Plan::of(&root));
    let system = nth(&root, plan.system).ok_or(())?;
    let provider_el = nth(system, plan.provider).ok_or(())?;
    let decided = *template
        .provider
        .get_or_init(|| literal_decision(&provider_el.attrs, select));
    if decided == Some(false) {
        return Ok(false);
    }
    let values = substitutions(&mut c, outer).ok_or(())?;
    if c.pos > at + size {
        return Err(());
    }
    // Literal text is shared with the template, not copied per record.
    let provider_attr = |n: &str| -> Result<Option<Name<'_>>, ()> {
        match attr(provider_el, n) {
            None => Ok(None),
            Some([Content::Text(t)]) => Ok(Some(Cow::Borrowed(t))),
            Some(v) => Ok(render_attr(v, &values)
                .ok_or(())?
                .map(|r| Cow::Owned(Arc::from(r)))),
        }
    };
    let name = provider_attr("Name")?;
    let source = provider_attr("EventSourceName")?;
    // The GUID is rendered only when the name does not decide (or is missing). A template whose
    // literal names were picked has decided already.
    let by_name = decided == Some(true)
        || [name.as_deref(), source.as_deref()]
            .into_iter()
            .flatten()
            .any(|p| (select.provider)(p));
    let guid = if by_name && name.is_some() {
        None
    } else {
        provider_attr("Guid")?
    };
    if !by_name && !guid.as_deref().is_some_and(|g| (select.provider)(g)) {
        return Ok(false);
    }
    let provider = name.or(guid).unwrap_or_default();
    let eid_el = nth(system, plan.event_id).ok_or(())?;
    let event_id: u32 = match eid_el.children.as_slice() {
        [Child::Content(Content::Sub(id))] => match values.get(*id) {
            Some(Value::Num(n)) => u32::try_from(n).map_err(|_| ())?,
            _ => return Err(()),
        },
        other => render(other, &values)
            .ok_or(())?
            .trim()
            .parse()
            .map_err(|_| ())?,
    };
    if !(select.event_id)(event_id) {
        return Ok(false);
    }
    let text_of = |n: Option<usize>| -> Result<Option<Name<'_>>, ()> {
        match nth(system, n).map(|e| e.children.as_slice()) {
            None => Ok(None),
            Some([Child::Content(Content::Text(t))]) => Ok(Some(trimmed(t))),
            Some(other) => Ok(Some(Cow::Owned(Arc::from(crate::input::encoding::trim(
                &render(other, &values).ok_or(())?,
            ))))),
        }
    };
    // A number: read straight from its substitution when that is all the element holds.
    let number_of = |n: Option<usize>| -> Result<Option<u64>, ()> {
        match nth(system, n).map(|e| e.children.as_slice()) {
            None => Ok(None),
            Some([Child::Content(Content::Sub(id))]) => match values.get(*id) {
                Some(Value::Num(v)) => Ok(Some(v)),
                Some(Value::Null) | None => Ok(None),
                Some(Value::Text(t)) => Ok(utf16(t).trim().parse().ok()),
                Some(_) => Err(()),
            },
            Some(other) => Ok(render(other, &values).ok_or(())?.trim().parse().ok()),
        }
    };
    let qualifiers = match attr(eid_el, "Qualifiers") {
        Some(v) => {
            // A number: read straight from its substitution.
            let number = match v {
                [Content::Sub(id)] => match values.get(*id) {
                    Some(Value::Num(q)) => Some(u32::try_from(q).ok()),
                    _ => None,
                },
                _ => None,
            };
            match number {
                Some(q) => q,
                None => render_attr(v, &values)
                    .ok_or(())?
                    .and_then(|q| q.trim().parse().ok()),
            }
        }
        None => None,
    };
    let time_created = match nth(system, plan.time_created).and_then(|t| attr(t, "SystemTime")) {
        Some([Content::Sub(id)]) => match values.get(*id) {
            Some(Value::FileTime(ft)) => filetime(ft),
            Some(Value::Null) | None => None,
            _ => return Err(()),
        },
        Some(_) => return Err(()),
        None => None,
    };
    let level = number_of(plan.level)?.and_then(|l| u32::try_from(l).ok());
    let record_id = number_of(plan.record_id)?;
    let (channel, computer) = (text_of(plan.channel)?, text_of(plan.computer)?);
    // The record last written here is written over field by field: its data strings keep their
    // room, and a name it shares with this record (the template's) is neither cloned nor dropped.
    let RawEvent {
        provider: ev_provider,
        event_source_name: ev_source,
        event_id: ev_id,
        qualifiers: ev_qualifiers,
        level: ev_level,
        time_created: ev_time,
        record_id: ev_record_id,
        channel: ev_channel,
        computer: ev_computer,
        data,
        message,
        index,
        line,
    } = ev;
    put_name(ev_provider, provider);
    put_optional_name(ev_source, source);
    put_optional_name(ev_channel, channel);
    put_optional_name(ev_computer, computer);
    (*ev_id, *ev_qualifiers, *ev_level) = (event_id, qualifiers, level);
    (*ev_time, *ev_record_id) = (time_created, record_id);
    (*message, *index, *line) = (None, 0, None);
    let mut has_data = false;
    // EventData: literal in the template, or a nested fragment in a substitution.
    for ch in &root.children {
        match ch {
            Child::Element(e) if &*e.name == "EventData" => {
                event_data(e, &values, data)?;
                has_data = true;
            }
            Child::Element(e) if &*e.name == "System" => {}
            Child::Content(Content::Sub(id)) => match values.get(*id) {
                Some(Value::BinXml(off, len)) => {
                    let mut n = Cursor {
                        buf: chunk,
                        pos: off,
                    };
                    let (d, inner) = instance(&mut n, templates, inner).ok_or(())?;
                    if n.pos > off + len {
                        return Err(());
                    }
                    let Some(el) = templates.get(d) else {
                        return Err(());
                    };
                    if &*el.name != "EventData" {
                        return Err(());
                    }
                    event_data(&el, &inner, data)?;
                    has_data = true;
                }
                Some(Value::Null) | None => {}
                _ => return Err(()),
            },
            Child::Content(Content::Text(t)) if t.trim().is_empty() => {}
            // UserData, other elements, stray text: the crate renders those.
            Child::Element(_) | Child::Content(_) => return Err(()),
        }
    }
    if !has_data {
        data.clear();
    }
    Ok(true)
}

/// A name a record gives: shared with its template, or made for it.
type Name<'t> = Cow<'t, Arc<str>>;

/// Writes `name` into `slot`, unless the slot already holds that very name.
fn put_name(slot: &mut Arc<str>, name: Name<'_>) {
    match name {
        Cow::Borrowed(n) if Arc::ptr_eq(slot, n) => {}
        n => *slot = n.into_owned(),
    }
}

/// [`put_name`] for a name a record may lack.
fn put_optional_name(slot: &mut Option<Arc<str>>, name: Option<Name<'_>>) {
    match (slot, name) {
        (Some(s), Some(n)) => put_name(s, n),
        (slot, n) => *slot = n.map(Cow::into_owned),
    }
}

/// A string without surrounding white space, copied only when it has some.
fn trimmed(s: &Arc<str>) -> Name<'_> {
    let t = crate::input::encoding::trim(s);
    if t.len() == s.len() {
        Cow::Borrowed(s)
    } else {
        Cow::Owned(Arc::from(t))
    }
}

/// The data strings of an `EventData` element, written over the strings in `out` (each cleared,
/// its room kept: a record's strings go where the last record's were).
fn event_data(el: &Element, values: &Subs<'_, '_>, out: &mut Vec<String>) -> Result<(), ()> {
    let mut n = 0;
    for ch in &el.children {
        match ch {
            Child::Element(d) if &*d.name == "Data" => {
                let name = match attr(d, "Name") {
                    Some(v) => render_attr(v, values).ok_or(())?,
                    None => None,
                };
                // Named data renders as an object keyed by name in the crate's JSON: keep the
                // crate's answer for those.
                if name.is_some() {
                    return Err(());
                }
                if out.len() <= n {
                    out.push(String::new());
                }
                let s = out.get_mut(n).ok_or(())?;
                s.clear();
                render_into(&d.children, values, s).ok_or(())?;
                n += 1;
            }
            Child::Content(Content::Text(t)) if t.trim().is_empty() => {}
            _ => return Err(()),
        }
    }
    out.truncate(n);
    Ok(())
}

fn filetime(ft: u64) -> Option<chrono::DateTime<chrono::Utc>> {
    let secs = i64::try_from(ft / 10_000_000).ok()? - 11_644_473_600;
    let nanos = u32::try_from((ft % 10_000_000) * 100).ok()?;
    chrono::DateTime::from_timestamp(secs, nanos)
}

/// What reading keeps from one chunk to the next: the records written for the last chunk,
/// written over by the next (a host log's hundreds of thousands of records allocate their
/// strings once per reader, not once each), and the substitution descriptors.
#[derive(Debug, Default)]
pub struct Scratch {
    records: Vec<RawEvent>,
    /// How many of `records` the last chunk wanted.
    wanted: usize,
    subs: [Vec<(usize, usize, u8)>; 2],
    /// Templates kept from one chunk for the next.
    kept: Vec<Kept>,
}

impl Scratch {
    /// The records the last chunk scanned wanted, in file order.
    fn wanted(&self) -> &[RawEvent] {
        self.records.get(..self.wanted).unwrap_or(&[])
    }
}

/// One chunk: how many records it holds, or `None` when the crate must read it; the records
/// `select` wants are written into `scratch` (see [`Scratch::wanted`]), the chunk's templates
/// kept in `templates`.
fn scan_chunk(
    chunk: &[u8],
    select: &Select<'_>,
    templates: &mut Templates,
    scratch: &mut Scratch,
) -> Option<u64> {
    scratch.wanted = 0;
    if chunk.get(..8)? != b"ElfChnk\0" {
        return None;
    }
    let free = u32::from_le_bytes(chunk.get(48..52)?.try_into().ok()?) as usize;
    if free < 512 || free > chunk.len() {
        return None;
    }
    let mut pos = 512;
    let mut n = 0u64;
    while pos + 28 <= free {
        if chunk.get(pos..pos + 4)? != [0x2A, 0x2A, 0, 0] {
            return None;
        }
        let size = u32::from_le_bytes(chunk.get(pos + 4..pos + 8)?.try_into().ok()?) as usize;
        if size < 28 || pos + size > free {
            return None;
        }
        let copy =
            u32::from_le_bytes(chunk.get(pos + size - 4..pos + size)?.try_into().ok()?) as usize;
        if copy != size {
            return None;
        }
        let id = u64::from_le_bytes(chunk.get(pos + 8..pos + 16)?.try_into().ok()?);
        if scratch.records.len() <= scratch.wanted {
            scratch.records.push(RawEvent::default());
        }
        let e = scratch.records.get_mut(scratch.wanted)?;
        match decode_record(
            chunk,
            pos + 24,
            size - 28,
            templates,
            select,
            &mut scratch.subs,
            e,
        ) {
            Ok(true) => {
                e.record_id = e.record_id.or(Some(id));
                e.index = n;
                scratch.wanted += 1;
            }
            Ok(false) => {}
            Err(()) => return None,
        }
        n += 1;
        pos += size;
    }
    if pos != free {
        return None;
    }
    Some(n)
}

/// Something read from a log that knows its position among the log's records, so a chunk read on
/// its own (numbering its records from 0) can be placed once the records before it are counted.
pub trait Positioned {
    /// Moves the position `by` records later.
    fn shift(&mut self, by: u64);
}

impl Positioned for RawEvent {
    fn shift(&mut self, by: u64) {
        self.index += by;
    }
}

/// What one chunk gave, its records numbered from 0 within the chunk.
#[derive(Debug)]
pub struct Part<T> {
    /// The records `select` picked (after the caller's conversion).
    pub events: Vec<T>,
    /// What could not be read.
    pub damaged: Vec<Damage>,
    /// How many records the chunk holds.
    pub records: u64,
    /// Which checksums do not match, with where the chunk is.
    bad_sum: Option<String>,
    /// The chunk was whole (the file did not end inside it).
    whole: bool,
}

/// The file offset of chunk `number`.
pub fn chunk_offset(number: u64) -> u64 {
    FILE_HEADER as u64 + number * CHUNK as u64
}

/// How many chunks (the last one possibly cut short) a file of `size` bytes holds.
pub fn chunk_count(size: u64) -> u64 {
    size.saturating_sub(FILE_HEADER as u64)
        .div_ceil(CHUNK as u64)
}

/// Reads one chunk, `buf` being its bytes as far as the file has them (a full chunk is 64 KiB; a
/// shorter one is the file's truncated end), its wanted records passed through `convert`.
/// Chunks the pre-filter cannot scan are given to `fallback` (the crate), which returns the same
/// triple for that chunk, counting from 0.
pub fn chunk<T>(
    buf: &[u8],
    number: u64,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    scratch: &mut Scratch,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
) -> Part<T> {
    let at = chunk_offset(number);
    let mut part = Part {
        events: Vec::new(),
        damaged: Vec::new(),
        records: 0,
        bad_sum: None,
        whole: buf.len() == CHUNK,
    };
    let scanned = if part.whole {
        // Empty (zeroed) chunks occur in the middle of dirty files: nothing to read.
        if buf.iter().all(|b| *b == 0) {
            return part;
        }
        part.bad_sum = bad_checksums(buf)
            .map(|what| format!("chunk {number} at file offset 0x{at:x} ({what})"));
        let mut templates = Templates {
            kept: std::mem::take(&mut scratch.kept),
            ..Templates::default()
        };
        let n = scan_chunk(buf, select, &mut templates, scratch);
        scratch.kept = templates.kept;
        n
    } else {
        // A truncated last chunk: said, and the crate decides what can be read of it.
        part.damaged.push(Damage::said(format!(
            "the file is truncated: it ends {} byte(s) into chunk {number} (file offset 0x{at:x}); records after that point are lost",
            buf.len()
        )));
        None
    };
    if let Some(records) = scanned {
        part.events = convert(scratch.wanted());
        part.records = records;
    } else {
        let (events, damaged, records) = fallback(buf.to_vec(), number);
        part.events = convert(&events);
        part.damaged.extend(damaged);
        part.records = records;
    }
    part
}

/// Chunk checksum mismatches listed by name; the count is always complete.
const BAD_SUMS_LISTED: usize = 5;

/// The chunks of one file put back together in file order: positions made file-wide, damage
/// and checksum notes gathered. Sequential and parallel reading both end here, so they give
/// the same answer.
#[derive(Debug)]
pub struct Tally<T> {
    events: Vec<T>,
    damaged: Vec<String>,
    records: u64,
    whole_chunks: u64,
    bad_sums: Vec<String>,
    bad_count: usize,
    truncated: bool,
}

impl<T> Default for Tally<T> {
    fn default() -> Self {
        Tally {
            events: Vec::new(),
            damaged: Vec::new(),
            records: 0,
            whole_chunks: 0,
            bad_sums: Vec::new(),
            bad_count: 0,
            truncated: false,
        }
    }
}

impl<T: Positioned> Tally<T> {
    /// Adds the next chunk. Nothing after a truncated chunk counts: the file ended there.
    pub fn add(&mut self, part: Part<T>) {
        if self.truncated {
            return;
        }
        let before = self.records;
        self.events.extend(part.events.into_iter().map(|mut e| {
            e.shift(before);
            e
        }));
        self.damaged
            .extend(part.damaged.into_iter().map(|d| match d.record {
                Some(r) => format!("record #{} {}", before + r, d.what),
                None => d.what,
            }));
        self.records += part.records;
        if let Some(s) = part.bad_sum {
            self.bad_count += 1;
            if self.bad_sums.len() < BAD_SUMS_LISTED {
                self.bad_sums.push(s);
            }
        }
        if part.whole {
            self.whole_chunks += 1;
        } else {
            self.truncated = true;
        }
    }

    /// The events, what could not be read and the number of records; what the file header and
    /// the chunks' checksums say goes to `notes`.
    pub fn finish(self, header: &[u8], notes: &mut Vec<String>) -> (Vec<T>, Vec<String>, u64) {
        // Logs are often larger than their used chunks; only a claim beyond the file is worth
        // saying (and a truncated file says so itself).
        let claimed = header
            .get(42..44)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u16::from_le_bytes);
        if u64::from(claimed) > self.whole_chunks && !self.truncated {
            notes.push(format!(
                "the file header claims {claimed} chunk(s); the file holds {}: the chunks present were read",
                self.whole_chunks
            ));
        }
        if self.bad_count > 0 {
            let n = self.bad_count;
            let more = if n > BAD_SUMS_LISTED {
                format!(" and {} more", n - BAD_SUMS_LISTED)
            } else {
                String::new()
            };
            notes.push(format!(
                "{n} chunk(s) with checksums that do not match their content: {}{more}; their records were read anyway",
                self.bad_sums.join(", ")
            ));
        }
        (self.events, self.damaged, self.records)
    }
}

/// Reads and checks an `.evtx` file header: the header's bytes, and what they say about the
/// file's state goes to `notes`.
pub fn header(mut input: impl Read, notes: &mut Vec<String>) -> Result<Vec<u8>, String> {
    let mut header = vec![0u8; FILE_HEADER];
    input
        .read_exact(&mut header)
        .map_err(|e| format!("not a readable .evtx file: {e}"))?;
    if !header.starts_with(super::evtx::MAGIC) {
        return Err("not a readable .evtx file: no ElfFile signature".to_owned());
    }
    notes.extend(header_notes(&header));
    Ok(header)
}

/// Fills `buf` from `input` as far as it goes; the number of bytes read.
fn fill(input: &mut impl Read, buf: &mut [u8]) -> Result<usize, String> {
    let mut filled = 0;
    while filled < buf.len() {
        match input.read(buf.get_mut(filled..).unwrap_or(&mut [])) {
            Ok(0) => break,
            Ok(k) => filled += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("cannot read: {e}")),
        }
    }
    Ok(filled)
}

/// Reads an `.evtx` stream chunk by chunk: the records `select` picks (with their position among
/// all records in `index`), each chunk's passed through `convert` as soon as it is read, what
/// could not be read, and the number of records. Chunks it cannot scan are given to `fallback`.
pub fn read<T: Positioned>(
    mut input: impl Read,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
    notes: &mut Vec<String>,
) -> Result<(Vec<T>, Vec<String>, u64), String> {
    let header = header(&mut input, notes)?;
    let mut tally = Tally::default();
    each_chunk(&mut input, 0.., select, fallback, convert, &mut |p| {
        tally.add(p);
    })?;
    Ok(tally.finish(&header, notes))
}

/// Reads the chunks numbered `chunks` one after the other from `input` (positioned at the
/// first), until the file ends; each one's part, its records passed through `convert`, goes to
/// `sink`.
fn each_chunk<T>(
    input: &mut impl Read,
    chunks: impl Iterator<Item = u64>,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
    sink: &mut dyn FnMut(Part<T>),
) -> Result<(), String> {
    let mut buf = vec![0u8; CHUNK];
    let mut scratch = Scratch::default();
    for number in chunks {
        let filled = fill(input, &mut buf)?;
        if filled == 0 {
            break;
        }
        let buf = buf.get(..filled).unwrap_or(&[]);
        sink(chunk(buf, number, select, fallback, &mut scratch, convert));
        if filled < CHUNK {
            break;
        }
    }
    Ok(())
}

/// Reads chunks `chunks` of an `.evtx` file on disk through a handle of its own (so several
/// threads can read one file at once), each passed through `convert`; the parts go to a
/// [`Tally`] in file order.
pub fn read_chunks<T>(
    path: &std::path::Path,
    chunks: std::ops::Range<u64>,
    select: &Select<'_>,
    fallback: &mut dyn FnMut(Vec<u8>, u64) -> ChunkRead,
    convert: &mut dyn FnMut(&[RawEvent]) -> Vec<T>,
) -> Result<Vec<Part<T>>, String> {
    use std::io::{Seek, SeekFrom};
    let mut file = std::fs::File::open(path).map_err(|e| format!("cannot open: {e}"))?;
    file.seek(SeekFrom::Start(chunk_offset(chunks.start)))
        .map_err(|e| format!("cannot read: {e}"))?;
    let mut parts = Vec::new();
    each_chunk(&mut file, chunks, select, fallback, convert, &mut |p| {
        parts.push(p);
    })?;
    Ok(parts)
}

/// What the file header says about the file's state: a stale header checksum, the dirty flag of a
/// log copied while open.
fn header_notes(header: &[u8]) -> Vec<String> {
    let mut notes = Vec::new();
    let u32_at = |o: usize| {
        header
            .get(o..o + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    if let (Some(stored), Some(covered)) = (u32_at(124), header.get(..120))
        && stored != crc32fast::hash(covered)
    {
        notes.push(format!(
            "the file header's checksum (0x{stored:08x}) does not match its content: the header was changed or the copy is inconsistent; records were read anyway"
        ));
    }
    if u32_at(120).is_some_and(|f| f & 1 == 1) {
        notes.push(
            "the log is marked dirty (copied while the Event Log service had it open): its newest records may be missing"
                .to_owned(),
        );
    }
    notes
}

/// Which of a chunk's checksums do not match: `header`, `data` or both; `None` when both do or
/// the chunk is not one (its magic is wrong, which the readers report themselves).
fn bad_checksums(chunk: &[u8]) -> Option<&'static str> {
    if !chunk.starts_with(b"ElfChnk\0") {
        return None;
    }
    let u32_at = |o: usize| {
        chunk
            .get(o..o + 4)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
    };
    let free = usize::try_from(u32_at(0x30)?).ok()?;
    let data = chunk.get(0x200..free.clamp(0x200, CHUNK))?;
    let data_ok = u32_at(0x34)? == crc32fast::hash(data);
    let mut h = crc32fast::Hasher::new();
    h.update(chunk.get(..0x78)?);
    h.update(chunk.get(0x80..0x200)?);
    let header_ok = u32_at(0x7C)? == h.finalize();
    match (header_ok, data_ok) {
        (true, true) => None,
        (false, true) => Some("header"),
        (true, false) => Some("data"),
        (false, false) => Some("header and data"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evtx_writer::{EvtxWriter, FileState, Record};

    /// A log the writer makes of `records`.
    fn written(records: impl IntoIterator<Item = Record>) -> Vec<u8> {
        let mut w = EvtxWriter::new(std::io::Cursor::new(Vec::new()), 1).unwrap();
        for r in records {
            w.write(&r).unwrap();
        }
        w.finish(FileState::default()).unwrap().into_inner()
    }

    /// Chunk `i` of a log.
    fn chunk_of(log: &[u8], i: usize) -> Vec<u8> {
        log[FILE_HEADER + i * CHUNK..FILE_HEADER + (i + 1) * CHUNK].to_vec()
    }

    /// A record of `provider`'s event `id`, `i` seconds into the day, with `data`.
    fn record(provider: &str, id: u16, i: u32, data: Vec<String>) -> Record {
        Record {
            provider: provider.into(),
            event_id: id,
            channel: "Key Management Service".into(),
            computer: "kms01.contoso.com".into(),
            time_created: chrono::DateTime::from_timestamp(1_780_000_000 + i64::from(i), 0)
                .unwrap(),
            data,
            ..Record::default()
        }
    }

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

    /// One chunk's wanted records and record count, read with scratch of its own.
    fn scan_alone(chunk: &[u8], select: &Select<'_>) -> Option<(Vec<RawEvent>, u64)> {
        let mut scratch = Scratch::default();
        let n = scan_chunk(chunk, select, &mut Templates::default(), &mut scratch)?;
        Some((scratch.wanted().to_vec(), n))
    }

    #[test]
    fn records_written_over_the_last_chunks_read_as_if_fresh() {
        // A chunk of one record per data shape: the given strings, each record's own.
        let shaped = |shapes: &[&[&str]]| -> Vec<u8> {
            let records = shapes.iter().enumerate().map(|(i, data)| Record {
                computer: format!("kms{i}.contoso.com"),
                ..record(
                    "Wanted",
                    12290,
                    0,
                    data.iter().map(|d| (*d).to_owned()).collect(),
                )
            });
            chunk_of(&written(records), 0)
        };
        let select = Select {
            provider: &|p: &str| p == "Wanted",
            event_id: &|_| true,
        };
        let first = shaped(&[&["a long first string", "b", "c"], &["x"; 4], &["only"]]);
        let second = shaped(&[&["1"], &[], &["p", "q"], &["new", "", "third"]]);
        let mut scratch = Scratch::default();
        for (chunk, records) in [(&first, 3), (&second, 4), (&first, 3)] {
            let n = scan_chunk(chunk, &select, &mut Templates::default(), &mut scratch);
            assert_eq!(n, Some(records));
            let (fresh, _) = scan_alone(chunk, &select).unwrap();
            assert_eq!(scratch.wanted(), fresh.as_slice());
        }
        let (second, _) = scan_alone(&second, &select).unwrap();
        let data: Vec<&[String]> = second.iter().map(|e| e.data.as_slice()).collect();
        assert_eq!(data, [&["1"][..], &[], &["p", "q"], &["new", "", "third"]]);
    }

    #[test]
    fn templates_are_kept_for_the_next_chunks_only_where_their_bytes_recur() {
        let log = |provider: &str, n: u32| -> Vec<u8> {
            written((0..n).map(|i| {
                record(
                    provider,
                    12290,
                    i,
                    vec![format!("0x0,{i},pc{i}.contoso.com")],
                )
            }))
        };
        let select = Select {
            provider: &|p: &str| p.starts_with("Wanted"),
            event_id: &|_| true,
        };
        // Two providers in one chunk: the second template names its elements by pointing at
        // the first's names (as Windows writes them), so it is not kept.
        let mixed = ["Wanted", "Wanted too", "Wanted"]
            .into_iter()
            .zip(0..)
            .map(|(provider, i)| record(provider, 12290, i, vec![format!("0x0,{i}")]));
        let mixed = chunk_of(&written(mixed), 0);
        let mut templates = Templates::default();
        let mut scratch = Scratch::default();
        assert_eq!(
            scan_chunk(&mixed, &select, &mut templates, &mut scratch),
            Some(3)
        );
        let parsed: Vec<usize> = templates
            .entries
            .iter()
            .filter(|t| t.root.is_some())
            .map(|t| t.at)
            .collect();
        let kept: Vec<usize> = templates.kept.iter().map(|k| k.at).collect();
        // The first record's template and its EventData (nested, names its own) are kept; the
        // second provider's is not.
        assert_eq!(parsed.len(), 3);
        assert_eq!(kept, parsed[..2]);

        let host = log("Wanted", 700);
        let other = log("Wanted too", 5);
        let (a0, a1, a2) = (chunk_of(&host, 0), chunk_of(&host, 1), chunk_of(&host, 2));
        let b0 = chunk_of(&other, 0);
        let mut scratch = Scratch::default();
        let mut roots = Vec::new();
        for c in [&a0, &a1, &b0, &a2] {
            let mut templates = Templates {
                kept: std::mem::take(&mut scratch.kept),
                ..Templates::default()
            };
            let n = scan_chunk(c, &select, &mut templates, &mut scratch);
            // Whatever was reused, the records are those of the chunk read on its own.
            let (fresh, records) = scan_alone(c, &select).unwrap();
            assert_eq!(n, Some(records));
            assert!(!fresh.is_empty());
            assert_eq!(scratch.wanted(), fresh.as_slice());
            let outer: Vec<Rc<Element>> = templates
                .entries
                .iter()
                .filter_map(|t| t.root.clone())
                .filter(|r| &*r.name == "Event")
                .collect();
            assert_eq!(outer.len(), 1);
            roots.extend(outer);
            scratch.kept = templates.kept;
        }
        // The host's next chunks take its template as parsed from the first; the other
        // provider's chunk, whose template differs, gets its own, and does not push it out.
        assert!(Rc::ptr_eq(&roots[0], &roots[1]));
        assert!(!Rc::ptr_eq(&roots[0], &roots[2]));
        assert!(Rc::ptr_eq(&roots[0], &roots[3]));
        // What is kept reads nothing but its own bytes: alone in an empty chunk, at the same
        // offset, they parse to the same template.
        assert!(scratch.kept.len() >= 2);
        for k in &scratch.kept {
            let mut alone = vec![0u8; CHUNK];
            alone[k.at + 4..k.at + 4 + k.bytes.len()].copy_from_slice(&k.bytes);
            let (root, end) = template_at(&alone, k.at, &mut Names::default()).unwrap();
            assert_eq!(end, Some(k.at + 4 + k.bytes.len()));
            assert_eq!(format!("{root:?}"), format!("{:?}", k.root));
        }
    }

    #[test]
    fn templates_of_unwanted_literal_providers_are_skipped_unparsed() {
        let records = (0..30).map(|i| {
            let provider = if i % 3 == 0 { "Wanted" } else { "Noise" };
            Record {
                channel: "Application".into(),
                computer: "ws01.contoso.com".into(),
                ..record(provider, 12288, i, vec![format!("0x0,{i}")])
            }
        });
        let chunk = &chunk_of(&written(records), 0);
        let provider = |p: &str| p == "Wanted";
        let select = Select {
            provider: &provider,
            event_id: &|_| true,
        };
        let mut templates = Templates::default();
        let mut scratch = Scratch::default();
        let records = scan_chunk(chunk, &select, &mut templates, &mut scratch).unwrap();
        let events = scratch.wanted();
        assert_eq!(records, 30);
        assert_eq!(events.len(), 10);
        assert!(events.iter().all(|e| &*e.provider == "Wanted"));
        let unwanted = |t: &Template| t.provider.get() == Some(&Some(false));
        let outer: Vec<(bool, bool)> = templates
            .entries
            .iter()
            .filter(|t| unwanted(t) || t.root.as_ref().is_some_and(|r| &*r.name == "Event"))
            .map(|t| (unwanted(t), t.root.is_some()))
            .collect();
        // The noise provider's template is marked, never parsed; the wanted one is parsed.
        assert_eq!(outer, [(false, true), (true, false)]);
        // Either way the same records are picked as with a full parse.
        let all = |_: &str| true;
        let everything = Select {
            provider: &all,
            event_id: &|_| true,
        };
        let (every, _) = scan_alone(chunk, &everything).unwrap();
        assert_eq!(every.len(), 30);
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
