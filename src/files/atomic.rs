//! Writing a file so that it is either whole or not there: every file goes to a temporary file
//! in the destination folder, is synced, then renamed over the destination. A crash or a failed
//! write never leaves a half-written file, and a file an earlier run wrote stays intact until its
//! replacement is complete.

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `value` as pretty JSON (trailing newline) to `path`, atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")
    })
}

/// Writes `bytes` to `path`, atomically.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomically(path, |out| out.write_all(bytes))
}

/// Runs `write` on a temporary file next to `path`, then renames it over `path`. The temporary
/// file sits in the same folder so the rename stays on one filesystem and is atomic; it is
/// synced first so a crash right after the rename cannot expose an empty file.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let fail = |e: io::Error| Error::output(path, e);
    let mut temp = temp_file_next_to(path, "")?;

    let mut out = BufWriter::new(temp.as_file_mut());
    write(&mut out).and_then(|()| out.flush()).map_err(fail)?;
    drop(out);
    temp.as_file().sync_all().map_err(fail)?;
    // On failure the temporary file is dropped, which deletes it.
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

/// An empty temporary file in `path`'s folder (so that renaming it to `path` is atomic), its
/// name ending in `suffix`; deleted when dropped unless persisted.
pub fn temp_file_next_to(path: &Path, suffix: &str) -> Result<tempfile::NamedTempFile> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".screentime-").suffix(suffix);
    // tempfile's default 0600 would leave result files unreadable to others; 0666 minus the
    // umask gives what any other program's output gets.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    builder.tempfile_in(dir).map_err(|e| Error::output(path, e))
}
