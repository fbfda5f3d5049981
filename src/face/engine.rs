//! The face engine for still images: detect -> landmarks -> align -> embed.
//!
//! In: an image file (or a decoded RGB image). Out: every face found, each with its box, landmarks,
//! score and descriptor (128-D with dlib's embedder, 512-D with ArcFace). CenterFace finds the
//! faces; dlib's own 5-point landmarks, placed from CenterFace's, cut the chip dlib's embedder was
//! trained on; ArcFace's chip is cut from CenterFace's own landmarks, as InsightFace cuts it. The
//! video job, cast enrolment and the photo commands all go through this one path, so a face in a
//! cast photo and the same face in a frame get the same treatment. A face rolled more than 45
//! degrees (someone lying down) is found in the picture turned a quarter turn, always in a photo
//! and on a schedule in a video ([`crate::track::tracker`]), and its dlib chip is cut from that
//! turned picture too, where it is upright as dlib's shape predictor was trained.

use std::path::Path;

use image::{DynamicImage, ImageDecoder, ImageFormat, ImageReader, Limits, RgbImage};

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::face::align::{align, arcface_chip};
use crate::face::detect::{BBox, DetectOptions, Detector, Face, Turn};
use crate::face::embed::{Descriptor, Embedder};
use crate::face::landmarks::{DlibBox, ShapePredictor};
use crate::face::model::{EmbedderKind, Thresholds};
use crate::face::runtime::{Runtime, RuntimeOptions};

/// Everything that decides how faces are found and embedded.
#[derive(Debug, Clone, Default)]
pub struct EngineOptions {
    pub runtime: RuntimeOptions,
    pub detect: DetectOptions,
}

impl EngineOptions {
    /// The chosen embedder's distances.
    pub fn thresholds(&self) -> Thresholds {
        self.runtime.embedder.thresholds()
    }
}

#[derive(Debug, Clone)]
pub struct EmbeddedFace {
    pub face: Face,
    pub descriptor: Descriptor,
}

pub struct Engine {
    detector: Detector,
    /// dlib's shape predictor, for dlib's chips only.
    landmarks: Option<Arc<ShapePredictor>>,
    embedder: Embedder,
}

impl Engine {
    pub fn new(runtime: &Runtime, detect: DetectOptions) -> Result<Engine> {
        Ok(Engine {
            detector: Detector::new(runtime, detect)?,
            landmarks: match runtime.embedder() {
                EmbedderKind::Dlib => Some(runtime.shape_predictor()?),
                EmbedderKind::Arcface => None,
            },
            embedder: Embedder::new(runtime)?,
        })
    }

