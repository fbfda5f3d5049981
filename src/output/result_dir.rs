//! A result folder: the one place that knows what is in it. One video's results (`report.json`,
//! `report.html`, the CSV tables, charts, the exports `cooccurrence.csv`, `appearances.vtt` and
//! `appearances.edl`, `faces/`, `faces.jpg`, `tracks.jsonl`) and, for a
//! batch title, the marker saying it is done (`done.json`, with what it was made from) or failed
//! (`failed.json`).
//! A batch output holds one such folder per title under `titles/`.
//!
//! `report.json` is written last and removed first: its presence means the other files are
//! complete and of the same run.

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
use crate::job::result::Summary;
use crate::job::result::{JobResult, JobStats, ScreenTime, Segment};
use crate::output::cooccurrence::Cooccurrence;
use crate::output::page::{self, ReportPage};
use crate::output::{charts, edl, ledger, tables, webvtt, write};
use crate::video::decode::VideoInfo;
use crate::video::timecode::start_timecode;

const REPORT: &str = "report.json";
const PAGE: &str = "report.html";
const SEGMENTS: &str = "segments.csv";
/// Seconds on screen together per pair of identities, with its heat map (`.png`, `.svg`).
const COOCCURRENCE: &str = "cooccurrence";
/// Who is on screen when, as a WebVTT track and as CMX 3600 EDL events.
const VTT: &str = "appearances.vtt";
const EDL: &str = "appearances.edl";
/// Every track and why it got its name, with `--debug-tracks`.
const TRACKS: &str = "tracks.jsonl";
const FACES: &str = "faces";
const SHEET: &str = "faces.jpg";
const DONE: &str = "done.json";
const FAILED: &str = "failed.json";
/// A batch output's folder of title folders.
const TITLES: &str = "titles";

/// A batch title's state: measured over the whole video; measured, but over part of it only
/// (a file cut short, packets skipped: see [`crate::job::result::JobStats::judge_completeness`]);
/// or not measured.
pub const DONE_STATUS: &str = "done";
pub const INCOMPLETE_STATUS: &str = "incomplete";
pub const FAILED_STATUS: &str = "failed";

/// A title's `report.json`.
#[derive(Serialize)]
pub struct Report {
    pub video: VideoInfo,
    pub screen_time: Vec<ScreenTime>,
    pub segments: Vec<Segment>,
    /// Per identity, the mean descriptor of its faces (made by `models.embedder_sha256`), so a
    /// photo can find the person in these results later (`search --photo`).
    pub descriptors: BTreeMap<String, Vec<f32>>,
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
#[derive(Serialize)]
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

#[derive(Serialize)]
pub struct Models {
    pub detector_sha256: String,
    /// Which detector weights found the faces (int8 or fp32).
    pub detector: DetectorKind,
    pub embedder_sha256: String,
    /// Which embedder made the descriptors, and the terms its weights come under: results made
    /// with ArcFace's are for non-commercial research only.
    pub embedder: EmbedderKind,
    pub embedder_licence: &'static str,
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

/// The part of `report.json` that other commands read back.
#[derive(Deserialize)]
struct StoredReport {
    video: StoredVideo,
    screen_time: Vec<ScreenTime>,
    segments: Vec<Segment>,
    #[serde(default)]
    stats: StoredStats,
}

/// How much of the video a stored result covers; absent in reports made before it was
/// recorded, which are taken as whole.
#[derive(Deserialize, Default)]
struct StoredStats {
    seconds_read: Option<f64>,
    read_percent: Option<f64>,
    complete: Option<bool>,
}

#[derive(Deserialize)]
struct StoredVideo {
    path: PathBuf,
    // What tells the video from another; absent in reports made before they were recorded.
    bytes: Option<u64>,
    duration: Option<f64>,
    frame_rate: Option<f64>,
    width: Option<u32>,
    height: Option<u32>,
}

/// What a photo is matched against in a run's results.
#[derive(Deserialize)]
pub struct Identities {
    /// Per identity, its mean descriptor; None in a report made before they were kept.
    pub descriptors: Option<BTreeMap<String, Vec<f32>>>,
    /// The embedder that made them; None in a report made before it was recorded.
    pub models: Option<StoredModels>,
}

/// Which embedder made a report's descriptors, as `report.json` records it.
#[derive(Deserialize)]
pub struct StoredModels {
    pub embedder_sha256: String,
    /// `dlib` or `arcface`; absent in reports made before there was a choice (dlib's).
    pub embedder: Option<String>,
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

