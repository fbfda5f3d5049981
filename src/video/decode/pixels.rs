//! Pixels: decoded pictures to RGB. In: a decoded picture (YUV or whatever the decoder gives),
//! with the turn and mirror that shows it upright. Out: the picture, or a part of it, as packed
//! RGB rows at its own size ([`RawFrame`], [`Converter`]), or shrunk to a grey [`Thumbnail`].
//!
//! The converter honours the picture's colour matrix (BT.709 for most HD video) and range when
//! tagged, else assumes BT.601 limited range as FFmpeg does. Pictures are not resized (the
//! detector picks its own input size) and sample aspect ratio is not applied.

use std::ffi::c_int;
use std::path::Path;
use std::ptr::null_mut;
use std::sync::Arc;

use ff::frame;
use ff::software::scaling;
use ff::util::{color, format::Pixel};
use ffmpeg_next as ff;

use crate::error::{Error, Result};

/// Size of the [`Thumbnail`] every decoded frame gets.
pub const THUMBNAIL_WIDTH: u32 = 64;
pub const THUMBNAIL_HEIGHT: u32 = 36;

/// A frame shrunk to [`THUMBNAIL_WIDTH`] x [`THUMBNAIL_HEIGHT`] grey levels (the mean of R, G and
/// B), as the stream stores it (not turned upright): enough to tell one shot from the next, at
/// a cost that does not grow with the frame size.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail(pub Vec<u8>);

/// A decoded picture as the decoder gave it (YUV, not turned upright), moved out of the
/// decoder without a copy. A few of them are worth holding where most will never be looked at:
/// turning one into RGB costs about as much as decoding it.
pub struct RawFrame {
    /// Presentation time in seconds, as [`crate::video::decode::Frame::time`].
    pub time: f64,
    pub(super) picture: frame::Video,
    /// The video's path, which errors name.
    pub(super) path: Arc<Path>,
    pub(super) rotation: u32,
    pub(super) mirrored: bool,
}

impl RawFrame {
    /// A black picture of `width` x `height` shown at `time`, for tests of what is done with
    /// decoded frames without a video.
    #[cfg(test)]
    pub fn blank(time: f64, width: u32, height: u32) -> RawFrame {
        RawFrame {
            time,
            picture: frame::Video::new(Pixel::YUV420P, width, height),
            path: Arc::from(Path::new("blank")),
            rotation: 0,
            mirrored: false,
        }
    }

    /// Width and height of the upright picture.
    pub fn size(&self) -> (u32, u32) {
        let (w, h) = (self.picture.width(), self.picture.height());
        match self.rotation {
            90 | 270 => (h, w),
            _ => (w, h),
        }
    }

    /// Bytes the picture holds.
    pub fn bytes(&self) -> usize {
        (0..self.picture.planes())
            .map(|plane| self.picture.data(plane).len())
            .sum()
    }

    /// The picture in RGB, turned upright, as [`crate::video::decode::VideoReader::next_frame`]
    /// gives it.
    pub fn to_rgb(&self) -> Result<image::RgbImage> {
        let (w, h, pixels) = self.convert(&self.picture)?;
        Ok(upright(w, h, pixels, self.rotation, self.mirrored))
    }

    /// The part `(x, y, width, height)` of the upright picture in RGB: the same pixels as
    /// cropping [`RawFrame::to_rgb`], at a fraction of the cost for a small part (only it is
    /// converted) where the picture is stored upright.
    pub fn region_to_rgb(
        &self,
        (x, y, width, height): (u32, u32, u32, u32),
    ) -> Result<image::RgbImage> {
        let (full_w, full_h) = self.size();
        let (x, y) = (x.min(full_w), y.min(full_h));
        let (width, height) = (width.min(full_w - x), height.min(full_h - y));
        // A stored picture that is turned or mirrored is converted whole, then cropped.
        if self.rotation != 0 || self.mirrored || width == 0 || height == 0 {
            let image = self.to_rgb()?;
            return Ok(image::imageops::crop_imm(&image, x, y, width, height).to_image());
        }
        // The part converted starts and ends on the colour planes' grid (even pixels in
        // 4:2:0), and the extra column or row is cut off after. Cut across it, each pixel took
        // its neighbour's colour sample, and an odd width made swscale interpolate colour: up
        // to 41 levels off (measured on fotb.mp4), so a face's edge was searched for in other
        // pixels than the frames it was followed in.
        let (chroma_w, chroma_h) = self
            .picture
            .format()
            .descriptor()
            .map_or((0, 0), |d| (d.log2_chroma_w(), d.log2_chroma_h()));
        let down = |v: u32, shift: u8| (v >> shift) << shift;
        let up = |v: u32, shift: u8, limit: u32| (v.div_ceil(1 << shift) << shift).min(limit);
        let (left, top) = (down(x, chroma_w), down(y, chroma_h));
        let (right, bottom) = (
            up(x + width, chroma_w, full_w),
            up(y + height, chroma_h, full_h),
        );
        let mut part = frame::Video::empty();
        // SAFETY: `part` takes a new reference to the same buffers (nothing is copied or freed
        // twice), and the crop fields stay inside the picture, so the cropping only moves
        // `part`'s plane pointers within them.
        let cropped = unsafe {
            let (to, from) = (part.as_mut_ptr(), self.picture.as_ptr());
            ff::ffi::av_frame_ref(to, from) >= 0 && {
                (*to).crop_left = left as usize;
                (*to).crop_top = top as usize;
                (*to).crop_right = (full_w - right) as usize;
                (*to).crop_bottom = (full_h - bottom) as usize;
                ff::ffi::av_frame_apply_cropping(to, ff::ffi::AV_FRAME_CROP_UNALIGNED as c_int) >= 0
            }
        };
        if !cropped {
            return Err(Error::Video {
                path: self.path.to_path_buf(),
                reason: "cannot crop a decoded picture".into(),
            });
        }
        let (w, h, pixels) = self.convert(&part)?;
        let image = image::RgbImage::from_raw(w, h, pixels).expect("exact size");
        if (left, top, right, bottom) == (x, y, x + width, y + height) {
            return Ok(image);
        }
        Ok(image::imageops::crop_imm(&image, x - left, y - top, width, height).to_image())
    }

