//! The exports of a run, checked against a generated video's truth and read back by other
//! programs: `cooccurrence.csv` against the truth's overlaps and `search --with`;
//! `appearances.vtt` through FFmpeg and headless Chromium's `<track>` in report.html;
//! `appearances.edl` through pycmx (PyPI, installed by `scripts/setup --test`), at the video's
//! own drop-frame timecode.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::browser::Browser;
use common::{
    ffmpeg, make_video, make_video_from, measure_every_frame, project, registry_photo, screentime,
    succeeded,
};
use serde_json::{Value, json};

/// NTSC video: 30000/1001 frames a second, which counts in drop-frame timecode.
const RATE: f64 = 30000.0 / 1001.0;
/// The start timecode the test video carries: a second before minute 1, whose first two frame
/// labels drop-frame skips.
const START: &str = "00:00:59;00";
const START_FRAME: u64 = 59 * 30;

/// `frames` of the video in seconds.
fn seconds(frames: u64) -> f64 {
    frames as f64 / RATE
}

/// Obama alone, then Biden's face beside his, then Biden alone, nobody, Biden, Obama: every
/// kind of cue and one pair on screen together. Made at 30 fps: make_video.py's filters take a
/// whole rate exactly, a fractional one only approximately.
fn pair_spec() -> Value {
    let photo = |name: &str, frames: u64, who: &str| {
        json!({"image": registry_photo(name).display().to_string(), "seconds": frames as f64 / 30.0,
               "who": who})
    };
    let biden = |frames: u64| {
        let mut segment = photo("biden.jpg", frames, "Joe Biden");
        segment["crop"] = json!([330, 60, 480, 600]);
        segment
    };
    let mut both = photo("obama.jpg", 45, "Barack Obama");
    both["overlays"] = json!([{"image": registry_photo("biden.jpg").display().to_string(),
        "crop": [330, 60, 480, 600], "from_frame": 0, "to_frame": 37,
        "x": 472, "y": 80, "height": 200, "who": "Joe Biden"}]);
    json!({"width": 640, "height": 360, "fps": 30, "segments": [
        photo("obama.jpg", 30, "Barack Obama"), both, biden(30), {"blank": 0.5},
        biden(18), photo("obama2.jpg", 24, "Barack Obama"),
    ]})
}

/// The pair video at 29.97 fps with the start timecode [`START`], as a camera writes it (a
/// QuickTime timecode track). Returns the truth: per name, its frames.
fn make_pair_video(dir: &Path, video: &Path) -> BTreeMap<String, BTreeSet<u64>> {
    let spec_file = dir.join("spec.json");
    std::fs::write(&spec_file, pair_spec().to_string()).unwrap();
    let (plain, truth) = (dir.join("plain.mp4"), dir.join("truth.csv"));
    make_video_from(&spec_file, &plain, Some(&truth));
    ffmpeg([
        "-itsscale".as_ref(),
        "1.001".as_ref(),
        "-i".as_ref(),
        plain.as_os_str(),
        "-c".as_ref(),
        "copy".as_ref(),
        "-timecode".as_ref(),
        START.as_ref(),
        video.as_os_str(),
    ]);
    let mut frames: BTreeMap<String, BTreeSet<u64>> = BTreeMap::new();
    for line in std::fs::read_to_string(&truth).unwrap().lines().skip(1) {
        let fields: Vec<&str> = line.split(',').collect();
        let (first, last): (u64, u64) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
        frames
            .entry(fields[0].into())
            .or_default()
            .extend(first..=last);
    }
    frames
}

/// A cast folder in `dir` knowing Obama and Biden.
fn pair_cast(dir: &Path) -> PathBuf {
    let cast = dir.join("cast");
    std::fs::create_dir_all(&cast).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), cast.join("Barack Obama.jpg")).unwrap();
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    cast
}

/// The seconds `search A --with B RESULTS` finds them together, summed over its rows, and how
/// many rows it printed.
fn searched_together(a: &str, b: &str, results: &Path) -> (f64, usize) {
    let table = succeeded(screentime(&[
        "search".as_ref(),
        a.as_ref(),
        "--with".as_ref(),
        b.as_ref(),
        results.as_os_str(),
    ]));
    let rows: Vec<f64> = (table.lines().skip(1))
        .map(|l| l.split_whitespace().last().unwrap().parse().unwrap())
        .collect();
    (rows.iter().sum(), rows.len())
}

/// `segments.csv`: (name, start, end) rows.
fn segments(out: &Path) -> Vec<(String, f64, f64)> {
    let mut csv = csv::Reader::from_path(out.join("segments.csv")).unwrap();
    csv.records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect()
}

/// `cooccurrence.csv` as (row name, column name) -> seconds.
fn matrix(path: &Path) -> BTreeMap<(String, String), f64> {
    let mut csv = csv::Reader::from_path(path).unwrap();
    let header: Vec<String> = csv.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[0], "name");
    let mut cells = BTreeMap::new();
    for record in csv.records() {
        let record = record.unwrap();
        for (column, value) in header.iter().zip(record.iter()).skip(1) {
            cells.insert(
                (record[0].to_string(), column.clone()),
                value.parse().unwrap(),
            );
        }
    }
    cells
}

