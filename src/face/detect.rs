//! Face detection with CenterFace.
//!
//! In: an RGB image of any size. Out: [`Face`]s (box, 5 landmarks, score) in that image's pixel
//! coordinates, best score first, overlapping duplicates removed.
//!
//! The image is scaled (keeping its aspect) so its longer side is at most
//! [`DetectOptions::max_side`], then zero-padded right and bottom to multiples of 32, which the
//! network's strides need. Black bars (letterbox, pillarbox) are left out first, on that same
//! 32-pixel grid: black is what the padding is, so the network need not spend time on them
//! ([`content_window`]). The network sees float RGB 0..255 with no normalisation (BGR loses
//! faces) and answers, on a grid 4x coarser than its input, a face-centre heatmap and per-cell
//! box size, centre offset and landmark offsets.

use fast_image_resize::{self as fr, Resizer};
use image::RgbImage;
use ndarray::{ArrayView4, ArrayViewD};
use ort::session::Session;
use ort::value::TensorRef;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::face::model::{DetectorKind, Model};
use crate::face::runtime::Runtime;

#[derive(Debug, Clone, Copy)]
pub struct DetectOptions {
    /// Heatmap score above which a grid cell is a face centre.
    pub threshold: f32,
    /// Boxes overlapping a better one by more than this IoU are the same face.
    pub nms_iou: f32,
    /// Longer side of the image the network sees; larger finds smaller faces, slower.
    pub max_side: u32,
}

