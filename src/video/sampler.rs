//! Which frames a job analyses: every Nth ([`Stride`]), picked by timestamp ([`Sampler`]).

/// Which frames a job analyses: every Nth, or [`Stride::Auto`]'s choice from the frame rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stride {
    Auto,
    Frames(u64),
}

impl Stride {
    /// Frames analysed per second of video under [`Stride::Auto`]: few enough that a 1080p run
    /// keeps up with half of FFmpeg's decode-only speed on two cores, and with face tracks
    /// enough to follow faces from one to the next (the frames between place the edges).
    pub const AUTO_PER_SECOND: f64 = 5.0;

    /// N: every Nth frame, for a video with this frame rate (25 when unknown).
    pub fn frames(self, frame_rate: Option<f64>) -> u64 {
        match self {
            Stride::Frames(n) => n.max(1),
            Stride::Auto => (nominal_fps(frame_rate) / Self::AUTO_PER_SECOND)
                .round()
                .max(1.0) as u64,
        }
    }
}

/// The stream's frame rate, or 25 where it gives none.
pub fn nominal_fps(frame_rate: Option<f64>) -> f64 {
    frame_rate
        .filter(|r| r.is_finite() && *r > 0.0)
        .unwrap_or(25.0)
}

impl std::fmt::Display for Stride {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stride::Auto => f.write_str("auto"),
            Stride::Frames(n) => write!(f, "{n}"),
        }
    }
}

impl std::str::FromStr for Stride {
    type Err = String;

    fn from_str(text: &str) -> std::result::Result<Stride, String> {
        match text {
            "auto" => Ok(Stride::Auto),
            n => match n.parse::<u64>() {
                Ok(n) if n >= 1 => Ok(Stride::Frames(n)),
                _ => Err(format!("expected auto or a whole number from 1, not {n:?}")),
            },
        }
    }
}

/// Picks frames on a grid of one every `stride` frame intervals from the first frame, by timestamp:
/// a frame the decoder skipped (see
/// [`crate::video::decode::VideoReader::skip_non_reference_frames`]) is replaced by the next one,
/// and the grid does not drift.
pub struct Sampler {
    stride: u64,
    step: f64,
    /// Half a frame interval: how early a frame may come and still take its grid point.
    early: f64,
    due: Option<f64>,
}

impl Sampler {
    pub fn new(stride: u64, frame_rate: Option<f64>) -> Sampler {
        let interval = 1.0 / nominal_fps(frame_rate);
        Sampler {
            stride,
            step: stride as f64 * interval,
            early: interval / 2.0,
            due: None,
        }
    }

    pub fn take(&mut self, time: f64) -> bool {
        // Stride 1 is every frame, however irregular the timestamps.
        if self.stride == 1 {
            return true;
        }
        let due = *self.due.get_or_insert(time);
        if time < due - self.early {
            return false;
        }
        let mut next = due + self.step;
        while next <= time + self.early {
            next += self.step;
        }
        self.due = Some(next);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taken(sampler: &mut Sampler, frames: impl IntoIterator<Item = u32>) -> Vec<u32> {
        frames
            .into_iter()
            .filter(|&i| sampler.take(f64::from(i) / 25.0))
            .collect()
    }

    #[test]
    fn sampler_keeps_its_grid_when_frames_are_missing() {
        assert_eq!(
            taken(&mut Sampler::new(5, Some(25.0)), 0..21),
            [0, 5, 10, 15, 20]
        );
        // Frames 5 and 11-14 never came (skipped by the decoder): the next one stands in, and
        // the grid stays on multiples of 5.
        let frames = (0..31).filter(|i| *i != 5 && !(11..15).contains(i));
        assert_eq!(
            taken(&mut Sampler::new(5, Some(25.0)), frames),
            [0, 6, 10, 15, 20, 25, 30]
        );
        // Stride 1 takes every frame, however irregular.
        assert_eq!(
            taken(&mut Sampler::new(1, Some(25.0)), [0, 1, 3, 4]),
            [0, 1, 3, 4]
        );
    }

    #[test]
    fn auto_stride_follows_the_frame_rate() {
        assert_eq!(Stride::Auto.frames(Some(25.0)), 5);
        assert_eq!(Stride::Auto.frames(Some(60.0)), 12);
        assert_eq!(Stride::Auto.frames(Some(2.0)), 1);
        assert_eq!(Stride::Auto.frames(None), 5);
        assert_eq!(Stride::Frames(3).frames(Some(60.0)), 3);
        assert_eq!("auto".parse(), Ok(Stride::Auto));
        assert_eq!("7".parse(), Ok(Stride::Frames(7)));
        assert!("0".parse::<Stride>().is_err());
    }
}
