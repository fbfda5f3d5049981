//! Video decoding: a video file in, its frames out.
//!
//! [`VideoReader::open`] takes a path and picks the file's main video stream (cover art and other
//! attached pictures are never chosen); [`VideoReader::info`] describes it.
//! [`VideoReader::next_frame`] then yields every frame of that stream once, in the order the
//! decoder outputs them, which is presentation order, each with its presentation time and its own
//! duration in seconds and, when asked for, its picture as an [`image::RgbImage`], upright at the
//! stream's own size.
//!
//! The reader reads packets, decodes them and hands out frames; [`stream`] picks the stream and
//! reads which way up it is shown, [`timeline`] times the frames (time only goes forward) and
//! [`pixels`] turns decoded pictures into RGB.
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
//!   The converter is made once and reused; it is rebuilt only when the decoded size, pixel
//!   format or colour tagging changes mid-stream (colours: see [`pixels`]).
//! - **Pictures are turned upright**, as `ffplay` and the `ffmpeg` tool show them, by the turn
//!   and mirror the stream records ([`stream`]): quarter turns are applied to the RGB picture
//!   and [`VideoInfo`] reports the turned size, [`VideoInfo::rotation`] and
//!   [`VideoInfo::mirrored`]; other angles (more than 1° off a quarter turn, as FFmpeg judges
//!   it) are ignored.
//! - **Time only goes forward**: a frame whose time goes back (files joined with `cat`) or, in a
//!   format that allows jumps, leaps more than [`timeline::MAX_TIMESTAMP_GAP`] ahead continues
//!   from the end of the frame before, and so does every frame after it ([`timeline`]).
//! - **Damage does not stop a run**: a packet that fails to read or decode is counted
//!   ([`VideoReader::damaged_packets`]) and skipped, as the `ffmpeg` tool does. Only errors that
//!   make further decoding impossible (an I/O error, out of memory, or a long unbroken run of
//!   failures meaning the stream is undecodable) are returned as errors.
//! - **FFmpeg's own logging is silenced** (fatal messages only), process-wide, on first use: a
//!   damaged region prints hundreds of decoder lines that would bury the tool's own output; the
//!   damage is reported through the count instead.
//!
//! Every failure is an [`Error::Video`] naming the file and a short reason.

pub mod pixels;
pub mod stream;
pub mod timeline;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Once};

use ff::{Dictionary, Discard, Packet, Rational, codec, format, frame};
use ffmpeg_next as ff;

use crate::error::{Error, Result};
use crate::video::clock::FrameClock;
use crate::video::decode::pixels::{Converter, ConverterKey, upright};
pub use crate::video::decode::pixels::{RawFrame, Thumbnail};
use crate::video::decode::stream::{RAW_STREAMS, orientation, pick_stream};
use crate::video::decode::timeline::{FrameTime, Timeline};

/// After this many packets in a row fail to read or decode, with no frame in between, the
/// stream is taken as undecodable rather than damaged.
const MAX_FAILURES_IN_A_ROW: u64 = 1000;

/// The largest frame screentime decodes, in pixels: 36 megapixels (8K video is 33 to 35). A
/// decoder holds whole frames, several at once, and the job a few more: a small file declaring
/// 16000x16000 frames (a 1.8 MB FFV1 file) would take gigabytes. A stream declaring more is
/// refused when opened; a frame growing past it mid-stream is refused by the decoder itself
/// (FFmpeg's `max_pixels`), before it allocates, and counts as damage.
pub const MAX_VIDEO_PIXELS: u64 = 36_000_000;

/// What a video is, as far as the container and codec say before decoding.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
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
    /// The frames' times so far.
    timeline: Timeline,
    /// The frame to return next (its picture), when `pending` is Some.
    current: frame::Video,
    pending: Option<FrameTime>,
    /// Where the decoder writes; swapped with `current`.
    ahead: frame::Video,
    converter: Option<Converter>,
    shrinker: Option<Converter>,
    /// Every packet's time: the video's frames, decoded or skipped.
    clock: FrameClock,
    next_index: u64,
    draining: bool,
    damaged: u64,
    damaged_frames: u64,
    failures_in_a_row: u64,
}

// SAFETY: every FFmpeg object in here (demuxer, decoder, frames, swscale context) is owned by the
// reader alone and only touched through `&mut self`; none has thread affinity. ffmpeg-next marks
// all but the swscale context `Send`, and that one is a plain heap object freed on drop.
unsafe impl Send for VideoReader {}

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
            timeline: Timeline::new(
                time_base,
                start,
                frame_rate.map_or(0.0, |r| 1.0 / r),
                may_jump,
            ),
            current: frame::Video::empty(),
            pending: None,
            ahead: frame::Video::empty(),
            converter: None,
            shrinker: None,
            clock: FrameClock::default(),
            next_index: 0,
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
        self.timeline.moved()
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
    fn receive(&mut self) -> Result<Option<FrameTime>> {
        loop {
            match self.decoder.receive_frame(&mut self.ahead) {
                Ok(()) => {
                    self.failures_in_a_row = 0;
                    // The decoder conceals errors in a damaged frame instead of failing it.
                    if self.ahead.is_corrupt() || self.ahead.has_decode_errors() {
                        self.damaged_frames += 1;
                    }
                    let f = &self.ahead;
                    let timestamp = f.timestamp().or_else(|| f.pts());
                    return Ok(Some(self.timeline.frame(timestamp, f.packet().duration)));
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

    /// Sends the decoder the next packet of our stream, or end-of-stream.
    fn feed(&mut self) -> Result<()> {
        loop {
            let mut packet = Packet::empty();
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() != self.stream_index => continue,
                Ok(()) => {
                    if let Some(pts) = packet.pts() {
                        self.clock.push(self.timeline.seconds(pts));
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
