//! Batch runs over a movie catalog: resumable, and shardable across machines.
//!
//! In: a catalog (a folder searched recursively for videos, or a manifest: one video per line,
//! or CSV lines `video,cast` giving a title its own cast folder), a default cast and an output
//! folder. Out: one result folder per title, `OUT/titles/<title>/`, the same files as the
//! single-video job, plus the catalog-wide `catalog.csv`, `catalog.json`, `failures.csv` and
//! `catalog.png`/`.svg`, rebuilt from the title folders at the end (or by `screentime summary`).
//!
//! A title is done when its `done.json` (written last) records the same input size and
//! modification time and the same result-changing settings (threshold, stride, detector
//! settings, models, cast) as the current run: done titles are skipped, so a batch killed at
//! any moment resumes where it stopped, with nothing half-written (every file is written to a
//! temporary name and renamed) and nothing counted twice (the catalog files are rebuilt from the
//! title folders, never appended to). A failing title gets a `failed.json` with its error and
//! does not stop the batch.
//!
//! `--shard I/N` keeps the titles whose stable hash (sha256 of the title name) falls in shard I
//! of N, so N machines, each running one shard against shared storage, split the catalog
//! without talking to each other.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::cast::Cast;
use crate::commands::{load_cast, measure_title};
use crate::engine::EngineOptions;
use crate::error::{Error, Result, warn};
use crate::names;
use crate::pipeline::{self, JobOptions, split_threads};
use crate::report::{self, ScreenTime, Segment};
use crate::runtime::{Model, Runtime};
use crate::video::VideoReader;
use crate::walk::walk;

/// File extensions taken for videos when a catalog folder is searched.
const VIDEO_EXTENSIONS: [&str; 12] = [
    "mp4", "m4v", "mkv", "mov", "avi", "webm", "mpg", "mpeg", "ts", "wmv", "flv", "ogv",
];
const DONE: &str = "done.json";
const FAILED: &str = "failed.json";

/// `I/N`: this process takes shard I (0-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let parsed = s
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index < count => Ok(Shard { index, count }),
            _ => Err(format!("expected I/N with 0 <= I < N, e.g. 0/4; got {s:?}")),
        }
    }
}

impl Shard {
    pub fn contains(&self, title: &str) -> bool {
        let digest = Sha256::digest(title.as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes of a sha256"));
        head % self.count == self.index
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Title {
    /// The video's path as the catalog names it: relative to a catalog folder, or as written in
    /// a manifest. It names the title everywhere (results folder, catalog.csv, sharding).
    pub name: String,
    pub video: PathBuf,
    /// The title's own cast folder, from a manifest's second column.
    pub cast: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct BatchOptions {
    pub catalog: PathBuf,
    pub cast: PathBuf,
    pub out: PathBuf,
    /// Titles measured at once; the CPU threads are shared among them.
    pub jobs: usize,
    pub shard: Option<Shard>,
    /// Measure done titles again.
    pub force: bool,
    pub quiet: bool,
}

/// The catalog's titles, sorted by name. Links to folders in a catalog folder are not followed
/// ([`walk`]); a warning names each, unless `quiet`.
pub fn read_catalog(path: &Path, quiet: bool) -> Result<Vec<Title>> {
    let mut titles = if path.is_dir() {
        let found = walk(path)?;
        if !quiet {
            for link in &found.folder_links {
                warn(&format!(
                    "{}: a link to a folder; not followed",
                    link.display()
                ));
            }
        }
        videos(path, found.files)
    } else {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        parse_manifest(&text, path.parent().unwrap_or(Path::new(""))).map_err(|reason| {
            Error::Catalog {
                path: path.to_path_buf(),
                reason,
            }
        })?
    };
    if titles.is_empty() {
        return Err(Error::Catalog {
            path: path.to_path_buf(),
            reason: format!("no videos in it ({})", VIDEO_EXTENSIONS.join(", ")),
        });
    }
    titles.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = titles.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(Error::Catalog {
            path: path.to_path_buf(),
            reason: format!("{} is listed twice", pair[0].name),
        });
    }
    Ok(titles)
}

/// The files with a video extension among `files`, as titles named by their path under `root`.
fn videos(root: &Path, files: Vec<PathBuf>) -> Vec<Title> {
    files
        .into_iter()
        .filter(|path| {
            path.extension().is_some_and(|ext| {
                VIDEO_EXTENSIONS.contains(&ext.to_string_lossy().to_ascii_lowercase().as_str())
            })
        })
        .map(|path| {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            // Parts joined by `/` whatever the system's separator; a `\` in a Unix file name
            // stays part of its name.
            let parts: Vec<_> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect();
            Title {
                name: parts.join("/"),
                video: path.clone(),
                cast: None,
            }
        })
        .collect()
}

/// One title per line: `video` or CSV `video,cast`; relative paths are relative to the
/// manifest's folder. Blank lines and lines starting with `#` are skipped, as is a first line
/// naming the columns (`video,cast`).
pub fn parse_manifest(text: &str, base: &Path) -> std::result::Result<Vec<Title>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut titles = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 1))?;
        let line = record.position().map_or(i as u64 + 1, |p| p.line());
        let fields: Vec<&str> = record.iter().collect();
        match fields.as_slice() {
            [] | [""] => continue,
            [video, ..] if i == 0 && video.eq_ignore_ascii_case("video") => continue,
            [video] | [video, ""] => titles.push(Title {
                name: video.to_string(),
                video: base.join(video),
                cast: None,
            }),
            [video, cast] => titles.push(Title {
                name: video.to_string(),
                video: base.join(video),
                cast: Some(base.join(cast)),
            }),
            _ => return Err(format!("line {line}: expected `video` or `video,cast`")),
        }
    }
    Ok(titles)
}

