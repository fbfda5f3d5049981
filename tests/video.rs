//! `screentime::video::decode` on videos made from the registry photos by `tests/tools/make_video.py`,
//! whose segments, frame count and timestamps are known exactly.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{project, registry_photo};
use image::{RgbImage, imageops};
use screentime::Error;
use screentime::video::decode::{Frame, Keep, VideoReader};

const FPS: f64 = 25.0;
/// (photo or None for black, seconds, motion); at 25 fps: 25 + 10 + 20 + 15 = 70 frames.
const SEGMENTS: [(Option<&str>, f64, &str); 4] = [
    (Some("obama.jpg"), 1.0, "zoom"),
    (None, 0.4, ""),
    (Some("biden.jpg"), 0.8, "pan"),
    (Some("obama2.jpg"), 0.6, "still"),
];
const FRAMES: u64 = 70;
const SECONDS: f64 = 2.8;

/// Makes the test video in `dir` and returns its path.
fn make_video(dir: &Path, vfr: bool) -> PathBuf {
    let segments: Vec<serde_json::Value> = SEGMENTS
        .iter()
        .map(|&(photo, seconds, motion)| match photo {
            Some(name) => serde_json::json!({
                "image": registry_photo(name), "seconds": seconds, "motion": motion
            }),
            None => serde_json::json!({ "blank": seconds }),
        })
        .collect();
    let spec = serde_json::json!({
        "width": 320, "height": 240, "fps": FPS, "vfr": vfr, "segments": segments
    });
    let spec_path = dir.join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let out = dir.join(if vfr { "vfr.mp4" } else { "cfr.mp4" });
    let python = project().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup",
        python.display()
    );
    let status = Command::new(python)
        .arg(project().join("tests/tools/make_video.py"))
        .args([&spec_path, &out])
        .status()
        .unwrap();
    assert!(status.success(), "make_video.py failed");
    out
}

fn read_all(path: &Path, threads: usize, rgb: bool) -> (VideoReader, Vec<Frame>) {
    let mut reader = VideoReader::open(path, threads).unwrap();
    let mut frames = Vec::new();
    let keep = if rgb { Keep::Rgb } else { Keep::Nothing };
    while let Some(frame) = reader.next_frame(|_, _| keep).unwrap() {
        frames.push(frame);
    }
    // The end stays the end.
    assert!(reader.next_frame(|_, _| keep).unwrap().is_none());
    (reader, frames)
}

fn mean_brightness(frame: &Frame) -> f64 {
    let image = frame.image.as_ref().unwrap();
    image.as_raw().iter().map(|&v| v as f64).sum::<f64>() / image.as_raw().len() as f64
}

#[test]
fn constant_frame_rate_video_gives_every_frame_at_its_time() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_video(dir.path(), false);

    let (reader, frames) = read_all(&path, 2, true);
    let info = reader.info();
    assert_eq!(
        (info.width, info.height, info.codec.as_str()),
        (320, 240, "h264")
    );
    assert_eq!(info.frames, Some(FRAMES));
    assert!((info.frame_rate.unwrap() - FPS).abs() < 1e-9, "{info:?}");
    assert!((info.duration.unwrap() - SECONDS).abs() < 1e-3, "{info:?}");
    assert_eq!(reader.damaged_packets(), 0);

    assert_eq!(frames.len() as u64, FRAMES);
    for (i, frame) in frames.iter().enumerate() {
        assert_eq!(frame.index, i as u64);
        assert!((frame.time - i as f64 / FPS).abs() < 1e-3, "{frame:?}");
        assert!((frame.duration - 1.0 / FPS).abs() < 1e-3, "{frame:?}");
        let image = frame.image.as_ref().unwrap();
        assert_eq!(image.dimensions(), (320, 240));
    }
    // The black segment is frames 25..35, cut hard on both sides.
    for (i, frame) in frames.iter().enumerate() {
        let black = mean_brightness(frame) < 3.0;
        assert_eq!(
            black,
            (25..35).contains(&i),
            "frame {i}: {}",
            mean_brightness(frame)
        );
    }

    // Without RGB: same frames and times, no pictures. 0 threads lets FFmpeg choose.
    let (_, plain) = read_all(&path, 0, false);
    assert_eq!(plain.len(), frames.len());
    for (a, b) in plain.iter().zip(&frames) {
        assert!(a.image.is_none());
        assert_eq!((a.index, a.time, a.duration), (b.index, b.time, b.duration));
    }
}

