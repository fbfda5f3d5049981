//! A result folder: the one place that knows what is in it. One video's results (`report.json`,
//! `report.html`, the CSV tables, charts, the exports `cooccurrence.csv`, `appearances.vtt` and
//! `appearances.edl`, `faces/`, `faces.jpg`, `tracks.jsonl`) and, for a
//! batch title, the marker saying it is done (`done.json`, with what it was made from) or failed
//! (`failed.json`).
//! A batch output holds one such folder per title under `titles/`.
//!
//! `report.json` is written last and removed first: its presence means the other files are
//! complete and of the same run. One list, [`FILES`], says which files a run writes and how: the
//! ledger's record and the writes both come from it. `report.json` is read back as the same
//! [`Report`] it was written from.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::face::engine::EngineOptions;
use crate::face::model::DetectorKind;
use crate::face::model::EmbedderKind;
use crate::face::runtime::{Device, Machine};
use crate::files::atomic;
use crate::files::names;
use crate::files::walk::walk;
use crate::job::pipeline::JobOptions;
use crate::job::result::{JobResult, JobStats, ScreenTime, Segment, TrackReport};
use crate::output::cooccurrence::Cooccurrence;
use crate::output::page::{self, ReportPage};
use crate::output::{charts, edl, ledger, tables, webvtt, write};
use crate::track::picture::Picture;
use crate::video::decode::VideoInfo;
use crate::video::timecode::start_timecode;

const REPORT: &str = "report.json";
const PAGE: &str = "report.html";
const SEGMENTS: &str = "segments.csv";
const FACES: &str = "faces";
const SHEET: &str = "faces.jpg";
const DONE: &str = "done.json";
const FAILED: &str = "failed.json";
/// A batch output's folder of title folders.
const TITLES: &str = "titles";

/// A kind of file a run writes: its name in the result folder, which paths of it this run
/// writes, and how. [`FILES`] lists them all, so that what the ledger records ([`ledger`]) and
/// what is written come from one list.
struct ResultFile {
    name: &'static str,
    /// The paths (relative to the folder, `/`-separated) this run writes of it: its name, none
    /// where this run leaves it out, or, for the `faces/` folder, the pictures in it.
    paths: fn(&Contents, &'static str) -> Result<Vec<String>>,
    /// Writes it at the path given (`faces/`: the pictures inside).
    write: fn(&Contents, &Path) -> Result<()>,
}

/// Every file of a result folder, in the order written: `report.json` last, so that its presence
/// means the rest are complete and of the same run.
const FILES: [ResultFile; 16] = [
    every("screentime.csv", |run, path| {
        tables::write_screen_time(path, &run.report.screen_time)
    }),
    every(SEGMENTS, |run, path| {
        tables::write_segments(path, &run.report.segments)
    }),
    every("screentime.png", |run, path| run.write_chart(path)),
    every("screentime.svg", |run, path| run.write_chart(path)),
    every("timeline.png", |run, path| run.write_timeline(path)),
    every("timeline.svg", |run, path| run.write_timeline(path)),
    // Seconds on screen together per pair of identities (all of them), with its heat map (those
    // charted).
    every("cooccurrence.csv", |run, path| {
        let names: Vec<String> = (run.report.screen_time.iter())
            .map(|r| r.name.clone())
            .collect();
        Cooccurrence::of(&names, &run.report.segments).write_csv(path)
    }),
    every("cooccurrence.png", |run, path| run.write_cooccurrence(path)),
    every("cooccurrence.svg", |run, path| run.write_cooccurrence(path)),
    // Who is on screen when, as a WebVTT track and as CMX 3600 EDL events.
    every("appearances.vtt", |run, path| {
        atomic::write_bytes(path, run.track().as_bytes())
    }),
    every("appearances.edl", |run, path| {
        let video = &run.report.video;
        let timecode = start_timecode(&video.path);
        let markers = edl::text(
            &run.video_name,
            &run.report.segments,
            video.frame_rate,
            timecode.as_deref(),
            run.incomplete().as_deref(),
        );
        atomic::write_bytes(path, markers.as_bytes())
    }),
    // Each identity's best faces as `faces/<name>/1.jpg` (the best), `2.jpg`, ...
    ResultFile {
        name: FACES,
        paths: |run, name| run.face_paths(name),
        write: |run, path| {
            for (name, pictures) in run.pictures {
                let folder = path.join(name);
                std::fs::create_dir_all(&folder).map_err(|e| Error::output(&folder, e))?;
                for (i, picture) in pictures.iter().enumerate() {
                    atomic::write_bytes(&folder.join(format!("{}.jpg", i + 1)), &picture.jpeg)?;
                }
            }
            Ok(())
        },
    },
    ResultFile {
        name: SHEET,
        paths: |run, name| Ok(run.with_faces(name)),
        write: |run, path| run.write_sheet(path),
    },
    // Every track and why it got its name, with `--debug-tracks`.
    ResultFile {
        name: "tracks.jsonl",
        paths: |run, name| Ok(run.debug_tracks.then(|| name.into()).into_iter().collect()),
        write: |run, path| write::write_json_lines(path, run.tracks),
    },
    every(PAGE, |run, path| run.write_page(path)),
    every(REPORT, |run, path| atomic::write_json(path, run.report)),
];

/// A file every run writes.
const fn every(name: &'static str, write: fn(&Contents, &Path) -> Result<()>) -> ResultFile {
    ResultFile {
        name,
        paths: |_, name| Ok(vec![name.into()]),
        write,
    }
}

/// What the writers of [`FILES`] read: the report, what it leaves out (the pictures, the
/// tracks), and what several files show alike.
struct Contents<'a> {
    /// The result folder.
    dir: &'a Path,
    report: &'a Report,
    pictures: &'a BTreeMap<String, Vec<Picture>>,
    tracks: &'a [TrackReport],
    debug_tracks: bool,
    /// The video's file name, in the charts' titles.
    video_name: String,
    /// The identities on screen at least the minimum screen time: the others stay in the data
    /// files only, out of the charts, the heat map and the contact sheet.
    shown: Vec<ScreenTime>,
}

