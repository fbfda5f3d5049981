//! Argument groups that several commands share, each turned into the library's options in one
//! place, and the parsers that check values as they are read.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::Args;

use crate::error::warn;
use crate::face::detect::DetectOptions;
use crate::face::engine::EngineOptions;
use crate::face::model::DetectorKind;
use crate::face::model::EmbedderKind;
use crate::face::runtime::{self, Device, RuntimeOptions, default_models_dir};
use crate::job::pipeline::JobOptions;
use crate::output::answer::Format;
use crate::output::charts::MIN_SCREEN_TIME;
use crate::track::TrackOptions;
use crate::video::sampler::Stride;

/// The cast, for the commands that recognise people.
#[derive(Args)]
pub struct CastArg {
    /// Whom to recognise: a folder with one sub-folder of photos per actor (cast/Tom Cruise/*.jpg)
    /// and/or photos named after actors (cast/Tom Cruise.jpg). The largest face in each photo is
    /// used; more photos per actor (angles, ages, lighting) recognise them more often. The
    /// embeddings are cached in the folder as screentime-cast.json, which can also be given
    /// here alone.
    #[arg(long, value_name = "DIR")]
    pub cast: PathBuf,
}

/// `--json`, for the commands that print an answer.
#[derive(Args)]
pub struct JsonArg {
    /// Print JSON lines instead of the table: one JSON object per line, each an item of the
    /// answer (a face, a result, an appearance), for scripts and jq.
    #[arg(long)]
    pub json: bool,
}

impl JsonArg {
    pub fn format(&self) -> Format {
        Format::json_if(self.json)
    }
}

/// How faces are counted: shared by the single-video job and batches.
#[derive(Args)]
pub struct MeasureArgs {
    /// Largest face-descriptor distance at which a face counts as a cast member; lower is
    /// stricter (fewer false matches, more unknowns). Default: the embedder's own, 0.6 for
    /// dlib's network (what it was trained for), 1.24 for ArcFace (where 0.1% of pairs of
    /// different people matched on labelled photos and frames; see docs/embedders.md).
    #[arg(long, value_name = "DISTANCE", allow_negative_numbers = true, value_parser = distance)]
    threshold: Option<f32>,
    /// Analyse every Nth frame (by timestamp); the frames between are looked at only where a
    /// face came or went, to find the frame it happened, so appearances start and end at the
    /// right frame at any stride. auto (the default) analyses about 5 frames per second of
    /// video (every 5th at 25 fps), at several times the speed of 1, which analyses every frame.
    /// At a constant frame rate the frames no other is predicted from (most B-frames) are not
    /// even decoded, and an edge next to one may be a frame late.
    #[arg(
        long,
        value_name = "N|auto",
        default_value = "auto",
        allow_negative_numbers = true
    )]
    stride: Stride,
    /// Look for new faces in the whole frame every Nth analysed frame (and at every shot cut);
    /// in between, faces already found are only followed, in a small region around each, at a
    /// tenth of the cost. A face entering mid-shot is found up to N-1 frames late; 1 searches
    /// every frame.
    #[arg(long, value_name = "N", default_value_t = TrackOptions::default().detect_every, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..))]
    detect_every: u64,
    /// Embed a followed face every Nth analysed frame (and on every frame while its match is
    /// close to the threshold); its identity is a vote over these. 1 embeds every face of every
    /// frame: slower, and on the test videos no more accurate.
    #[arg(long, value_name = "N", default_value_t = TrackOptions::default().embed_every, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..))]
    embed_every: u64,
    /// Identities on screen for less than this many seconds are left out of the charts and the
    /// contact sheet (they stay in report.json and the CSV files): a face seen for under a
    /// second is mostly a passer-by or a false detection, and would crowd the charts.
    #[arg(long, value_name = "SECONDS", default_value_t = MIN_SCREEN_TIME, allow_negative_numbers = true, value_parser = seconds)]
    min_screen_time: f64,
    /// Write no face pictures at all (no faces/ folder, no faces.jpg contact sheet): for
    /// footage whose faces must not be copied. `screentime name` then has nothing to add.
    #[arg(long)]
    no_thumbnails: bool,
    /// Also write tracks.jsonl: every face track (a face followed through a shot) with its
    /// start and end, each embedded face's frame, box and distances to the closest cast
    /// members, the track's own distances, and the name it got and why. For finding out why a
    /// face was missed or misnamed.
    #[arg(long)]
    debug_tracks: bool,
    /// No progress bar and no warnings on stderr (errors are still reported).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
