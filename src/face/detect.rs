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
//!
//! The network finds faces rolled up to about 45 degrees. A face rolled further (someone lying
//! down) is found in the picture turned a quarter turn ([`Detector::detect_turned`], [`Turn`]):
//! the scaled picture is turned, the network sees the face upright, and what it finds is turned
//! back exactly into the picture's own coordinates. A face keeps the order of landmarks it had
//! where it was upright (its own left eye first), so every later step sees it as a face.

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
    /// The turn of the picture the face was found in, where it is upright: its dlib landmarks
    /// are placed there, and a track follows it there.
    #[serde(skip)]
    pub turn: Turn,
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

    /// How far the face is rolled, in degrees from upright, from its eyes-to-mouth direction:
    /// 0 upright, 90 when the mouth lies to the right of the eyes (the top of the head to the
    /// picture's left), -90 the other way, 180 upside down.
    pub fn roll(&self) -> f32 {
        let [x, y] = self.shape().down;
        x.atan2(y).to_degrees()
    }

    /// How far the face is rolled in the picture it was found in ([`Face::turn`]), in degrees
    /// either way: how upright the detector saw it.
    pub fn tilt(&self) -> f32 {
        let tilt = (self.roll() - self.turn.degrees()).abs();
        tilt.min(360.0 - tilt)
    }

    /// The face, found in a `width` x `height` picture (`width` x `height` as found, i.e.
    /// turned) that is the upright picture turned by `turn`, in the upright picture's
    /// coordinates.
    pub fn turned_back(mut self, turn: Turn, width: f32, height: f32) -> Face {
        if turn == Turn::Upright {
            return self;
        }
        let back = |point: [f32; 2]| turn.back(point, width, height);
        let [a, b] = [
            back([self.bbox.x1, self.bbox.y1]),
            back([self.bbox.x2, self.bbox.y2]),
        ];
        self.bbox = BBox {
            x1: a[0].min(b[0]),
            y1: a[1].min(b[1]),
            x2: a[0].max(b[0]),
            y2: a[1].max(b[1]),
        };
        self.landmarks = self.landmarks.map(back);
        self
    }

    /// The face in the upright `width` x `height` picture turned by `turn`, in the turned
    /// picture's coordinates: [`Face::turned_back`] undone.
    pub fn turned(self, turn: Turn, width: f32, height: f32) -> Face {
        self.turned_back(turn.inverse(), width, height)
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

    /// Whether the landmarks spread over the box as a face's do: the longer of the eye span and
    /// the eyes-to-mouth distance is at least `MIN_SPREAD` of the box's side (the square root
    /// of its area). CenterFace now and then reads a large face rolled about 90 degrees, in the
    /// upright picture, as an upright face with its landmarks bunched in a small part of the
    /// box: on fotb turned a quarter turn, eddie's 300 px face at 45.1 s with its eyes 39 px
    /// apart, embedded 0.73 from everyone.
    pub fn fills_its_box(&self) -> bool {
        let shape = self.shape();
        let spread = shape.eye_span.max(shape.down[0].hypot(shape.down[1]));
        spread >= MIN_SPREAD * (self.bbox.width() * self.bbox.height()).sqrt()
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

/// The score a face found in a turned picture needs. A turned picture is looked at for faces
/// the upright one may not show at all, on every shot, so its false finds add to every video:
/// on fotb upright, the one it added (0.13 s credited to a stranger, at a cut at 39.08 s)
/// scored 0.54, where the faces it finds on fotb turned a quarter turn score mostly 0.65 to 0.95.
const TURNED_THRESHOLD: f32 = 0.6;

/// Whether `face`, found in a picture turned by `turn`, is a face that turn adds: rolled its
/// way ([`Turn::of`]) and scoring above [`TURNED_THRESHOLD`].
pub fn is_turned_find(face: &Face, turn: Turn) -> bool {
    Turn::of(face) == turn && face.score > TURNED_THRESHOLD
}

/// A quarter turn of a picture, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Turn {
    #[default]
    Upright,
    /// A quarter turn clockwise, as `transpose=1`: upright for a face of roll 90.
    Clockwise,
    /// A quarter turn counter-clockwise, as `transpose=2`: upright for a face of roll -90.
    CounterClockwise,
}

impl Turn {
    /// The two quarter turns.
    pub const QUARTERS: [Turn; 2] = [Turn::Clockwise, Turn::CounterClockwise];

    /// The turn in which a face is nearest upright: a quarter turn for a face rolled more than
    /// 45 degrees ([`Face::roll`]) and less than 135, none otherwise (an upside-down face is
    /// left to the upright picture).
    pub fn of(face: &Face) -> Turn {
        match face.roll() {
            r if r > 45.0 && r < 135.0 => Turn::Clockwise,
            r if r < -45.0 && r > -135.0 => Turn::CounterClockwise,
            _ => Turn::Upright,
        }
    }

    /// The roll of a face upright in this turn.
    fn degrees(self) -> f32 {
        match self {
            Turn::Upright => 0.0,
            Turn::Clockwise => 90.0,
            Turn::CounterClockwise => -90.0,
        }
    }

    fn inverse(self) -> Turn {
        match self {
            Turn::Upright => Turn::Upright,
            Turn::Clockwise => Turn::CounterClockwise,
            Turn::CounterClockwise => Turn::Clockwise,
        }
    }

    /// The size of a `width` x `height` picture once turned.
    pub fn size<T>(self, width: T, height: T) -> (T, T) {
        match self {
            Turn::Upright => (width, height),
            Turn::Clockwise | Turn::CounterClockwise => (height, width),
        }
    }

    /// `image` turned.
    pub fn picture(self, image: RgbImage) -> RgbImage {
        if self == Turn::Upright {
            return image;
        }
        let (width, height) = image.dimensions();
        let (turned_w, turned_h) = self.size(width, height);
        let mut turned = Vec::new();
        turn_pixels(image.as_raw(), width, height, self, &mut turned);
        RgbImage::from_raw(turned_w, turned_h, turned).expect("as many pixels, turned")
    }

    /// Where a point of the turned picture (`width` x `height` as turned) lies in the upright
    /// one, in continuous coordinates (a pixel spans 0 to 1).
    fn back(self, [x, y]: [f32; 2], width: f32, height: f32) -> [f32; 2] {
        match self {
            Turn::Upright => [x, y],
            Turn::Clockwise => [y, width - x],
            Turn::CounterClockwise => [height - y, x],
        }
    }

    /// The pixel of the upright picture shown at whole pixel (`x`, `y`) of the turned one
    /// (`width` x `height` as turned).
    fn pixel_back(self, x: i64, y: i64, width: i64, height: i64) -> (i64, i64) {
        match self {
            Turn::Upright => (x, y),
            Turn::Clockwise => (y, width - 1 - x),
            Turn::CounterClockwise => (height - 1 - y, x),
        }
    }
}

/// Smallest eye distance, as a share of the distance from the eyes to the mouth, of a face
/// that counts (see [`Face::is_frontal`]).
const MIN_TURN_RATIO: f32 = 0.4;

/// Smallest spread of a face's landmarks over its box ([`Face::fills_its_box`]): half the usual.
/// Over every 12th frame of fotb (206 faces that count) the spread is 0.385-0.60 of the box's
/// side, median 0.42; over fotb turned a quarter turn, the bunched readings are 0.09-0.13.
const MIN_SPREAD: f32 = 0.21;

pub struct Detector {
    session: Session,
    kind: DetectorKind,
    options: DetectOptions,
    resizer: Resizer,
    /// The scaled picture, that picture turned (where asked) and the network input, kept
    /// between calls: no allocation per frame.
    pixels: Vec<u8>,
    turned: Vec<u8>,
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
            turned: Vec::new(),
            input: Vec::new(),
        })
    }

    /// The longer side a whole picture is scaled to at most (`DetectOptions::max_side`).
    pub fn max_side(&self) -> u32 {
        self.options.max_side
    }

    pub fn detect(&mut self, image: &RgbImage) -> Result<Vec<Face>> {
        let (width, height) = image.dimensions();
        let max_side = self.max_side();
        self.detect_at(image, (0, 0, width, height), max_side, Turn::Upright)
    }

    /// `upright`, the faces [`Detector::detect`] found in `image`, with the faces rolled more
    /// than 45 degrees that the picture turned each quarter turn shows, scaled to at most
    /// `max_side`. A turn keeps only faces rolled its way ([`Turn::of`]), so it adds none that
    /// the upright picture shows upright. Where the upright picture found a face a turn found
    /// too, the upright find stays if its own landmarks say it is upright and fill its box
    /// ([`Face::fills_its_box`]); otherwise the one found nearer upright ([`Face::tilt`]): on
    /// fotb turned a quarter turn, the upright picture finds some faces lying (their landmarks
    /// less sure), and the turned one the same faces upright. The network also finds an upright
    /// face in a turned picture now and then, with landmarks that read it as lying (fotb's
    /// photo of evan with the fp32 weights, 0.68): a turned find never replaces an upright face
    /// whose landmarks fill its box.
    pub fn detect_turned(
        &mut self,
        image: &RgbImage,
        upright: Vec<Face>,
        max_side: u32,
    ) -> Result<Vec<Face>> {
        let (width, height) = image.dimensions();
        let mut faces = upright;
        for turn in Turn::QUARTERS {
            let found = self.detect_at(image, (0, 0, width, height), max_side, turn)?;
            faces.extend(found.into_iter().filter(|f| is_turned_find(f, turn)));
        }
        let mut faces = suppress(faces, self.options.nms_iou, upright_first);
        faces.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(faces)
    }

    /// Faces inside `region` of `image`, in `image`'s coordinates, with the region scaled to at
    /// most `max_side` and turned by `turn`. Following a known face needs only the area around
    /// it: a 160 px region costs about a tenth of a 640 px frame.
    pub fn detect_in(
        &mut self,
        image: &RgbImage,
        region: &BBox,
        max_side: u32,
        turn: Turn,
    ) -> Result<Vec<Face>> {
        let (width, height) = image.dimensions();
        self.detect_at(image, region.pixels_within(width, height), max_side, turn)
    }

    /// Faces in `rect` of `image` (which must lie inside it), scaled to at most `max_side` and
    /// then turned by `turn`, in `image`'s coordinates.
    fn detect_at(
        &mut self,
        image: &RgbImage,
        rect: Rect,
        max_side: u32,
        turn: Turn,
    ) -> Result<Vec<Face>> {
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
        let (seen_w, seen_h) = turn.size(scaled_w, scaled_h);
        let seen = if turn == Turn::Upright {
            &self.pixels
        } else {
            turn_pixels(&self.pixels, scaled_w, scaled_h, turn, &mut self.turned);
            &self.turned
        };
        let window = content_window(seen, seen_w, seen_h);
        if window.2 == 0 {
            return Ok(Vec::new());
        }
        let shape = fill_input(&mut self.input, seen, seen_w, window);
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
        let back = |face: Face| {
            // Into the scaled picture, upright, then into the image.
            let face = face
                .moved(wx, wy)
                .turned_back(turn, seen_w as f32, seen_h as f32);
            Face {
                bbox: BBox {
                    x1: (face.bbox.x1 / sx).clamp(0.0, width as f32) + dx,
                    y1: (face.bbox.y1 / sy).clamp(0.0, height as f32) + dy,
                    x2: (face.bbox.x2 / sx).clamp(0.0, width as f32) + dx,
                    y2: (face.bbox.y2 / sy).clamp(0.0, height as f32) + dy,
                },
                landmarks: face.landmarks.map(|[x, y]| [x / sx + dx, y / sy + dy]),
                score: face.score,
                turn,
            }
        };
        Ok(faces.into_iter().map(back).collect())
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

/// `turned`, filled with the packed RGB `pixels` (`width` x `height`) turned by `turn`.
fn turn_pixels(pixels: &[u8], width: u32, height: u32, turn: Turn, turned: &mut Vec<u8>) {
    let (turned_w, turned_h) = turn.size(width as i64, height as i64);
    turned.clear();
    turned.reserve(pixels.len());
    for y in 0..turned_h {
        for x in 0..turned_w {
            let (ux, uy) = turn.pixel_back(x, y, turned_w, turned_h);
            let at = 3 * (uy * width as i64 + ux) as usize;
            turned.extend_from_slice(&pixels[at..at + 3]);
        }
    }
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
                    turn: Turn::Upright,
                });
            }
        }
        faces
    }
}

