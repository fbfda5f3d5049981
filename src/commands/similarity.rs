//! `screentime similarity A B`. In: two photos. Out: the distance between their largest faces
//! and whether that is the same person.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::commands::largest_face;
use crate::error::Result;
use crate::face::embed::distance;
use crate::face::engine::{Engine, EngineOptions};
use crate::face::runtime::Runtime;
use crate::output::answer::{self, Answer, Format, Table};

#[derive(Debug, Serialize)]
pub struct Similarity {
    pub a: PathBuf,
    pub b: PathBuf,
    /// Between the largest face of each photo.
    pub distance: f32,
    /// `distance` below the embedder's same-person threshold.
    pub same_person: bool,
    /// "same person" or "different people".
    pub verdict: &'static str,
    /// The embedder's same-person threshold `distance` is held to.
    #[serde(skip)]
    pub threshold: f32,
}

/// `screentime similarity A B`: the distance between the largest faces of two photos and
/// whether they are the same person. A photo without a face is an error naming it.
pub fn run(
    engine: &EngineOptions,
    (a, b): (&Path, &Path),
    json: bool,
    out: &mut impl Write,
) -> Result<Similarity> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let face_a = largest_face(&mut faces_engine, a)?;
    let face_b = largest_face(&mut faces_engine, b)?;
    let d = distance(&face_a.descriptor, &face_b.descriptor);
    let threshold = engine.thresholds().same_person;
    let same_person = d < threshold;
    let result = Similarity {
        a: a.to_path_buf(),
        b: b.to_path_buf(),
        distance: d,
        same_person,
        verdict: if same_person {
            "same person"
        } else {
            "different people"
        },
        threshold,
    };
    answer::render(out, Format::json_if(json), &result)?;
    Ok(result)
}

impl Answer for Similarity {
    type Item = Similarity;

    fn items(&self) -> &[Similarity] {
        std::slice::from_ref(self)
    }

    /// One line: the distance, the threshold and the verdict.
    fn tables(&self) -> Vec<Table> {
        let mut line = Table::default();
        line.note(format!(
            "distance {:.3} (same person below {}): {}",
            self.distance, self.threshold, self.verdict
        ));
        vec![line]
    }
}
