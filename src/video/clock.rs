//! Which frames a video has, by time: every packet of the stream is one frame, those the
//! decoder skips included (see [`crate::video::decode::VideoReader::skip_non_reference_frames`]),
//! so the video frames between two times are counted without decoding them all.
//!
//! Times arrive in decode order; a short reorder buffer puts them in presentation order, and a
//! run of equal steps is kept as one run: a constant-frame-rate video takes one run whatever its
//! length, a variable-rate one a run per change of rate.

/// More than any decoder reorders (H.264 and HEVC allow 16 frames).
const REORDER: usize = 32;
/// Times this close are the same time (timestamps are whole ticks of at most microseconds).
const SAME: f64 = 1e-6;

#[derive(Debug, Default)]
pub struct FrameClock {
    /// Times not yet in `runs`, sorted.
    reorder: Vec<f64>,
    runs: Vec<Run>,
}

/// `count` frames at `first`, `first + step`, ...
#[derive(Debug, Clone, Copy)]
struct Run {
    first: f64,
    step: f64,
    count: u64,
}

impl FrameClock {
    /// A frame at `time` seconds.
    pub fn push(&mut self, time: f64) {
        if !time.is_finite() {
            return;
        }
        let at = self.reorder.partition_point(|&t| t < time);
        self.reorder.insert(at, time);
        if self.reorder.len() > REORDER {
            let earliest = self.reorder.remove(0);
            self.append(earliest);
        }
    }

    fn append(&mut self, time: f64) {
        match self.runs.last_mut() {
            Some(run) if run.count == 1 => {
                run.step = time - run.first;
                run.count = 2;
            }
            Some(run) if (run.first + run.count as f64 * run.step - time).abs() <= SAME => {
                run.count += 1;
            }
            _ => self.runs.push(Run {
                first: time,
                step: 0.0,
                count: 1,
            }),
        }
    }

    /// Every frame pushed is counted from now on.
    pub fn finish(&mut self) {
        for time in std::mem::take(&mut self.reorder) {
            self.append(time);
        }
    }

    /// How many frames start in `[start, end)` seconds.
    pub fn frames_between(&self, start: f64, end: f64) -> u64 {
        let (start, end) = (start - SAME, end - SAME);
        self.runs
            .iter()
            .map(|run| {
                if run.step <= SAME {
                    return if (start..end).contains(&run.first) {
                        run.count
                    } else {
                        0
                    };
                }
                // Frames i with start <= first + i * step < end.
                let index = |t: f64| {
                    ((t - run.first) / run.step)
                        .ceil()
                        .clamp(0.0, run.count as f64)
                };
                (index(end) - index(start)).max(0.0) as u64
            })
            .sum()
    }

    /// Frames in the video.
    pub fn frames(&self) -> u64 {
        self.runs.iter().map(|r| r.count).sum::<u64>() + self.reorder.len() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_frames_given_in_decode_order_at_any_rate() {
        let mut clock = FrameClock::default();
        // 25 fps, B-frames reordered as an encoder sends them: I P B B P B B ...
        let order = [0, 3, 1, 2, 6, 4, 5, 9, 7, 8];
        for i in order {
            clock.push(f64::from(i) / 25.0);
        }
        // Then every third frame dropped (variable rate), from 10 to 39.
        for i in (10..40).filter(|i| i % 3 != 2) {
            clock.push(f64::from(i) / 25.0);
        }
        clock.finish();
        assert_eq!(clock.frames(), 10 + 20);
        assert_eq!(clock.frames_between(0.0, 10.0 / 25.0), 10);
        assert_eq!(clock.frames_between(2.0 / 25.0, 5.0 / 25.0), 3);
        // 10, 12, 13, 15, 16, 18, 19 of 10..20 are left (11, 14, 17 dropped).
        assert_eq!(clock.frames_between(10.0 / 25.0, 20.0 / 25.0), 7);
        assert_eq!(clock.frames_between(1.0, 0.5), 0);
        assert_eq!(clock.frames_between(-1.0, 100.0), 30);
    }

    #[test]
    fn a_constant_rate_takes_one_run() {
        let mut clock = FrameClock::default();
        for i in 0..100_000 {
            clock.push(f64::from(i) * 1001.0 / 30000.0);
        }
        clock.finish();
        assert_eq!(clock.runs.len(), 1);
        assert_eq!(
            clock.frames_between(0.0, 1001.0 / 30000.0 * 50_000.0),
            50_000
        );
    }
}
