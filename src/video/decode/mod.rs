//! Video decoding: a video file in, its frames out.
//!
//! [`VideoReader::open`] takes a path and picks the file's main video stream (cover art and other
//! attached pictures are never chosen); [`VideoReader::info`] describes it.
//! [`VideoReader::next_frame`] then yields every frame of that stream once, in the order the
//! decoder outputs them, which is presentation order, each with its presentation time and its own
//! duration in seconds and, when asked for, its picture as an [`image::RgbImage`], upright at the
//! stream's own size.
//!
//! Choices, and why:
//!
//! - **Timestamps come from each frame**, never from index/fps: `time` is the frame's best-effort
//!   timestamp (FFmpeg's guess that survives missing or reordered pts) minus the stream's start
//!   time, so the first frame is at about 0 and variable-frame-rate files are timed right.
//!   `duration` is the gap to the next frame's time, so the reader decodes one frame ahead. The
//!   container's per-packet durations cannot be used for that: they are decode-order gaps, and
//!   FFmpeg's MP4 muxer writes a constant one even for VFR video (measured on the files
//!   `tests/tools/make_video.py` makes). Only the last frame takes the container's duration, else
//!   1/average frame rate. Screen time is a sum of frame durations, so both must be right.
//! - **Decoding is multithreaded when asked**: the decoder is offered frame and slice threading,
//!   and FFmpeg uses frame threading where the codec has it (it is what scales for H.264/HEVC)
//!   and slice threading otherwise. Frame threading delays output by a frame per thread, which
//!   only costs a little memory here, and takes more CPU time in all than one thread does (13%
//!   with 2 threads on the bench's 1080p input, `ffmpeg -skip_frame noref`): a caller whose other
//!   threads keep the cores busy decodes on one thread, and
//!   [`VideoReader::use_threads`] gives the decoder more once they do not. The decoder cannot
//!   change its threads while open, so it is opened again at the next keyframe, after the old
//!   one has given out every frame it holds.
//! - **RGB only on request**: a strided run skips most frames, and the YUV to RGB conversion
//!   costs about as much as decoding, so `next_frame` converts only what [`Keep`] asks for. A
//!   frame may instead be kept as decoded ([`RawFrame`], moved out of the decoder without a
//!   copy) and converted later, whole or a small part of it, only if it turns out to be needed.
//!   The converter is made
//!   once and reused; it is rebuilt only when the decoded size, pixel format or colour tagging
//!   changes mid-stream. It honours the stream's colour matrix (BT.709 for most HD video) and
//!   range when tagged, else assumes BT.601 limited range as FFmpeg does. Frames are not resized
//!   here (the detector picks its own input size) and sample aspect ratio is not applied.
//! - **Pictures are turned upright**, as `ffplay` and the `ffmpeg` tool show them: phones store
//!   video as the sensor sees it and record how to turn it in the stream's display matrix (or, in
//!   older files, a `rotate` tag, used only when there is no matrix). Quarter turns are applied
//!   to the RGB picture and [`VideoInfo`] reports the turned size and [`VideoInfo::rotation`];
//!   other angles (more than 1° off a quarter turn, as FFmpeg judges it) are ignored. A matrix
//!   that also mirrors the picture is taken apart into its turn and a mirror, and both are
//!   applied ([`VideoInfo::mirrored`]): read as one turn, a mirror looks like half a turn, and
//!   faces upside down are not found.
//! - **Time only goes forward**: files joined with `cat` (MPEG-TS recordings, say) start their
//!   timestamps again from their own beginning, and a format that allows jumps (MPEG-TS) may leap
//!   ahead. A frame whose time goes back, or in such a format leaps more than
//!   [`MAX_TIMESTAMP_GAP`] ahead, continues from the end of the frame before, and so does every
//!   frame after it, so that the second half is neither skipped by a stride nor counted over the
//!   first.
//! - **Damage does not stop a run**: a packet that fails to read or decode is counted
//!   ([`VideoReader::damaged_packets`]) and skipped, as the `ffmpeg` tool does. Only errors that
//!   make further decoding impossible (an I/O error, out of memory, or a long unbroken run of
//!   failures meaning the stream is undecodable) are returned as errors.
//! - **FFmpeg's own logging is silenced** (fatal messages only), process-wide, on first use: a
//!   damaged region prints hundreds of decoder lines that would bury the tool's own output; the
//!   damage is reported through the count instead.
//!
//! Every failure is an [`Error::Video`] naming the file and a short reason.

