//! `screentime group PHOTOS --out DIR`. In: a folder of photos (and optionally a cast). Out:
//! `groups.csv` (one row per face: photo, box, group), optional folders of links per group, and
//! a summary.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::commands::{load_cast, photo_faces, photos_in};
use crate::error::{Error, Result};
use crate::face::embed::distance;
use crate::face::engine::{EmbeddedFace, Engine, EngineOptions};
use crate::face::model::Thresholds;
use crate::face::runtime::Runtime;
use crate::files::names;
use crate::identity::cast::Cast;
use crate::identity::cluster::single_linkage;
use crate::identity::matching::ranked_identities;
use crate::output::{ledger, write};

const GROUPS_CSV: &str = "groups.csv";

/// The group label of faces that belong to no group of at least `--min-photos` photos.
pub const UNGROUPED: &str = "ungrouped";

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
/// Faces are taken in sorted photo order, left to right within a photo; two faces closer than the
/// embedder's [`Thresholds::group`] are linked, and a group is a connected set of links (single
/// linkage), so the result depends only on the photos, not on the order they were found in. Groups
/// with faces in fewer than `min_photos` distinct photos are [`UNGROUPED`]. With a cast, a group
/// whose faces are on average closer than the embedder's same-person threshold (dlib 0.6) to a
/// member's nearest photo takes the nearest such member's name (two groups may take the same name);
/// the others are numbered `person_1`, ... in order of first appearance. Writes `OUT/groups.csv`
/// atomically; with `link`, `OUT/<group>/` gets a symbolic link to each of the group's photos.
/// OUT keeps the record of what a run wrote ([`ledger`]): a run again removes what an earlier
/// one wrote and it does not (the links of groups gone), and writes over nothing else. Photos
/// under OUT, when it is inside PHOTOS, are not photos to group. Returns the grouping; an
/// unreadable photo is reported and counted in `failed`.
pub fn run(
    engine: &EngineOptions,
    options: &GroupOptions,
    out: &mut impl Write,
) -> Result<Grouping> {
    ledger::check_folder(&options.out)?;
    let runtime = Runtime::new(engine.runtime.clone())?;
    let cast = match &options.cast {
        Some(path) => Some(load_cast(&runtime, engine, path, false)?),
        None => None,
    };
    // An output folder inside the photo folder holds this command's own links (and they lead
    // to the photos): a second run would count every photo twice.
    let own = options.out.canonicalize().ok();
    let photos: Vec<PathBuf> = photos_in(&options.photos)?
        .into_iter()
        .filter(|photo| {
            let folder = photo.parent().and_then(|p| p.canonicalize().ok());
            !matches!((&folder, &own), (Some(folder), Some(own)) if folder.starts_with(own))
        })
        .collect();
    let mut faces_engine = Engine::new(&runtime, engine.detect)?;
    let mut faces: Vec<(PathBuf, EmbeddedFace)> = Vec::new();
    let mut failed = 0;
    for photo in photos {
        match photo_faces(&mut faces_engine, &photo) {
            Ok(found) => faces.extend(found.into_iter().map(|f| (photo.clone(), f))),
            Err(err @ Error::Interrupted { .. }) => return Err(err),
            Err(err) => {
                eprintln!("error: {err}; photo skipped");
                failed += 1;
            }
        }
    }

    let labels = label_groups(
        &faces,
        cast.as_ref(),
        options.min_photos,
        engine.thresholds(),
    );
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

    // The same record of what it wrote as a measuring run's: a run with other options removes
    // the links and folders of groups that no longer exist, and nothing it did not write.
    let links = if options.link {
        links(&grouping, options)?
    } else {
        Vec::new()
    };
    let files = (links.iter().map(|(name, _)| name.clone()))
        .chain([GROUPS_CSV.to_string()])
        .collect();
    let claim = ledger::claim(&options.out, files)?;
    std::fs::create_dir_all(&options.out).map_err(|e| Error::output(&options.out, e))?;
    claim.record()?;
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
    write::write_table(
        &options.out.join(GROUPS_CSV),
        &["photo", "x1", "y1", "x2", "y2", "group"],
        &records,
    )?;
    link_groups(&options.out, &links)?;

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
        writeln!(out, "faces: {}", options.out.join(GROUPS_CSV).display())
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

/// One label per face (same order): see [`run`].
///
/// dlib's link distance, 0.55: on the knn photos of `../shared/data` (five people, 21 faces)
/// every same-person pair that the grouping needs is at most 0.50 apart and every pair of
/// different people at least 0.65, and 0.55 sits in that gap with room on both sides. dlib's
/// own 0.6 would be too close to 0.65 for a chain of links, where one false link merges two
/// people. ArcFace's was measured the same way (`bench/calibrate.py`).
fn label_groups(
    faces: &[(PathBuf, EmbeddedFace)],
    cast: Option<&Cast>,
    min_photos: usize,
    thresholds: Thresholds,
) -> Vec<String> {
    let roots = single_linkage(faces.len(), |i, j| {
        distance(&faces[i].1.descriptor, &faces[j].1.descriptor) < thresholds.group
    });

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
            .and_then(|cast| {
                cast_name(
                    cast,
                    members.iter().map(|&i| &faces[i].1),
                    thresholds.same_person,
                )
            })
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
/// below `same_person`.
fn cast_name<'a>(
    cast: &Cast,
    faces: impl Iterator<Item = &'a EmbeddedFace>,
    same_person: f32,
) -> Option<String> {
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
        .filter(|&(_, mean)| mean < same_person)
        .min_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)))
        .map(|(name, _)| name.to_string())
}

/// `OUT/<group>/<photo path under PHOTOS, escaped>` -> the photo, for every group and
/// [`UNGROUPED`]: (the link, relative to OUT and `/`-separated, the photo). The path is
/// [`names::escape`]d into one name (`more/a.jpg` as `more%2Fa.jpg`), so photos of different
/// paths never share a link.
fn links<'a>(grouping: &'a Grouping, options: &GroupOptions) -> Result<Vec<(String, &'a Path)>> {
    let mut links = Vec::new();
    for group in grouping.groups().into_iter().chain([UNGROUPED]) {
        names::component(group)
            .map_err(|reason| Error::output(&options.out.join(group), reason))?;
        for photo in grouping.photos_of(group) {
            let relative = photo.strip_prefix(&options.photos).unwrap_or(photo);
            let name = names::escape(&relative.to_string_lossy());
            links.push((format!("{group}/{name}"), photo));
        }
    }
    Ok(links)
}

/// Makes each of `links` (see [`links`]) in `out`; a link of that name an earlier run made is
/// replaced.
fn link_groups(out: &Path, links: &[(String, &Path)]) -> Result<()> {
    for (name, photo) in links {
        let link = out.join(name);
        let dir = link.parent().expect("a link in a group's folder");
        std::fs::create_dir_all(dir).map_err(|e| Error::output(dir, e))?;
        let target = std::path::absolute(photo).map_err(|e| Error::output(photo, e))?;
        if link.symlink_metadata().is_ok_and(|m| m.is_symlink()) {
            std::fs::remove_file(&link).map_err(|e| Error::output(&link, e))?;
        }
        symlink(&target, &link).map_err(|e| Error::output(&link, e))?;
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
