//! Folder walks: `group`'s photos, `batch`'s catalog folder and a batch's title folders.
//!
//! In: a folder. Out: every file under it, in sorted path order, and the links to folders found
//! on the way, which are not followed: one can lead back up the tree (`self -> .` would count
//! every photo again at each level, and with `up -> ..` the walk would never end) or out of the
//! folder altogether. A link to a file is taken like the file.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::error::{Error, Result};

#[derive(Debug, Default)]
pub struct Walk {
    /// Every file under the folder, in sorted path order.
    pub files: Vec<PathBuf>,
    /// Links to folders, not followed.
    pub folder_links: Vec<PathBuf>,
}

/// Walks `dir` (which may itself be a link to a folder).
pub fn walk(dir: &Path) -> Result<Walk> {
    let mut walk = Walk::default();
    for entry in WalkDir::new(dir).follow_links(false).sort_by_file_name() {
        let entry = entry.map_err(|e| Error::Io {
            path: e.path().unwrap_or(dir).to_path_buf(),
            source: e.into(),
        })?;
        if entry.file_type().is_dir() {
            continue;
        }
        if entry.path_is_symlink() && entry.path().is_dir() {
            walk.folder_links.push(entry.into_path());
        } else {
            walk.files.push(entry.into_path());
        }
    }
    Ok(walk)
}
