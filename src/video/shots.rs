//! Shot cuts: where one shot ends and the next begins.
//!
//! In: every decoded frame's [`Thumbnail`], in order, with how many frame intervals lie since
//! the one before (more than one where the decoder skipped frames). Out: whether the frame
//! starts a new shot.
//!
//! A cut changes the picture at once; motion inside a shot changes it a little each frame.
//! The change between two frames is the mean absolute difference of their thumbnails (0: the
//! same, 1: black against white). A frame is a cut when that change is large, or when it is
//! moderate but many times the shot's recent changes: two talking heads on the same studio
//! background differ little in absolute terms, but against a still shot the jump stands out.
//!
//! The thresholds were measured on consecutive frames of the real clips and montages scored by
//! `scripts/eval` (see docs/accuracy.md): within shots the change stayed at most
//! 0.066 (a TV scene with camera moves and people walking) and cuts changed at least 0.104
//! there; between two studio speakers on the same background a cut changed as little as 0.047,
//! 30 or more times the mean of the 10 changes before it, while no frame within a shot reached
//! 6 times that mean. Motion adds up over frames the decoder skipped, a cut does not: over
//! gaps of 2-3 frames the TV scene's changes within shots reached 0.113, so the large-change
//! threshold grows by `CUT_PER_SKIPPED` per frame skipped (0 misses and 1 false cut there,
//! against 13 false cuts without). A cut missed here is still caught by the tracker, when a
//! track's next embedding no longer matches it; a false cut only splits a track in two.

use std::collections::VecDeque;

use crate::video::decode::Thumbnail;

/// A change at least this large between consecutive frames is a cut whatever came before...
const CUT: f32 = 0.085;
/// ...plus this much for each frame skipped in between.
const CUT_PER_SKIPPED: f32 = 0.015;
/// A change at least this large is a cut when it is [`JUMP`] times the recent mean...
const SMALL_CUT: f32 = 0.03;
const JUMP: f32 = 8.0;
/// ...of this many changes before it (and at least [`MIN_HISTORY`] of them).
const HISTORY: usize = 10;
const MIN_HISTORY: usize = 3;

#[derive(Default)]
pub struct CutDetector {
    previous: Option<Thumbnail>,
    recent: VecDeque<f32>,
}

impl CutDetector {
    /// Whether the frame with this thumbnail starts a new shot; the first frame does not.
    /// `intervals`: frame intervals since the frame before (1 when none was skipped).
    pub fn is_cut(&mut self, thumbnail: &Thumbnail, intervals: f64) -> bool {
        let Some(previous) = self.previous.replace(thumbnail.clone()) else {
            return false;
        };
        let change = change(&previous, thumbnail);
        let skipped = (intervals.round() as f32 - 1.0).max(0.0);
        let cut = change >= CUT + CUT_PER_SKIPPED * skipped
            || (change >= SMALL_CUT
                && self.recent.len() >= MIN_HISTORY
                && change >= JUMP * self.recent.iter().sum::<f32>() / self.recent.len() as f32);
        if cut {
            // The new shot's motion is measured from scratch.
            self.recent.clear();
        } else {
            if self.recent.len() == HISTORY {
                self.recent.pop_front();
            }
            self.recent.push_back(change);
        }
        cut
    }
}

/// Mean absolute difference of two thumbnails, from 0 to 1.
fn change(a: &Thumbnail, b: &Thumbnail) -> f32 {
    let total: u64 =
        a.0.iter()
            .zip(&b.0)
            .map(|(x, y)| x.abs_diff(*y) as u64)
            .sum();
    total as f32 / (255.0 * a.0.len().max(1) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flat(level: u8) -> Thumbnail {
        Thumbnail(vec![level; 64 * 36])
    }

    #[test]
    fn large_changes_cut_and_small_jumps_cut_only_after_a_still_shot() {
        let mut cuts = CutDetector::default();
        let mut cut = |level, intervals| cuts.is_cut(&flat(level), intervals);
        assert!(!cut(100, 1.0));
        assert!(!cut(101, 1.0));
        assert!(cut(125, 1.0), "a change of 0.094");
        assert!(!cut(150, 3.0), "the same over 3 frames: fast motion");
        // A still shot, then a change of 0.04: many times the shot's recent changes.
        for _ in 0..10 {
            assert!(!cut(150, 1.0));
        }
        assert!(cut(160, 1.0));
        // In a moving shot (changes of 0.02 each frame) the same 0.04 is motion.
        for level in [165, 170, 175, 180] {
            assert!(!cut(level, 1.0));
        }
        assert!(!cut(190, 1.0));
    }
}
