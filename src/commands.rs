//! The user-facing commands, each a function from options and inputs to outputs; `main.rs`
//! only parses arguments and calls one of these.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::aggregate::Summary;
use crate::cast::{self, Cast};
use crate::detect::{BBox, Landmarks};
use crate::engine::{Engine, EngineOptions, load_image};
use crate::error::{Error, Result, warn};
use crate::ledger;
use crate::names;
use crate::pipeline::{self, JobOptions, JobStats};
use crate::report::{self, ScreenTime, Segment};
use crate::runtime::{Device, Model, Runtime};
use crate::score;
use crate::video::{VideoInfo, VideoReader};

/// One line of `screentime embed`'s output.
#[derive(Serialize)]
struct FaceLine<'a> {
    image: &'a Path,
    face: usize,
    #[serde(rename = "box")]
    bbox: BBox,
    landmarks: Landmarks,
    score: f32,
    /// Whether the face would count as on screen in a video: turned to the camera, and not
    /// cut by the picture's edge.
    counts: bool,
    embedding: &'a [f32],
}

/// `screentime embed`: one JSON line per face found in each image. An image that cannot be
/// read is reported on stderr and skipped; returns how many were.
pub fn embed(options: &EngineOptions, images: &[PathBuf], out: &mut impl Write) -> Result<usize> {
    let runtime = Runtime::new(options.runtime.clone())?;
    let mut engine = Engine::new(&runtime, options.detect)?;
    let mut failed = 0;
    for path in images {
        let found =
            load_image(path).and_then(|image| Ok((engine.faces(&image)?, image.dimensions())));
        let (faces, (width, height)) = match found {
            Ok(found) => found,
            Err(err) => {
                eprintln!("error: {err}");
                failed += 1;
                continue;
            }
        };
        if faces.is_empty() {
            eprintln!("{}: no face found", path.display());
        }
        for (i, found) in faces.iter().enumerate() {
            let line = FaceLine {
                counts: found.face.counts(width, height),
                image: path,
                face: i,
                bbox: found.face.bbox,
                landmarks: found.face.landmarks,
                score: found.face.score,
                embedding: &found.descriptor,
            };
            report::print_json_line(out, &line)?;
        }
    }
    Ok(failed)
}

/// What `screentime VIDEO --cast DIR` needs beyond the engine options.
#[derive(Debug, Clone)]
pub struct ScreenTimeOptions {
    pub video: PathBuf,
    pub cast: PathBuf,
    /// None: `screentime-out/<video stem>/`.
    pub out: Option<PathBuf>,
    pub json: bool,
    /// `video` is a URL for FFmpeg's protocols, not a file.
    pub url: bool,
    pub quiet: bool,
    pub job: JobOptions,
}

/// A title's `report.json`.
#[derive(Serialize)]
pub struct Report {
    pub video: VideoInfo,
    pub screen_time: Vec<ScreenTime>,
    pub segments: Vec<Segment>,
    pub settings: Settings,
    pub models: Models,
    pub stats: JobStats,
    pub cast_warnings: Vec<String>,
}

#[derive(Serialize)]
pub struct Settings {
    pub cast: PathBuf,
    pub cast_actors: usize,
    pub cast_faces: usize,
    pub threshold: f32,
    pub stride: u64,
    pub workers: usize,
    pub threads_per_worker: usize,
    pub device: Device,
    pub detect_size: u32,
    pub detect_threshold: f32,
    pub detect_every: u64,
    pub embed_every: u64,
    pub min_screen_time: f64,
    pub thumbnails: bool,
}

#[derive(Serialize)]
pub struct Models {
    pub detector_sha256: String,
    pub embedder_sha256: String,
}

/// Embeds (or reads from its cache) the cast at `path`, printing its warnings unless `quiet`.
pub fn load_cast(
    runtime: &Runtime,
    engine: &EngineOptions,
    path: &Path,
    quiet: bool,
) -> Result<Cast> {
    let cast = cast::load(path, runtime, engine.detect)?;
    if !quiet {
        for warning in &cast.warnings {
            warn(warning);
        }
    }
    Ok(cast)
}