impl Default for DetectOptions {
    fn default() -> Self {
        DetectOptions {
            threshold: 0.5,
            nms_iou: 0.3,
            max_side: 640,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BBox {
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
}

impl BBox {
    pub fn width(&self) -> f32 {
        self.x2 - self.x1
    }

    pub fn height(&self) -> f32 {
        self.y2 - self.y1
    }

    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }

    /// The whole pixels the box covers inside a `width` x `height` image, as (left, top, width,
    /// height); empty where the box lies outside.
    pub fn pixels_within(&self, width: u32, height: u32) -> (u32, u32, u32, u32) {
        let x1 = self.x1.clamp(0.0, width as f32) as u32;
        let y1 = self.y1.clamp(0.0, height as f32) as u32;
        let x2 = (self.x2.clamp(0.0, width as f32).ceil() as u32).max(x1);
        let y2 = (self.y2.clamp(0.0, height as f32).ceil() as u32).max(y1);
        (x1, y1, x2 - x1, y2 - y1)
    }

    /// The box grown (or shrunk) about its centre to `factor` times its width and height.
    pub fn scaled(&self, factor: f32) -> BBox {
        let (cx, cy) = ((self.x1 + self.x2) / 2.0, (self.y1 + self.y2) / 2.0);
        let (half_w, half_h) = (self.width() * factor / 2.0, self.height() * factor / 2.0);
        BBox {
            x1: cx - half_w,
            y1: cy - half_h,
            x2: cx + half_w,
            y2: cy + half_h,
        }
    }

    pub fn iou(&self, other: &BBox) -> f32 {
        let overlap = BBox {
            x1: self.x1.max(other.x1),
            y1: self.y1.max(other.y1),
            x2: self.x2.min(other.x2),
            y2: self.y2.min(other.y2),
        };
        let shared = overlap.area();
        if shared == 0.0 {
            return 0.0;
        }
        shared / (self.area() + other.area() - shared)
    }
}

/// The 5 landmarks, as image-left eye, image-right eye, nose tip, image-left and image-right
/// mouth corner, each (x, y).
pub type Landmarks = [[f32; 2]; 5];

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Face {
    #[serde(rename = "box")]
    pub bbox: BBox,
    pub landmarks: Landmarks,
    pub score: f32,
}

impl Face {
    /// The face in a picture whose origin is at (`dx`, `dy`) of this one's.
    pub fn moved(mut self, dx: f32, dy: f32) -> Face {
        self.bbox = BBox {
            x1: self.bbox.x1 + dx,
            y1: self.bbox.y1 + dy,
            x2: self.bbox.x2 + dx,
            y2: self.bbox.y2 + dy,
        };
        for point in &mut self.landmarks {
            *point = [point[0] + dx, point[1] + dy];
        }
        self
    }

    /// Whether the face counts as on screen in a `width` x `height` picture: turned to the
    /// camera ([`Face::is_frontal`]) and not cut by the edge ([`Face::is_whole`]).
    pub fn counts(&self, width: u32, height: u32) -> bool {
        self.is_frontal() && self.is_whole(width, height)
    }

    /// Whether the face is turned to the camera enough to count as on screen: frontal and
    /// three-quarter views count, profiles do not (as a person watching counts a face they can
    /// see, not a head they see from the side).
    ///
    /// Turning the head shortens the distance between the eyes while the distance from the
    /// eyes down to the mouth stays, so their ratio measures the turn whatever the roll or the
    /// size: about 0.95 for a frontal face, 0.4 at about 65 degrees. On the annotated TV scene
    /// (tests/truth/fotb.csv) a ratio of at least 0.4 keeps 99.2% of the faces a person counted
    /// (the former rule, nose between the eyes, kept 92.5% and dropped most three-quarter
    /// views) and drops every face of the spans annotated as profiles (ratios 0.09-0.38).
    pub fn is_frontal(&self) -> bool {
        let shape = self.shape();
        let eyes_to_mouth = shape.down[0].hypot(shape.down[1]);
        eyes_to_mouth > 0.0 && shape.eye_span >= MIN_TURN_RATIO * eyes_to_mouth
    }

    /// Where the eyes are, and how far apart, and the way down to the mouth.
    pub fn shape(&self) -> FaceShape {
        let [left_eye, right_eye, _, left_mouth, right_mouth] = self.landmarks;
        let eyes = [
            (left_eye[0] + right_eye[0]) / 2.0,
            (left_eye[1] + right_eye[1]) / 2.0,
        ];
        let mouth = [
            (left_mouth[0] + right_mouth[0]) / 2.0,
            (left_mouth[1] + right_mouth[1]) / 2.0,
        ];
        FaceShape {
            eyes,
            down: [mouth[0] - eyes[0], mouth[1] - eyes[1]],
            eye_span: (right_eye[0] - left_eye[0]).hypot(right_eye[1] - left_eye[1]),
        }
    }

    /// Whether the eyes, nose and mouth all lie inside a `width` x `height` picture: a head
    /// cut by the frame edge is not a face on screen (and its landmarks, guessed beyond the
    /// edge, would place a chip of something else).
    pub fn is_whole(&self, width: u32, height: u32) -> bool {
        self.landmarks
            .iter()
            .all(|[x, y]| (0.0..width as f32).contains(x) && (0.0..height as f32).contains(y))
    }
}

/// A face's proportions from its landmarks.
#[derive(Debug, Clone, Copy)]
pub struct FaceShape {
    /// The point midway between the eyes.
    pub eyes: [f32; 2],
    /// From that point to the point midway between the mouth corners.
    pub down: [f32; 2],
    /// The distance between the eyes.
    pub eye_span: f32,
}

/// Smallest eye distance, as a share of the distance from the eyes to the mouth, of a face
/// that counts (see [`Face::is_frontal`]).
const MIN_TURN_RATIO: f32 = 0.4;

pub struct Detector {
    session: Session,
    kind: DetectorKind,
    options: DetectOptions,
    resizer: Resizer,
    /// The scaled picture and the network input, kept between calls: no allocation per frame.
    pixels: Vec<u8>,
    input: Vec<f32>,
}

/// A rectangle of whole pixels: (left, top, width, height).
type Rect = (u32, u32, u32, u32);

impl Detector {
    pub fn new(runtime: &Runtime, options: DetectOptions) -> Result<Detector> {
        Ok(Detector {
            session: runtime.session(Model::Detector(runtime.detector()))?,
            kind: runtime.detector(),
            options,
            resizer: Resizer::new(),
            pixels: Vec::new(),
            input: Vec::new(),
        })
    }

    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<Face>> {
        let (width, height) = image.dimensions();
        self.detect_at(image, (0, 0, width, height), self.options.max_side)
    }

    /// Faces inside `region` of `image`, in `image`'s coordinates, with the region scaled to at
    /// most `max_side`. Following a known face needs only the area around it: a 160 px region
    /// costs about a tenth of a 640 px frame.
    pub fn detect_in(
        &mut self,
        image: &RgbImage,
        region: &BBox,
        max_side: u32,
    ) -> Result<Vec<Face>> {
        let (width, height) = image.dimensions();
        self.detect_at(image, region.pixels_within(width, height), max_side)
    }

    /// Faces in `rect` of `image` (which must lie inside it), scaled to at most `max_side`.
    fn detect_at(&mut self, image: &RgbImage, rect: Rect, max_side: u32) -> Result<Vec<Face>> {
        let (left, top, width, height) = rect;
        if width == 0 || height == 0 {
            return Ok(Vec::new());
        }
        let scale = (max_side as f32 / width.max(height) as f32).min(1.0);
        let scaled_w = ((width as f32 * scale).round() as u32).max(1);
        let scaled_h = ((height as f32 * scale).round() as u32).max(1);
        self.pixels
            .resize(scaled_w as usize * scaled_h as usize * 3, 0);
        let mut scaled = fr::images::Image::from_slice_u8(
            scaled_w,
            scaled_h,
            &mut self.pixels,
            fr::PixelType::U8x3,
        )
        .expect("the buffer was sized for the picture");
        // Bilinear with a support that widens as the picture shrinks: every source pixel counts,
        // as with image's Triangle filter, at a fraction of the cost (SIMD).
        let options = fr::ResizeOptions::new()
            .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear))
            .crop(left as f64, top as f64, width as f64, height as f64);
        self.resizer
            .resize(image, &mut scaled, &options)
            .expect("an RGB8 crop inside the image into an RGB8 picture");
        let window = content_window(&self.pixels, scaled_w, scaled_h);
        if window.2 == 0 {
            return Ok(Vec::new());
        }
        let shape = fill_input(&mut self.input, &self.pixels, scaled_w, window);
        let input = ArrayView4::from_shape(shape, &self.input).expect("fill_input's shape");

        let onnx = |stage| Error::onnx(self.kind.file_name(), stage);
        let tensor = TensorRef::from_array_view(input).map_err(onnx("input"))?;
        let outputs = self
            .session
            .run(ort::inputs!["input.1" => tensor])
            .map_err(onnx("detecting faces"))?;
        let output = |name: &str| outputs[name].try_extract_array::<f32>();
        let maps = HeadMaps {
            heat: output("537").map_err(onnx("reading the heatmap"))?,
            scale: output("538").map_err(onnx("reading box sizes"))?,
            offset: output("539").map_err(onnx("reading box offsets"))?,
            landmarks: output("540").map_err(onnx("reading landmarks"))?,
        };
        let mut faces = maps.decode(self.options.threshold, shape);
        faces = non_maximum_suppression(faces, self.options.nms_iou);

        let (sx, sy) = (
            scaled_w as f32 / width as f32,
            scaled_h as f32 / height as f32,
        );
        let (dx, dy) = (left as f32, top as f32);
        let (wx, wy) = (window.0 as f32, window.1 as f32);
        for face in &mut faces {
            face.bbox = BBox {
                x1: ((face.bbox.x1 + wx) / sx).clamp(0.0, width as f32) + dx,
                y1: ((face.bbox.y1 + wy) / sy).clamp(0.0, height as f32) + dy,
                x2: ((face.bbox.x2 + wx) / sx).clamp(0.0, width as f32) + dx,
                y2: ((face.bbox.y2 + wy) / sy).clamp(0.0, height as f32) + dy,
            };
            for point in &mut face.landmarks {
                *point = [(point[0] + wx) / sx + dx, (point[1] + wy) / sy + dy];
            }
        }
        Ok(faces)
    }
}