/// Where a title's results go: `OUT/titles/` and the title's `/`-separated parts, each one
/// [`names::escape`]d, so that every title stays inside the output folder and no two titles
/// share a folder (`../v/a.ts` and `__/v/a.ts`, `/v/a.ts` and `v/a.ts` each get their own).
pub fn title_dir(out: &Path, title: &str) -> PathBuf {
    let mut dir = out.join("titles");
    for part in title.split('/') {
        dir.push(names::escape(part));
    }
    dir
}

/// What `done.json` records; a title is skipped only when all of it matches.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Completion {
    title: String,
    video_bytes: u64,
    video_modified_ns: u128,
    settings: ResultSettings,
}

/// The settings that change a title's results (not threads or device).
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct ResultSettings {
    threshold: f32,
    /// "auto" or a number: auto gives the same frames for the same video.
    stride: String,
    detect_every: u64,
    embed_every: u64,
    min_screen_time: f64,
    thumbnails: bool,
    detect_size: u32,
    detect_threshold: f32,
    detector_sha256: String,
    embedder_sha256: String,
    /// sha256 over the cast's names and descriptors.
    cast_sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Failure {
    title: String,
    error: String,
}

/// What happened to each title of this run.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub done: usize,
    pub skipped: usize,
    pub failed: usize,
    pub other_shards: usize,
}

/// `screentime batch`: measures every title of the catalog (of this shard) that is not done yet,
/// then rebuilds the catalog files.
pub fn run(
    engine: &EngineOptions,
    job: &JobOptions,
    options: &BatchOptions,
) -> Result<BatchOutcome> {
    let all = read_catalog(&options.catalog, options.quiet)?;
    let (titles, others): (Vec<Title>, Vec<Title>) = all
        .into_iter()
        .partition(|t| options.shard.is_none_or(|s| s.contains(&t.name)));

    // Every cast is embedded once for the whole batch, before any title starts.
    let runtime = Runtime::new(engine.runtime.clone())?;
    let mut casts: BTreeMap<PathBuf, std::result::Result<Cast, String>> = BTreeMap::new();
    casts.insert(
        options.cast.clone(),
        Ok(load_cast(&runtime, engine, &options.cast, options.quiet)?),
    );
    for path in titles.iter().filter_map(|t| t.cast.as_ref()) {
        if !casts.contains_key(path) {
            let cast = load_cast(&runtime, engine, path, options.quiet).map_err(|e| e.to_string());
            casts.insert(path.clone(), cast);
        }
    }

    // The thread budget the options were split for is shared among the titles measured at once;
    // a title takes one thread at least, so more jobs than threads would only add memory.
    let budget = engine.runtime.threads * job.workers;
    if options.jobs > budget && !options.quiet {
        warn(&format!(
            "--jobs {}: using {budget}, one per thread",
            options.jobs
        ));
    }
    let jobs = options.jobs.min(budget).clamp(1, titles.len().max(1));
    let (workers, threads_per_worker) = split_threads((budget / jobs).max(1));
    let mut engine = engine.clone();
    engine.runtime.threads = threads_per_worker;
    let job = JobOptions {
        workers,
        progress: false,
        ..job.clone()
    };

    let outcome = Mutex::new(BatchOutcome {
        other_shards: others.len(),
        ..BatchOutcome::default()
    });
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some(title) = titles.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if pipeline::stopped() {
                        break;
                    }
                    let cast_path = title.cast.as_ref().unwrap_or(&options.cast);
                    let status = process(
                        &runtime,
                        &engine,
                        &job,
                        options,
                        title,
                        (&casts[cast_path], cast_path),
                    );
                    let mut outcome = outcome.lock().expect("no thread panics holding it");
                    match status {
                        Status::Done(seconds) => {
                            outcome.done += 1;
                            say(options, format!("done     {} ({seconds:.1} s)", title.name));
                        }
                        Status::Skipped => {
                            outcome.skipped += 1;
                            say(options, format!("skipped  {} (already done)", title.name));
                        }
                        Status::Interrupted => {}
                        Status::Failed(error) => {
                            outcome.failed += 1;
                            eprintln!("failed   {}: {error}", title.name);
                        }
                    }
                }
            });
        }
    });
    if pipeline::stopped() {
        return Err(Error::Interrupted {
            path: options.catalog.clone(),
        });
    }
    // A shard may have had no titles, and the others not have finished any yet.
    let finished = self::titles(&options.out)?;
    if !finished.is_empty() {
        write_catalog(&options.out, finished)?;
    }
    Ok(outcome.into_inner().expect("no thread panics holding it"))
}

