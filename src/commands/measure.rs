//! `screentime VIDEO --cast DIR`, the main job. In: a video and a cast. Out: the result folder
//! (see [`crate::output::result_dir`]) and a table of screen time per identity on stdout (or the
//! JSON report).

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::commands::{load_cast, measure_into};
use crate::error::{Error, Result, escape_controls};
use crate::face::engine::EngineOptions;
use crate::face::runtime::Runtime;
use crate::job::pipeline::{JobOptions, share_threads};
use crate::job::result::ScreenTime;
use crate::output::ledger;
use crate::output::result_dir::ResultDir;
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

    if options.json {
        serde_json::to_writer_pretty(&mut *out, &report).map_err(|e| Error::stdout(e.into()))?;
        writeln!(out).map_err(Error::stdout)?;
    } else {
        print_table(out, &report.screen_time).map_err(Error::stdout)?;
        let verdict = if stats.complete { "" } else { "; INCOMPLETE" };
        writeln!(out, "({coverage}{verdict})").map_err(Error::stdout)?;
        // An incomplete result's one line says where its results are.
        if !options.quiet && stats.complete {
            eprintln!(
                "results in {} (open report.html to look and click; charts: screentime.png, \
                 timeline.png, cooccurrence.png; for players and editors: appearances.vtt, \
                 appearances.edl)",
                dir.path().display()
            );
        }
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

fn print_table(out: &mut impl Write, rows: &[ScreenTime]) -> std::io::Result<()> {
    let names: Vec<String> = rows.iter().map(|r| escape_controls(&r.name)).collect();
    let width = names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:width$}  {:>9}  {:>7}  {:>10}  {:>9}",
        "name", "seconds", "percent", "first_seen", "last_seen"
    )?;
    for (r, name) in rows.iter().zip(&names) {
        writeln!(
            out,
            "{:width$}  {:>9.2}  {:>6.1}%  {:>10.2}  {:>9.2}",
            name, r.seconds, r.percent, r.first_seen, r.last_seen
        )?;
    }
    Ok(())
}
