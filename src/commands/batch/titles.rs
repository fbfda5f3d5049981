//! A batch's titles. In: a catalog, a folder searched recursively for videos or a manifest
//! (one video per line, or CSV lines `video,cast` giving a title its own cast folder). Out: the
//! titles, sorted by name, and which shard each belongs to.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result, warn};
use crate::files::walk::walk;

/// File extensions taken for videos when a catalog folder is searched.
const VIDEO_EXTENSIONS: [&str; 12] = [
    "mp4", "m4v", "mkv", "mov", "avi", "webm", "mpg", "mpeg", "ts", "wmv", "flv", "ogv",
];

/// `I/N`: this process takes shard I (0-based) of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let parsed = s
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)));
        match parsed {
            Some((index, count)) if index < count => Ok(Shard { index, count }),
            _ => Err(format!("expected I/N with 0 <= I < N, e.g. 0/4; got {s:?}")),
        }
    }
}

impl Shard {
    pub fn contains(&self, title: &str) -> bool {
        let digest = Sha256::digest(title.as_bytes());
        let head = u64::from_be_bytes(digest[..8].try_into().expect("8 bytes of a sha256"));
        head % self.count == self.index
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Title {
    /// The video's path as the catalog names it: relative to a catalog folder, or as written in
    /// a manifest. It names the title everywhere (results folder, catalog.csv, sharding).
    pub name: String,
    pub video: PathBuf,
    /// The title's own cast folder, from a manifest's second column.
    pub cast: Option<PathBuf>,
}

/// The catalog's titles, sorted by name. Links to folders in a catalog folder are not followed
/// ([`walk`]); a warning names each, unless `quiet`.
pub fn read_catalog(path: &Path, quiet: bool) -> Result<Vec<Title>> {
    let mut titles = if path.is_dir() {
        let found = walk(path)?;
        if !quiet {
            for link in &found.folder_links {
                warn(&format!(
                    "{}: a link to a folder; not followed",
                    link.display()
                ));
            }
        }
        videos(path, found.files)
    } else {
        let catalog_error = |reason: &str| Error::Catalog {
            path: path.to_path_buf(),
            reason: format!(
                "{reason}: give a folder of videos, or a manifest (a text file listing one video \
                 per line)"
            ),
        };
        if is_video(path) {
            return Err(catalog_error("a video, not a catalog"));
        }
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::InvalidData => catalog_error("not a manifest (it is not text)"),
            _ => Error::Io {
                path: path.to_path_buf(),
                source,
            },
        })?;
        parse_manifest(&text, path.parent().unwrap_or(Path::new(""))).map_err(|reason| {
            Error::Catalog {
                path: path.to_path_buf(),
                reason,
            }
        })?
    };
    if titles.is_empty() {
        return Err(Error::Catalog {
            path: path.to_path_buf(),
            reason: format!("no videos in it ({})", VIDEO_EXTENSIONS.join(", ")),
        });
    }
    titles.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(pair) = titles.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(Error::Catalog {
            path: path.to_path_buf(),
            reason: format!("{} is listed twice", pair[0].name),
        });
    }
    // `a.mp4`, `./a.mp4` and a link to it are one video: measured twice, it would count twice
    // in the catalog's totals.
    let mut seen: BTreeMap<PathBuf, &str> = BTreeMap::new();
    for title in &titles {
        let Ok(canonical) = title.video.canonicalize() else {
            continue; // a missing video fails as its own title
        };
        if let Some(first) = seen.insert(canonical, &title.name) {
            return Err(Error::Catalog {
                path: path.to_path_buf(),
                reason: format!(
                    "{first} and {} are the same video, listed twice",
                    title.name
                ),
            });
        }
    }
    Ok(titles)
}

/// Whether `path` has one of the [`VIDEO_EXTENSIONS`] (any case).
fn is_video(path: &Path) -> bool {
    path.extension().is_some_and(|ext| {
        VIDEO_EXTENSIONS.contains(&ext.to_string_lossy().to_ascii_lowercase().as_str())
    })
}

/// The files with a video extension among `files`, as titles named by their path under `root`.
fn videos(root: &Path, files: Vec<PathBuf>) -> Vec<Title> {
    files
        .into_iter()
        .filter(|path| is_video(path))
        .map(|path| {
            let relative = path.strip_prefix(root).unwrap_or(&path);
            // Parts joined by `/` whatever the system's separator; a `\` in a Unix file name
            // stays part of its name.
            let parts: Vec<_> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy())
                .collect();
            Title {
                name: parts.join("/"),
                video: path.clone(),
                cast: None,
            }
        })
        .collect()
}

/// One title per line: `video` or CSV `video,cast`; relative paths are relative to the
/// manifest's folder. Blank lines and lines starting with `#` are skipped, as is a first line
/// naming the columns (`video,cast`).
pub fn parse_manifest(text: &str, base: &Path) -> std::result::Result<Vec<Title>, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .comment(Some(b'#'))
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut titles = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| format!("line {}: {e}", i + 1))?;
        let line = record.position().map_or(i as u64 + 1, |p| p.line());
        let fields: Vec<&str> = record.iter().collect();
        match fields.as_slice() {
            [] | [""] => continue,
            [video, ..] if i == 0 && video.eq_ignore_ascii_case("video") => continue,
            [video] | [video, ""] => titles.push(Title {
                name: video.to_string(),
                video: base.join(video),
                cast: None,
            }),
            [video, cast] => titles.push(Title {
                name: video.to_string(),
                video: base.join(video),
                cast: Some(base.join(cast)),
            }),
            _ => return Err(format!("line {line}: expected `video` or `video,cast`")),
        }
    }
    Ok(titles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_parses_and_splits_every_title_into_exactly_one_shard() {
        assert!("4/4".parse::<Shard>().is_err());
        assert!("x/2".parse::<Shard>().is_err());
        let shards: Vec<Shard> = (0..3).map(|i| format!("{i}/3").parse().unwrap()).collect();
        for n in 0..200 {
            let title = format!("season {}/episode {n}.mkv", n % 7);
            assert_eq!(shards.iter().filter(|s| s.contains(&title)).count(), 1);
        }
    }

    #[test]
    fn manifest_lines_and_csv() {
        let text = "video,cast\n# comment\n\na.mp4\nshows/b.mkv, casts/b\n\"c, the movie.mp4\",\n";
        let titles = parse_manifest(text, Path::new("/base")).unwrap();
        let names: Vec<&str> = titles.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(names, ["a.mp4", "shows/b.mkv", "c, the movie.mp4"]);
        assert_eq!(titles[1].video, Path::new("/base/shows/b.mkv"));
        assert_eq!(titles[1].cast.as_deref(), Some(Path::new("/base/casts/b")));
        assert!(
            parse_manifest("a,b,c\n", Path::new(""))
                .unwrap_err()
                .contains("line 1")
        );
    }
}
