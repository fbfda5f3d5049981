//! `screentime search`. In: result folders of `screentime` or `screentime batch`, and whom to
//! look for: a name (a cast member or unknown_N), several names to be seen together, or a photo
//! of the person. Out: the stretches in which they are on screen (title, start, end, seconds);
//! for a photo, under the label the person had in each title; as a table or JSON lines.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::commands::largest_face;
use crate::error::{Error, Result, one_line, warn};
use crate::face::embed::distance;
use crate::face::engine::{Engine, EngineOptions};
use crate::face::runtime::{DESCRIPTOR_REVISION, Runtime};
use crate::job::interval::{Interval, together};
use crate::job::result::{Segment, appearances};
use crate::output::answer::{self, Align, Answer, Format, Table};
use crate::output::result_dir::{self, ResultDir};

/// One appearance of a person, or of people together: a continuous stretch in one title.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sighting {
    pub title: String,
    /// Seconds from the start of the title.
    pub start: f64,
    pub end: f64,
    pub seconds: f64,
}

/// The person of a photo in one title: the label they had there, how close it is to the photo,
/// and their appearances.
#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub title: String,
    /// The title's result folder, for `screentime name`.
    pub folder: PathBuf,
    pub identity: String,
    pub distance: f32,
    pub sightings: Vec<Sighting>,
}

/// One finished title of the results searched.
struct Title {
    title: String,
    folder: ResultDir,
    segments: Vec<Segment>,
}

/// `screentime search NAME [--with OTHER]... [--within SECONDS] RESULTS...`: the stretches in
/// which all of `people` are on screen (see [`together`]), by title and then time. With one
/// person, that person's appearances.
pub fn run(
    people: &[String],
    within: f64,
    results: &[PathBuf],
    format: Format,
    out: &mut impl Write,
) -> Result<Vec<Sighting>> {
    let titles = titles(results)?;
    let mut sightings = Vec::new();
    for title in &titles {
        sightings.extend(
            together(&appearances(people, &title.segments), within)
                .into_iter()
                .map(|stretch| sighting(&title.title, stretch)),
        );
    }
    let sightings = Sightings(sightings);
    answer::render(out, format, &sightings)?;
    let absent: Vec<&String> = people
        .iter()
        .filter(|person| !(titles.iter()).any(|t| t.segments.iter().any(|s| &s.name == *person)))
        .collect();
    for person in &absent {
        eprintln!("{} appears in none of these results", one_line(person));
    }
    if sightings.0.is_empty() && absent.is_empty() && people.len() > 1 {
        let how = if within > 0.0 {
            format!("within {within} seconds of each other")
        } else {
            "together".into()
        };
        eprintln!(
            "{} are never on screen {how} in these results",
            people.join(", ")
        );
    }
    Ok(sightings.0)
}

