//! Face alignment: the "chip" each embedder was trained on.
//!
//! In: an RGB image and a face's 5 dlib landmarks ([`crate::face::landmarks`]). Out: the 150x150
//! RGB chip dlib's `get_face_chip(image, shape, 150, 0.25)` cuts, pixel for pixel ([`align`]). For
//! ArcFace, [`arcface_chip`] cuts InsightFace's 112x112 chip from the detector's own landmarks.
//!
//! dlib fits a similarity transform (rotation, uniform scale, shift) from its 5-point mean face
//! to the landmarks, which gives the chip's rectangle and angle in the image. A chip much
//! smaller than its rectangle is not sampled from the image directly, which would alias: the
//! region is first shrunk with dlib's image pyramid (a [1 4 6 4 1] filter, every second pixel
//! kept) until one chip pixel spans at most two pyramid pixels. Each chip pixel is then sampled
//! bilinearly (black outside the region) and truncated to u8. Every step, including the
//! pyramid's integer arithmetic and where its pixels sit, is dlib's, so the embedder sees the
//! chips it was trained on.
//!
//! Enrolment (cast photos) and matching (video frames) go through this same function.

use image::{Rgb, RgbImage};

use crate::face::landmarks::Parts;

pub const CHIP_SIZE: u32 = 150;

/// dlib's 5-point mean face (`get_face_chip_details`), in the unit square of a chip without
/// padding, in the order of [`Parts`].
const MEAN_FACE: Parts = [
    [0.859_567_4, 0.213_498_15],
    [0.646_060_5, 0.228_967_44],
    [0.120_575_06, 0.213_727_45],
    [0.334_085_06, 0.229_064_24],
    [0.490_112_3, 0.627_797_5],
];

/// Border around the mean face, as a share of its size: dlib's face-recognition example (and
/// face_recognition) cut chips with 0.25.
const PADDING: f64 = 0.25;

type Point = [f64; 2];

/// A rectangle with real coordinates (dlib's `drectangle`, which, like its whole-pixel
/// rectangles, counts right and bottom in: a rectangle from 0 to 9 is 10 wide).
#[derive(Debug, Clone, Copy)]
struct Rect {
    left: f64,
    top: f64,
    right: f64,
    bottom: f64,
}

impl Rect {
    fn area(&self) -> f64 {
        if self.left > self.right || self.top > self.bottom {
            return 0.0;
        }
        (self.right - self.left + 1.0) * (self.bottom - self.top + 1.0)
    }

    fn center(&self) -> Point {
        [
            (self.left + self.right) / 2.0,
            (self.top + self.bottom) / 2.0,
        ]
    }

    /// The same area one pyramid level down: dlib maps a point p to p/2 - (1.25, 0.75).
    fn down(&self) -> Rect {
        Rect {
            left: self.left / 2.0 - 1.25,
            top: self.top / 2.0 - 0.75,
            right: self.right / 2.0 - 1.25,
            bottom: self.bottom / 2.0 - 0.75,
        }
    }

    /// Corner `point` turned by `angle` about the centre.
    fn rotated(&self, [x, y]: Point, angle: f64) -> Point {
        let [cx, cy] = self.center();
        let (sin, cos) = angle.sin_cos();
        let (dx, dy) = (x - cx, y - cy);
        [cos * dx - sin * dy + cx, sin * dx + cos * dy + cy]
    }
}

/// The aligned 150x150 chip of the face with these landmarks.
pub fn align(image: &RgbImage, parts: &Parts) -> RgbImage {
    let (rect, angle) = chip_location(parts);
    extract(image, &rect, angle)
}

/// Where dlib cuts the chip: a rectangle in the image and its rotation (`chip_details` built
/// from the mean face and the landmarks).
fn chip_location(parts: &Parts) -> (Rect, f64) {
    let size = CHIP_SIZE as f64;
    let template: Vec<Point> = MEAN_FACE
        .iter()
        .map(|p| p.map(|c| (PADDING + c as f64) / (2.0 * PADDING + 1.0) * size))
        .collect();
    let targets: Vec<Point> = parts.iter().map(|p| p.map(f64::from)).collect();
    let [a, b, tx, ty] = similarity(&template, &targets);
    let half = size / 2.0;
    let center = [a * half - b * half + tx, b * half + a * half + ty];
    // dlib's centered_drect: `side` wide counting both edges in.
    let reach = (size * a.hypot(b) - 1.0) / 2.0;
    let rect = Rect {
        left: center[0] - reach,
        top: center[1] - reach,
        right: center[0] + reach,
        bottom: center[1] + reach,
    };
    (rect, b.atan2(a))
}