use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::ptr::null_mut;
use std::sync::{Arc, Once};

use ff::codec::packet::side_data;
use ff::software::scaling;
use ff::util::{color, format::Pixel};
use ff::{Dictionary, Discard, Packet, Rational, codec, format, frame, media};
use ffmpeg_next as ff;

use crate::error::{Error, Result};
use crate::video::clock::FrameClock;

/// After this many packets in a row fail to read or decode, with no frame in between, the
/// stream is taken as undecodable rather than damaged.
const MAX_FAILURES_IN_A_ROW: u64 = 1000;

/// The longest gap between two frames taken as real in a format whose timestamps may jump
/// (FFmpeg's `ffmpeg` tool takes the same 10 s for such formats); more is a discontinuity.
pub const MAX_TIMESTAMP_GAP: f64 = 10.0;

/// The largest frame screentime decodes, in pixels: 36 megapixels (8K video is 33 to 35). A
/// decoder holds whole frames, several at once, and the job a few more: a small file declaring
/// 16000x16000 frames (a 1.8 MB FFV1 file) would take gigabytes. A stream declaring more is
/// refused when opened; a frame growing past it mid-stream is refused by the decoder itself
/// (FFmpeg's `max_pixels`), before it allocates, and counts as damage.
pub const MAX_VIDEO_PIXELS: u64 = 36_000_000;

/// FFmpeg's demuxers of raw elementary streams: their packets carry no timestamps (the
/// demuxer makes them up from a guessed rate, and frames the decoder skips lose their time), so
/// neither a frame's time nor the count of frames in a stretch could be trusted.
const RAW_STREAMS: [&str; 14] = [
    "h264",
    "hevc",
    "vvc",
    "m4v",
    "h261",
    "h263",
    "cavsvideo",
    "mpegvideo",
    "vc1",
    "dirac",
    "avs2",
    "avs3",
    "mjpeg",
    "obu",
];

/// Size of the [`Thumbnail`] every decoded frame gets.
pub const THUMBNAIL_WIDTH: u32 = 64;
pub const THUMBNAIL_HEIGHT: u32 = 36;

/// A frame shrunk to [`THUMBNAIL_WIDTH`] x [`THUMBNAIL_HEIGHT`] grey levels (the mean of R, G and
/// B), as the stream stores it (not turned upright): enough to tell one shot from the next, at
/// a cost that does not grow with the frame size.
#[derive(Debug, Clone, PartialEq)]
pub struct Thumbnail(pub Vec<u8>);

/// What a video is, as far as the container and codec say before decoding.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VideoInfo {
    pub path: PathBuf,
    /// Size of the pictures as shown, in pixels: rotation applied (the stored size with width and
    /// height swapped when `rotation` is 90 or 270), sample aspect ratio not.
    pub width: u32,
    pub height: u32,
    /// Degrees clockwise (0, 90, 180 or 270) the stored pictures are turned to show them upright;
    /// [`VideoReader::next_frame`] has done it already.
    pub rotation: u32,
    /// Whether the pictures are shown mirrored left to right, after the rotation;
    /// [`VideoReader::next_frame`] has done it already.
    pub mirrored: bool,
    /// Codec short name, e.g. "h264".
    pub codec: String,
    /// Average frame rate, if known.
    pub frame_rate: Option<f64>,
    /// Whether frames last unequally: the average rate differs from the stream's base rate (as
    /// in most phone videos).
    pub variable_rate: bool,
    /// Seconds, from the stream or else the container, if known.
    pub duration: Option<f64>,
    /// The stream's frame count, if the container records it (good enough for a progress bar).
    pub frames: Option<u64>,
    /// The file's size in bytes (none for a URL): with the duration and frame rate, what tells
    /// a result's video from another (`screentime score` checks it).
    pub bytes: Option<u64>,
}

