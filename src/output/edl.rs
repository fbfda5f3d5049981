//! `appearances.edl`: a CMX 3600 edit decision list with one event per appearance, named after
//! the identity, for an editor to import as markers or subclips. In: one title's appearances,
//! its frame rate and the start timecode its file carries. Out: the file's text.
//!
//! Times are the video's own timecode: the start timecode of the file (00:00:00:00 where it has
//! none) plus the appearance's time, which comes from the stream's timestamps, counted in frames
//! of the nominal rate. 29.97 and 59.94 fps count in drop-frame timecode (`;` before the
//! frames), as the rate says; 23.976 has no drop-frame form.

use crate::error::escape_controls;
use crate::job::result::Segment;

/// How a video's timecode counts.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timecode {
    /// Frames a timecode second holds: 30 for 29.97 fps.
    nominal: u64,
    /// Frames in a second of the video: 30000/1001 for 29.97 fps.
    rate: f64,
    /// Drop-frame: frame numbers 0 and 1 (0-3 at 60) of each minute not divisible by ten are
    /// skipped, so that the timecode keeps up with the clock at 29.97 (59.94) fps.
    drop: bool,
}

/// Where no frame rate is known: the PAL rate, said in the file.
const FALLBACK_RATE: u64 = 25;

impl Timecode {
    /// The timecode of a video at `frame_rate` (the stream's average: a variable-rate video
    /// counts at its nearest whole rate); none where the rate is unknown.
    pub fn of(frame_rate: Option<f64>) -> Option<Timecode> {
        let fps = frame_rate.filter(|r| r.is_finite() && *r > 0.0)?;
        let ntsc = (fps * 1.001).round();
        if (fps * 1.001 - ntsc).abs() < 0.005 && [24.0, 30.0, 48.0, 60.0, 120.0].contains(&ntsc) {
            let nominal = ntsc as u64;
            return Some(Timecode {
                nominal,
                rate: ntsc / 1.001,
                drop: nominal == 30 || nominal == 60,
            });
        }
        let nominal = (fps.round() as u64).max(1);
        Some(Timecode {
            nominal,
            rate: nominal as f64,
            drop: false,
        })
    }

    /// The frame at `seconds` from the start: the nearest frame boundary.
    fn frame_at(&self, seconds: f64) -> u64 {
        (seconds.max(0.0) * self.rate).round() as u64
    }

    /// Frames skipped at the start of each minute but every tenth.
    fn dropped(&self) -> u64 {
        if self.drop { self.nominal / 15 } else { 0 }
    }

    /// `frame` (counted from 00:00:00:00) as `hh:mm:ss:ff`, or `hh:mm:ss;ff` in drop-frame;
    /// hours wrap at 24 as a timecode's do.
    fn format(&self, frame: u64) -> String {
        let n = self.nominal;
        let drop = self.dropped();
        let mut label = frame;
        if drop > 0 {
            let per_ten_minutes = n * 600 - 9 * drop;
            let per_minute = n * 60 - drop;
            let (tens, rest) = (frame / per_ten_minutes, frame % per_ten_minutes);
            label += 9 * drop * tens;
            if rest > drop {
                label += drop * ((rest - drop) / per_minute);
            }
        }
        let separator = if self.drop { ';' } else { ':' };
        format!(
            "{:02}:{:02}:{:02}{separator}{:02}",
            label / (n * 3600) % 24,
            label / (n * 60) % 60,
            label / n % 60,
            label % n
        )
    }

    /// The frame (from 00:00:00:00) that `text` (`hh:mm:ss:ff`, any of `:;.,` before the
    /// frames) names at this rate; none for anything else.
    fn parse(&self, text: &str) -> Option<u64> {
        let parts: Vec<u64> = text
            .trim()
            .split([':', ';', '.', ','])
            .map(|p| p.parse().ok())
            .collect::<Option<_>>()?;
        let &[hours, minutes, seconds, frames] = parts.as_slice() else {
            return None;
        };
        let skipped = seconds == 0 && minutes % 10 != 0 && frames < self.dropped();
        if minutes > 59 || seconds > 59 || frames >= self.nominal || skipped {
            return None;
        }
        let n = self.nominal;
        let all_minutes = 60 * hours + minutes;
        Some(
            (all_minutes * 60 + seconds) * n + frames
                - self.dropped() * (all_minutes - all_minutes / 10),
        )
    }
}

