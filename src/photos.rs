//! Face jobs on still photos and on finished results, beside the video job.
//!
//! - [`lookalike`]: in, one photo and a cast; out, for each face (left to right) the nearest cast
//!   identities within the threshold, with distance and similarity, as a table or JSON.
//! - [`similarity`]: in, two photos; out, the distance between their largest faces and whether
//!   that is the same person.
//! - [`group`]: in, a folder of photos (and optionally a cast); out, `groups.csv` (one row per
//!   face: photo, box, group), optional folders of links per group, and a summary.
//! - [`search`]: in, a person's name and result folders of `screentime` or `screentime batch`;
//!   out, every appearance of the person (a segment): title, start, end and seconds.
//!
//! Every face goes through the same [`Engine`] as video frames and cast photos, and distances are
//! dlib's Euclidean distances ([`crate::embed::distance`]): below 0.6 is the same person.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::batch;
use crate::cast::{self, Cast};
use crate::commands::load_cast;
use crate::detect::BBox;
use crate::embed::{SAME_PERSON, distance};
use crate::engine::{EmbeddedFace, Engine, EngineOptions, load_image};
use crate::error::{Error, Result, warn};
use crate::identify::ranked_identities;
use crate::names;
use crate::report::{self, Segment};
use crate::runtime::Runtime;
use crate::walk::walk;

/// Faces closer than this are linked into one group by [`group`] (single linkage). On the knn
/// photos of `../shared/data` (five people, 21 faces) every same-person pair that the grouping
/// needs is at most 0.50 apart and every pair of different people at least 0.65: 0.55 sits in
/// that gap with room on both sides. dlib's own 0.6 would be too close to 0.65 for a chain of
/// links, where one false link merges two people.
pub const GROUP_DISTANCE: f32 = 0.55;

/// The group label of faces that belong to no group of at least `--min-photos` photos.
pub const UNGROUPED: &str = "ungrouped";

fn input_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Input {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// The faces of the photo at `path`, left to right (by the box's left edge).
fn faces_left_to_right(engine: &mut Engine, path: &Path) -> Result<Vec<EmbeddedFace>> {
    let mut faces = engine.faces(&load_image(path)?)?;
    faces.sort_by(|a, b| a.face.bbox.x1.total_cmp(&b.face.bbox.x1));
    Ok(faces)
}

/// Similarity in [0, 1] for a distance: `max(0, 1 - distance / (2 * threshold))`. 1 for identical
/// descriptors, 0.5 exactly at the threshold (above 0.5: the same person), 0 at twice it.
pub fn similarity_score(distance: f32, threshold: f32) -> f32 {
    (1.0 - distance / (2.0 * threshold)).max(0.0)
}

/// What `screentime lookalike` needs beyond the engine options.
#[derive(Debug, Clone)]
pub struct LookalikeOptions {
    pub photo: PathBuf,
    pub cast: PathBuf,
    /// How many identities to list per face.
    pub top: usize,
    /// Identities farther than this are left out.
    pub threshold: f32,
    pub json: bool,
}

#[derive(Debug, Serialize)]
pub struct Lookalike {
    pub rank: usize,
    pub name: String,
    /// Distance to the identity's closest cast photo.
    pub distance: f32,
    /// [`similarity_score`] of `distance`.
    pub similarity: f32,
}

#[derive(Debug, Serialize)]
pub struct FaceLookalikes {
    /// 0-based, left to right.
    pub face: usize,
    #[serde(rename = "box")]
    pub bbox: BBox,
    /// Nearest first; empty when no identity is within the threshold.
    pub matches: Vec<Lookalike>,
}

/// `screentime lookalike PHOTO --cast DIR`: for each face in the photo, left to right, the `top`
/// nearest cast identities within the threshold. A photo without a face is an error.
pub fn lookalike(
    engine: &EngineOptions,
    options: &LookalikeOptions,
    out: &mut impl Write,
) -> Result<Vec<FaceLookalikes>> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    let cast = load_cast(&runtime, engine, &options.cast, false)?;
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let faces = faces_left_to_right(&mut faces_engine, &options.photo)?;
    if faces.is_empty() {
        return Err(input_error(&options.photo, "no face found"));
    }
    let results: Vec<FaceLookalikes> = faces
        .iter()
        .enumerate()
        .map(|(i, found)| FaceLookalikes {
            face: i,
            bbox: found.face.bbox,
            matches: ranked_identities(&cast, &found.descriptor)
                .into_iter()
                .take_while(|&(_, d)| d <= options.threshold)
                .take(options.top)
                .enumerate()
                .map(|(rank, (name, d))| Lookalike {
                    rank: rank + 1,
                    name: name.to_string(),
                    distance: d,
                    similarity: similarity_score(d, options.threshold),
                })
                .collect(),
        })
        .collect();
    if options.json {
        serde_json::to_writer_pretty(&mut *out, &results)
            .map_err(std::io::Error::from)
            .and_then(|()| writeln!(out))
            .map_err(Error::stdout)?;
    } else {
        print_lookalikes(out, &results, options.threshold).map_err(Error::stdout)?;
    }
    Ok(results)
}

