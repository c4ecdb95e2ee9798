//! Finding and reading inputs: named files, directories (recursively, in a stable order) and `-`
//! for standard input, each read with a size bound. What the bytes are is decided by the
//! decoders; this module only delivers them, or says why it could not.

use std::io::Read;
use std::path::{Path, PathBuf};

/// Files larger than this are not read (no export kmsdiag reads as a whole is this large).
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// How deep directories are followed.
const MAX_DEPTH: usize = 32;

/// One input file as found.
#[derive(Debug)]
pub struct InputFile {
    /// As given or found (`-` is shown as `<stdin>`).
    pub path: String,
    /// Named on the command line (an unrecognised named file is an error; an unrecognised file
    /// found in a directory is skipped).
    pub explicit: bool,
    pub bytes: Result<Vec<u8>, String>,
}

/// Expands the command-line paths into files, in a deterministic order: named files in the order
/// given, each directory's files sorted by path.
pub fn collect(paths: &[PathBuf]) -> Vec<InputFile> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(InputFile {
                path: "<stdin>".to_owned(),
                explicit: true,
                bytes: read_stdin(),
            });
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut files = Vec::new();
                walk(p, 0, &mut files);
                files.sort();
                out.extend(files.into_iter().map(|f| InputFile {
                    path: display(&f),
                    explicit: false,
                    bytes: read_file(&f),
                }));
            }
            Ok(_) => out.push(InputFile {
                path: display(p),
                explicit: true,
                bytes: read_file(p),
            }),
            Err(e) => out.push(InputFile {
                path: display(p),
                explicit: true,
                bytes: Err(format!("cannot open: {e}")),
            }),
        }
    }
    out
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
