//! What each command does: options and inputs in, result files and answers out. One file per
//! command, each with a `run`; what several commands share is here. Commands call the pipeline's
//! stages and the output module, never each other; an answer is data, which
//! [`crate::output::answer`] prints as a table or JSON lines.
//!
//! - [`measure`]: `screentime VIDEO --cast DIR`, the main job; [`batch`]: a catalog of videos,
//!   and `screentime summary`;
//! - on finished results: [`name`] (add an unknown's faces to the cast), [`search`] (where a
//!   person appears, with whom, or whoever a photo shows), [`score`] (accuracy against truth);
//! - on photos: [`embed`], [`lookalike`], [`similarity`], [`group`], [`slideshow`].

pub mod batch;
pub mod embed;
pub mod group;
pub mod lookalike;
pub mod measure;
pub mod name;
pub mod score;
pub mod search;
pub mod similarity;
pub mod slideshow;

use std::path::{Path, PathBuf};

use crate::error::{Error, Result, warn};
use crate::face::engine::{EmbeddedFace, Engine, EngineOptions, load_image};
use crate::face::runtime::{DESCRIPTOR_REVISION, Runtime};
use crate::files::walk::walk;
use crate::identity::cast::{self, Cast};
use crate::job::interrupt;
use crate::job::pipeline::{self, JobOptions};
use crate::output::result_dir::{Models, Report, ResultDir, RunSettings, Settings, WriteOptions};
use crate::video::decode::VideoReader;

/// Embeds (or reads from its cache) the cast at `path`, printing its warnings unless `quiet`.
pub fn load_cast(
    runtime: &Runtime,
    engine: &EngineOptions,
    path: &Path,
    quiet: bool,
) -> Result<Cast> {
    let cast = cast::load(path, runtime, engine.detect)?;
    if !quiet {
        for warning in &cast.warnings {
            warn(warning);
        }
    }
    Ok(cast)
}

/// Measures one video against one cast and writes its result files into `dir`.
pub fn measure_into(
    runtime: &Runtime,
    engine: &EngineOptions,
    job: &JobOptions,
    video: VideoReader,
    (cast, cast_path): (&Cast, &Path),
    dir: &ResultDir,
) -> Result<Report> {
    let result = pipeline::run(video, cast, runtime, engine.detect, job)?;
    let settings = RunSettings {
        cast: cast_path.to_path_buf(),
        cast_actors: cast.names().len(),
        cast_faces: cast.faces.len(),
        stride: result.stride,
        workers: job.workers,
        threads_per_worker: engine.runtime.threads,
        device: engine.runtime.device,
        settings: Settings::of(engine, job),
    };
    let models = Models {
        detector_sha256: runtime.detector_sha256().into(),
        detector: runtime.detector(),
        embedder_sha256: runtime.embedder_sha256().into(),
        embedder: runtime.embedder(),
        embedder_licence: runtime.embedder().licence().into(),
        descriptor_revision: DESCRIPTOR_REVISION,
    };
    let options = WriteOptions {
        settings,
        models,
        machine: runtime.machine(),
        cast_warnings: &cast.warnings,
        debug_tracks: job.debug_tracks,
    };
    dir.write(result, options)
}

/// The faces of the photo at `path`, left to right (by the box's left edge). After Ctrl-C, an
/// [`Error::Interrupted`] instead, which the photo commands' loops pass on rather than skip a
/// photo for, so that one Ctrl-C stops them.
pub fn photo_faces(engine: &mut Engine, path: &Path) -> Result<Vec<EmbeddedFace>> {
    if interrupt::stopped() {
        return Err(Error::Interrupted {
            path: path.to_path_buf(),
        });
    }
    let mut faces = engine.faces(&load_image(path)?)?;
    faces.sort_by(|a, b| a.face.bbox.x1.total_cmp(&b.face.bbox.x1));
    Ok(faces)
}

/// The largest face of the photo at `path`: the person a photo of one person shows, whoever
/// else is behind them. A photo without a face is an error naming it.
pub fn largest_face(engine: &mut Engine, path: &Path) -> Result<EmbeddedFace> {
    photo_faces(engine, path)?
        .into_iter()
        .max_by(|x, y| x.face.bbox.area().total_cmp(&y.face.bbox.area()))
        .ok_or_else(|| Error::input(path, "no face found"))
}

/// Every photo (jpg, jpeg, png, webp, bmp) under the folder `dir`, in sorted path order; links
/// to folders are named in a warning and not followed. A folder without photos is an error.
pub fn photos_in(dir: &Path) -> Result<Vec<PathBuf>> {
    let found = walk(dir)?;
    for link in &found.folder_links {
        warn(&format!(
            "{}: a link to a folder; not followed",
            link.display()
        ));
    }
    let photos: Vec<PathBuf> = (found.files.into_iter())
        .filter(|file| cast::is_photo(file))
        .collect();
    if photos.is_empty() {
        return Err(Error::input(
            dir,
            "no photos (jpg, jpeg, png, webp, bmp) in this folder",
        ));
    }
    Ok(photos)
}
