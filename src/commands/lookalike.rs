//! `screentime lookalike PHOTO --cast DIR`. In: one photo and a cast. Out: for each face (left
//! to right) the nearest cast identities within the threshold, with distance and similarity, as
//! a table or JSON lines (one line per face).

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::commands::{load_cast, photo_faces};
use crate::error::{Error, Result};
use crate::face::detect::BBox;
use crate::face::engine::{Engine, EngineOptions};
use crate::face::runtime::Runtime;
use crate::identity::matching::ranked_identities;
use crate::output::answer::{self, Align, Answer, Format, Table};

/// Similarity in [0, 1] for a distance: `max(0, 1 - distance / (2 * threshold))`. 1 for identical
/// descriptors, 0.5 exactly at the threshold (above 0.5: the same person), 0 at twice it.
pub fn similarity_score(distance: f32, threshold: f32) -> f32 {
    (1.0 - distance / (2.0 * threshold)).max(0.0)
}

/// What `screentime lookalike` needs beyond the engine options.
#[derive(Debug, Clone)]
pub struct LookalikeOptions {
    pub photo: PathBuf,
    pub cast: PathBuf,
    /// How many identities to list per face.
    pub top: usize,
    /// Identities farther than this are left out.
    pub threshold: f32,
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Lookalike {
    pub rank: usize,
    pub name: String,
    /// Distance to the identity's closest cast photo.
    pub distance: f32,
    /// [`similarity_score`] of `distance`.
    pub similarity: f32,
}

#[derive(Debug, Serialize)]
pub struct FaceLookalikes {
    /// 0-based, left to right.
    pub face: usize,
    #[serde(rename = "box")]
    pub bbox: BBox,
    /// Nearest first; empty when no identity is within the threshold.
    pub matches: Vec<Lookalike>,
}

/// `screentime lookalike PHOTO --cast DIR`: for each face in the photo, left to right, the `top`
/// nearest cast identities within the threshold. A photo without a face is an error.
pub fn run(
    engine: &EngineOptions,
    options: &LookalikeOptions,
    out: &mut impl Write,
) -> Result<Lookalikes> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    let cast = load_cast(&runtime, engine, &options.cast, false)?;
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let faces = photo_faces(&mut faces_engine, &options.photo)?;
    if faces.is_empty() {
        return Err(Error::input(&options.photo, "no face found"));
    }
    let results: Vec<FaceLookalikes> = faces
        .iter()
        .enumerate()
        .map(|(i, found)| FaceLookalikes {
            face: i,
            bbox: found.face.bbox,
            matches: ranked_identities(&cast, &found.descriptor)
                .into_iter()
                .take_while(|&(_, d)| d <= options.threshold)
                .take(options.top)
                .enumerate()
                .map(|(rank, (name, d))| Lookalike {
                    rank: rank + 1,
                    name: name.to_string(),
                    distance: d,
                    similarity: similarity_score(d, options.threshold),
                })
                .collect(),
        })
        .collect();
    let answer = Lookalikes {
        faces: results,
        threshold: options.threshold,
    };
    answer::render(out, Format::json_if(options.json), &answer)?;
    Ok(answer)
}

/// `lookalike`'s answer: each face's matches, and the threshold they are within.
#[derive(Debug)]
pub struct Lookalikes {
    pub faces: Vec<FaceLookalikes>,
    pub threshold: f32,
}

impl Answer for Lookalikes {
    type Item = FaceLookalikes;

    fn items(&self) -> &[FaceLookalikes] {
        &self.faces
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(&[
            ("face", Align::Right),
            ("box", Align::Left),
            ("rank", Align::Right),
            ("name", Align::Left),
            ("distance", Align::Right),
            ("similarity", Align::Right),
        ]);
        for face in &self.faces {
            let b = face.bbox;
            let bbox = format!("{:.0},{:.0},{:.0},{:.0}", b.x1, b.y1, b.x2, b.y2);
            let threshold = self.threshold;
            if face.matches.is_empty() {
                let remark = format!("no cast member within {threshold:.2}");
                table.row(vec![face.face.to_string(), bbox.clone(), remark]);
            }
            for m in &face.matches {
                table.row(vec![
                    face.face.to_string(),
                    bbox.clone(),
                    m.rank.to_string(),
                    m.name.clone(),
                    format!("{:.3}", m.distance),
                    format!("{:.3}", m.similarity),
                ]);
            }
        }
        vec![table]
    }
}