/// The least-squares similarity transform (rotation, uniform scale, shift; no reflection) taking
/// points `from` to points `to`, as `[a, b, tx, ty]`: x' = a x - b y + tx, y' = b x + a y + ty.
/// This is Umeyama's estimate in two dimensions, which dlib and InsightFace both use.
fn similarity(from: &[Point], to: &[Point]) -> [f64; 4] {
    let n = from.len() as f64;
    let mean = |points: &[Point]| -> Point {
        let sum = points
            .iter()
            .fold([0.0, 0.0], |s, p| [s[0] + p[0], s[1] + p[1]]);
        [sum[0] / n, sum[1] / n]
    };
    let (f, t) = (mean(from), mean(to));
    let (mut dot, mut cross, mut norm) = (0.0, 0.0, 0.0);
    for (p, q) in from.iter().zip(to) {
        let (px, py, qx, qy) = (p[0] - f[0], p[1] - f[1], q[0] - t[0], q[1] - t[1]);
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
        norm += px * px + py * py;
    }
    let (a, b) = (dot / norm, cross / norm);
    [
        a,
        b,
        t[0] - (a * f[0] - b * f[1]),
        t[1] - (b * f[0] + a * f[1]),
    ]
}

/// Side of ArcFace's chip.
pub const ARCFACE_CHIP_SIZE: u32 = 112;