fn print_lookalikes(
    out: &mut impl Write,
    faces: &[FaceLookalikes],
    threshold: f32,
) -> std::io::Result<()> {
    let width = faces
        .iter()
        .flat_map(|f| &f.matches)
        .map(|m| m.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    writeln!(
        out,
        "{:>4}  {:<21}  {:>4}  {:width$}  {:>8}  {:>10}",
        "face", "box", "rank", "name", "distance", "similarity"
    )?;
    for face in faces {
        let b = face.bbox;
        let bbox = format!("{:.0},{:.0},{:.0},{:.0}", b.x1, b.y1, b.x2, b.y2);
        if face.matches.is_empty() {
            writeln!(
                out,
                "{:>4}  {bbox:<21}  no cast member within {threshold:.2}",
                face.face
            )?;
        }
        for m in &face.matches {
            writeln!(
                out,
                "{:>4}  {bbox:<21}  {:>4}  {:width$}  {:>8.3}  {:>10.3}",
                face.face, m.rank, m.name, m.distance, m.similarity
            )?;
        }
    }
    Ok(())
}

#[derive(Debug, Serialize)]
pub struct Similarity {
    pub a: PathBuf,
    pub b: PathBuf,
    /// Between the largest face of each photo.
    pub distance: f32,
    /// `distance` below [`SAME_PERSON`].
    pub same_person: bool,
    /// "same person" or "different people".
    pub verdict: &'static str,
}

/// `screentime similarity A B`: the distance between the largest faces of two photos and
/// whether they are the same person. A photo without a face is an error naming it.
pub fn similarity(
    engine: &EngineOptions,
    (a, b): (&Path, &Path),
    json: bool,
    out: &mut impl Write,
) -> Result<Similarity> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let mut largest = |path: &Path| -> Result<EmbeddedFace> {
        faces_left_to_right(&mut faces_engine, path)?
            .into_iter()
            .max_by(|x, y| x.face.bbox.area().total_cmp(&y.face.bbox.area()))
            .ok_or_else(|| input_error(path, "no face found"))
    };
    let (face_a, face_b) = (largest(a)?, largest(b)?);
    let d = distance(&face_a.descriptor, &face_b.descriptor);
    let same_person = d < SAME_PERSON;
    let result = Similarity {
        a: a.to_path_buf(),
        b: b.to_path_buf(),
        distance: d,
        same_person,
        verdict: if same_person {
            "same person"
        } else {
            "different people"
        },
    };
    if json {
        report::print_json_line(out, &result)?;
    } else {
        writeln!(
            out,
            "distance {:.3} (same person below {SAME_PERSON}): {}",
            d, result.verdict
        )
        .map_err(Error::stdout)?;
    }
    Ok(result)
}

/// What `screentime group` needs beyond the engine options.
#[derive(Debug, Clone)]
pub struct GroupOptions {
    /// Searched recursively for photos.
    pub photos: PathBuf,
    /// Gets `groups.csv` and, with `link`, one folder of links per group.
    pub out: PathBuf,
    /// Groups that match a cast member take their name.
    pub cast: Option<PathBuf>,
    /// Print only the photos of this group.
    pub person: Option<String>,
    pub link: bool,
    /// Groups with fewer distinct photos are left ungrouped.
    pub min_photos: usize,
}

/// One face of `groups.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupedFace {
    pub photo: PathBuf,
    pub x1: f32,
    pub y1: f32,
    pub x2: f32,
    pub y2: f32,
    /// A cast member's name, `person_N`, or [`UNGROUPED`].
    pub group: String,
}

#[derive(Debug)]
pub struct Grouping {
    /// In (photo, face left to right) order.
    pub faces: Vec<GroupedFace>,
    /// Photos that could not be read (reported on stderr and skipped).
    pub failed: usize,
}

impl Grouping {
    /// Group labels in order of first appearance, [`UNGROUPED`] left out.
    pub fn groups(&self) -> Vec<&str> {
        let mut seen = Vec::new();
        for face in &self.faces {
            if face.group != UNGROUPED && !seen.contains(&face.group.as_str()) {
                seen.push(face.group.as_str());
            }
        }
        seen
    }

