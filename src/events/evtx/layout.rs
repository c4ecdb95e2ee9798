//! The `.evtx` layout the readers and the writer (`evtx_writer`) agree on, each fact said once:
//! the file header, chunks and records (MS-EVEN6 §2.2), the binary XML tokens and substitution
//! value types (§2.2.12, §2.2.18), and the FILETIME epoch. Facts only: nothing here reads or
//! writes a byte.

/// The first bytes of every `.evtx` file.
pub(crate) const MAGIC: &[u8] = b"ElfFile\0";
/// The first bytes of every chunk.
pub(crate) const CHUNK_MAGIC: &[u8] = b"ElfChnk\0";
/// The first bytes of every record (`**\0\0`).
pub(crate) const RECORD_MAGIC: [u8; 4] = [0x2A, 0x2A, 0x00, 0x00];

/// Size of the file header block; the first chunk follows it.
pub(crate) const FILE_HEADER_SIZE: usize = 4096;
/// Size of every chunk (the last one of a truncated file excepted).
pub(crate) const CHUNK_SIZE: usize = 65536;
/// Size of a chunk's header and tables: where its records start.
pub(crate) const CHUNK_HEADER_SIZE: usize = 512;
/// A record's header: signature (4), size (4), record id (8), time written (8). Its binary XML
/// follows.
pub(crate) const RECORD_HEADER_SIZE: usize = 24;
/// A record's header plus the copy of its size that ends it.
pub(crate) const RECORD_OVERHEAD: usize = 28;

/// Offsets of the file header's fields that are read or written here.
pub(crate) mod file_header {
    /// Number of chunks (u16).
    pub(crate) const CHUNK_COUNT: usize = 42;
    /// Flags (u32): [`DIRTY`], [`FULL`].
    pub(crate) const FLAGS: usize = 120;
    /// CRC32 (u32) of the header's first [`CHECKSUMMED`] bytes.
    pub(crate) const CHECKSUM: usize = 124;
    /// How many of the header's first bytes [`CHECKSUM`] covers.
    pub(crate) const CHECKSUMMED: usize = 120;
    /// Flag: the log was not closed cleanly (copied while the Event Log service had it open).
    pub(crate) const DIRTY: u32 = 0x1;
    /// Flag: the log reached its maximum size and old records were overwritten.
    pub(crate) const FULL: u32 = 0x2;
}

/// Offsets of the chunk header's fields that are read or written here.
pub(crate) mod chunk_header {
    /// Where the chunk's used space ends (u32, from the chunk's start): the end of its last record.
    pub(crate) const FREE_SPACE: usize = 0x30;
    /// CRC32 (u32) of the records: from [`super::CHUNK_HEADER_SIZE`] to [`FREE_SPACE`].
    pub(crate) const DATA_CHECKSUM: usize = 0x34;
    /// CRC32 (u32) of the header: its bytes before [`CHECKSUMMED_HEAD`] and from
    /// [`CHECKSUMMED_TABLES`] to [`super::CHUNK_HEADER_SIZE`].
    pub(crate) const HEADER_CHECKSUM: usize = 0x7C;
    /// End of the header's first checksummed run.
    pub(crate) const CHECKSUMMED_HEAD: usize = 0x78;
    /// Start of the header's second checksummed run: the string and template tables.
    pub(crate) const CHECKSUMMED_TABLES: usize = 0x80;
}

/// The file offset of chunk `number`.
pub(crate) fn chunk_offset(number: u64) -> u64 {
    FILE_HEADER_SIZE as u64 + number * CHUNK_SIZE as u64
}

/// How many chunks (the last one possibly cut short) a file of `size` bytes holds.
pub fn chunk_count(size: u64) -> u64 {
    size.saturating_sub(FILE_HEADER_SIZE as u64)
        .div_ceil(CHUNK_SIZE as u64)
}