/// A job gives the decoder more threads mid-stream when one leaves its cores idle: the decoder
/// is opened again at the next keyframe, and the frames must come out as if it never was, also
/// where non-reference frames are skipped.
#[test]
fn more_decoder_threads_mid_stream_change_no_frame() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_video(dir.path(), false);
    for skip in [false, true] {
        let open = || {
            let mut reader = VideoReader::open(&path, 1).unwrap();
            if skip {
                reader.skip_non_reference_frames();
            }
            reader
        };
        let mut plain = open();
        let mut frames = Vec::new();
        while let Some(frame) = plain.next_frame(|_, _| Keep::Rgb).unwrap() {
            frames.push(frame);
        }
        let mut switched = open();
        for (i, expected) in frames.iter().enumerate() {
            if i == 2 {
                switched.use_threads(3);
            }
            let frame = switched.next_frame(|_, _| Keep::Rgb).unwrap().unwrap();
            assert_eq!(
                (frame.index, frame.time, frame.duration),
                (expected.index, expected.time, expected.duration)
            );
            assert!(frame.image == expected.image, "frame {i} differs");
        }
        assert!(switched.next_frame(|_, _| Keep::Rgb).unwrap().is_none());
        // The video's second shot starts on a keyframe: the new decoder took over there.
        assert_eq!((plain.threads(), switched.threads()), (1, 3));
        assert_eq!(switched.damaged_packets() + switched.damaged_frames(), 0);
        assert_eq!(switched.into_clock().frames(), plain.into_clock().frames());
    }
}

#[test]
fn variable_frame_rate_video_is_timed_by_each_frames_timestamp() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_video(dir.path(), true);

    // make_video.py drops offsets 2, 5, 8, ... of each segment except its last frame.
    let mut expected = Vec::new();
    let mut start = 0;
    for (_, seconds, _) in SEGMENTS {
        let n = (seconds * FPS).round() as usize;
        expected.extend(
            (0..n)
                .filter(|i| !(i % 3 == 2 && *i < n - 1))
                .map(|i| start + i),
        );
        start += n;
    }

    let (reader, frames) = read_all(&path, 0, false);
    assert_eq!(reader.damaged_packets(), 0);
    assert_eq!(frames.len(), expected.len());
    for (frame, &slot) in frames.iter().zip(&expected) {
        assert!(
            (frame.time - slot as f64 / FPS).abs() < 1e-3,
            "{frame:?} vs slot {slot}"
        );
    }
    let gaps: Vec<f64> = frames.windows(2).map(|w| w[1].time - w[0].time).collect();
    assert!(gaps.iter().any(|&g| (g - 1.0 / FPS).abs() < 1e-3));
    assert!(gaps.iter().any(|&g| (g - 2.0 / FPS).abs() < 1e-3));
    // Each frame lasts until the next one starts, and the last one until the end.
    for (w, gap) in frames.windows(2).zip(&gaps) {
        assert!(
            (w[0].duration - gap).abs() < 1e-3,
            "{:?} then {:?}",
            w[0],
            w[1]
        );
    }
    let last = frames.last().unwrap();
    assert!(
        (last.time + last.duration - SECONDS).abs() < 1e-3,
        "{last:?}"
    );
    let total: f64 = frames.iter().map(|f| f.duration).sum();
    assert!((total - SECONDS).abs() < 1e-3, "{total}");
}

fn open_error(path: &Path) -> String {
    match VideoReader::open(path, 0) {
        Err(e @ Error::Video { .. }) => {
            let message = e.to_string();
            assert!(
                message.starts_with(&path.display().to_string()),
                "{message}"
            );
            message
        }
        Err(e) => panic!("{}: not a video error: {e}", path.display()),
        Ok(_) => panic!("{}: opened", path.display()),
    }
}