impl Contents<'_> {
    fn thumbnails(&self) -> bool {
        self.report.settings.settings.thumbnails
    }

    /// `[name]` where this run saves face pictures, else none.
    fn with_faces(&self, name: &'static str) -> Vec<String> {
        self.thumbnails().then(|| name.into()).into_iter().collect()
    }

    /// Every face picture, `faces/<name>/<i>.jpg`: in a folder named after its identity, which
    /// must be one plain name.
    fn face_paths(&self, folder: &'static str) -> Result<Vec<String>> {
        let mut paths = Vec::new();
        if !self.thumbnails() {
            return Ok(paths);
        }
        for (name, faces) in self.pictures {
            names::component(name)
                .map_err(|reason| Error::output(&self.dir.join(folder).join(name), reason))?;
            paths.extend((1..=faces.len()).map(|i| format!("{folder}/{name}/{i}.jpg")));
        }
        Ok(paths)
    }

    /// How much of the video was read, where that is not all of it: the exports and the page
    /// say so; the CSV files cannot.
    fn incomplete(&self) -> Option<String> {
        let stats = &self.report.stats;
        (!stats.complete).then(|| stats.coverage(self.report.video.duration))
    }

    /// The appearances as a WebVTT track: `appearances.vtt`, and the page's player track.
    fn track(&self) -> String {
        webvtt::text(&self.report.segments, self.incomplete().as_deref())
    }

    fn write_chart(&self, path: &Path) -> Result<()> {
        let title = format!("Screen time in {}", self.video_name);
        charts::write_chart(path, &title, &self.shown)
    }

    fn write_timeline(&self, path: &Path) -> Result<()> {
        let title = format!("Who is on screen when in {}", self.video_name);
        let seconds = self.report.stats.video_seconds;
        charts::write_timeline(path, &title, &self.shown, &self.report.segments, seconds)
    }

    /// Seconds on screen together of the identities charted.
    fn shown_together(&self) -> Cooccurrence {
        let names: Vec<String> = self.shown.iter().map(|r| r.name.clone()).collect();
        Cooccurrence::of(&names, &self.report.segments)
    }

    fn write_cooccurrence(&self, path: &Path) -> Result<()> {
        let title = format!("Seconds on screen together in {}", self.video_name);
        charts::write_cooccurrence(path, &title, &self.shown_together())
    }

    /// A contact sheet of the best face of each identity charted.
    fn write_sheet(&self, path: &Path) -> Result<()> {
        let mut sheet = Vec::new();
        for row in &self.shown {
            if let Some(best) = self.pictures.get(&row.name).and_then(|p| p.first()) {
                let image = best.image().map_err(|e| Error::output(path, e))?;
                sheet.push((row.name.clone(), image));
            }
        }
        charts::write_contact_sheet(path, &sheet)
    }

    fn write_page(&self, path: &Path) -> Result<()> {
        let report = self.report;
        let faces: BTreeMap<String, usize> = if self.thumbnails() {
            (self.pictures.iter())
                .map(|(name, p)| (name.clone(), p.len()))
                .collect()
        } else {
            BTreeMap::new()
        };
        let coverage = report.stats.coverage(report.video.duration);
        page::write_report(
            path,
            &ReportPage {
                video: &report.video,
                video_seconds: report.stats.video_seconds,
                coverage: &coverage,
                complete: report.stats.complete,
                screen_time: &report.screen_time,
                charted: &self.shown,
                segments: &report.segments,
                faces: &faces,
                cast: &report.settings.cast,
                together: &self.shown_together(),
                track: &self.track(),
                tracks: self.tracks,
            },
        )
    }
}

