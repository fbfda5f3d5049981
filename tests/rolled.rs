//! Rolled faces, with the real models on real photos: a face turned up to a quarter turn (someone
//! lying down, a head tilted) is found, embedded as it is upright, and in a video followed and
//! timed. The photos are face_recognition's test images, which `scripts/setup` installs.

mod common;

use std::path::Path;

use image::{Rgb, RgbImage};
use screentime::face::detect::{Face, Turn};
use screentime::face::embed::distance;
use screentime::face::engine::{EmbeddedFace, Engine, load_image};
use screentime::face::model::EmbedderKind;

use common::{engine_of, make_video, registry_photo, screen_time};

/// `image` turned `degrees` clockwise about its centre onto a black canvas that holds all of it,
/// sampled bilinearly (a quarter turn exactly, pixel for pixel).
fn turned(image: &RgbImage, degrees: i32) -> RgbImage {
    match degrees {
        90 => return image::imageops::rotate90(image),
        -90 => return image::imageops::rotate270(image),
        _ => {}
    }
    let (sin, cos) = (degrees as f64).to_radians().sin_cos();
    let (w, h) = (image.width() as f64, image.height() as f64);
    let (out_w, out_h) = (w * cos.abs() + h * sin.abs(), w * sin.abs() + h * cos.abs());
    RgbImage::from_fn(out_w.ceil() as u32, out_h.ceil() as u32, |x, y| {
        // Each output pixel's centre, turned back into the photo.
        let (dx, dy) = (x as f64 + 0.5 - out_w / 2.0, y as f64 + 0.5 - out_h / 2.0);
        let (sx, sy) = (
            cos * dx + sin * dy + w / 2.0 - 0.5,
            -sin * dx + cos * dy + h / 2.0 - 0.5,
        );
        if sx < 0.0 || sy < 0.0 || sx > w - 1.0 || sy > h - 1.0 {
            return Rgb([0, 0, 0]);
        }
        let (x0, y0) = (sx.floor() as u32, sy.floor() as u32);
        let (x1, y1) = (
            (x0 + 1).min(image.width() - 1),
            (y0 + 1).min(image.height() - 1),
        );
        let (fx, fy) = (sx - x0 as f64, sy - y0 as f64);
        let mix = |a: u8, b: u8, t: f64| a as f64 * (1.0 - t) + b as f64 * t;
        Rgb(std::array::from_fn(|c| {
            let top = mix(image.get_pixel(x0, y0)[c], image.get_pixel(x1, y0)[c], fx);
            let bottom = mix(image.get_pixel(x0, y1)[c], image.get_pixel(x1, y1)[c], fx);
            (top * (1.0 - fy) + bottom * fy).round() as u8
        }))
    })
}

/// The largest face in `image`.
fn largest(engine: &mut Engine, image: &RgbImage) -> Option<EmbeddedFace> {
    engine
        .faces(image)
        .unwrap()
        .into_iter()
        .max_by(|a, b| a.face.bbox.area().total_cmp(&b.face.bbox.area()))
}

/// Each registry photo turned 60 and 90 degrees each way: its face is found, rolled as it was
/// turned, and its descriptor lies within `bound` of the upright photo's, far inside the
/// embedder's same-person threshold.
fn turned_photos_embed_as_upright(embedder: EmbedderKind, bound: f32) {
    let mut engine = engine_of(embedder);
    for name in ["obama.jpg", "obama2.jpg", "biden.jpg"] {
        let photo = load_image(&registry_photo(name)).unwrap();
        let upright = largest(&mut engine, &photo).expect("a face upright");
        for degrees in [60, -60, 90, -90] {
            let found = largest(&mut engine, &turned(&photo, degrees))
                .unwrap_or_else(|| panic!("{name} turned {degrees}: no face found"));
            let roll = found.face.roll() - upright.face.roll();
            assert!(
                (roll + degrees as f32).abs() < 15.0,
                "{name} turned {degrees}: found rolled {roll}"
            );
            let apart = distance(&found.descriptor, &upright.descriptor);
            eprintln!(
                "DIST {embedder:?} {name} {degrees} {apart:.3} roll {roll:.0} turn {:?} score {:.2}",
                found.face.turn, found.face.score
            );
            assert!(
                apart < bound,
                "{name} turned {degrees}: {apart} from the upright face"
            );
        }
    }
}

#[test]
fn turned_photos_embed_as_upright_with_dlib() {
    // Measured: 0.026-0.086 (dlib names a face within 0.6).
    turned_photos_embed_as_upright(EmbedderKind::Dlib, 0.1);
}

#[test]
fn turned_photos_embed_as_upright_with_arcface() {
    // Measured: 0.22-0.43 (ArcFace names a face within 1.24; its distances run about twice
    // dlib's, and its chip follows CenterFace's landmarks, which a turn moves more).
    turned_photos_embed_as_upright(EmbedderKind::Arcface, 0.5);
}

