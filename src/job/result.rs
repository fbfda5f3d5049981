//! What a job hands on: screen time per identity and every appearance ([`JobResult`]), with
//! the counts of the work done. Plain data: [`crate::job::aggregate`] fills the [`Summary`] and
//! the output reads it; nothing here imports either back.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::face::detect::BBox;
use crate::job::interval::Interval;
use crate::track::picture::Picture;
use crate::track::tracker::TrackStats;
use crate::video::decode::VideoInfo;

/// Screen time of one identity over the whole video.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScreenTime {
    /// Actor name, or `unknown_N` for a face that matched no one in the cast.
    pub name: String,
    /// Video frames in which this identity is on screen (decoded or not): those starting
    /// inside one of its segments.
    pub frames: u64,
    /// Screen time in seconds.
    pub seconds: f64,
    /// `seconds` as a percentage of the video's duration.
    pub percent: f64,
    /// Seconds from the start of the video to the first appearance.
    pub first_seen: f64,
    /// Seconds from the start of the video to the end of the last appearance.
    pub last_seen: f64,
}

/// One continuous stretch of an identity on screen.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub name: String,
    /// Seconds from the start of the video to the first frame of the stretch.
    pub start: f64,
    /// Seconds from the start of the video to the end of the stretch's last frame.
    pub end: f64,
    /// `end - start`.
    pub seconds: f64,
}

impl Segment {
    /// `name` on screen from `start` to `end` (seconds).
    pub fn new(name: &str, start: f64, end: f64) -> Segment {
        Segment {
            name: name.to_string(),
            start,
            end,
            seconds: end - start,
        }
    }
}

/// Per person of `people`, in that order, their appearances among `segments`: what `search
/// --with` and the co-appearance matrix both intersect, so the two agree to the frame.
pub fn appearances(people: &[String], segments: &[Segment]) -> Vec<Vec<Interval>> {
    (people.iter())
        .map(|person| {
            (segments.iter())
                .filter(|s| &s.name == person)
                .map(|s| Interval {
                    start: s.start,
                    end: s.end,
                })
                .collect()
        })
        .collect()
}

/// Everything the tally found.
pub struct Summary {
    /// Longest screen time first, ties by name.
    pub screen_time: Vec<ScreenTime>,
    /// By start time, then name.
    pub segments: Vec<Segment>,
    /// Per identity, its best face pictures (JPEG), best first.
    pub pictures: BTreeMap<String, Vec<Picture>>,
    /// Every track, in order of first appearance.
    pub tracks: Vec<TrackReport>,
    /// Per identity with an embedded face, the quality-weighted mean descriptor of all its
    /// tracks' faces: what a photo of the person is matched against after the run.
    pub descriptors: BTreeMap<String, Vec<f32>>,
}

