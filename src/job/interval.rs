//! Stretches of time on screen, and the arithmetic on them that screen time, `search --with`
//! and the co-appearance matrix share, so that all three agree to the frame. In: intervals in
//! seconds. Out: their union, and where several people's intervals meet. Pure: it imports
//! nothing from the rest of the crate.

/// Seconds `start..end` on screen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub start: f64,
    pub end: f64,
}

impl Interval {
    pub fn seconds(&self) -> f64 {
        self.end - self.start
    }
}

/// Intervals this close are one: their ends are frame times, read from the same timestamps.
pub const TOUCHING: f64 = 1e-6;

/// Overlapping and touching intervals merged, in order; never empty for a non-empty input.
pub fn union(mut intervals: Vec<Interval>) -> Vec<Interval> {
    intervals.sort_by(|a, b| a.start.total_cmp(&b.start));
    let mut merged: Vec<Interval> = Vec::with_capacity(intervals.len());
    for next in intervals {
        match merged.last_mut() {
            Some(last) if next.start <= last.end + TOUCHING => {
                last.end = last.end.max(next.end);
            }
            _ => merged.push(next),
        }
    }
    merged
}

/// The stretches in which every one of `people` (each one's appearances, in order and apart)
/// is on screen, or no more than `within` seconds away: the times at which each of them is on
/// screen within `within` seconds, each continuous run of such times reported from the first to
/// the last moment one of them is actually on screen in it, and only where every one of them
/// is. With `within` 0, exactly the times all of them are on screen at once.
///
/// For two people A (0-10 s) and B (12-20 s) within 5 seconds: A is on screen with B within 5 s
/// from 7 to 10, B with A from 12 to 15; the stretch is 7-15.
pub fn together(people: &[Vec<Interval>], within: f64) -> Vec<Interval> {
    let near = |appearances: &[Interval]| {
        union(
            (appearances.iter())
                .map(|a| Interval {
                    start: a.start - within,
                    end: a.end + within,
                })
                .collect(),
        )
    };
    let Some((first, others)) = people.split_first() else {
        return Vec::new();
    };
    let mut common = near(first);
    for other in others {
        common = intersect(&common, &near(other));
    }
    common
        .into_iter()
        .filter(|stretch| stretch.end - stretch.start > TOUCHING)
        .filter_map(|stretch| {
            let mut span: Option<Interval> = None;
            for appearances in people {
                let inside: Vec<Interval> = (appearances.iter())
                    .filter(|a| a.start <= stretch.end && stretch.start <= a.end)
                    .map(|a| Interval {
                        start: a.start.max(stretch.start),
                        end: a.end.min(stretch.end),
                    })
                    .collect();
                // Someone who is only near, never on screen, in this stretch.
                let (first, last) = (inside.first()?, inside.last()?);
                span = Some(match span {
                    None => Interval {
                        start: first.start,
                        end: last.end,
                    },
                    Some(span) => Interval {
                        start: span.start.min(first.start),
                        end: span.end.max(last.end),
                    },
                });
            }
            span
        })
        .collect()
}

/// Where two lists of ordered, disjoint intervals overlap (touching ones at a point).
fn intersect(a: &[Interval], b: &[Interval]) -> Vec<Interval> {
    let (mut i, mut j) = (0, 0);
    let mut both = Vec::new();
    while i < a.len() && j < b.len() {
        let start = a[i].start.max(b[j].start);
        let end = a[i].end.min(b[j].end);
        if start <= end {
            both.push(Interval { start, end });
        }
        if a[i].end < b[j].end {
            i += 1;
        } else {
            j += 1;
        }
    }
    both
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans(list: &[(f64, f64)]) -> Vec<Interval> {
        list.iter()
            .map(|&(start, end)| Interval { start, end })
            .collect()
    }

    #[test]
    fn union_merges_overlapping_and_touching_intervals_only() {
        let merged = union(spans(&[(1.0, 1.3), (0.0, 0.2), (0.1, 0.5), (0.5, 0.9)]));
        assert_eq!(merged, spans(&[(0.0, 0.9), (1.0, 1.3)]));
        assert_eq!(union(Vec::new()), []);
    }

    #[test]
    fn together_is_the_overlap_or_the_span_of_the_parts_within_the_window() {
        let a = spans(&[(0.0, 10.0), (30.0, 31.0)]);
        let b = spans(&[(4.0, 12.0), (12.5, 20.0), (34.0, 40.0)]);
        // At once: the overlap only; touching at a point is not together.
        assert_eq!(
            together(&[a.clone(), b.clone()], 0.0),
            spans(&[(4.0, 10.0)])
        );
        assert_eq!(
            together(&[spans(&[(0.0, 1.0)]), spans(&[(1.0, 2.0)])], 0.0),
            []
        );
        // Within 1 s: A is on screen with B near from 3 to 10, B with A near from 4 to 11;
        // 30-31 and 34-40 are 3 s apart, too far.
        assert_eq!(
            together(&[a.clone(), b.clone()], 1.0),
            spans(&[(3.0, 11.0)])
        );
        // Within 3 s: 1 to 13 (B's 12.5-20 is within 3 s of A until 13), and 31 to 34, where
        // each is on screen only at the moment the other is just 3 s away.
        assert_eq!(
            together(&[a.clone(), b.clone()], 3.0),
            spans(&[(1.0, 13.0), (31.0, 34.0)])
        );
        // Three people: only where all are.
        let c = spans(&[(5.0, 6.0), (8.0, 35.0)]);
        assert_eq!(together(&[a, b, c], 0.0), spans(&[(5.0, 6.0), (8.0, 10.0)]));
        // Nobody, or someone never on screen: never together.
        assert_eq!(together(&[], 0.0), []);
        assert_eq!(together(&[spans(&[(0.0, 1.0)]), Vec::new()], 0.0), []);
    }

    #[test]
    fn intersect_keeps_what_both_lists_cover() {
        let a = spans(&[(0.0, 2.0), (3.0, 5.0)]);
        let b = spans(&[(1.0, 4.0), (4.5, 6.0)]);
        assert_eq!(
            intersect(&a, &b),
            spans(&[(1.0, 2.0), (3.0, 4.0), (4.5, 5.0)])
        );
    }
}