/// One decoded frame.
pub struct Frame {
    /// 0-based index of this frame among the frames the decoder has output.
    pub index: u64,
    /// Presentation time in seconds from the stream start (the first frame is about 0.0).
    pub time: f64,
    /// How long this frame is shown, in seconds: until the next frame's time; for the last frame
    /// (or a next frame that is not later), the container's duration for it, else 1/frame rate,
    /// else 0.
    pub duration: f64,
    /// The picture, only when asked for.
    pub image: Option<image::RgbImage>,
    /// The picture as decoded, only when asked for: kept at no cost, turned into RGB later
    /// only if needed.
    pub raw: Option<RawFrame>,
}

/// What to keep of a frame, beyond its time and thumbnail (see [`VideoReader::next_frame`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    Nothing,
    /// The decoded picture, as a [`RawFrame`].
    Raw,
    /// The picture in RGB, and the decoded one.
    Rgb,
}

/// A decoded picture as the decoder gave it (YUV, not turned upright), moved out of the
/// decoder without a copy. A few of them are worth holding where most will never be looked at:
/// turning one into RGB costs about as much as decoding it.
pub struct RawFrame {
    /// Presentation time in seconds, as [`Frame::time`].
    pub time: f64,
    picture: frame::Video,
    path: Arc<Path>,
    rotation: u32,
    mirrored: bool,
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

    /// The picture in RGB, turned upright, as [`VideoReader::next_frame`] gives it.
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

impl std::fmt::Debug for Frame {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Frame")
            .field("index", &self.index)
            .field("time", &self.time)
            .field("duration", &self.duration)
            .field("image", &self.image.as_ref().map(|i| i.dimensions()))
            .field("raw", &self.raw.is_some())
            .finish()
    }
}

/// Decodes one video file frame by frame. See the module documentation.
pub struct VideoReader {
    info: VideoInfo,
    /// `info.path`, shared with the [`RawFrame`]s, whose errors name it.
    path: Arc<Path>,
    input: format::context::Input,
    decoder: ff::decoder::Video,
    /// What the decoder is opened from, again when its threads change.
    parameters: codec::Parameters,
    /// The decoder's threads (0: FFmpeg's choice).
    threads: usize,
    /// Threads asked for by [`VideoReader::use_threads`], from the next keyframe.
    threads_asked: Option<usize>,
    /// The keyframe a decoder opened with `threads_asked` starts from, while the old one
    /// gives out its last frames.
    keyframe: Option<Packet>,
    /// What [`VideoReader::skip_non_reference_frames`] set, for a decoder opened again.
    skip: Option<Discard>,
    stream_index: usize,
    /// Seconds per timestamp tick of the stream.
    time_base: f64,
    /// The stream's start, in ticks, subtracted from every timestamp.
    start: i64,
    /// Seconds per frame at the average frame rate, or 0 when unknown.
    nominal_duration: f64,
    /// The frame to return next (its picture), when `pending` is Some.
    current: frame::Video,
    pending: Option<Decoded>,
    /// Where the decoder writes; swapped with `current`.
    ahead: frame::Video,
    converter: Option<Converter>,
    shrinker: Option<Converter>,
    /// Every packet's time: the video's frames, decoded or skipped.
    clock: FrameClock,
    next_index: u64,
    /// End of the last frame decoded, for a frame that has no timestamp at all.
    previous_end: f64,
    /// Time of the last frame decoded: a frame's time is never less.
    previous_time: Option<f64>,
    /// Seconds added to the stream's timestamps since its discontinuities.
    offset: f64,
    /// The format allows timestamps to jump (MPEG-TS).
    may_jump: bool,
    draining: bool,
    damaged: u64,
    damaged_frames: u64,
    failures_in_a_row: u64,
}

// SAFETY: every FFmpeg object in here (demuxer, decoder, frames, swscale context) is owned by the
// reader alone and only touched through `&mut self`; none has thread affinity. ffmpeg-next marks
// all but the swscale context `Send`, and that one is a plain heap object freed on drop.
unsafe impl Send for VideoReader {}

/// Timing of a decoded frame, before its successor is known.
#[derive(Clone, Copy)]
struct Decoded {
    time: f64,
    /// Its duration when there is no later frame to measure it by.
    fallback_duration: f64,
}

