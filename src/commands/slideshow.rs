//! `screentime slideshow PHOTOS --person NAME --cast DIR --out show.mp4`. In: a folder of photos,
//! a cast and one of its names. Out: a video of the photos that show that person, in the order
//! they were taken, each a still letterboxed into the frame, and the list of them.

use std::fs::File;
use std::io::{BufReader, IsTerminal, Write};
use std::path::{Path, PathBuf};

use fast_image_resize::{self as fr, Resizer};
use image::{Rgb, RgbImage};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jiff::civil::DateTime;
use jiff::tz::TimeZone;

use crate::commands::{load_cast, photo_faces, photos_in};
use crate::error::{Error, Result};
use crate::face::engine::{Engine, EngineOptions, load_image};
use crate::face::runtime::Runtime;
use crate::identity::matching::Identifier;
use crate::job::interrupt;
use crate::output::answer::{self, Align, Table};
use crate::video::encode::VideoWriter;

/// The video's frame: 720p, which every player and screen shows whole.
pub const FRAME: (u32, u32) = (1280, 720);
/// Frames a second: a still needs few, but players and editors expect a common rate.
pub const FPS: i32 = 25;

/// What `screentime slideshow` needs beyond the engine options.
#[derive(Debug, Clone)]
pub struct SlideshowOptions {
    /// Searched recursively for photos.
    pub photos: PathBuf,
    pub person: String,
    pub cast: PathBuf,
    /// The video to write; must not exist.
    pub out: PathBuf,
    pub seconds_per_photo: f64,
    pub quiet: bool,
}

/// One photo of the show.
#[derive(Debug, Clone, PartialEq)]
pub struct Slide {
    pub photo: PathBuf,
    /// When it was taken: the EXIF date (the camera's clock), else the file's modification
    /// time (UTC).
    pub taken: DateTime,
    /// "exif" or "file time".
    pub date_from: &'static str,
}

/// `screentime slideshow`: finds the photos under `options.photos` with a face of
/// `options.person` (a face whose closest cast member is that person, within the embedder's
/// same-person threshold), orders them by date (then path), and writes them as a video, each photo
/// letterboxed into [`FRAME`] (the whole photo, so every face stays in the frame) for
/// `seconds_per_photo`. Prints each photo with its date, in show order. An unreadable photo is
/// reported and skipped; none of the person is an error, and so is an `out` that exists.
pub fn run(
    engine: &EngineOptions,
    options: &SlideshowOptions,
    out: &mut impl Write,
) -> Result<Vec<Slide>> {
    // Started first, so that an `out` that exists stops the run before the search.
    let mut video = VideoWriter::create(&options.out, FRAME, FPS)?;
    let runtime = Runtime::new(engine.runtime.clone())?;
    let cast = load_cast(&runtime, engine, &options.cast, options.quiet)?;
    let identifier = Identifier::new(&cast, engine.thresholds().same_person, runtime.embedder());
    let Some(person) = (identifier.actors().iter()).position(|a| *a == options.person) else {
        return Err(Error::input(
            &options.cast,
            format!(
                "no {} in this cast; it has: {}",
                options.person,
                identifier.actors().join(", ")
            ),
        ));
    };
    let photos = photos_in(&options.photos)?;
    let show_progress = !options.quiet && std::io::stderr().is_terminal();
    let progress = progress_bar(photos.len(), "photos searched", show_progress);
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let mut slides = Vec::new();
    for photo in photos {
        progress.inc(1);
        let faces = match photo_faces(&mut faces_engine, &photo) {
            Ok(faces) => faces,
            Err(err @ Error::Interrupted { .. }) => return Err(err),
            Err(err) => {
                progress.suspend(|| eprintln!("error: {err}; photo skipped"));
                continue;
            }
        };
        let shows_person = faces.iter().any(|face| {
            identifier
                .nearest(&face.descriptor)
                .is_some_and(|m| m.actor == person && m.distance <= identifier.threshold())
        });
        if shows_person {
            let (taken, date_from) = taken(&photo)?;
            slides.push(Slide {
                photo,
                taken,
                date_from,
            });
        }
    }
    progress.finish_and_clear();
    if slides.is_empty() {
        return Err(Error::input(
            &options.photos,
            format!("no photo of {} in this folder", options.person),
        ));
    }
    slides.sort_by(|a, b| a.taken.cmp(&b.taken).then_with(|| a.photo.cmp(&b.photo)));

    let frames = ((options.seconds_per_photo * f64::from(FPS)).round() as u64).max(1);
    let progress = progress_bar(slides.len(), "photos in the video", show_progress);
    for slide in &slides {
        // Dropping the unfinished video removes its temporary file.
        if interrupt::stopped() {
            return Err(Error::Interrupted {
                path: options.out.clone(),
            });
        }
        video.add(&letterbox(&load_image(&slide.photo)?, FRAME), frames)?;
        progress.inc(1);
    }
    video.finish()?;
    progress.finish_and_clear();

    let mut list = Table::new(&[
        ("taken", Align::Left),
        ("date from", Align::Left),
        ("photo", Align::Left),
    ]);
    for slide in &slides {
        let photo = slide.photo.display().to_string();
        list.row(vec![slide.taken.to_string(), slide.date_from.into(), photo]);
    }
    list.note(format!(
        "{}: {} photos of {}, {} s each",
        options.out.display(),
        slides.len(),
        options.person,
        frames as f64 / f64::from(FPS)
    ));
    answer::print_tables(out, &[list])?;
    Ok(slides)
}

