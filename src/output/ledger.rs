//! What a run wrote into its output folder, so that the next run removes that and nothing else.
//!
//! `--out` may name any folder, one that holds a user's own files too (a `faces/holiday.jpg`), and
//! a run must not take them for stale results. So each run records the files it is about to write
//! in `.screentime-files.json` (paths relative to the folder), before it writes them: a run that
//! fails halfway has recorded everything it left. The next run removes what the record lists and
//! it does not write again (the faces of identities no longer found; every face under
//! `--no-thumbnails`), then folders left empty by that, and refuses to write over a file that no
//! run recorded. Nothing is written or removed through a link inside the folder, which could
//! lead out of it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files::names;

/// The record, in the output folder.
pub const RECORD: &str = ".screentime-files.json";
const FORMAT: &str = "screentime-files 1";

#[derive(Serialize, Deserialize)]
struct Record {
    format: String,
    /// Relative paths, `/`-separated.
    files: BTreeSet<String>,
}

/// Checks, before any work starts, that `dir` can be an output folder: it is a folder, or it
/// does not exist yet and no file stands where it or a folder above it would be made. A run
/// that found out only when writing would have spent its whole analysis for nothing.
pub fn check_folder(dir: &Path) -> Result<()> {
    for path in dir.ancestors().filter(|p| !p.as_os_str().is_empty()) {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => return Ok(()),
            Ok(_) => {
                return Err(Error::output(
                    path,
                    "a file, not a folder: the results need a folder there (choose another \
                     output folder)",
                ));
            }
            Err(_) => continue,
        }
    }
    Ok(())
}

/// A run's claim on its output folder: checked, not yet acted on.
pub struct Claim {
    dir: PathBuf,
    previous: BTreeSet<String>,
    files: BTreeSet<String>,
}

/// Checks that the run may write `files` (relative, `/`-separated) into `dir`: each is absent or
/// recorded by an earlier run, and no folder on the way is a link or a file. Changes nothing.
pub fn claim(dir: &Path, files: BTreeSet<String>) -> Result<Claim> {
    let previous = read(dir)?;
    for file in &files {
        let path = within(dir, file)?;
        if path.symlink_metadata().is_ok() && !previous.contains(file) {
            return Err(Error::output(
                &path,
                format!(
                    "it is not a file an earlier screentime run wrote here ({} does not list it), \
                     so it is not overwritten: move it, or choose another output folder",
                    dir.join(RECORD).display()
                ),
            ));
        }
    }
    Ok(Claim {
        dir: dir.to_path_buf(),
        previous,
        files,
    })
}

impl Claim {
    /// Removes the files earlier runs recorded that this run does not write, and the folders that
    /// leaves empty, then records this run's files. Call it once the folder exists, before
    /// writing them.
    pub fn record(self) -> Result<()> {
        for stale in self.previous.difference(&self.files) {
            let path = within(&self.dir, stale)?;
            match path.symlink_metadata() {
                // A folder where a file was recorded is not what the run wrote.
                Ok(meta) if meta.is_dir() => continue,
                Ok(_) => std::fs::remove_file(&path).map_err(|e| Error::output(&path, e))?,
                Err(_) => continue,
            }
            // Only empty folders go, so a user's files in them stay.
            for folder in path.ancestors().skip(1) {
                if folder == self.dir || std::fs::remove_dir(folder).is_err() {
                    break;
                }
            }
        }
        let record = Record {
            format: FORMAT.into(),
            files: self.files,
        };
        crate::files::atomic::write_json(&self.dir.join(RECORD), &record)
    }
}

/// The files earlier runs recorded in `dir`; none when there is no record.
fn read(dir: &Path) -> Result<BTreeSet<String>> {
    let path = dir.join(RECORD);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // No folder yet, or a file where it should be (which the first write reports).
        Err(e)
            if matches!(
                e.kind(),
                std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
            ) =>
        {
            return Ok(BTreeSet::new());
        }
        Err(source) => return Err(Error::Io { path, source }),
    };
    let damaged = |reason: String| Error::Input {
        path: path.clone(),
        reason: format!(
            "damaged record of the files earlier runs wrote ({reason}); remove it and the \
             results beside it, or choose another output folder"
        ),
    };
    let record: Record = serde_json::from_str(&text).map_err(|e| damaged(e.to_string()))?;
    if record.format != FORMAT {
        return Err(damaged(format!("unknown format {:?}", record.format)));
    }
    if let Some(file) = record
        .files
        .iter()
        .find(|file| file.split('/').any(|part| names::component(part).is_err()))
    {
        return Err(damaged(format!("{file:?} is not a path inside the folder")));
    }
    Ok(record.files)
}

/// `dir/file` for a relative `/`-separated `file` whose every part is one plain name, and whose
/// folders inside `dir`, where they exist, are folders, not links or files.
fn within(dir: &Path, file: &str) -> Result<PathBuf> {
    let mut path = dir.to_path_buf();
    let parts: Vec<&str> = file.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        names::component(part).map_err(|reason| Error::output(&path, reason))?;
        let is_folder = i + 1 < parts.len();
        if is_folder && path.symlink_metadata().is_ok_and(|m| !m.is_dir()) {
            return Err(Error::output(
                &path,
                "not a folder (a link or a file): screentime writes nothing through it",
            ));
        }
    }
    Ok(path)
}
