//! Face tracks: one person's face followed through consecutive frames of one shot.
//!
//! In: clips, runs of consecutive analysed frames within one shot (the pipeline starts a new clip
//! at every shot cut, which [`crate::video::shots`] finds, and every [`CLIP_FRAMES`] frames, so
//! that clips can be tracked in parallel). Out: per clip, the [`Piece`](evidence::Piece)s of tracks
//! in it, each with the evidence of who it is; [`Linker`](linker::Linker) joins pieces across clip
//! boundaries (never across a cut) into whole tracks.
//!
//! Following a face costs less than finding it. A full-frame detection runs on a clip's first frame
//! and then every `detect_every` frames, and is what finds new faces; in between, each tracked face
//! is looked for only in a small region around where it was last seen, at about a tenth of the
//! cost. A face is embedded when its track starts, then every `embed_every` frames, and on every
//! frame while its match is uncertain (within [`TrackOptions::uncertain`] of the threshold). The
//! embedded faces are the track's evidence: who it is is decided from all of them once the whole
//! video is seen ([`crate::identity::matching::decide`]). A track survives [`MAX_MISSES`] frames
//! without its face (a blink of blur or occlusion) and counts them as on screen; an embedding far
//! from the track's previous one means someone else took its place, and starts a new track.
//!
//! [`tracker`] follows faces through one clip, [`evidence`] is what a track holds, [`linker`]
//! joins clips' pieces, and [`picture`] keeps each track's best face.

pub mod evidence;
pub mod linker;
pub mod picture;
pub mod tracker;

use serde::Serialize;

use crate::face::embed::Descriptor;
use crate::face::model::EmbedderKind;

/// Most analysed frames in one clip. Each clip re-finds and re-embeds its faces, which bounds
/// how far an early mistake can carry, and is the unit of parallel work. Half a clip is queued
/// per worker, so this also sets how many frames wait in memory: 8 against 16 took 1080p runs
/// from about 460 to 420 MB at the same speed (measured).
pub const CLIP_FRAMES: u64 = 8;
/// Analysed frames a track may go without its face and still continue.
pub const MAX_MISSES: u64 = 2;
/// A face continues a track when its box overlaps the track's last box at least this much.
pub const FOLLOW_IOU: f32 = 0.3;

/// How faces are followed between frames.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TrackOptions {
    /// Run full-frame detection every this many analysed frames (1: every frame).
    pub detect_every: u64,
    /// Embed a tracked face every this many analysed frames (1: every frame).
    pub embed_every: u64,
    /// Keep each track's best face picture (for thumbnails and `screentime name`).
    pub pictures: bool,
    /// A match this close to the threshold, either side, is checked again on every frame (a
    /// distance of the embedder's: [`crate::face::model::Thresholds::uncertain`]).
    pub uncertain: f32,
}

impl TrackOptions {
    /// Whether the clip's analysed frame `index` (from 0) gets a full-frame detection: its
    /// first, then every `detect_every`.
    pub fn full_detection(&self, index: u64) -> bool {
        index.is_multiple_of(self.detect_every.max(1))
    }
}

impl Default for TrackOptions {
    fn default() -> Self {
        TrackOptions {
            detect_every: 3,
            embed_every: 8,
            pictures: true,
            uncertain: EmbedderKind::Dlib.thresholds().uncertain,
        }
    }
}

/// What following faces asks of the stage after it: how close a face is to its nearest cast
/// member, so that a face whose match is uncertain is embedded on every frame, and the
/// threshold that says when a new face took a track's place. Implemented by
/// [`crate::identity::matching::Identifier`].
pub trait Nearest: Sync {
    /// The largest distance at which a face is taken for a cast member.
    fn threshold(&self) -> f32;
    /// The distance to the nearest cast member; None with an empty cast.
    fn nearest_distance(&self, descriptor: &Descriptor) -> Option<f32>;
}
