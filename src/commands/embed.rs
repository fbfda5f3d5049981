//! `screentime embed IMAGE...`. In: images. Out: one JSON line per face found: box, landmarks,
//! score, whether it would count in a video, and its 128-D embedding.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::face::detect::{BBox, Landmarks};
use crate::face::engine::{Engine, EngineOptions, load_image};
use crate::face::runtime::Runtime;
use crate::job::interrupt;
use crate::output::answer;

/// One line of `screentime embed`'s output.
#[derive(Serialize)]
struct FaceLine<'a> {
    image: &'a Path,
    face: usize,
    #[serde(rename = "box")]
    bbox: BBox,
    landmarks: Landmarks,
    score: f32,
    /// Whether the face would count as on screen in a video: turned to the camera, and not
    /// cut by the picture's edge.
    counts: bool,
    embedding: &'a [f32],
}

/// `screentime embed`: one JSON line per face found in each image. An image that cannot be
/// read is reported on stderr and skipped; returns how many were.
pub fn run(options: &EngineOptions, images: &[PathBuf], out: &mut impl Write) -> Result<usize> {
    let runtime = Runtime::new(options.runtime.clone())?;
    let mut engine = Engine::new(&runtime, options.detect)?;
    let mut failed = 0;
    for path in images {
        // Stops at one Ctrl-C, as every command does; the lines printed so far stay whole.
        if interrupt::stopped() {
            return Err(Error::Interrupted { path: path.clone() });
        }
        let found =
            load_image(path).and_then(|image| Ok((engine.faces(&image)?, image.dimensions())));
        let (faces, (width, height)) = match found {
            Ok(found) => found,
            Err(err) => {
                eprintln!("error: {err}");
                failed += 1;
                continue;
            }
        };
        if faces.is_empty() {
            eprintln!("{}: no face found", path.display());
        }
        let lines: Vec<FaceLine> = (faces.iter().enumerate())
            .map(|(i, found)| FaceLine {
                counts: found.face.counts(width, height),
                image: path,
                face: i,
                bbox: found.face.bbox,
                landmarks: found.face.landmarks,
                score: found.face.score,
                embedding: &found.descriptor,
            })
            .collect();
        answer::json_lines(out, &lines)?;
    }
    Ok(failed)
}
