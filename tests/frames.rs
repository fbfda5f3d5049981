//! Frame-exact results in the default mode (issue 13): every appearance starts and ends within
//! 2 frames of the truth, at cuts and where a face comes or goes inside a shot, and the totals
//! and frame counts are those of the video's frames. `--stride 1 --detect-every 1` is the
//! control: it analyses every frame and looks for new faces in each, so it must pass the same
//! checks. Plain `--stride 1` looks for new faces every 3rd frame, and like the default mode
//! must find on the frames before where a face entering inside a shot came.
//!
//! The videos are made from the registry photos by `tests/tools/make_video.py`, from the specs
//! `tests/truth/frames_*.json`, with their exact truth. The cast knows Obama from one photo
//! (not one the videos show); Biden is a stranger and should get one `unknown_N` label.
//!
//! `cargo test --release --test frames` runs all; `... frames every_frame` only the controls. A
//! failure prints a table of every edge: truth frame, result frame, difference.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{make_video_from, project, registry_photo};
use screentime::commands::score::{FrameRange, frame_times, read_frame_ranges};
use serde_json::Value;

/// How far, in frames, a result's edge may lie from the truth's.
const EDGE_FRAMES: usize = 2;
/// Every frame analysed, searched whole for new faces every 3rd.
const STRIDE_1: &[&str] = &["--stride", "1"];
/// The control's options: every frame analysed, and searched whole for new faces.
const EVERY_FRAME: &[&str] = &["--stride", "1", "--detect-every", "1"];
/// How far a total (seconds, and frames) may lie from the truth's, as a share of it.
const TOTAL_SHARE: f64 = 0.01;
const CAST_MEMBER: &str = "Barack Obama";
/// Biden's name in the truth.
const STRANGER: &str = "unknown:biden";

#[test]
fn cuts_default() {
    check("frames_shots", &[]);
}

#[test]
fn cuts_every_frame() {
    check("frames_shots", EVERY_FRAME);
}

#[test]
fn inside_shots_default() {
    check("frames_inside", &[]);
}

#[test]
fn inside_shots_every_frame() {
    check("frames_inside", EVERY_FRAME);
}

#[test]
fn inside_shots_stride_1() {
    check("frames_inside", STRIDE_1);
}

#[test]
fn inside_shots_vfr_stride_1() {
    check("frames_inside_vfr", STRIDE_1);
}

#[test]
fn inside_shots_vfr_default() {
    check("frames_inside_vfr", &[]);
}

#[test]
fn inside_shots_vfr_every_frame() {
    check("frames_inside_vfr", EVERY_FRAME);
}

/// A stretch of frames, both ends included.
#[derive(Debug, Clone, Copy)]
struct Stretch {
    first: usize,
    last: usize,
}

impl Stretch {
    fn overlaps(&self, other: &Stretch) -> bool {
        self.first <= other.last && other.first <= self.last
    }

    fn frames(&self) -> usize {
        self.last - self.first + 1
    }
}

