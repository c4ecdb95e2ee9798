//! Finding and reading inputs: named files, directories (recursively, in a stable order), `-`
//! for standard input, and the files inside `.zip` bundles, each read with a size bound. What the
//! bytes are is decided by the decoders; this module only delivers them, or says why it could not.
//!
//! Zip entries are read in memory and never written anywhere, so names like `../x` or `/etc/x`
//! are only labels. Bounds: entry count, total and per-entry size, compression ratio, nesting.

pub(crate) mod encoding;
pub(crate) mod values;

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are not read (no export kmsdiag reads as a whole is this large).
pub(crate) const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// How deep directories are followed.
const MAX_DEPTH: usize = 32;
/// The first bytes of a zip archive.
const ZIP_MAGIC: &[u8] = b"PK\x03\x04";
/// At most this many entries of one archive are read.
const MAX_ZIP_ENTRIES: usize = 10_000;
/// At most this many bytes are unpacked from one archive, nested ones included.
const MAX_ZIP_TOTAL: u64 = 1024 * 1024 * 1024;
/// An entry that unpacks to more than this many times its packed size (and over 1 MiB) is
/// refused as a probable zip bomb.
const MAX_ZIP_RATIO: u64 = 200;
/// Zips inside zips are opened this many levels deep.
const MAX_ZIP_DEPTH: usize = 2;

/// One input file as found.
#[derive(Debug)]
pub(crate) struct InputFile {
    /// As given or found (`-` is shown as `<stdin>`).
    pub path: String,
    /// Named on the command line (an unrecognised named file is an error; an unrecognised file
    /// found in a directory is skipped).
    pub explicit: bool,
    /// The content; for an `.evtx` file on disk only its first bytes (see `disk`).
    pub bytes: Result<Vec<u8>, String>,
    /// Set for `.evtx` files on disk: they are parsed from the file, chunk by chunk, so their size
    /// does not matter (Application logs of hundreds of MB) and memory stays flat.
    pub disk: Option<PathBuf>,
    /// Set for other files on disk until [`InputFile::load`] reads them: a fleet of thousands of
    /// exports is never in memory at once, only the files being analyzed.
    pub deferred: Option<PathBuf>,
}

impl InputFile {
    /// Reads a deferred file's content (bounded by [`MAX_FILE_BYTES`]); does nothing otherwise.
    pub(crate) fn load(&mut self) {
        if let Some(p) = self.deferred.take() {
            self.bytes = read_file(&p);
        }
    }

    /// How many bytes the file has (for progress), without reading it.
    pub(crate) fn size(&self) -> u64 {
        match (self.disk.as_ref().or(self.deferred.as_ref()), &self.bytes) {
            (Some(p), _) => std::fs::metadata(p).map_or(0, |m| m.len()),
            (None, Ok(b)) => b.len() as u64,
            (None, Err(_)) => 0,
        }
    }
}

/// The first bytes of every `.evtx` file.
const EVTX_MAGIC: &[u8] = b"ElfFile\0";

/// Expands the command-line paths into files, in a deterministic order: named files in the order
/// given, each directory's files sorted by path.
pub(crate) fn collect(paths: &[PathBuf]) -> Vec<InputFile> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            push(&mut out, "<stdin>".to_owned(), true, read_stdin());
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                walk(p, 0, &mut files);
                files.sort();
                for f in files {
                    push_file(&mut out, &f, false);
                }
            }
            Ok(_) => push_file(&mut out, p, true),
            Err(e) => out.push(InputFile {
                path: display(p),
                explicit: true,
                bytes: Err(format!("cannot open: {e}")),
                disk: None,
                deferred: None,
            }),
        }
    }
    out
}

/// Adds a file from disk: an `.evtx` file by its path (parsed from disk later), anything else
/// read into memory.
fn push_file(out: &mut Vec<InputFile>, p: &Path, explicit: bool) {
    let head = file_head(p);
    if head.starts_with(EVTX_MAGIC) {
        out.push(InputFile {
            path: display(p),
            explicit,
            bytes: Ok(head),
            disk: Some(p.to_path_buf()),
            deferred: None,
        });
    } else if head.starts_with(ZIP_MAGIC) {
        // A bundle is opened now: its entries are files of their own.
        push(out, display(p), explicit, read_file(p));
    } else {
        out.push(InputFile {
            path: display(p),
            explicit,
            bytes: Ok(Vec::new()),
            disk: None,
            deferred: Some(p.to_path_buf()),
        });
    }
}

/// The first 8 bytes of a file (fewer when it is shorter or cannot be read).
fn file_head(p: &Path) -> Vec<u8> {
    let mut head = Vec::with_capacity(8);
    if let Ok(f) = std::fs::File::open(p) {
        let _ = f.take(8).read_to_end(&mut head);
    }
    head
}