/// The brightest a pixel's channels may be and still count as a black bar. Bars encoded from
/// black read 0 on the bench input (x264) and 0 to 8 on fotb letterboxed by x264 at crf 20,
/// but for the two rows touching the picture (up to 20), which the window keeps anyway; a
/// visible face is far brighter.
const BLACK: u8 = 8;

/// The part of a `width` x `height` packed RGB picture the network must see: the smallest
/// rectangle holding every pixel brighter than [`BLACK`], grown outward to the network's
/// 32-pixel grid (or to the picture's edge). On that grid the network computes what it computes
/// on the whole picture, except next to the window's edge, where it now sees its padding (0)
/// in place of the black bar (0 to [`BLACK`]). Empty when the whole picture is black.
fn content_window(pixels: &[u8], width: u32, height: u32) -> Rect {
    let bright = |&v: &u8| v > BLACK;
    let (mut left, mut right, mut rows) = (usize::MAX, 0, None);
    for (y, row) in pixels.chunks_exact(3 * width as usize).enumerate() {
        if let (Some(first), Some(last)) =
            (row.iter().position(bright), row.iter().rposition(bright))
        {
            left = left.min(first / 3);
            right = right.max(last / 3 + 1);
            rows = Some((rows.map_or(y, |(top, _)| top), y + 1));
        }
    }
    let Some((top, bottom)) = rows else {
        return (0, 0, 0, 0);
    };
    let on_grid = |start: usize, end: usize, size: u32| {
        let start = start / 32 * 32;
        (
            start as u32,
            (end.div_ceil(32) * 32).min(size as usize) as u32 - start as u32,
        )
    };
    let ((x, w), (y, h)) = (on_grid(left, right, width), on_grid(top, bottom, height));
    (x, y, w, h)
}

