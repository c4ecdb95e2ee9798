//! The files inside `.zip` bundles, each an input of its own named `archive.zip!inner/name`.
//! Entries are read in memory and never written anywhere, so names like `../x` are only labels.
//!
//! One [`Budget`] bounds an archive and every archive inside it: entries, unpacked bytes (as the
//! archive declares them; an entry that unpacks to more is refused when read), the compression
//! ratio of the whole tree, nesting depth, and nested archives held in memory. Budgets are
//! spent when the archive is opened, in entry order, so what is refused never depends on the
//! order threads read in. Entries are unpacked only when they are read ([`Entry::read`], one
//! per reading thread), never all at once; an archive on disk is read in place, not loaded.

use std::io::{Read, Seek, SeekFrom};
use std::sync::Arc;

use super::{Deferred, InputFile, MAX_FILE_BYTES, Unreadable, ZIP_MAGIC, read_capped};

/// At most this many entries of one archive, nested archives included, are read.
pub(super) const MAX_ENTRIES: usize = 10_000;
/// At most this many bytes are unpacked from one archive, nested archives included.
pub(super) const MAX_TOTAL: u64 = 1024 * 1024 * 1024;
/// An entry, or a whole archive with the archives inside it, that unpacks to more than this
/// many times its packed size is refused as a probable zip bomb (an entry over 1 MiB, a tree
/// over [`RATIO_FLOOR`]).
pub(super) const MAX_RATIO: u64 = 200;
/// Below this many unpacked bytes a tree is not judged by its ratio: it costs little whatever it
/// is.
const RATIO_FLOOR: u64 = 32 * 1024 * 1024;
/// Zips inside zips are opened this many levels deep.
pub(super) const MAX_DEPTH: usize = 2;
/// An archive whose directory lists more entries than this is not opened: listing them alone
/// would take memory out of proportion (a few hundred bytes each).
pub(super) const MAX_LISTED: u64 = 100_000;
/// Nested archives wait in memory for their entries to be read: at most this many bytes of them
/// in one run.
pub(super) const MAX_NESTED_HELD: u64 = 128 * 1024 * 1024;

/// What a run may still spend on archives: entries, bytes and the ratio per tree (an archive
/// and the archives in it), nested archives held in memory over the whole run.
#[derive(Debug)]
pub(super) struct Budget {
    entries: usize,
    bytes: u64,
    /// The outermost archive's packed size, and the bytes its tree declares so far.
    packed: u64,
    declared: u64,
    /// Bytes of nested archives the run may still hold.
    held: u64,
}

impl Budget {
    /// The budget of a run, before any archive.
    pub(super) fn new() -> Budget {
        Budget {
            entries: MAX_ENTRIES,
            bytes: MAX_TOTAL,
            packed: 0,
            declared: 0,
            held: MAX_NESTED_HELD,
        }
    }

    /// A fresh tree for the outermost archive of `packed` bytes; nested archives held carry on.
    fn tree(&mut self, packed: u64) {
        self.entries = MAX_ENTRIES;
        self.bytes = MAX_TOTAL;
        self.packed = packed.max(1);
        self.declared = 0;
    }
}

/// An archive's bytes: in memory (standard input, a nested archive), or a file on disk read in
/// place at positions, so every entry waiting to be read shares one handle.
#[derive(Debug, Clone)]
enum Source {
    Memory(std::io::Cursor<Arc<[u8]>>),
    File {
        file: Arc<std::fs::File>,
        pos: u64,
        len: u64,
    },
}

impl Read for Source {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Source::Memory(c) => c.read(buf),
            Source::File { file, pos, .. } => {
                let n = read_at(file, buf, *pos)?;
                *pos += n as u64;
                Ok(n)
            }
        }
    }
}

#[cfg(unix)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::unix::fs::FileExt::read_at(file, buf, at)
}

#[cfg(windows)]
fn read_at(file: &std::fs::File, buf: &mut [u8], at: u64) -> std::io::Result<usize> {
    std::os::windows::fs::FileExt::seek_read(file, buf, at)
}

impl Seek for Source {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match self {
            Source::Memory(c) => c.seek(to),
            Source::File { pos, len, .. } => {
                let target = match to {
                    SeekFrom::Start(p) => Some(p),
                    SeekFrom::End(d) => len.checked_add_signed(d),
                    SeekFrom::Current(d) => pos.checked_add_signed(d),
                };
                *pos =
                    target.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
                Ok(*pos)
            }
        }
    }
}

type Archive = zip::ZipArchive<Source>;

/// An entry waiting to be read: unpacked when its input is loaded, never before.
pub(crate) struct Entry {
    archive: Archive,
    index: usize,
    /// What the archive declares it unpacks to (the budget was spent on this).
    size: u64,
}

impl std::fmt::Debug for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "zip entry #{} ({} bytes)", self.index, self.size)
    }
}

