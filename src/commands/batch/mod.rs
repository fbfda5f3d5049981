//! Batch runs over a movie catalog: resumable, and shardable across machines.
//!
//! In: a catalog (a folder searched recursively for videos, or a manifest: one video per line,
//! or CSV lines `video,cast` giving a title its own cast folder), a default cast and an output
//! folder. Out: one result folder per title, `OUT/titles/<title>/`, the same files as the
//! single-video job, plus the catalog-wide `catalog.csv`, `catalog.json`, `failures.csv` and
//! `catalog.png`/`.svg` (with `--cooccurrence`, the catalog's `cooccurrence.csv` and heat map),
//! rebuilt from the title folders at the end (or by `screentime summary`).
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

pub mod titles;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use sha2::{Digest, Sha256};

use crate::commands::{load_cast, measure_into};
use crate::error::{Error, Result, escape_controls, one_line, warn};
use crate::face::engine::EngineOptions;
use crate::face::runtime::Runtime;
use crate::identity::cast::Cast;
use crate::job::interrupt;
use crate::job::pipeline::{JobOptions, share_threads};
use crate::output::catalog::{self, CatalogSummary};
use crate::output::ledger;
use crate::output::result_dir::{
    self, Completion, CompletionSettings, DONE_STATUS, FAILED_STATUS, INCOMPLETE_STATUS, Settings,
    TitleSummary, title_dir,
};
use crate::video::decode::VideoReader;
use titles::{Shard, Title, read_catalog};

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
    /// Write the catalog's co-appearance matrix and heat map too.
    pub cooccurrence: bool,
}

/// What happened to each title of this run.
#[derive(Debug, Default)]
pub struct BatchOutcome {
    pub done: usize,
    /// Measured now, over part of the video only.
    pub incomplete: usize,
    pub skipped: usize,
    pub failed: usize,
    pub other_shards: usize,
}

/// `screentime batch`: measures every title of the catalog (of this shard) that is not done yet,
/// then rebuilds the catalog files. A title measured over part of its video only (now or by
/// the run this one resumes) ends it with [`Error::Incomplete`] when no title failed.
pub fn run(
    engine: &EngineOptions,
    job: &JobOptions,
    options: &BatchOptions,
) -> Result<BatchOutcome> {
    ledger::check_folder(&options.out)?;
    let all = read_catalog(&options.catalog, options.quiet)?;
    let (titles, others): (Vec<Title>, Vec<Title>) = all
        .into_iter()
        .partition(|t| options.shard.is_none_or(|s| s.contains(&t.name)));

    // The thread budget is shared among the titles measured at once; a title takes one thread
    // at least, so more jobs than threads would only add memory.
    let budget = engine.runtime.threads;
    if options.jobs > budget && !options.quiet {
        warn(&format!(
            "--jobs {}: using {budget}, one per thread",
            options.jobs
        ));
    }
    let jobs = options.jobs.min(budget).clamp(1, titles.len().max(1));
    let (engine, mut job) = share_threads(engine, job, jobs);
    job.progress = false;

    // Every cast is embedded once for the whole batch, before any title starts.
    let runtime = Runtime::new(engine.runtime.clone())?;
    let mut casts: BTreeMap<PathBuf, std::result::Result<Cast, String>> = BTreeMap::new();
    casts.insert(
        options.cast.clone(),
        Ok(load_cast(&runtime, &engine, &options.cast, options.quiet)?),
    );
    for path in titles.iter().filter_map(|t| t.cast.as_ref()) {
        if !casts.contains_key(path) {
            let cast = load_cast(&runtime, &engine, path, options.quiet).map_err(|e| e.to_string());
            casts.insert(path.clone(), cast);
        }
    }

    let outcome = Mutex::new(BatchOutcome {
        other_shards: others.len(),
        ..BatchOutcome::default()
    });
    let next = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| {
                while let Some(title) = titles.get(next.fetch_add(1, Ordering::Relaxed)) {
                    if interrupt::stopped() {
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
                    let name = escape_controls(&title.name);
                    match status {
                        Status::Done(seconds) => {
                            outcome.done += 1;
                            say(options, format!("done     {name} ({seconds:.1} s)"));
                        }
                        Status::Incomplete(coverage) => {
                            outcome.incomplete += 1;
                            eprintln!("incomplete {name}: {}", one_line(&coverage));
                        }
                        Status::Skipped => {
                            outcome.skipped += 1;
                            say(options, format!("skipped  {name} (already done)"));
                        }
                        Status::Interrupted => {}
                        Status::Failed(error) => {
                            outcome.failed += 1;
                            eprintln!("failed   {name}: {}", one_line(&error));
                        }
                    }
                }
            });
        }
    });
    if interrupt::stopped() {
        return Err(Error::Interrupted {
            path: options.catalog.clone(),
        });
    }
    // A shard may have had no titles, and the others not have finished any yet.
    let finished = result_dir::finished_titles(&options.out)?;
    let catalog = if finished.is_empty() {
        CatalogSummary::default()
    } else {
        catalog::write(&options.out, finished, options.cooccurrence)?
    };
    let outcome = outcome.into_inner().expect("no thread panics holding it");
    // A title of this run done over part of its video, now or by an earlier run it resumes,
    // makes the run's ending incomplete, as `summary` says of the whole catalog.
    if outcome.failed == 0 {
        let ours: Vec<TitleSummary> = (catalog.titles.into_iter())
            .filter(|t| titles.iter().any(|ours| ours.name == t.title))
            .collect();
        verdict(&options.catalog, &ours)?;
    }
    Ok(outcome)
}