/// A batch title's state: measured over the whole video; measured, but over part of it only
/// (a file cut short, packets skipped: see [`crate::job::result::JobStats::judge_completeness`]);
/// or not measured.
pub const DONE_STATUS: &str = "done";
pub const INCOMPLETE_STATUS: &str = "incomplete";
pub const FAILED_STATUS: &str = "failed";

/// A title's `report.json`: what a run writes, and what other commands read back.
#[derive(Serialize, Deserialize)]
pub struct Report {
    pub video: VideoInfo,
    pub screen_time: Vec<ScreenTime>,
    pub segments: Vec<Segment>,
    /// Per identity, the mean descriptor of its faces (made by `models.embedder_sha256`), so a
    /// photo can find the person in these results later (`search --photo`). None in a report
    /// made before they were kept.
    pub descriptors: Option<BTreeMap<String, Vec<f32>>>,
    pub settings: RunSettings,
    pub models: Models,
    /// The CPU and execution providers the models ran on.
    pub machine: Machine,
    pub stats: JobStats,
    pub cast_warnings: Vec<String>,
}

/// The settings that change a run's results (not threads or device): in `report.json`, and
/// what a batch title's done marker must match for it to be skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub threshold: f32,
    pub detect_size: u32,
    pub detect_threshold: f32,
    pub detect_every: u64,
    pub embed_every: u64,
    pub min_screen_time: f64,
    pub thumbnails: bool,
}

impl Settings {
    pub fn of(engine: &EngineOptions, job: &JobOptions) -> Settings {
        Settings {
            threshold: job.threshold,
            detect_size: engine.detect.max_side,
            detect_threshold: engine.detect.threshold,
            detect_every: job.track.detect_every,
            embed_every: job.track.embed_every,
            min_screen_time: job.min_screen_time,
            thumbnails: job.track.pictures,
        }
    }
}

/// `report.json`'s settings: what the run was made with, and how it shared the machine.
#[derive(Serialize, Deserialize)]
pub struct RunSettings {
    pub cast: PathBuf,
    pub cast_actors: usize,
    pub cast_faces: usize,
    /// Every this many frames were analysed (`--stride auto` resolved).
    pub stride: u64,
    pub workers: usize,
    pub threads_per_worker: usize,
    pub device: Device,
    #[serde(flatten)]
    pub settings: Settings,
}

#[derive(Serialize, Deserialize)]
pub struct Models {
    pub detector_sha256: String,
    /// Which detector weights found the faces (int8 or fp32).
    pub detector: DetectorKind,
    pub embedder_sha256: String,
    /// Which embedder made the descriptors, and the terms its weights come under: results made
    /// with ArcFace's are for non-commercial research only. Absent in reports made before
    /// there was a choice: dlib's.
    #[serde(default)]
    pub embedder: EmbedderKind,
    pub embedder_licence: String,
    /// The revision of the code that embedded the faces ([`DESCRIPTOR_REVISION`]): descriptors
    /// of another are not quite comparable with this screentime's. 0 in reports made before it
    /// was kept.
    ///
    /// [`DESCRIPTOR_REVISION`]: crate::face::runtime::DESCRIPTOR_REVISION
    #[serde(default)]
    pub descriptor_revision: u32,
}