fn say(options: &BatchOptions, line: String) {
    if !options.quiet {
        eprintln!("{line}");
    }
}

enum Status {
    /// Done now, in this many seconds.
    Done(f64),
    Skipped,
    /// Stopped by Ctrl-C: not a failure of the title, and not recorded.
    Interrupted,
    Failed(String),
}

fn process(
    runtime: &Runtime,
    engine: &EngineOptions,
    job: &JobOptions,
    options: &BatchOptions,
    title: &Title,
    (cast, cast_path): (&std::result::Result<Cast, String>, &Path),
) -> Status {
    let dir = title_dir(&options.out, &title.name);
    let attempt = || -> std::result::Result<Status, String> {
        let cast = cast.as_ref().map_err(Clone::clone)?;
        let completion =
            completion(runtime, engine, job, title, cast).map_err(|e| e.to_string())?;
        // A done title whose results are damaged is measured again.
        if !options.force && read_done(&dir).is_ok_and(|(done, _)| done == completion) {
            return Ok(Status::Skipped);
        }
        // A stale marker must not outlive the results it vouched for.
        remove(&dir.join(DONE))?;
        let video =
            VideoReader::open(&title.video, job.decoder_threads).map_err(|e| e.to_string())?;
        let report = measure_title(runtime, engine, job, video, (cast, cast_path), &dir)
            .map_err(|e| e.to_string())?;
        report::write_json(&dir.join(DONE), &completion).map_err(|e| e.to_string())?;
        remove(&dir.join(FAILED))?;
        Ok(Status::Done(report.stats.elapsed_seconds))
    };
    attempt().unwrap_or_else(|error| {
        if pipeline::stopped() {
            return Status::Interrupted;
        }
        let failure = Failure {
            title: title.name.clone(),
            error: error.clone(),
        };
        let recorded = std::fs::create_dir_all(&dir)
            .map_err(|e| e.to_string())
            .and_then(|()| {
                report::write_json(&dir.join(FAILED), &failure).map_err(|e| e.to_string())
            });
        match recorded {
            Ok(()) => Status::Failed(error),
            Err(also) => Status::Failed(format!(
                "{error} (and the failure could not be recorded: {also})"
            )),
        }
    })
}

fn remove(path: &Path) -> std::result::Result<(), String> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("{}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

fn completion(
    runtime: &Runtime,
    engine: &EngineOptions,
    job: &JobOptions,
    title: &Title,
    cast: &Cast,
) -> Result<Completion> {
    let meta = std::fs::metadata(&title.video).map_err(|source| Error::Io {
        path: title.video.clone(),
        source,
    })?;
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos());
    let mut cast_hash = Sha256::new();
    for face in &cast.faces {
        cast_hash.update(face.name.as_bytes());
        cast_hash.update([0]);
        for value in face.descriptor {
            cast_hash.update(value.to_le_bytes());
        }
    }
    Ok(Completion {
        title: title.name.clone(),
        video_bytes: meta.len(),
        video_modified_ns: modified,
        settings: ResultSettings {
            threshold: job.threshold,
            stride: job.stride.to_string(),
            detect_every: job.track.detect_every,
            embed_every: job.track.embed_every,
            min_screen_time: job.min_screen_time,
            thumbnails: job.track.pictures,
            detect_size: engine.detect.max_side,
            detect_threshold: engine.detect.threshold,
            detector_sha256: runtime.model_sha256(Model::Detector).into(),
            embedder_sha256: runtime.model_sha256(Model::Embedder).into(),
            cast_sha256: format!("{:x}", cast_hash.finalize()),
        },
    })
}