impl Entry {
    /// The entry's bytes: never more than it declares.
    pub(super) fn read(mut self) -> Result<Vec<u8>, Unreadable> {
        let size = self.size;
        let entry = self
            .archive
            .by_index(self.index)
            .map_err(|e| Unreadable::BadEntry(e.to_string()))?;
        read_capped(entry, size, size).map_err(|e| match e {
            Unreadable::TooLarge => Unreadable::PastDeclared { size },
            other => other,
        })
    }

    pub(super) fn size(&self) -> u64 {
        self.size
    }
}

/// Adds the files of the archive on disk at `path` in place of the archive.
pub(super) fn expand_file(
    out: &mut Vec<InputFile>,
    path: &str,
    disk: &std::path::Path,
    budget: &mut Budget,
) {
    let opened = std::fs::File::open(disk)
        .and_then(|f| f.metadata().map(|m| (f, m.len())))
        .map_err(Unreadable::Open);
    match opened {
        Ok((file, len)) => {
            budget.tree(len);
            let source = Source::File {
                file: Arc::new(file),
                pos: 0,
                len,
            };
            expand_nested(out, path, source, 1, budget);
        }
        Err(why) => out.push(unreadable(path.to_owned(), true, why)),
    }
}

/// Adds the files of the archive `bytes` (found at `path`) in place of the archive.
pub(super) fn expand(out: &mut Vec<InputFile>, path: &str, bytes: Vec<u8>, budget: &mut Budget) {
    budget.tree(bytes.len() as u64);
    let source = Source::Memory(std::io::Cursor::new(Arc::from(bytes)));
    expand_nested(out, path, source, 1, budget);
}

/// An input that could not be read, named `path`.
fn unreadable(path: String, explicit: bool, why: Unreadable) -> InputFile {
    InputFile {
        path,
        explicit,
        bytes: Err(why),
        disk: None,
        deferred: None,
    }
}

/// The archive's entries at nesting `depth`, spending `budget`.
fn expand_nested(
    out: &mut Vec<InputFile>,
    path: &str,
    source: Source,
    depth: usize,
    budget: &mut Budget,
) {
    let mut source = source;
    if let Some(listed) = listed_entries(&mut source).filter(|&n| n > MAX_LISTED) {
        out.push(unreadable(
            path.to_owned(),
            true,
            Unreadable::TooManyListed { entries: listed },
        ));
        return;
    }
    let mut archive = match zip::ZipArchive::new(source) {
        Ok(a) => a,
        Err(e) => {
            out.push(unreadable(
                path.to_owned(),
                true,
                Unreadable::NotAZip(e.to_string()),
            ));
            return;
        }
    };
    let mut entries: Vec<(String, usize)> = (0..archive.len())
        .filter_map(|i| {
            archive.by_index_data(i).ok().map(|e| {
                (
                    e.name()
                        .map(std::borrow::Cow::into_owned)
                        .unwrap_or_default(),
                    i,
                )
            })
        })
        .collect();
    entries.sort();
    // The whole tree's ratio: what it declares so far (entries refused on their own left out)
    // against the outermost archive's size.
    let declared: u64 = (0..archive.len())
        .filter_map(|i| archive.by_index_data(i).ok())
        .map(|e| (e.size(), e.compressed_size()))
        .filter(|&(size, packed)| refused_alone(size, packed).is_none())
        .map(|(size, _)| size)
        .fold(0u64, u64::saturating_add);
    budget.declared = budget.declared.saturating_add(declared);
    if budget.declared > RATIO_FLOOR && budget.declared / budget.packed > MAX_RATIO {
        out.push(unreadable(
            path.to_owned(),
            true,
            Unreadable::ArchiveBomb {
                size: budget.declared,
                packed: budget.packed,
            },
        ));
        return;
    }
    let total = entries.len();
    for (n, (name, i)) in entries.into_iter().enumerate() {
        if budget.entries == 0 {
            out.push(unreadable(
                path.to_owned(),
                true,
                Unreadable::TooManyEntries { entries: total - n },
            ));
            break;
        }
        let label = format!("{path}!{name}");
        match entry(&mut archive, i, budget) {
            Taken::Directory => {}
            Taken::Refused { why, explicit } => out.push(unreadable(label, explicit, why)),
            Taken::Archive(size) => nested(out, &mut archive, i, size, &label, depth, budget),
            Taken::Deferred(e) => out.push(InputFile {
                path: label,
                explicit: false,
                bytes: Ok(Vec::new()),
                disk: None,
                deferred: Some(Deferred::Entry(e)),
            }),
        }
    }
}