/// YUV (or whatever the decoder gives) to RGB24 at the same size (or the thumbnail's).
struct Converter {
    key: ConverterKey,
    scaler: scaling::Context,
}

/// Pixels in a row as swscale writes it: a width rounded up to this, as in FFmpeg's RGB frames
/// (`av_frame_get_buffer` with ffmpeg-next's alignment of 32 bytes).
const ROW_PIXELS: u32 = 32;
/// Bytes past the last row that SIMD stores may reach; FFmpeg's frames keep more
/// (`av_frame_get_buffer` pads the height to 32 rows).
const FRAME_SLACK: usize = 64;

#[derive(PartialEq, Eq, Clone, Copy)]
struct ConverterKey {
    format: Pixel,
    width: u32,
    height: u32,
    space: color::Space,
    range: color::Range,
}

static INIT: Once = Once::new();

pub(crate) fn init() {
    INIT.call_once(|| {
        // ffmpeg-next's init only registers devices (and formats on old FFmpeg); it cannot fail.
        let _ = ff::init();
        ff::util::log::set_level(ff::util::log::Level::Fatal);
    });
}

/// A decoder for the stream `parameters` describe, with `threads` threads (0: FFmpeg's choice).
fn open_decoder(
    parameters: &codec::Parameters,
    time_base: Rational,
    threads: usize,
) -> std::result::Result<ff::decoder::Video, String> {
    let context = codec::Context::from_parameters(parameters.clone())
        .map_err(|e| format!("cannot read the stream parameters: {e}"))?;
    let name = context.id().name();
    let codec = ff::decoder::find(context.id()).ok_or(format!("no decoder for {name} video"))?;
    let mut decoder = context.decoder();
    decoder.set_packet_time_base(time_base);
    let mut options = Dictionary::new();
    let count = match threads {
        0 => "auto".to_string(),
        n => n.to_string(),
    };
    options.set("threads", &count);
    options.set("thread_type", "frame+slice");
    options.set("max_pixels", &MAX_VIDEO_PIXELS.to_string());
    decoder
        .open_as_with(codec, options)
        .and_then(|d| d.video())
        .map_err(|e| format!("cannot open the {name} decoder: {e}"))
}

fn seconds(r: Rational) -> Option<f64> {
    (r.numerator() > 0 && r.denominator() > 0).then(|| f64::from(r))
}

impl VideoReader {
    /// Opens the video file at `path` and its main video stream. `threads`: decoder threads
    /// (0 = let FFmpeg choose, from the CPU count). `path` is a file whatever it looks like:
    /// `clip:1.ts` is not FFmpeg's protocol `clip` (see [`VideoReader::open_url`]).
    pub fn open(path: &Path, threads: usize) -> Result<VideoReader> {
        VideoReader::open_source(path, false, threads)
    }

    /// Opens `url` (http://, rtsp://, ...: what FFmpeg's protocols read) and its main video
    /// stream, as [`VideoReader::open`] does a file.
    pub fn open_url(url: &str, threads: usize) -> Result<VideoReader> {
        VideoReader::open_source(Path::new(url), true, threads)
    }