/// Fills `input` with `window` of the packed RGB `pixels` (`width` wide) as NCHW floats,
/// zero-padded right and bottom to multiples of 32; returns the shape.
fn fill_input(
    input: &mut Vec<f32>,
    pixels: &[u8],
    width: u32,
    window: Rect,
) -> (usize, usize, usize, usize) {
    let [left, top, columns, lines] = [window.0, window.1, window.2, window.3].map(|n| n as usize);
    let pad = |n: usize| n.div_ceil(32) * 32;
    let (rows, cols) = (pad(lines), pad(columns));
    input.clear();
    input.resize(3 * rows * cols, 0.0);
    let window_rows = pixels
        .chunks_exact(3 * width as usize)
        .skip(top)
        .take(lines);
    for (y, row) in window_rows.enumerate() {
        let row = &row[3 * left..3 * (left + columns)];
        for (x, pixel) in row.chunks_exact(3).enumerate() {
            for (c, &value) in pixel.iter().enumerate() {
                input[(c * rows + y) * cols + x] = value as f32;
            }
        }
    }
    (1, 3, rows, cols)
}

/// The network's four outputs, each [1, C, H/4, W/4].
struct HeadMaps<'a> {
    heat: ArrayViewD<'a, f32>,
    scale: ArrayViewD<'a, f32>,
    offset: ArrayViewD<'a, f32>,
    landmarks: ArrayViewD<'a, f32>,
}

impl HeadMaps<'_> {
    /// One face per grid cell whose heat exceeds `threshold`, in input pixel coordinates.
    fn decode(&self, threshold: f32, input_dim: (usize, usize, usize, usize)) -> Vec<Face> {
        let (_, _, input_h, input_w) = input_dim;
        let (rows, cols) = (self.heat.shape()[2], self.heat.shape()[3]);
        let mut faces = Vec::new();
        for row in 0..rows {
            for col in 0..cols {
                let score = self.heat[[0, 0, row, col]];
                if score <= threshold {
                    continue;
                }
                let h = self.scale[[0, 0, row, col]].exp() * 4.0;
                let w = self.scale[[0, 1, row, col]].exp() * 4.0;
                let cy = (row as f32 + self.offset[[0, 0, row, col]] + 0.5) * 4.0;
                let cx = (col as f32 + self.offset[[0, 1, row, col]] + 0.5) * 4.0;
                let x1 = (cx - w / 2.0).max(0.0);
                let y1 = (cy - h / 2.0).max(0.0);
                let mut landmarks = [[0.0; 2]; 5];
                for (j, point) in landmarks.iter_mut().enumerate() {
                    *point = [
                        self.landmarks[[0, 2 * j + 1, row, col]] * w + x1,
                        self.landmarks[[0, 2 * j, row, col]] * h + y1,
                    ];
                }
                faces.push(Face {
                    bbox: BBox {
                        x1,
                        y1,
                        x2: (x1 + w).min(input_w as f32),
                        y2: (y1 + h).min(input_h as f32),
                    },
                    landmarks,
                    score,
                });
            }
        }
        faces
    }
}

