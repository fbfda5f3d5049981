//! The command line: one `Args` struct per command, turned into the library's options, and
//! [`Cli::run`], which calls the command. `--help` says why each option is there.

mod shared;

use std::ffi::OsString;
use std::io::Write;
use std::path::PathBuf;

use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::commands::batch::{self, BatchOptions, titles::Shard};
use crate::commands::group::GroupOptions;
use crate::commands::lookalike::LookalikeOptions;
use crate::commands::measure::ScreenTimeOptions;
use crate::commands::slideshow::SlideshowOptions;
use crate::commands::{
    embed, group, lookalike, measure, name, score, search, similarity, slideshow,
};
use crate::error::Result;
use crate::job::interrupt;
use shared::{
    CastArg, EngineArgs, JsonArg, MeasureArgs, at_least_one, distance, seconds, seconds_per_photo,
};

const EXIT_CODES: &str = "Exit codes: 0 success; 1 an input, output or the installation failed \
(the message names the file); 2 bad command line; 3 results written but incomplete: the video \
could be read only in part (cut short, packets skipped), and the results cover that part (the \
message says how much); 130 interrupted (Ctrl-C), no results written.";

/// Measures how long each actor is on screen in a video.
///
/// Frontal faces are found with a face detector (CenterFace) and followed through each shot as face
/// tracks; each track's faces are aligned, embedded into dlib's 128-D face descriptor (or, with
/// --embedder arcface, ArcFace's) and matched against the cast's photos, and once the video is seen
/// each track is named by its faces' mean distance to each actor. Tracks that match no one are
/// grouped over the whole video into stable unknown_N labels. Appearances start and end at their
/// frame. Screen time and each appearance per identity are written as CSV and JSON, a bar chart, a
/// timeline, and a thumbnail of each face.
#[derive(Parser)]
#[command(
    name = "screentime",
    version,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    run: RunArgs,
}

#[derive(Subcommand)]
enum Command {
    /// Find the faces in photos and print each one's box, landmarks, score and embedding (128
    /// numbers from dlib's network, 512 from ArcFace's) as a JSON line: the way to check the models
    /// by hand, or to feed embeddings to other tools.
    #[command(after_help = EXIT_CODES)]
    Embed(EmbedArgs),
    /// For each face in a photo, left to right, the cast members who look most like it: to
    /// check whom a face will be taken for before measuring a video, or to find an actor's
    /// lookalikes. An identity's distance is that of its closest cast photo; similarity is
    /// max(0, 1 - distance / (2 * threshold)): 1 for identical faces, 0.5 at the threshold.
    #[command(after_help = EXIT_CODES)]
    Lookalike(LookalikeArgs),
    /// Whether two photos show the same person: the distance between their largest faces, with the
    /// verdict "same person" below the embedder's threshold (0.6 for dlib's network, what it was
    /// trained for), else "different people". A quick check of a cast photo, or of two people who
    /// look alike.
    #[command(after_help = EXIT_CODES)]
    Similarity(SimilarityArgs),
    /// Sort a folder of photos by who is in them, without knowing anyone in advance: faces closer
    /// than 0.55 (with dlib's embedder) are linked, linked faces form a person. Writes
    /// OUT/groups.csv (photo, box, group per face); a good start for a cast folder (`--link` gives
    /// a folder per person).
    #[command(after_help = EXIT_CODES)]
    Group(GroupArgs),
    /// A video of one person's photos: every photo under PHOTOS with a face of a cast member,
    /// in the order they were taken, each shown whole (letterboxed into 1280x720, so no face
    /// is cut off) for a few seconds. Written as H.264 with FFmpeg; the photos are listed.
    #[command(after_help = EXIT_CODES)]
    Slideshow(SlideshowArgs),
    /// Name a face once: add the best faces a run saved for one of its identities (an unknown_N)
    /// to the cast as a new or existing actor, so the next run recognises that person by name.
    /// The pictures are copied from RESULTS/faces/IDENTITY/ to CAST/NAME/.
    #[command(after_help = EXIT_CODES)]
    Name(NameArgs),
    /// Where a person appears in finished results: every continuous appearance (a segment of
    /// segments.csv), with its title, start, end and length in seconds. With --with, the scenes
    /// where people are on screen together; with --photo, a person nobody named, found by a
    /// photo under the label (unknown_N) they got in each title, to `screentime name` them.
    #[command(after_help = EXIT_CODES)]
    Search(SearchArgs),
    /// How right a result is, against a truth file made by watching the video: per identity,
    /// the share of its time on screen that was found (recall), the seconds credited to it
    /// where it is not on screen, and whether each stranger got exactly one unknown_N label.
    /// For checking settings (or another tool) on footage of your own.
    #[command(after_help = SCORE_HELP)]
    Score(ScoreArgs),
    /// Measure every video of a catalog, each into its own result folder, then write the
    /// catalog-wide catalog.csv and chart. Resumable: titles already done with the same input
    /// and settings are skipped, so an interrupted batch just runs again. Shardable: N machines
    /// sharing storage each run `--shard I/N`, then one runs `screentime summary OUT`.
    #[command(after_help = BATCH_EXIT_CODES)]
    Batch(BatchArgs),
    /// Rebuild OUT's catalog.csv (title, actor, seconds, percent), failures.csv, catalog.json and
    /// catalog chart from every finished title folder: after the shards of a batch finish.
    #[command(after_help = EXIT_CODES)]
    Summary(SummaryArgs),
}

