//! Accuracy against truth: a result compared, frame by frame, with who a person saw on screen.
//!
//! In: a truth file, the video's frame times, and a result: the appearances (seconds) of a
//! `screentime` output folder, or frame ranges in the truth file's own format (what other tools'
//! outputs are converted to). Out: per identity, its recall in time, the seconds credited to it
//! where it is not on screen and its total's error, and per stranger the labels it got
//! ([`Score`]).
//!
//! The truth file is CSV, `name,start_frame,end_frame`, one row per continuous stretch in which
//! that person's face is visible, frames counted from 0 in presentation order, both ends
//! included. Strangers are `unknown:<tag>`, one tag per person. A name written `?name` marks
//! frames where a person watching could not say (a face turning past three-quarter, a face a
//! few pixels high): a result may credit that person there or not, and neither counts.
//!
//! `screentime score VIDEO --truth FILE RESULT...` prints this per result ([`run`]).
//!
//! A frame counts as credited to an identity when the middle of the frame lies inside one of
//! its appearances. A result's `unknown_N` labels and the truth's strangers are paired one to
//! one, most shared time first; a stranger should get exactly one label of their own, and a
//! second label that follows them counts as a split. Per label, the people it holds: its own
//! person, and everyone certainly on screen in at least [`HELD_FRAMES`] of its frames where its
//! own person is not; a label should hold one person.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::error::{Error, Result};
use crate::job::result::Segment;
use crate::output::answer::{self, Align, Answer, Format, Table};
use crate::output::result_dir::ResultDir;
use crate::video::decode::{Keep, VideoReader};

/// Prefix of a stranger in a truth file.
pub const STRANGER: &str = "unknown:";
/// Prefix of a stranger's label in a result.
const RESULT_STRANGER: &str = "unknown_";
/// Prefix of a truth row whose frames may or may not be credited.
const UNCERTAIN: char = '?';
/// Frames in which a label follows someone other than its own person before it counts as
/// holding them too. Appearances end at their frame (`tests/frames.rs`), so a label overruns
/// its person by at most a frame at either end of a segment: three frames are more than an
/// edge's error, and fewer than the shortest track (one sampled face, 4 frames on `snape`).
pub const HELD_FRAMES: usize = 3;

/// A stretch of frames with one identity on screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameRange {
    pub name: String,
    pub first: u64,
    pub last: u64,
    /// False for `?name` rows.
    pub certain: bool,
}

/// Reads a frame-range file (`name,start_frame,end_frame`): a truth file, or another tool's
/// result in the same form.
pub fn read_frame_ranges(path: &Path) -> Result<Vec<FrameRange>> {
    let bad = |reason: String| Error::Input {
        path: path.to_path_buf(),
        reason,
    };
    let mut reader = csv::Reader::from_path(path).map_err(|e| bad(e.to_string()))?;
    let header = reader.headers().map_err(|e| bad(e.to_string()))?;
    if header != vec!["name", "start_frame", "end_frame"] {
        return Err(bad("expected the header name,start_frame,end_frame".into()));
    }
    let mut ranges = Vec::new();
    for (line, record) in reader.records().enumerate() {
        let record = record.map_err(|e| bad(e.to_string()))?;
        let at = |reason: &str| bad(format!("row {}: {reason}", line + 1));
        let frame = |i: usize| {
            record[i]
                .trim()
                .parse::<u64>()
                .map_err(|_| at("frames must be whole numbers"))
        };
        let (first, last) = (frame(1)?, frame(2)?);
        let name = record[0].trim();
        let (name, certain) = match name.strip_prefix(UNCERTAIN) {
            Some(rest) => (rest, false),
            None => (name, true),
        };
        if name.is_empty() || last < first {
            return Err(at("needs a name and start_frame <= end_frame"));
        }
        ranges.push(FrameRange {
            name: name.to_string(),
            first,
            last,
            certain,
        });
    }
    Ok(ranges)
}

