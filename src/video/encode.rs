//! Writing a video from pictures (a slideshow's stills). In: RGB pictures of one size, each with
//! how many frames it is shown. Out: a video file in the format its name says (.mp4, .mkv,
//! .mov), H.264 (libx264) where this FFmpeg has it, else MPEG-4 part 2, in yuv420p, which every
//! player takes.
//!
//! The file is written under a temporary name next to it and renamed into place once complete,
//! never over a file that is there: a failed or interrupted run leaves nothing behind, and a
//! file the user had is never replaced.

use std::path::{Path, PathBuf};

use ff::software::scaling;
use ff::util::format::Pixel;
use ff::{Dictionary, Packet, Rational, codec, encoder, format, frame};
use ffmpeg_next as ff;
use image::RgbImage;

use crate::error::{Error, Result};
use crate::files::atomic;
use crate::video::decode;

/// A video being written: [`VideoWriter::add`] pictures, then [`VideoWriter::finish`].
pub struct VideoWriter {
    path: PathBuf,
    output: format::context::Output,
    encoder: encoder::Video,
    scaler: scaling::Context,
    /// The encoder's: one tick per frame.
    frame_time: Rational,
    stream_time: Rational,
    frames: i64,
    temp: tempfile::TempPath,
}

impl VideoWriter {
    /// Starts the video `path`, `width` x `height` (even numbers) at `fps` frames a second.
    /// `path` must not exist.
    pub fn create(path: &Path, (width, height): (u32, u32), fps: i32) -> Result<VideoWriter> {
        decode::init();
        let fail = |reason: String| Error::output(path, reason);
        if path.symlink_metadata().is_ok() {
            return Err(fail(
                "already exists; screentime writes only new files (remove it or give another \
                 name)"
                    .into(),
            ));
        }
        let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
        let temp = atomic::temp_file_next_to(path, &format!(".{extension}"))?.into_temp_path();
        // ffmpeg-next panics on a path it cannot pass to C as UTF-8.
        let Some(text) = temp.to_str().filter(|p| !p.contains('\0')) else {
            return Err(fail("path is not valid UTF-8".into()));
        };
        // The format comes from the name; `file:` keeps a colon in it from naming a protocol.
        let mut output = format::output(&format!("file:{text}")).map_err(|e| {
            fail(format!(
                "no video format for this name ({e}): end it in .mp4, .mkv or .mov"
            ))
        })?;
        let codec = encoder::find_by_name("libx264")
            .or_else(|| encoder::find(codec::Id::MPEG4))
            .ok_or_else(|| fail("this FFmpeg has neither libx264 nor an MPEG-4 encoder".into()))?;
        let global_header = (output.format().flags()).contains(format::Flags::GLOBAL_HEADER);
        let mut settings = codec::context::Context::new_with_codec(codec)
            .encoder()
            .video()
            .map_err(|e| fail(format!("cannot set up the encoder: {e}")))?;
        let frame_time = Rational::new(1, fps);
        settings.set_width(width);
        settings.set_height(height);
        settings.set_format(Pixel::YUV420P);
        settings.set_time_base(frame_time);
        settings.set_frame_rate(Some(Rational::new(fps, 1)));
        // MPEG-4 part 2's default 200 kb/s blurs a still; x264 goes by the CRF below instead.
        settings.set_bit_rate(4_000_000);
        if global_header {
            settings.set_flags(codec::Flags::GLOBAL_HEADER);
        }
        let mut options = Dictionary::new();
        options.set("preset", "veryfast");
        options.set("crf", "20");
        let encoder = settings
            .open_as_with(codec, options)
            .map_err(|e| fail(format!("cannot open the {} encoder: {e}", codec.name())))?;
        let mut stream = output
            .add_stream(codec)
            .map_err(|e| fail(format!("cannot add the video stream: {e}")))?;
        stream.set_parameters(&encoder);
        stream.set_time_base(frame_time);
        output
            .write_header()
            .map_err(|e| fail(format!("cannot write the header: {e}")))?;
        // The muxer may have chosen another time base of its own.
        let stream_time = output.stream(0).expect("the stream added").time_base();
        let scaler = scaling::Context::get(
            Pixel::RGB24,
            width,
            height,
            Pixel::YUV420P,
            width,
            height,
            scaling::Flags::BICUBIC,
        )
        .map_err(|e| fail(format!("cannot convert pictures: {e}")))?;
        Ok(VideoWriter {
            path: path.to_path_buf(),
            output,
            encoder,
            scaler,
            frame_time,
            stream_time,
            frames: 0,
            temp,
        })
    }

    /// Shows `picture` (of the video's size) for `frames` frames.
    pub fn add(&mut self, picture: &RgbImage, frames: u64) -> Result<()> {
        let (width, height) = picture.dimensions();
        let mut rgb = frame::Video::new(Pixel::RGB24, width, height);
        let stride = rgb.stride(0);
        let row = 3 * width as usize;
        for (y, line) in picture.as_raw().chunks_exact(row).enumerate() {
            rgb.data_mut(0)[y * stride..y * stride + row].copy_from_slice(line);
        }
        // A new frame per picture: the encoder may still hold the last one.
        let mut yuv = frame::Video::new(Pixel::YUV420P, width, height);
        self.scaler
            .run(&rgb, &mut yuv)
            .map_err(|e| self.fail(format!("cannot convert a picture: {e}")))?;
        for _ in 0..frames {
            yuv.set_pts(Some(self.frames));
            self.frames += 1;
            self.encoder
                .send_frame(&yuv)
                .map_err(|e| self.fail(format!("cannot encode: {e}")))?;
            self.write_packets()?;
        }
        Ok(())
    }

    /// Flushes the encoder, completes the file and renames it into place.
    pub fn finish(mut self) -> Result<()> {
        self.encoder
            .send_eof()
            .map_err(|e| self.fail(format!("cannot encode: {e}")))?;
        self.write_packets()?;
        self.output
            .write_trailer()
            .map_err(|e| self.fail(format!("cannot finish the file: {e}")))?;
        let fail = |e: std::io::Error| Error::output(&self.path, e);
        std::fs::File::open(&self.temp)
            .and_then(|file| file.sync_all())
            .map_err(fail)?;
        // Not over a file that appeared meanwhile.
        self.temp
            .persist_noclobber(&self.path)
            .map_err(|e| fail(e.error))?;
        Ok(())
    }

    /// Writes the packets the encoder has ready.
    fn write_packets(&mut self) -> Result<()> {
        let mut packet = Packet::empty();
        loop {
            match self.encoder.receive_packet(&mut packet) {
                Ok(()) => {}
                Err(ff::Error::Eof) => return Ok(()),
                Err(ff::Error::Other { errno }) if errno == libc::EAGAIN => return Ok(()),
                Err(e) => return Err(self.fail(format!("cannot encode: {e}"))),
            }
            packet.set_stream(0);
            // Every frame lasts one tick. FFmpeg 5.1's libx264 leaves it unset, and the MP4
            // muxer would then end the video at the last frame's start, cutting that frame.
            packet.set_duration(1);
            packet.rescale_ts(self.frame_time, self.stream_time);
            packet
                .write_interleaved(&mut self.output)
                .map_err(|e| self.fail(format!("cannot write: {e}")))?;
        }
    }

    fn fail(&self, reason: String) -> Error {
        Error::output(&self.path, reason)
    }
}