/// What a batch title's `done.json` records; the title is skipped only when all of it matches.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct Completion {
    pub title: String,
    pub video_bytes: u64,
    pub video_modified_ns: u128,
    pub settings: CompletionSettings,
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
pub struct CompletionSettings {
    /// "auto" or a number: auto gives the same frames for the same video.
    pub stride: String,
    #[serde(flatten)]
    pub settings: Settings,
    pub detector_sha256: String,
    pub embedder_sha256: String,
    /// sha256 over the cast's names and descriptors.
    pub cast_sha256: String,
}

/// What a batch title's `failed.json` records.
#[derive(Debug, Serialize, Deserialize)]
struct Failure {
    title: String,
    error: String,
}

/// A finished batch title, as read back from its folder.
#[derive(Debug, Serialize)]
pub struct TitleSummary {
    pub title: String,
    /// The title's result folder.
    #[serde(skip)]
    pub folder: PathBuf,
    /// [`DONE_STATUS`], [`INCOMPLETE_STATUS`] or [`FAILED_STATUS`].
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Seconds of the video the result covers, and their share of its duration in percent.
    pub seconds_read: Option<f64>,
    pub read_percent: Option<f64>,
    pub screen_time: Vec<ScreenTime>,
    pub segments: Vec<Segment>,
    /// A done title's `report.html`, relative to the batch output (none where the title was
    /// done before pages were written).
    #[serde(skip)]
    pub page: Option<PathBuf>,
}

impl TitleSummary {
    fn failed(title: String, folder: &Path, error: String) -> TitleSummary {
        TitleSummary {
            title,
            folder: folder.to_path_buf(),
            status: FAILED_STATUS,
            error: Some(error),
            seconds_read: None,
            read_percent: None,
            screen_time: Vec::new(),
            segments: Vec::new(),
            page: None,
        }
    }
}

/// How a job's result is written, beyond the result itself.
pub struct WriteOptions<'a> {
    pub settings: RunSettings,
    pub models: Models,
    pub machine: Machine,
    pub cast_warnings: &'a [String],
    pub debug_tracks: bool,
}

/// One result folder.
pub struct ResultDir {
    path: PathBuf,
}

impl ResultDir {
    pub fn new(path: impl Into<PathBuf>) -> ResultDir {
        ResultDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes a job's result files ([`FILES`]), each atomically, `report.json` last.
    pub fn write(&self, result: JobResult, options: WriteOptions) -> Result<Report> {
        let dir = &self.path;
        let summary = result.summary;
        let report = Report {
            video: result.video,
            screen_time: summary.screen_time,
            segments: summary.segments,
            descriptors: Some(summary.descriptors),
            settings: options.settings,
            models: options.models,
            machine: options.machine,
            stats: result.stats,
            cast_warnings: options.cast_warnings.to_vec(),
        };
        let min_screen_time = report.settings.settings.min_screen_time;
        let contents = Contents {
            dir,
            report: &report,
            pictures: &summary.pictures,
            tracks: &summary.tracks,
            debug_tracks: options.debug_tracks,
            video_name: (report.video.path.file_name().unwrap_or_default())
                .to_string_lossy()
                .into_owned(),
            shown: (report.screen_time.iter())
                .filter(|row| row.seconds >= min_screen_time)
                .cloned()
                .collect(),
        };
        let mut paths = BTreeSet::new();
        let mut written = Vec::new();
        for file in &FILES {
            let these = (file.paths)(&contents, file.name)?;
            if !these.is_empty() {
                paths.extend(these);
                written.push(file);
            }
        }
        let claim = ledger::claim(dir, paths)?;
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
        // An earlier run's report.json would vouch for a mix of old and new files if a write
        // below failed: it goes first, and comes back last.
        remove(&dir.join(REPORT))?;
        // Face pictures of an earlier run must not outlive it, least of all under
        // --no-thumbnails.
        claim.record()?;
        for file in written {
            (file.write)(&contents, &dir.join(file.name))?;
        }
        Ok(report)
    }

    /// The `segments.csv` a run wrote.
    pub fn segments(&self) -> Result<Vec<Segment>> {
        tables::read_segments(&self.path.join(SEGMENTS))
    }

    /// Whether this is one video's result folder (it has a `report.json`).
    pub fn has_report(&self) -> bool {
        self.path.join(REPORT).is_file()
    }

    /// The video's file name (or the folder's, where the video has none) and its appearances,
    /// from `report.json`.
    pub fn appearances(&self) -> Result<(String, Vec<Segment>)> {
        let report = self.read()?;
        let title = report.video.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into(),
        );
        Ok((title, report.segments))
    }

