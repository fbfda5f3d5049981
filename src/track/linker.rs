//! Joining clips' pieces into whole tracks, in video order, never across a shot cut.

use crate::face::embed::distance;
use crate::track::evidence::Piece;
use crate::track::tracker::Clip;
use crate::track::{FOLLOW_IOU, MAX_MISSES};

/// Joins clips' pieces into whole tracks. Clips must come in order.
pub struct Linker {
    threshold: f32,
    /// Pieces still followed at the end of the last clip.
    open: Vec<Piece>,
}

impl Linker {
    pub fn new(threshold: f32) -> Linker {
        Linker {
            threshold,
            open: Vec::new(),
        }
    }

    /// Takes the next clip's pieces; returns the tracks that are now complete.
    pub fn push(&mut self, clip: Clip) -> Vec<Piece> {
        let mut open: Vec<Option<Piece>> = std::mem::take(&mut self.open)
            .into_iter()
            .map(Some)
            .collect();
        let mut pieces = clip.pieces;
        let mut done = Vec::new();
        if !clip.after_cut {
            let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
            for (o, before) in open.iter().enumerate() {
                let before = before.as_ref().expect("all open pieces are present here");
                for (p, after) in pieces.iter().enumerate() {
                    if let Some(score) = self.continues(before, after) {
                        pairs.push((score, o, p));
                    }
                }
            }
            pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut continues: Vec<Option<Piece>> = vec![None; pieces.len()];
            for (_, o, p) in pairs {
                if continues[p].is_none() {
                    continues[p] = open[o].take();
                }
            }
            pieces = pieces
                .into_iter()
                .zip(continues)
                .map(|(after, before)| match before {
                    Some(before) => before.join(after),
                    None => after,
                })
                .collect();
        }
        done.extend(open.into_iter().flatten());
        for piece in pieces {
            if piece.open_end {
                self.open.push(piece);
            } else {
                done.push(piece);
            }
        }
        done
    }

    /// The tracks still open when the video ends.
    pub fn finish(self) -> Vec<Piece> {
        self.open
    }

    /// How well `after` continues `before` (higher is better), if it does at all: it starts
    /// within [`MAX_MISSES`] frames of its end, where it left off, with a face that matches.
    fn continues(&self, before: &Piece, after: &Piece) -> Option<f32> {
        let gap = after.first.checked_sub(before.last + 1)?;
        let iou = before.last_box.iou(&after.first_box);
        let same_face = match (before.evidence.last(), after.evidence.first()) {
            (Some(a), Some(b)) => distance(a, b) <= self.threshold,
            _ => true,
        };
        (gap <= MAX_MISSES && iou >= FOLLOW_IOU && same_face).then_some(iou)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::detect::BBox;
    use crate::track::evidence::Evidence;
    use crate::track::tracker::TrackStats;

    fn piece(first: u64, last: u64, x: f32, open_end: bool) -> Piece {
        let bbox = BBox {
            x1: x,
            y1: 0.0,
            x2: x + 50.0,
            y2: 50.0,
        };
        Piece {
            first,
            last,
            start: first as f64,
            end: last as f64 + 1.0,
            first_box: bbox,
            last_box: bbox,
            open_end,
            evidence: Evidence::default(),
        }
    }

    fn clip(number: u64, after_cut: bool, pieces: Vec<Piece>) -> Clip {
        Clip {
            number,
            after_cut,
            frames: 16,
            seconds: 16.0,
            pieces,
            stats: TrackStats::default(),
        }
    }

    #[test]
    fn pieces_join_across_clips_but_not_across_cuts() {
        let mut linker = Linker::new(0.6);
        // Two faces followed to the end of clip 0; one ended inside it.
        let done = linker.push(clip(
            0,
            false,
            vec![
                piece(0, 15, 0.0, true),
                piece(3, 15, 200.0, true),
                piece(0, 5, 400.0, false),
            ],
        ));
        assert_eq!(done.len(), 1);
        // Clip 1 continues the face at x=0 (after a 1-frame miss) but not the one at x=200.
        let done = linker.push(clip(
            1,
            false,
            vec![piece(17, 31, 2.0, true), piece(16, 20, 300.0, false)],
        ));
        let spans: Vec<(u64, u64)> = done.iter().map(|p| (p.first, p.last)).collect();
        assert_eq!(spans, [(3, 15), (16, 20)]);
        // After a cut nothing continues, even in the same place.
        let done = linker.push(clip(2, true, vec![piece(32, 40, 2.0, false)]));
        let spans: Vec<(u64, u64)> = done.iter().map(|p| (p.first, p.last)).collect();
        assert_eq!(spans, [(0, 31), (32, 40)]);
        assert!(linker.finish().is_empty());
    }
}
