//! The cast: whom to recognise.
//!
//! In: a folder with one sub-folder of photos per actor (`cast/Tom Cruise/*.jpg`) and/or single
//! photos named after the actor (`cast/Tom Cruise.jpg`), or an embeddings file written by an
//! earlier run. Out: a [`Cast`]: each actor's name with the descriptor of the largest face in
//! each of their photos.
//!
//! Embedding photos is the slow part, so the result is cached beside the photos in
//! `screentime-cast.json` (`screentime-cast-arcface.json` for ArcFace's, so that runs with
//! either embedder keep their own), keyed by each photo's sha256 and by the embedding models and
//! code ([`Runtime::embedding_fingerprint`]): a second run embeds nothing, an edited or added
//! photo is embedded alone, and a screentime that embeds faces another way embeds them all.
//! That file is also a cast on its own (`--cast cast/screentime-cast.json`): 128 numbers per
//! face (512 for ArcFace), no photos needed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::face::detect::DetectOptions;
use crate::face::embed::Descriptor;
use crate::face::engine::{EmbeddedFace, Engine, load_image, padded};
use crate::face::model::EmbedderKind;
use crate::face::runtime::{Runtime, sha256_file};
use crate::files::atomic::{write_bytes, write_json};
use crate::files::names;
use crate::job::interrupt;

/// The embeddings file kept beside the cast photos, one per embedder.
pub fn cache_file(embedder: EmbedderKind) -> &'static str {
    match embedder {
        EmbedderKind::Dlib => "screentime-cast.json",
        EmbedderKind::Arcface => "screentime-cast-arcface.json",
    }
}

fn is_cache_file(name: &str) -> bool {
    <EmbedderKind as clap::ValueEnum>::value_variants()
        .iter()
        .any(|&kind| cache_file(kind) == name)
}
const FORMAT: &str = "screentime-cast 1";
const PHOTO_EXTENSIONS: [&str; 5] = ["jpg", "jpeg", "png", "webp", "bmp"];

#[derive(Debug, Clone)]
pub struct CastFace {
    pub name: String,
    /// Where the face came from, relative to the cast folder.
    pub photo: String,
    pub descriptor: Descriptor,
}

#[derive(Debug, Clone)]
pub struct Cast {
    pub faces: Vec<CastFace>,
    /// Problems with single photos (no face, several faces): reported, not fatal.
    pub warnings: Vec<String>,
}

impl Cast {
    /// Distinct actor names, sorted.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.faces.iter().map(|f| f.name.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// The cache file's layout; `descriptor` is None for a photo in which no face was found, so
/// that photo is not analysed again either.
#[derive(Serialize, Deserialize)]
struct CacheFile {
    format: String,
    embedder_sha256: String,
    photos: Vec<CachedPhoto>,
}

#[derive(Serialize, Deserialize, Clone, PartialEq)]
struct CachedPhoto {
    name: String,
    photo: String,
    sha256: String,
    faces_found: usize,
    descriptor: Option<Vec<f32>>,
}

/// Loads the cast at `path`: a folder of photos (embedding what the cache lacks) or a cache file.
pub fn load(path: &Path, runtime: &Runtime, detect: DetectOptions) -> Result<Cast> {
    let cast = if path.is_dir() {
        load_folder(path, runtime, detect)?
    } else if path.is_file() {
        if has_photo_extension(path) {
            return Err(cast_error(
                path,
                "a photo, not a cast: give a folder holding it as <actor name>.jpg (or a folder \
                 per actor)",
            ));
        }
        let bytes = std::fs::read(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            cast_error(
                path,
                "not a screentime cast file (it is not text): give a folder of actor photos, or \
                 the screentime-cast.json made from one",
            )
        })?;
        parse_cast_file(
            path,
            &text,
            &runtime.embedding_fingerprint(),
            runtime.embedder(),
        )?
    } else {
        return Err(cast_error(path, "no such folder or file"));
    };
    if cast.faces.is_empty() {
        return Err(cast_error(path, "no face found in any cast photo"));
    }
    Ok(cast)
}

