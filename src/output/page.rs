//! The pages people look at: `report.html` for one video (who is on screen, for how long, when
//! and with whom, with a player that jumps to each appearance and names who is on screen) and
//! `catalog.html` for a batch (titles, totals per actor, links to each title's page, and who
//! appears with whom where asked). In: the same rows, segments, matrices, WebVTT track and face
//! counts the result files are made of. Out: one HTML file each, written atomically.
//!
//! A page is plain HTML, CSS and a little JavaScript from the templates in `templates/`, with
//! its chart as inline SVG: it opens from `file://` with no server and no network. It links to
//! what sits beside it (the face pictures, the video, the titles' pages) by relative URLs, so a
//! result folder moved whole keeps working. Every name comes from outside (cast folders and
//! files, video file names, batch titles) and the templates escape all of it.

use std::collections::BTreeMap;
use std::path::{Component, Path};

use askama::Template;
use percent_encoding::{AsciiSet, CONTROLS, NON_ALPHANUMERIC, percent_encode};

use crate::error::{Error, Result};
use crate::files::atomic::write_atomically;
use crate::job::result::{ScreenTime, Segment, TrackReport};
use crate::output::charts;
use crate::output::cooccurrence::Cooccurrence;
use crate::video::decode::VideoInfo;

/// What one video's page shows, beyond its rows.
pub struct ReportPage<'a> {
    pub video: &'a VideoInfo,
    /// The length the percentages and the timeline are of.
    pub video_seconds: f64,
    /// How much of the video was read ([`crate::job::result::JobStats::coverage`]), and
    /// whether that is all of it.
    pub coverage: &'a str,
    pub complete: bool,
    /// Every identity, most screen time first (the page shows them all; the chart only
    /// `charted`).
    pub screen_time: &'a [ScreenTime],
    pub charted: &'a [ScreenTime],
    pub segments: &'a [Segment],
    /// How many face pictures `faces/<name>/` holds per identity (none under --no-thumbnails).
    pub faces: &'a BTreeMap<String, usize>,
    /// The cast the run used, for the command that names an unknown.
    pub cast: &'a Path,
    /// Seconds on screen together, of the charted identities.
    pub together: &'a Cooccurrence,
    /// `appearances.vtt`'s text, for the player to name who is on screen.
    pub track: &'a str,
    /// Every face track, for each identity to show what it is made of and why.
    pub tracks: &'a [TrackReport],
}

/// Writes the page at `path`, in the result folder it links from.
pub fn write_report(path: &Path, page: &ReportPage) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let title = file_name(&page.video.path);
    let chart = charts::chart_svg(path, &format!("Screen time in {title}"), page.charted)?;
    let together = charts::cooccurrence_svg(
        path,
        &format!("Seconds on screen together in {title}"),
        page.together,
    )?;
    let length = page.video_seconds.max(0.0);
    let mut group_sizes: BTreeMap<usize, usize> = BTreeMap::new();
    for track in page.tracks {
        *group_sizes.entry(track.group).or_default() += 1;
    }
    let identities = page
        .screen_time
        .iter()
        .enumerate()
        .map(|(row, identity)| IdentityView {
            unknown: identity.name.starts_with("unknown_"),
            name_command: format!(
                "screentime name {} {} \"Their Name\" --cast {}",
                shell_word(&dir.display().to_string()),
                shell_word(&identity.name),
                shell_word(&page.cast.display().to_string()),
            ),
            seconds: format!("{:.1}", identity.seconds),
            percent: format!("{:.1}", identity.percent),
            frames: identity.frames,
            first_seen: clock(identity.first_seen),
            last_seen: clock(identity.last_seen),
            faces: (1..=page.faces.get(&identity.name).copied().unwrap_or(0))
                .map(|i| format!("faces/{}/{i}.jpg", url_part(&identity.name)))
                .collect(),
            color: charts::row_color(row),
            segments: page
                .segments
                .iter()
                .filter(|s| s.name == identity.name)
                .map(|s| SegmentView::new(s, length))
                .collect(),
            tracks: (page.tracks.iter())
                .filter(|t| t.name == identity.name)
                .map(|t| TrackView::new(t, group_sizes[&t.group] == 1))
                .collect(),
            name: identity.name.clone(),
        })
        .collect();
    let video = page.video;
    let details = [
        Some(clock(length)),
        Some(format!("{}x{}", video.width, video.height)),
        video.frame_rate.map(|fps| format!("{fps:.3} fps")),
        Some(video.codec.clone()),
    ];
    let view = ReportView {
        title,
        details: details
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · "),
        coverage: if page.complete {
            page.coverage.to_string()
        } else {
            format!(
                "Incomplete result: {}; the times below cover only that part",
                page.coverage
            )
        },
        complete: page.complete,
        video_src: video_url(dir, &video.path),
        length: format!("{length:.3}"),
        ticks: ticks(length),
        chart,
        together,
        track: format!(
            "data:text/vtt;charset=utf-8,{}",
            percent_encode(page.track.as_bytes(), DATA)
        ),
        identities,
    };
    write_page(path, &view)
}