    /// Checks that this folder holds a finished result (its `report.json`, written last), over
    /// the whole of its video, and that its video is `video`: the same size in bytes, duration,
    /// frame rate and picture size as `report.json` records (a moved or renamed copy is the
    /// same video; another clip or a re-encode is not). Scoring a result against another video
    /// would compare frames of one with times of the other.
    pub fn check_made_from(&self, video: &VideoInfo) -> Result<()> {
        if !self.has_report() {
            return Err(Error::input(
                &self.path,
                "no report.json: not a finished screentime result (a run that did not complete, \
                 or not a result folder)",
            ));
        }
        let report = self.read()?;
        if !report.stats.complete {
            return Err(Error::input(
                &self.report(),
                "an incomplete result (its video was read only in part): nothing to score it on",
            ));
        }
        let stored = &report.video;
        let near = |a: Option<f64>, b: Option<f64>, by: f64| match (a, b) {
            (Some(a), Some(b)) => (a - b).abs() <= by,
            _ => true,
        };
        let same = |a: Option<u64>, b: Option<u64>| a.zip(b).is_none_or(|(a, b)| a == b);
        let differences = [
            (!same(stored.bytes, video.bytes)).then_some("size"),
            (!near(stored.duration, video.duration, 1e-3)).then_some("duration"),
            (!near(stored.frame_rate, video.frame_rate, 1e-3)).then_some("frame rate"),
            (stored.width != video.width || stored.height != video.height)
                .then_some("picture size"),
        ];
        let differences: Vec<&str> = differences.into_iter().flatten().collect();
        if !differences.is_empty() {
            return Err(Error::input(
                &self.report(),
                format!(
                    "made from another video ({}), not {}: its {} differ",
                    stored.path.display(),
                    video.path.display(),
                    differences.join(", ")
                ),
            ));
        }
        Ok(())
    }

    /// The run's `report.json`.
    pub fn read(&self) -> Result<Report> {
        read_json(&self.report())
    }

    /// Where `report.json` is.
    pub fn report(&self) -> PathBuf {
        self.path.join(REPORT)
    }

    /// The face pictures a run saved for `identity`, sorted (`1.jpg`, the best, first).
    pub fn faces_of(&self, identity: &str) -> Result<Vec<PathBuf>> {
        let faces = self.path.join(FACES).join(identity);
        let input_error = |reason: String| Error::input(&faces, reason);
        names::component(identity).map_err(input_error)?;
        let mut photos: Vec<PathBuf> = std::fs::read_dir(&faces)
            .map_err(|_| {
                input_error(format!(
                    "no saved faces of {identity} (is it in this run's report.json, and was the \
                     run made without --no-thumbnails?)"
                ))
            })?
            .filter_map(|entry| Some(entry.ok()?.path()))
            .filter(|path| path.extension().is_some_and(|e| e == "jpg"))
            .collect();
        photos.sort();
        if photos.is_empty() {
            return Err(input_error(format!("no saved faces of {identity}")));
        }
        Ok(photos)
    }

    /// Whether this batch title is done with exactly `completion`, and its results are readable.
    pub fn is_done_as(&self, completion: &Completion) -> bool {
        self.read_done().is_ok_and(|(done, _)| &done == completion)
    }

    /// Forgets that this title was done: a stale marker must not outlive the results it
    /// vouched for.
    pub fn clear_done(&self) -> Result<()> {
        remove(&self.path.join(DONE))
    }

    /// Marks the title done (after its results are written), and no longer failed.
    pub fn mark_done(&self, completion: &Completion) -> Result<()> {
        atomic::write_json(&self.path.join(DONE), completion)?;
        remove(&self.path.join(FAILED))
    }

    /// Records why the title failed.
    pub fn mark_failed(&self, title: &str, error: &str) -> Result<()> {
        let failure = Failure {
            title: title.into(),
            error: error.into(),
        };
        std::fs::create_dir_all(&self.path).map_err(|e| Error::output(&self.path, e))?;
        atomic::write_json(&self.path.join(FAILED), &failure)
    }