/// The cues segments.csv implies: for each stretch in which the same people are on screen,
/// (start ms, end ms, their names sorted).
fn cues_of(segments: &[(String, f64, f64)]) -> Vec<(u64, u64, Vec<String>)> {
    let ms = |t: f64| (t * 1000.0).round() as u64;
    let mut times: Vec<u64> = segments.iter().flat_map(|s| [ms(s.1), ms(s.2)]).collect();
    times.sort();
    times.dedup();
    let mut cues: Vec<(u64, u64, Vec<String>)> = Vec::new();
    for pair in times.windows(2) {
        let mut names: Vec<String> = (segments.iter())
            .filter(|s| ms(s.1) <= pair[0] && pair[1] <= ms(s.2))
            .map(|s| s.0.clone())
            .collect();
        names.sort();
        names.dedup();
        if names.is_empty() {
            continue;
        }
        match cues.last_mut() {
            Some(last) if last.1 == pair[0] && last.2 == names => last.1 = pair[1],
            _ => cues.push((pair[0], pair[1], names)),
        }
    }
    cues
}

/// The frame (from 00:00:00;00) of a 29.97 fps drop-frame timecode.
fn drop_frame(timecode: &str) -> u64 {
    let parts: Vec<u64> = timecode
        .split([':', ';'])
        .map(|p| p.parse().unwrap())
        .collect();
    let minutes = parts[0] * 60 + parts[1];
    (minutes * 60 + parts[2]) * 30 + parts[3] - 2 * (minutes - minutes / 10)
}

#[test]
fn exports_match_the_truth_search_and_segments_when_read_back_by_other_programs() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = pair_cast(tmp.path());
    let video = tmp.path().join("pair.mov");
    let truth = make_pair_video(tmp.path(), &video);
    let out = tmp.path().join("out");
    measure_every_frame(&video, &cast, &out);
    let segments = segments(&out);

    // The matrix: each identity's own time and the pair's time together are the truth's, to
    // the frame.
    let cells = matrix(&out.join("cooccurrence.csv"));
    let names: Vec<&String> = truth.keys().collect();
    assert_eq!(
        cells.keys().map(|k| &k.0).collect::<BTreeSet<_>>(),
        names.iter().copied().collect::<BTreeSet<_>>()
    );
    for a in &names {
        for b in &names {
            let shared = truth[*a].intersection(&truth[*b]).count() as u64;
            let found = cells[&((*a).clone(), (*b).clone())];
            assert!(
                (found - seconds(shared)).abs() < 0.5 / RATE,
                "{a} with {b}: {found} s, the truth {shared} frames ({} s); segments {segments:?}",
                seconds(shared)
            );
        }
    }
    // search --with reads the same segments through the same code: it agrees on every pair.
    for a in &names {
        for b in names.iter().filter(|b| a != *b) {
            let (searched, rows) = searched_together(a, b, &out);
            let cell = cells[&((*a).clone(), (*b).clone())];
            // The table prints hundredths.
            assert!(
                rows > 0 && (searched - cell).abs() <= 0.005 * rows as f64 + 1e-9,
                "{a} with {b}: search {searched} s in {rows} rows, matrix {cell} s"
            );
        }
    }
    for picture in ["cooccurrence.png", "cooccurrence.svg"] {
        assert!(std::fs::metadata(out.join(picture)).unwrap().len() > 1000);
    }

    // WebVTT: FFmpeg reads every cue, and they are who segments.csv says is on screen when.
    let expected = cues_of(&segments);
    assert!(expected.iter().any(|c| c.2.len() == 2), "{expected:?}");
    let srt = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(out.join("appearances.vtt"))
        .args(["-f", "srt", "-"])
        .output()
        .unwrap();
    assert!(
        srt.status.success(),
        "{}",
        String::from_utf8_lossy(&srt.stderr)
    );
    let srt = String::from_utf8(srt.stdout).unwrap();
    let ms = |t: &str| {
        let p: Vec<u64> = t.split([':', ',']).map(|p| p.parse().unwrap()).collect();
        ((p[0] * 60 + p[1]) * 60 + p[2]) * 1000 + p[3]
    };
    let read: Vec<(u64, u64, Vec<String>)> = (srt.split("\n\n"))
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let lines: Vec<&str> = block.trim().lines().collect();
            let (start, end) = lines[1].split_once(" --> ").unwrap();
            let names = lines[2..].iter().map(|l| l.to_string()).collect();
            (ms(start), ms(end), names)
        })
        .collect();
    assert_eq!(read, expected, "{srt}");

    // Chromium shows the same cues from report.html's <track>.
    let mut browser = Browser::start();
    browser.open(&out.join("report.html"));
    let shown = browser.eval(
        "new Promise(done => { const video = document.querySelector('video');
           const track = video.querySelector('track'); const list = video.textTracks[0];
           const read = () => done({mode: list.mode, cues: [...list.cues].map(c =>
             [Math.round(c.startTime * 1000), Math.round(c.endTime * 1000), c.text.split('\\n')])});
           if (track.readyState === 2) read(); else track.addEventListener('load', read); })",
    );
    assert_eq!(shown["mode"], "showing");
    let cues: Vec<(u64, u64, Vec<String>)> = serde_json::from_value(shown["cues"].clone()).unwrap();
    assert_eq!(cues, expected);
    assert!(browser.errors.is_empty(), "{:?}", browser.errors);

    // The EDL: one event per appearance, named after its identity, at the file's drop-frame
    // timecode, as pycmx reads it.
    let python = project().join(".venv/bin/python");
    let parsed = Command::new(python)
        .args([
            "-c",
            "import json, sys, pycmx\n\
             edl = pycmx.parse_cmx3600(open(sys.argv[1]))\n\
             events = [[e.number, [[x.clip_name, x.source, x.source_in, x.source_out, \
             x.record_in, x.record_out] for x in e.edits]] for e in edl.events]\n\
             drop = [s.drop for s in edl.event_statements if type(s).__name__ == 'StmtFCM']\n\
             print(json.dumps({'title': edl.title, 'format': edl.format, 'drop': drop, \
             'events': events}))",
        ])
        .arg(out.join("appearances.edl"))
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "pycmx: {} (scripts/setup --test installs it)",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let edl: Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(edl["title"], "pair.mov");
    assert_eq!(edl["format"], "3600");
    assert_eq!(edl["drop"], json!([true]));
    let events = edl["events"].as_array().unwrap();
    assert_eq!(events.len(), segments.len(), "{edl}");
    let frame = |t: f64| START_FRAME + (t * RATE).round() as u64;
    for (n, (event, (name, start, end))) in events.iter().zip(&segments).enumerate() {
        assert_eq!(event[0], json!(n + 1));
        let edit = &event[1][0];
        assert_eq!(edit[0].as_str(), Some(name.as_str()), "{event}");
        assert_eq!(edit[1], "AX");
        for (column, t) in [(2, start), (3, end), (4, start), (5, end)] {
            let timecode = edit[column].as_str().unwrap();
            assert!(timecode.contains(';'), "{event}");
            assert_eq!(
                drop_frame(timecode),
                frame(*t),
                "{event}: {name} {start}-{end}"
            );
        }
    }
    // The video crosses minute 1, whose labels ;00 and ;01 do not exist in drop-frame.
    assert!(
        events
            .iter()
            .any(|e| e[1][0][3].as_str().unwrap() >= "00:01:00;02"),
        "{edl}"
    );
}