/// Binary XML tokens (MS-EVEN6 §2.2.12). A token's low four bits ([`KIND`](token::KIND)) say
/// what it is; the [`MORE`](token::MORE) bit says what follows.
pub(crate) mod token {
    pub(crate) const END_OF_STREAM: u8 = 0x00;
    pub(crate) const OPEN_START_ELEMENT: u8 = 0x01;
    pub(crate) const CLOSE_START_ELEMENT: u8 = 0x02;
    pub(crate) const CLOSE_EMPTY_ELEMENT: u8 = 0x03;
    pub(crate) const END_ELEMENT: u8 = 0x04;
    pub(crate) const VALUE: u8 = 0x05;
    pub(crate) const ATTRIBUTE: u8 = 0x06;
    // 0x07-0x0B (CDATA section, character and entity references, processing instructions) are
    // in the format but in no activation event's template: the reader declines them unnamed.
    pub(crate) const TEMPLATE_INSTANCE: u8 = 0x0C;
    pub(crate) const NORMAL_SUBSTITUTION: u8 = 0x0D;
    pub(crate) const OPTIONAL_SUBSTITUTION: u8 = 0x0E;
    pub(crate) const FRAGMENT_HEADER: u8 = 0x0F;

    /// The flag bit: on an open start element, attributes follow its name; on a value or an
    /// attribute, more of the same follow.
    pub(crate) const MORE: u8 = 0x40;
    /// The bits that say which token it is, without the flag.
    pub(crate) const KIND: u8 = 0x0F;
    /// [`OPEN_START_ELEMENT`] with attributes.
    pub(crate) const OPEN_START_ELEMENT_MORE: u8 = OPEN_START_ELEMENT | MORE;
    /// [`VALUE`] with more values following.
    pub(crate) const VALUE_MORE: u8 = VALUE | MORE;
    /// [`ATTRIBUTE`] with more attributes following.
    pub(crate) const ATTRIBUTE_MORE: u8 = ATTRIBUTE | MORE;

    /// A fragment header as Windows writes it: the token, version 1.1, no flags.
    pub(crate) const FRAGMENT_HEADER_BYTES: [u8; 4] = [FRAGMENT_HEADER, 0x01, 0x01, 0x00];
}

/// Substitution value types (MS-EVEN6 §2.2.18), those read or written here.
pub(crate) mod value_type {
    pub(crate) const NULL: u8 = 0x00;
    pub(crate) const STRING: u8 = 0x01;
    pub(crate) const INT8: u8 = 0x03;
    pub(crate) const UINT8: u8 = 0x04;
    pub(crate) const INT16: u8 = 0x05;
    pub(crate) const UINT16: u8 = 0x06;
    pub(crate) const INT32: u8 = 0x07;
    pub(crate) const UINT32: u8 = 0x08;
    pub(crate) const INT64: u8 = 0x09;
    pub(crate) const UINT64: u8 = 0x0A;
    pub(crate) const BOOL: u8 = 0x0D;
    pub(crate) const BINARY: u8 = 0x0E;
    pub(crate) const GUID: u8 = 0x0F;
    pub(crate) const SIZE_T: u8 = 0x10;
    pub(crate) const FILETIME: u8 = 0x11;
    pub(crate) const SID: u8 = 0x13;
    pub(crate) const HEXINT32: u8 = 0x14;
    pub(crate) const HEXINT64: u8 = 0x15;
    pub(crate) const BINXML: u8 = 0x21;
    /// An array of NUL-terminated UTF-16 strings (the array flag 0x80 on a string).
    pub(crate) const STRING_ARRAY: u8 = 0x81;
}

/// Seconds between 1601-01-01 (FILETIME's epoch) and 1970-01-01 (Unix time's).
pub(crate) const FILETIME_UNIX_OFFSET: i64 = 11_644_473_600;
/// FILETIME ticks (100 ns) per second.
pub(crate) const FILETIME_TICKS: u64 = 10_000_000;
