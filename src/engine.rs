//! The face engine for still images: detect -> landmarks -> align -> embed.
//!
//! In: an image file (or a decoded RGB image). Out: every face found, each with its box,
//! landmarks, score and 128-D descriptor. CenterFace finds the faces; dlib's own 5-point
//! landmarks, placed from CenterFace's, cut the chip the embedder was trained on. The video job, cast enrolment and the photo commands
//! all go through this one path, so a face in a cast photo and the same face in a frame get
//! the same treatment.

use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageReader, RgbImage};

use std::sync::Arc;

use crate::align::align;
use crate::detect::{BBox, DetectOptions, Detector, Face};
use crate::embed::{Descriptor, Embedder};
use crate::error::{Error, Result};
use crate::landmarks::{ShapePredictor, dlib_box};
use crate::runtime::{Runtime, RuntimeOptions};

/// Everything that decides how faces are found and embedded.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub runtime: RuntimeOptions,
    pub detect: DetectOptions,
}

#[derive(Debug, Clone)]
pub struct EmbeddedFace {
    pub face: Face,
    pub descriptor: Descriptor,
}

pub struct Engine {
    detector: Detector,
    landmarks: Arc<ShapePredictor>,
    embedder: Embedder,
}

impl Engine {
    pub fn new(runtime: &Runtime, detect: DetectOptions) -> Result<Engine> {
        Ok(Engine {
            detector: Detector::new(runtime, detect)?,
            landmarks: runtime.shape_predictor()?,
            embedder: Embedder::new(runtime)?,
        })
    }

    pub fn faces(&mut self, image: &RgbImage) -> Result<Vec<EmbeddedFace>> {
        let faces = self.detect(image)?;
        let descriptors = self.embed(image, faces.iter())?;
        Ok(faces
            .into_iter()
            .zip(descriptors)
            .map(|(face, descriptor)| EmbeddedFace { face, descriptor })
            .collect())
    }

    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<Face>> {
        self.detector.detect(image)
    }

    /// See [`Detector::detect_in`].
    pub fn detect_in(
        &mut self,
        image: &RgbImage,
        region: &BBox,
        max_side: u32,
    ) -> Result<Vec<Face>> {
        self.detector.detect_in(image, region, max_side)
    }

    /// The 150x150 chip the embedder sees for a face found in `image`: dlib's landmarks,
    /// placed from the detector's, and dlib's alignment.
    pub fn chip(&self, image: &RgbImage, face: &Face) -> RgbImage {
        align(image, &self.landmarks.predict(image, &dlib_box(face)))
    }

    /// Aligns and embeds faces found in `image`, in one batch.
    pub fn embed<'a>(
        &mut self,
        image: &RgbImage,
        faces: impl IntoIterator<Item = &'a Face>,
    ) -> Result<Vec<Descriptor>> {
        let chips: Vec<RgbImage> = faces.into_iter().map(|f| self.chip(image, f)).collect();
        self.embedder.embed(&chips)
    }
}

/// The image centred on a black canvas three times its size. A tight face crop (a face filling
/// the picture, as in many cast photos) gives the detector no context around the face, and it
/// finds nothing until the crop is padded.
pub fn padded(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    let mut canvas = RgbImage::new(w * 3, h * 3);
    image::imageops::replace(&mut canvas, image, w as i64, h as i64);
    canvas
}

/// Decodes an image file upright: phone photos store their rotation in EXIF.
pub fn load_image(path: &Path) -> Result<RgbImage> {
    let image_error = |source| Error::Image {
        path: path.to_path_buf(),
        source,
    };
    let reader = ImageReader::open(path)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?
        .with_guessed_format()
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let orientation = decoder.orientation().map_err(image_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}