/// Measures one video against one cast and writes its result files into `dir`, each
/// atomically, `report.json` last: its presence means the title is complete.
pub fn measure_title(
    runtime: &Runtime,
    engine: &EngineOptions,
    job: &JobOptions,
    video: VideoReader,
    (cast, cast_path): (&Cast, &Path),
    dir: &Path,
) -> Result<Report> {
    let result = pipeline::run(video, cast, runtime, engine.detect, job)?;
    let claim = ledger::claim(dir, result_files(dir, &result.summary, job)?)?;
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    // An earlier run's report.json would vouch for a mix of old and new files if a write below
    // failed: it goes first, and comes back last.
    let report_path = dir.join("report.json");
    if let Err(e) = std::fs::remove_file(&report_path)
        && e.kind() != std::io::ErrorKind::NotFound
    {
        return Err(Error::output(&report_path, e));
    }
    // Face pictures of an earlier run must not outlive it, least of all under --no-thumbnails.
    claim.record()?;
    let video_name = result
        .video
        .path
        .file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned();
    let summary = &result.summary;
    // Identities on screen less than --min-screen-time stay in the data files only.
    let shown: Vec<ScreenTime> = summary
        .screen_time
        .iter()
        .filter(|row| row.seconds >= job.min_screen_time)
        .cloned()
        .collect();
    report::write_csv(&dir.join("screentime.csv"), &summary.screen_time)?;
    report::write_segments(&dir.join("segments.csv"), &summary.segments)?;
    for extension in ["png", "svg"] {
        let chart = dir.join(format!("screentime.{extension}"));
        report::write_chart(&chart, &format!("Screen time in {video_name}"), &shown)?;
        let timeline = dir.join(format!("timeline.{extension}"));
        let title = format!("Who is on screen when in {video_name}");
        let seconds = result.stats.video_seconds;
        report::write_timeline(&timeline, &title, &shown, &summary.segments, seconds)?;
    }
    if job.track.pictures {
        write_faces(dir, summary, &shown)?;
    }
    if job.debug_tracks {
        report::write_json_lines(&dir.join(TRACKS_FILE), &summary.tracks)?;
    }
    let report = Report {
        video: result.video,
        screen_time: result.summary.screen_time,
        segments: result.summary.segments,
        settings: Settings {
            cast: cast_path.to_path_buf(),
            cast_actors: cast.names().len(),
            cast_faces: cast.faces.len(),
            threshold: job.threshold,
            stride: result.stride,
            workers: job.workers,
            threads_per_worker: engine.runtime.threads,
            device: engine.runtime.device,
            detect_size: engine.detect.max_side,
            detect_threshold: engine.detect.threshold,
            detect_every: job.track.detect_every,
            embed_every: job.track.embed_every,
            min_screen_time: job.min_screen_time,
            thumbnails: job.track.pictures,
        },
        models: Models {
            detector_sha256: runtime.model_sha256(Model::Detector).into(),
            embedder_sha256: runtime.model_sha256(Model::Embedder).into(),
        },
        stats: result.stats,
        cast_warnings: cast.warnings.clone(),
    };
    report::write_json(&report_path, &report)?;
    Ok(report)
}

/// Every track and why it got its name, with `--debug-tracks`.
const TRACKS_FILE: &str = "tracks.jsonl";

