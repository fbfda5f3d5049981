//! Face alignment: the 150x150 "chip" dlib's embedder was trained on.
//!
//! In: an RGB image and a face's 5 landmarks. Out: a 150x150 RGB chip with the eyes, nose and
//! mouth where dlib puts them (its `get_face_chip`, padding 0.25).
//!
//! A least-squares similarity transform (rotation, uniform scale, shift) maps the landmarks onto
//! dlib's template; eyes weigh most because the detector places them most reliably. Each chip
//! pixel is then sampled bilinearly from the image (0 outside it) and truncated to u8. A face
//! much larger than the chip is first halved, as often as needed with dlib's [1 4 6 4 1]/16
//! filter, so that no chip pixel spans more than 2 image pixels: sampling a large face directly
//! would alias and move its descriptor.
//!
//! Enrolment (cast photos) and matching (video frames) must use this same function.

use image::{Rgb, RgbImage};

use crate::detect::Landmarks;

pub const CHIP_SIZE: u32 = 150;

/// dlib's chip positions of image-left eye, image-right eye, nose tip and mouth corners, in
/// chip pixels with pixel centres at integer coordinates.
const TEMPLATE: Landmarks = [
    [47.187, 45.928],
    [99.874, 46.189],
    [74.644, 75.681],
    [47.336, 103.985],
    [99.639, 103.891],
];
const WEIGHTS: [f32; 5] = [3.0, 3.0, 1.0, 0.5, 0.5];

/// x' = a*x - b*y + tx, y' = b*x + a*y + ty.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Similarity {
    a: f32,
    b: f32,
    tx: f32,
    ty: f32,
}

impl Similarity {
    /// Weighted least-squares fit mapping `from` onto `to`.
    fn fit(from: &Landmarks, to: &Landmarks, weights: &[f32; 5]) -> Similarity {
        let total: f32 = weights.iter().sum();
        let centroid = |points: &Landmarks| {
            let mut c = [0.0f32; 2];
            for (p, w) in points.iter().zip(weights) {
                c[0] += w * p[0] / total;
                c[1] += w * p[1] / total;
            }
            c
        };
        let (cf, ct) = (centroid(from), centroid(to));
        let (mut dot, mut cross, mut norm) = (0.0f32, 0.0f32, 0.0f32);
        for ((p, q), w) in from.iter().zip(to).zip(weights) {
            let (px, py) = (p[0] - cf[0], p[1] - cf[1]);
            let (qx, qy) = (q[0] - ct[0], q[1] - ct[1]);
            dot += w * (px * qx + py * qy);
            cross += w * (px * qy - py * qx);
            norm += w * (px * px + py * py);
        }
        let norm = norm.max(f32::EPSILON);
        let (a, b) = (dot / norm, cross / norm);
        Similarity {
            a,
            b,
            tx: ct[0] - (a * cf[0] - b * cf[1]),
            ty: ct[1] - (b * cf[0] + a * cf[1]),
        }
    }

    fn apply(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [
            self.a * x - self.b * y + self.tx,
            self.b * x + self.a * y + self.ty,
        ]
    }

    fn inverse(&self) -> Similarity {
        let d = (self.a * self.a + self.b * self.b).max(f32::EPSILON);
        let (a, b) = (self.a / d, -self.b / d);
        Similarity {
            a,
            b,
            tx: -(a * self.tx - b * self.ty),
            ty: -(b * self.tx + a * self.ty),
        }
    }

    /// Length of one unit of the source in the target.
    fn scale(&self) -> f32 {
        self.a.hypot(self.b)
    }
}

/// A float RGB image: the working copy of the face region while it is halved.
struct Plane {
    width: usize,
    height: usize,
    pixels: Vec<[f32; 3]>,
}

impl Plane {
    fn crop(image: &RgbImage, x0: u32, y0: u32, x1: u32, y1: u32) -> Plane {
        let (width, height) = ((x1 - x0) as usize, (y1 - y0) as usize);
        let mut pixels = Vec::with_capacity(width * height);
        for y in y0..y1 {
            for x in x0..x1 {
                let Rgb(p) = *image.get_pixel(x, y);
                pixels.push([p[0] as f32, p[1] as f32, p[2] as f32]);
            }
        }
        Plane {
            width,
            height,
            pixels,
        }
    }

