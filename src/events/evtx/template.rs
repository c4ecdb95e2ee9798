//! Template definitions, as the pre-filter needs them: each chunk's element and attribute names
//! (decoded once), a template's element tree (parsed on first use, or only its provider peeked
//! at when that decides it is not wanted), the templates kept from one chunk for the next, and
//! where in a template the System fields stand. It knows binary XML's element structure, not the
//! substitution values a record fills it with (`record.rs`, `values.rs`).

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;

use super::cursor::{Cursor, OutOfChunk};
use super::decline::Decline;
use super::layout::{token, value_type};

/// What to decode: a provider (by name, GUID or source name) and an event id.
pub struct Select<'a> {
    pub provider: &'a dyn Fn(&str) -> bool,
    pub event_id: &'a dyn Fn(u32) -> bool,
}

/// Content of a template node.
#[derive(Debug, Clone)]
pub(super) enum Content {
    /// Literal text, shared with every record of the template (provider, channel and computer
    /// names are literal in Windows' templates).
    Text(Arc<str>),
    Sub(u16),
}

#[derive(Debug, Clone, Default)]
pub(super) struct Element {
    pub(super) name: Rc<str>,
    /// The substitution the element depends on: when that value is null, the element is left
    /// out (MS-EVEN6 §2.2.12; the crate does the same). `None`: it depends on none.
    pub(super) dependency: Option<u16>,
    pub(super) attrs: Vec<(Rc<str>, Vec<Content>)>,
    pub(super) children: Vec<Child>,
}

#[derive(Debug, Clone)]
pub(super) enum Child {
    Element(Element),
    Content(Content),
}

/// An element's attributes, by name.
type Attrs = Vec<(Rc<str>, Vec<Content>)>;

/// The dependency id of an element that depends on no substitution.
const NO_DEPENDENCY: u16 = 0xFFFF;

/// How deep elements nest before the reader leaves the template to the crate.
const MAX_DEPTH: usize = 32;

/// A name in the chunk's string table, at `off`, and its length in UTF-16 units.
fn name_at(chunk: &[u8], off: usize) -> Result<(Rc<str>, usize), OutOfChunk> {
    let mut c = Cursor::at(chunk, off);
    let _next = c.u32()?;
    let _hash = c.u16()?;
    let n = c.u16()?;
    Ok((Rc::from(c.utf16(usize::from(n))?), usize::from(n)))
}

/// The element and attribute names of one chunk's templates, by offset: the same few dozen
/// names (`Event`, `System`, `Provider`, `Data`…) recur in every template, decoded once.
#[derive(Default)]
pub(super) struct Names {
    known: HashMap<usize, (Rc<str>, usize), foldhash::fast::RandomState>,
    /// Where in the chunk the names read since this was last cleared stand: their first byte
    /// and their last.
    reach: Option<(usize, usize)>,
}

/// Distinct names kept per chunk (its string table cannot hold many more); past it, names are
/// decoded each time.
const NAMES_KEPT: usize = 4096;

/// Reads a name reference; skips the name when it is defined in place.
fn name_ref(c: &mut Cursor<'_>, names: &mut Names) -> Result<Rc<str>, OutOfChunk> {
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
    Ok(name)
}

