//! Grouping faces into people without knowing them: the two ways screentime does it (photos by
//! [`single_linkage`], a video's tracks by [`average_linkage`]).

use crate::face::embed::distance;

/// Single linkage: items `i` and `j` for which `linked(i, j)` holds are in one group, and so is
/// every chain of such links. Returns each item's group as the group's smallest item, so groups
/// come out in first-appearance order.
pub fn single_linkage(n: usize, linked: impl Fn(usize, usize) -> bool) -> Vec<usize> {
    // Union-find; each root is its set's smallest index.
    let mut parent: Vec<usize> = (0..n).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    for i in 0..n {
        for j in i + 1..n {
            if linked(i, j) {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    (0..n).map(|i| root(&mut parent, i)).collect()
}

/// Groups tracks into people by average linkage: two groups merge while the mean distance
/// between their members is within `threshold`, closest pair of groups first, so one track
/// that happens to lie between two people cannot chain them into one (single linkage would).
/// Pairs for which `apart(i, j)` holds (on screen at the same time, or named confidently after
/// two different actors) never share a group. Items should come in order of first appearance:
/// groups are numbered 0, 1, ... by their first item.
///
/// The mean distance between every two groups is kept in one triangular matrix (n(n-1)/2
/// numbers: 18 MB for 3,000 tracks) and updated on each merge by Lance-Williams (the merged
/// group's mean to another is the size-weighted mean of its parts'), so a merge costs O(n), and
/// the candidate pairs within the threshold wait in a heap, dropped when popped if either group
/// has changed since: O(n^2 log n) in all, never a rescan of every pair per merge. A pair kept
/// apart is infinitely far, and stays so through every merge: a group holding either of its
/// tracks never joins one holding the other.
pub fn average_linkage(
    descriptors: &[&[f32]],
    threshold: f32,
    apart: impl Fn(usize, usize) -> bool,
) -> Vec<usize> {
    let n = descriptors.len();
    let at = |i: usize, j: usize| {
        let (i, j) = (i.max(j), i.min(j));
        i * (i - 1) / 2 + j
    };
    let mut mean = Vec::with_capacity(n * n.saturating_sub(1) / 2);
    for i in 1..n {
        for j in 0..i {
            mean.push(if apart(i, j) {
                f32::INFINITY
            } else {
                distance(descriptors[i], descriptors[j])
            });
        }
    }
    // A candidate: (mean distance, the two groups, each group's version when pushed).
    #[derive(PartialEq)]
    struct Candidate(f32, usize, usize, u32, u32);
    impl Eq for Candidate {}
    impl PartialOrd for Candidate {
        fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
            Some(self.cmp(other))
        }
    }
    impl Ord for Candidate {
        // Reversed: the heap pops the closest pair, ties to the earliest groups.
        fn cmp(&self, other: &Self) -> std::cmp::Ordering {
            (other.0.total_cmp(&self.0)).then_with(|| (other.1, other.2).cmp(&(self.1, self.2)))
        }
    }
    let mut version = vec![0u32; n];
    let mut members: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
    let mut heap = std::collections::BinaryHeap::new();
    for i in 1..n {
        for j in 0..i {
            let d = mean[at(i, j)];
            if d <= threshold {
                heap.push(Candidate(d, j, i, 0, 0));
            }
        }
    }
    while let Some(Candidate(_, a, b, va, vb)) = heap.pop() {
        if members[a].is_empty() || members[b].is_empty() || version[a] != va || version[b] != vb {
            continue;
        }
        // The group keeps its first item's index (a < b), so numbering by it is by first
        // appearance.
        let (na, nb) = (members[a].len() as f32, members[b].len() as f32);
        version[a] += 1;
        for k in (0..n).filter(|&k| k != a && k != b && !members[k].is_empty()) {
            let d = (na * mean[at(a, k)] + nb * mean[at(b, k)]) / (na + nb);
            mean[at(a, k)] = d;
            if d <= threshold {
                let (x, y) = (a.min(k), a.max(k));
                heap.push(Candidate(d, x, y, version[x], version[y]));
            }
        }
        let moved = std::mem::take(&mut members[b]);
        members[a].extend(moved);
    }
    let mut number = vec![0; n];
    for (id, group) in members.iter().filter(|g| !g.is_empty()).enumerate() {
        for &item in group {
            number[item] = id;
        }
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::embed::{Descriptor, along as descriptor};

    /// Scripted tracks: (axis, length, first frame, last frame).
    fn group(tracks: &[(usize, f32, u64, u64)], threshold: f32) -> Vec<usize> {
        let descriptors: Vec<Descriptor> = tracks.iter().map(|t| descriptor(t.0, t.1)).collect();
        let refs: Vec<&[f32]> = descriptors.iter().map(Vec::as_slice).collect();
        average_linkage(&refs, threshold, |i, j| {
            tracks[i].2 <= tracks[j].3 && tracks[j].2 <= tracks[i].3
        })
    }

    #[test]
    fn people_numbered_by_first_appearance_never_chained_never_two_at_once() {
        let tracks = [
            (5, 1.0, 0, 9),
            (9, 1.0, 10, 19),
            (5, 1.2, 20, 29),
            (9, 0.9, 30, 39),
            (7, 1.0, 40, 49),
            (5, 1.0, 50, 59),
        ];
        assert_eq!(group(&tracks, 0.6), [0, 1, 0, 1, 2, 0]);
        // Two lookalikes on screen together are two people, and a third track close to both
        // joins one of them only.
        let together = [(5, 1.0, 0, 9), (5, 1.1, 5, 14), (5, 1.05, 20, 29)];
        assert_eq!(group(&together, 0.6), [0, 1, 0]);
        // Faces 0.5 apart in a row: single linkage would chain ends 1.5 apart into one person.
        let chain = [(1.0, 0), (1.5, 10), (2.0, 20), (2.5, 30)].map(|(len, t)| (3, len, t, t + 5));
        assert_eq!(group(&chain, 0.6), [0, 0, 1, 1]);
    }

    #[test]
    fn a_group_is_joined_by_its_mean_distance_not_its_closest_member() {
        // Tracks 1 and 2 are 0.3 apart and join first; track 0 is 0.6 from track 1, within
        // 0.65, but 0.9 from track 2: 0.75 from their group on average, so it stays apart.
        let tracks = [(3, 1.0, 0, 1), (3, 1.6, 2, 3), (3, 1.9, 4, 5)];
        assert_eq!(group(&tracks, 0.65), [0, 1, 1]);
        assert_eq!(group(&tracks, 0.8), [0, 0, 0]);
    }

    #[test]
    fn thousands_of_tracks_group_into_their_people() {
        // 300 people (an axis and a length per person, 1.0 apart at least), 10 tracks each,
        // each track a little off its person, in turn through the video; every tenth pair of
        // neighbours on screen at once.
        let (people, per_person) = (300, 10);
        let tracks: Vec<(usize, f32, u64, u64)> = (0..people * per_person)
            .map(|t| {
                let person = t % people;
                let wobble = 0.02 * (t / people) as f32;
                let first = 10 * t as u64;
                let overlap = if t % 10 == 0 { 15 } else { 5 };
                (
                    person % 128,
                    1.0 + (person / 128) as f32 + wobble,
                    first,
                    first + overlap,
                )
            })
            .collect();
        // How long it takes is measured by bench/criterion/identify.rs, not asserted here.
        let groups = group(&tracks, 0.42);
        for (t, &g) in groups.iter().enumerate() {
            assert_eq!(g, t % people, "track {t}");
        }
    }

    #[test]
    fn single_linkage_chains_links_and_numbers_by_first_item() {
        let linked = |i: usize, j: usize| j == i + 1 && i != 1;
        assert_eq!(single_linkage(5, linked), [0, 0, 2, 2, 2]);
    }
}