/// One title of a batch, as its catalog page shows it.
pub struct CatalogTitle<'a> {
    pub title: &'a str,
    /// Its page, relative to the catalog's folder, if it has one.
    pub page: Option<&'a Path>,
    pub error: Option<&'a str>,
    /// How much of its video an incomplete title's result covers; none for a whole one.
    pub incomplete: Option<String>,
    pub screen_time: &'a [ScreenTime],
}

/// Writes `out/catalog.html`: every title with its screen time and a link to its page, and the
/// totals per cast member over the catalog.
/// With `together`, also who appears with whom over the catalog.
pub fn write_catalog(
    out: &Path,
    heading: &str,
    titles: &[CatalogTitle],
    actors: &[ScreenTime],
    together: Option<&Cooccurrence>,
) -> Result<()> {
    let path = out.join("catalog.html");
    let chart = charts::chart_svg(&path, heading, actors)?;
    let together = together
        .map(|matrix| {
            charts::cooccurrence_svg(&path, "Seconds on screen together, every title", matrix)
        })
        .transpose()?;
    let view = CatalogView {
        heading: heading.to_string(),
        titles: titles
            .iter()
            .map(|t| TitleView {
                title: t.title.to_string(),
                report: t.page.map(relative_path_url),
                error: t.error.map(str::to_string),
                incomplete: t.incomplete.clone(),
                people: t
                    .screen_time
                    .iter()
                    .map(|r| (r.name.clone(), format!("{:.1}", r.seconds)))
                    .collect(),
            })
            .collect(),
        actors: actors
            .iter()
            .map(|a| {
                (
                    a.name.clone(),
                    format!("{:.1}", a.seconds),
                    format!("{:.1}", a.percent),
                )
            })
            .collect(),
        chart,
        together,
    };
    write_page(&path, &view)
}

fn write_page(path: &Path, page: &impl Template) -> Result<()> {
    let html = page
        .render()
        .map_err(|e| Error::output(path, format!("cannot make the page: {e}")))?;
    write_atomically(path, |out| out.write_all(html.as_bytes()))
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportView {
    title: String,
    details: String,
    /// How much of the video was read; flagged where that is not all of it.
    coverage: String,
    complete: bool,
    /// The video, relative to the page where it can be; none when its path cannot be known.
    video_src: Option<String>,
    length: String,
    ticks: Vec<Tick>,
    /// Inline SVG, drawn by plotters (which escapes its text).
    chart: String,
    /// The co-appearance heat map, inline SVG as `chart`.
    together: String,
    /// `appearances.vtt` as a data URL: Chromium loads no track file into a page opened from
    /// file:// (each file is an origin of its own there), and a result page opens from file://.
    track: String,
    identities: Vec<IdentityView>,
}

struct IdentityView {
    name: String,
    unknown: bool,
    name_command: String,
    seconds: String,
    percent: String,
    frames: u64,
    first_seen: String,
    last_seen: String,
    faces: Vec<String>,
    /// The timeline row's colour, as in timeline.png.
    color: String,
    segments: Vec<SegmentView>,
    tracks: Vec<TrackView>,
}

/// One face track of an identity: when, and why it is theirs (`--debug-tracks` has the rest).
struct TrackView {
    number: usize,
    group: usize,
    start: String,
    end: String,
    label: String,
    reason: &'static str,
    /// The tracks it was grouped with and how far from it, or, alone, the closest ones.
    neighbours: String,
}

impl TrackView {
    /// `alone`: no other track shares its group, so its neighbours are the closest tracks,
    /// which were kept apart, not the ones it was joined with.
    fn new(track: &TrackReport, alone: bool) -> TrackView {
        let near: Vec<String> = (track.neighbours.iter())
            .map(|(other, distance)| format!("track {other} at {distance:.2}"))
            .collect();
        TrackView {
            number: track.track,
            group: track.group,
            start: format!("{:.3}", track.start),
            end: format!("{:.3}", track.end),
            label: format!("{} to {}", clock(track.start), clock(track.end)),
            reason: track.reason,
            neighbours: match (near.is_empty(), alone) {
                (true, _) => String::new(),
                (false, false) => format!("grouped with {}", near.join(", ")),
                (false, true) => format!("alone; closest: {}, kept apart", near.join(", ")),
            },
        }
    }
}

/// One appearance on the timeline: where it sits (percent of the video) and when it is.
struct SegmentView {
    start: String,
    end: String,
    left: String,
    width: String,
    label: String,
}

impl SegmentView {
    fn new(segment: &Segment, length: f64) -> SegmentView {
        let percent = |t: f64| {
            if length > 0.0 {
                (100.0 * t / length).clamp(0.0, 100.0)
            } else {
                0.0
            }
        };
        SegmentView {
            start: format!("{:.3}", segment.start),
            end: format!("{:.3}", segment.end),
            left: format!("{:.4}", percent(segment.start)),
            width: format!("{:.4}", percent(segment.end) - percent(segment.start)),
            label: format!("{} to {}", clock(segment.start), clock(segment.end)),
        }
    }
}

/// A time mark under the timeline.
struct Tick {
    left: String,
    label: String,
}

#[derive(Template)]
#[template(path = "catalog.html")]
struct CatalogView {
    heading: String,
    titles: Vec<TitleView>,
    /// Name, seconds, percent of all cast screen time.
    actors: Vec<(String, String, String)>,
    chart: String,
    /// The catalog's co-appearance heat map, inline SVG, where asked for.
    together: Option<String>,
}

struct TitleView {
    title: String,
    report: Option<String>,
    error: Option<String>,
    incomplete: Option<String>,
    /// Name and seconds.
    people: Vec<(String, String)>,
}

/// About eight round time marks from 0 to `length`.
fn ticks(length: f64) -> Vec<Tick> {
    if length <= 0.0 {
        return Vec::new();
    }
    let step = [
        1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0,
    ]
    .into_iter()
    .find(|step| length / step <= 8.0)
    .unwrap_or(3600.0);
    (0..)
        .map(|i| f64::from(i) * step)
        .take_while(|t| *t <= length)
        .map(|t| Tick {
            left: format!("{:.4}", 100.0 * t / length),
            label: clock(t),
        })
        .collect()
}

/// `seconds` as `m:ss.s`, or `h:mm:ss.s` from an hour on.
fn clock(seconds: f64) -> String {
    let tenths = (seconds.max(0.0) * 10.0).round() as u64;
    let (hours, minutes) = (tenths / 36000, tenths / 600 % 60);
    let rest = format!("{:02}.{}", tenths / 10 % 60, tenths % 10);
    if hours > 0 {
        format!("{hours}:{minutes:02}:{rest}")
    } else {
        format!("{minutes}:{rest}")
    }
}

/// Characters a path segment of a URL cannot hold as they are.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}')
    .add(b'/')
    .add(b'\\')
    .add(b'\'');

/// What a data URL's text keeps as it is: enough for WebVTT's timing lines to stay short.
const DATA: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b':');

