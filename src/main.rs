use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use screentime::Error;
use screentime::batch::{self, BatchOptions, Shard};
use screentime::commands::ScreenTimeOptions;
use screentime::detect::DetectOptions;
use screentime::engine::EngineOptions;
use screentime::error::warn;
use screentime::photos;
use screentime::pipeline::{self, JobOptions, Stride};
use screentime::runtime::{self, Device, RuntimeOptions, default_models_dir};
use screentime::track::TrackOptions;

const EXIT_CODES: &str = "Exit codes: 0 success; 1 an input, output or the installation failed \
(the message names the file); 2 bad command line; 130 interrupted (Ctrl-C), no results written.";

/// Measures how long each actor is on screen in a video.
///
/// Frontal faces are found with a face detector (CenterFace) and followed through each shot as
/// face tracks; each track's faces are aligned, embedded into dlib's 128-D face descriptor and
/// matched against the cast's photos, and the track is named by their vote. Tracks that match
/// no one are grouped over the whole video into stable unknown_N labels. Screen time and each
/// appearance per identity are written as CSV and JSON, a bar chart, a timeline, and a
/// thumbnail of each face.
#[derive(Parser)]
#[command(
    name = "screentime",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Find the faces in photos and print each one's box, landmarks, score and 128-D embedding
    /// as a JSON line: the way to check the models by hand, or to feed embeddings to other tools.
    #[command(after_help = EXIT_CODES)]
    Embed {
        /// Images to analyse (jpg, png, webp, bmp).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// For each face in a photo, left to right, the cast members who look most like it: to
    /// check whom a face will be taken for before measuring a video, or to find an actor's
    /// lookalikes. An identity's distance is that of its closest cast photo; similarity is
    /// max(0, 1 - distance / (2 * threshold)): 1 for identical faces, 0.5 at the threshold.
    #[command(after_help = EXIT_CODES)]
    Lookalike {
        /// The photo whose faces to look up.
        photo: PathBuf,
        /// The cast to compare with (see `screentime --help`).
        #[arg(long, value_name = "DIR")]
        cast: PathBuf,
        /// Identities to list per face.
        #[arg(long, value_name = "N", default_value_t = 3, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..))]
        top: u64,
        /// Identities farther than this distance are not listed; a face with none within it
        /// says so.
        #[arg(long, value_name = "DISTANCE", default_value_t = 0.6, allow_negative_numbers = true, value_parser = distance)]
        threshold: f32,
        /// Print JSON instead of the table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Whether two photos show the same person: the distance between their largest faces, with
    /// the verdict "same person" below 0.6 (the threshold dlib's network was trained for), else
    /// "different people". A quick check of a cast photo, or of two people who look alike.
    #[command(after_help = EXIT_CODES)]
    Similarity {
        /// The first photo.
        a: PathBuf,
        /// The second photo.
        b: PathBuf,
        /// Print one JSON line instead of the sentence.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Sort a folder of photos by who is in them, without knowing anyone in advance: faces
    /// closer than 0.55 are linked, linked faces form a person. Writes OUT/groups.csv (photo,
    /// box, group per face); a good start for a cast folder (`--link` gives a folder per person).
    #[command(after_help = EXIT_CODES)]
    Group {
        /// Folder searched recursively for photos (jpg, jpeg, png, webp, bmp).
        photos: PathBuf,
        /// Output folder for groups.csv and, with --link, the group folders.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Name a group after the cast member its faces are on average within 0.6 of; other
        /// groups are person_1, person_2, ... in photo order.
        #[arg(long, value_name = "DIR")]
        cast: Option<PathBuf>,
        /// Print only the photos of this group (a cast name or person_N).
        #[arg(long, value_name = "NAME")]
        person: Option<String>,
        /// Make OUT/<group>/ folders of symbolic links to each group's photos (existing links
        /// are replaced, so running again is safe).
        #[arg(long)]
        link: bool,
        /// A group needs faces in at least this many photos to count as a person; smaller ones
        /// (a stranger in one photo) are left "ungrouped".
        #[arg(long, value_name = "N", default_value_t = 2, allow_negative_numbers = true, value_parser = at_least_one)]
        min_photos: usize,
        #[command(flatten)]
        engine: EngineArgs,
    },
    /// Name a face once: add the best faces a run saved for one of its identities (an unknown_N)
    /// to the cast as a new or existing actor, so the next run recognises that person by name.
    /// The pictures are copied from RESULTS/faces/IDENTITY/ to CAST/NAME/.
    #[command(after_help = EXIT_CODES)]
    Name {
        /// The output folder of a run (the one holding report.json and faces/).
        results: PathBuf,
        /// The identity as that run reported it, e.g. unknown_3.
        identity: String,
        /// Who it is: the actor's name in the cast.
        name: String,
        /// The cast folder to add the faces to.
        #[arg(long, value_name = "DIR")]
        cast: PathBuf,
    },
    /// Where a person appears in finished results: every continuous appearance (a segment of
    /// segments.csv), with its title, start, end and length in seconds.
    #[command(after_help = EXIT_CODES)]
    Search {
        /// The name as in the results (a cast member or unknown_N).
        name: String,
        /// Output folders of `screentime VIDEO` (holding report.json) or of `screentime batch`.
        #[arg(required = true)]
        results: Vec<PathBuf>,
    },
    /// How right a result is, against a truth file made by watching the video: per identity,
    /// the share of its time on screen that was found (recall), the seconds credited to it
    /// where it is not on screen, and whether each stranger got exactly one unknown_N label.
    /// For checking settings (or another tool) on footage of your own.
    #[command(after_help = SCORE_HELP)]
    Score {
        /// The video the results are of: its frame times turn frames into seconds.
        video: PathBuf,
        /// CSV with header name,start_frame,end_frame: one row per continuous stretch in which a
        /// person's face is visible (frames from 0, both ends included). Strangers are
        /// unknown:<tag>; a leading ? (?name) marks frames where a person watching could not
        /// say, which count neither way.
        #[arg(long, value_name = "FILE")]
        truth: PathBuf,
        /// Output folders of `screentime VIDEO`, or frame-range CSV files in the truth's form.
        #[arg(required = true)]
        results: Vec<PathBuf>,
        /// One JSON line per result instead of the tables.
        #[arg(long)]
        json: bool,
    },
    /// Measure every video of a catalog, each into its own result folder, then write the
    /// catalog-wide catalog.csv and chart. Resumable: titles already done with the same input
    /// and settings are skipped, so an interrupted batch just runs again. Shardable: N machines
    /// sharing storage each run `--shard I/N`, then one runs `screentime summary OUT`.
    #[command(after_help = BATCH_EXIT_CODES)]
    Batch {
        /// A folder (searched recursively for video files), or a manifest: one video path per
        /// line, or CSV lines `video,cast` giving a title its own cast folder. Relative paths
        /// are relative to the manifest.
        catalog: PathBuf,
        /// The cast for every title without its own (see `screentime --help`). Embedded once
        /// for the whole batch.
        #[arg(long, value_name = "DIR")]
        cast: PathBuf,
        /// Output folder: OUT/titles/<title>/ per title, catalog files in OUT.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Titles measured at once, sharing the CPU threads. More than 1 helps on many cores,
        /// where one title's frames cannot keep every core busy.
        #[arg(long, value_name = "N", default_value_t = 1, allow_negative_numbers = true, value_parser = at_least_one)]
        jobs: usize,
        /// Take only shard I of N (0-based), chosen by a stable hash of each title's path, so
        /// that N machines split the catalog without coordination (Kubernetes: the Indexed Job's
        /// JOB_COMPLETION_INDEX; Slurm: SLURM_ARRAY_TASK_ID).
        #[arg(long, value_name = "I/N")]
        shard: Option<Shard>,
        /// Measure titles again even when they are done.
        #[arg(long)]
        force: bool,
        #[command(flatten)]
        measure: MeasureArgs,
    },
    /// Rebuild OUT's catalog.csv (title, actor, seconds, percent), failures.csv, catalog.json and
    /// catalog chart from every finished title folder: after the shards of a batch finish.
    #[command(after_help = EXIT_CODES)]
    Summary {
        /// The output folder of `screentime batch`.
        out: PathBuf,
    },
}

const SCORE_HELP: &str = "A frame counts as credited to an identity when its middle lies in one of \
its appearances; unknown_N labels and truth strangers are paired one to one, most shared time \
first. Exit codes: 0 \
scored; 1 a file could not be read; 2 bad command line.";

/// A whole number from 1.
fn at_least_one(text: &str) -> Result<usize, String> {
    number(text, "a whole number from 1", |n| n >= 1)
}

/// The detector's image side: its input is padded to multiples of 32.
fn detect_size(text: &str) -> Result<u32, String> {
    number(text, "a whole number of pixels from 32", |n| n >= 32)
}

/// A descriptor distance: above 0 (nothing would match) and at most 2 (face descriptors are
/// about unit length, so everyone would match everyone).
fn distance(text: &str) -> Result<f32, String> {
    number(text, "a number above 0 and at most 2", |d| {
        d > 0.0 && d <= 2.0
    })
}

/// A detector score: above 0 and below 1.
fn score(text: &str) -> Result<f32, String> {
    number(text, "a number above 0 and below 1", |s| s > 0.0 && s < 1.0)
}

/// Seconds: 0 or more, and finite.
fn seconds(text: &str) -> Result<f64, String> {
    number(text, "a number from 0", |s: f64| s >= 0.0 && s.is_finite())
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

const BATCH_EXIT_CODES: &str = "Exit codes: 0 every title done; 1 a title failed (listed in \
OUT/failures.csv, the others still done) or the batch could not start; 2 bad command line; \
130 interrupted (Ctrl-C): the titles done so far stay done, run the batch again to go on.";

#[derive(Args)]
struct RunArgs {
    /// The video to measure: anything FFmpeg reads (mp4, mkv, mov, webm, ...).
    #[arg(required = true)]
    video: Option<PathBuf>,
    /// Whom to recognise: a folder with one sub-folder of photos per actor (cast/Tom Cruise/*.jpg)
    /// and/or photos named after actors (cast/Tom Cruise.jpg). The largest face in each photo is
    /// used; more photos per actor (angles, ages, lighting) recognise them more often. The
    /// embeddings are cached in the folder as screentime-cast.json, which can also be given
    /// here alone.
    #[arg(long, value_name = "DIR", required = true)]
    cast: Option<PathBuf>,
    /// Output folder [default: screentime-out/<video name>/].
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
    /// Print the full JSON report on stdout instead of the table.
    #[arg(long)]
    json: bool,
    /// VIDEO is a URL (http://, https://, rtsp://, ...) for FFmpeg to open; without it, VIDEO
    /// is always a file, whatever its name looks like.
    #[arg(long)]
    url: bool,
    #[command(flatten)]
    measure: MeasureArgs,
}

/// How faces are counted: shared by the single-video job and batches.
#[derive(Args)]
struct MeasureArgs {
    /// Largest face-descriptor distance at which a face counts as a cast member. dlib's network
    /// was trained for 0.6; lower is stricter (fewer false matches, more unknowns).
    #[arg(long, value_name = "DISTANCE", default_value_t = 0.6, allow_negative_numbers = true, value_parser = distance)]
    threshold: f32,
    /// Analyse every Nth frame (by timestamp); each stands for the time until the next analysed
    /// one, and the frames between are not converted, and those no other frame is predicted from
    /// not even decoded. auto (the default) analyses about 5 frames per second of video (every
    /// 5th at 25 fps): with face tracks, each appearance's start and end are right to about a
    /// fifth of a second, at several times the speed. 1 analyses every frame: exact to the frame.
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
    #[arg(long, value_name = "SECONDS", default_value_t = 1.0, allow_negative_numbers = true, value_parser = seconds)]
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
    quiet: bool,
    #[command(flatten)]
    engine: EngineArgs,
}

#[derive(Args)]
struct EngineArgs {
    /// Folder holding the models and ONNX Runtime, as installed by scripts/setup.
    /// Also set by $SCREENTIME_MODELS.
    #[arg(long, value_name = "DIR", default_value_os_t = default_models_dir())]
    models: PathBuf,
    /// Where the networks run. cuda needs a build with `--features cuda` and `scripts/setup --cuda`;
    /// when CUDA cannot start, screentime says so and runs on the CPU.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
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
    fn options(self, quiet: bool) -> EngineOptions {
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
    fn options(self) -> (EngineOptions, JobOptions) {
        let mut engine = self.engine.options(self.quiet);
        let (workers, threads_per_worker) = pipeline::split_threads(engine.runtime.threads);
        engine.runtime.threads = threads_per_worker;
        let job = JobOptions {
            threshold: self.threshold,
            stride: self.stride,
            workers,
            decoder_threads: 0,
            track: TrackOptions {
                detect_every: self.detect_every,
                embed_every: self.embed_every,
                pictures: !self.no_thumbnails,
            },
            min_screen_time: self.min_screen_time,
            debug_tracks: self.debug_tracks,
            progress: !self.quiet && std::io::stderr().is_terminal(),
        };
        (engine, job)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    pipeline::stop_on_ctrl_c();
    let stdout = &mut std::io::stdout().lock();
    let result = match cli.command {
        Some(Command::Embed { images, engine }) => {
            screentime::commands::embed(&engine.options(false), &images, stdout)
        }
        Some(Command::Lookalike {
            photo,
            cast,
            top,
            threshold,
            json,
            engine,
        }) => {
            let options = photos::LookalikeOptions {
                photo,
                cast,
                top: usize::try_from(top).unwrap_or(usize::MAX),
                threshold,
                json,
            };
            photos::lookalike(&engine.options(false), &options, stdout).map(|_| 0)
        }
        Some(Command::Similarity { a, b, json, engine }) => {
            photos::similarity(&engine.options(false), (&a, &b), json, stdout).map(|_| 0)
        }
        Some(Command::Group {
            photos: dir,
            out,
            cast,
            person,
            link,
            min_photos,
            engine,
        }) => {
            let options = photos::GroupOptions {
                photos: dir,
                out,
                cast,
                person,
                link,
                min_photos,
            };
            photos::group(&engine.options(false), &options, stdout).map(|grouping| {
                let missing = options
                    .person
                    .as_ref()
                    .is_some_and(|p| grouping.photos_of(p).is_empty());
                grouping.failed + usize::from(missing)
            })
        }
        Some(Command::Name {
            results,
            identity,
            name,
            cast,
        }) => screentime::commands::name(&results, &identity, &name, &cast).map(|added| {
            eprintln!(
                "{} faces of {identity} are in {} now: the next run with --cast {} names them {name}",
                added.len(),
                cast.join(&name).display(),
                cast.display()
            );
            0
        }),
        Some(Command::Search { name, results }) => {
            photos::search(&name, &results, stdout).map(|_| 0)
        }
        Some(Command::Score {
            video,
            truth,
            results,
            json,
        }) => screentime::commands::score(&video, &truth, &results, json, stdout).map(|_| 0),
        Some(Command::Batch {
            catalog,
            cast,
            out,
            jobs,
            shard,
            force,
            measure,
        }) => {
            let quiet = measure.quiet;
            let (engine, job) = measure.options();
            let options = BatchOptions {
                catalog,
                cast,
                out,
                jobs,
                shard,
                force,
                quiet,
            };
            batch::run(&engine, &job, &options).map(|outcome| outcome.failed)
        }
        Some(Command::Summary { out }) => batch::summary(&out).map(|summary| {
            batch::print_summary(&summary, &out);
            summary.titles.iter().filter(|t| t.error.is_some()).count()
        }),
        None => {
            let run = cli.run;
            let quiet = run.measure.quiet;
            let (engine, job) = run.measure.options();
            let options = ScreenTimeOptions {
                video: run.video.expect("required by clap"),
                cast: run.cast.expect("required by clap"),
                out: run.out,
                json: run.json,
                url: run.url,
                quiet,
                job,
            };
            screentime::commands::screentime(&engine, &options, stdout).map(|()| 0)
        }
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err}");
            match err {
                Error::Interrupted { .. } => ExitCode::from(130),
                _ => ExitCode::FAILURE,
            }
        }
    }
}