    /// A done title's marker and results, or why they cannot be used.
    fn read_done(&self) -> Result<(Completion, Report)> {
        Ok((read_json(&self.path.join(DONE))?, self.read()?))
    }

    /// The title as it stands: done with its results, or failed with why (a done title whose
    /// results are damaged counts as failed, and is measured again by the next batch run).
    /// `relative` is where it is in the batch output, which names it where its marker is too
    /// damaged to.
    fn title_summary(&self, relative: &Path) -> TitleSummary {
        let fallback = || {
            let under_titles = relative.strip_prefix(TITLES).unwrap_or(relative);
            under_titles.to_string_lossy().into_owned()
        };
        if self.path.join(DONE).exists() {
            match self.read_done() {
                Ok((done, report)) => TitleSummary {
                    title: done.title,
                    folder: self.path.clone(),
                    status: if report.stats.complete {
                        DONE_STATUS
                    } else {
                        INCOMPLETE_STATUS
                    },
                    error: None,
                    seconds_read: Some(report.stats.seconds_read),
                    read_percent: report.stats.read_percent,
                    screen_time: report.screen_time,
                    segments: report.segments,
                    page: self.path.join(PAGE).is_file().then(|| relative.join(PAGE)),
                },
                Err(reason) => TitleSummary::failed(
                    read_json::<Completion>(&self.path.join(DONE))
                        .map_or_else(|_| fallback(), |d| d.title),
                    &self.path,
                    format!("{reason} (it is measured again on the next batch run)"),
                ),
            }
        } else {
            match read_json::<Failure>(&self.path.join(FAILED)) {
                Ok(failure) => TitleSummary::failed(failure.title, &self.path, failure.error),
                Err(reason) => TitleSummary::failed(fallback(), &self.path, reason.to_string()),
            }
        }
    }
}

/// Every finished (done or failed) title of the batch output `out` (folders under
/// `OUT/titles` holding a marker), in title order; writes nothing.
pub fn finished_titles(out: &Path) -> Result<Vec<TitleSummary>> {
    let folders = out.join(TITLES);
    if !folders.exists() {
        return Ok(Vec::new());
    }
    let marked: BTreeSet<PathBuf> = walk(&folders)?
        .files
        .iter()
        .filter(|file| file.file_name().is_some_and(|n| n == DONE || n == FAILED))
        .filter_map(|file| Some(file.parent()?.to_path_buf()))
        .collect();
    let mut titles: Vec<TitleSummary> = marked
        .into_iter()
        .map(|dir| {
            let relative = dir.strip_prefix(out).unwrap_or(&dir).to_path_buf();
            ResultDir::new(dir).title_summary(&relative)
        })
        .collect();
    titles.sort_by(|a, b| a.title.cmp(&b.title));
    Ok(titles)
}

/// Where a batch title's results go: `OUT/titles/` and the title's `/`-separated parts, each
/// one [`names::escape`]d, so that every title stays inside the output folder and no two titles
/// share a folder (`../v/a.ts` and `__/v/a.ts`, `/v/a.ts` and `v/a.ts` each get their own).
pub fn title_dir(out: &Path, title: &str) -> ResultDir {
    let mut dir = out.join(TITLES);
    for part in title.split('/') {
        dir.push(names::escape(part));
    }
    ResultDir::new(dir)
}

/// Removes the file at `path`, if there is one.
fn remove(path: &Path) -> Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::output(path, e)),
        _ => Ok(()),
    }
}

/// `path`'s JSON, or why it cannot be had, naming the file.
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&text).map_err(|e| Error::input(path, format!("damaged: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn title_folders_stay_inside_the_output_one_per_title() {
        let out = Path::new("/out");
        assert_eq!(
            title_dir(out, "s1/e1.mp4").path(),
            Path::new("/out/titles/s1/e1.mp4")
        );
        assert_eq!(
            title_dir(out, "/abs/../x.mp4").path(),
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
        let dirs: BTreeSet<PathBuf> = titles
            .iter()
            .map(|t| title_dir(out, t).path().to_path_buf())
            .collect();
        assert_eq!(dirs.len(), titles.len());
        assert!(dirs.iter().all(|d| d.starts_with("/out/titles")
            && d.components().all(|c| matches!(
                c,
                std::path::Component::Normal(_) | std::path::Component::RootDir
            ))));
    }
}