    /// The distinct photos with a face in `group`, sorted.
    pub fn photos_of(&self, group: &str) -> Vec<&Path> {
        let photos: BTreeSet<&Path> = self
            .faces
            .iter()
            .filter(|f| f.group == group)
            .map(|f| f.photo.as_path())
            .collect();
        photos.into_iter().collect()
    }
}

/// `screentime group PHOTOS --out DIR`: groups every face of every photo by person.
///
/// Faces are taken in sorted photo order, left to right within a photo; two faces closer than
/// [`GROUP_DISTANCE`] are linked, and a group is a connected set of links (single linkage), so
/// the result depends only on the photos, not on the order they were found in. Groups with
/// faces in fewer than `min_photos` distinct photos are [`UNGROUPED`]. With a cast, a group whose
/// faces are on average closer than 0.6 to a member's nearest photo takes the nearest such
/// member's name (two groups may take the same name); the others are numbered `person_1`, ... in
/// order of first appearance. Writes `OUT/groups.csv` atomically; with `link`, `OUT/<group>/`
/// gets a symbolic link to each of the group's photos (an existing link of that name is
/// replaced). Returns the grouping; an unreadable photo is reported and counted in `failed`.
pub fn group(
    engine: &EngineOptions,
    options: &GroupOptions,
    out: &mut impl Write,
) -> Result<Grouping> {
    let runtime = Runtime::new(engine.runtime.clone())?;
    let cast = match &options.cast {
        Some(path) => Some(load_cast(&runtime, engine, path, false)?),
        None => None,
    };
    let found = walk(&options.photos)?;
    for link in &found.folder_links {
        warn(&format!(
            "{}: a link to a folder; not followed",
            link.display()
        ));
    }
    let photos: Vec<PathBuf> = found
        .files
        .into_iter()
        .filter(|file| cast::is_photo(file))
        .collect();
    if photos.is_empty() {
        return Err(input_error(
            &options.photos,
            "no photos (jpg, jpeg, png, webp, bmp) in this folder",
        ));
    }
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let mut faces: Vec<(PathBuf, EmbeddedFace)> = Vec::new();
    let mut failed = 0;
    for photo in photos {
        match faces_left_to_right(&mut faces_engine, &photo) {
            Ok(found) => faces.extend(found.into_iter().map(|f| (photo.clone(), f))),
            Err(err) => {
                eprintln!("error: {err}; photo skipped");
                failed += 1;
            }
        }
    }

    let labels = label_groups(&faces, cast.as_ref(), options.min_photos);
    let grouping = Grouping {
        faces: faces
            .iter()
            .zip(labels)
            .map(|((photo, found), group)| {
                let b = found.face.bbox;
                GroupedFace {
                    photo: photo.clone(),
                    x1: b.x1,
                    y1: b.y1,
                    x2: b.x2,
                    y2: b.y2,
                    group,
                }
            })
            .collect(),
        failed,
    };

    std::fs::create_dir_all(&options.out).map_err(|e| Error::output(&options.out, e))?;
    let records: Vec<Vec<String>> = grouping
        .faces
        .iter()
        .map(|f| {
            vec![
                f.photo.to_string_lossy().into_owned(),
                format!("{:.1}", f.x1),
                format!("{:.1}", f.y1),
                format!("{:.1}", f.x2),
                format!("{:.1}", f.y2),
                f.group.clone(),
            ]
        })
        .collect();
    report::write_table(
        &options.out.join("groups.csv"),
        &["photo", "x1", "y1", "x2", "y2", "group"],
        &records,
    )?;
    if options.link {
        link_groups(&grouping, options)?;
    }

    let mut report_groups = || -> std::io::Result<()> {
        if let Some(person) = &options.person {
            for photo in grouping.photos_of(person) {
                writeln!(out, "{}", photo.display())?;
            }
            return Ok(());
        }
        let groups = grouping.groups();
        writeln!(
            out,
            "{} faces in {} photos: {} groups",
            grouping.faces.len(),
            grouping
                .faces
                .iter()
                .map(|f| &f.photo)
                .collect::<BTreeSet<_>>()
                .len(),
            groups.len()
        )?;
        for group in groups.iter().copied().chain([UNGROUPED]) {
            let photos = grouping.photos_of(group).len();
            if photos > 0 {
                writeln!(out, "  {group}: {photos} photos")?;
            }
        }
        writeln!(out, "faces: {}", options.out.join("groups.csv").display())
    };
    report_groups().map_err(Error::stdout)?;
    if let Some(person) = &options.person
        && grouping.photos_of(person).is_empty()
    {
        eprintln!(
            "no group named {person}; groups: {}",
            grouping.groups().join(", ")
        );
    }
    Ok(grouping)
}