/// Adds a file, or the files of a zip archive in its place.
fn push(out: &mut Vec<InputFile>, path: String, explicit: bool, bytes: Result<Vec<u8>, String>) {
    match bytes {
        Ok(b) if b.starts_with(ZIP_MAGIC) => {
            let mut budget = MAX_ZIP_TOTAL;
            expand_zip(out, &path, b, 1, &mut budget);
        }
        other => out.push(InputFile {
            path,
            explicit,
            bytes: other,
            disk: None,
            deferred: None,
        }),
    }
}

/// The files of a zip archive, by name, as `archive.zip!inner/name`.
fn expand_zip(
    out: &mut Vec<InputFile>,
    path: &str,
    bytes: Vec<u8>,
    depth: usize,
    budget: &mut u64,
) {
    let mut archive = match zip::ZipArchive::new(std::io::Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            out.push(InputFile {
                path: path.to_owned(),
                explicit: true,
                bytes: Err(format!("not a readable zip archive: {e}")),
                disk: None,
                deferred: None,
            });
            return;
        }
    };
    let mut entries: Vec<(String, usize)> = (0..archive.len().min(MAX_ZIP_ENTRIES))
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
    if archive.len() > MAX_ZIP_ENTRIES {
        out.push(InputFile {
            path: path.to_owned(),
            explicit: true,
            bytes: Err(format!(
                "{} entries; only the first {MAX_ZIP_ENTRIES} are read",
                archive.len()
            )),
            disk: None,
            deferred: None,
        });
    }
    for (name, i) in entries {
        let label = format!("{path}!{name}");
        let entry = match archive.by_index(i) {
            Ok(e) => e,
            Err(e) => {
                let why = if e.to_string().contains("Password") {
                    "encrypted (password-protected) entry: extract it and pass the file itself"
                        .to_owned()
                } else {
                    format!("cannot read this zip entry: {e}")
                };
                out.push(InputFile {
                    path: label,
                    explicit: true,
                    bytes: Err(why),
                    disk: None,
                    deferred: None,
                });
                continue;
            }
        };
        if entry.is_dir() {
            continue;
        }
        if entry.is_symlink() {
            // Only a name is stored; it is never followed.
            out.push(InputFile {
                path: label,
                explicit: false,
                bytes: Err("a symbolic link inside the archive; links are not followed".to_owned()),
                disk: None,
                deferred: None,
            });
            continue;
        }
        if entry.encrypted() {
            out.push(InputFile {
                path: label,
                explicit: true,
                bytes: Err(
                    "encrypted (password-protected) entry: extract it and pass the file itself"
                        .to_owned(),
                ),
                disk: None,
                deferred: None,
            });
            continue;
        }
        let (size, packed) = (entry.size(), entry.compressed_size().max(1));
        let refuse = if size > MAX_FILE_BYTES {
            Some(format!(
                "unpacks to {size} bytes; kmsdiag does not read files larger than {MAX_FILE_BYTES} bytes"
            ))
        } else if size > 1024 * 1024 && size / packed > MAX_ZIP_RATIO {
            Some(format!(
                "compression ratio {}:1 looks like a zip bomb; not unpacked",
                size / packed
            ))
        } else if size > *budget {
            Some(format!(
                "the archive unpacks to more than {MAX_ZIP_TOTAL} bytes in all; the rest is not unpacked"
            ))
        } else {
            None
        };
        if let Some(why) = refuse {
            out.push(InputFile {
                path: label,
                explicit: true,
                bytes: Err(why),
                disk: None,
                deferred: None,
            });
            continue;
        }
        // The declared size is not trusted: reading stops at the bound whatever it says.
        let read = read_bounded(entry);
        *budget = budget.saturating_sub(read.as_ref().map_or(0, |b| b.len() as u64));
        match read {
            Ok(b) if b.starts_with(ZIP_MAGIC) => {
                if depth < MAX_ZIP_DEPTH {
                    expand_zip(out, &label, b, depth + 1, budget);
                } else {
                    out.push(InputFile {
                        path: label,
                        explicit: true,
                        bytes: Err(format!(
                            "a zip nested more than {MAX_ZIP_DEPTH} deep; not opened"
                        )),
                        disk: None,
                        deferred: None,
                    });
                }
            }
            other => out.push(InputFile {
                path: label,
                explicit: false,
                bytes: other,
                disk: None,
                deferred: None,
            }),
        }
    }
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
    if depth > MAX_DEPTH {
        return;
    }
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.filter_map(Result::ok) {
        let path = e.path();
        // Symbolic links are not followed: a bundle cannot point kmsdiag elsewhere.
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            walk(&path, depth + 1, out);
        } else if ft.is_file() {
            out.push(path);
        }
    }
}

fn read_file(p: &Path) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(p).map_err(|e| format!("cannot open: {e}"))?;
    read_bounded(f)
}

fn read_stdin() -> Result<Vec<u8>, String> {
    read_bounded(std::io::stdin().lock())
}

fn read_bounded(r: impl Read) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    r.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| format!("cannot read: {e}"))?;
    if buf.len() as u64 > MAX_FILE_BYTES {
        return Err(format!(
            "larger than {MAX_FILE_BYTES} bytes; kmsdiag does not read files this large"
        ));
    }
    Ok(buf)
}