/// The order in which [`Detector::detect_turned`] (and the tracker, for a face it follows
/// turned) keeps one of two finds of a face: finds whose landmarks fill their box
/// ([`Face::fills_its_box`]) before those whose landmarks are bunched, then upright finds whose
/// landmarks say they are upright, then the rest, nearest upright first.
pub fn upright_first(a: &Face, b: &Face) -> std::cmp::Ordering {
    let bunched = |f: &Face| !f.fills_its_box();
    let lying = |f: &Face| f.turn != Turn::Upright || Turn::of(f) != Turn::Upright;
    (bunched(a).cmp(&bunched(b)))
        .then(lying(a).cmp(&lying(b)))
        .then(a.tilt().total_cmp(&b.tilt()))
}

/// Keeps the best-scoring face of each group of boxes overlapping by more than `max_iou`.
fn non_maximum_suppression(faces: Vec<Face>, max_iou: f32) -> Vec<Face> {
    suppress(faces, max_iou, |a, b| b.score.total_cmp(&a.score))
}

/// Keeps the first face, in the order `first` sorts them, of each group of boxes overlapping
/// by more than `max_iou`; the kept faces in that order.
fn suppress(
    mut faces: Vec<Face>,
    max_iou: f32,
    first: impl Fn(&Face, &Face) -> std::cmp::Ordering,
) -> Vec<Face> {
    faces.sort_by(first);
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
            turn: Turn::Upright,
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
        let mut f = rolled(0.0);
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

    /// A frontal face with its eyes at (30, 40) and (70, 40), turned about (50, 60) by
    /// `degrees` (positive: its mouth swings to the picture's right).
    fn rolled(degrees: f32) -> Face {
        let (sin, cos) = degrees.to_radians().sin_cos();
        let turn = |[x, y]: [f32; 2]| {
            let (dx, dy) = (x - 50.0, y - 60.0);
            [50.0 + cos * dx + sin * dy, 60.0 - sin * dx + cos * dy]
        };
        let mut f = face(0.0, 0.0, 100.0, 120.0, 0.9);
        f.landmarks = [
            [30.0, 40.0],
            [70.0, 40.0],
            [50.0, 60.0],
            [35.0, 85.0],
            [65.0, 85.0],
        ]
        .map(turn);
        f
    }

    #[test]
    fn a_face_belongs_to_the_quarter_turn_nearest_its_roll() {
        for (degrees, turn) in [
            (0.0, Turn::Upright),
            (44.0, Turn::Upright),
            (-44.0, Turn::Upright),
            (46.0, Turn::Clockwise),
            (90.0, Turn::Clockwise),
            (134.0, Turn::Clockwise),
            (-60.0, Turn::CounterClockwise),
            (-90.0, Turn::CounterClockwise),
            (170.0, Turn::Upright),
        ] {
            let face = rolled(degrees);
            assert!(
                (face.roll() - degrees).abs() < 1e-3,
                "{degrees}: {}",
                face.roll()
            );
            assert_eq!(Turn::of(&face), turn, "rolled {degrees}");
        }
    }

    #[test]
    fn a_turned_find_replaces_only_a_face_found_lying() {
        let found_in = |degrees: f32, turn: Turn| Face {
            turn,
            ..rolled(degrees)
        };
        for (finds, stays) in [
            // An upright face, and the turn's find of it read as lying (nearer its turn's
            // upright than the face is to the picture's): the upright face stays.
            (
                [(88.0, Turn::Clockwise), (5.0, Turn::Upright)],
                Turn::Upright,
            ),
            // A lying face the upright picture found too: the turn's find, nearer upright, stays.
            (
                [(80.0, Turn::Upright), (88.0, Turn::Clockwise)],
                Turn::Clockwise,
            ),
        ] {
            let finds = finds
                .map(|(degrees, turn)| found_in(degrees, turn))
                .to_vec();
            let kept = suppress(finds, 0.3, upright_first);
            assert_eq!((kept.len(), kept[0].turn), (1, stays));
        }
        // A large lying face the upright picture reads as an upright one with its landmarks
        // bunched in a quarter of its box: the turn's find stays.
        let mut bunched = rolled(5.0);
        assert!(bunched.fills_its_box());
        bunched.landmarks = bunched.landmarks.map(|[x, y]| {
            let (cx, cy) = (50.0, 60.0);
            [cx + (x - cx) / 4.0, cy + (y - cy) / 4.0]
        });
        assert!(!bunched.fills_its_box());
        let kept = suppress(
            vec![bunched, found_in(88.0, Turn::Clockwise)],
            0.3,
            upright_first,
        );
        assert_eq!((kept.len(), kept[0].turn), (1, Turn::Clockwise));
    }

    #[test]
    fn a_rolled_face_is_upright_in_its_turn_and_turns_back_exactly() {
        let (width, height) = (200.0, 150.0);
        for degrees in [90.0, -90.0, 60.0, -60.0] {
            let face = rolled(degrees).moved(40.0, 10.0);
            let turn = Turn::of(&face);
            let (turned_w, turned_h) = turn.size(width, height);
            let upright = face.clone().turned(turn, width, height);
            let expected = 90.0 - degrees.abs();
            assert!((upright.roll().abs() - expected).abs() < 1e-3, "{degrees}");
            assert!(upright.is_whole(turned_w as u32, turned_h as u32));
            let back = upright.turned_back(turn, turned_w, turned_h);
            let near = |a: f32, b: f32| (a - b).abs() < 1e-4;
            for (a, b) in back.landmarks.iter().zip(&face.landmarks) {
                assert!(near(a[0], b[0]) && near(a[1], b[1]), "{a:?} {b:?}");
            }
            // The box's corners swap, but it is the same box.
            let [a, b] = [back.bbox, face.bbox];
            assert!(near(a.x1, b.x1) && near(a.y1, b.y1) && near(a.x2, b.x2) && near(a.y2, b.y2));
        }
        let upright = rolled(10.0);
        assert_eq!(
            upright.clone().turned(Turn::Upright, width, height),
            upright
        );
    }

    #[test]
    fn turned_pixels_are_the_picture_turned_and_each_maps_back_to_its_own() {
        let (width, height) = (5u32, 3u32);
        let picture = RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7]));
        for (turn, expected) in [
            (Turn::Clockwise, image::imageops::rotate90(&picture)),
            (Turn::CounterClockwise, image::imageops::rotate270(&picture)),
        ] {
            let mut turned = Vec::new();
            turn_pixels(picture.as_raw(), width, height, turn, &mut turned);
            assert_eq!(&turned, expected.as_raw(), "{turn:?}");
            let (turned_w, turned_h) = turn.size(width, height);
            for (x, y, pixel) in expected.enumerate_pixels() {
                let (ux, uy) =
                    turn.pixel_back(x.into(), y.into(), turned_w.into(), turned_h.into());
                assert_eq!([ux as u8, uy as u8], [pixel[0], pixel[1]]);
                // A pixel's centre turns back to its upright pixel's centre.
                let centre = turn.back(
                    [x as f32 + 0.5, y as f32 + 0.5],
                    turned_w as f32,
                    turned_h as f32,
                );
                assert_eq!(centre, [ux as f32 + 0.5, uy as f32 + 0.5]);
            }
        }
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