    fn convert(&self, picture: &frame::Video) -> Result<(u32, u32, Vec<u8>)> {
        let fail = |reason: String| Error::Video {
            path: self.path.to_path_buf(),
            reason,
        };
        let key = ConverterKey::of(picture);
        let mut converter = Converter::new(key, false)
            .map_err(|e| fail(format!("cannot convert {:?} to RGB: {e}", key.format)))?;
        converter
            .convert(picture)
            .map_err(|e| fail(format!("cannot convert to RGB: {e}")))
    }
}

/// YUV (or whatever the decoder gives) to RGB24 at the same size (or the thumbnail's).
pub(super) struct Converter {
    pub(super) key: ConverterKey,
    scaler: scaling::Context,
}

/// Pixels in a row as swscale writes it: a width rounded up to this, as in FFmpeg's RGB frames
/// (`av_frame_get_buffer` with ffmpeg-next's alignment of 32 bytes).
const ROW_PIXELS: u32 = 32;
/// Bytes past the last row that SIMD stores may reach; FFmpeg's frames keep more
/// (`av_frame_get_buffer` pads the height to 32 rows).
const FRAME_SLACK: usize = 64;

#[derive(PartialEq, Eq, Clone, Copy)]
pub(super) struct ConverterKey {
    pub(super) format: Pixel,
    width: u32,
    height: u32,
    space: color::Space,
    range: color::Range,
}

/// Packed RGB rows as an image turned `rotation` degrees clockwise, then mirrored if asked.
pub(super) fn upright(
    w: u32,
    h: u32,
    pixels: Vec<u8>,
    rotation: u32,
    mirrored: bool,
) -> image::RgbImage {
    let image = image::RgbImage::from_raw(w, h, pixels).expect("exact size");
    let mut image = match rotation {
        90 => image::imageops::rotate90(&image),
        180 => image::imageops::rotate180(&image),
        270 => image::imageops::rotate270(&image),
        _ => image,
    };
    if mirrored {
        image::imageops::flip_horizontal_in_place(&mut image);
    }
    image
}

impl ConverterKey {
    pub(super) fn of(f: &frame::Video) -> ConverterKey {
        ConverterKey {
            format: f.format(),
            width: f.width(),
            height: f.height(),
            space: f.color_space(),
            range: f.color_range(),
        }
    }
}

