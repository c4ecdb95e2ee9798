//! Finding and reading inputs: named files, directories (recursively, in a stable order), `-`
//! for standard input, and the files inside `.zip` bundles, each read with a size bound. What the
//! bytes are is decided by the decoders; this module only delivers them, or says why it could not
//! ([`Unreadable`]). Also here: bytes to text in any encoding a console writes (`encoding`), the
//! language-neutral value grammar every reader shares (`values`) and zip bundles (`zip`).

pub(crate) mod decoration;
pub(crate) mod encoding;
pub(crate) mod values;
mod zip;

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are not read (no export kmsdiag reads as a whole is this large).
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// How deep directories are followed.
const MAX_DEPTH: usize = 32;
/// The first bytes of a zip archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";

/// Why an input (a file, standard input, an entry of an archive) could not be read. Its text
/// follows the input's path in every report.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Unreadable {
    #[error("cannot open: {0}")]
    Open(std::io::Error),
    #[error("cannot read: {0}")]
    Read(std::io::Error),
    #[error("larger than {MAX_FILE_BYTES} bytes; kmsdiag does not read files this large")]
    TooLarge,
    #[error("not a readable zip archive: {0}")]
    NotAZip(String),
    #[error(
        "{entries} more entries not read: an archive is read to {} entries in all, the archives inside it included",
        zip::MAX_ENTRIES
    )]
    TooManyEntries { entries: usize },
    #[error(
        "the archive lists {entries} entries; kmsdiag opens archives of up to {} entries",
        zip::MAX_LISTED
    )]
    TooManyListed { entries: u64 },
    #[error("cannot read this zip entry: {0}")]
    BadEntry(String),
    #[error("encrypted (password-protected) entry: extract it and pass the file itself")]
    Encrypted,
    #[error("a symbolic link inside the archive; links are not followed")]
    Symlink,
    #[error(
        "unpacks to {size} bytes; kmsdiag does not read files larger than {MAX_FILE_BYTES} bytes"
    )]
    EntryTooLarge { size: u64 },
    #[error("compression ratio {ratio}:1 looks like a zip bomb; not unpacked")]
    Bomb { ratio: u64 },
    #[error(
        "the archive and the archives inside it unpack to {size} bytes from {packed} ({}:1), more than {}:1: looks like a zip bomb; not unpacked",
        size / packed.max(&1),
        zip::MAX_RATIO
    )]
    ArchiveBomb { size: u64, packed: u64 },
    #[error("unpacks to more than the {size} bytes the archive declares for it; not read")]
    PastDeclared { size: u64 },
    #[error(
        "a zip inside a zip, not opened: the nested archives of this run would hold more than {} bytes in memory; extract it and pass its files",
        zip::MAX_NESTED_HELD
    )]
    NestedHeld,
    #[error("not enough memory to read {size} bytes")]
    NoMemory { size: u64 },
    #[error(
        "the archive unpacks to more than {} bytes in all; the rest is not unpacked",
        zip::MAX_TOTAL
    )]
    OverBudget,
    #[error("a zip nested more than {} deep; not opened", zip::MAX_DEPTH)]
    TooDeep,
    #[error(
        "a folder nested more than {MAX_DEPTH} folders deep; it and everything in it were not read (move the files up and run again)"
    )]
    FolderTooDeep,
}

/// One input file as found.
#[derive(Debug)]
pub(crate) struct InputFile {
    /// As given or found (`-` is shown as `<stdin>`).
    pub path: String,
    /// Named on the command line (an unrecognised named file is an error; an unrecognised file
    /// found in a directory is skipped).
    pub explicit: bool,
    /// The content; for an `.evtx` file on disk only its first bytes, to its first chunk's
    /// signature (see `disk`).
    pub bytes: Result<Vec<u8>, Unreadable>,
    /// Set for `.evtx` files on disk: they are parsed from the file, chunk by chunk, so their size
    /// does not matter (Application logs of hundreds of MB) and memory stays flat.
    pub disk: Option<PathBuf>,
    /// Set for other files on disk and for the entries of archives until [`InputFile::load`]
    /// reads them: a fleet of thousands of exports, or an archive of thousands of entries, is
    /// never in memory at once, only the files being analyzed.
    pub deferred: Option<Deferred>,
}

/// Where an input's bytes are until they are read.
#[derive(Debug)]
pub(crate) enum Deferred {
    /// A file on disk.
    File(PathBuf),
    /// An entry of a zip archive (unpacked when read).
    Entry(zip::Entry),
}