/// Every file [`measure_title`] writes into `dir`, relative to it: see [`ledger`]. Face pictures
/// go into a folder named after their identity, which must be one plain name.
fn result_files(dir: &Path, summary: &Summary, job: &JobOptions) -> Result<BTreeSet<String>> {
    let mut files: BTreeSet<String> = [
        "report.json",
        "screentime.csv",
        "segments.csv",
        "screentime.png",
        "screentime.svg",
        "timeline.png",
        "timeline.svg",
    ]
    .map(String::from)
    .into();
    if job.debug_tracks {
        files.insert(TRACKS_FILE.into());
    }
    if job.track.pictures {
        files.insert("faces.jpg".into());
        for (name, faces) in &summary.pictures {
            names::component(name)
                .map_err(|reason| Error::output(&dir.join("faces").join(name), reason))?;
            files.extend((1..=faces.len()).map(|i| format!("faces/{name}/{i}.jpg")));
        }
    }
    Ok(files)
}

/// Writes each identity's best faces as `faces/<name>/1.jpg` (the best), `2.jpg`, ..., and a
/// contact sheet `faces.jpg` of the best face of each identity in `shown`.
fn write_faces(dir: &Path, summary: &Summary, shown: &[ScreenTime]) -> Result<()> {
    for (name, pictures) in &summary.pictures {
        let folder = dir.join("faces").join(name);
        std::fs::create_dir_all(&folder).map_err(|e| Error::output(&folder, e))?;
        for (i, picture) in pictures.iter().enumerate() {
            report::write_bytes(&folder.join(format!("{}.jpg", i + 1)), &picture.jpeg)?;
        }
    }
    let mut sheet = Vec::new();
    for row in shown {
        if let Some(best) = summary.pictures.get(&row.name).and_then(|p| p.first()) {
            let image = image::load_from_memory(&best.jpeg)
                .map_err(|e| Error::output(&dir.join("faces.jpg"), e))?;
            sheet.push((row.name.clone(), image.into_rgb8()));
        }
    }
    report::write_contact_sheet(&dir.join("faces.jpg"), &sheet)
}

/// `screentime VIDEO --cast DIR`: screen time per actor, written to the output folder as CSV,
/// JSON and a bar chart (PNG and SVG), and printed as a table (or as the JSON report).
pub fn screentime(
    engine: &EngineOptions,
    options: &ScreenTimeOptions,
    out: &mut impl Write,
) -> Result<()> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    // Opened before the cast is embedded, so a bad video fails at once.
    let threads = options.job.decoder_threads;
    let video = if options.url {
        VideoReader::open_url(&options.video.to_string_lossy(), threads)?
    } else {
        VideoReader::open(&options.video, threads)?
    };
    let cast = load_cast(&runtime, engine, &options.cast, options.quiet)?;
    let dir = options.out.clone().unwrap_or_else(|| {
        let stem = options.video.file_stem().unwrap_or_default();
        Path::new("screentime-out").join(stem)
    });
    let report = measure_title(
        &runtime,
        engine,
        &options.job,
        video,
        (&cast, &options.cast),
        &dir,
    )?;
    let stats = &report.stats;
    if !options.quiet && stats.damaged_packets + stats.damaged_frames > 0 {
        eprintln!(
            "warning: {}: damaged video: {} packets skipped, {} frames decoded with errors concealed",
            options.video.display(),
            stats.damaged_packets,
            stats.damaged_frames
        );
    }

    if options.json {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Error::stdout(e.into()))?;
        writeln!(out).map_err(Error::stdout)?;
    } else {
        print_table(out, &report.screen_time).map_err(Error::stdout)?;
        if !options.quiet {
            eprintln!(
                "results in {} (charts: screentime.png, timeline.png)",
                dir.display()
            );
        }
    }
    Ok(())
}

fn print_table(out: &mut impl Write, rows: &[ScreenTime]) -> std::io::Result<()> {
    let width = rows.iter().map(|r| r.name.len()).max().unwrap_or(4).max(4);
    writeln!(
        out,
        "{:width$}  {:>9}  {:>7}  {:>10}  {:>9}",
        "name", "seconds", "percent", "first_seen", "last_seen"
    )?;
    for r in rows {
        writeln!(
            out,
            "{:width$}  {:>9.2}  {:>6.1}%  {:>10.2}  {:>9.2}",
            r.name, r.seconds, r.percent, r.first_seen, r.last_seen
        )?;
    }
    Ok(())
}

