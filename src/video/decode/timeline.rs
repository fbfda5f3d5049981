//! A stream's timestamps as seconds that only go forward. In: each decoded frame's timestamp and
//! packet duration, in the stream's ticks, in the order the decoder gives the frames out (and
//! each packet's timestamp, for the clock). Out: the frame's time in seconds from the stream's
//! start, and the duration it takes where no later frame measures it ([`FrameTime`]).
//!
//! Files joined with `cat` (MPEG-TS recordings, say) start their timestamps again from their
//! own beginning, and a format that allows jumps (MPEG-TS) may leap ahead. A frame whose time
//! goes back, or in such a format leaps more than [`MAX_TIMESTAMP_GAP`] ahead, continues from
//! the end of the frame before, and so does every frame after it, so that the second half is
//! neither skipped by a stride nor counted over the first. A frame without a timestamp also
//! continues from the end of the frame before.

/// The longest gap between two frames taken as real in a format whose timestamps may jump
/// (FFmpeg's `ffmpeg` tool takes the same 10 s for such formats); more is a discontinuity.
pub const MAX_TIMESTAMP_GAP: f64 = 10.0;

/// Timing of a decoded frame, before its successor is known.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FrameTime {
    /// Seconds from the stream's start.
    pub time: f64,
    /// Its duration when there is no later frame to measure it by.
    pub fallback_duration: f64,
}

/// The times of one stream's frames so far.
#[derive(Debug, Clone)]
pub struct Timeline {
    /// Seconds per timestamp tick of the stream.
    time_base: f64,
    /// The stream's start, in ticks, subtracted from every timestamp.
    start: i64,
    /// Seconds per frame at the average frame rate, or 0 when unknown.
    nominal_duration: f64,
    /// The format allows timestamps to jump (MPEG-TS).
    may_jump: bool,
    /// End of the last frame, for a frame that has no timestamp at all.
    previous_end: f64,
    /// Time of the last frame: a frame's time is never less.
    previous_time: Option<f64>,
    /// Seconds added to the stream's timestamps since its discontinuities.
    offset: f64,
}

impl Timeline {
    pub fn new(time_base: f64, start: i64, nominal_duration: f64, may_jump: bool) -> Timeline {
        Timeline {
            time_base,
            start,
            nominal_duration,
            may_jump,
            previous_end: 0.0,
            previous_time: None,
            offset: 0.0,
        }
    }

    /// The next frame's time: `timestamp` is its best-effort timestamp (else its pts) and
    /// `duration` its packet's duration (0 or less: unknown), both in ticks.
    pub fn frame(&mut self, timestamp: Option<i64>, duration: i64) -> FrameTime {
        let fallback_duration = if duration > 0 {
            duration as f64 * self.time_base
        } else {
            self.nominal_duration
        };
        let time = match timestamp {
            Some(ts) => {
                let time = self.seconds(ts);
                let jumped = self.previous_time.is_some_and(|previous| {
                    time < previous
                        || (self.may_jump && time > self.previous_end + MAX_TIMESTAMP_GAP)
                });
                if jumped {
                    self.offset += self.previous_end - time;
                    self.previous_end
                } else {
                    time
                }
            }
            None => self.previous_end,
        };
        self.previous_time = Some(time);
        self.previous_end = time + fallback_duration;
        FrameTime {
            time,
            fallback_duration,
        }
    }

    /// A timestamp in seconds from the stream's start, moved as the frames so far were.
    pub fn seconds(&self, ticks: i64) -> f64 {
        ticks.saturating_sub(self.start) as f64 * self.time_base + self.offset
    }

    /// Whether the frames' times were moved to keep time going forward.
    pub fn moved(&self) -> bool {
        self.offset != 0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Milliseconds, as in Matroska; 40 ms frames (25 fps).
    fn timeline(may_jump: bool) -> Timeline {
        Timeline::new(0.001, 0, 0.04, may_jump)
    }

    /// The times of frames with these timestamps (ms), each 40 ms long.
    fn times(timeline: &mut Timeline, timestamps: &[Option<i64>]) -> Vec<f64> {
        (timestamps.iter())
            .map(|ts| timeline.frame(*ts, 40).time)
            .collect()
    }

    fn assert_close(actual: &[f64], expected: &[f64]) {
        assert_eq!(actual.len(), expected.len(), "{actual:?}");
        for (a, e) in actual.iter().zip(expected) {
            assert!((a - e).abs() < 1e-9, "{actual:?} is not {expected:?}");
        }
    }

    #[test]
    fn times_count_from_the_stream_start() {
        // MPEG-TS: 90 kHz ticks, a stream starting at 1.4 s.
        let mut timeline = Timeline::new(1.0 / 90_000.0, 126_000, 0.04, true);
        let ticks = [126_000, 129_600, 133_200].map(Some);
        assert_close(&times(&mut timeline, &ticks), &[0.0, 0.04, 0.08]);
        assert!(!timeline.moved());
        assert_close(&[timeline.seconds(135_000)], &[0.1]);
    }

    #[test]
    fn joined_recordings_continue_from_the_end_of_the_frame_before() {
        let mut timeline = timeline(true);
        let ticks = [0, 40, 80, 0, 40, 80].map(Some);
        let expected = [0.0, 0.04, 0.08, 0.12, 0.16, 0.2];
        assert_close(&times(&mut timeline, &ticks), &expected);
        assert!(timeline.moved());
        // Packets of the second recording land on the frames' moved timeline.
        assert_close(&[timeline.seconds(120)], &[0.24]);
    }

    #[test]
    fn a_frame_that_goes_back_moves_every_frame_after_it() {
        let mut timeline = timeline(false);
        let ticks = [0, 80, 40, 120].map(Some);
        assert_close(&times(&mut timeline, &ticks), &[0.0, 0.08, 0.12, 0.2]);
    }

    #[test]
    fn a_leap_ahead_is_closed_only_where_the_format_allows_jumps() {
        let ticks = [0, 40, 80, 60_000, 60_040].map(Some);
        let mut ts = timeline(true);
        assert_close(&times(&mut ts, &ticks), &[0.0, 0.04, 0.08, 0.12, 0.16]);
        // MP4 has no jumps: a long gap there is a real pause between frames.
        let mut mp4 = timeline(false);
        assert_close(&times(&mut mp4, &ticks), &[0.0, 0.04, 0.08, 60.0, 60.04]);
        assert!(!mp4.moved());
        // A gap up to MAX_TIMESTAMP_GAP is real in either.
        let mut short = timeline(true);
        let ticks = [0, 40, 10_080].map(Some);
        assert_close(&times(&mut short, &ticks), &[0.0, 0.04, 10.08]);
    }

    #[test]
    fn a_frame_without_a_timestamp_follows_the_frame_before() {
        let mut timeline = timeline(false);
        let ticks = [Some(0), None, Some(80)];
        assert_close(&times(&mut timeline, &ticks), &[0.0, 0.04, 0.08]);
    }

    #[test]
    fn a_frame_lasts_its_packet_duration_else_the_average_frame_interval() {
        let mut timeline = timeline(false);
        assert_eq!(timeline.frame(Some(0), 20).fallback_duration, 20.0 * 0.001);
        assert_eq!(timeline.frame(Some(20), 0).fallback_duration, 0.04);
        // The next frame without a timestamp starts where that guess ends.
        assert_close(&[timeline.frame(None, 0).time], &[0.06]);
    }
}