impl InputFile {
    /// Reads a deferred file's or entry's content (bounded by [`MAX_FILE_BYTES`]); does nothing
    /// otherwise.
    pub(crate) fn load(&mut self) {
        match self.deferred.take() {
            Some(Deferred::File(p)) => self.bytes = read_file(&p),
            Some(Deferred::Entry(e)) => self.bytes = e.read(),
            None => {}
        }
    }

    /// How many bytes the file has (for progress), without reading it.
    pub(crate) fn size(&self) -> u64 {
        let path = match &self.deferred {
            Some(Deferred::Entry(e)) => return e.size(),
            Some(Deferred::File(p)) => Some(p),
            None => self.disk.as_ref(),
        };
        match (path, &self.bytes) {
            (Some(p), _) => std::fs::metadata(p).map_or(0, |m| m.len()),
            (None, Ok(b)) => b.len() as u64,
            (None, Err(_)) => 0,
        }
    }
}

/// The first bytes of every `.evtx` file.
const EVTX_MAGIC: &[u8] = b"ElfFile\0";
/// The first bytes of every `.evtx` chunk; the first chunk follows the 4 KiB file header. (The
/// readers' layout, `events::evtx::layout`, says the same; inputs come before readers.)
const EVTX_CHUNK_MAGIC: &[u8] = b"ElfChnk\0";
const EVTX_FIRST_CHUNK: usize = 4096;

/// Expands the command-line paths into files, in a deterministic order: named files in the order
/// given, each directory's files sorted by path.
pub(crate) fn collect(paths: &[PathBuf]) -> Vec<InputFile> {
    let mut out = Vec::new();
    let mut budget = zip::Budget::new();
    for p in paths {
        if p.as_os_str() == "-" {
            push(
                &mut out,
                "<stdin>".to_owned(),
                true,
                read_stdin(),
                &mut budget,
            );
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                let mut too_deep = Vec::new();
                walk(p, 0, &mut files, &mut too_deep);
                files.sort();
                for f in files {
                    push_file(&mut out, &f, false, &mut budget);
                }
                // Said, not silently left out: what was not followed, and why.
                too_deep.sort();
                out.extend(too_deep.iter().map(|d| InputFile {
                    path: display(d),
                    explicit: true,
                    bytes: Err(Unreadable::FolderTooDeep),
                    disk: None,
                    deferred: None,
                }));
            }
            Ok(_) => push_file(&mut out, p, true, &mut budget),
            Err(e) => out.push(InputFile {
                path: display(p),
                explicit: true,
                bytes: Err(Unreadable::Open(e)),
                disk: None,
                deferred: None,
            }),
        }
    }
    out
}

/// Adds a file from disk: an `.evtx` file by its path (parsed from disk later), anything else
/// read into memory.
fn push_file(out: &mut Vec<InputFile>, p: &Path, explicit: bool, budget: &mut zip::Budget) {
    let mut head = file_head(p);
    // A log whose header is damaged is still a log when its first chunk is in place; one too
    // large to be read whole whose chunks lie elsewhere (bytes added or lost) is read from disk
    // too, its first bytes to its first chunk's signature.
    let first_chunk = head
        .get(EVTX_FIRST_CHUNK..)
        .is_some_and(|c| c.starts_with(EVTX_CHUNK_MAGIC));
    let large = std::fs::metadata(p).is_ok_and(|m| m.len() > MAX_FILE_BYTES);
    let moved = large
        && !head.starts_with(ZIP_MAGIC)
        && encoding::looks_binary(&head)
        && moved_chunks_head(p).is_some_and(|h| {
            head = h;
            true
        });
    if head.starts_with(EVTX_MAGIC) || first_chunk || moved {
        out.push(InputFile {
            path: display(p),
            explicit,
            bytes: Ok(head),
            disk: Some(p.to_path_buf()),
            deferred: None,
        });
    } else if head.starts_with(ZIP_MAGIC) {
        // A bundle is opened now, read in place: its entries are files of their own.
        zip::expand_file(out, &display(p), p, budget);
    } else {
        out.push(InputFile {
            path: display(p),
            explicit,
            bytes: Ok(Vec::new()),
            disk: None,
            deferred: Some(Deferred::File(p.to_path_buf())),
        });
    }
}

/// The first bytes of a file, to the first `.evtx` chunk's signature (fewer when it is shorter or
/// cannot be read).
fn file_head(p: &Path) -> Vec<u8> {
    let len = EVTX_FIRST_CHUNK + EVTX_CHUNK_MAGIC.len();
    let mut head = Vec::with_capacity(len);
    if let Ok(f) = std::fs::File::open(p) {
        let _ = f.take(len as u64).read_to_end(&mut head);
    }
    head
}