/// The EDL of `segments` of the video `title`. `frame_rate` is the video's; `start` the start
/// timecode its file carries, if any. A result of part of the video says so in a comment:
/// `incomplete` is how much of it was read.
pub fn text(
    title: &str,
    segments: &[Segment],
    frame_rate: Option<f64>,
    start: Option<&str>,
    incomplete: Option<&str>,
) -> String {
    let mut notes = Vec::new();
    let timecode = Timecode::of(frame_rate).unwrap_or_else(|| {
        notes.push(format!(
            "NO FRAME RATE KNOWN: TIMECODE COUNTS {FALLBACK_RATE} FRAMES A SECOND"
        ));
        Timecode::of(Some(FALLBACK_RATE as f64)).expect("a positive rate")
    });
    let first = match start {
        Some(text) => timecode.parse(text).unwrap_or_else(|| {
            notes.push(format!(
                "START TIMECODE {} UNREADABLE AT THIS RATE: COUNTED FROM 00:00:00:00",
                comment(text)
            ));
            0
        }),
        None => 0,
    };
    if let Some(coverage) = incomplete {
        notes.push(format!(
            "INCOMPLETE RESULT: {}; NOBODY IS COUNTED AFTER THAT",
            comment(coverage)
        ));
    }
    let mut edl = format!(
        "TITLE: {}\nFCM: {}\n",
        comment(title),
        if timecode.drop {
            "DROP FRAME"
        } else {
            "NON-DROP FRAME"
        }
    );
    for note in notes {
        edl.push_str(&format!("* {note}\n"));
    }
    for (number, segment) in segments.iter().enumerate() {
        let start = timecode.format(first + timecode.frame_at(segment.start));
        let end = timecode.format(first + timecode.frame_at(segment.end));
        let name = comment(&segment.name);
        // The source and record sides are both the video's own time: a marker, not an edit.
        edl.push_str(&format!(
            "\n{:03}  {:<8} {:<4}  {:<4} {:>3} {start} {end} {start} {end}\n\
             * FROM CLIP NAME: {name}\n\
             * SOURCE FILE: {}\n\
             * LOC: {start} YELLOW  {name}\n",
            number + 1,
            "AX",
            "V",
            "C",
            "",
            comment(title),
        ));
    }
    edl
}

/// `text` as the rest of one EDL line: control characters (a line break would start a line an
/// importer reads as an event) as escapes.
fn comment(text: &str) -> String {
    escape_controls(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ntsc() -> Timecode {
        Timecode::of(Some(30000.0 / 1001.0)).unwrap()
    }

    #[test]
    fn the_rate_decides_the_count() {
        assert_eq!(ntsc().nominal, 30);
        assert!(ntsc().drop);
        let film = Timecode::of(Some(24000.0 / 1001.0)).unwrap();
        assert_eq!((film.nominal, film.drop), (24, false));
        let pal = Timecode::of(Some(25.0)).unwrap();
        assert_eq!((pal.nominal, pal.rate, pal.drop), (25, 25.0, false));
        let phone = Timecode::of(Some(29.6)).unwrap();
        assert_eq!((phone.nominal, phone.drop), (30, false));
        assert!(Timecode::of(Some(59.94)).unwrap().drop);
        assert_eq!(Timecode::of(None), None);
    }

    #[test]
    fn drop_frame_skips_two_labels_a_minute_but_every_tenth() {
        let tc = ntsc();
        assert_eq!(tc.format(0), "00:00:00;00");
        assert_eq!(tc.format(1799), "00:00:59;29");
        assert_eq!(tc.format(1800), "00:01:00;02");
        assert_eq!(tc.format(17982), "00:10:00;00");
        assert_eq!(tc.format(107892), "01:00:00;00");
        for frame in [0, 1, 1799, 1800, 3597, 3598, 17981, 17982, 107892, 123456] {
            assert_eq!(tc.parse(&tc.format(frame)), Some(frame), "{frame}");
        }
        // An hour of 29.97 fps video is 3600 s * 30000/1001 frames, and reads as an hour.
        assert_eq!(tc.format(tc.frame_at(3600.0)), "01:00:00;00");
        assert_eq!(tc.parse("00:01:00;00"), None);
        assert_eq!(tc.parse("00:00:00:30"), None);
        let pal = Timecode::of(Some(25.0)).unwrap();
        assert_eq!(pal.format(pal.frame_at(3661.04)), "01:01:01:01");
        assert_eq!(pal.parse("10:00:00:00"), Some(900_000));
    }

    #[test]
    fn events_sit_at_the_files_timecode_with_names_kept_on_their_line() {
        let segment = Segment::new;
        let edl = text(
            "clip\n.mp4",
            &[segment("A\n002  X", 0.0, 2.0), segment("B", 1.0, 1.5)],
            Some(25.0),
            Some("01:00:00:00"),
            Some("read 1.50 s of 3.00 s (50.0%)"),
        );
        let expected = "TITLE: clip\\n.mp4\nFCM: NON-DROP FRAME\n\
            * INCOMPLETE RESULT: read 1.50 s of 3.00 s (50.0%); NOBODY IS COUNTED AFTER THAT\n\n\
            001  AX       V     C        01:00:00:00 01:00:02:00 01:00:00:00 01:00:02:00\n\
            * FROM CLIP NAME: A\\n002  X\n* SOURCE FILE: clip\\n.mp4\n\
            * LOC: 01:00:00:00 YELLOW  A\\n002  X\n\n\
            002  AX       V     C        01:00:01:00 01:00:01:13 01:00:01:00 01:00:01:13\n\
            * FROM CLIP NAME: B\n* SOURCE FILE: clip\\n.mp4\n* LOC: 01:00:01:00 YELLOW  B\n";
        assert_eq!(edl, expected);
    }
}