/// Each frame's start and end in seconds, as screentime times them (from the decoder's
/// timestamps, so variable frame rates come out right).
pub fn frame_times(video: &Path) -> Result<Vec<(f64, f64)>> {
    let mut reader = VideoReader::open(video, 0)?;
    let mut times = Vec::new();
    while let Some(frame) = reader.next_frame(|_, _| Keep::Nothing)? {
        times.push((frame.time, frame.time + frame.duration));
    }
    Ok(times)
}

/// Frame ranges as appearances in seconds, for scoring them like a screentime result.
pub fn ranges_as_segments(ranges: &[FrameRange], times: &[(f64, f64)]) -> Vec<Segment> {
    ranges
        .iter()
        .filter(|r| (r.first as usize) < times.len())
        .map(|r| {
            let start = times[r.first as usize].0;
            let end = times[(r.last as usize).min(times.len() - 1)].1;
            Segment::new(&r.name, start, end)
        })
        .collect()
}

/// How one identity of the truth fared.
#[derive(Debug, Clone, Serialize)]
pub struct IdentityScore {
    /// As in the truth: a cast name or `unknown:<tag>`.
    pub name: String,
    pub stranger: bool,
    /// Seconds on screen (certain frames only), and in frames marked uncertain.
    pub truth_seconds: f64,
    pub uncertain_seconds: f64,
    /// Seconds the result credits to this identity's label(s), wherever it is.
    pub result_seconds: f64,
    /// Share of the certain seconds credited to the right label.
    pub recall: f64,
    /// Seconds credited to this identity's label(s) where it is not on screen.
    pub false_seconds: f64,
    /// How far the result's total lies outside [certain, certain + uncertain] seconds (signed:
    /// negative when short).
    pub total_error: f64,
    /// The result's label standing for this identity (none for a stranger nobody labelled).
    pub labels: Vec<String>,
    /// For a stranger: further labels that mostly follow them (counted as false seconds).
    pub split_into: Vec<String>,
}

/// A result label that stands for nobody in the truth.
#[derive(Debug, Clone, Serialize)]
pub struct StrayLabel {
    pub label: String,
    /// All its seconds, each credited where its person is not on screen.
    pub seconds: f64,
}

/// The people a result label holds.
#[derive(Debug, Clone, Serialize)]
pub struct LabelScore {
    pub label: String,
    /// All its seconds.
    pub seconds: f64,
    /// Its own person first (the cast member it names, or the stranger it was paired with),
    /// then everyone else it follows where its own person is not on screen and no other label
    /// stands for them, with those seconds.
    pub people: Vec<(String, f64)>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Score {
    pub clip_seconds: f64,
    /// Truth identities: cast members first, then strangers, each by name.
    pub identities: Vec<IdentityScore>,
    pub stray: Vec<StrayLabel>,
    /// Every label of the result, by name.
    pub labels: Vec<LabelScore>,
    /// Every second credited to someone who is not on screen, over all labels.
    pub false_seconds: f64,
    /// Strangers with a label of their own and no second label following them, of those
    /// certainly on screen somewhere (a stranger only ever doubtful may go unlabelled).
    pub strangers_one_label: usize,
    pub strangers: usize,
    /// Labels holding two people or more.
    pub mixed_labels: usize,
}

impl Score {
    /// The lowest recall among the cast (not strangers); 1 with no cast in the truth.
    pub fn worst_cast_recall(&self) -> f64 {
        self.identities
            .iter()
            .filter(|i| !i.stranger)
            .map(|i| i.recall)
            .fold(1.0, f64::min)
    }