/// `photo` scaled to fit inside `size` (aspect kept) and centred on black: the whole photo.
pub fn letterbox(photo: &RgbImage, (width, height): (u32, u32)) -> RgbImage {
    let scale = f64::min(
        f64::from(width) / f64::from(photo.width()),
        f64::from(height) / f64::from(photo.height()),
    );
    let fit = |side: u32, most: u32| ((f64::from(side) * scale).round() as u32).clamp(1, most);
    let mut scaled = RgbImage::new(fit(photo.width(), width), fit(photo.height(), height));
    let options =
        fr::ResizeOptions::new().resize_alg(fr::ResizeAlg::Convolution(fr::FilterType::Lanczos3));
    Resizer::new()
        .resize(photo, &mut scaled, &options)
        .expect("RGB to RGB of sizes from 1 up");
    let mut frame = RgbImage::from_pixel(width, height, Rgb([0, 0, 0]));
    let x = (width - scaled.width()) / 2;
    let y = (height - scaled.height()) / 2;
    image::imageops::replace(&mut frame, &scaled, i64::from(x), i64::from(y));
    frame
}

/// When `photo` was taken: its EXIF DateTimeOriginal (else DateTime), else the file's
/// modification time in UTC.
fn taken(photo: &Path) -> Result<(DateTime, &'static str)> {
    if let Some(date) = exif_date(photo) {
        return Ok((date, "exif"));
    }
    let modified = std::fs::metadata(photo)
        .and_then(|m| m.modified())
        .map_err(|source| Error::Io {
            path: photo.to_path_buf(),
            source,
        })?;
    let time = jiff::Timestamp::try_from(modified)
        .map_err(|e| Error::input(photo, format!("file time out of range: {e}")))?;
    Ok((TimeZone::UTC.to_datetime(time), "file time"))
}

/// The EXIF date of `photo`, if it has a valid one.
fn exif_date(photo: &Path) -> Option<DateTime> {
    let file = File::open(photo).ok()?;
    let exif = exif::Reader::new()
        .read_from_container(&mut BufReader::new(file))
        .ok()?;
    [exif::Tag::DateTimeOriginal, exif::Tag::DateTime]
        .into_iter()
        .find_map(|tag| {
            let field = exif.get_field(tag, exif::In::PRIMARY)?;
            let exif::Value::Ascii(ref text) = field.value else {
                return None;
            };
            let d = exif::DateTime::from_ascii(text.first()?).ok()?;
            DateTime::new(
                i16::try_from(d.year).ok()?,
                i8::try_from(d.month).ok()?,
                i8::try_from(d.day).ok()?,
                i8::try_from(d.hour).ok()?,
                i8::try_from(d.minute).ok()?,
                i8::try_from(d.second).ok()?,
                0,
            )
            .ok()
        })
}

fn progress_bar(len: usize, what: &str, show: bool) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len as u64);
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(&format!("{{bar:40}} {{pos}}/{{len}} {what}  ETA {{eta}}"))
            .expect("a valid template"),
    );
    bar
}