#[test]
fn a_catalogs_matrix_adds_up_its_titles_and_agrees_with_search() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = pair_cast(tmp.path());
    let catalog = tmp.path().join("catalog");
    std::fs::create_dir_all(&catalog).unwrap();
    // The whole pair video, and its first two shots only.
    let whole = pair_spec();
    let mut short = whole.clone();
    short["segments"].as_array_mut().unwrap().truncate(2);
    make_video(&whole, &catalog.join("a.mp4"));
    make_video(&short, &catalog.join("b.mp4"));
    let out = tmp.path().join("out");
    let batch = |extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec!["batch".as_ref(), catalog.as_os_str()];
        args.extend([
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        args.extend(["--stride", "1", "--quiet"].map(OsStr::new));
        args.extend(extra.iter().map(OsStr::new));
        succeeded(screentime(&args))
    };
    // Without the option there is no catalog matrix.
    batch(&[]);
    assert!(!out.join("cooccurrence.csv").exists());
    assert!(!read(&out.join("catalog.html")).contains("Who appears with whom"));
    // summary --cooccurrence writes it, as batch --cooccurrence does.
    succeeded(screentime(&[
        "summary".as_ref(),
        out.as_os_str(),
        "--cooccurrence".as_ref(),
    ]));
    let summed = matrix(&out.join("cooccurrence.csv"));
    batch(&["--cooccurrence"]);
    let cells = matrix(&out.join("cooccurrence.csv"));
    assert_eq!(cells, summed);
    let titles =
        ["a.mp4", "b.mp4"].map(|t| matrix(&out.join("titles").join(t).join("cooccurrence.csv")));
    for (key, value) in &cells {
        let total: f64 = titles
            .iter()
            .map(|t| t.get(key).copied().unwrap_or(0.0))
            .sum();
        assert!(
            (value - total).abs() < 0.0015,
            "{key:?}: {value} s, the titles' {total} s"
        );
    }
    let pair = ("Barack Obama".to_string(), "Joe Biden".to_string());
    let (searched, rows) = searched_together(&pair.0, &pair.1, &out);
    assert_eq!(rows, 2);
    assert!(
        (searched - cells[&pair]).abs() <= 0.01 + 1e-9,
        "{searched} {}",
        cells[&pair]
    );
    let page = read(&out.join("catalog.html"));
    assert!(
        page.contains("Who appears with whom")
            && page.contains("Seconds on screen together, every title")
    );
    for picture in ["cooccurrence.png", "cooccurrence.svg"] {
        assert!(std::fs::metadata(out.join(picture)).unwrap().len() > 1000);
    }
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}
