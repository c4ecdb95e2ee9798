//! Where output goes. A report file is written atomically: into a temporary file beside it,
//! flushed to disk, then renamed over the target, so an interrupted run never leaves half a
//! report in its place (and a run that fails never calls it: the previous report stays). As
//! with a shell redirect, a symbolic link is written through to its target, and a character
//! device or a FIFO is written to as a stream; neither is ever replaced by a regular file.
//! Standard output goes through [`PipeSink`], which takes a closed pipe as the reader having
//! seen enough.
//!
//! Interruption: the temporary file is a [`tempfile::NamedTempFile`], removed when dropped, so
//! every error path cleans it up. The report is rendered in memory first and the temporary file
//! lives only while those bytes are written, synced and renamed; SIGINT or SIGTERM before that
//! (during the analysis, the long part) leaves nothing behind. kmsdiag installs no signal
//! handler, so a signal that lands inside that short window ends the process without running
//! destructors and can leave one `.kmsdiag-*.tmp` beside the target; the target itself is then
//! still the previous report, whole.

use std::io::{self, Write};
use std::path::Path;

/// A writer that swallows a closed pipe: the first `BrokenPipe` marks it closed and every later
/// write is accepted and dropped, so `kmsdiag … | head` ends quietly with the status the run
/// would have had, in every format and subcommand (the handlers never see the error).
pub(crate) struct PipeSink<W> {
    inner: W,
    closed: bool,
}

impl<W: Write> PipeSink<W> {
    pub(crate) fn new(inner: W) -> PipeSink<W> {
        PipeSink {
            inner,
            closed: false,
        }
    }

    /// Applies `op` unless the pipe is closed; a closed pipe becomes success.
    fn guard<T>(&mut self, done: T, op: impl FnOnce(&mut W) -> io::Result<T>) -> io::Result<T> {
        if self.closed {
            return Ok(done);
        }
        match op(&mut self.inner) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                self.closed = true;
                Ok(done)
            }
            r => r,
        }
    }
}

impl<W: Write> Write for PipeSink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.guard(buf.len(), |w| w.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        self.guard((), Write::flush)
    }
}

/// Writes `bytes` to `path` as a shell redirect would, but a regular file atomically: a symbolic
/// link is written through (its target replaced, the link kept); a character device (such as
/// `/dev/null`) or a FIFO is written to as a stream, never replaced; a block device, a socket or
/// anything else that is no regular file is refused.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let target = through_links(path)?;
    if let Ok(meta) = std::fs::metadata(&target)
        && !meta.is_file()
    {
        return write_special(&target, &meta, bytes);
    }
    replace(&target, bytes)
}

/// Where a chain of symbolic links ends (the path itself when it is none); a link whose target
/// does not exist yet ends there (the report creates it, as a redirect would).
fn through_links(path: &Path) -> std::io::Result<std::path::PathBuf> {
    let mut at = path.to_path_buf();
    // As many links as the kernel follows before it gives up (ELOOP).
    for _ in 0..40 {
        match std::fs::symlink_metadata(&at) {
            Ok(m) if m.file_type().is_symlink() => {
                let next = std::fs::read_link(&at)?;
                at = match at.parent() {
                    Some(dir) if next.is_relative() => dir.join(next),
                    _ => next,
                };
            }
            _ => return Ok(at),
        }
    }
    Err(std::io::Error::other(format!(
        "{}: too many levels of symbolic links",
        path.display()
    )))
}

/// Writes to a file that is no regular file: streamed to a character device or a FIFO, refused
/// otherwise.
fn write_special(path: &Path, meta: &std::fs::Metadata, bytes: &[u8]) -> std::io::Result<()> {
    let kind = special_kind(meta);
    if !matches!(kind, Special::Stream) {
        return Err(std::io::Error::other(format!(
            "{} is {}, not a regular file; kmsdiag writes a report to a file, a character device or a pipe",
            path.display(),
            kind.words()
        )));
    }
    let mut f = std::fs::OpenOptions::new().write(true).open(path)?;
    f.write_all(bytes)?;
    f.flush()
}

/// What a file that is no regular file is, as far as writing to it goes.
enum Special {
    /// A character device or a FIFO: written to as a stream.
    Stream,
    Directory,
    BlockDevice,
    Socket,
    Other,
}

impl Special {
    fn words(&self) -> &'static str {
        match self {
            Special::Stream => "a stream",
            Special::Directory => "a directory",
            Special::BlockDevice => "a block device",
            Special::Socket => "a socket",
            Special::Other => "a special file",
        }
    }
}

fn special_kind(meta: &std::fs::Metadata) -> Special {
    let ft = meta.file_type();
    if ft.is_dir() {
        return Special::Directory;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_char_device() || ft.is_fifo() {
            return Special::Stream;
        }
        if ft.is_block_device() {
            return Special::BlockDevice;
        }
        if ft.is_socket() {
            return Special::Socket;
        }
    }
    Special::Other
}

/// Replaces the regular file (or nothing) at `path` with `bytes` atomically.
fn replace(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".kmsdiag-").suffix(".tmp");
    // A temporary file is private (0600); the report gets the permissions of the file it
    // replaces, else those of an ordinary new file.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::metadata(path).map_or_else(
            |_| std::fs::Permissions::from_mode(0o644),
            |m| m.permissions(),
        ));
    }
    let mut tmp = builder.tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_file_and_leaves_no_temporary() -> std::io::Result<()> {
        let dir = tempfile::tempdir()?;
        let target = dir.path().join("report.html");
        std::fs::write(&target, b"old")?;
        write_atomic(&target, b"new report")?;
        assert_eq!(std::fs::read(&target)?, b"new report");
        let names: Vec<_> = std::fs::read_dir(dir.path())?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let fresh = dir.path().join("new.json");
            write_atomic(&fresh, b"{}")?;
            assert_eq!(
                std::fs::metadata(&fresh)?.permissions().mode() & 0o777,
                0o644
            );
        }
        Ok(())
    }

    /// A writer whose reader has gone.
    struct Closed(usize);

    impl Write for Closed {
        fn write(&mut self, _: &[u8]) -> io::Result<usize> {
            self.0 += 1;
            Err(io::ErrorKind::BrokenPipe.into())
        }
        fn flush(&mut self) -> io::Result<()> {
            Err(io::ErrorKind::BrokenPipe.into())
        }
    }

    #[test]
    fn a_closed_pipe_is_swallowed_once_and_other_errors_pass() -> io::Result<()> {
        let mut sink = PipeSink::new(Closed(0));
        sink.write_all(b"first")?;
        sink.write_all(b"second")?;
        sink.flush()?;
        assert_eq!(sink.inner.0, 1, "nothing is tried after the pipe closed");
        let mut buf = [0u8; 2];
        let mut full = PipeSink::new(&mut buf[..]);
        assert!(full.write_all(b"too long").is_err());
        Ok(())
    }

    #[test]
    fn a_missing_directory_is_an_error_and_nothing_is_written() {
        let r = write_atomic(Path::new("/nonexistent-kmsdiag-dir/r.json"), b"x");
        assert!(r.is_err());
    }
}