fn say(options: &BatchOptions, line: String) {
    if !options.quiet {
        eprintln!("{line}");
    }
}

enum Status {
    /// Done now, in this many seconds.
    Done(f64),
    /// Done now, over part of the video only: how much of it.
    Incomplete(String),
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
        if !options.force && dir.is_done_as(&completion) {
            return Ok(Status::Skipped);
        }
        dir.clear_done()?;
        let video = VideoReader::open(&title.video, 1).map_err(|e| e.to_string())?;
        let report = measure_into(runtime, engine, job, video, (cast, cast_path), &dir)
            .map_err(|e| e.to_string())?;
        // Marked done all the same: measuring the same file again reads no more of it.
        dir.mark_done(&completion)?;
        if !report.stats.complete {
            return Ok(Status::Incomplete(
                report.stats.coverage(report.video.duration),
            ));
        }
        Ok(Status::Done(report.stats.elapsed_seconds))
    };
    attempt().unwrap_or_else(|error| {
        if interrupt::stopped() {
            return Status::Interrupted;
        }
        match dir.mark_failed(&title.name, &error) {
            Ok(()) => Status::Failed(error),
            Err(also) => Status::Failed(format!(
                "{error} (and the failure could not be recorded: {also})"
            )),
        }
    })
}

/// What the title's done marker must hold for it to be skipped: its video as it is now, and
/// this run's settings, models and cast.
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
        for value in &face.descriptor {
            cast_hash.update(value.to_le_bytes());
        }
    }
    Ok(Completion {
        title: title.name.clone(),
        video_bytes: meta.len(),
        video_modified_ns: modified,
        settings: CompletionSettings {
            stride: job.stride.to_string(),
            settings: Settings::of(engine, job),
            detector_sha256: runtime.detector_sha256().into(),
            embedder_sha256: runtime.embedder_sha256().into(),
            cast_sha256: format!("{:x}", cast_hash.finalize()),
        },
    })
}

/// `screentime summary OUT`: rebuilds `catalog.csv` (title, actor, seconds, percent),
/// `failures.csv` (title, error), `catalog.json` and the catalog chart from every title folder
/// under `OUT/titles`. Titles come in name order, so the files depend only on the results, not
/// on which machine or shard made them or when. A folder without a done or failed title is an
/// error, and gets no catalog. With `cooccurrence`, the catalog's co-appearance matrix too.
pub fn summary(out: &Path, cooccurrence: bool) -> Result<CatalogSummary> {
    let no_results = |reason: &str| Error::input(out, reason);
    if !out.is_dir() {
        return Err(no_results("no such folder"));
    }
    let titles = result_dir::finished_titles(out)?;
    if titles.is_empty() {
        return Err(no_results(
            "no batch results: no title under titles/ is done or failed (is this the --out of \
             screentime batch?)",
        ));
    }
    catalog::write(out, titles, cooccurrence)
}

/// How a batch or `summary` over `titles` of the catalog `catalog` ends: Ok(false) (exit code 1)
/// when a title failed; else an [`Error::Incomplete`] (exit code 3) when a title's result covers
/// only part of its video, which a script must not take for a whole result; else Ok(true).
pub fn verdict(catalog: &Path, titles: &[TitleSummary]) -> Result<bool> {
    if titles.iter().any(|t| t.status == FAILED_STATUS) {
        return Ok(false);
    }
    let incomplete: Vec<&str> = (titles.iter())
        .filter(|t| t.status == INCOMPLETE_STATUS)
        .map(|t| t.title.as_str())
        .collect();
    if incomplete.is_empty() {
        return Ok(true);
    }
    Err(Error::Incomplete {
        path: catalog.to_path_buf(),
        reason: format!(
            "{} titles cover only part of their video ({}); catalog.csv gives each one's \
             read_percent",
            incomplete.len(),
            incomplete.join(", ")
        ),
    })
}

/// Prints the summary's titles for a person: one line each.
pub fn print_summary(summary: &CatalogSummary, out: &Path) {
    let count = |status| summary.titles.iter().filter(|t| t.status == status).count();
    eprintln!(
        "{} titles done, {} incomplete, {} failed; catalog: {}",
        count(DONE_STATUS),
        count(INCOMPLETE_STATUS),
        count(FAILED_STATUS),
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