impl Converter {
    /// `picture` as packed RGB rows at the converter's output size.
    pub(super) fn convert(
        &mut self,
        picture: &frame::Video,
    ) -> std::result::Result<(u32, u32, Vec<u8>), ff::Error> {
        let (input, output) = (*self.scaler.input(), *self.scaler.output());
        if (picture.format(), picture.width(), picture.height())
            != (input.format, input.width, input.height)
        {
            return Err(ff::Error::InputChanged);
        }
        let (w, h) = (output.width, output.height);
        let (row, rows) = (w as usize * 3, h as usize);
        // swscale writes into the image's own buffer: going through a frame and copying its
        // rows out cost 3% of a 1080p run (perf). Its rows are as long as a frame's, whole
        // groups of 32 pixels: its SIMD writes 8 pixels at a time and leaves those that do not
        // fit in a row unwritten (in rows rounded up to 32 bytes instead, a 50-pixel part lost its
        // last two). The rows are moved together after, where the width is not a multiple of 32.
        let stride = 3 * w.next_multiple_of(ROW_PIXELS) as usize;
        let mut pixels = Vec::<u8>::with_capacity(stride * rows + FRAME_SLACK);
        let dst = [pixels.as_mut_ptr(), null_mut(), null_mut(), null_mut()];
        let dst_stride = [
            c_int::try_from(stride).map_err(|_| ff::Error::InvalidData)?,
            0,
            0,
            0,
        ];
        // SAFETY: the source planes and strides are the picture's own, of the format and size
        // the context was made for (checked above); the destination holds `rows` rows of
        // `stride` bytes, of which swscale writes the first `row` of each.
        let written = unsafe {
            ff::ffi::sws_scale(
                self.scaler.as_mut_ptr(),
                (*picture.as_ptr()).data.as_ptr() as *const *const u8,
                (*picture.as_ptr()).linesize.as_ptr(),
                0,
                input.height as c_int,
                dst.as_ptr(),
                dst_stride.as_ptr(),
            )
        };
        if written != h as c_int {
            return Err(if written < 0 {
                ff::Error::from(written)
            } else {
                ff::Error::Bug
            });
        }
        if stride != row {
            let base = pixels.as_mut_ptr();
            for y in 1..rows {
                // SAFETY: both ranges lie in the buffer; the row written at `y * stride` moves
                // down to `y * row`, over rows already moved (`ptr::copy` allows the overlap).
                unsafe { std::ptr::copy(base.add(y * stride), base.add(y * row), row) };
            }
        }
        // SAFETY: the first `row * rows` bytes now hold the rows swscale wrote, in order.
        unsafe { pixels.set_len(row * rows) };
        Ok((w, h, pixels))
    }

    /// A converter to RGB at the picture's size, or to the thumbnail's.
    pub(super) fn new(
        key: ConverterKey,
        thumbnail: bool,
    ) -> std::result::Result<Converter, ff::Error> {
        let (width, height, flags) = if thumbnail {
            // Fast bilinear reads only the pixels next to each sample point: a 1080p frame
            // shrinks in microseconds, and a cut changes the samples as much as the picture.
            (
                THUMBNAIL_WIDTH,
                THUMBNAIL_HEIGHT,
                scaling::Flags::FAST_BILINEAR,
            )
        } else {
            // Same size in and out: only the chroma upsampling uses the filter.
            (key.width, key.height, scaling::Flags::BILINEAR)
        };
        let mut scaler = scaling::Context::get(
            key.format,
            key.width,
            key.height,
            Pixel::RGB24,
            width,
            height,
            flags,
        )?;
        let matrix = match key.space {
            color::Space::BT709 => Some(ff::ffi::SWS_CS_ITU709),
            color::Space::FCC => Some(ff::ffi::SWS_CS_FCC),
            color::Space::BT470BG | color::Space::SMPTE170M => Some(ff::ffi::SWS_CS_ITU601),
            color::Space::SMPTE240M => Some(ff::ffi::SWS_CS_SMPTE240M),
            color::Space::BT2020NCL | color::Space::BT2020CL => Some(ff::ffi::SWS_CS_BT2020),
            _ => None,
        };
        let full_range = key.range == color::Range::JPEG
            || matches!(
                key.format,
                Pixel::YUVJ420P | Pixel::YUVJ422P | Pixel::YUVJ444P | Pixel::YUVJ440P
            );
        if matrix.is_some() || full_range {
            let matrix = matrix.unwrap_or(ff::ffi::SWS_CS_DEFAULT);
            // SAFETY: the context is valid for the scaler's lifetime; the coefficient tables are
            // static in libswscale. Unsupported combinations (e.g. RGB input) are refused with a
            // negative return and leave the defaults, which is what we want then.
            unsafe {
                let table = ff::ffi::sws_getCoefficients(matrix);
                ff::ffi::sws_setColorspaceDetails(
                    scaler.as_mut_ptr(),
                    table,
                    c_int::from(full_range),
                    ff::ffi::sws_getCoefficients(ff::ffi::SWS_CS_DEFAULT),
                    1,
                    0,
                    1 << 16,
                    1 << 16,
                );
            }
        }
        Ok(Converter { key, scaler })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pictures_are_turned_clockwise_then_mirrored() {
        // Two pixels side by side, red then blue.
        let pixels = || vec![255, 0, 0, 0, 0, 255];
        let pixel = |image: &image::RgbImage, x, y| image.get_pixel(x, y).0;
        let turned = upright(2, 1, pixels(), 90, false);
        assert_eq!(turned.dimensions(), (1, 2));
        assert_eq!(pixel(&turned, 0, 0), [255, 0, 0]);
        let mirrored = upright(2, 1, pixels(), 0, true);
        assert_eq!(pixel(&mirrored, 0, 0), [0, 0, 255]);
        let both = upright(2, 1, pixels(), 270, true);
        assert_eq!(
            (both.dimensions(), pixel(&both, 0, 0)),
            ((1, 2), [0, 0, 255])
        );
        assert_eq!(
            upright(2, 1, pixels(), 180, false).into_raw(),
            [0, 0, 255, 255, 0, 0]
        );
    }
}
