//! Binary XML as Windows writes it into `.evtx` records (MS-EVEN6 §2.2.12): template
//! definitions with element and attribute tokens, names in the chunk's string table, and template
//! instances carrying typed substitution arrays, nested `BinXml` included.
//!
//! Every offset here is relative to the chunk, so the encoder is told where in the chunk the
//! bytes it produces will land (`base`).

use std::collections::HashMap;

use crate::events::evtx::layout::token;
/// The value types of substitutions (MS-EVEN6 §2.2.18), as the readers know them.
pub(crate) use crate::events::evtx::layout::value_type as ty;

/// A node of a template definition.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Element {
        name: &'static str,
        attributes: Vec<(&'static str, Content)>,
        children: Vec<Node>,
    },
    Content(Content),
}

/// Literal text, or a placeholder for substitution value `id` of type `ty`. Optional
/// placeholders render nothing when their value is null.
#[derive(Debug, Clone)]
pub(crate) enum Content {
    Text(String),
    Sub { id: u16, ty: u8, optional: bool },
}

/// A substitution value.
#[derive(Debug, Clone)]
pub(crate) enum Value<'a> {
    Null,
    Str(&'a str),
    U8(u8),
    U16(u16),
    U32(u32),
    U64(u64),
    HexU64(u64),
    FileTime(u64),
    /// A nested `BinXml` fragment: one template instance of its own.
    BinXml(Box<Instance<'a>>),
}

/// A template instance: which template (by key, defined on first use in a chunk) and its values.
#[derive(Debug, Clone)]
pub(crate) struct Instance<'a> {
    /// Identifies the template within the writer; equal keys must have equal definitions.
    pub(crate) key: String,
    pub(crate) definition: fn(&TemplateSpec) -> Node,
    pub(crate) spec: TemplateSpec,
    pub(crate) values: Vec<Value<'a>>,
}

/// What a template definition is built from (literals baked into the template).
#[derive(Debug, Clone, Default)]
pub(crate) struct TemplateSpec {
    pub(crate) literals: Vec<String>,
    pub(crate) count: usize,
}

/// Why a record could not be encoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EncodeError {
    /// A string or a nested fragment longer than its length field can say.
    TooLong(&'static str),
}

/// The chunk's string and template tables: what is already defined, and the bucket heads the
/// chunk header will carry.
#[derive(Debug, Clone)]
pub(crate) struct Tables {
    names: HashMap<String, u32>,
    templates: HashMap<String, u32>,
    pub(crate) name_heads: [u32; 64],
    pub(crate) template_heads: [u32; 32],
    /// What the record being encoded added, so a record that does not fit can be taken back.
    added_names: Vec<String>,
    added_templates: Vec<String>,
    saved_heads: Option<([u32; 64], [u32; 32])>,
}

impl Default for Tables {
    fn default() -> Self {
        Tables {
            names: HashMap::new(),
            templates: HashMap::new(),
            name_heads: [0; 64],
            template_heads: [0; 32],
            added_names: Vec::new(),
            added_templates: Vec::new(),
            saved_heads: None,
        }
    }
}

impl Tables {
    /// Starts encoding a record: what it adds can be rolled back until [`Tables::commit`].
    pub(crate) fn begin(&mut self) {
        self.added_names.clear();
        self.added_templates.clear();
        self.saved_heads = Some((self.name_heads, self.template_heads));
    }

    pub(crate) fn commit(&mut self) {
        self.added_names.clear();
        self.added_templates.clear();
        self.saved_heads = None;
    }

    pub(crate) fn rollback(&mut self) {
        for n in self.added_names.drain(..) {
            self.names.remove(&n);
        }
        for t in self.added_templates.drain(..) {
            self.templates.remove(&t);
        }
        if let Some((n, t)) = self.saved_heads.take() {
            self.name_heads = n;
            self.template_heads = t;
        }
    }
}

/// The hash Windows keeps beside each name in the string table (low 16 bits of a
/// multiply-by-65599 hash over the UTF-16 code units).
pub(crate) fn name_hash(name: &str) -> u16 {
    let h = name.encode_utf16().fold(0u32, |h, c| {
        h.wrapping_mul(65599).wrapping_add(u32::from(c))
    });
    (h & 0xFFFF) as u16
}

/// A stable 128-bit identifier for a template key (FNV-1a, twice with different bases).
pub(crate) fn template_guid(key: &str) -> [u8; 16] {
    let fnv = |basis: u64| {
        key.bytes().fold(basis, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01B3)
        })
    };
    let mut g = [0u8; 16];
    g[..8].copy_from_slice(&fnv(0xcbf2_9ce4_8422_2325).to_le_bytes());
    g[8..].copy_from_slice(&fnv(0x6c62_272e_07bb_0142).to_le_bytes());
    g
}

