//! `screentime slideshow` through the binary, on the registry photos: the video holds one still
//! per photo of the person, in date order, and none of anyone else.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, SystemTime};

use common::{registry_photo, screentime};
use screentime::commands::slideshow::{FPS, FRAME, letterbox};
use screentime::face::engine::load_image;
use screentime::video::decode::{Keep, VideoReader};

/// `screentime slideshow LIBRARY --person PERSON --cast CAST --out OUT`, then `extra`.
fn slideshow(library: &Path, person: &str, cast: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "slideshow".as_ref(),
        library.as_os_str(),
        "--person".as_ref(),
        person.as_ref(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    screentime(&args)
}

/// Mean absolute difference per channel value between two pictures of one size.
fn difference(a: &image::RgbImage, b: &image::RgbImage) -> f64 {
    let total: u64 = (a.as_raw().iter().zip(b.as_raw()))
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    total as f64 / a.as_raw().len() as f64
}

/// Every frame of `video`, in RGB, decoded by screentime's own decoder.
fn frames(video: &Path) -> Vec<image::RgbImage> {
    let mut reader = VideoReader::open(video, 0).unwrap();
    let mut frames = Vec::new();
    while let Some(frame) = reader.next_frame(|_, _| Keep::Rgb).unwrap() {
        frames.push(frame.image.unwrap());
    }
    frames
}

#[test]
fn slideshow_shows_each_photo_of_the_person_once_in_date_order() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = common::obama_cast(tmp.path());
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    // The camera dates: obama2 2009-09-09, obama3 2010-05-10, obama 2012-12-06; by path the
    // 2012 portrait comes first. A mirrored obama2 without EXIF goes by its file time, 2011.
    let library = tmp.path().join("library");
    std::fs::create_dir_all(library.join("2019")).unwrap();
    let portrait = library.join("2019/portrait.jpg");
    std::fs::copy(registry_photo("obama.jpg"), &portrait).unwrap();
    for name in ["obama2.jpg", "obama3.jpg", "biden.jpg"] {
        std::fs::copy(registry_photo(name), library.join(name)).unwrap();
    }
    let mirrored = library.join("mirrored.png");
    image::imageops::flip_horizontal(&load_image(&registry_photo("obama2.jpg")).unwrap())
        .save(&mirrored)
        .unwrap();
    let in_2011 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_300_000_000);
    std::fs::File::options()
        .write(true)
        .open(&mirrored)
        .unwrap()
        .set_modified(in_2011)
        .unwrap();

    let show = tmp.path().join("show.mp4");
    let output = slideshow(
        &library,
        "Barack Obama",
        &cast,
        &show,
        &["--seconds-per-photo", "0.4"],
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let expected: Vec<PathBuf> = vec![
        library.join("obama2.jpg"),
        library.join("obama3.jpg"),
        mirrored.clone(),
        portrait,
    ];
    let stdout = String::from_utf8(output.stdout).unwrap();
    let mut lines = stdout.lines();
    assert_eq!(
        lines.next().unwrap().split_whitespace().collect::<Vec<_>>(),
        ["taken", "date", "from", "photo"],
        "{stdout}"
    );
    let listed: Vec<&str> = lines
        .filter_map(|l| Some(l.split("  ").last()?.trim()))
        .take(expected.len())
        .collect();
    let names: Vec<String> = expected.iter().map(|p| p.display().to_string()).collect();
    assert_eq!(listed, names, "{stdout}");
    assert!(
        stdout.contains("2011-03-13T07:06:40  file time"),
        "{stdout}"
    );

    // The video: runs of one still each, 10 frames (0.4 s at 25 fps) apiece.
    let frames = frames(&show);
    assert_eq!(frames[0].dimensions(), FRAME);
    let mut stills: Vec<(image::RgbImage, usize)> = Vec::new();
    for frame in frames {
        match stills.last_mut() {
            Some((still, count)) if difference(still, &frame) < 1.0 => *count += 1,
            _ => stills.push((frame, 1)),
        }
    }
    let per_photo = (0.4 * f64::from(FPS)).round() as usize;
    let counts: Vec<usize> = stills.iter().map(|(_, n)| *n).collect();
    assert_eq!(counts, vec![per_photo; expected.len()]);
    // Each still is its photo, whole: closest to that photo's letterboxed picture of all the
    // library's photos, Biden's included, and close to it in every pixel.
    let mut candidates = expected.clone();
    candidates.push(library.join("biden.jpg"));
    let pictures: Vec<image::RgbImage> = candidates
        .iter()
        .map(|p| letterbox(&load_image(p).unwrap(), FRAME))
        .collect();
    for ((still, _), photo) in stills.iter().zip(&expected) {
        let (nearest, d) = (candidates.iter().zip(&pictures))
            .map(|(c, picture)| (c, difference(still, picture)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap();
        assert_eq!(nearest, photo);
        assert!(d < 4.0, "{} differs by {d}", photo.display());
    }

    // Run again: the video is there, and is not replaced.
    let before = std::fs::read(&show).unwrap();
    let again = slideshow(&library, "Barack Obama", &cast, &show, &[]);
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already exists"), "{stderr}");
    assert_eq!(std::fs::read(&show).unwrap(), before);
    // Someone not in the cast is an error naming the cast, and writes nothing.
    let nobody = tmp.path().join("nobody.mp4");
    let output = slideshow(&library, "Elena Kagan", &cast, &nobody, &[]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no Elena Kagan in this cast"), "{stderr}");
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().ends_with(".mp4") && n != "show.mp4"),
        "{left:?}"
    );
}