    /// Every face in a photo, rolled or not, embedded.
    pub fn faces(&mut self, image: &RgbImage) -> Result<Vec<EmbeddedFace>> {
        let upright = self.detect(image)?;
        let max_side = self.detector.max_side();
        let faces = self.detect_turned(image, upright, max_side)?;
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

    /// The most pixels a side the whole of an image is looked at for faces.
    pub fn detect_size(&self) -> u32 {
        self.detector.max_side()
    }

    /// See [`Detector::detect_turned`].
    pub fn detect_turned(
        &mut self,
        image: &RgbImage,
        upright: Vec<Face>,
        max_side: u32,
    ) -> Result<Vec<Face>> {
        self.detector.detect_turned(image, upright, max_side)
    }

    /// See [`Detector::detect_in`].
    pub fn detect_in(
        &mut self,
        image: &RgbImage,
        region: &BBox,
        max_side: u32,
        turn: Turn,
    ) -> Result<Vec<Face>> {
        self.detector.detect_in(image, region, max_side, turn)
    }

    /// The chip the embedder sees for a face found in `image`: for dlib's, dlib's landmarks,
    /// placed from the detector's, and dlib's 150x150 alignment; for ArcFace's, its 112x112
    /// template fitted to the detector's landmarks (which fits any roll). A face found in a
    /// turned picture ([`Face::turn`]) is cut from the part of the image around it, turned the
    /// same way, where it is upright: dlib's shape predictor starts from an upright mean face,
    /// and dlib's pyramid, whose filter sits unevenly across and down, then samples it as it
    /// samples an upright face: obama2.jpg and biden.jpg turned 90 degrees embed 0.026-0.028
    /// from the upright photos, against 0.039-0.065 with the landmarks placed turned but the
    /// chip cut at 90 degrees in the image. A face found upright is left as it is, however
    /// rolled, so what the upright picture finds embeds as it always has.
    pub fn chip(&self, image: &RgbImage, face: &Face) -> RgbImage {
        match &self.landmarks {
            Some(landmarks) if face.turn == Turn::Upright => {
                align(image, &landmarks.predict(image, &dlib_box(face)))
            }
            Some(landmarks) => {
                let (width, height) = image.dimensions();
                let (x, y, w, h) = face.bbox.scaled(TURNED_CROP).pixels_within(width, height);
                let part = image::imageops::crop_imm(image, x, y, w, h).to_image();
                let upright = face.turn.picture(part);
                let face = (face.clone().moved(-(x as f32), -(y as f32)))
                    .turned(face.turn, w as f32, h as f32);
                align(&upright, &landmarks.predict(&upright, &dlib_box(&face)))
            }
            None => arcface_chip(image, &face.landmarks),
        }
    }

    pub fn embedder(&self) -> EmbedderKind {
        self.embedder.kind()
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

/// The part of the image turned to cut a turned face's chip: its box grown this much, which
/// holds the chip (about twice the face) and the border dlib's pyramid filters read.
const TURNED_CROP: f32 = 3.0;

/// The box dlib's face detector would draw around a face CenterFace found, from its landmarks.
/// dlib's boxes are axis-aligned squares; their centre and side follow the eyes and the mouth.
/// Fitted by least squares on the 217 faces that dlib's detector and CenterFace both found in
/// the development photos and frames: the centre lands a median 4.7% of the box side from
/// dlib's, the side is a median 6.6% off (dlib's own boxes move in steps of its scale pyramid).
fn dlib_box(face: &Face) -> DlibBox {
    let shape = face.shape();
    let [down_x, down_y] = shape.down;
    let cx = shape.eyes[0] + BOX_ALONG * down_x + BOX_ACROSS * down_y;
    let cy = shape.eyes[1] + BOX_ALONG * down_y - BOX_ACROSS * down_x;
    let side = BOX_FROM_EYES_TO_MOUTH * down_x.hypot(down_y) + BOX_FROM_EYE_SPAN * shape.eye_span;
    DlibBox::square(cx, cy, side)
}

/// The box's centre: this share of the way from the eyes down to the mouth, and this share of
/// that distance across it.
const BOX_ALONG: f32 = 0.468;
const BOX_ACROSS: f32 = -0.0185;
/// The box's side: these multiples of the eyes-to-mouth distance and of the eye span.
const BOX_FROM_EYES_TO_MOUTH: f32 = 1.932;
const BOX_FROM_EYE_SPAN: f32 = 0.340;

/// Longest side of an image [`padded`] pads; a larger one is scaled down first. The detector sees
/// at most a few hundred pixels of the padded canvas and the embedder a 150-pixel chip, so this
/// loses nothing, and a large photo's canvas (nine times its pixels) stays at most 113 MB.
const PADDED_MAX_SIDE: u32 = 2048;

/// The image centred on a black canvas three times its size. A tight face crop (a face filling
/// the picture, as in many cast photos) gives the detector no context around the face, and it
/// finds nothing until the crop is padded.
pub fn padded(image: &RgbImage) -> RgbImage {
    let (w, h) = image.dimensions();
    if w.max(h) > PADDED_MAX_SIDE {
        let scale = f64::from(PADDED_MAX_SIDE) / f64::from(w.max(h));
        let side = |pixels: u32| ((f64::from(pixels) * scale).round() as u32).max(1);
        let smaller = image::imageops::resize(
            image,
            side(w),
            side(h),
            image::imageops::FilterType::Triangle,
        );
        return padded(&smaller);
    }
    let mut canvas = RgbImage::new(w * 3, h * 3);
    image::imageops::replace(&mut canvas, image, w as i64, h as i64);
    canvas
}

/// The largest picture [`load_image`] decodes, in pixels: 100 megapixels (a 12000x8000 photo is
/// 96). A decoder holds the whole picture, so a small file declaring 40000x40000 would take
/// gigabytes.
pub const MAX_IMAGE_PIXELS: u64 = 100_000_000;

/// Whether the JPEG file at `path` closes its last scan with the end-of-image marker (0xFFD9).
/// A JPEG cut short decodes without an error, the rows it lacks filled in grey, where a PNG cut
/// short is refused; a truncated photo would give a wrong face unnoticed. Entropy-coded data
/// never holds a marker (0xFF is stuffed as 0xFF00), so an end marker after the last
/// start-of-scan (0xFFDA) means that scan, the last one, is whole; an EXIF thumbnail's own markers
/// come before the picture's scans, and bytes a camera appends after the end stay allowed.
fn jpeg_is_whole(path: &Path) -> std::io::Result<bool> {
    use std::io::Read;
    let mut file = std::io::BufReader::new(std::fs::File::open(path)?);
    let (mut last_scan, mut last_end) = (None, None);
    let (mut previous, mut at) = (0u8, 0u64);
    let mut chunk = [0u8; 64 * 1024];
    loop {
        let read = file.read(&mut chunk)?;
        if read == 0 {
            break;
        }
        for &byte in &chunk[..read] {
            match (previous, byte) {
                (0xFF, 0xDA) => last_scan = Some(at),
                (0xFF, 0xD9) => last_end = Some(at),
                _ => {}
            }
            previous = byte;
            at += 1;
        }
    }
    Ok(last_end > last_scan)
}

/// Decodes an image file upright: phone photos store their rotation in EXIF. A picture of more
/// than [`MAX_IMAGE_PIXELS`] is refused before anything is decoded.
pub fn load_image(path: &Path) -> Result<RgbImage> {
    let image_error = |source| Error::Image {
        path: path.to_path_buf(),
        source,
    };
    let mut limits = Limits::default();
    // Room for 16-bit RGBA at the pixel limit, for the decoder's own buffers and the picture.
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 8);
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut reader = ImageReader::open(path)
        .map_err(io)?
        .with_guessed_format()
        .map_err(io)?;
    if reader.format() == Some(ImageFormat::Jpeg) && !jpeg_is_whole(path).map_err(io)? {
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: "cannot read image: the JPEG is cut short (its last scan has no end marker)"
                .into(),
        });
    }
    reader.limits(limits.clone());
    let mut decoder = reader.into_decoder().map_err(image_error)?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_IMAGE_PIXELS {
        return Err(Error::Input {
            path: path.to_path_buf(),
            reason: format!(
                "cannot read image: {width}x{height} pixels is more than screentime reads ({} \
                 megapixels)",
                MAX_IMAGE_PIXELS / 1_000_000
            ),
        });
    }
    // `into_decoder`, unlike `decode`, leaves the picture's own buffer unchecked.
    limits.reserve(decoder.total_bytes()).map_err(image_error)?;
    let orientation = decoder.orientation().map_err(image_error)?;
    let mut image = DynamicImage::from_decoder(decoder).map_err(image_error)?;
    image.apply_orientation(orientation);
    Ok(image.into_rgb8())
}
