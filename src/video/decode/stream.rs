//! Which stream of a file is the video, and which way up it is shown. In: an open container.
//! Out: its main video stream (cover art and other attached pictures are never chosen), the
//! turn and mirror that show its pictures upright, and whether its format is a raw elementary
//! stream, whose frames cannot be timed.
//!
//! Phones store video as the sensor sees it and record how to turn it in the stream's display
//! matrix (or, in older files, a `rotate` tag, used only when there is no matrix). A matrix
//! that also mirrors the picture is taken apart into its turn and a mirror: read as one turn, a
//! mirror looks like half a turn, and faces upside down are not found.

use ff::codec::packet::side_data;
use ff::{format, media};
use ffmpeg_next as ff;

/// FFmpeg's demuxers of raw elementary streams: their packets carry no timestamps (the
/// demuxer makes them up from a guessed rate, and frames the decoder skips lose their time), so
/// neither a frame's time nor the count of frames in a stretch could be trusted.
pub(super) const RAW_STREAMS: [&str; 14] = [
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

/// The stream FFmpeg ranks best among real video streams (not cover art), else the first one.
pub(super) fn pick_stream(input: &format::context::Input) -> Option<format::stream::Stream<'_>> {
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
/// (degrees clockwise); no turn for other angles (more than 1° off a quarter turn, as FFmpeg
/// judges it).
pub(super) fn orientation(stream: &format::stream::Stream) -> (u32, bool) {
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
