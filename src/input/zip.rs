//! The files inside `.zip` bundles, each an input of its own named `archive.zip!inner/name`.
//! Entries are read in memory and never written anywhere, so names like `../x` are only labels.
//! Bounds: entry count, per-entry and total unpacked size, compression ratio, nesting.

use super::{InputFile, MAX_FILE_BYTES, Unreadable, ZIP_MAGIC, read_bounded};

/// At most this many entries of one archive are read.
pub(super) const MAX_ENTRIES: usize = 10_000;
/// At most this many bytes are unpacked from one archive, nested ones included.
pub(super) const MAX_TOTAL: u64 = 1024 * 1024 * 1024;
/// An entry that unpacks to more than this many times its packed size (and over 1 MiB) is
/// refused as a probable zip bomb.
const MAX_RATIO: u64 = 200;
/// Zips inside zips are opened this many levels deep.
pub(super) const MAX_DEPTH: usize = 2;

/// Adds the files of the archive `bytes` (found at `path`) in place of the archive.
pub(super) fn expand(out: &mut Vec<InputFile>, path: &str, bytes: Vec<u8>) {
    let mut budget = MAX_TOTAL;
    expand_nested(out, path, bytes, 1, &mut budget);
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

/// The archive's entries at nesting `depth`, sharing the unpacked-bytes `budget`.
fn expand_nested(
    out: &mut Vec<InputFile>,
    path: &str,
    bytes: Vec<u8>,
    depth: usize,
    budget: &mut u64,
) {
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
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
    let mut entries: Vec<(String, usize)> = (0..archive.len().min(MAX_ENTRIES))
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
    if archive.len() > MAX_ENTRIES {
        let entries = archive.len();
        out.push(unreadable(
            path.to_owned(),
            true,
            Unreadable::TooManyEntries { entries },
        ));
    }
    for (name, i) in entries {
        let label = format!("{path}!{name}");
        match entry(&mut archive, i, budget) {
            Entry::Directory => {}
            Entry::Refused { why, explicit } => out.push(unreadable(label, explicit, why)),
            Entry::Read(Ok(b)) if b.starts_with(ZIP_MAGIC) => {
                if depth < MAX_DEPTH {
                    expand_nested(out, &label, b, depth + 1, budget);
                } else {
                    out.push(unreadable(label, true, Unreadable::TooDeep));
                }
            }
            Entry::Read(bytes) => out.push(InputFile {
                path: label,
                explicit: false,
                bytes,
                disk: None,
                deferred: None,
            }),
        }
    }
}

/// What one entry of an archive gives.
enum Entry {
    Directory,
    /// Not read: why, and whether to report it as a named input's error.
    Refused {
        why: Unreadable,
        explicit: bool,
    },
    Read(Result<Vec<u8>, Unreadable>),
}

/// Reads entry `i` within the bounds, taking what it unpacks from `budget`.
fn entry(
    archive: &mut zip::ZipArchive<std::io::Cursor<Vec<u8>>>,
    i: usize,
    budget: &mut u64,
) -> Entry {
    let refused = |why| Entry::Refused {
        why,
        explicit: true,
    };
    let entry = match archive.by_index(i) {
        Ok(e) => e,
        Err(e) if e.to_string().contains("Password") => return refused(Unreadable::Encrypted),
        Err(e) => return refused(Unreadable::BadEntry(e.to_string())),
    };
    if entry.is_dir() {
        return Entry::Directory;
    }
    if entry.is_symlink() {
        // Only a name is stored; it is never followed.
        return Entry::Refused {
            why: Unreadable::Symlink,
            explicit: false,
        };
    }
    if entry.encrypted() {
        return refused(Unreadable::Encrypted);
    }
    let (size, packed) = (entry.size(), entry.compressed_size().max(1));
    if size > MAX_FILE_BYTES {
        return refused(Unreadable::EntryTooLarge { size });
    }
    if size > 1024 * 1024 && size / packed > MAX_RATIO {
        return refused(Unreadable::Bomb {
            ratio: size / packed,
        });
    }
    if size > *budget {
        return refused(Unreadable::OverBudget);
    }
    // The declared size is not trusted: reading stops at the bound whatever it says.
    let read = read_bounded(entry);
    *budget = budget.saturating_sub(read.as_ref().map_or(0, |b| b.len() as u64));
    Entry::Read(read)
}