    fn open_source(path: &Path, url: bool, threads: usize) -> Result<VideoReader> {
        init();
        let fail = |reason: String| Error::Video {
            path: path.to_path_buf(),
            reason,
        };
        if !url && path.is_dir() {
            return Err(fail("not a file".into()));
        }
        // ffmpeg-next panics on a path it cannot pass to C as UTF-8.
        let Some(text) = path.to_str().filter(|p| !p.contains('\0')) else {
            return Err(fail("path is not valid UTF-8".into()));
        };
        if !url && text.contains("://") && !path.exists() {
            return Err(fail(
                "cannot open: no such file (to open a URL, add --url)".into(),
            ));
        }
        // FFmpeg takes a name with a colon for a protocol and its address; its file protocol
        // takes the rest of the name as it is.
        let location = if url {
            text.to_string()
        } else {
            format!("file:{text}")
        };
        let input = format::input(&location).map_err(|e| fail(format!("cannot open: {e}")))?;
        let format_name = input.format().name().to_string();
        if RAW_STREAMS.contains(&format_name.as_str()) {
            return Err(fail(format!(
                "a raw {format_name} stream, without timestamps: its frames cannot be timed; put \
                 it in a container first (ffmpeg -framerate FPS -i FILE -c copy video.mp4)"
            )));
        }
        // SAFETY: an open input's format is set, and stays so while it is open.
        let may_jump = unsafe { (*input.format().as_ptr()).flags } & ff::ffi::AVFMT_TS_DISCONT != 0;

        let stream = pick_stream(&input).ok_or_else(|| fail("no video stream".into()))?;
        let stream_index = stream.index();
        let tb = stream.time_base();
        let time_base = seconds(tb).unwrap_or(0.0);
        let start = match stream.start_time() {
            ff::ffi::AV_NOPTS_VALUE => 0,
            t => t,
        };
        let frame_rate = seconds(stream.avg_frame_rate());
        let variable_rate = match (frame_rate, seconds(stream.rate())) {
            (Some(average), Some(base)) => (average / base - 1.0).abs() > 1e-3,
            _ => false,
        };
        let duration = match stream.duration() {
            d if d > 0 && d != ff::ffi::AV_NOPTS_VALUE => Some(d as f64 * time_base),
            _ => match input.duration() {
                d if d > 0 && d != ff::ffi::AV_NOPTS_VALUE => {
                    Some(d as f64 / f64::from(ff::ffi::AV_TIME_BASE))
                }
                _ => None,
            },
        };
        let frames = u64::try_from(stream.frames()).ok().filter(|&n| n > 0);
        let (rotation, mirrored) = orientation(&stream);

        let parameters = stream.parameters().clone();
        let codec_name = parameters.id().name().to_string();
        // Before the decoder opens: it would refuse the size in words of its own ("Invalid
        // argument").
        // SAFETY: the parameters were copied from an open stream and stay valid while held.
        let (stored_width, stored_height) =
            unsafe { ((*parameters.as_ptr()).width, (*parameters.as_ptr()).height) };
        let pixels =
            u64::try_from(stored_width).unwrap_or(0) * u64::try_from(stored_height).unwrap_or(0);
        if pixels > MAX_VIDEO_PIXELS {
            return Err(fail(format!(
                "{stored_width}x{stored_height} frames are more than screentime decodes ({} \
                 megapixels)",
                MAX_VIDEO_PIXELS / 1_000_000
            )));
        }
        let decoder = open_decoder(&parameters, tb, threads).map_err(fail)?;

        let (width, height) = match rotation {
            90 | 270 => (decoder.height(), decoder.width()),
            _ => (decoder.width(), decoder.height()),
        };
        let info = VideoInfo {
            path: path.to_path_buf(),
            width,
            height,
            rotation,
            mirrored,
            codec: codec_name,
            frame_rate,
            variable_rate,
            duration,
            frames,
            bytes: (!url)
                .then(|| std::fs::metadata(path).ok().map(|m| m.len()))
                .flatten(),
        };
        Ok(VideoReader {
            path: Arc::from(path),
            info,
            input,
            decoder,
            parameters,
            threads,
            threads_asked: None,
            keyframe: None,
            skip: None,
            stream_index,
            time_base,
            start,
            nominal_duration: frame_rate.map_or(0.0, |r| 1.0 / r),
            current: frame::Video::empty(),
            pending: None,
            ahead: frame::Video::empty(),
            converter: None,
            shrinker: None,
            clock: FrameClock::default(),
            next_index: 0,
            previous_end: 0.0,
            previous_time: None,
            offset: 0.0,
            may_jump,
            draining: false,
            damaged: 0,
            damaged_frames: 0,
            failures_in_a_row: 0,
        })
    }

    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// From now on the decoder skips frames no other frame is predicted from (most B-frames),
    /// which it can do without decoding them: a strided run, which looks at few frames, then
    /// decodes fewer. Those frames never come out of [`VideoReader::next_frame`].
    pub fn skip_non_reference_frames(&mut self) {
        self.decoder.skip_frame(Discard::NonReference);
        self.skip = Some(Discard::NonReference);
    }