/// `screentime search --photo PHOTO RESULTS...`: in each title, the identity (named or unknown_N)
/// whose mean descriptor is closest to the largest face of `photo`, if it is the same person
/// (closer than the embedder's same-person threshold), with its appearances. A title measured with
/// another embedder than this search's (`--embedder`) is an error; one measured before identities'
/// descriptors were kept is skipped with a warning; one whose faces were embedded by other code
/// ([`DESCRIPTOR_REVISION`]) is searched with a warning.
pub fn by_photo(
    engine: &EngineOptions,
    photo: &Path,
    results: &[PathBuf],
    format: Format,
    out: &mut impl Write,
) -> Result<Vec<Found>> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    let face = largest_face(&mut Engine::new(&runtime, engine.detect)?, photo)?;
    let embedder = runtime.embedder_sha256();
    let same_person = engine.thresholds().same_person;
    let mut found = Vec::new();
    for title in titles(results)? {
        let report = title.folder.report();
        let stored = title.folder.read()?;
        let Some(descriptors) = stored.descriptors else {
            warn(&format!(
                "{}: not searched: made before results kept each identity's descriptor (measure \
                 the video again to search it by photo)",
                report.display()
            ));
            continue;
        };
        let made_by = stored.models;
        if made_by.embedder_sha256 != embedder {
            let name = made_by.embedder.name();
            return Err(Error::input(
                &report,
                format!(
                    "made with another face embedder ({name}, sha256 {}) than this search's \
                     ({}, {embedder}): its descriptors cannot be compared with the photo's \
                     (search with --embedder {name}, or measure the video again)",
                    made_by.embedder_sha256,
                    runtime.embedder().name()
                ),
            ));
        }
        if made_by.descriptor_revision != DESCRIPTOR_REVISION {
            warn(&format!(
                "{}: measured by a screentime that embedded faces another way (descriptor \
                 revision {}, this one's {DESCRIPTOR_REVISION}): its distances may be a little \
                 off (measure the video again to compare like with like)",
                report.display(),
                made_by.descriptor_revision
            ));
        }
        let mut nearest: Option<(String, f32)> = None;
        for (identity, descriptor) in descriptors {
            if descriptor.len() != face.descriptor.len() {
                return Err(Error::input(
                    &report,
                    format!(
                        "damaged: the descriptor of {identity} has {} values, not {}",
                        descriptor.len(),
                        face.descriptor.len()
                    ),
                ));
            }
            let d = distance(&face.descriptor, &descriptor);
            if d < same_person && nearest.as_ref().is_none_or(|(_, best)| d < *best) {
                nearest = Some((identity, d));
            }
        }
        if let Some((identity, distance)) = nearest {
            let sightings = (title.segments.iter())
                .filter(|s| s.name == identity)
                .map(|s| {
                    let stretch = Interval {
                        start: s.start,
                        end: s.end,
                    };
                    sighting(&title.title, stretch)
                })
                .collect();
            found.push(Found {
                title: title.title,
                folder: title.folder.path().to_path_buf(),
                identity,
                distance,
                sightings,
            });
        }
    }
    let found = Finds(found);
    answer::render(out, format, &found)?;
    if found.0.is_empty() {
        eprintln!(
            "the person in {} is in none of these results (no identity within {same_person})",
            photo.display()
        );
    }
    for f in found
        .0
        .iter()
        .filter(|f| f.identity.starts_with("unknown_"))
    {
        eprintln!(
            "to name {} of {}: screentime name {} {} NAME --cast DIR",
            f.identity,
            f.title,
            f.folder.display(),
            f.identity
        );
    }
    Ok(found.0)
}

fn sighting(title: &str, stretch: Interval) -> Sighting {
    Sighting {
        title: title.into(),
        start: stretch.start,
        end: stretch.end,
        seconds: stretch.end - stretch.start,
    }
}

/// A sighting's start, end and seconds, as the tables print them.
fn times(s: &Sighting) -> Vec<String> {
    [s.start, s.end, s.seconds]
        .iter()
        .map(|t| format!("{t:.2}"))
        .collect()
}

const TIMES: [(&str, Align); 3] = [
    ("start", Align::Right),
    ("end", Align::Right),
    ("seconds", Align::Right),
];

/// The answer of `search NAME`: its sightings, by title and then time.
struct Sightings(Vec<Sighting>);

impl Answer for Sightings {
    type Item = Sighting;

    fn items(&self) -> &[Sighting] {
        &self.0
    }

    fn tables(&self) -> Vec<Table> {
        let mut table = Table::new(&[[("title", Align::Left)].as_slice(), &TIMES].concat());
        for s in &self.0 {
            table.row([vec![s.title.clone()], times(s)].concat());
        }
        vec![table]
    }
}

/// The answer of `search --photo`: the person's label in each title, with their sightings.
struct Finds(Vec<Found>);

impl Answer for Finds {
    type Item = Found;

    fn items(&self) -> &[Found] {
        &self.0
    }

    fn tables(&self) -> Vec<Table> {
        let label = [
            ("title", Align::Left),
            ("identity", Align::Left),
            ("distance", Align::Right),
        ];
        let mut table = Table::new(&[label.as_slice(), &TIMES].concat());
        for f in &self.0 {
            for s in &f.sightings {
                let label = vec![
                    s.title.clone(),
                    f.identity.clone(),
                    format!("{:.3}", f.distance),
                ];
                table.row([label, times(s)].concat());
            }
        }
        vec![table]
    }
}

/// Every finished title of these result folders. A folder is a single-video output (has
/// `report.json`) or a batch output (done titles under `titles/`, failed ones named in a
/// warning); one that holds neither is an error.
fn titles(results: &[PathBuf]) -> Result<Vec<Title>> {
    let mut titles = Vec::new();
    for dir in results {
        let folder = ResultDir::new(dir);
        if folder.has_report() {
            let (title, segments) = folder.appearances()?;
            titles.push(Title {
                title,
                folder,
                segments,
            });
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
        titles.extend(done.into_iter().map(|t| Title {
            title: t.title,
            folder: ResultDir::new(t.folder),
            segments: t.segments,
        }));
    }
    Ok(titles)
}
