//! The user-facing commands, each a function from options and inputs to outputs; `main.rs`
//! only parses arguments and calls one of these.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cast::{self, Cast};
use crate::detect::{BBox, Landmarks};
use crate::engine::{Engine, EngineOptions, load_image};
use crate::error::{Error, Result};
use crate::pipeline::{self, JobOptions, JobStats};
use crate::report::{self, ScreenTime};
use crate::runtime::{Device, Model, Runtime};
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
    embedding: &'a [f32],
}

/// `screentime embed`: one JSON line per face found in each image. An image that cannot be
/// read is reported on stderr and skipped; returns how many were.
pub fn embed(options: &EngineOptions, images: &[PathBuf], out: &mut impl Write) -> Result<usize> {
    let runtime = Runtime::new(options.runtime.clone())?;
    let mut engine = Engine::new(&runtime, options.detect)?;
    let mut failed = 0;
    for path in images {
        let faces = match load_image(path).and_then(|image| engine.faces(&image)) {
            Ok(faces) => faces,
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
                image: path,
                face: i,
                bbox: found.face.bbox,
                landmarks: found.face.landmarks,
                score: found.face.score,
                embedding: &found.descriptor,
            };
            serde_json::to_writer(&mut *out, &line)
                .map_err(std::io::Error::from)
                .and_then(|()| writeln!(out))
                .map_err(Error::stdout)?;
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
    pub quiet: bool,
    pub job: JobOptions,
}

/// A title's `report.json`.
#[derive(Serialize)]
pub struct Report {
    pub video: VideoInfo,
    pub screen_time: Vec<ScreenTime>,
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
    let mut enrol = Engine::new(runtime, engine.detect)?;
    let cast = cast::load(path, runtime, &mut enrol)?;
    if !quiet {
        for warning in &cast.warnings {
            eprintln!("warning: {warning}");
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
    std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
    // An earlier run's report.json would vouch for a mix of old and new files if a write below
    // failed: it goes first, and comes back last.
    let report_path = dir.join("report.json");
    match std::fs::remove_file(&report_path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(Error::output(&report_path, e));
        }
        _ => {}
    }
    let title = format!(
        "Screen time in {}",
        result
            .video
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
    );
    report::write_csv(&dir.join("screentime.csv"), &result.screen_time)?;
    report::write_chart(&dir.join("screentime.png"), &title, &result.screen_time)?;
    report::write_chart(&dir.join("screentime.svg"), &title, &result.screen_time)?;
    let report = Report {
        video: result.video,
        screen_time: result.screen_time,
        settings: Settings {
            cast: cast_path.to_path_buf(),
            cast_actors: cast.names().len(),
            cast_faces: cast.faces.len(),
            threshold: job.threshold,
            stride: job.stride,
            workers: job.workers,
            threads_per_worker: engine.runtime.threads,
            device: engine.runtime.device,
            detect_size: engine.detect.max_side,
            detect_threshold: engine.detect.threshold,
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

/// `screentime VIDEO --cast DIR`: screen time per actor, written to the output folder as CSV,
/// JSON and a bar chart (PNG and SVG), and printed as a table (or as the JSON report).
pub fn screentime(
    engine: &EngineOptions,
    options: &ScreenTimeOptions,
    out: &mut impl Write,
) -> Result<()> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    // Opened before the cast is embedded, so a bad video fails at once.
    let video = VideoReader::open(&options.video, options.job.decoder_threads)?;
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
            eprintln!("results in {} (chart: screentime.png)", dir.display());
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