/// InsightFace's 5-point template for its 112x112 chips (`arcface_dst`): image-left eye,
/// image-right eye, nose tip, image-left and image-right mouth corner, as CenterFace orders its
/// landmarks.
const ARCFACE_TEMPLATE: [Point; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// ArcFace's 112x112 chip of the face with these detector landmarks, cut as InsightFace cuts
/// it (`face_align.norm_crop`): the similarity transform from the landmarks to its template
/// (fitted in that direction, as `estimate_norm` fits it), then each chip pixel sampled
/// bilinearly at its inverse (OpenCV's `warpAffine`: pixel centres at whole coordinates, black
/// outside the image, rounded). No pyramid: the network was trained on chips cut this way.
pub fn arcface_chip(image: &RgbImage, landmarks: &[[f32; 2]; 5]) -> RgbImage {
    let points: Vec<Point> = landmarks.iter().map(|p| p.map(f64::from)).collect();
    let [a, b, tx, ty] = similarity(&points, &ARCFACE_TEMPLATE);
    // The inverse of x' = a x - b y + tx, y' = b x + a y + ty.
    let scale = a * a + b * b;
    let (ia, ib) = (a / scale, -b / scale);
    let (width, height) = (image.width() as i64, image.height() as i64);
    let at = |x: i64, y: i64| -> [f64; 3] {
        if x < 0 || y < 0 || x >= width || y >= height {
            return [0.0; 3];
        }
        image.get_pixel(x as u32, y as u32).0.map(f64::from)
    };
    RgbImage::from_fn(ARCFACE_CHIP_SIZE, ARCFACE_CHIP_SIZE, |u, v| {
        let (du, dv) = (u as f64 - tx, v as f64 - ty);
        let (x, y) = (ia * du - ib * dv, ib * du + ia * dv);
        let (left, top) = (x.floor(), y.floor());
        let (fx, fy) = (x - left, y - top);
        let (l, t) = (left as i64, top as i64);
        let (tl, tr, bl, br) = (at(l, t), at(l + 1, t), at(l, t + 1), at(l + 1, t + 1));
        Rgb(std::array::from_fn(|c| {
            let value = (1.0 - fy) * ((1.0 - fx) * tl[c] + fx * tr[c])
                + fy * ((1.0 - fx) * bl[c] + fx * br[c]);
            value.round().clamp(0.0, 255.0) as u8
        }))
    })
}

/// dlib's `extract_image_chip` for one chip.
fn extract(image: &RgbImage, chip: &Rect, angle: f64) -> RgbImage {
    let chip_area = (CHIP_SIZE * CHIP_SIZE) as f64;
    // How many pyramid levels bring the rectangle down to about the chip's size, and the
    // border those levels' filters reach into.
    let (mut levels, mut grow) = (0, 2.0);
    let mut shrunk = chip.down();
    while shrunk.area() > chip_area {
        shrunk = shrunk.down();
        levels += 1;
        grow = grow * 2.0 + 2.0;
    }

    // Only the rotated rectangle and that border are worked on, in whole pixels.
    let corners = [
        [chip.left, chip.top],
        [chip.right, chip.top],
        [chip.left, chip.bottom],
        [chip.right, chip.bottom],
    ]
    .map(|c| chip.rotated(c, angle));
    let (width, height) = image.dimensions();
    let bound = |pick: fn(f64, f64) -> f64, axis: usize| {
        corners.iter().map(|c| c[axis]).reduce(pick).unwrap_or(0.0)
    };
    let grown = Rect {
        left: (bound(f64::min, 0) - grow).max(0.0),
        top: (bound(f64::min, 1) - grow).max(0.0),
        right: (bound(f64::max, 0) + grow).min(width as f64 - 1.0),
        bottom: (bound(f64::max, 1) + grow).min(height as f64 - 1.0),
    };
    let mut chip_image = RgbImage::new(CHIP_SIZE, CHIP_SIZE);
    if grown.right < grown.left || grown.bottom < grown.top {
        return chip_image; // the face lies entirely outside the image
    }
    // dlib rounds a real rectangle to whole pixels, right and bottom inclusive.
    let whole = |v: f64| (v + 0.5).floor() as i64;
    let (x0, y0) = (whole(grown.left), whole(grown.top));
    let (x1, y1) = (whole(grown.right), whole(grown.bottom));
    let mut plane = Plane::crop(image, x0, y0, x1, y1);
    for _ in 0..levels {
        plane = plane.down();
    }

    // The chip's rectangle in the working plane's coordinates.
    let mut rect = Rect {
        left: chip.left - x0 as f64,
        top: chip.top - y0 as f64,
        right: chip.right - x0 as f64,
        bottom: chip.bottom - y0 as f64,
    };
    for _ in 0..levels {
        rect = rect.down();
    }
    // The affine map taking chip pixel (0,0), (149,0) and (0,149) to the rotated corners.
    let origin = rect.rotated([rect.left, rect.top], angle);
    let right = rect.rotated([rect.right, rect.top], angle);
    let down = rect.rotated([rect.left, rect.bottom], angle);
    let last = (CHIP_SIZE - 1) as f64;
    let step_x = [(right[0] - origin[0]) / last, (right[1] - origin[1]) / last];
    let step_y = [(down[0] - origin[0]) / last, (down[1] - origin[1]) / last];
    for (c, r, pixel) in chip_image.enumerate_pixels_mut() {
        let (c, r) = (c as f64, r as f64);
        let x = origin[0] + c * step_x[0] + r * step_y[0];
        let y = origin[1] + c * step_x[1] + r * step_y[1];
        if let Some(rgb) = plane.bilinear(x, y) {
            *pixel = Rgb(rgb);
        }
    }
    chip_image
}

/// An RGB region of the image (or a pyramid level of it), row-major.
struct Plane {
    width: usize,
    height: usize,
    pixels: Vec<[u8; 3]>,
}

impl Plane {
    /// Pixels `x0..=x1`, `y0..=y1` of `image`, which must lie inside it.
    fn crop(image: &RgbImage, x0: i64, y0: i64, x1: i64, y1: i64) -> Plane {
        let (width, height) = ((x1 - x0 + 1) as usize, (y1 - y0 + 1) as usize);
        let mut pixels = Vec::with_capacity(width * height);
        for y in y0..=y1 {
            for x in x0..=x1 {
                pixels.push(image.get_pixel(x as u32, y as u32).0);
            }
        }
        Plane {
            width,
            height,
            pixels,
        }
    }

    /// dlib's `pyramid_down<2>` for RGB: a [1 4 6 4 1] filter along rows, every second column
    /// kept, then along columns, every second row kept; integer sums, one division by 256 at
    /// the end (truncating). The result has (n - 3) / 2 pixels per side; smaller than 9 pixels
    /// a side, nothing.
    fn down(&self) -> Plane {
        if self.width <= 8 || self.height <= 8 {
            return Plane {
                width: 0,
                height: 0,
                pixels: Vec::new(),
            };
        }
        const TAPS: [u16; 5] = [1, 4, 6, 4, 1];
        let (width, height) = ((self.width - 3) / 2, (self.height - 3) / 2);
        let mut rows = vec![[0u16; 3]; self.height * width];
        for y in 0..self.height {
            for x in 0..width {
                let mut sum = [0u16; 3];
                for (k, tap) in TAPS.iter().enumerate() {
                    let p = self.pixels[y * self.width + 2 * x + k];
                    for c in 0..3 {
                        sum[c] += tap * p[c] as u16;
                    }
                }
                rows[y * width + x] = sum;
            }
        }
        let mut pixels = vec![[0u8; 3]; width * height];
        for y in 0..height {
            // Output row y is centred on filtered row 2y + 2.
            for x in 0..width {
                let mut sum = [0u16; 3];
                for (k, tap) in TAPS.iter().enumerate() {
                    let p = rows[(2 * y + k) * width + x];
                    for c in 0..3 {
                        sum[c] += tap * p[c];
                    }
                }
                pixels[y * width + x] = sum.map(|s| (s / 256) as u8);
            }
        }
        Plane {
            width,
            height,
            pixels,
        }
    }

    /// Bilinear sample at (x, y); None where any of the four neighbours lies outside.
    fn bilinear(&self, x: f64, y: f64) -> Option<[u8; 3]> {
        let (left, top) = (x.floor(), y.floor());
        if left < 0.0
            || top < 0.0
            || left + 1.0 >= self.width as f64
            || top + 1.0 >= self.height as f64
        {
            return None;
        }
        let (fx, fy) = (x - left, y - top);
        let i = top as usize * self.width + left as usize;
        let (tl, tr) = (self.pixels[i], self.pixels[i + 1]);
        let (bl, br) = (self.pixels[i + self.width], self.pixels[i + self.width + 1]);
        Some(std::array::from_fn(|c| {
            let value = (1.0 - fy) * ((1.0 - fx) * tl[c] as f64 + fx * tr[c] as f64)
                + fy * ((1.0 - fx) * bl[c] as f64 + fx * br[c] as f64);
            value.clamp(0.0, 255.0) as u8
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pyramid_keeps_flat_colour_and_its_size_rule() {
        let plane = Plane {
            width: 21,
            height: 12,
            pixels: vec![[10, 20, 30]; 21 * 12],
        };
        let down = plane.down();
        assert_eq!((down.width, down.height), (9, 4));
        assert!(down.pixels.iter().all(|p| *p == [10, 20, 30]));
        assert_eq!(down.down().pixels.len(), 0, "4 rows are too few to shrink");
    }

    #[test]
    fn chip_of_the_mean_face_is_the_unit_transform() {
        // Landmarks exactly where the chip template puts them: the chip is the image itself.
        let size = CHIP_SIZE as f32;
        let parts = MEAN_FACE.map(|p| p.map(|c| (0.25 + c) / 1.5 * size));
        let (rect, angle) = chip_location(&parts);
        assert!(angle.abs() < 1e-6);
        assert!((rect.area() - (size * size) as f64).abs() < 1e-2);
        // dlib samples chip pixel (x, y) at image point (x + 0.5, y + 0.5).
        assert!((rect.left - 0.5).abs() < 1e-3 && (rect.top - 0.5).abs() < 1e-3);
        let image = RgbImage::from_fn(CHIP_SIZE, CHIP_SIZE, |x, y| Rgb([x as u8, y as u8, 7]));
        let chip = align(&image, &parts);
        // Half a pixel further along a gradient truncates back to the same level (away from the
        // last row and column, whose right and bottom neighbours lie outside).
        for (x, y) in [(0, 0), (10, 90), (148, 3)] {
            assert_eq!(chip.get_pixel(x, y), image.get_pixel(x, y));
        }
    }
}