#[test]
fn unusable_inputs_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("x.mp4");
    std::fs::write(&text, "not a video\n").unwrap();
    open_error(&dir.path().join("missing.mp4"));
    assert!(open_error(dir.path()).ends_with("not a file"));
    open_error(&text);

    let audio = dir.path().join("tone.m4a");
    let status = Command::new("ffmpeg")
        .args(["-v", "error", "-f", "lavfi", "-i", "sine=d=0.2"])
        .arg(&audio)
        .status()
        .unwrap();
    assert!(status.success());
    assert!(open_error(&audio).ends_with("no video stream"));
}

#[test]
fn damaged_video_still_decodes() {
    let dir = tempfile::tempdir().unwrap();
    let path = make_video(dir.path(), false);
    // Overwrite a stretch in the middle of the picture data with noise.
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    let mut x = 12345u32;
    for b in &mut bytes[middle..middle + 4000] {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
        *b = (x >> 16) as u8;
    }
    std::fs::write(&path, bytes).unwrap();

    let (reader, frames) = read_all(&path, 0, true);
    assert!(frames.len() as u64 + reader.damaged_packets() >= FRAMES / 2);
    assert!(frames.windows(2).all(|w| w[0].time < w[1].time));
}

/// Mean absolute difference per channel value of two pictures of the same size.
fn mean_difference(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let sum: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(&x, &y)| u64::from(x.abs_diff(y)))
        .sum();
    sum as f64 / a.as_raw().len() as f64
}

/// The photo as make_video.py shows it in a `width` x `height` frame: scaled to fit, centred on
/// black.
fn letterboxed(photo: &Path, width: u32, height: u32) -> RgbImage {
    let photo = image::open(photo).unwrap().to_rgb8();
    let scale = f64::min(
        f64::from(width) / f64::from(photo.width()),
        f64::from(height) / f64::from(photo.height()),
    );
    let (w, h) = (
        (f64::from(photo.width()) * scale).round() as u32,
        (f64::from(photo.height()) * scale).round() as u32,
    );
    let scaled = imageops::resize(&photo, w, h, imageops::FilterType::Lanczos3);
    let mut frame = RgbImage::new(width, height);
    imageops::replace(
        &mut frame,
        &scaled,
        i64::from((width - w) / 2),
        i64::from((height - h) / 2),
    );
    frame
}

/// swscale writes RGB pixels 8 at a time and leaves those that do not fit in its output row
/// unwritten, so a picture of any width and pixel format, or a part of it of any width, must
/// come out whole: the right-most columns converted with the frame are the ones converted on
/// their own, and they show the photo that fills the frame, not the black of memory never
/// written.
#[test]
fn any_width_converts_to_every_pixel() {
    let dir = tempfile::tempdir().unwrap();
    let formats = ["yuv420p", "yuv444p", "yuv420p10le", "yuvj422p"];
    for (width, format) in [850, 854].into_iter().flat_map(|w| formats.map(|f| (w, f))) {
        let path = dir.path().join(format!("{width}-{format}.mp4"));
        let status = Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-loop", "1", "-i"])
            .arg(registry_photo("biden.jpg"))
            .args(["-t", "0.12", "-vf"])
            .arg(format!(
                "scale={width}:480:force_original_aspect_ratio=increase,crop={width}:480"
            ))
            .args(["-pix_fmt", format])
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let mut reader = VideoReader::open(&path, 0).unwrap();
        let frame = reader.next_frame(|_, _| Keep::Rgb).unwrap().unwrap();
        let (image, raw) = (frame.image.unwrap(), frame.raw.unwrap());
        assert_eq!(image.dimensions(), (width, 480));
        let edge = (width - 50, 0, 50, 480);
        let part = raw.region_to_rgb(edge).unwrap();
        assert!(
            part == imageops::crop_imm(&image, edge.0, edge.1, edge.2, edge.3).to_image(),
            "{width} wide, {format}: the right edge differs converted alone"
        );
        let last_column_sum: u64 = (0..480)
            .flat_map(|y| part.get_pixel(49, y).0)
            .map(u64::from)
            .sum();
        assert!(
            last_column_sum > 480 * 3 * 20,
            "{width} wide, {format}: the last column is black"
        );
    }
}

