//! Where output goes. A report file is written atomically: into a temporary file beside it,
//! flushed to disk, then renamed over the target, so an interrupted run never leaves half a
//! report in its place (and a run that fails never calls it: the previous report stays).
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

/// Replaces `path` with `bytes` atomically.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
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