/// Adds `photos` to actor `name` in the cast folder `dir`, as `dir/<name>/<prefix>-<file name>`,
/// and returns the paths written. A photo already there is left as it is, so adding the same
/// photos twice changes nothing. An actor given by a single photo (`dir/<name>.jpg`) is moved
/// into their new folder first, because an actor is either a folder or a photo.
pub fn add_photos(
    dir: &Path,
    name: &str,
    photos: &[PathBuf],
    prefix: &str,
) -> Result<Vec<PathBuf>> {
    if !dir.exists() {
        return Err(cast_error(dir, "no such cast folder"));
    }
    if !dir.is_dir() {
        return Err(cast_error(
            dir,
            "not a cast folder (photos can only be added to a folder, not to an embeddings file)",
        ));
    }
    actor_name(name)
        .map_err(|reason| cast_error(&dir.join(name), &format!("actor name {reason}")))?;
    let folder = dir.join(name);
    std::fs::create_dir_all(&folder).map_err(|e| Error::output(&folder, e))?;
    for extension in PHOTO_EXTENSIONS {
        let single = dir.join(format!("{name}.{extension}"));
        if single.is_file() {
            let moved = folder.join(single.file_name().expect("a file name"));
            std::fs::rename(&single, &moved).map_err(|e| Error::output(&moved, e))?;
        }
    }
    let mut added = Vec::new();
    for photo in photos {
        let file = photo.file_name().unwrap_or_default().to_string_lossy();
        let target = folder.join(format!("{prefix}-{file}"));
        if !target.exists() {
            let bytes = std::fs::read(photo).map_err(|source| Error::Io {
                path: photo.clone(),
                source,
            })?;
            write_bytes(&target, &bytes)?;
        }
        added.push(target);
    }
    Ok(added)
}