/// Phones store video sideways and say in the display matrix how to turn it. The reader turns
/// every picture upright, as `ffmpeg` shows it, and reports the upright size.
#[test]
fn rotated_video_is_turned_upright() {
    let dir = tempfile::tempdir().unwrap();
    let photo = registry_photo("obama.jpg");
    let upright = letterboxed(&photo, 320, 240);
    let first_frame = |path: &Path| {
        let mut reader = VideoReader::open(path, 0).unwrap();
        let frame = reader.next_frame(|_, _| Keep::Rgb).unwrap().unwrap();
        // The decoded picture kept for later turns into the same upright image, and a part
        // of it into the same part, wherever it starts and however wide (odd origins and
        // widths cut across the colour planes' grid).
        let raw = frame.raw.as_ref().unwrap();
        let later = raw.to_rgb().unwrap();
        assert!(frame.image.as_ref() == Some(&later), "{}", path.display());
        let (x, y, w, h) = ((later.width() / 4) | 1, 11, (later.width() / 3) | 1, 61);
        let part = imageops::crop_imm(&later, x, y, w, h).to_image();
        assert!(
            raw.region_to_rgb((x, y, w, h)).unwrap() == part,
            "{}",
            path.display()
        );
        (reader.info().clone(), frame.image.unwrap())
    };

    for rotation in [0, 90, 180, 270] {
        let path = dir.path().join(format!("rotate{rotation}.mp4"));
        let spec = serde_json::json!({
            "width": 320, "height": 240, "fps": FPS, "rotate": rotation,
            "segments": [{ "image": photo, "seconds": 0.12 }]
        });
        common::make_video(&spec, &path);

        let (info, image) = first_frame(&path);
        assert_eq!(
            (info.rotation, info.width, info.height),
            (rotation, 320, 240)
        );
        assert_eq!(image.dimensions(), (320, 240));
        // Turned the wrong way (or, at 180, not at all) the picture would be upside down.
        let right = mean_difference(&image, &upright);
        let wrong = mean_difference(&image, &imageops::rotate180(&upright));
        assert!(
            right < 6.0 && wrong > 5.0 * right,
            "rotation {rotation}: {right} from upright, {wrong} from upside down"
        );
    }

    // A matrix that mirrors the picture: read as a turn alone it would be half a turn.
    let mirrored = dir.path().join("mirrored.mp4");
    let spec = serde_json::json!({
        "width": 320, "height": 240, "fps": FPS, "mirror": true,
        "segments": [{ "image": photo, "seconds": 0.12 }]
    });
    common::make_video(&spec, &mirrored);
    let (info, image) = first_frame(&mirrored);
    assert_eq!((info.rotation, info.mirrored), (0, true));
    let right = mean_difference(&image, &upright);
    let wrong = mean_difference(&image, &imageops::flip_horizontal(&upright));
    assert!(
        right < 6.0 && wrong > 5.0 * right,
        "mirrored: {right} against {wrong}"
    );
    assert!(mean_difference(&image, &imageops::rotate180(&upright)) > 5.0 * right);

    // Older files say it with a `rotate` tag (degrees clockwise) instead. Matroska keeps no
    // display matrix, and a tag named ROTATE passes the `ffmpeg` tool (which takes `rotate`).
    let tagged = dir.path().join("tagged.mkv");
    let status = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(dir.path().join("rotate90.mp4"))
        .args(["-c", "copy", "-metadata:s:v:0", "ROTATE=90"])
        .arg(&tagged)
        .status()
        .unwrap();
    assert!(status.success());
    let (info, image) = first_frame(&tagged);
    assert_eq!((info.rotation, info.width, info.height), (90, 320, 240));
    assert!(mean_difference(&image, &upright) < 6.0);
}

/// A pipeline can open the file (and report a bad one) before handing the reader to a thread.
#[test]
fn reader_can_move_to_another_thread() {
    fn send<T: Send>() {}
    send::<VideoReader>();
}
