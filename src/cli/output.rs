//! Writing a report file atomically: into a temporary file beside it, flushed to disk, then
//! renamed over the target, so an interrupted run never leaves half a report in its place.

use std::io::Write;
use std::path::Path;

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

    #[test]
    fn a_missing_directory_is_an_error_and_nothing_is_written() {
        let r = write_atomic(Path::new("/nonexistent-kmsdiag-dir/r.json"), b"x");
        assert!(r.is_err());
    }
}