/// A track and why it got its name: a line of `tracks.jsonl` (`--debug-tracks`).
#[derive(Debug, Clone, Serialize)]
pub struct TrackReport {
    pub track: usize,
    pub name: String,
    /// The person (group of tracks, numbered from 1 by first appearance) it was grouped with;
    /// its name is the group's unless `reason` says the track's own match kept another.
    pub group: usize,
    pub reason: &'static str,
    /// Why it is in its group: the group's other tracks (by `track` number) and their
    /// distance from it, closest first; for a track alone, the closest tracks, kept apart.
    pub neighbours: Vec<(usize, f32)>,
    /// Seconds: the first frame's start and the last frame's end.
    pub start: f64,
    pub end: f64,
    /// The track's distance to its closest cast members, closest first.
    pub distances: Vec<(String, f32)>,
    /// The quality-weighted mean of its faces' descriptors: what tracks are grouped by.
    pub descriptor: Vec<f32>,
    /// Every embedded face.
    pub faces: Vec<FaceReport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FaceReport {
    /// Seconds from the start of the video.
    pub time: f64,
    #[serde(rename = "box")]
    pub bbox: BBox,
    pub quality: f32,
    /// The face's distance to its closest cast members, closest first.
    pub distances: Vec<(String, f32)>,
}

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct JobStats {
    pub frames_decoded: u64,
    pub frames_analysed: u64,
    pub shot_cuts: u64,
    pub tracks: u64,
    #[serde(flatten)]
    pub work: TrackStats,
    pub damaged_packets: u64,
    pub damaged_frames: u64,
    /// The decoder's threads at the end: more than one where one left the job's cores idle.
    pub decoder_threads: usize,
    /// Seconds of video covered by the analysed frames.
    pub video_seconds: f64,
    /// Seconds of the video read: from its start to the end of the last frame decoded.
    pub seconds_read: f64,
    /// `seconds_read` as a percentage of the container's duration (at most 100); none where the
    /// container gives no duration.
    pub read_percent: Option<f64>,
    /// Whether the result covers the whole video: see [`JobStats::judge_completeness`].
    pub complete: bool,
    pub elapsed_seconds: f64,
    /// Of `elapsed_seconds`, the time after the video was read: grouping the tracks into
    /// people, naming them and tallying their time (what grows with the number of tracks).
    /// Absent from reports written before it was measured.
    #[serde(default)]
    pub identify_seconds: f64,
}

/// How far short of the container's duration a read may end and still be the whole video, beyond
/// two frames: the last frame's own duration is a guess where the container gives none.
pub const SHORT_READ_SECONDS: f64 = 0.25;

impl JobStats {
    /// Sets [`JobStats::read_percent`] and [`JobStats::complete`]. A result is incomplete when
    /// a packet was skipped (its frames were never seen: a damaged sample table, a cut file) or
    /// when the read ended more than two frames and [`SHORT_READ_SECONDS`] before the
    /// container's `duration` (a file cut short), unless the frames' times were moved
    /// (`time_moved`: joined recordings, whose container duration measures another timeline).
    pub fn judge_completeness(
        &mut self,
        duration: Option<f64>,
        frame_rate: Option<f64>,
        time_moved: bool,
    ) {
        let duration = duration.filter(|d| d.is_finite() && *d > 0.0);
        self.read_percent = duration.map(|d| (100.0 * self.seconds_read / d).min(100.0));
        let slack = SHORT_READ_SECONDS + frame_rate.filter(|r| *r > 0.0).map_or(0.0, |r| 2.0 / r);
        let cut_short = !time_moved && duration.is_some_and(|d| self.seconds_read + slack < d);
        self.complete = self.damaged_packets == 0 && !cut_short;
    }

    /// What part of the video an incomplete result covers, for a person: `read 2.30 s of
    /// 3.84 s (59.9%), 1 damaged packet skipped`.
    pub fn coverage(&self, duration: Option<f64>) -> String {
        let mut text = match (duration, self.read_percent) {
            (Some(d), Some(p)) => format!("read {:.2} s of {d:.2} s ({p:.1}%)", self.seconds_read),
            _ => format!("read {:.2} s (duration unknown)", self.seconds_read),
        };
        if self.damaged_packets > 0 {
            text.push_str(&format!(
                ", {} damaged packets skipped",
                self.damaged_packets
            ));
        }
        text
    }
}

pub struct JobResult {
    pub video: VideoInfo,
    /// Every this many frames were analysed (`Stride::Auto` resolved).
    pub stride: u64,
    pub summary: Summary,
    pub stats: JobStats,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn judged(seconds_read: f64, damaged_packets: u64, time_moved: bool) -> JobStats {
        let mut stats = JobStats {
            seconds_read,
            damaged_packets,
            ..JobStats::default()
        };
        stats.judge_completeness(Some(4.0), Some(25.0), time_moved);
        stats
    }

    #[test]
    fn a_result_is_whole_only_when_every_packet_was_read_to_the_end() {
        assert!(judged(4.0, 0, false).complete);
        assert_eq!(judged(4.0, 0, false).read_percent, Some(100.0));
        // Two frames and a quarter second short is still the end; more is a cut.
        assert!(judged(4.0 - 0.08 - 0.24, 0, false).complete);
        assert!(!judged(4.0 - 0.08 - 0.26, 0, false).complete);
        assert!(!judged(2.4, 0, false).complete);
        assert_eq!(judged(2.0, 0, false).read_percent, Some(50.0));
        // A skipped packet is a hole, wherever it is.
        assert!(!judged(4.0, 1, false).complete);
        // Moved timestamps measure another timeline than the container's duration.
        assert!(judged(2.4, 0, true).complete);
        assert!(!judged(2.4, 1, true).complete);
        // No duration to compare with: the packets decide.
        let mut unknown = JobStats::default();
        unknown.judge_completeness(None, None, false);
        assert!(unknown.complete && unknown.read_percent.is_none());
    }
}