/// Encodes into `out`, whose first byte lands at chunk offset `base`.
pub(crate) struct Encoder<'t> {
    pub(crate) out: Vec<u8>,
    base: u32,
    tables: &'t mut Tables,
}

fn pos_u32(v: usize) -> u32 {
    u32::try_from(v).unwrap_or(u32::MAX)
}

impl<'t> Encoder<'t> {
    pub(crate) fn new(base: u32, tables: &'t mut Tables) -> Self {
        Encoder {
            out: Vec::with_capacity(512),
            base,
            tables,
        }
    }

    fn here(&self) -> u32 {
        self.base.saturating_add(pos_u32(self.out.len()))
    }

    fn u8(&mut self, v: u8) {
        self.out.push(v);
    }
    fn u16(&mut self, v: u16) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u32(&mut self, v: u32) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn u64(&mut self, v: u64) {
        self.out.extend_from_slice(&v.to_le_bytes());
    }
    fn patch_u32(&mut self, at: usize, v: u32) {
        if let Some(slot) = self.out.get_mut(at..at + 4) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
    }
    fn patch_u16(&mut self, at: usize, v: u16) {
        if let Some(slot) = self.out.get_mut(at..at + 2) {
            slot.copy_from_slice(&v.to_le_bytes());
        }
    }
    fn utf16(&mut self, s: &str) {
        for c in s.encode_utf16() {
            self.u16(c);
        }
    }

    /// A length-prefixed UTF-16 string (value text, name strings).
    fn counted(&mut self, s: &str) -> Result<(), EncodeError> {
        let n =
            u16::try_from(s.encode_utf16().count()).map_err(|_| EncodeError::TooLong("text"))?;
        self.u16(n);
        self.utf16(s);
        Ok(())
    }

    /// A reference to `name` in the string table, defining it in place on first use.
    fn name(&mut self, name: &str) -> Result<(), EncodeError> {
        if let Some(off) = self.tables.names.get(name) {
            let off = *off;
            self.u32(off);
            return Ok(());
        }
        let off = self.here().saturating_add(4);
        self.u32(off);
        let hash = name_hash(name);
        let bucket = usize::from(hash) % 64;
        let next = self.tables.name_heads.get(bucket).copied().unwrap_or(0);
        self.u32(next);
        self.u16(hash);
        self.counted(name)?;
        self.u16(0);
        if let Some(head) = self.tables.name_heads.get_mut(bucket) {
            *head = off;
        }
        self.tables.names.insert(name.to_owned(), off);
        self.tables.added_names.push(name.to_owned());
        Ok(())
    }

    fn content(&mut self, c: &Content) -> Result<(), EncodeError> {
        match c {
            Content::Text(t) => {
                self.u8(token::VALUE);
                self.u8(ty::STRING);
                self.counted(t)
            }
            Content::Sub { id, ty, optional } => {
                self.u8(if *optional {
                    token::OPTIONAL_SUBSTITUTION
                } else {
                    token::NORMAL_SUBSTITUTION
                });
                self.u16(*id);
                self.u8(*ty);
                Ok(())
            }
        }
    }

    fn node(&mut self, n: &Node) -> Result<(), EncodeError> {
        match n {
            Node::Content(c) => self.content(c),
            Node::Element {
                name,
                attributes,
                children,
            } => {
                self.u8(if attributes.is_empty() {
                    token::OPEN_START_ELEMENT
                } else {
                    token::OPEN_START_ELEMENT_MORE
                });
                // Dependency identifier: none.
                self.u16(0xFFFF);
                let size_at = self.out.len();
                self.u32(0);
                self.name(name)?;
                if !attributes.is_empty() {
                    let list_at = self.out.len();
                    self.u32(0);
                    let start = self.out.len();
                    let last = attributes.len() - 1;
                    for (i, (attr, value)) in attributes.iter().enumerate() {
                        self.u8(if i == last {
                            token::ATTRIBUTE
                        } else {
                            token::ATTRIBUTE_MORE
                        });
                        self.name(attr)?;
                        self.content(value)?;
                    }
                    let len = pos_u32(self.out.len() - start);
                    self.patch_u32(list_at, len);
                }
                if children.is_empty() {
                    self.u8(token::CLOSE_EMPTY_ELEMENT);
                } else {
                    self.u8(token::CLOSE_START_ELEMENT);
                    for c in children {
                        self.node(c)?;
                    }
                    self.u8(token::END_ELEMENT);
                }
                let len = pos_u32(self.out.len() - size_at - 4);
                self.patch_u32(size_at, len);
                Ok(())
            }
        }
    }