    /// Writes a job's result files, each atomically, `report.json` last. Identities on screen
    /// less than the minimum screen time stay in the data files only, out of the charts and the
    /// contact sheet.
    pub fn write(&self, result: JobResult, options: WriteOptions) -> Result<Report> {
        let dir = &self.path;
        let claim = ledger::claim(dir, self.files(&result.summary, &options)?)?;
        let settings = &options.settings.settings;
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
        // An earlier run's report.json would vouch for a mix of old and new files if a write
        // below failed: it goes first, and comes back last.
        remove(&dir.join(REPORT))?;
        // Face pictures of an earlier run must not outlive it, least of all under
        // --no-thumbnails.
        claim.record()?;
        let video_name = result
            .video
            .path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let summary = &result.summary;
        let shown: Vec<ScreenTime> = summary
            .screen_time
            .iter()
            .filter(|row| row.seconds >= settings.min_screen_time)
            .cloned()
            .collect();
        tables::write_screen_time(&dir.join("screentime.csv"), &summary.screen_time)?;
        tables::write_segments(&dir.join(SEGMENTS), &summary.segments)?;
        for extension in ["png", "svg"] {
            let chart = dir.join(format!("screentime.{extension}"));
            charts::write_chart(&chart, &format!("Screen time in {video_name}"), &shown)?;
            let timeline = dir.join(format!("timeline.{extension}"));
            let title = format!("Who is on screen when in {video_name}");
            let seconds = result.stats.video_seconds;
            charts::write_timeline(&timeline, &title, &shown, &summary.segments, seconds)?;
        }
        let names: Vec<String> = summary.screen_time.iter().map(|r| r.name.clone()).collect();
        let together = Cooccurrence::of(&names, &summary.segments);
        together.write_csv(&dir.join(format!("{COOCCURRENCE}.csv")))?;
        let shown_names: Vec<String> = shown.iter().map(|r| r.name.clone()).collect();
        let shown_together = Cooccurrence::of(&shown_names, &summary.segments);
        let together_title = format!("Seconds on screen together in {video_name}");
        for extension in ["png", "svg"] {
            let path = dir.join(format!("{COOCCURRENCE}.{extension}"));
            charts::write_cooccurrence(&path, &together_title, &shown_together)?;
        }
        // The exports say where a result covers part of the video only; the CSV files cannot.
        let coverage = result.stats.coverage(result.video.duration);
        let incomplete = (!result.stats.complete).then_some(coverage.as_str());
        let track = webvtt::text(&summary.segments, incomplete);
        atomic::write_bytes(&dir.join(VTT), track.as_bytes())?;
        let timecode = start_timecode(&result.video.path);
        let markers = edl::text(
            &video_name,
            &summary.segments,
            result.video.frame_rate,
            timecode.as_deref(),
            incomplete,
        );
        atomic::write_bytes(&dir.join(EDL), markers.as_bytes())?;
        if settings.thumbnails {
            self.write_faces(summary, &shown)?;
        }
        if options.debug_tracks {
            write::write_json_lines(&dir.join(TRACKS), &summary.tracks)?;
        }
        let faces: BTreeMap<String, usize> = if settings.thumbnails {
            summary
                .pictures
                .iter()
                .map(|(name, p)| (name.clone(), p.len()))
                .collect()
        } else {
            BTreeMap::new()
        };
        page::write_report(
            &dir.join(PAGE),
            &ReportPage {
                video: &result.video,
                video_seconds: result.stats.video_seconds,
                coverage: &coverage,
                complete: result.stats.complete,
                screen_time: &summary.screen_time,
                charted: &shown,
                segments: &summary.segments,
                faces: &faces,
                cast: &options.settings.cast,
                together: &shown_together,
                track: &track,
                tracks: &summary.tracks,
            },
        )?;
        let report = Report {
            video: result.video,
            screen_time: result.summary.screen_time,
            segments: result.summary.segments,
            descriptors: result.summary.descriptors,
            settings: options.settings,
            models: options.models,
            machine: options.machine,
            stats: result.stats,
            cast_warnings: options.cast_warnings.to_vec(),
        };
        atomic::write_json(&dir.join(REPORT), &report)?;
        Ok(report)
    }