    /// False seconds as a share of the clip.
    pub fn false_share(&self) -> f64 {
        if self.clip_seconds > 0.0 {
            self.false_seconds / self.clip_seconds
        } else {
            0.0
        }
    }
}

/// Compares `result` (appearances in seconds) with `truth` on the frames timed by `times`.
pub fn score<'a>(truth: &'a [FrameRange], times: &[(f64, f64)], result: &'a [Segment]) -> Score {
    let frames = times.len();
    let duration = |i: usize| (times[i].1 - times[i].0).max(0.0);
    // Who is on screen in each frame, certainly or possibly.
    let mut certain: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); frames];
    let mut possible: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); frames];
    for range in truth {
        for i in range.first as usize..=(range.last as usize).min(frames.saturating_sub(1)) {
            if range.certain {
                certain[i].insert(&range.name);
            }
            possible[i].insert(&range.name);
        }
    }
    // Which labels the result credits in each frame: a segment covers the frames whose middles
    // lie in it, found by binary search over the middles in order (a film has hundreds of
    // thousands of frames and thousands of segments).
    let middle = |i: usize| (times[i].0 + times[i].1) / 2.0;
    let mut by_middle: Vec<usize> = (0..frames).collect();
    by_middle.sort_by(|&a, &b| middle(a).total_cmp(&middle(b)));
    let mut credited: Vec<BTreeSet<&str>> = vec![BTreeSet::new(); frames];
    for segment in result {
        let first = by_middle.partition_point(|&i| middle(i) < segment.start);
        let end = by_middle.partition_point(|&i| middle(i) < segment.end);
        for &i in by_middle.get(first..end).unwrap_or_default() {
            credited[i].insert(&segment.name);
        }
    }

    // Each result stranger label stands for one truth stranger and each stranger has at most one
    // label: pairs are matched greedily, most shared seconds first. Overlap in time alone cannot
    // tell two strangers on screen together apart, but a one-to-one matching can: the label
    // that follows one of them also follows them elsewhere.
    let mut overlap: BTreeMap<(&str, &str), f64> = BTreeMap::new();
    for i in 0..frames {
        for label in credited[i]
            .iter()
            .filter(|l| l.starts_with(RESULT_STRANGER))
        {
            for person in possible[i].iter().filter(|p| p.starts_with(STRANGER)) {
                *overlap.entry((label, person)).or_default() += duration(i);
            }
        }
    }
    let mut pairs: Vec<(&(&str, &str), &f64)> = overlap.iter().collect();
    pairs.sort_by(|a, b| b.1.total_cmp(a.1));
    let mut owner: BTreeMap<&str, &str> = BTreeMap::new();
    for &(&(label, person), _) in &pairs {
        if !owner.contains_key(label) && !owner.values().any(|p| *p == person) {
            owner.insert(label, person);
        }
    }
    // A label left over that mostly follows a stranger splits that stranger in two.
    let mut split: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for &(&(label, person), _) in &pairs {
        if !owner.contains_key(label) && !split.values().flatten().any(|l| *l == label) {
            split.entry(person).or_default().push(label);
        }
    }
    // Whom a result label stands for: a cast name stands for itself.
    let stands_for = |label: &'a str| -> Option<&'a str> {
        if label.starts_with(RESULT_STRANGER) {
            owner.get(label).copied()
        } else {
            Some(label)
        }
    };

    let names: BTreeSet<&str> = truth.iter().map(|r| r.name.as_str()).collect();
    let mut identities = Vec::new();
    for &name in &names {
        let labels: Vec<String> = if name.starts_with(STRANGER) {
            owner
                .iter()
                .filter(|(_, p)| **p == name)
                .map(|(l, _)| l.to_string())
                .collect()
        } else {
            vec![name.to_string()]
        };
        let split_into = split.get(name).map_or(Vec::new(), |labels| {
            labels.iter().map(|l| l.to_string()).collect()
        });
        let mut s = IdentityScore {
            name: name.to_string(),
            stranger: name.starts_with(STRANGER),
            truth_seconds: 0.0,
            uncertain_seconds: 0.0,
            result_seconds: 0.0,
            recall: 0.0,
            false_seconds: 0.0,
            total_error: 0.0,
            labels,
            split_into,
        };
        let mut found = 0.0;
        for i in 0..frames {
            let shown = s.labels.iter().any(|l| credited[i].contains(l.as_str()));
            if certain[i].contains(name) {
                s.truth_seconds += duration(i);
                found += if shown { duration(i) } else { 0.0 };
            } else if possible[i].contains(name) {
                s.uncertain_seconds += duration(i);
            } else if shown {
                s.false_seconds += duration(i);
            }
            if shown {
                s.result_seconds += duration(i);
            }
        }
        s.recall = if s.truth_seconds > 0.0 {
            found / s.truth_seconds
        } else {
            1.0
        };
        let most = s.truth_seconds + s.uncertain_seconds;
        s.total_error = if s.result_seconds < s.truth_seconds {
            s.result_seconds - s.truth_seconds
        } else {
            (s.result_seconds - most).max(0.0)
        };
        identities.push(s);
    }
    identities.sort_by_key(|i| (i.stranger, i.name.clone()));

    // Labels standing for nobody: every second of theirs is false.
    let mut stray: BTreeMap<&str, f64> = BTreeMap::new();
    let mut false_seconds = 0.0;
    for i in 0..frames {
        for label in &credited[i] {
            match stands_for(label) {
                Some(person) if possible[i].contains(person) => {}
                Some(person) if names.contains(person) => false_seconds += duration(i),
                _ => {
                    false_seconds += duration(i);
                    *stray.entry(label).or_default() += duration(i);
                }
            }
        }
    }
    let labels = held(&credited, &certain, &possible, &stands_for, duration);
    let strangers: Vec<&IdentityScore> = identities
        .iter()
        .filter(|i| i.stranger && i.truth_seconds > 0.0)
        .collect();
    Score {
        clip_seconds: times.last().map_or(0.0, |t| t.1) - times.first().map_or(0.0, |t| t.0),
        strangers: strangers.len(),
        strangers_one_label: strangers
            .iter()
            .filter(|s| s.labels.len() == 1 && s.split_into.is_empty())
            .count(),
        identities,
        stray: stray
            .into_iter()
            .map(|(label, seconds)| StrayLabel {
                label: label.to_string(),
                seconds,
            })
            .collect(),
        mixed_labels: labels.iter().filter(|l| l.people.len() > 1).count(),
        labels,
        false_seconds,
    }
}