/// The first bytes of a file to its first `.evtx` chunk signature found among its first
/// [`MAX_FILE_BYTES`] (a block at a time), with what follows it to the chunk header's own size
/// (128: the text of a record could hold the eight bytes); `None` when there is none.
fn moved_chunks_head(p: &Path) -> Option<Vec<u8>> {
    const BLOCK: usize = 1 << 20;
    /// Offset of a chunk header's own size (u32).
    const OWN_SIZE: usize = 0x28;
    let mut f = std::fs::File::open(p).ok()?;
    let finder = memchr::memmem::Finder::new(EVTX_CHUNK_MAGIC);
    let mut from = 0u64;
    let mut block = Vec::with_capacity(BLOCK + OWN_SIZE + 4);
    while from < MAX_FILE_BYTES {
        std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(from)).ok()?;
        block.clear();
        (&mut f)
            .take((BLOCK + OWN_SIZE + 4) as u64)
            .read_to_end(&mut block)
            .ok()?;
        let at = finder.find_iter(&block).find(|&i| {
            i < BLOCK
                && block
                    .get(i + OWN_SIZE..i + OWN_SIZE + 4)
                    .is_some_and(|b| b == 128u32.to_le_bytes())
        });
        if let Some(i) = at {
            let end = from + (i + OWN_SIZE + 4) as u64;
            std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(0)).ok()?;
            let mut head = Vec::new();
            head.try_reserve_exact(usize::try_from(end).ok()?).ok()?;
            f.take(end).read_to_end(&mut head).ok()?;
            return Some(head);
        }
        if block.len() <= BLOCK {
            return None;
        }
        from += BLOCK as u64;
    }
    None
}

/// Adds a file, or the files of a zip archive in its place.
fn push(
    out: &mut Vec<InputFile>,
    path: String,
    explicit: bool,
    bytes: Result<Vec<u8>, Unreadable>,
    budget: &mut zip::Budget,
) {
    match bytes {
        Ok(b) if b.starts_with(ZIP_MAGIC) => zip::expand(out, &path, b, budget),
        other => out.push(InputFile {
            path,
            explicit,
            bytes: other,
            disk: None,
            deferred: None,
        }),
    }
}

/// A path as reports show it.
fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The files under `dir`, at most [`MAX_DEPTH`] levels down; links are not followed. The folders
/// found deeper go to `too_deep` (not entered).
fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>, too_deep: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        // Symbolic links are not followed: a bundle cannot point kmsdiag elsewhere.
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if depth >= MAX_DEPTH {
                too_deep.push(path);
            } else {
                walk(&path, depth + 1, out, too_deep);
            }
        } else if ft.is_file() {
            out.push(path);
        }
    }
}

fn read_file(p: &Path) -> Result<Vec<u8>, Unreadable> {
    let f = std::fs::File::open(p).map_err(Unreadable::Open)?;
    let hint = f.metadata().map_or(0, |m| m.len());
    read_capped(f, MAX_FILE_BYTES, hint)
}

fn read_stdin() -> Result<Vec<u8>, Unreadable> {
    read_capped(std::io::stdin().lock(), MAX_FILE_BYTES, 0)
}

/// Reads to the end, but never more than `cap` bytes whatever the input says its size is
/// ([`Unreadable::TooLarge`] past it). Memory is reserved as the bytes come (`hint`, the size
/// the input says it has, up to `cap`, at once): a reservation that fails is an input error,
/// never an abort.
fn read_capped(r: impl Read, cap: u64, hint: u64) -> Result<Vec<u8>, Unreadable> {
    const STEP: usize = 1 << 20;
    let mut r = r.take(cap.saturating_add(1));
    let mut buf: Vec<u8> = Vec::new();
    let first = usize::try_from(hint.min(cap).saturating_add(1)).unwrap_or(STEP);
    buf.try_reserve_exact(first)
        .map_err(|_| Unreadable::NoMemory { size: hint })?;
    loop {
        if buf.len() == buf.capacity() {
            buf.try_reserve(STEP.max(buf.len() / 2))
                .map_err(|_| Unreadable::NoMemory {
                    size: buf.len() as u64,
                })?;
        }
        // Read into a window of the reserved room, zeroed first (no unsafe code).
        let len = buf.len();
        let room = (buf.capacity() - len).min(64 * 1024);
        buf.resize(len + room, 0);
        match r.read(buf.get_mut(len..).unwrap_or(&mut [])) {
            Ok(0) => {
                buf.truncate(len);
                break;
            }
            Ok(n) => buf.truncate(len + n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => buf.truncate(len),
            Err(e) => return Err(Unreadable::Read(e)),
        }
    }
    if buf.len() as u64 > cap {
        return Err(Unreadable::TooLarge);
    }
    Ok(buf)
}