/// Keeps the best-scoring face of each group of boxes overlapping by more than `max_iou`.
fn non_maximum_suppression(mut faces: Vec<Face>, max_iou: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::with_capacity(faces.len());
    for face in faces {
        if kept.iter().all(|k| k.bbox.iou(&face.bbox) <= max_iou) {
            kept.push(face);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(x1: f32, y1: f32, x2: f32, y2: f32, score: f32) -> Face {
        Face {
            bbox: BBox { x1, y1, x2, y2 },
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn iou_of_half_overlapping_boxes() {
        let a = BBox {
            x1: 0.0,
            y1: 0.0,
            x2: 10.0,
            y2: 10.0,
        };
        let b = BBox {
            x1: 5.0,
            y1: 0.0,
            x2: 15.0,
            y2: 10.0,
        };
        assert!((a.iou(&b) - 50.0 / 150.0).abs() < 1e-6);
        assert_eq!(a.iou(&BBox { x1: 20.0, ..b }), 0.0);
    }

    #[test]
    fn profile_is_not_frontal_and_cut_faces_are_not_whole() {
        let mut f = face(0.0, 0.0, 100.0, 120.0, 0.9);
        f.landmarks = [
            [30.0, 40.0],
            [70.0, 40.0],
            [50.0, 60.0],
            [35.0, 85.0],
            [65.0, 85.0],
        ];
        assert!(f.is_frontal());
        // Three-quarter: the eyes closer (20 px against 46 px down to the mouth), roll or not.
        f.landmarks[1] = [50.0, 40.0];
        assert!(f.is_frontal());
        let rolled = f.landmarks.map(|[x, y]| [y, -x]);
        assert!(
            Face {
                landmarks: rolled,
                ..f.clone()
            }
            .is_frontal()
        );
        // Profile: 15 px against 47.
        f.landmarks[1] = [45.0, 40.0];
        assert!(!f.is_frontal());
        assert!(f.is_whole(100, 100));
        assert!(
            !f.is_whole(100, 80),
            "the mouth lies below an 80 px picture"
        );
    }

    #[test]
    fn window_holds_every_bright_pixel_on_the_32_pixel_grid() {
        let (width, height) = (200, 100);
        let mut pixels = vec![BLACK; 3 * width * height];
        assert_eq!(content_window(&pixels, 200, 100), (0, 0, 0, 0));
        let light = |pixels: &mut [u8], x: usize, y: usize| {
            pixels[3 * (y * width + x) + 1] = BLACK + 1;
        };
        light(&mut pixels, 70, 40);
        light(&mut pixels, 100, 50);
        assert_eq!(content_window(&pixels, 200, 100), (64, 32, 64, 32));
        light(&mut pixels, 199, 99);
        assert_eq!(content_window(&pixels, 200, 100), (64, 32, 136, 68));
    }

    #[test]
    fn suppression_keeps_best_of_each_cluster() {
        let faces = vec![
            face(0.0, 0.0, 10.0, 10.0, 0.6),
            face(1.0, 1.0, 11.0, 11.0, 0.9),
            face(50.0, 50.0, 60.0, 60.0, 0.7),
        ];
        let kept = non_maximum_suppression(faces, 0.3);
        let scores: Vec<f32> = kept.iter().map(|f| f.score).collect();
        assert_eq!(scores, vec![0.9, 0.7]);
    }
}