/// Makes the spec's video and truth, runs screentime on it in the default mode (plus `options`),
/// and checks the result against the truth, frame by frame.
fn check(spec: &str, options: &[&str]) {
    let tmp = tempfile::tempdir().unwrap();
    let (video, truth) = make_video(spec, tmp.path());
    let cast = tmp.path().join("cast");
    std::fs::create_dir_all(cast.join(CAST_MEMBER)).unwrap();
    std::fs::copy(
        registry_photo("obama.jpg"),
        cast.join(CAST_MEMBER).join("official.jpg"),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let mut run = Command::new(env!("CARGO_BIN_EXE_screentime"));
    run.arg(&video)
        .arg("--cast")
        .arg(&cast)
        .arg("--out")
        .arg(&out)
        .arg("--quiet")
        .args(options);
    let output = run.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let times = frame_times(&video).unwrap();
    let spec_json: Value = serde_json::from_str(
        &std::fs::read_to_string(project().join(format!("tests/truth/{spec}.json"))).unwrap(),
    )
    .unwrap();
    let mut shot_starts = shot_starts(&spec_json);
    // The video has the frames the spec makes; the last boundary is its end.
    assert_eq!(shot_starts.pop(), Some(times.len()), "frames in {spec}");
    let mut table = String::new();
    let mut failures = Vec::new();

    // Cuts: every segment boundary of the spec is a hard cut.
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    let cuts = report["stats"]["shot_cuts"].as_u64().unwrap();
    let true_cuts = shot_starts.len() as u64 - 1;
    if cuts != true_cuts {
        failures.push(format!("{cuts} shot cuts found, the spec has {true_cuts}"));
    }

    // The result as a user reads it: segments.csv, in frames (a segment covers the frames whose
    // middles lie inside it, as `screentime score` counts them).
    let mut result: Vec<(String, Stretch)> = Vec::new();
    let mut csv = csv::Reader::from_path(out.join("segments.csv")).unwrap();
    for row in csv.records() {
        let row = row.unwrap();
        let (start, end): (f64, f64) = (row[1].parse().unwrap(), row[2].parse().unwrap());
        if let Some(stretch) = frames_between(start, end, &times) {
            result.push((row[0].to_string(), stretch));
        }
    }
    let totals = screentime_csv(&out.join("screentime.csv"));

    // Biden's label: the stranger label sharing the most frames with him.
    let stranger_truth = stretches(&truth, STRANGER);
    let stranger_label = result
        .iter()
        .filter(|(label, _)| label.starts_with("unknown_"))
        .map(|(label, _)| {
            let shared: usize = labelled(&result, label)
                .iter()
                .map(|r| shared_frames(r, &stranger_truth))
                .sum();
            (shared, label.clone())
        })
        .filter(|(shared, _)| *shared > 0)
        .max()
        .map(|(_, label)| label);
    let mut labels = vec![(CAST_MEMBER, Some(CAST_MEMBER.to_string()))];
    if !stranger_truth.is_empty() {
        labels.push((STRANGER, stranger_label.clone()));
    }

    let _ = writeln!(
        table,
        "{spec}, {}: {} frames, {cuts} cuts found of {true_cuts}\n\
         identity        stretch     edge    truth result   diff",
        if options.is_empty() {
            "default mode".to_string()
        } else {
            options.join(" ")
        },
        times.len()
    );
    for (name, label) in &labels {
        let truth_stretches = stretches(&truth, name);
        let shown = label.as_deref().unwrap_or("(no label)");
        let got = label
            .as_deref()
            .map_or(Vec::new(), |l| labelled(&result, l));
        for t in &truth_stretches {
            let span = format!("{}..{}", t.first, t.last);
            let hits: Vec<&Stretch> = got.iter().filter(|r| r.overlaps(t)).collect();
            let (Some(first), Some(last)) = (hits.first(), hits.last()) else {
                let _ = writeln!(table, "{shown:<15} {span:<11} MISSED");
                failures.push(format!("{name}: {span} missed"));
                continue;
            };
            if hits.len() > 1 {
                let _ = writeln!(table, "{shown:<15} {span:<11} split in {}", hits.len());
                failures.push(format!("{name}: {span} split in {}", hits.len()));
            }
            let start_cut = shot_starts.contains(&t.first);
            let end_cut = shot_starts.contains(&(t.last + 1)) || t.last + 1 == times.len();
            for (edge, at_cut, want, found) in [
                ("start", start_cut, t.first, first.first),
                ("end", end_cut, t.last, last.last),
            ] {
                let diff = found as i64 - want as i64;
                let bad = diff.unsigned_abs() as usize > EDGE_FRAMES;
                let _ = writeln!(
                    table,
                    "{shown:<15} {span:<11} {:<7} {want:>5} {found:>6} {diff:>+6}{}",
                    format!("{edge}{}", if at_cut { "|" } else { "" }),
                    if bad { "  <-" } else { "" }
                );
                if bad {
                    failures.push(format!("{name}: {span} {edge} off by {diff} frames"));
                }
            }
        }
        for r in got
            .iter()
            .filter(|r| !truth_stretches.iter().any(|t| t.overlaps(r)))
        {
            let _ = writeln!(table, "{shown:<15} {}..{} FALSE", r.first, r.last);
            failures.push(format!(
                "{name}: {}..{} where truth has none",
                r.first, r.last
            ));
        }

        // Totals: seconds within 1% of the truth's; frames (video frames) within 1%.
        let true_frames: usize = truth_stretches.iter().map(Stretch::frames).sum();
        let true_seconds: f64 = truth_stretches
            .iter()
            .flat_map(|t| t.first..=t.last)
            .map(|i| times[i].1 - times[i].0)
            .sum();
        let (frames, seconds) = label
            .as_deref()
            .and_then(|l| totals.iter().find(|(n, _, _)| n == l))
            .map_or((0, 0.0), |(_, f, s)| (*f, *s));
        let _ = writeln!(
            table,
            "{shown:<15} total: {seconds:.3} s of {true_seconds:.3} ({:+.2}%), \
             {frames} frames of {true_frames} ({:+.2}%)",
            share(seconds, true_seconds) * 100.0,
            share(frames as f64, true_frames as f64) * 100.0
        );
        if share(seconds, true_seconds).abs() > TOTAL_SHARE {
            failures.push(format!("{name}: {seconds:.3} s, truth {true_seconds:.3} s"));
        }
        if share(frames as f64, true_frames as f64).abs() > TOTAL_SHARE {
            failures.push(format!(
                "{name}: screentime.csv frames {frames}, truth {true_frames} video frames"
            ));
        }
    }
    // Nobody else: any other label is a false detection or a second label for Biden.
    let known: Vec<&str> = labels.iter().filter_map(|(_, l)| l.as_deref()).collect();
    for (label, r) in result.iter().filter(|(l, _)| !known.contains(&l.as_str())) {
        let _ = writeln!(table, "{label:<15} {}..{} STRAY LABEL", r.first, r.last);
        failures.push(format!("stray label {label} at {}..{}", r.first, r.last));
    }

    if failures.is_empty() {
        eprintln!("{table}"); // shown with --nocapture
    }
    assert!(
        failures.is_empty(),
        "{} problem(s):\n  {}\n\n{table}(edge| is at a cut; diff = result - truth, in frames)",
        failures.len(),
        failures.join("\n  ")
    );
}

/// Renders `tests/truth/{spec}.json` and its truth into `dir`.
fn make_video(spec: &str, dir: &Path) -> (PathBuf, Vec<FrameRange>) {
    for photo in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"] {
        registry_photo(photo); // the specs' photos: fails with a message where they are missing
    }
    let (video, truth) = (dir.join(format!("{spec}.mp4")), dir.join("truth.csv"));
    let spec = project().join(format!("tests/truth/{spec}.json"));
    make_video_from(&spec, &video, Some(&truth));
    (video, read_frame_ranges(&truth).unwrap())
}

