//! A track's best face, kept as JPEG until the video is seen: 8 KB a track on average, where the
//! image itself takes 94 KB (measured on the faces of the test videos), so one per track fits in
//! memory for a whole film.
//! The one place that encodes and decodes them.

use fast_image_resize::{self as fr, Resizer};
use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use image::imageops;

use crate::face::detect::BBox;

/// Longest side of a kept face picture.
const PICTURE_SIDE: u32 = 200;

/// A track's best face, as JPEG: small enough to keep one per track for a whole film.
#[derive(Debug, Clone)]
pub struct Picture {
    pub quality: f32,
    pub jpeg: Vec<u8>,
}

impl Picture {
    /// `image` as a picture of this quality; None only on an encoder bug (a track then has no
    /// picture).
    pub fn encode(quality: f32, image: &RgbImage) -> Option<Picture> {
        let mut jpeg = Vec::new();
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(image)
            .ok()
            .map(|()| Picture { quality, jpeg })
    }

    /// The picture as an image again (for the contact sheet).
    pub fn image(&self) -> image::ImageResult<RgbImage> {
        image::load_from_memory(&self.jpeg).map(|i| i.into_rgb8())
    }
}

/// The face with as much again around it, at most `PICTURE_SIDE` a side: framed like a
/// portrait, so it can serve as a cast photo.
pub fn crop(image: &RgbImage, bbox: &BBox) -> RgbImage {
    let (width, height) = image.dimensions();
    // A face found in the image overlaps it, so the crop is never empty.
    let (x, y, w, h) = bbox.scaled(2.0).pixels_within(width, height);
    if w.max(h) <= PICTURE_SIDE {
        return imageops::crop_imm(image, x, y, w, h).to_image();
    }
    let scale = PICTURE_SIDE as f32 / w.max(h) as f32;
    let size = |n: u32| ((n as f32 * scale).round() as u32).max(1);
    let mut picture = RgbImage::new(size(w), size(h));
    // Scaled straight out of the frame, bilinear with a support that widens as the picture
    // shrinks (as image's Triangle filter), with SIMD: a track's best face is cropped again each
    // time a better one comes, which with image's resize took 2% of a 1080p run.
    let options = fr::ResizeOptions::new()
        .resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Bilinear))
        .crop(x as f64, y as f64, w as f64, h as f64);
    Resizer::new()
        .resize(image, &mut picture, &options)
        .expect("an RGB8 crop inside the image into an RGB8 picture");
    picture
}
