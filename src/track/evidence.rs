//! What a track holds: its embedded faces ([`Sample`]s), from which who it is will be decided,
//! and its best picture; [`Piece`] is a track, or its part inside one clip.

use crate::face::detect::BBox;
use crate::face::embed::Descriptor;
use crate::track::picture::Picture;

/// One embedded face of a track.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Seconds from the start of the video.
    pub time: f64,
    pub bbox: BBox,
    /// How much to trust the face: detection score, less for faces too small to embed well.
    pub quality: f32,
    pub descriptor: Descriptor,
}

/// What a track's embedded faces say about who it is: the faces themselves, for the decision
/// once the whole video is seen ([`crate::identity::matching::decide`]).
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub samples: Vec<Sample>,
    pub picture: Option<Picture>,
}

impl Evidence {
    pub(super) fn add(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    pub(super) fn first(&self) -> Option<&Descriptor> {
        self.samples.first().map(|s| &s.descriptor)
    }

    pub(super) fn last(&self) -> Option<&Descriptor> {
        self.samples.last().map(|s| &s.descriptor)
    }

    pub(super) fn merge(&mut self, later: Evidence) {
        self.samples.extend(later.samples);
        if later.picture.as_ref().map(|p| p.quality) > self.picture.as_ref().map(|p| p.quality) {
            self.picture = later.picture;
        }
    }
}

/// A track, or the part of one inside one clip.
#[derive(Debug, Clone)]
pub struct Piece {
    /// First and last analysed frame in which the face was found.
    pub first: u64,
    pub last: u64,
    /// Seconds: the first frame's time, and the end of the last frame's span.
    pub start: f64,
    pub end: f64,
    pub(super) first_box: BBox,
    pub(super) last_box: BBox,
    /// Still followed at the end of its clip, so the next clip may continue it.
    pub(super) open_end: bool,
    pub evidence: Evidence,
}

impl Piece {
    pub(super) fn join(mut self, later: Piece) -> Piece {
        self.last = later.last;
        self.end = later.end;
        self.last_box = later.last_box;
        self.open_end = later.open_end;
        self.evidence.merge(later.evidence);
        self
    }
}
