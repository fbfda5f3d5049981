//! `appearances.vtt`: who is on screen at each moment, as WebVTT cues that a browser's
//! `<track>` or a desktop player shows over the video. In: one title's appearances. Out: the
//! file's text, one cue for each stretch in which the same people are on screen, naming them
//! one per line.
//!
//! No chapters: appearances overlap (two people on screen at once), and chapters cannot, and a
//! chapter per shot would need the shot cuts, which the results do not keep.

use std::collections::BTreeMap;

use crate::error::escape_controls;
use crate::job::result::Segment;

/// The WebVTT text of `segments`. Times are in milliseconds, rounded as `segments.csv` rounds
/// them, so the cues start and end where its rows do. A result of part of the video says so in
/// a note: `incomplete` is how much of it was read.
pub fn text(segments: &[Segment], incomplete: Option<&str>) -> String {
    let mut vtt = String::from("WEBVTT\n\n");
    if let Some(coverage) = incomplete {
        vtt.push_str(&format!(
            "NOTE Incomplete result: {}; nobody is counted after that\n\n",
            cue_text(coverage)
        ));
    }
    for (start, end, names) in cues(segments) {
        let lines: Vec<String> = names.iter().map(|name| cue_text(name)).collect();
        vtt.push_str(&format!(
            "{} --> {}\n{}\n\n",
            timestamp(start),
            timestamp(end),
            lines.join("\n")
        ));
    }
    vtt
}

/// (start, end, names) in milliseconds: each stretch in which the same people (by name) are on
/// screen, nobody-on-screen stretches left out.
fn cues(segments: &[Segment]) -> Vec<(u64, u64, Vec<&str>)> {
    // +1 where an appearance starts, -1 where it ends; ends before starts at the same time.
    let mut changes: Vec<(u64, i32, &str)> = Vec::with_capacity(2 * segments.len());
    for s in segments {
        let (start, end) = (millis(s.start), millis(s.end));
        if end > start {
            changes.push((start, 1, &s.name));
            changes.push((end, -1, &s.name));
        }
    }
    changes.sort();
    let mut on: BTreeMap<&str, i32> = BTreeMap::new();
    let mut cues: Vec<(u64, u64, Vec<&str>)> = Vec::new();
    let mut since = 0;
    let mut at = 0;
    while at < changes.len() {
        let time = changes[at].0;
        let names: Vec<&str> = on.keys().copied().collect();
        if !names.is_empty() && time > since {
            match cues.last_mut() {
                Some(last) if last.1 == since && last.2 == names => last.1 = time,
                _ => cues.push((since, time, names)),
            }
        }
        while at < changes.len() && changes[at].0 == time {
            let (_, change, name) = changes[at];
            let count = on.entry(name).or_default();
            *count += change;
            if *count == 0 {
                on.remove(name);
            }
            at += 1;
        }
        since = time;
    }
    cues
}

/// `seconds` in whole milliseconds, as `{:.3}` prints it.
fn millis(seconds: f64) -> u64 {
    let printed = format!("{:.3}", seconds.max(0.0));
    printed.replace('.', "").parse().unwrap_or(0)
}

/// `hh:mm:ss.ttt`.
fn timestamp(millis: u64) -> String {
    let (hours, minutes) = (millis / 3_600_000, millis / 60_000 % 60);
    format!(
        "{hours:02}:{minutes:02}:{:02}.{:03}",
        millis / 1000 % 60,
        millis % 1000
    )
}

/// `text` as one line of cue text: control characters (a line break would end the cue) as
/// escapes, and `&`, `<`, `>` as character references, so no name reads as markup or as the
/// `-->` of a timing line.
fn cue_text(text: &str) -> String {
    escape_controls(text)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_cue_per_stretch_with_the_same_people() {
        let segments = [
            Segment::new("A", 0.0, 2.5),
            Segment::new("B", 1.0, 3.5),
            Segment::new("A", 2.5, 3.0),
            Segment::new("B", 4.0, 4.6),
        ];
        let vtt = text(&segments, None);
        assert_eq!(
            vtt,
            "WEBVTT\n\n\
             00:00:00.000 --> 00:00:01.000\nA\n\n\
             00:00:01.000 --> 00:00:03.000\nA\nB\n\n\
             00:00:03.000 --> 00:00:03.500\nB\n\n\
             00:00:04.000 --> 00:00:04.600\nB\n\n"
        );
    }

    #[test]
    fn names_cannot_break_a_cue_and_a_partial_result_says_so() {
        let vtt = text(
            &[Segment::new("a-->b\n\n00:00 <i>&", 3661.0, 3661.25)],
            Some("read 1.00 s of 2.00 s (50.0%)"),
        );
        assert_eq!(
            vtt,
            "WEBVTT\n\nNOTE Incomplete result: read 1.00 s of 2.00 s (50.0%); nobody is counted \
             after that\n\n\
             01:01:01.000 --> 01:01:01.250\na--&gt;b\\n\\n00:00 &lt;i&gt;&amp;\n\n"
        );
    }
}
