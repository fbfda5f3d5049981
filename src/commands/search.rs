//! `screentime search NAME RESULTS...`. In: a person's name and result folders of `screentime`
//! or `screentime batch`. Out: every appearance of the person (a segment): title, start, end
//! and seconds.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use crate::error::{Error, Result, warn};
use crate::job::result::Segment;
use crate::output::result_dir::{self, ResultDir};

/// One appearance of a person: a continuous stretch on screen in one title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sighting {
    pub title: String,
    /// Seconds from the start of the title.
    pub start: f64,
    pub end: f64,
    pub seconds: f64,
}

/// `screentime search NAME RESULTS...`: every appearance of `name` in these result folders, by
/// title and then time. A folder is a single-video output (has `report.json`) or a batch output
/// (done titles under `titles/`); one that holds neither is an error.
pub fn run(name: &str, results: &[PathBuf], out: &mut impl Write) -> Result<Vec<Sighting>> {
    let mut titles: Vec<(String, Vec<Segment>)> = Vec::new();
    for dir in results {
        let folder = ResultDir::new(dir);
        if folder.has_report() {
            titles.push(folder.appearances()?);
            continue;
        }
        let (done, failed): (Vec<_>, Vec<_>) = result_dir::finished_titles(dir)?
            .into_iter()
            .partition(|t| t.error.is_none());
        for title in failed {
            let error = title.error.unwrap_or_default();
            warn(&format!("{}: not searched: {error}", title.title));
        }
        if done.is_empty() {
            return Err(Error::input(
                dir,
                "no screen-time results: expected report.json (one video) or done titles under \
                 titles/ (a batch)",
            ));
        }
        titles.extend(done.into_iter().map(|t| (t.title, t.segments)));
    }
    let sightings: Vec<Sighting> = titles
        .into_iter()
        .flat_map(|(title, segments)| {
            segments
                .into_iter()
                .filter(|s| s.name == name)
                .map(move |s| Sighting {
                    title: title.clone(),
                    start: s.start,
                    end: s.end,
                    seconds: s.seconds,
                })
        })
        .collect();
    let mut print = || -> std::io::Result<()> {
        let width = sightings
            .iter()
            .map(|s| s.title.len())
            .max()
            .unwrap_or(5)
            .max(5);
        writeln!(
            out,
            "{:width$}  {:>9}  {:>9}  {:>9}",
            "title", "start", "end", "seconds"
        )?;
        for s in &sightings {
            writeln!(
                out,
                "{:width$}  {:>9.2}  {:>9.2}  {:>9.2}",
                s.title, s.start, s.end, s.seconds
            )?;
        }
        Ok(())
    };
    print().map_err(Error::stdout)?;
    if sightings.is_empty() {
        eprintln!("{name} appears in none of these results");
    }
    Ok(sightings)
}
