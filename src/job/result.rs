//! What a job hands on: screen time per identity and every appearance ([`JobResult`]), with
//! the counts of the work done.

use crate::job::aggregate::Summary;
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

#[derive(Debug, Clone, Default, serde::Serialize)]
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
    pub elapsed_seconds: f64,
}

pub struct JobResult {
    pub video: VideoInfo,
    /// Every this many frames were analysed (`Stride::Auto` resolved).
    pub stride: u64,
    pub summary: Summary,
    pub stats: JobStats,
}