    /// Filters with [1 4 6 4 1]/16 in each direction and keeps every second pixel: output pixel
    /// i sits on input pixel 2i. Edges repeat their last pixel.
    fn halve(&self) -> Plane {
        const TAPS: [f32; 5] = [1.0 / 16.0, 4.0 / 16.0, 6.0 / 16.0, 4.0 / 16.0, 1.0 / 16.0];
        let (w, h) = (self.width.div_ceil(2), self.height.div_ceil(2));
        let clamp = |i: isize, n: usize| i.clamp(0, n as isize - 1) as usize;
        // Rows first (horizontal filter), then columns.
        let mut rows = vec![[0.0f32; 3]; w * self.height];
        for y in 0..self.height {
            for x in 0..w {
                let mut sum = [0.0f32; 3];
                for (k, tap) in TAPS.iter().enumerate() {
                    let sx = clamp(2 * x as isize + k as isize - 2, self.width);
                    let p = self.pixels[y * self.width + sx];
                    for c in 0..3 {
                        sum[c] += tap * p[c];
                    }
                }
                rows[y * w + x] = sum;
            }
        }
        let mut pixels = vec![[0.0f32; 3]; w * h];
        for y in 0..h {
            for x in 0..w {
                let mut sum = [0.0f32; 3];
                for (k, tap) in TAPS.iter().enumerate() {
                    let sy = clamp(2 * y as isize + k as isize - 2, self.height);
                    let p = rows[sy * w + x];
                    for c in 0..3 {
                        sum[c] += tap * p[c];
                    }
                }
                pixels[y * w + x] = sum;
            }
        }
        Plane {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Bilinear sample; 0 where any of the four neighbours lies outside.
    fn sample(&self, x: f32, y: f32) -> [f32; 3] {
        let (x0, y0) = (x.floor(), y.floor());
        if x0 < 0.0 || y0 < 0.0 || x0 + 1.0 >= self.width as f32 || y0 + 1.0 >= self.height as f32 {
            return [0.0; 3];
        }
        let (fx, fy) = (x - x0, y - y0);
        let i = y0 as usize * self.width + x0 as usize;
        let (tl, tr) = (self.pixels[i], self.pixels[i + 1]);
        let (bl, br) = (self.pixels[i + self.width], self.pixels[i + self.width + 1]);
        std::array::from_fn(|c| {
            let top = tl[c] + fx * (tr[c] - tl[c]);
            let bottom = bl[c] + fx * (br[c] - bl[c]);
            top + fy * (bottom - top)
        })
    }
}

/// The aligned 150x150 chip of the face with these landmarks.
pub fn align(image: &RgbImage, landmarks: &Landmarks) -> RgbImage {
    let to_chip = Similarity::fit(landmarks, &TEMPLATE, &WEIGHTS);
    let to_image = to_chip.inverse();

    // Image pixels per chip pixel decides how often to halve.
    let mut halvings = 0;
    let mut step = to_image.scale();
    while step > 2.0 {
        step /= 2.0;
        halvings += 1;
    }

    // Only the chip's footprint (plus the filter's reach at every level) is worked on.
    let size = CHIP_SIZE as f32;
    let corners =
        [[-1.0, -1.0], [size, -1.0], [-1.0, size], [size, size]].map(|c| to_image.apply(c));
    let margin = 3.0 * (1u32 << halvings) as f32;
    let (width, height) = image.dimensions();
    let bound = |values: [f32; 4], f: fn(f32, f32) -> f32, limit: u32| {
        values
            .into_iter()
            .reduce(f)
            .unwrap_or(0.0)
            .clamp(0.0, limit as f32) as u32
    };
    let xs = corners.map(|c| c[0]);
    let ys = corners.map(|c| c[1]);
    let x0 = bound(xs.map(|x| x - margin), f32::min, width);
    let y0 = bound(ys.map(|y| y - margin), f32::min, height);
    let x1 = bound(xs.map(|x| x + margin + 1.0), f32::max, width);
    let y1 = bound(ys.map(|y| y + margin + 1.0), f32::max, height);

    let mut chip = RgbImage::new(CHIP_SIZE, CHIP_SIZE);
    if x1 <= x0 || y1 <= y0 {
        return chip; // the face lies entirely outside the image
    }
    let mut plane = Plane::crop(image, x0, y0, x1, y1);
    for _ in 0..halvings {
        plane = plane.halve();
    }
    let level = (1u32 << halvings) as f32;
    for (u, v, pixel) in chip.enumerate_pixels_mut() {
        let [x, y] = to_image.apply([u as f32, v as f32]);
        let rgb = plane.sample((x - x0 as f32) / level, (y - y0 as f32) / level);
        *pixel = Rgb(rgb.map(|c| c as u8));
    }
    chip
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_recovers_a_known_similarity() {
        let truth = Similarity {
            a: 0.8,
            b: 0.3,
            tx: -12.0,
            ty: 40.0,
        };
        let from: Landmarks = [
            [10.0, 20.0],
            [60.0, 18.0],
            [35.0, 45.0],
            [15.0, 70.0],
            [55.0, 72.0],
        ];
        let to = from.map(|p| truth.apply(p));
        let fitted = Similarity::fit(&from, &to, &WEIGHTS);
        for (got, want) in [fitted.a, fitted.b, fitted.tx, fitted.ty]
            .iter()
            .zip([truth.a, truth.b, truth.tx, truth.ty])
        {
            assert!((got - want).abs() < 1e-3, "{fitted:?} vs {truth:?}");
        }
        let round_trip = fitted.inverse().apply(fitted.apply([3.0, 4.0]));
        assert!((round_trip[0] - 3.0).abs() < 1e-3 && (round_trip[1] - 4.0).abs() < 1e-3);
    }

    #[test]
    fn halving_keeps_flat_colour_and_halves_size() {
        let plane = Plane {
            width: 9,
            height: 4,
            pixels: vec![[10.0, 20.0, 30.0]; 36],
        };
        let half = plane.halve();
        assert_eq!((half.width, half.height), (5, 2));
        for p in &half.pixels {
            for (c, want) in p.iter().zip([10.0, 20.0, 30.0]) {
                assert!((c - want).abs() < 1e-4);
            }
        }
    }
}