/// How many entries the archive's directory lists, from its end record (ZIP64's when the
/// classic one overflows); `None` when there is none to read (the zip reader says why).
fn listed_entries(source: &mut Source) -> Option<u64> {
    const END: &[u8] = b"PK\x05\x06";
    const LOCATOR: &[u8] = b"PK\x06\x07";
    const END64: &[u8] = b"PK\x06\x06";
    let len = source.seek(SeekFrom::End(0)).ok()?;
    // The end record (22 bytes) and its comment (at most 65,535).
    let tail_len = len.min(22 + 65_535);
    let mut tail = vec![0u8; usize::try_from(tail_len).ok()?];
    source.seek(SeekFrom::Start(len - tail_len)).ok()?;
    source.read_exact(&mut tail).ok()?;
    let at = tail.windows(4).rposition(|w| w == END)?;
    let u16_at = |b: &[u8], i: usize| b.get(i..i + 2)?.try_into().ok().map(u16::from_le_bytes);
    let u64_at = |b: &[u8], i: usize| b.get(i..i + 8)?.try_into().ok().map(u64::from_le_bytes);
    let classic = u16_at(&tail, at + 10)?;
    if classic != u16::MAX {
        return Some(u64::from(classic));
    }
    let locator = tail.get(at.checked_sub(20)?..at)?;
    if !locator.starts_with(LOCATOR) {
        return Some(u64::from(classic));
    }
    let mut end64 = [0u8; 40];
    source.seek(SeekFrom::Start(u64_at(locator, 8)?)).ok()?;
    source.read_exact(&mut end64).ok()?;
    end64.starts_with(END64).then(|| u64_at(&end64, 32))?
}

/// Entry `i`, a zip itself: opened in place of the entry, within the depth and the memory it
/// may hold.
fn nested(
    out: &mut Vec<InputFile>,
    archive: &mut Archive,
    i: usize,
    size: u64,
    label: &str,
    depth: usize,
    budget: &mut Budget,
) {
    if depth >= MAX_DEPTH {
        out.push(unreadable(label.to_owned(), true, Unreadable::TooDeep));
        return;
    }
    if size > budget.held {
        out.push(unreadable(label.to_owned(), true, Unreadable::NestedHeld));
        return;
    }
    budget.held -= size;
    let bytes = Entry {
        archive: archive.clone(),
        index: i,
        size,
    }
    .read();
    match bytes {
        Ok(b) => {
            let source = Source::Memory(std::io::Cursor::new(Arc::from(b)));
            expand_nested(out, label, source, depth + 1, budget);
        }
        Err(why) => out.push(unreadable(label.to_owned(), true, why)),
    }
}

/// What one entry of an archive gives.
enum Taken {
    Directory,
    /// Not read: why, and whether to report it as a named input's error.
    Refused {
        why: Unreadable,
        explicit: bool,
    },
    /// A zip inside the zip, of this many bytes.
    Archive(u64),
    /// To be read when its turn comes.
    Deferred(Entry),
}

/// Why an entry that unpacks to `size` bytes from `packed` is refused on its own: too large, or
/// (over 1 MiB) compressed more than [`MAX_RATIO`]:1.
fn refused_alone(size: u64, packed: u64) -> Option<Unreadable> {
    let packed = packed.max(1);
    if size > MAX_FILE_BYTES {
        Some(Unreadable::EntryTooLarge { size })
    } else if size > 1024 * 1024 && size / packed > MAX_RATIO {
        Some(Unreadable::Bomb {
            ratio: size / packed,
        })
    } else {
        None
    }
}

/// Entry `i` within the bounds, its entry and bytes taken from `budget`.
fn entry(archive: &mut Archive, i: usize, budget: &mut Budget) -> Taken {
    let refused = |why| Taken::Refused {
        why,
        explicit: true,
    };
    let (size, packed) = match archive.by_index_data(i) {
        Ok(e) if e.is_dir() => return Taken::Directory,
        // Only a name is stored; it is never followed.
        Ok(e) if e.is_symlink() => {
            return Taken::Refused {
                why: Unreadable::Symlink,
                explicit: false,
            };
        }
        Ok(e) if e.encrypted() => return refused(Unreadable::Encrypted),
        Ok(e) => (e.size(), e.compressed_size().max(1)),
        Err(e) => return refused(Unreadable::BadEntry(e.to_string())),
    };
    if let Some(why) = refused_alone(size, packed) {
        return refused(why);
    }
    if size > budget.bytes {
        return refused(Unreadable::OverBudget);
    }
    budget.entries -= 1;
    budget.bytes -= size;
    // A zip inside is known by its first bytes, the only ones unpacked now.
    if size >= ZIP_MAGIC.len() as u64 {
        let mut head = [0u8; 4];
        let peeked = match archive.by_index(i) {
            Ok(mut e) => e.read_exact(&mut head).map_err(|e| e.to_string()),
            Err(e) if e.to_string().contains("Password") => {
                return refused(Unreadable::Encrypted);
            }
            Err(e) => Err(e.to_string()),
        };
        if let Err(e) = peeked {
            return refused(Unreadable::BadEntry(e));
        }
        if head == ZIP_MAGIC {
            return Taken::Archive(size);
        }
    }
    Taken::Deferred(Entry {
        archive: archive.clone(),
        index: i,
        size,
    })
}

#[cfg(test)]
mod tests;
