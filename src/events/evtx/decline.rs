//! Why the pre-filter hands a chunk to the `evtx` crate: one [`Decline`] for each place it gives
//! up, and [`Declines`], how often each reason came up over a log. A decline is no error: the
//! crate reads the chunk, so the answer is the same; it says only why that chunk was slower. This
//! file knows the reasons, not where in the bytes they are found.

use std::collections::BTreeMap;
use std::fmt;

use super::cursor::OutOfChunk;

/// Why the pre-filter did not read a chunk itself. Variants that carry a byte carry the token or
/// value type (`layout::token`, `layout::value_type`) that stopped it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Decline {
    // The chunk and its records.
    /// The file ends inside the chunk.
    Truncated,
    /// The chunk does not start with `ElfChnk\0`.
    ChunkMagic,
    /// The chunk header's free-space offset lies before the records or past the chunk.
    FreeSpace,
    /// A record does not start with its signature.
    RecordMagic,
    /// A record's size is smaller than a record header or runs past the chunk's used space.
    RecordSize,
    /// A record's size differs from the copy of it that ends the record.
    RecordSizeCopy,
    /// The records do not end where the chunk header says its used space does.
    RecordsEnd,
    /// A read ran past the chunk's end (a size or an offset pointing outside it).
    OutOfChunk,

    // Template definitions.
    /// A record or a nested fragment does not hold a template instance (the token found).
    NotTemplateInstance(u8),
    /// A template definition is longer than the chunk holds.
    TemplateSize,
    /// A template definition does not start with an element (the token found).
    TemplateRoot(u8),
    /// A start tag ends with neither close-start nor close-empty (the token found).
    StartTagEnd(u8),
    /// Elements nested deeper than the reader follows.
    TooDeep,
    /// A token this reader leaves to the crate inside an element: CDATA, a character or entity
    /// reference, a processing instruction, or an unknown one.
    UnknownToken(u8),
    /// Literal text of a value type other than a string (the type).
    TextType(u8),
    /// A template passed over as unwanted (its literal provider) is used again as a nested
    /// fragment, which needs it parsed.
    SkippedTemplate,
    /// An instance's template is not among the chunk's (cannot happen: the instance's header
    /// adds it; kept so that a slip falls back to the crate instead of failing).
    NoTemplate,

    // A record's content.
    /// The record's root element is not `Event`.
    RootNotEvent,
    /// The record has no `System` element.
    NoSystem,
    /// `System` has no `Provider` element.
    NoProvider,
    /// `System` has no `EventID` element.
    NoEventId,
    /// More substitution values than a record can have.
    TooManyValues,
    /// A record's substitution values run past the record's end.
    ValuesPastRecord,
    /// Text names a substitution value the record does not have.
    MissingValue,
    /// Text is made of a value of a type this reader does not render (the type).
    UnsupportedValueType(u8),
    /// An element stands where text was expected.
    ElementInText,
    /// The event id is not a number this reader reads.
    EventId,
    /// A System element the reader reads depends on a value that is null: the crate leaves it
    /// out, and the next element of that name may take its place.
    LeftOut,
    /// `TimeCreated`'s `SystemTime` is not a FILETIME substitution.
    TimeCreated,
    /// `Level` or `EventRecordID` holds a value of a type not read as a number (the type).
    NumberValue(u8),
    /// A substitution in `Event`'s content is neither a nested fragment nor null (the type).
    EventDataValue(u8),
    /// A nested fragment runs past the value that holds it.
    FragmentPastValue,
    /// A nested fragment's template is not `EventData`.
    NotEventData,
    /// `<Data Name=…>`: named data, which the crate's JSON keys by name.
    NamedData,
    /// `EventData` holds something other than `Data` elements.
    EventDataContent,
    /// `Event` holds something other than `System` and `EventData` (`UserData`, other
    /// elements, text).
    OtherContent,
}

/// A reason as reports write it: the variant in kebab case, and the byte that stopped the reader
/// in hex (`unknown-token 0x0B`).
impl fmt::Display for Decline {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let debug = format!("{self:?}");
        let (name, byte) = match debug.split_once('(') {
            Some((name, rest)) => (name, rest.trim_end_matches(')').parse::<u8>().ok()),
            None => (debug.as_str(), None),
        };
        for (i, c) in name.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                f.write_str("-")?;
            }
            write!(f, "{}", c.to_ascii_lowercase())?;
        }
        if let Some(b) = byte {
            write!(f, " 0x{b:02X}")?;
        }
        Ok(())
    }
}

impl From<OutOfChunk> for Decline {
    fn from(_: OutOfChunk) -> Self {
        Decline::OutOfChunk
    }
}

/// How many chunks each reason sent to the crate: in the read statistics, and in the report's
/// input summary (`evtx_chunks_declined`; the text report lists it with `--verbose`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Declines(BTreeMap<Decline, u64>);

impl Declines {
    /// Counts one chunk declined for `why`.
    pub fn add(&mut self, why: Decline) {
        *self.0.entry(why).or_default() += 1;
    }

    /// How many chunks were declined for `why`.
    pub fn count(&self, why: Decline) -> u64 {
        self.0.get(&why).copied().unwrap_or(0)
    }

    /// How many chunks were declined in all.
    pub fn total(&self) -> u64 {
        self.0.values().sum()
    }

    /// Each reason that came up, with its count, in the order of [`Decline`]'s variants.
    pub fn iter(&self) -> impl Iterator<Item = (Decline, u64)> + '_ {
        self.0.iter().map(|(why, n)| (*why, *n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_reads_as_kebab_case_words_and_its_byte_in_hex() {
        assert_eq!(Decline::ChunkMagic.to_string(), "chunk-magic");
        assert_eq!(
            Decline::UnsupportedValueType(0x81).to_string(),
            "unsupported-value-type 0x81"
        );
        assert_eq!(
            Decline::UnknownToken(0x0B).to_string(),
            "unknown-token 0x0B"
        );
        let mut all = Declines::default();
        all.add(Decline::Truncated);
        all.add(Decline::Truncated);
        assert_eq!(all.total(), 2);
        assert_eq!(all.count(Decline::Truncated), 2);
    }
}