    /// Decodes with `threads` threads from the next keyframe on (0: FFmpeg's choice). The
    /// decoder now gives out every frame it holds first, so the frames come out as before, but
    /// for one thing: at a keyframe that opens its group of pictures (HEVC's CRA, H.264's
    /// recovery points), the few frames shown before it that refer to earlier pictures cannot
    /// be decoded by the new decoder and are skipped, as non-reference frames can be (measured:
    /// one frame on an x265 4K clip; none on x264's closed groups).
    pub fn use_threads(&mut self, threads: usize) {
        self.threads_asked = (threads != self.threads).then_some(threads);
    }

    /// The decoder's threads now (0: FFmpeg's choice).
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// The times of the stream's frames, decoded or skipped, once every frame is read.
    pub fn into_clock(mut self) -> FrameClock {
        self.clock.finish();
        self.clock
    }

    /// Packets that failed to read or decode and were skipped so far.
    pub fn damaged_packets(&self) -> u64 {
        self.damaged
    }

    /// Frames the decoder flagged as damaged (it conceals the errors, so they still come out).
    pub fn damaged_frames(&self) -> u64 {
        self.damaged_frames
    }

    /// Whether the frames' times were moved to keep time going forward (joined recordings, a
    /// leap ahead): the container's duration then measures a different timeline.
    pub fn time_moved(&self) -> bool {
        self.offset != 0.0
    }

    /// The next frame, with what `keep` asks for given the frame's time and thumbnail.
    /// `Ok(None)` at the end of the stream, after the decoder's buffered frames are flushed out,
    /// and on every call after.
    pub fn next_frame(
        &mut self,
        keep: impl FnOnce(f64, &Thumbnail) -> Keep,
    ) -> Result<Option<Frame>> {
        // Decoding runs one frame ahead: a frame's duration is the gap to the next one's time,
        // which is the only duration that is right for variable frame rate (a packet's
        // container duration is a decode-order gap, and muxers often write a constant one).
        let current = match self.pending.take() {
            Some(current) => current,
            None => match self.receive()? {
                Some(first) => {
                    std::mem::swap(&mut self.current, &mut self.ahead);
                    first
                }
                None => return Ok(None),
            },
        };
        let next = self.receive()?;
        let duration = match next {
            Some(next) if next.time > current.time => next.time - current.time,
            _ => current.fallback_duration,
        };
        let thumbnail = self.thumbnail()?;
        let keep = keep(current.time, &thumbnail);
        let image = match keep {
            Keep::Rgb => Some(self.convert_to_rgb()?),
            Keep::Raw | Keep::Nothing => None,
        };
        // The decoder writes its next frame into a buffer of its own: the picture can leave.
        let raw = (keep != Keep::Nothing).then(|| RawFrame {
            time: current.time,
            picture: std::mem::replace(&mut self.current, frame::Video::empty()),
            path: Arc::clone(&self.path),
            rotation: self.info.rotation,
            mirrored: self.info.mirrored,
        });
        if next.is_some() {
            std::mem::swap(&mut self.current, &mut self.ahead);
        }
        self.pending = next;
        let index = self.next_index;
        self.next_index += 1;
        Ok(Some(Frame {
            index,
            time: current.time,
            duration,
            image,
            raw,
        }))
    }

    /// Decodes the next frame into `self.ahead`; None at the end.
    fn receive(&mut self) -> Result<Option<Decoded>> {
        loop {
            match self.decoder.receive_frame(&mut self.ahead) {
                Ok(()) => {
                    self.failures_in_a_row = 0;
                    // The decoder conceals errors in a damaged frame instead of failing it.
                    if self.ahead.is_corrupt() || self.ahead.has_decode_errors() {
                        self.damaged_frames += 1;
                    }
                    return Ok(Some(self.timing()));
                }
                Err(ff::Error::Eof) => match self.keyframe.take() {
                    Some(keyframe) => {
                        self.reopen()?;
                        self.send(&keyframe)?;
                        continue;
                    }
                    None => return Ok(None),
                },
                Err(ff::Error::Other {
                    errno: ff::error::EAGAIN,
                }) => {
                    // Once drained, the decoder never asks for more; guard against looping.
                    if self.draining {
                        return Ok(None);
                    }
                }
                Err(e) => self.damage(e, "cannot decode")?,
            }
            self.feed()?;
        }
    }

