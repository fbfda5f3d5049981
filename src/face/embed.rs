//! Face embedding with dlib's ResNet (converted to ONNX by `setup/convert_dlib.py`).
//!
//! In: aligned 150x150 RGB chips (see [`crate::face::align`]). Out: one 128-D [`Descriptor`] per chip.
//! Two chips show the same person when their descriptors are less than 0.6 apart (Euclidean),
//! the threshold dlib's network was trained for (99.38% on LFW).
//!
//! Chips run in batches of up to [`Embedder::MAX_BATCH`]: per-chip cost falls with batch size
//! while memory stays small. The model subtracts dlib's channel means itself, so chips go in as
//! raw pixel values.

use image::RgbImage;
use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use crate::error::{Error, Result};
use crate::face::align::CHIP_SIZE;
use crate::face::runtime::{Model, Runtime};

pub const DESCRIPTOR_LEN: usize = 128;

/// dlib's 128-D face descriptor (not unit length: norms are about 1.3-1.5).
pub type Descriptor = [f32; DESCRIPTOR_LEN];

/// A descriptor of `length` along one `axis`: test cases whose distances are plain to see.
#[cfg(test)]
pub fn along(axis: usize, length: f32) -> Descriptor {
    let mut d = [0.0; DESCRIPTOR_LEN];
    d[axis] = length;
    d
}

/// Distances below this mean the same person.
pub const SAME_PERSON: f32 = 0.6;

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

pub struct Embedder {
    session: Session,
}

impl Embedder {
    pub const MAX_BATCH: usize = 16;

    pub fn new(runtime: &Runtime) -> Result<Embedder> {
        Ok(Embedder {
            session: runtime.session(Model::Embedder)?,
        })
    }

    pub fn embed(&mut self, chips: &[RgbImage]) -> Result<Vec<Descriptor>> {
        let mut descriptors = Vec::with_capacity(chips.len());
        for batch in chips.chunks(Self::MAX_BATCH) {
            self.embed_batch(batch, &mut descriptors)?;
        }
        Ok(descriptors)
    }

    fn embed_batch(&mut self, chips: &[RgbImage], out: &mut Vec<Descriptor>) -> Result<()> {
        let size = CHIP_SIZE as usize;
        let mut input = Array4::<f32>::zeros((chips.len(), 3, size, size));
        for (i, chip) in chips.iter().enumerate() {
            assert_eq!(
                chip.dimensions(),
                (CHIP_SIZE, CHIP_SIZE),
                "chips come from align()"
            );
            for (x, y, pixel) in chip.enumerate_pixels() {
                for c in 0..3 {
                    input[[i, c, y as usize, x as usize]] = pixel[c] as f32;
                }
            }
        }
        let onnx = |stage| Error::onnx(Model::Embedder.file_name(), stage);
        let tensor = TensorRef::from_array_view(&input).map_err(onnx("input"))?;
        let outputs = self
            .session
            .run(ort::inputs!["image" => tensor])
            .map_err(onnx("embedding faces"))?;
        let (_, values) = outputs["descriptor"]
            .try_extract_tensor::<f32>()
            .map_err(onnx("reading descriptors"))?;
        for row in values.chunks_exact(DESCRIPTOR_LEN) {
            let mut descriptor = [0.0; DESCRIPTOR_LEN];
            descriptor.copy_from_slice(row);
            out.push(descriptor);
        }
        Ok(())
    }
}