pub struct EngineArgs {
    /// Folder holding the models and ONNX Runtime, as installed by scripts/setup.
    /// Also set by $SCREENTIME_MODELS.
    #[arg(long, value_name = "DIR", default_value_os_t = default_models_dir())]
    models: PathBuf,
    /// Where the networks run. cuda needs a build with `--features cuda` and `scripts/setup
    /// --cuda`; when CUDA cannot start, screentime says so and runs on the CPU.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// The network that turns a face into a descriptor. dlib (the default): dlib's ResNet,
    /// CC0. arcface: InsightFace's ArcFace MobileFaceNet (w600k_mbf), trained on far more faces
    /// for turned, aged and small faces (on the development footage (docs/accuracy.md): a little higher recall, about
    /// the same wrong credit); installed only by `scripts/setup --arcface`, its weights are for
    /// non-commercial research only.
    #[arg(long, value_enum, default_value_t = EmbedderKind::Dlib)]
    embedder: EmbedderKind,
    /// The face detector's weights. int8 (the default): CenterFace quantized to 8-bit integers,
    /// half the time a frame, the same screen time on the development footage (docs/accuracy.md). fp32: its float
    /// weights, for comparing or where exactly the network's own boxes are wanted.
    #[arg(long, value_enum, default_value_t = DetectorKind::default())]
    detector: DetectorKind,
    /// CPU threads to use; the default is every core. More than the cores, or than the memory
    /// holds workers for, are not used (a warning says so).
    #[arg(long, value_name = "N", allow_negative_numbers = true, value_parser = at_least_one)]
    threads: Option<usize>,
    /// Face-centre score needed to report a face (0-1). Lower finds more blurred or turned faces
    /// and more false ones.
    #[arg(long, value_name = "SCORE", default_value_t = DetectOptions::default().threshold, allow_negative_numbers = true, value_parser = score)]
    detect_threshold: f32,
    /// Longer side, in pixels, of the image the detector sees. Larger finds smaller faces but costs
    /// time roughly with the pixel count; images are never enlarged.
    #[arg(long, value_name = "PIXELS", default_value_t = DetectOptions::default().max_side, allow_negative_numbers = true, value_parser = detect_size)]
    detect_size: u32,
}

impl EngineArgs {
    /// The options asked for, with `--threads` held to [`runtime::thread_limit`] (a warning
    /// says so, unless `quiet`).
    pub fn into_options(self, quiet: bool) -> EngineOptions {
        let defaults = RuntimeOptions::default();
        let limit = runtime::thread_limit();
        let threads = match self.threads {
            Some(asked) if asked > limit.threads => {
                if !quiet {
                    warn(&format!(
                        "--threads {asked}: using {} ({})",
                        limit.threads, limit.reason
                    ));
                }
                limit.threads
            }
            Some(asked) => asked,
            None => defaults.threads,
        };
        EngineOptions {
            runtime: RuntimeOptions {
                models_dir: self.models,
                device: self.device,
                threads,
                detector: self.detector,
                embedder: self.embedder,
                quiet,
                ..defaults
            },
            detect: DetectOptions {
                threshold: self.detect_threshold,
                max_side: self.detect_size,
                ..DetectOptions::default()
            },
        }
    }
}

impl MeasureArgs {
    /// The engine's options (its threads the whole budget, shared out by the job that runs) and
    /// the job's.
    pub fn into_options(self) -> (EngineOptions, JobOptions) {
        let engine = self.engine.into_options(self.quiet);
        let thresholds = engine.thresholds();
        let job = JobOptions {
            threshold: self.threshold.unwrap_or(thresholds.same_person),
            stride: self.stride,
            // Set from the thread budget by the command, which knows how many videos share it
            // (`pipeline::share_threads`).
            workers: 1,
            decoder_threads: 1,
            track: TrackOptions {
                detect_every: self.detect_every,
                embed_every: self.embed_every,
                pictures: !self.no_thumbnails,
                uncertain: thresholds.uncertain,
            },
            min_screen_time: self.min_screen_time,
            debug_tracks: self.debug_tracks,
            progress: !self.quiet && std::io::stderr().is_terminal(),
        };
        (engine, job)
    }
}

/// A whole number from 1.
pub fn at_least_one(text: &str) -> Result<usize, String> {
    number(text, "a whole number from 1", |n| n >= 1)
}

/// The detector's image side: its input is padded to multiples of 32.
fn detect_size(text: &str) -> Result<u32, String> {
    number(text, "a whole number of pixels from 32", |n| n >= 32)
}

/// A descriptor distance: above 0 (nothing would match) and at most 2 (face descriptors are
/// about unit length, ArcFace's exactly, so everyone would match everyone).
pub fn distance(text: &str) -> Result<f32, String> {
    number(text, "a number above 0 and at most 2", |d| {
        d > 0.0 && d <= 2.0
    })
}

/// A detector score: above 0 and below 1.
fn score(text: &str) -> Result<f32, String> {
    number(text, "a number above 0 and below 1", |s| s > 0.0 && s < 1.0)
}

/// Seconds: 0 or more, and finite.
pub fn seconds(text: &str) -> Result<f64, String> {
    number(text, "a number from 0", |s: f64| s >= 0.0 && s.is_finite())
}

/// The longest a slideshow shows one photo, in seconds: beyond a minute a still is no show, and
/// an unbounded time would encode until the disk is full.
pub const MAX_SECONDS_PER_PHOTO: f64 = 60.0;

/// A slideshow's seconds per photo: more than 0, at most [`MAX_SECONDS_PER_PHOTO`].
pub fn seconds_per_photo(text: &str) -> Result<f64, String> {
    number(text, "a number above 0 and at most 60", |s: f64| {
        s > 0.0 && s <= MAX_SECONDS_PER_PHOTO
    })
}

/// A number for which `valid` holds (NaN never does), or a message saying what is `expected`.
fn number<T: std::str::FromStr + Copy>(
    text: &str,
    expected: &str,
    valid: impl Fn(T) -> bool,
) -> Result<T, String> {
    match text.parse() {
        Ok(n) if valid(n) => Ok(n),
        _ => Err(format!("expected {expected}, not {text:?}")),
    }
}