    /// A `BinXml` fragment holding one template instance: fragment header, the instance (its
    /// definition in place on first use in the chunk), then the substitution array.
    pub(crate) fn fragment(&mut self, inst: &Instance<'_>) -> Result<(), EncodeError> {
        self.out.extend_from_slice(&token::FRAGMENT_HEADER_BYTES);
        let guid = template_guid(&inst.key);
        let id = u32::from_le_bytes([guid[0], guid[1], guid[2], guid[3]]);
        self.u8(token::TEMPLATE_INSTANCE);
        // Unknown; Windows writes 1.
        self.u8(0x01);
        self.u32(id);
        if let Some(off) = self.tables.templates.get(&inst.key) {
            let off = *off;
            self.u32(off);
        } else {
            let def = self.here().saturating_add(4);
            self.u32(def);
            let bucket = (id % 32) as usize;
            let next = self.tables.template_heads.get(bucket).copied().unwrap_or(0);
            self.u32(next);
            self.out.extend_from_slice(&guid);
            let size_at = self.out.len();
            self.u32(0);
            let start = self.out.len();
            self.out.extend_from_slice(&token::FRAGMENT_HEADER_BYTES);
            self.node(&(inst.definition)(&inst.spec))?;
            self.u8(token::END_OF_STREAM);
            let len = pos_u32(self.out.len() - start);
            self.patch_u32(size_at, len);
            if let Some(head) = self.tables.template_heads.get_mut(bucket) {
                *head = def;
            }
            self.tables.templates.insert(inst.key.clone(), def);
            self.tables.added_templates.push(inst.key.clone());
        }
        self.u32(pos_u32(inst.values.len()));
        let descriptors = self.out.len();
        for _ in &inst.values {
            self.u32(0);
        }
        for (i, v) in inst.values.iter().enumerate() {
            let start = self.out.len();
            let t = self.value(v)?;
            let size =
                u16::try_from(self.out.len() - start).map_err(|_| EncodeError::TooLong("value"))?;
            let at = descriptors + i * 4;
            self.patch_u16(at, size);
            if let Some(slot) = self.out.get_mut(at + 2) {
                *slot = t;
            }
        }
        Ok(())
    }

    fn value(&mut self, v: &Value<'_>) -> Result<u8, EncodeError> {
        Ok(match v {
            Value::Null => ty::NULL,
            Value::Str(s) => {
                self.utf16(s);
                ty::STRING
            }
            Value::U8(x) => {
                self.u8(*x);
                ty::UINT8
            }
            Value::U16(x) => {
                self.u16(*x);
                ty::UINT16
            }
            Value::U32(x) => {
                self.u32(*x);
                ty::UINT32
            }
            Value::U64(x) => {
                self.u64(*x);
                ty::UINT64
            }
            Value::HexU64(x) => {
                self.u64(*x);
                ty::HEXINT64
            }
            Value::FileTime(x) => {
                self.u64(*x);
                ty::FILETIME
            }
            Value::BinXml(inst) => {
                self.fragment(inst)?;
                ty::BINXML
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn name_hash_matches_the_string_table_hash() {
        // Computed by hand: ((('D'*65599)+'a')*65599+'t')*65599+'a', low 16 bits.
        let mut h: u32 = 0;
        for c in "Data".encode_utf16() {
            h = h.wrapping_mul(65599).wrapping_add(u32::from(c));
        }
        assert_eq!(name_hash("Data"), (h & 0xFFFF) as u16);
        assert_ne!(name_hash("Data"), name_hash("Date"));
    }

    #[test]
    fn names_are_defined_once_then_referenced() {
        let mut t = Tables::default();
        t.begin();
        let mut e = Encoder::new(0x200, &mut t);
        e.name("Event").unwrap();
        let first = e.out.len();
        e.name("Event").unwrap();
        // The second use is only the 4-byte offset, pointing at the first definition.
        assert_eq!(e.out.len() - first, 4);
        assert_eq!(&e.out[first..], &0x204u32.to_le_bytes());
    }

    #[test]
    fn rollback_forgets_what_a_record_added() {
        let mut t = Tables::default();
        t.begin();
        Encoder::new(0x200, &mut t).name("System").unwrap();
        t.rollback();
        t.begin();
        let mut e = Encoder::new(0x300, &mut t);
        e.name("System").unwrap();
        // Defined again in place, not referenced at the rolled-back offset.
        assert_eq!(&e.out[..4], &0x304u32.to_le_bytes());
        assert!(t.name_heads.contains(&0x304));
    }
}