/// One label per face (same order): see [`group`].
fn label_groups(
    faces: &[(PathBuf, EmbeddedFace)],
    cast: Option<&Cast>,
    min_photos: usize,
) -> Vec<String> {
    // Union-find; each root is its set's smallest index, so sets come out in first-appearance
    // order.
    let mut parent: Vec<usize> = (0..faces.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..faces.len() {
        for j in i + 1..faces.len() {
            if distance(&faces[i].1.descriptor, &faces[j].1.descriptor) < GROUP_DISTANCE {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let roots: Vec<usize> = (0..faces.len()).map(|i| root(&mut parent, i)).collect();

    let mut labels = vec![UNGROUPED.to_string(); faces.len()];
    let mut numbered = 0;
    for first in 0..faces.len() {
        if roots[first] != first {
            continue;
        }
        let members: Vec<usize> = (first..faces.len())
            .filter(|&i| roots[i] == first)
            .collect();
        let photos: BTreeSet<&Path> = members.iter().map(|&i| faces[i].0.as_path()).collect();
        if photos.len() < min_photos.max(1) {
            continue;
        }
        let name = cast
            .and_then(|cast| cast_name(cast, members.iter().map(|&i| &faces[i].1)))
            .unwrap_or_else(|| {
                numbered += 1;
                format!("person_{numbered}")
            });
        for i in members {
            labels[i] = name.clone();
        }
    }
    labels
}

/// The cast member whose nearest photo is on average closest to these faces, when that mean is
/// below [`SAME_PERSON`].
fn cast_name<'a>(cast: &Cast, faces: impl Iterator<Item = &'a EmbeddedFace>) -> Option<String> {
    let mut totals: Vec<(&str, f32)> = Vec::new();
    let mut count = 0;
    for face in faces {
        count += 1;
        for (name, d) in ranked_identities(cast, &face.descriptor) {
            match totals.iter_mut().find(|(n, _)| *n == name) {
                Some(total) => total.1 += d,
                None => totals.push((name, d)),
            }
        }
    }
    totals
        .into_iter()
        .map(|(name, total)| (name, total / count as f32))
        .filter(|&(_, mean)| mean < SAME_PERSON)
        .min_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)))
        .map(|(name, _)| name.to_string())
}

/// `OUT/<group>/<photo path under PHOTOS, escaped>` -> the photo, for every group and
/// [`UNGROUPED`]; existing links of those names are replaced. The path is
/// [`names::escape`]d into one name (`more/a.jpg` as `more%2Fa.jpg`), so photos of
/// different paths never share a link.
fn link_groups(grouping: &Grouping, options: &GroupOptions) -> Result<()> {
    for group in grouping.groups().into_iter().chain([UNGROUPED]) {
        let photos = grouping.photos_of(group);
        if photos.is_empty() {
            continue;
        }
        let dir = options.out.join(group);
        names::component(group).map_err(|reason| Error::output(&dir, reason))?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::output(&dir, e))?;
        for photo in photos {
            let target = std::path::absolute(photo).map_err(|e| Error::output(photo, e))?;
            let relative = photo.strip_prefix(&options.photos).unwrap_or(photo);
            let link = dir.join(names::escape(&relative.to_string_lossy()));
            if link.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
                std::fs::remove_file(&link).map_err(|e| Error::output(&link, e))?;
            }
            symlink(&target, &link).map_err(|e| Error::output(&link, e))?;
        }
    }
    Ok(())
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Err(std::io::Error::other("symbolic links need a Unix system"))
}

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
pub fn search(name: &str, results: &[PathBuf], out: &mut impl Write) -> Result<Vec<Sighting>> {
    #[derive(Deserialize)]
    struct Video {
        path: PathBuf,
    }
    #[derive(Deserialize)]
    struct SingleReport {
        video: Video,
        segments: Vec<Segment>,
    }
    let mut titles: Vec<(String, Vec<Segment>)> = Vec::new();
    for dir in results {
        let report = dir.join("report.json");
        if report.is_file() {
            let text = std::fs::read_to_string(&report).map_err(|source| Error::Io {
                path: report.clone(),
                source,
            })?;
            let single: SingleReport = serde_json::from_str(&text)
                .map_err(|e| input_error(&report, format!("not a screentime report: {e}")))?;
            let title = single
                .video
                .path
                .file_name()
                .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
            titles.push((title, single.segments));
            continue;
        }
        let (done, failed): (Vec<_>, Vec<_>) = batch::titles(dir)?
            .into_iter()
            .partition(|t| t.error.is_none());
        for title in failed {
            let error = title.error.unwrap_or_default();
            warn(&format!("{}: not searched: {error}", title.title));
        }
        if done.is_empty() {
            return Err(input_error(
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
