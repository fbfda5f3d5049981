//! `screentime name RESULTS IDENTITY NAME --cast DIR`. In: a run's result folder and one of its
//! identities. Out: that identity's saved faces, copied into the cast as actor NAME.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::identity::cast;
use crate::output::result_dir::ResultDir;

/// `screentime name RESULTS IDENTITY NAME --cast DIR`: copies the face pictures a run saved for
/// `identity` (usually an `unknown_N`) into the cast as actor `name`, so the next run recognises
/// them by name. Returns the cast photos, as written or already there.
pub fn run(results: &Path, identity: &str, name: &str, cast_dir: &Path) -> Result<Vec<PathBuf>> {
    let photos = ResultDir::new(results).faces_of(identity)?;
    // Named after the run and the identity, so faces of several runs can sit side by side.
    let run = results
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    cast::add_photos(cast_dir, name, &photos, &format!("{run}-{identity}"))
}
