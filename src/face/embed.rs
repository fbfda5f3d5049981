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
//!   (`bench/calibrate.py`, docs/embedders.md).
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

use crate::error::{Error, Result};
use crate::face::model::{EmbedderKind, Model};
use crate::face::runtime::Runtime;

/// A face descriptor: 128 numbers from dlib's network (not unit length: norms are about
/// 1.3-1.5), 512 of unit length from ArcFace.
pub type Descriptor = Vec<f32>;

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