/// Per result label, the people it holds (see [`LabelScore`]).
fn held<'a>(
    credited: &[BTreeSet<&'a str>],
    certain: &[BTreeSet<&'a str>],
    possible: &[BTreeSet<&'a str>],
    stands_for: &impl Fn(&'a str) -> Option<&'a str>,
    duration: impl Fn(usize) -> f64,
) -> Vec<LabelScore> {
    /// Per other person, the frames and seconds a label follows them in.
    type Others<'a> = BTreeMap<&'a str, (usize, f64)>;
    // Per label: its seconds, and whom else it follows.
    let mut labels: BTreeMap<&str, (f64, Others)> = BTreeMap::new();
    for i in 0..credited.len() {
        for &label in &credited[i] {
            let (seconds, others) = labels.entry(label).or_default();
            *seconds += duration(i);
            if stands_for(label).is_some_and(|own| possible[i].contains(own)) {
                continue;
            }
            // Someone another label stands for in this frame is that label's, not this one's.
            let accounted = |person: &str| {
                (credited[i].iter())
                    .any(|&other| other != label && stands_for(other) == Some(person))
            };
            for &person in certain[i].iter().filter(|p| !accounted(p)) {
                let (frames, seconds) = others.entry(person).or_default();
                *frames += 1;
                *seconds += duration(i);
            }
        }
    }
    labels
        .into_iter()
        .map(|(label, (seconds, others))| {
            let mut others: Vec<(String, f64)> = others
                .into_iter()
                .filter(|(_, (frames, _))| *frames >= HELD_FRAMES)
                .map(|(person, (_, seconds))| (person.to_string(), seconds))
                .collect();
            others.sort_by(|a, b| b.1.total_cmp(&a.1));
            // A label standing for nobody is, first, whom it follows most.
            let people = match stands_for(label) {
                Some(own) => std::iter::once((own.to_string(), seconds))
                    .chain(others)
                    .collect(),
                None => others,
            };
            LabelScore {
                label: label.to_string(),
                seconds,
                people,
            }
        })
        .collect()
}

/// `screentime score VIDEO --truth FILE RESULT...`: each result's accuracy against the truth,
/// as a table (or JSON). A result is a `screentime` output folder, or a frame-range CSV in the
/// truth file's own form (another tool's answer).
pub fn run(
    video: &Path,
    truth: &Path,
    results: &[PathBuf],
    json: bool,
    out: &mut impl Write,
) -> Result<Vec<Score>> {
    let truth_ranges = read_frame_ranges(truth)?;
    let times = frame_times(video)?;
    let info = VideoReader::open(video, 0)?.info().clone();
    let mut scores = Vec::new();
    for result in results {
        let appearances = if result.is_dir() {
            let dir = ResultDir::new(result);
            dir.check_made_from(&info)?;
            dir.segments()?
        } else {
            ranges_as_segments(&read_frame_ranges(result)?, &times)
        };
        let scored = score(&truth_ranges, &times, &appearances);
        let answer = Scored {
            result,
            score: scored,
        };
        answer::render(out, Format::json_if(json), &answer)?;
        scores.push(answer.score);
    }
    Ok(scores)
}

/// One result's score, as `score` prints it.
struct Scored<'a> {
    result: &'a Path,
    score: Score,
}

impl Answer for Scored<'_> {
    type Item = Score;

    fn items(&self) -> &[Score] {
        std::slice::from_ref(&self.score)
    }

    /// Per identity, its seconds, recall and errors, under the result's name; then the labels
    /// that stand for nobody or hold two people, and the totals.
    fn tables(&self) -> Vec<Table> {
        let s = &self.score;
        let mut table = Table::new(&[
            ("identity", Align::Left),
            ("truth s", Align::Right),
            ("found s", Align::Right),
            ("recall", Align::Right),
            ("false s", Align::Right),
            ("total err", Align::Right),
            ("labels", Align::Left),
        ])
        .titled(self.result.display().to_string());
        for i in &s.identities {
            table.row(vec![
                i.name.clone(),
                format!("{:.2}", i.truth_seconds),
                format!("{:.2}", i.result_seconds),
                format!("{:.1}%", 100.0 * i.recall),
                format!("{:.2}", i.false_seconds),
                format!("{:+.2}", i.total_error),
                i.labels.join(" "),
            ]);
        }
        for stray in &s.stray {
            table.note(format!(
                "{} stands for nobody: {:.2} s",
                stray.label, stray.seconds
            ));
        }
        for label in s.labels.iter().filter(|l| l.people.len() > 1) {
            let people: Vec<String> = (label.people.iter())
                .map(|(person, seconds)| format!("{person} ({seconds:.2} s)"))
                .collect();
            table.note(format!("{} holds {}", label.label, people.join(", ")));
        }
        table.note(format!(
            "clip {:.2} s: worst cast recall {:.1}%, false {:.2} s ({:.2}% of the clip), \
             strangers with one label {}/{}, labels holding two people or more {}",
            s.clip_seconds,
            100.0 * s.worst_cast_recall(),
            s.false_seconds,
            100.0 * s.false_share(),
            s.strangers_one_label,
            s.strangers,
            s.mixed_labels
        ));
        vec![table]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(name: &str, first: u64, last: u64, certain: bool) -> FrameRange {
        FrameRange {
            name: name.into(),
            first,
            last,
            certain,
        }
    }

    #[test]
    fn recall_false_seconds_and_stranger_labels() {
        // 10 frames of 0.1 s.
        let times: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64 / 10.0, (i + 1) as f64 / 10.0))
            .collect();
        let truth = vec![
            range("ann", 0, 5, true),
            range("ann", 6, 7, false),
            range("unknown:a", 4, 9, true),
            range("unknown:b", 0, 3, true),
        ];
        let result = vec![
            Segment::new("ann", 0.2, 0.8), // frames 2-7: misses 0-1, 6-7 uncertain
            Segment::new("unknown_1", 0.4, 1.0), // stranger a, all of it
            Segment::new("unknown_2", 0.0, 0.2), // stranger b, frames 0-1
            Segment::new("unknown_3", 0.2, 0.4), // stranger b again, frames 2-3: a second label
            Segment::new("bob", 0.0, 0.1), // nobody
        ];
        let s = score(&truth, &times, &result);
        let ann = &s.identities[0];
        assert_eq!(ann.name, "ann");
        assert!((ann.recall - 4.0 / 6.0).abs() < 1e-9);
        assert!(ann.false_seconds.abs() < 1e-9);
        assert!(ann.total_error.abs() < 1e-9, "0.6 s lies within [0.6, 0.8]");
        let a = &s.identities[1];
        assert_eq!(a.labels, ["unknown_1"]);
        assert!((a.recall - 1.0).abs() < 1e-9);
        let b = &s.identities[2];
        assert_eq!(b.labels, ["unknown_2"]);
        assert_eq!(b.split_into, ["unknown_3"]);
        assert_eq!((s.strangers_one_label, s.strangers), (1, 2));
        let stray: Vec<&str> = s.stray.iter().map(|l| l.label.as_str()).collect();
        assert_eq!(stray, ["bob", "unknown_3"]);
        assert!(
            (s.false_seconds - 0.3).abs() < 1e-9,
            "bob's frame and unknown_3's two"
        );
        assert_eq!(s.mixed_labels, 0, "bob's one frame holds nobody else");
    }

    #[test]
    fn a_label_that_follows_two_people_holds_both() {
        let times: Vec<(f64, f64)> = (0..10)
            .map(|i| (i as f64 / 10.0, (i + 1) as f64 / 10.0))
            .collect();
        let truth = vec![
            range("ann", 0, 9, true),
            range("unknown:a", 0, 5, true),
            range("unknown:b", 6, 9, true),
            range("unknown:c", 0, 1, true),
        ];
        let result = vec![
            Segment::new("ann", 0.0, 1.0),
            // a, then b where a is gone: ann, on screen too, is her own label's.
            Segment::new("unknown_1", 0.0, 1.0),
            // c's two frames and one more: an edge's overrun, not a second person.
            Segment::new("unknown_2", 0.0, 0.3),
        ];
        let s = score(&truth, &times, &result);
        let people = |label: &str| -> Vec<String> {
            let l = s.labels.iter().find(|l| l.label == label).unwrap();
            l.people.iter().map(|(p, _)| p.clone()).collect()
        };
        assert_eq!(people("unknown_1"), ["unknown:a", "unknown:b"]);
        assert_eq!(people("unknown_2"), ["unknown:c"]);
        assert_eq!(people("ann"), ["ann"]);
        assert_eq!(s.mixed_labels, 1);
        assert_eq!(
            (s.strangers_one_label, s.strangers),
            (2, 3),
            "b has no label"
        );
    }

    #[test]
    fn a_stranger_only_ever_doubtful_need_not_get_a_label() {
        let times: Vec<(f64, f64)> = (0..4)
            .map(|i| (i as f64 / 10.0, (i + 1) as f64 / 10.0))
            .collect();
        let truth = vec![
            range("unknown:a", 0, 3, true),
            range("unknown:far", 0, 3, false),
        ];
        let s = score(&truth, &times, &[Segment::new("unknown_1", 0.0, 0.4)]);
        assert_eq!((s.strangers_one_label, s.strangers), (1, 1));
    }
}