/// A face found lying is cut as if the picture were turned: its chip from the photo turned a
/// quarter turn is the upright photo's chip, pixel for pixel.
#[test]
fn a_lying_faces_chip_is_the_upright_faces_chip() {
    let mut engine = engine_of(EmbedderKind::Dlib);
    let photo = load_image(&registry_photo("obama.jpg")).unwrap();
    let (width, height) = photo.dimensions();
    let upright = largest(&mut engine, &photo).expect("a face").face;
    for turn in Turn::QUARTERS {
        // The photo turned back by `turn` shows the face lying, found in `turn`.
        let back = match turn {
            Turn::Clockwise => Turn::CounterClockwise,
            _ => Turn::Clockwise,
        };
        let lying_photo = back.picture(photo.clone());
        let lying = Face {
            turn,
            ..upright.clone().turned(back, width as f32, height as f32)
        };
        assert_eq!(
            engine.chip(&lying_photo, &lying),
            engine.chip(&photo, &upright),
            "{turn:?}"
        );
    }
}

/// The box of `face`, for messages.
fn describe(face: &Face) -> String {
    let b = face.bbox;
    format!("({:.0}, {:.0})-({:.0}, {:.0})", b.x1, b.y1, b.x2, b.y2)
}

/// The two modes every video here is measured in.
const MODES: [&[&str]; 2] = [&[], &["--stride", "1"]];

/// Screen time per identity from `video` with `cast`, measured in `mode` into `out`.
fn screen_times(video: &Path, cast: &Path, out: &Path, mode: &[&str]) -> Vec<(String, f64)> {
    common::measure(video, cast, out, mode);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    screen_time(&report)
}

/// `left` and `right` side by side on black, their tops aligned.
fn beside(left: &RgbImage, right: &RgbImage) -> RgbImage {
    let mut both = RgbImage::new(
        left.width() + right.width(),
        left.height().max(right.height()),
    );
    image::imageops::replace(&mut both, left, 0, 0);
    image::imageops::replace(&mut both, right, i64::from(left.width()), 0);
    both
}

/// A video of Obama lying on his side, both ways, and with his head rolled 60 degrees, in shots
/// of 2.0, 1.2 and 1.0 s apart: he is found, named from his upright cast photo, and timed to half
/// a frame.
#[test]
fn a_person_lying_down_is_found_named_and_timed() {
    let tmp = tempfile::tempdir().unwrap();
    let write = |name: &str, image: RgbImage| {
        let path = tmp.path().join(name);
        image.save(&path).unwrap();
        path.display().to_string()
    };
    let photo = |name: &str| load_image(&registry_photo(name)).unwrap();
    let left = write("left.png", turned(&photo("obama2.jpg"), 90));
    let right = write("right.png", turned(&photo("obama3.jpg"), -90));
    let tilted = write("tilted.png", turned(&photo("obama.jpg"), 60));
    // The faces as the engine finds them in the turned photos, for messages.
    let mut engine = engine_of(EmbedderKind::Dlib);
    let found: Vec<String> = [&left, &right, &tilted]
        .iter()
        .map(|p| {
            let image = load_image(Path::new(p)).unwrap();
            largest(&mut engine, &image).map_or("none".into(), |f| describe(&f.face))
        })
        .collect();
    let spec = serde_json::json!({"width": 640, "height": 360, "fps": 25.0, "segments": [
        {"image": left, "seconds": 2.0, "motion": "zoom"},
        {"blank": 1.0},
        {"image": right, "seconds": 1.2, "motion": "pan"},
        {"blank": 0.5},
        {"image": tilted, "seconds": 1.0, "motion": "still"},
    ]});
    let video = tmp.path().join("lying.mp4");
    make_video(&spec, &video);
    let cast = common::obama_cast(tmp.path());
    for (i, mode) in MODES.iter().enumerate() {
        let times = screen_times(&video, &cast, &tmp.path().join(format!("out{i}")), mode);
        let half_frame = 0.5 / 25.0;
        assert!(
            times.len() == 1
                && times[0].0 == "Barack Obama"
                && (times[0].1 - 4.2).abs() <= half_frame + 1e-6,
            "{mode:?}: {times:?}, truth Barack Obama 4.2 s (faces in the photos: {found:?})"
        );
    }
}

/// Obama lying on his side beside Biden sitting upright, one 4 s shot: every clip of the shot
/// is looked at turned, not only its first (about a second), so Obama is found for all of it,
/// and nothing else is taken for a face: the two of them, each for the whole shot.
#[test]
fn a_person_lying_beside_someone_upright_is_found_all_shot_long() {
    let tmp = tempfile::tempdir().unwrap();
    let photo = |name: &str| load_image(&registry_photo(name)).unwrap();
    let both = beside(&turned(&photo("obama2.jpg"), 90), &photo("biden.jpg"));
    let picture = tmp.path().join("both.png");
    both.save(&picture).unwrap();
    let spec = serde_json::json!({"width": 640, "height": 360, "fps": 25.0, "segments": [
        {"image": picture, "seconds": 4.0, "motion": "zoom"},
    ]});
    let video = tmp.path().join("beside.mp4");
    make_video(&spec, &video);
    let cast = common::obama_cast(tmp.path());
    for (i, mode) in MODES.iter().enumerate() {
        let times = screen_times(&video, &cast, &tmp.path().join(format!("out{i}")), mode);
        let whole_shot = |(_, seconds): &(String, f64)| (seconds - 4.0).abs() <= 0.5 / 25.0 + 1e-6;
        assert!(
            times.len() == 2
                && times.iter().all(whole_shot)
                && times.iter().any(|(name, _)| name == "Barack Obama"),
            "{mode:?}: {times:?}, truth Barack Obama 4.0 s beside a stranger 4.0 s"
        );
    }
}
