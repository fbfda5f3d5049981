//! Aggregation: finished face tracks in, screen time out.
//!
//! In: complete tracks ([`Piece`]s from [`crate::track::Linker`]), each named by its vote.
//! Out: per identity, its screen time ([`ScreenTime`]), its on-screen [`Segment`]s and its best
//! face pictures.
//!
//! Tracks the cast does not explain are grouped into strangers once the whole video is seen
//! ([`cluster_strangers`] on each track's mean descriptor), so a stranger who comes back after
//! an hour gets the same `unknown_N`, and strangers are numbered by first appearance.
//! An identity's time is the union of its tracks: two faces of one person in a frame (a mirror,
//! a poster) count that frame once.

use std::collections::BTreeMap;

use crate::identify::{Identifier, cluster_strangers};
use crate::report::{ScreenTime, Segment};
use crate::track::{Picture, Piece};

/// Best face pictures kept per identity, each from a different track.
pub const PICTURES_PER_IDENTITY: usize = 3;

/// Analysed frames `first..=last`, covering seconds `start..end`.
#[derive(Debug, Clone, Copy)]
struct Interval {
    first: u64,
    last: u64,
    start: f64,
    end: f64,
}

pub struct Tally {
    actors: Vec<String>,
    threshold: f32,
    seen: BTreeMap<String, Vec<Interval>>,
    pictures: BTreeMap<String, Vec<Picture>>,
    strangers: Vec<Piece>,
    tracks: u64,
}

/// Everything the tally found.
pub struct Summary {
    /// Longest screen time first, ties by name.
    pub screen_time: Vec<ScreenTime>,
    /// By start time, then name.
    pub segments: Vec<Segment>,
    /// Per identity, its best face pictures (JPEG), best first.
    pub pictures: BTreeMap<String, Vec<Picture>>,
    pub tracks: u64,
}

impl Tally {
    pub fn new(identifier: &Identifier) -> Tally {
        Tally {
            actors: identifier.actors().to_vec(),
            threshold: identifier.threshold(),
            seen: BTreeMap::new(),
            pictures: BTreeMap::new(),
            strangers: Vec::new(),
            tracks: 0,
        }
    }

    pub fn add(&mut self, mut track: Piece) {
        self.tracks += 1;
        match track.evidence.actor() {
            Some(actor) => {
                let name = self.actors[actor].clone();
                let picture = track.evidence.picture.take();
                self.record(name, interval(&track), picture);
            }
            None => self.strangers.push(track),
        }
    }

    fn record(&mut self, name: String, interval: Interval, picture: Option<Picture>) {
        if let Some(picture) = picture {
            let kept = self.pictures.entry(name.clone()).or_default();
            kept.push(picture);
            kept.sort_by(|a, b| b.quality.total_cmp(&a.quality));
            kept.truncate(PICTURES_PER_IDENTITY);
        }
        self.seen.entry(name).or_default().push(interval);
    }

    /// `video_seconds` is the length the percentages are of.
    pub fn finish(mut self, video_seconds: f64) -> Summary {
        let mut strangers = std::mem::take(&mut self.strangers);
        strangers.sort_by_key(|track| track.first);
        let means: Vec<_> = strangers.iter().map(|t| t.evidence.mean()).collect();
        let groups = cluster_strangers(&means, self.threshold);
        for (mut track, group) in strangers.into_iter().zip(groups) {
            let picture = track.evidence.picture.take();
            self.record(format!("unknown_{}", group + 1), interval(&track), picture);
        }

        let mut screen_time = Vec::new();
        let mut segments = Vec::new();
        for (name, intervals) in self.seen {
            let merged = union(intervals);
            let seconds: f64 = merged.iter().map(|i| i.end - i.start).sum();
            screen_time.push(ScreenTime {
                name: name.clone(),
                frames: merged.iter().map(|i| i.last - i.first + 1).sum(),
                seconds,
                percent: if video_seconds > 0.0 {
                    100.0 * seconds / video_seconds
                } else {
                    0.0
                },
                first_seen: merged[0].start,
                last_seen: merged[merged.len() - 1].end,
            });
            segments.extend(merged.iter().map(|i| Segment {
                name: name.clone(),
                start: i.start,
                end: i.end,
                seconds: i.end - i.start,
            }));
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
            pictures: self.pictures,
            tracks: self.tracks,
        }
    }
}

fn interval(track: &Piece) -> Interval {
    Interval {
        first: track.first,
        last: track.last,
        start: track.start,
        end: track.end,
    }
}

/// Overlapping and touching intervals merged, in order; never empty for a non-empty input.
fn union(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_by_key(|i| i.first);
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for next in intervals {
        match merged.last_mut() {
            Some(last) if next.first <= last.last + 1 => {
                last.last = last.last.max(next.last);
                last.end = last.end.max(next.end);
            }
            _ => merged.push(next),
        }
    }
    merged
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn union_merges_overlapping_and_touching_frames_only() {
        let at = |first, last| Interval {
            first,
            last,
            start: first as f64,
            end: last as f64 + 1.0,
        };
        let merged = union(vec![at(10, 12), at(0, 4), at(3, 6), at(7, 8)]);
        let spans: Vec<(u64, u64)> = merged.iter().map(|i| (i.first, i.last)).collect();
        assert_eq!(spans, [(0, 8), (10, 12)]);
        assert_eq!(merged[0].end, 9.0);
    }
}