    /// Every file [`ResultDir::write`] writes, relative to the folder: see [`ledger`]. Face
    /// pictures go into a folder named after their identity, which must be one plain name.
    fn files(&self, summary: &Summary, options: &WriteOptions) -> Result<BTreeSet<String>> {
        let mut files: BTreeSet<String> = [
            REPORT,
            PAGE,
            "screentime.csv",
            SEGMENTS,
            "screentime.png",
            "screentime.svg",
            "timeline.png",
            "timeline.svg",
            VTT,
            EDL,
        ]
        .map(String::from)
        .into();
        files.extend(["csv", "png", "svg"].map(|extension| format!("{COOCCURRENCE}.{extension}")));
        if options.debug_tracks {
            files.insert(TRACKS.into());
        }
        if options.settings.settings.thumbnails {
            files.insert(SHEET.into());
            for (name, faces) in &summary.pictures {
                names::component(name)
                    .map_err(|reason| Error::output(&self.path.join(FACES).join(name), reason))?;
                files.extend((1..=faces.len()).map(|i| format!("{FACES}/{name}/{i}.jpg")));
            }
        }
        Ok(files)
    }

    /// Writes each identity's best faces as `faces/<name>/1.jpg` (the best), `2.jpg`, ..., and
    /// a contact sheet `faces.jpg` of the best face of each identity in `shown`.
    fn write_faces(&self, summary: &Summary, shown: &[ScreenTime]) -> Result<()> {
        for (name, pictures) in &summary.pictures {
            let folder = self.path.join(FACES).join(name);
            std::fs::create_dir_all(&folder).map_err(|e| Error::output(&folder, e))?;
            for (i, picture) in pictures.iter().enumerate() {
                atomic::write_bytes(&folder.join(format!("{}.jpg", i + 1)), &picture.jpeg)?;
            }
        }
        let sheet_path = self.path.join(SHEET);
        let mut sheet = Vec::new();
        for row in shown {
            if let Some(best) = summary.pictures.get(&row.name).and_then(|p| p.first()) {
                let image = best.image().map_err(|e| Error::output(&sheet_path, e))?;
                sheet.push((row.name.clone(), image));
            }
        }
        charts::write_contact_sheet(&sheet_path, &sheet)
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
        let report: StoredReport = self.read_report()?;
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
        let report: StoredReport = self.read_report()?;
        if report.stats.complete == Some(false) {
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
            (!same(stored.width.map(u64::from), Some(u64::from(video.width)))
                || !same(stored.height.map(u64::from), Some(u64::from(video.height))))
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

    /// Each identity's mean descriptor and the models that made them, from `report.json`.
    pub fn identities(&self) -> Result<Identities> {
        self.read_report()
    }

    /// The part of `report.json` that `T` reads.
    fn read_report<T: for<'de> Deserialize<'de>>(&self) -> Result<T> {
        let path = self.report();
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        serde_json::from_str(&text)
            .map_err(|e| Error::input(&path, format!("not a screentime report: {e}")))
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
    pub fn clear_done(&self) -> std::result::Result<(), String> {
        remove(&self.path.join(DONE)).map_err(|e| e.to_string())
    }

    /// Marks the title done (after its results are written), and no longer failed.
    pub fn mark_done(&self, completion: &Completion) -> std::result::Result<(), String> {
        atomic::write_json(&self.path.join(DONE), completion).map_err(|e| e.to_string())?;
        remove(&self.path.join(FAILED)).map_err(|e| e.to_string())
    }

    /// Records why the title failed.
    pub fn mark_failed(&self, title: &str, error: &str) -> std::result::Result<(), String> {
        let failure = Failure {
            title: title.into(),
            error: error.into(),
        };
        std::fs::create_dir_all(&self.path).map_err(|e| e.to_string())?;
        atomic::write_json(&self.path.join(FAILED), &failure).map_err(|e| e.to_string())
    }

    /// A done title's marker and results, or why they cannot be used.
    fn read_done(&self) -> std::result::Result<(Completion, StoredReport), String> {
        Ok((
            read_json(&self.path.join(DONE))?,
            read_json(&self.path.join(REPORT))?,
        ))
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
                    status: if report.stats.complete == Some(false) {
                        INCOMPLETE_STATUS
                    } else {
                        DONE_STATUS
                    },
                    error: None,
                    seconds_read: report.stats.seconds_read,
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
                Err(reason) => TitleSummary::failed(fallback(), &self.path, reason),
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
fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> std::result::Result<T, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: damaged: {e}", path.display()))
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