/// `path`'s JSON, or why it cannot be had, naming the file.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> std::result::Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: damaged: {e}", path.display()))
}

/// The rows of a title's `report.json` that the catalog is made of.
#[derive(Deserialize)]
struct Rows {
    screen_time: Vec<ScreenTime>,
    segments: Vec<Segment>,
}

/// A done title's marker and results, or why they cannot be used.
fn read_done(dir: &Path) -> std::result::Result<(Completion, Rows), String> {
    Ok((
        read_json(&dir.join(DONE))?,
        read_json(&dir.join("report.json"))?,
    ))
}

/// What the catalog files hold.
#[derive(Debug, Default, Serialize)]
pub struct CatalogSummary {
    pub titles: Vec<TitleSummary>,
    /// Total screen time per cast member over every done title (unknown_N labels are per title,
    /// so they are left out here).
    pub actors: Vec<ScreenTime>,
}

#[derive(Debug, Serialize)]
pub struct TitleSummary {
    pub title: String,
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub screen_time: Vec<ScreenTime>,
    pub segments: Vec<Segment>,
}

/// `screentime summary OUT`: rebuilds `catalog.csv` (title, actor, seconds, percent),
/// `failures.csv` (title, error), `catalog.json` and the catalog chart from every title folder
/// under `OUT/titles`. Titles come in name order, so the files depend only on the results, not
/// on which machine or shard made them or when. A folder without a done or failed title is an
/// error, and gets no catalog.
pub fn summary(out: &Path) -> Result<CatalogSummary> {
    let no_results = |reason: &str| Error::Input {
        path: out.to_path_buf(),
        reason: reason.into(),
    };
    if !out.is_dir() {
        return Err(no_results("no such folder"));
    }
    let titles = titles(out)?;
    if titles.is_empty() {
        return Err(no_results(
            "no batch results: no title under titles/ is done or failed (is this the --out of \
             screentime batch?)",
        ));
    }
    write_catalog(out, titles)
}

/// Writes the catalog files of [`summary`] from these titles.
fn write_catalog(out: &Path, titles: Vec<TitleSummary>) -> Result<CatalogSummary> {
    let mut totals: BTreeMap<&str, (u64, f64)> = BTreeMap::new();
    for row in titles.iter().flat_map(|t| &t.screen_time) {
        if !row.name.starts_with("unknown_") {
            let total = totals.entry(&row.name).or_default();
            total.0 += row.frames;
            total.1 += row.seconds;
        }
    }
    let all_seconds: f64 = totals.values().map(|t| t.1).sum();
    let mut actors: Vec<ScreenTime> = totals
        .into_iter()
        .map(|(name, (frames, seconds))| ScreenTime {
            name: name.to_string(),
            frames,
            seconds,
            percent: if all_seconds > 0.0 {
                100.0 * seconds / all_seconds
            } else {
                0.0
            },
            first_seen: 0.0,
            last_seen: 0.0,
        })
        .collect();
    actors.sort_by(|a, b| {
        b.seconds
            .total_cmp(&a.seconds)
            .then_with(|| a.name.cmp(&b.name))
    });

    let catalog: Vec<Vec<String>> = titles
        .iter()
        .flat_map(|t| {
            t.screen_time.iter().map(|r| {
                vec![
                    t.title.clone(),
                    r.name.clone(),
                    format!("{:.3}", r.seconds),
                    format!("{:.3}", r.percent),
                ]
            })
        })
        .collect();
    report::write_table(
        &out.join("catalog.csv"),
        &["title", "actor", "seconds", "percent"],
        &catalog,
    )?;
    let failures: Vec<Vec<String>> = titles
        .iter()
        .filter_map(|t| Some(vec![t.title.clone(), t.error.clone()?]))
        .collect();
    report::write_table(&out.join("failures.csv"), &["title", "error"], &failures)?;
    let summary = CatalogSummary { titles, actors };
    report::write_json(&out.join("catalog.json"), &summary)?;
    let chart_title = "Screen time over the catalog";
    report::write_chart(&out.join("catalog.png"), chart_title, &summary.actors)?;
    report::write_chart(&out.join("catalog.svg"), chart_title, &summary.actors)?;
    Ok(summary)
}