/// `name` as one segment of a relative URL.
fn url_part(name: &str) -> String {
    percent_encode(name.as_bytes(), SEGMENT).to_string()
}

/// `path` (relative) as a relative URL, or `.` for no path.
fn relative_path_url(path: &Path) -> String {
    let parts: Vec<String> = path
        .components()
        .map(|part| match part {
            Component::ParentDir => "..".into(),
            Component::CurDir => ".".into(),
            part => percent_encode(part.as_os_str().as_encoded_bytes(), SEGMENT).to_string(),
        })
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// Where a page in `dir` finds the video at `path`: the stream's own URL for `--url` input,
/// else the file, relative.
fn video_url(dir: &Path, path: &Path) -> Option<String> {
    match path.to_str() {
        Some(url) if url.contains("://") && !path.exists() => Some(url.to_string()),
        _ => relative_url(dir, path),
    }
}

/// The URL of `target` from a page in `dir`: relative, so the two can move together.
fn relative_url(dir: &Path, target: &Path) -> Option<String> {
    let (dir, target) = (
        std::path::absolute(dir).ok()?,
        std::path::absolute(target).ok()?,
    );
    pathdiff::diff_paths(&target, &dir).map(|path| relative_path_url(&path))
}

/// The last component of `path`, or the whole path where it has none.
fn file_name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    )
}

/// `word` as one word for a POSIX shell: as it is where that is safe, else single-quoted.
fn shell_word(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@+,".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_read_as_a_clock() {
        assert_eq!(clock(0.0), "0:00.0");
        assert_eq!(clock(75.25), "1:15.3");
        assert_eq!(clock(7199.96), "2:00:00.0");
    }

    #[test]
    fn links_survive_odd_names() {
        assert_eq!(url_part("Tom #1 50%?"), "Tom%20%231%2050%25%3F");
        assert_eq!(
            relative_path_url(Path::new("titles/%2E./a b.mp4")),
            "titles/%252E./a%20b.mp4"
        );
        assert_eq!(
            video_url(Path::new("/out/clip"), Path::new("/videos/c.mp4")).as_deref(),
            Some("../../videos/c.mp4")
        );
        assert_eq!(
            video_url(Path::new("out"), Path::new("https://example.com/a b.mp4")).as_deref(),
            Some("https://example.com/a b.mp4")
        );
    }

    #[test]
    fn shell_words_paste_back_as_one_word() {
        assert_eq!(shell_word("unknown_3"), "unknown_3");
        assert_eq!(shell_word("my out/x"), "'my out/x'");
        assert_eq!(shell_word("O'Neil"), r"'O'\''Neil'");
    }
}
