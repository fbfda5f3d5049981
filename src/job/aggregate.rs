//! Aggregation: finished face tracks in, screen time out.
//!
//! In: complete tracks ([`Piece`]s from [`crate::track::linker::Linker`]). Out: per identity, its
//! screen time ([`ScreenTime`]), its on-screen [`Segment`]s and its best face pictures; and,
//! for `--debug-tracks`, every track with the evidence its name rests on ([`TrackReport`]).
//!
//! Who each track is is decided once the whole video is seen ([`decide`]): tracks on screen at
//! the same time are then known to be different people, and a stranger who comes back after an
//! hour gets the same `unknown_N`. Strangers are numbered by first appearance. An identity's
//! time is the union of its tracks: two faces of one person in a frame (a mirror, a poster)
//! count that frame once.

use std::collections::{BTreeMap, BTreeSet};

use crate::identity::matching::{Identifier, Identity, TrackFaces, decide, mean_descriptor};
use crate::job::interval::{Interval, union};
use crate::job::result::{FaceReport, ScreenTime, Segment, Summary, TrackReport};
use crate::track::evidence::Piece;
use crate::track::picture::Picture;
use crate::video::clock::FrameClock;

/// Best face pictures kept per identity, each from a different track.
pub const PICTURES_PER_IDENTITY: usize = 3;
/// Cast members listed per face in a track report.
const REPORTED_CANDIDATES: usize = 3;

/// Finished tracks, kept until the video is seen.
#[derive(Default)]
pub struct Tally {
    tracks: Vec<Piece>,
}

impl Tally {
    pub fn add(&mut self, track: Piece) {
        self.tracks.push(track);
    }

    /// `video_seconds` is the length the percentages are of; `clock` counts the video frames
    /// on screen.
    pub fn finish(
        mut self,
        identifier: &Identifier,
        video_seconds: f64,
        clock: &FrameClock,
    ) -> Summary {
        self.tracks.sort_by_key(|track| track.first);
        let faces: Vec<TrackFaces> = self
            .tracks
            .iter()
            .map(|t| TrackFaces {
                first: t.first,
                last: t.last,
                samples: &t.evidence.samples,
            })
            .collect();
        let decisions = decide(identifier, &faces);

        let mut seen: BTreeMap<String, Vec<Interval>> = BTreeMap::new();
        let mut pictures: BTreeMap<String, Vec<Picture>> = BTreeMap::new();
        let names: Vec<String> = decisions
            .iter()
            .map(|decision| match decision.identity {
                Identity::Actor(actor) => identifier.actors()[actor].clone(),
                Identity::Stranger(group) => format!("unknown_{}", group + 1),
            })
            .collect();
        let mut descriptors = BTreeMap::new();
        for name in names.iter().collect::<BTreeSet<_>>() {
            let faces = (self.tracks.iter().zip(&names))
                .filter(|(_, owner)| *owner == name)
                .flat_map(|(track, _)| &track.evidence.samples);
            if faces.clone().next().is_some() {
                descriptors.insert(name.clone(), mean_descriptor(faces, identifier));
            }
        }
        let mut reports = Vec::with_capacity(self.tracks.len());
        for (number, ((mut track, decision), name)) in self
            .tracks
            .into_iter()
            .zip(decisions)
            .zip(names)
            .enumerate()
        {
            if let Some(picture) = track.evidence.picture.take() {
                let kept = pictures.entry(name.clone()).or_default();
                kept.push(picture);
                kept.sort_by(|a, b| b.quality.total_cmp(&a.quality));
                kept.truncate(PICTURES_PER_IDENTITY);
            }
            seen.entry(name.clone()).or_default().push(interval(&track));
            let samples = &track.evidence.samples;
            reports.push(TrackReport {
                track: number + 1,
                name,
                group: decision.group + 1,
                reason: decision.reason,
                neighbours: (decision.neighbours.iter())
                    .map(|&(other, d)| (other + 1, d))
                    .collect(),
                start: track.start,
                end: track.end,
                distances: identifier.closest(&decision.distances, REPORTED_CANDIDATES),
                descriptor: mean_descriptor(samples, identifier),
                faces: samples
                    .iter()
                    .map(|s| FaceReport {
                        time: s.time,
                        bbox: s.bbox,
                        quality: s.quality,
                        distances: identifier.ranked(&s.descriptor, REPORTED_CANDIDATES),
                    })
                    .collect(),
            });
        }

        let mut screen_time = Vec::new();
        let mut segments = Vec::new();
        for (name, intervals) in seen {
            let merged = union(intervals);
            let seconds: f64 = merged.iter().map(|i| i.end - i.start).sum();
            screen_time.push(ScreenTime {
                name: name.clone(),
                frames: merged
                    .iter()
                    .map(|i| clock.frames_between(i.start, i.end))
                    .sum(),
                seconds,
                percent: if video_seconds > 0.0 {
                    100.0 * seconds / video_seconds
                } else {
                    0.0
                },
                first_seen: merged[0].start,
                last_seen: merged[merged.len() - 1].end,
            });
            segments.extend(merged.iter().map(|i| Segment::new(&name, i.start, i.end)));
        }
        screen_time.sort_by(|a, b| {
            b.seconds
                .total_cmp(&a.seconds)
                .then_with(|| a.name.cmp(&b.name))
        });
        segments.sort_by(|a, b| {
            a.start
                .total_cmp(&b.start)
                .then_with(|| a.name.cmp(&b.name))
        });
        Summary {
            screen_time,
            segments,
            pictures,
            tracks: reports,
            descriptors,
        }
    }
}

fn interval(track: &Piece) -> Interval {
    Interval {
        start: track.start,
        end: track.end,
    }
}