    /// The timing of the frame just decoded into `self.ahead`.
    fn timing(&mut self) -> Decoded {
        let f = &self.ahead;
        let ticks = f.packet().duration;
        let fallback_duration = if ticks > 0 {
            ticks as f64 * self.time_base
        } else {
            self.nominal_duration
        };
        let time = match f.timestamp().or_else(|| f.pts()) {
            Some(ts) => {
                let time = ts.saturating_sub(self.start) as f64 * self.time_base + self.offset;
                let jumped = self.previous_time.is_some_and(|previous| {
                    time < previous
                        || (self.may_jump && time > self.previous_end + MAX_TIMESTAMP_GAP)
                });
                if jumped {
                    self.offset += self.previous_end - time;
                    self.previous_end
                } else {
                    time
                }
            }
            None => self.previous_end,
        };
        self.previous_time = Some(time);
        self.previous_end = time + fallback_duration;
        Decoded {
            time,
            fallback_duration,
        }
    }

    /// Sends the decoder the next packet of our stream, or end-of-stream.
    fn feed(&mut self) -> Result<()> {
        loop {
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() != self.stream_index => continue,
                Ok(()) => {
                    if let Some(pts) = packet.pts() {
                        let ticks = pts.saturating_sub(self.start) as f64;
                        self.clock.push(ticks * self.time_base + self.offset);
                    }
                    if self.threads_asked.is_some() && packet.is_key() {
                        // Drained, the decoder then says Eof, and `receive` opens the next.
                        let _ = self.decoder.send_eof();
                        self.keyframe = Some(packet);
                        return Ok(());
                    }
                    return self.send(&packet);
                }
                Err(ff::Error::Eof) => {
                    self.draining = true;
                    // Fails only if already draining, which cannot be: we stop feeding then.
                    let _ = self.decoder.send_eof();
                    return Ok(());
                }
                Err(ff::Error::Other {
                    errno: ff::error::EAGAIN,
                }) => continue,
                Err(e @ ff::Error::InvalidData) => {
                    self.damage(e, "cannot read")?;
                    continue;
                }
                Err(e) => return Err(self.error(format!("cannot read: {e}"))),
            }
        }
    }

    fn send(&mut self, packet: &Packet) -> Result<()> {
        match self.decoder.send_packet(packet) {
            Ok(()) => Ok(()),
            Err(e) => self.damage(e, "cannot decode"),
        }
    }

    /// Replaces the drained decoder with one that has the threads asked for.
    fn reopen(&mut self) -> Result<()> {
        let threads = self.threads_asked.take().unwrap_or(self.threads);
        let time_base = self.decoder.packet_time_base();
        let mut decoder =
            open_decoder(&self.parameters, time_base, threads).map_err(|e| self.error(e))?;
        if let Some(skip) = self.skip {
            decoder.skip_frame(skip);
        }
        self.decoder = decoder;
        self.threads = threads;
        Ok(())
    }

    /// Counts a packet that failed with `e`, or returns the error if decoding cannot go on.
    fn damage(&mut self, e: ff::Error, what: &str) -> Result<()> {
        self.damaged += 1;
        self.failures_in_a_row += 1;
        let fatal = matches!(
            e,
            ff::Error::Other {
                errno: ff::error::ENOMEM
            } | ff::Error::Exit
        );
        if fatal || self.failures_in_a_row >= MAX_FAILURES_IN_A_ROW {
            return Err(self.error(format!("{what}: {e}")));
        }
        Ok(())
    }

    fn error(&self, reason: String) -> Error {
        Error::Video {
            path: self.info.path.clone(),
            reason,
        }
    }

    /// The picture of `self.current` as packed RGB rows, at its own size or shrunk to the
    /// thumbnail's, with the converter for that size (made once, remade when the stream's
    /// picture format changes).
    fn rgb_pixels(&mut self, thumbnail: bool) -> Result<(u32, u32, Vec<u8>)> {
        let key = ConverterKey::of(&self.current);
        let slot = if thumbnail {
            &mut self.shrinker
        } else {
            &mut self.converter
        };
        if slot.as_ref().is_none_or(|c| c.key != key) {
            *slot = None; // free the old one first
            let made = Converter::new(key, thumbnail).map_err(|e| Error::Video {
                path: self.info.path.clone(),
                reason: format!("cannot convert {:?} to RGB: {e}", key.format),
            })?;
            *slot = Some(made);
        }
        let converter = slot.as_mut().expect("made above");
        converter.convert(&self.current).map_err(|e| Error::Video {
            path: self.info.path.clone(),
            reason: format!("cannot convert to RGB: {e}"),
        })
    }

    /// The thumbnail of `self.current`.
    fn thumbnail(&mut self) -> Result<Thumbnail> {
        let (_, _, rgb) = self.rgb_pixels(true)?;
        Ok(Thumbnail(
            rgb.chunks_exact(3)
                .map(|p| ((p[0] as u16 + p[1] as u16 + p[2] as u16) / 3) as u8)
                .collect(),
        ))
    }

    /// The picture of `self.current` in RGB, turned upright.
    fn convert_to_rgb(&mut self) -> Result<image::RgbImage> {
        let (w, h, pixels) = self.rgb_pixels(false)?;
        Ok(upright(
            w,
            h,
            pixels,
            self.info.rotation,
            self.info.mirrored,
        ))
    }
}