#[derive(Args)]
pub struct EmbedArgs {
    /// Images to analyse (jpg, png, webp, bmp).
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct LookalikeArgs {
    /// The photo whose faces to look up.
    pub photo: PathBuf,
    #[command(flatten)]
    pub cast: CastArg,
    /// Identities to list per face.
    #[arg(long, value_name = "N", default_value_t = 3, allow_negative_numbers = true, value_parser = clap::value_parser!(u64).range(1..))]
    pub top: u64,
    /// Identities farther than this distance are not listed; a face with none within it
    /// says so. Default: the embedder's same-person threshold (dlib 0.6).
    #[arg(long, value_name = "DISTANCE", allow_negative_numbers = true, value_parser = distance)]
    pub threshold: Option<f32>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct SimilarityArgs {
    /// The first photo.
    pub a: PathBuf,
    /// The second photo.
    pub b: PathBuf,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct GroupArgs {
    /// Folder searched recursively for photos (jpg, jpeg, png, webp, bmp).
    pub photos: PathBuf,
    /// Output folder for groups.csv and, with --link, the group folders.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Name a group after the cast member its faces are on average within the same-person
    /// threshold of (dlib 0.6); other
    /// groups are person_1, person_2, ... in photo order.
    #[arg(long, value_name = "DIR")]
    pub cast: Option<PathBuf>,
    /// Print only the photos of this group (a cast name or person_N).
    #[arg(long, value_name = "NAME")]
    pub person: Option<String>,
    /// Make OUT/<group>/ folders of symbolic links to each group's photos (existing links
    /// are replaced, so running again is safe).
    #[arg(long)]
    pub link: bool,
    /// A group needs faces in at least this many photos to count as a person; smaller ones
    /// (a stranger in one photo) are left "ungrouped".
    #[arg(long, value_name = "N", default_value_t = 2, allow_negative_numbers = true, value_parser = at_least_one)]
    pub min_photos: usize,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct SlideshowArgs {
    /// Folder searched recursively for photos (jpg, jpeg, png, webp, bmp).
    pub photos: PathBuf,
    /// Whose photos: a cast member's name. A photo counts when one of its faces is closer to
    /// this person than to anyone else in the cast, within the embedder's same-person threshold
    /// (dlib 0.6).
    #[arg(long, value_name = "NAME")]
    pub person: String,
    #[command(flatten)]
    pub cast: CastArg,
    /// The video to write (.mp4, .mkv or .mov); an existing file is never replaced.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// How long each photo is shown (at most 60 s). Photos are ordered by the date the camera wrote into them
    /// (EXIF), else by the file's modification time.
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0, allow_negative_numbers = true, value_parser = seconds_per_photo)]
    pub seconds_per_photo: f64,
    /// No progress bar and no warnings on stderr (errors are still reported).
    #[arg(long)]
    pub quiet: bool,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct NameArgs {
    /// The output folder of a run (the one holding report.json and faces/).
    pub results: PathBuf,
    /// The identity as that run reported it, e.g. unknown_3.
    pub identity: String,
    /// Who it is: the actor's name in the cast.
    pub name: String,
    #[command(flatten)]
    pub cast: CastArg,
}

#[derive(Args)]
pub struct SearchArgs {
    /// The name as in the results (a cast member or unknown_N); not given with --photo.
    #[arg(required_unless_present = "photo")]
    pub name: Option<OsString>,
    /// Output folders of `screentime VIDEO` (holding report.json) or of `screentime batch`.
    #[arg(required_unless_present = "photo")]
    pub results: Vec<PathBuf>,
    /// Only the stretches where this person is on screen too: the scenes two characters share.
    /// Give it again for more people; all of them must be there.
    #[arg(long, value_name = "NAME", conflicts_with = "photo")]
    pub with: Vec<String>,
    /// With --with: people count as together when each is on screen no more than this many
    /// seconds from the others (a dialogue filmed shot - reverse shot shows one face at a
    /// time). A stretch runs from the first to the last moment one of them is on screen while
    /// the others are that near; 0 (the default) is only the time they are on screen at once.
    #[arg(long, value_name = "SECONDS", requires = "with", default_value_t = 0.0, allow_negative_numbers = true, value_parser = seconds)]
    pub within: f64,
    /// Find the person in this photo (its largest face) instead of a name: in each title the
    /// identity whose faces' mean descriptor is within the embedder's same-person threshold of
    /// it (dlib 0.6; the closest, if several), named or unknown_N, even where nobody named them.
    /// The results must be made with the same --embedder; results from before descriptors were
    /// kept are skipped.
    #[arg(long, value_name = "FACE.jpg")]
    pub photo: Option<PathBuf>,
    #[command(flatten)]
    pub engine: EngineArgs,
}

#[derive(Args)]
pub struct ScoreArgs {
    /// The video the results are of: its frame times turn frames into seconds.
    pub video: PathBuf,
    /// CSV with header name,start_frame,end_frame: one row per continuous stretch in which a
    /// person's face is visible (frames from 0, both ends included). Strangers are
    /// unknown:<tag>; a leading ? (?name) marks frames where a person watching could not
    /// say, which count neither way.
    #[arg(long, value_name = "FILE")]
    pub truth: PathBuf,
    /// Output folders of `screentime VIDEO`, or frame-range CSV files in the truth's form.
    #[arg(required = true)]
    pub results: Vec<PathBuf>,
    #[command(flatten)]
    pub json: JsonArg,
}

#[derive(Args)]
pub struct BatchArgs {
    /// A folder (searched recursively for video files), or a manifest: one video path per
    /// line, or CSV lines `video,cast` giving a title its own cast folder. Relative paths
    /// are relative to the manifest.
    pub catalog: PathBuf,
    // The cast for every title without its own; embedded once for the whole batch.
    #[command(flatten)]
    pub cast: CastArg,
    /// Output folder: OUT/titles/<title>/ per title, catalog files in OUT.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Titles measured at once, sharing the CPU threads. More than 1 helps on many cores,
    /// where one title's frames cannot keep every core busy.
    #[arg(long, value_name = "N", default_value_t = 1, allow_negative_numbers = true, value_parser = at_least_one)]
    pub jobs: usize,
    /// Take only shard I of N (0-based), chosen by a stable hash of each title's path, so
    /// that N machines split the catalog without coordination (Kubernetes: the Indexed Job's
    /// JOB_COMPLETION_INDEX; Slurm: SLURM_ARRAY_TASK_ID).
    #[arg(long, value_name = "I/N")]
    pub shard: Option<Shard>,
    /// Measure titles again even when they are done.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub cooccurrence: CooccurrenceArg,
    #[command(flatten)]
    pub measure: MeasureArgs,
}

#[derive(Args)]
pub struct SummaryArgs {
    /// The output folder of `screentime batch`.
    pub out: PathBuf,
    #[command(flatten)]
    pub cooccurrence: CooccurrenceArg,
}

#[derive(Args)]
pub struct CooccurrenceArg {
    /// Also write OUT/cooccurrence.csv: the seconds each two cast members are on screen at once,
    /// added up over every title (each title's own matrix is always in its folder), with its
    /// heat map (cooccurrence.png, .svg) shown in catalog.html.
    #[arg(long)]
    pub cooccurrence: bool,
}

const SCORE_HELP: &str = "A frame counts as credited to an identity when its middle lies in one of \
its appearances; unknown_N labels and truth strangers are paired one to one, most shared time \
first. Exit codes: 0 \
scored; 1 a file could not be read; 2 bad command line.";

const BATCH_EXIT_CODES: &str = "Exit codes: 0 every title done; 1 a title failed (listed in \
OUT/failures.csv, the others still done) or the batch could not start; 2 bad command line; 3 no \
title failed, but one is incomplete (its video could be read only in part; catalog.csv gives \
its status and read_percent); \
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

impl Cli {
    /// Runs the command asked for, its answer on `out`. Ok(false): it finished, but some of its
    /// inputs failed (each reported on stderr).
    pub fn run(self, out: &mut impl Write) -> Result<bool> {
        self.run_command(out)
            .map_err(|err| err.or_interrupted(interrupt::stopped()))
    }

    fn run_command(self, out: &mut impl Write) -> Result<bool> {
        let Some(command) = self.command else {
            let run = self.run;
            let quiet = run.measure.quiet;
            let (engine, job) = run.measure.into_options();
            let options = ScreenTimeOptions {
                video: run.video.expect("required by clap"),
                cast: run.cast.expect("required by clap"),
                out: run.out,
                json: run.json,
                url: run.url,
                quiet,
                job,
            };
            return measure::run(&engine, &options, out).map(|()| true);
        };
        match command {
            Command::Embed(args) => {
                embed::run(&args.engine.into_options(false), &args.images, out).map(|f| f == 0)
            }
            Command::Lookalike(args) => {
                let engine = args.engine.into_options(false);
                let options = LookalikeOptions {
                    photo: args.photo,
                    cast: args.cast.cast,
                    top: usize::try_from(args.top).unwrap_or(usize::MAX),
                    threshold: args.threshold.unwrap_or(engine.thresholds().same_person),
                    json: args.json.json,
                };
                lookalike::run(&engine, &options, out).map(|_| true)
            }
            Command::Similarity(args) => {
                let engine = args.engine.into_options(false);
                similarity::run(&engine, (&args.a, &args.b), args.json.json, out).map(|_| true)
            }
            Command::Group(args) => {
                let options = GroupOptions {
                    photos: args.photos,
                    out: args.out,
                    cast: args.cast,
                    person: args.person,
                    link: args.link,
                    min_photos: args.min_photos,
                };
                let grouping = group::run(&args.engine.into_options(false), &options, out)?;
                let missing = options
                    .person
                    .as_ref()
                    .is_some_and(|p| grouping.photos_of(p).is_empty());
                Ok(grouping.failed == 0 && !missing)
            }
            Command::Slideshow(args) => {
                let options = SlideshowOptions {
                    photos: args.photos,
                    person: args.person,
                    cast: args.cast.cast,
                    out: args.out,
                    seconds_per_photo: args.seconds_per_photo,
                    quiet: args.quiet,
                };
                let engine = args.engine.into_options(args.quiet);
                slideshow::run(&engine, &options, out).map(|_| true)
            }
            Command::Name(args) => {
                let cast = &args.cast.cast;
                let added = name::run(&args.results, &args.identity, &args.name, cast)?;
                eprintln!(
                    "{} faces of {} are in {} now: the next run with --cast {} names them {}",
                    added.len(),
                    args.identity,
                    cast.join(&args.name).display(),
                    cast.display(),
                    args.name
                );
                Ok(true)
            }
            Command::Search(args) => {
                let Some(photo) = args.photo else {
                    let name = args.name.expect("required by clap");
                    let people = [vec![name.to_string_lossy().into_owned()], args.with].concat();
                    return search::run(&people, args.within, &args.results, out).map(|_| true);
                };
                // With --photo, the first of the results lands where the name would.
                let results: Vec<PathBuf> =
                    (args.name.map(PathBuf::from).into_iter().chain(args.results)).collect();
                if results.is_empty() {
                    Cli::command()
                        .error(
                            ErrorKind::MissingRequiredArgument,
                            "search --photo needs the result folders to search",
                        )
                        .exit();
                }
                let engine = args.engine.into_options(false);
                search::by_photo(&engine, &photo, &results, out).map(|_| true)
            }
            Command::Score(args) => {
                score::run(&args.video, &args.truth, &args.results, args.json.json, out)
                    .map(|_| true)
            }
            Command::Batch(args) => {
                let quiet = args.measure.quiet;
                let (engine, job) = args.measure.into_options();
                let options = BatchOptions {
                    catalog: args.catalog,
                    cast: args.cast.cast,
                    out: args.out,
                    jobs: args.jobs,
                    shard: args.shard,
                    force: args.force,
                    quiet,
                    cooccurrence: args.cooccurrence.cooccurrence,
                };
                batch::run(&engine, &job, &options).map(|outcome| outcome.failed == 0)
            }
            Command::Summary(args) => {
                let summary = batch::summary(&args.out, args.cooccurrence.cooccurrence)?;
                batch::print_summary(&summary, &args.out);
                batch::verdict(&args.out, &summary.titles)
            }
        }
    }
}
