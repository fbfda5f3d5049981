//! The user-facing commands, each a function from options and inputs to outputs; `main.rs`
//! only parses arguments and calls one of these.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::detect::{BBox, Landmarks};
use crate::engine::{Engine, EngineOptions, load_image};
use crate::error::{Error, Result};
use crate::runtime::Runtime;

/// One line of `screentime embed`'s output.
#[derive(Serialize)]
struct FaceLine<'a> {
    image: &'a std::path::Path,
    face: usize,
    #[serde(rename = "box")]
    bbox: BBox,
    landmarks: Landmarks,
    score: f32,
    embedding: &'a [f32],
}

/// `screentime embed`: one JSON line per face found in each image. An image that cannot be
/// read is reported on stderr and skipped; returns how many were.
pub fn embed(options: &EngineOptions, images: &[PathBuf], out: &mut impl Write) -> Result<usize> {
    let runtime = Runtime::new(options.runtime.clone())?;
    let mut engine = Engine::new(&runtime, options.detect)?;
    let mut failed = 0;
    for path in images {
        let faces = match load_image(path).and_then(|image| engine.faces(&image)) {
            Ok(faces) => faces,
            Err(err) => {
                eprintln!("error: {err}");
                failed += 1;
                continue;
            }
        };
        if faces.is_empty() {
            eprintln!("{}: no face found", path.display());
        }
        for (i, found) in faces.iter().enumerate() {
            let line = FaceLine {
                image: path,
                face: i,
                bbox: found.face.bbox,
                landmarks: found.face.landmarks,
                score: found.face.score,
                embedding: &found.descriptor,
            };
            serde_json::to_writer(&mut *out, &line)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
                .map_err(|source| Error::Io {
                    path: "<stdout>".into(),
                    source,
                })?;
        }
    }
    Ok(failed)
}