/// Every finished (done or failed) title under `OUT/titles`, in title order; writes nothing.
pub fn titles(out: &Path) -> Result<Vec<TitleSummary>> {
    let folders = out.join("titles");
    let mut titles = Vec::new();
    for dir in markers(&folders)? {
        // A marker too damaged to name its title: the folder stands in.
        let folder = || {
            let relative = dir.strip_prefix(&folders).unwrap_or(&dir);
            relative.to_string_lossy().into_owned()
        };
        let summary = if dir.join(DONE).exists() {
            match read_done(&dir) {
                Ok((done, rows)) => TitleSummary {
                    title: done.title,
                    status: "done",
                    error: None,
                    screen_time: rows.screen_time,
                    segments: rows.segments,
                },
                Err(reason) => TitleSummary::failed(
                    read_json::<Completion>(&dir.join(DONE)).map_or_else(|_| folder(), |d| d.title),
                    format!("{reason} (it is measured again on the next batch run)"),
                ),
            }
        } else {
            match read_json::<Failure>(&dir.join(FAILED)) {
                Ok(failure) => TitleSummary::failed(failure.title, failure.error),
                Err(reason) => TitleSummary::failed(folder(), reason),
            }
        };
        titles.push(summary);
    }
    titles.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(titles)
}

impl TitleSummary {
    fn failed(title: String, error: String) -> TitleSummary {
        TitleSummary {
            title,
            status: "failed",
            error: Some(error),
            screen_time: Vec::new(),
            segments: Vec::new(),
        }
    }
}

/// Folders under `dir` holding a done or failed marker.
fn markers(dir: &Path) -> Result<BTreeSet<PathBuf>> {
    if !dir.exists() {
        return Ok(BTreeSet::new());
    }
    Ok(walk(dir)?
        .files
        .iter()
        .filter(|file| file.file_name().is_some_and(|n| n == DONE || n == FAILED))
        .filter_map(|file| Some(file.parent()?.to_path_buf()))
        .collect())
}

/// Prints the summary's titles for a person: one line each.
pub fn print_summary(summary: &CatalogSummary, out: &Path) {
    let failed = summary.titles.iter().filter(|t| t.error.is_some()).count();
    eprintln!(
        "{} titles done, {failed} failed; catalog: {}",
        summary.titles.len() - failed,
        out.join("catalog.csv").display()
    );
    for title in summary.titles.iter().filter(|t| t.error.is_some()) {
        eprintln!(
            "  failed: {}: {}",
            title.title,
            title.error.as_deref().unwrap_or_default()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_splits_every_title_into_exactly_one_shard() {
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x/2".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for n in 0..200 {
            let title = format!("season {}/episode {n}.mkv", n % 7);
            assert_eq!(shards.iter().filter(|s| s.contains(&title)).count(), 1);
        }
    }

    #[test]
    fn manifest_lines_and_csv() {
        let text = "video,cast\n# comment\n\na.mp4\nshows/b.mkv, casts/b\n\"c, the movie.mp4\",\n";
        let titles = parse_manifest(text, Path::new("/base")).unwrap();
        let names: Vec<&str> = titles.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a.mp4", "shows/b.mkv", "c, the movie.mp4"]);
        assert_eq!(titles[1].video, Path::new("/base/shows/b.mkv"));
        assert_eq!(titles[1].cast.as_deref(), Some(Path::new("/base/casts/b")));
        assert!(
            parse_manifest("a,b,c\n", Path::new(""))
                .unwrap_err()
                .contains("line 1")
        );
    }

    #[test]
    fn title_folders_stay_inside_the_output_one_per_title() {
        let out = Path::new("/out");
        assert_eq!(
            title_dir(out, "s1/e1.mp4"),
            Path::new("/out/titles/s1/e1.mp4")
        );
        assert_eq!(
            title_dir(out, "/abs/../x.mp4"),
            Path::new("/out/titles/%/abs/%2E./x.mp4")
        );
        let titles = [
            "../v/a.ts",
            "__/v/a.ts",
            "/v/a.ts",
            "v/a.ts",
            "./v/a.ts",
            "v//a.ts",
        ];
        let dirs: std::collections::BTreeSet<PathBuf> =
            titles.iter().map(|t| title_dir(out, t)).collect();
        assert_eq!(dirs.len(), titles.len());
        assert!(dirs.iter().all(|d| d.starts_with("/out/titles")
            && d.components().all(|c| matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::RootDir
            ))));
    }
}
