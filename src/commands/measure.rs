//! `screentime VIDEO --cast DIR`, the main job. In: a video and a cast. Out: the result folder
//! (see [`crate::output::result_dir`]) and a table of screen time per identity on stdout (or the
//! JSON report).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::commands::{load_cast, measure_into};
use crate::error::{Error, Result};
use crate::face::engine::EngineOptions;
use crate::face::runtime::Runtime;
use crate::job::pipeline::{JobOptions, share_threads};
use crate::output::answer::{self, Align, Answer, Format, Table};
use crate::output::ledger;
use crate::output::result_dir::{Report, ResultDir};
use crate::video::decode::VideoReader;

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

/// `screentime VIDEO --cast DIR`: screen time per actor, written to the output folder as CSV,
/// JSON and a bar chart (PNG and SVG), and printed as a table (or as the JSON report).
pub fn run(
    engine: &EngineOptions,
    options: &ScreenTimeOptions,
    out: &mut impl Write,
) -> Result<()> {
    let (engine, job) = share_threads(engine, &options.job, 1);
    let dir = ResultDir::new(options.out.clone().unwrap_or_else(|| {
        let stem = options.video.file_stem().unwrap_or_default();
        Path::new("screentime-out").join(stem)
    }));
    ledger::check_folder(dir.path())?;
    let runtime = Runtime::new(engine.runtime.clone())?;
    // Opened before the cast is embedded, so a bad video fails at once.
    // One decoder thread to start with: the job gives it more if the cores idle.
    let video = if options.url {
        VideoReader::open_url(&options.video.to_string_lossy(), 1)?
    } else {
        VideoReader::open(&options.video, 1)?
    };
    let cast = load_cast(&runtime, &engine, &options.cast, options.quiet)?;
    let report = measure_into(&runtime, &engine, &job, video, (&cast, &options.cast), &dir)?;
    let stats = &report.stats;
    let coverage = stats.coverage(report.video.duration);
    // Skipped packets make the result incomplete, which the error below says; frames decoded
    // with errors concealed are all there, only perhaps blurred.
    if !options.quiet && stats.complete && stats.damaged_frames > 0 {
        eprintln!(
            "warning: {}: damaged video: {} frames decoded with errors concealed",
            options.video.display(),
            stats.damaged_frames
        );
    }

    answer::render(out, Format::json_if(options.json), &report)?;
    // An incomplete result's one line says where its results are.
    if !options.json && !options.quiet && stats.complete {
        eprintln!(
            "results in {} (open report.html to look and click; charts: screentime.png, \
             timeline.png, cooccurrence.png; for players and editors: appearances.vtt, \
             appearances.edl)",
            dir.path().display()
        );
    }
    // Written and printed, but not the whole video: a script must not take it for a whole one.
    if !stats.complete {
        return Err(Error::Incomplete {
            path: options.video.clone(),
            reason: format!(
                "{coverage}; the results in {} cover only that part",
                dir.path().display()
            ),
        });
    }
    Ok(())
}

/// The printed answer: screen time per identity, and how much of the video was read; with
/// `--json`, the whole report.
impl Answer for Report {
    type Item = Report;

    fn items(&self) -> &[Report] {
        std::slice::from_ref(self)
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(&[
            ("name", Align::Left),
            ("seconds", Align::Right),
            ("percent", Align::Right),
            ("first_seen", Align::Right),
            ("last_seen", Align::Right),
        ]);
        for r in &self.screen_time {
            table.row(vec![
                r.name.clone(),
                format!("{:.2}", r.seconds),
                format!("{:.1}%", r.percent),
                format!("{:.2}", r.first_seen),
                format!("{:.2}", r.last_seen),
            ]);
        }
        let coverage = self.stats.coverage(self.video.duration);
        let verdict = if self.stats.complete {
            ""
        } else {
            "; INCOMPLETE"
        };
        table.note(format!("({coverage}{verdict})"));
        vec![table]
    }
}