/// Why `name` cannot be an actor's name, if it cannot. It names a folder (`faces/<name>/`, the
/// cast's own, `group --link`'s), so it is one plain, visible component of a path; and it must
/// not be a label screentime gives people nobody named (`unknown_N` for a run's strangers,
/// `person_N` and `ungrouped` for `group`'s), or a stranger and an actor would share one row.
/// Every place a cast is read or added to asks this one rule.
pub fn actor_name(name: &str) -> std::result::Result<(), String> {
    names::component(name)?;
    let numbered = |prefix: &str| {
        name.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    let problem = if name.trim().is_empty() {
        "is blank"
    } else if name.starts_with('.') {
        "starts with a dot (a hidden file)"
    } else if name.chars().any(char::is_control) {
        "holds a control character (it would reach terminals and charts as it is)"
    } else if name.starts_with("unknown_") {
        "is kept for a run's strangers (unknown_N)"
    } else if numbered("person_") || name == "ungrouped" {
        "is kept for the groups of `screentime group` (person_N, ungrouped)"
    } else {
        return Ok(());
    };
    Err(format!("{name:?} {problem}"))
}

fn cast_error(path: &Path, reason: &str) -> Error {
    Error::Cast {
        path: path.to_path_buf(),
        reason: reason.to_string(),
    }
}

fn load_folder(dir: &Path, runtime: &Runtime, detect: DetectOptions) -> Result<Cast> {
    let embedder = runtime.embedding_fingerprint();
    // Made only for a photo the cache lacks: its sessions take time to make, and memory the
    // allocator keeps after they are dropped (100 MB of a run's peak, measured).
    let mut engine: Option<Engine> = None;
    let (photos, mut warnings) = list_photos(dir)?;
    if let Some((reason, photo)) = photos
        .iter()
        .find_map(|(name, photo)| Some((actor_name(name).err()?, photo)))
    {
        return Err(cast_error(photo, &format!("actor name {reason}")));
    }
    if photos.is_empty() {
        return Err(cast_error(
            dir,
            "no photos: expected one sub-folder of photos per actor, or photos named after actors",
        ));
    }
    let cache_path = dir.join(cache_file(runtime.embedder()));
    let previous = match read_cache(&cache_path, runtime.embedder()) {
        Ok(Some(cache)) if cache.embedder_sha256 == embedder => cache.photos,
        _ => Vec::new(), // absent, stale or damaged: rebuilt below
    };
    let by_hash: BTreeMap<&str, &CachedPhoto> =
        previous.iter().map(|p| (p.sha256.as_str(), p)).collect();

    let mut entries = Vec::with_capacity(photos.len());
    let mut unreadable = Vec::new();
    for (name, photo) in &photos {
        let name = name.clone();
        let relative = photo
            .strip_prefix(dir)
            .unwrap_or(photo)
            .to_string_lossy()
            .into_owned();
        // A link to nothing or a file that cannot be opened is one more photo left out.
        let sha256 = match sha256_file(photo) {
            Ok(sha256) => sha256,
            Err(err) => {
                unreadable.push(format!("{err}; photo skipped"));
                continue;
            }
        };
        if let Some(hit) = by_hash.get(sha256.as_str()) {
            entries.push(CachedPhoto {
                name,
                photo: relative,
                ..(*hit).clone()
            });
            continue;
        }
        if interrupt::stopped() {
            return Err(Error::Interrupted {
                path: photo.clone(),
            });
        }
        let engine = match &mut engine {
            Some(engine) => engine,
            None => engine.insert(Engine::new(runtime, detect)?),
        };
        // One damaged photo should not stop the run: it is left out (and not cached, so a
        // repaired file is picked up next time).
        match load_image(photo).and_then(|image| enrol(engine, &image)) {
            Ok(faces) => {
                let largest = faces
                    .iter()
                    .max_by(|a, b| a.face.bbox.area().total_cmp(&b.face.bbox.area()));
                entries.push(CachedPhoto {
                    name,
                    photo: relative,
                    sha256,
                    faces_found: faces.len(),
                    descriptor: largest.map(|f| f.descriptor.clone()),
                });
            }
            Err(err) => unreadable.push(format!("{err}; photo skipped")),
        }
    }

    if entries != previous {
        let cache = CacheFile {
            format: FORMAT.into(),
            embedder_sha256: embedder.clone(),
            photos: entries.clone(),
        };
        // A read-only cast folder still works; it is only embedded again next time.
        if let Err(err) = write_json(&cache_path, &cache) {
            unreadable.push(format!("{err}; the cast will be embedded again next run"));
        }
    }
    let mut cast = from_cached(dir, &entries);
    warnings.append(&mut cast.warnings);
    warnings.extend(unreadable);
    let recognised = cast.names();
    let actors: BTreeSet<&str> = photos.iter().map(|(name, _)| name.as_str()).collect();
    for actor in actors.into_iter().filter(|a| !recognised.contains(a)) {
        warnings.push(format!(
            "{}: no usable photo of {actor}; {actor} will not be recognised",
            dir.display()
        ));
    }
    cast.warnings = warnings;
    Ok(cast)
}

/// The faces in a cast photo; a tight crop that shows none is padded and tried again.
fn enrol(engine: &mut Engine, image: &RgbImage) -> Result<Vec<EmbeddedFace>> {
    let faces = engine.faces(image)?;
    if faces.is_empty() {
        return engine.faces(&padded(image));
    }
    Ok(faces)
}

fn from_cached(dir: &Path, photos: &[CachedPhoto]) -> Cast {
    let mut faces = Vec::new();
    let mut warnings = Vec::new();
    for photo in photos {
        let path = dir.join(&photo.photo);
        match (&photo.descriptor, photo.faces_found) {
            (None, _) => warnings.push(format!("{}: no face found; photo skipped", path.display())),
            (Some(d), n) => {
                if n > 1 {
                    warnings.push(format!(
                        "{}: {n} faces found; using the largest as {}",
                        path.display(),
                        photo.name
                    ));
                }
                faces.push(CastFace {
                    name: photo.name.clone(),
                    photo: photo.photo.clone(),
                    descriptor: d.clone(),
                });
            }
        }
    }
    Cast { faces, warnings }
}

/// A cast embeddings file (the `screentime-cast.json` a cast folder gets) as a cast on its own.
/// `path` names the file in errors; its embeddings must come from `embedder`, whose models have
/// this fingerprint.
pub fn parse_cast_file(
    path: &Path,
    text: &str,
    embedder_sha256: &str,
    embedder: EmbedderKind,
) -> Result<Cast> {
    let cache = parse_cache(path, text, embedder)?;
    if cache.embedder_sha256 != embedder_sha256 {
        return Err(cast_error(
            path,
            "embeddings were made by other models or an earlier screentime; give the photo \
             folder instead",
        ));
    }
    Ok(from_cached(
        path.parent().unwrap_or(Path::new("")),
        &cache.photos,
    ))
}

/// None when the file does not exist; an error when it exists but is not a valid cast file.
fn read_cache(path: &Path, embedder: EmbedderKind) -> Result<Option<CacheFile>> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_cache(path, &text, embedder).map(Some),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(Error::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn parse_cache(path: &Path, text: &str, embedder: EmbedderKind) -> Result<CacheFile> {
    let cache: CacheFile = serde_json::from_str(text)
        .map_err(|e| cast_error(path, &format!("not a screentime cast file: {e}")))?;
    if cache.format != FORMAT {
        return Err(cast_error(
            path,
            &format!("unknown format {:?}", cache.format),
        ));
    }
    // Names become folders of face pictures and of `group --link`.
    if let Some(reason) = cache.photos.iter().find_map(|p| actor_name(&p.name).err()) {
        return Err(cast_error(path, &format!("actor name {reason}")));
    }
    let len = embedder.descriptor_len();
    let valid = |d: &Vec<f32>| d.len() == len && d.iter().all(|v| v.is_finite());
    if let Some(bad) = cache
        .photos
        .iter()
        .find(|p| p.descriptor.as_ref().is_some_and(|d| !valid(d)))
    {
        return Err(cast_error(
            path,
            &format!("{}: descriptor is not {len} finite numbers", bad.photo),
        ));
    }
    Ok(cache)
}

/// (actor name, photo) pairs.
type ActorPhotos = Vec<(String, PathBuf)>;

/// (actor name, photo) for every photo in the cast folder, sorted: sub-folder photos take the
/// folder's name, top-level photos their file stem. A photo is a file with a photo extension, or
/// a link named so (reading it says what is wrong with it). Anything else visible, and an
/// actor's folder without a photo, gets a warning: nothing is left out without one.
fn list_photos(dir: &Path) -> Result<(ActorPhotos, Vec<String>)> {
    let mut photos = Vec::new();
    let mut warnings = Vec::new();
    let not_a_photo = |path: &Path| {
        format!(
            "{}: not a photo screentime reads ({}); skipped",
            path.display(),
            PHOTO_EXTENSIONS.join(", ")
        )
    };
    for entry in sorted_entries(dir)? {
        if is_hidden(&entry) || is_cache_file(&file_name(&entry)) {
            continue;
        }
        if entry.is_dir() {
            let name = file_name(&entry);
            let before = photos.len();
            for photo in sorted_entries(&entry)? {
                if is_hidden(&photo) {
                    continue;
                }
                if has_photo_extension(&photo) && !photo.is_dir() {
                    photos.push((name.clone(), photo));
                } else {
                    warnings.push(not_a_photo(&photo));
                }
            }
            if photos.len() == before {
                warnings.push(format!(
                    "{}: no photos ({}) of {name}; {name} will not be recognised",
                    entry.display(),
                    PHOTO_EXTENSIONS.join(", ")
                ));
            }
        } else if has_photo_extension(&entry) {
            let stem = entry.file_stem().unwrap_or_default().to_string_lossy();
            photos.push((stem.into_owned(), entry));
        } else {
            warnings.push(not_a_photo(&entry));
        }
    }
    Ok((photos, warnings))
}

/// The entries of `dir`, sorted by path.
pub fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>> {
    let io = |source| Error::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<Vec<_>>>()
        .map_err(io)?;
    entries.sort();
    Ok(entries)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// A visible file with a photo extension (jpg, jpeg, png, webp, bmp; any case).
pub fn is_photo(path: &Path) -> bool {
    path.is_file() && !is_hidden(path) && has_photo_extension(path)
}

fn is_hidden(path: &Path) -> bool {
    file_name(path).starts_with('.')
}

fn has_photo_extension(path: &Path) -> bool {
    path.extension().is_some_and(|ext| {
        PHOTO_EXTENSIONS.contains(&ext.to_string_lossy().to_ascii_lowercase().as_str())
    })
}