/// `screentime score VIDEO --truth FILE RESULT...`: each result's accuracy against the truth,
/// as a table (or JSON). A result is a `screentime` output folder, or a frame-range CSV in the
/// truth file's own form (another tool's answer).
pub fn score(
    video: &Path,
    truth: &Path,
    results: &[PathBuf],
    json: bool,
    out: &mut impl Write,
) -> Result<Vec<score::Score>> {
    let truth_ranges = score::read_frame_ranges(truth)?;
    let times = score::frame_times(video)?;
    let mut scores = Vec::new();
    for result in results {
        let appearances = if result.is_dir() {
            report::read_segments(&result.join("segments.csv"))?
        } else {
            score::ranges_as_segments(&score::read_frame_ranges(result)?, &times)
        };
        let scored = score::score(&truth_ranges, &times, &appearances);
        if json {
            report::print_json_line(out, &scored)?;
        } else {
            print_score(out, result, &scored).map_err(Error::stdout)?;
        }
        scores.push(scored);
    }
    Ok(scores)
}

fn print_score(out: &mut impl Write, result: &Path, s: &score::Score) -> std::io::Result<()> {
    writeln!(out, "{}", result.display())?;
    let width = s
        .identities
        .iter()
        .map(|i| i.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    writeln!(
        out,
        "  {:width$}  {:>7}  {:>7}  {:>7}  {:>7}  {:>9}  labels",
        "identity", "truth s", "found s", "recall", "false s", "total err"
    )?;
    for i in &s.identities {
        writeln!(
            out,
            "  {:width$}  {:>7.2}  {:>7.2}  {:>6.1}%  {:>7.2}  {:>+9.2}  {}",
            i.name,
            i.truth_seconds,
            i.result_seconds,
            100.0 * i.recall,
            i.false_seconds,
            i.total_error,
            i.labels.join(" ")
        )?;
    }
    for stray in &s.stray {
        writeln!(
            out,
            "  {} stands for nobody: {:.2} s",
            stray.label, stray.seconds
        )?;
    }
    writeln!(
        out,
        "  clip {:.2} s: worst cast recall {:.1}%, false {:.2} s ({:.2}% of the clip), strangers with one label {}/{}",
        s.clip_seconds,
        100.0 * s.worst_cast_recall(),
        s.false_seconds,
        100.0 * s.false_share(),
        s.strangers_one_label,
        s.strangers
    )
}

/// `screentime name RESULTS IDENTITY NAME --cast DIR`: copies the face pictures a run saved for
/// `identity` (usually an `unknown_N`) into the cast as actor `name`, so the next run recognises
/// them by name. Returns the cast photos, as written or already there.
pub fn name(results: &Path, identity: &str, name: &str, cast_dir: &Path) -> Result<Vec<PathBuf>> {
    let faces = results.join("faces").join(identity);
    names::component(identity).map_err(|reason| Error::Input {
        path: faces.clone(),
        reason,
    })?;
    let mut photos: Vec<PathBuf> = std::fs::read_dir(&faces)
        .map_err(|_| Error::Input {
            path: faces.clone(),
            reason: format!(
                "no saved faces of {identity} (is it in this run's report.json, and was the run \
                 made without --no-thumbnails?)"
            ),
        })?
        .filter_map(|entry| Some(entry.ok()?.path()))
        .filter(|path| path.extension().is_some_and(|e| e == "jpg"))
        .collect();
    photos.sort();
    if photos.is_empty() {
        return Err(Error::Input {
            path: faces,
            reason: format!("no saved faces of {identity}"),
        });
    }
    // Named after the run and the identity, so faces of several runs can sit side by side.
    let run = results
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "run".into());
    cast::add_photos(cast_dir, name, &photos, &format!("{run}-{identity}"))
}