/// An element's start tag, after its token: its name, its attributes, whether content follows
/// (`false`: the element closed itself) and the substitution it depends on.
fn start_tag(
    c: &mut Cursor<'_>,
    names: &mut Names,
    open: u8,
) -> Result<(Rc<str>, Attrs, bool, Option<u16>), Decline> {
    let dependency = Some(c.u16()?).filter(|d| *d != NO_DEPENDENCY);
    let _size = c.u32()?;
    let name = name_ref(c, names)?;
    let mut attrs = Vec::new();
    if open & token::MORE != 0 {
        let _attr_size = c.u32()?;
        loop {
            if c.peek()? & token::KIND != token::ATTRIBUTE {
                break;
            }
            c.pos += 1;
            let name = name_ref(c, names)?;
            let mut value = Vec::new();
            loop {
                match c.peek()? {
                    token::VALUE | token::VALUE_MORE => {
                        c.pos += 1;
                        value.push(Content::Text(text_value(c)?.into()));
                    }
                    token::NORMAL_SUBSTITUTION | token::OPTIONAL_SUBSTITUTION => {
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
        token::CLOSE_EMPTY_ELEMENT => Ok((name, attrs, false, dependency)),
        token::CLOSE_START_ELEMENT => Ok((name, attrs, true, dependency)),
        t => Err(Decline::StartTagEnd(t)),
    }
}

/// Parses a template definition's element tree (tokens after the fragment header).
fn parse_element(
    c: &mut Cursor<'_>,
    names: &mut Names,
    open: u8,
    depth: usize,
) -> Result<Element, Decline> {
    if depth > MAX_DEPTH {
        return Err(Decline::TooDeep);
    }
    let (name, attrs, open, dependency) = start_tag(c, names, open)?;
    let mut el = Element {
        name,
        dependency,
        attrs,
        children: Vec::new(),
    };
    if !open {
        return Ok(el);
    }
    loop {
        let t = c.u8()?;
        match t {
            token::END_ELEMENT => return Ok(el),
            token::OPEN_START_ELEMENT | token::OPEN_START_ELEMENT_MORE => el
                .children
                .push(Child::Element(parse_element(c, names, t, depth + 1)?)),
            token::VALUE | token::VALUE_MORE => el
                .children
                .push(Child::Content(Content::Text(text_value(c)?.into()))),
            token::NORMAL_SUBSTITUTION | token::OPTIONAL_SUBSTITUTION => {
                let id = c.u16()?;
                let _ty = c.u8()?;
                el.children.push(Child::Content(Content::Sub(id)));
            }
            // CDATA, character and entity references, processing instructions: rare in event
            // templates; let the crate render them.
            _ => return Err(Decline::UnknownToken(t)),
        }
    }
}

/// Literal text after a value token.
fn text_value(c: &mut Cursor<'_>) -> Result<String, Decline> {
    match c.u8()? {
        value_type::STRING => {
            let n = c.u16()?;
            Ok(c.utf16(usize::from(n))?)
        }
        ty => Err(Decline::TextType(ty)),
    }
}

/// Skips a fragment header where one stands (a template's content and an instance may or may
/// not open with one).
fn skip_fragment_header(c: &mut Cursor<'_>) -> Result<(), OutOfChunk> {
    if c.u8()? == token::FRAGMENT_HEADER {
        c.pos += token::FRAGMENT_HEADER_BYTES.len() - 1;
    } else {
        c.pos -= 1;
    }
    Ok(())
}

/// A template definition at `off`: a cursor at its root element's token, the token, and where
/// the definition ends.
fn template_start(chunk: &[u8], off: usize) -> Result<(Cursor<'_>, u8, usize), Decline> {
    let mut c = Cursor::at(chunk, off);
    let _next = c.u32()?;
    let _guid = c.bytes(16)?;
    let size = c.u32()? as usize;
    let end = c.pos.checked_add(size).ok_or(Decline::TemplateSize)?;
    if end > chunk.len() {
        return Err(Decline::TemplateSize);
    }
    skip_fragment_header(&mut c)?;
    let t = c.u8()?;
    if t & token::KIND == token::OPEN_START_ELEMENT {
        Ok((c, t, end))
    } else {
        Err(Decline::TemplateRoot(t))
    }
}

/// A template definition at `off`: its root element, and — when it read nothing of the chunk
/// but its own bytes — where it ends (the same bytes at the same offset in another chunk are
/// then the same template).
pub(super) fn template_at(
    chunk: &[u8],
    off: usize,
    names: &mut Names,
) -> Result<(Element, Option<usize>), Decline> {
    let (mut c, t, end) = template_start(chunk, off)?;
    names.reach = None;
    let root = parse_element(&mut c, names, t, 0)?;
    let own = c.pos <= end && names.reach.is_none_or(|(lo, hi)| lo >= off && hi < end);
    Ok((root, own.then_some(end)))
}

/// The attributes of a template's provider when the template opens the usual way,
/// `<Event><System><Provider …>`: read without parsing the rest, so a template of a provider
/// that is not wanted costs its first three tags (most of a busy log's templates are such).
fn peek_provider(chunk: &[u8], off: usize, names: &mut Names) -> Option<Attrs> {
    let (mut c, mut t, _) = template_start(chunk, off).ok()?;
    for want in ["Event", "System"] {
        let (name, _, open, _) = start_tag(&mut c, names, t).ok()?;
        if &*name != want || !open {
            return None;
        }
        t = c.u8().ok()?;
        if t & token::KIND != token::OPEN_START_ELEMENT {
            return None;
        }
    }
    let (name, attrs, _, _) = start_tag(&mut c, names, t).ok()?;
    (&*name == "Provider").then_some(attrs)
}

/// What a provider's literal names decide for every record of its template: `Some(true)` when
/// one is wanted, `Some(false)` when none is, `None` when a name is a substitution (each record
/// then says).
pub(super) fn literal_decision(
    attrs: &[(Rc<str>, Vec<Content>)],
    select: &Select<'_>,
) -> Option<bool> {
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

/// The template instance's header: the template's offset (parsed into the cache on first use);
/// leaves the cursor at the substitution array.
pub(super) fn instance_header(
    c: &mut Cursor<'_>,
    templates: &mut Templates,
    select: Option<&Select<'_>>,
) -> Result<usize, Decline> {
    skip_fragment_header(c)?;
    let t = c.u8()?;
    if t != token::TEMPLATE_INSTANCE {
        return Err(Decline::NotTemplateInstance(t));
    }
    let _unknown = c.u8()?;
    let _id = c.u32()?;
    let def = c.u32()? as usize;
    if def == c.pos {
        let mut h = Cursor::at(c.buf, c.pos);
        let _next = h.u32()?;
        let _guid = h.bytes(16)?;
        let size = h.u32()? as usize;
        c.pos = h.pos.checked_add(size).ok_or(OutOfChunk)?;
    }
    templates.parse(c.buf, def, select);
    Ok(def)
}

/// One chunk's templates by offset, each parsed on first use (or its reason for leaving the
/// chunk to the crate), with what its literal provider decides. A chunk holds a few dozen at
/// most, so a scan from the last one used beats hashing the offset for every record.
#[derive(Default)]
pub(super) struct Templates {
    pub(super) entries: Vec<Template>,
    last: usize,
    pub(super) names: Names,
    /// Templates of earlier chunks, reused where this one has the same bytes.
    pub(super) kept: Vec<Kept>,
}

/// A template parsed in an earlier chunk that read nothing but its own bytes, with those bytes
/// (after the definition's first four, a link that differs from chunk to chunk). A log's chunks
/// mostly define the same few templates at the same offsets — a KMS host's, one template in
/// every chunk — which are then taken from here instead of parsed again.
#[derive(Debug)]
pub(super) struct Kept {
    pub(super) at: usize,
    pub(super) bytes: Box<[u8]>,
    pub(super) root: Rc<Element>,
}

/// Templates kept from chunk to chunk (the oldest gives way).
const KEPT: usize = 16;

pub(super) struct Template {
    /// Its offset in the chunk.
    pub(super) at: usize,
    /// Its root element, or why this reader leaves it to the crate.
    pub(super) root: Result<Rc<Element>, Decline>,
    /// What its literal provider decides, once worked out (`None`: nothing literal); known
    /// from the peek when the template opens the usual way, and then, when it is `Some(false)`,
    /// the template is not parsed at all.
    pub(super) provider: std::cell::OnceCell<Option<bool>>,
    /// Where the System elements the reader wants stand, found once.
    pub(super) plan: std::cell::OnceCell<Plan>,
}

/// Positions of the elements a record's System fields are read from: in the root's children
/// (`System`), then in System's children — the first element of each name, as a search by name
/// finds it, looked up once per template instead of for every record.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Plan {
    pub(super) system: Option<usize>,
    pub(super) provider: Option<usize>,
    pub(super) event_id: Option<usize>,
    pub(super) time_created: Option<usize>,
    pub(super) level: Option<usize>,
    pub(super) record_id: Option<usize>,
    pub(super) channel: Option<usize>,
    pub(super) computer: Option<usize>,
}

impl Plan {
    pub(super) fn of(root: &Element) -> Plan {
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
pub(super) fn nth(el: &Element, i: Option<usize>) -> Option<&Element> {
    match el.children.get(i?)? {
        Child::Element(e) => Some(e),
        Child::Content(_) => None,
    }
}

/// An element's attribute, by name (inlined into the record steps that ask for one each record:
/// as a call it cost 1.8% of a host log's instructions).
#[inline(always)]
#[allow(clippy::inline_always)]
pub(super) fn attr<'e>(el: &'e Element, name: &str) -> Option<&'e [Content]> {
    attr_in(&el.attrs, name)
}

#[inline(always)]
#[allow(clippy::inline_always)] // with `attr`
fn attr_in<'e>(attrs: &'e [(Rc<str>, Vec<Content>)], name: &str) -> Option<&'e [Content]> {
    // A plain loop: `Iterator::find` stayed a call of its own, comparing through memcmp.
    for (n, v) in attrs {
        if n.as_bytes() == name.as_bytes() {
            return Some(v);
        }
    }
    None
}

impl Templates {
    /// No templates yet, those of earlier chunks kept for reuse.
    pub(super) fn with_kept(kept: Vec<Kept>) -> Templates {
        Templates {
            kept,
            ..Templates::default()
        }
    }

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
                Err(Decline::SkippedTemplate)
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
    fn root_at(&mut self, chunk: &[u8], def: usize) -> Result<Rc<Element>, Decline> {
        let from = def.checked_add(4).ok_or(OutOfChunk)?;
        if let Some(k) = self
            .kept
            .iter()
            .find(|k| k.at == def && chunk.get(from..).is_some_and(|b| b.starts_with(&k.bytes)))
        {
            return Ok(k.root.clone());
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
        Ok(root)
    }

    /// The template at `def`, if it was parsed and its shape is understood.
    pub(super) fn get(&mut self, def: usize) -> Result<Rc<Element>, Decline> {
        let i = self.find(def).ok_or(Decline::NoTemplate)?;
        self.entries
            .get(i)
            .ok_or(Decline::NoTemplate)
            .and_then(|e| e.root.clone())
    }

    /// The template at `def`, if it was parsed.
    pub(super) fn entry(&mut self, def: usize) -> Option<&Template> {
        let i = self.find(def)?;
        self.entries.get(i)
    }
}