/// The first frame of each shot and then the video's end, in frames of the video made from the
/// spec (for VFR, those make_video.py keeps: every third frame of a segment dropped, never its
/// last).
fn shot_starts(spec: &Value) -> Vec<usize> {
    let fps = spec["fps"].as_f64().unwrap();
    let vfr = spec["vfr"].as_bool().unwrap_or(false);
    let mut starts = vec![0];
    for segment in spec["segments"].as_array().unwrap() {
        let seconds = segment
            .get("blank")
            .or_else(|| segment.get("seconds"))
            .and_then(Value::as_f64)
            .unwrap();
        let n = (seconds * fps + 0.5).floor() as usize;
        let kept = if vfr {
            (0..n).filter(|i| !(i % 3 == 2 && *i < n - 1)).count()
        } else {
            n
        };
        starts.push(starts.last().unwrap() + kept);
    }
    starts
}

/// The frames whose middles lie in [start, end) seconds, or None.
fn frames_between(start: f64, end: f64, times: &[(f64, f64)]) -> Option<Stretch> {
    let middle = |&(a, b): &(f64, f64)| (a + b) / 2.0;
    let first = times.partition_point(|t| middle(t) < start);
    let stop = times.partition_point(|t| middle(t) < end);
    (first < stop).then(|| Stretch {
        first,
        last: stop - 1,
    })
}

/// The truth's stretches for `name`, in order.
fn stretches(truth: &[FrameRange], name: &str) -> Vec<Stretch> {
    let mut out: Vec<Stretch> = truth
        .iter()
        .filter(|r| r.name == name)
        .map(|r| Stretch {
            first: r.first as usize,
            last: r.last as usize,
        })
        .collect();
    out.sort_by_key(|s| s.first);
    out
}

fn labelled(result: &[(String, Stretch)], label: &str) -> Vec<Stretch> {
    result
        .iter()
        .filter(|(l, _)| l == label)
        .map(|(_, s)| *s)
        .collect()
}

fn shared_frames(r: &Stretch, truth: &[Stretch]) -> usize {
    truth
        .iter()
        .filter(|t| t.overlaps(r))
        .map(|t| t.last.min(r.last) - t.first.max(r.first) + 1)
        .sum()
}

/// screentime.csv as (name, frames, seconds).
fn screentime_csv(path: &Path) -> Vec<(String, u64, f64)> {
    let mut csv = csv::Reader::from_path(path).unwrap();
    assert_eq!(&csv.headers().unwrap()[1], "frames");
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

/// (got - truth) / truth; 0 when both are 0.
fn share(got: f64, truth: f64) -> f64 {
    if truth > 0.0 {
        (got - truth) / truth
    } else if got > 0.0 {
        f64::INFINITY
    } else {
        0.0
    }
}