/// Packed RGB rows as an image turned `rotation` degrees clockwise, then mirrored if asked.
fn upright(w: u32, h: u32, pixels: Vec<u8>, rotation: u32, mirrored: bool) -> image::RgbImage {
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
    fn of(f: &frame::Video) -> ConverterKey {
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
    fn convert(
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
    fn new(key: ConverterKey, thumbnail: bool) -> std::result::Result<Converter, ff::Error> {
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

/// The stream FFmpeg ranks best among real video streams (not cover art), else the first one.
fn pick_stream(input: &format::context::Input) -> Option<format::stream::Stream<'_>> {
    let is_video = |s: &format::stream::Stream| {
        s.parameters().medium() == media::Type::Video
            && !s
                .disposition()
                .contains(format::stream::Disposition::ATTACHED_PIC)
    };
    match input.streams().best(media::Type::Video) {
        Some(s) if is_video(&s) => Some(s),
        _ => input.streams().find(is_video),
    }
}

/// Degrees clockwise (0, 90, 180 or 270) to turn the stream's pictures upright, and whether to
/// mirror them left to right after that: from its display matrix, else its legacy `rotate` tag
/// (degrees clockwise); no turn for other angles (see the module documentation).
fn orientation(stream: &format::stream::Stream) -> (u32, bool) {
    let matrix = stream
        .side_data()
        .find(|d| d.kind() == side_data::Type::DisplayMatrix && d.data().len() >= 36);
    let (clockwise, mirrored) = match matrix {
        Some(d) => {
            let mut m = [0i32; 9];
            for (v, b) in m.iter_mut().zip(d.data().chunks_exact(4)) {
                *v = i32::from_ne_bytes(b.try_into().expect("4 bytes"));
            }
            // A negative determinant is a mirror: the matrix is a turn followed by a mirror of
            // x (FFmpeg's av_display_matrix_flip), and negating x's column again leaves the turn.
            let determinant = i64::from(m[0]) * i64::from(m[4]) - i64::from(m[1]) * i64::from(m[3]);
            let mirrored = determinant < 0;
            if mirrored {
                for i in [0, 3, 6] {
                    m[i] = m[i].saturating_neg();
                }
            }
            // SAFETY: reads the 9 values of `m`. It returns the counterclockwise angle (NaN for a
            // degenerate matrix); the `ffmpeg` tool turns by its negation, and so do we.
            (
                -unsafe { ff::ffi::av_display_rotation_get(m.as_ptr()) },
                mirrored,
            )
        }
        None => (
            stream
                .metadata()
                .get("rotate")
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0.0),
            false,
        ),
    };
    let quarters = (clockwise / 90.0).round();
    let rotation = if (clockwise - quarters * 90.0).abs() < 1.0 {
        (quarters as i64).rem_euclid(4) as u32 * 90
    } else {
        0
    };
    (rotation, mirrored)
}
