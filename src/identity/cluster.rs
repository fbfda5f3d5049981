//! Grouping faces into people without knowing them: the two ways screentime does it.

use crate::face::embed::{Descriptor, distance};

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

/// Groups strangers' tracks into people. Each is (mean descriptor, first and last analysed
/// frame); tracks sorted by first appearance get groups numbered by first appearance.
///
/// Average linkage: two groups merge while the mean distance between their tracks is within
/// `threshold`, closest pair first, so one track that happens to lie between two people cannot
/// chain them into one (single linkage would). Two tracks on screen at the same time are two
/// people, so groups holding such a pair never merge.
pub fn cluster_strangers(tracks: &[(Descriptor, u64, u64)], threshold: f32) -> Vec<usize> {
    let n = tracks.len();
    // Groups as lists of track indices, with the mean distance between every two groups.
    let mut groups: Vec<Option<Vec<usize>>> = (0..n).map(|i| Some(vec![i])).collect();
    let mut apart = vec![vec![0.0f32; n]; n];
    for i in 0..n {
        for j in 0..i {
            let d = distance(&tracks[i].0, &tracks[j].0);
            apart[i][j] = d;
            apart[j][i] = d;
        }
    }
    let together = |a: usize, b: usize| tracks[a].1 <= tracks[b].2 && tracks[b].1 <= tracks[a].2;
    loop {
        let mut best: Option<(f32, usize, usize)> = None;
        for i in 0..n {
            let Some(gi) = &groups[i] else { continue };
            for j in 0..i {
                let Some(gj) = &groups[j] else { continue };
                let d = apart[i][j];
                if d > threshold || best.is_some_and(|(b, _, _)| d >= b) {
                    continue;
                }
                if gi.iter().any(|&a| gj.iter().any(|&b| together(a, b))) {
                    continue;
                }
                best = Some((d, i, j));
            }
        }
        let Some((_, i, j)) = best else { break };
        // Lance-Williams: the merged group's mean distance to any other group.
        let (ni, nj) = (
            groups[i].as_ref().map_or(0, Vec::len) as f32,
            groups[j].as_ref().map_or(0, Vec::len) as f32,
        );
        for k in 0..n {
            if k != i && k != j && groups[k].is_some() {
                let d = (ni * apart[i][k] + nj * apart[j][k]) / (ni + nj);
                apart[j][k] = d;
                apart[k][j] = d;
            }
        }
        let moved = groups[i].take().unwrap_or_default();
        if let Some(group) = groups[j].as_mut() {
            group.extend(moved);
        }
    }
    // Numbered by each group's first track.
    let mut number = vec![usize::MAX; n];
    let mut firsts: Vec<usize> = groups
        .iter()
        .flatten()
        .map(|g| g.iter().copied().min().unwrap_or(0))
        .collect();
    firsts.sort_unstable();
    for group in groups.iter().flatten() {
        let first = group.iter().copied().min().unwrap_or(0);
        let id = firsts.binary_search(&first).unwrap_or(0);
        for &t in group {
            number[t] = id;
        }
    }
    number
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::embed::along as descriptor;

    #[test]
    fn strangers_numbered_by_first_appearance_never_chained_never_two_at_once() {
        let at = |direction, length, first, last| (descriptor(direction, length), first, last);
        let tracks = [
            at(5, 1.0, 0, 9),
            at(9, 1.0, 10, 19),
            at(5, 1.2, 20, 29),
            at(9, 0.9, 30, 39),
            at(7, 1.0, 40, 49),
            at(5, 1.0, 50, 59),
        ];
        assert_eq!(cluster_strangers(&tracks, 0.6), [0, 1, 0, 1, 2, 0]);
        // Two lookalikes on screen together are two people.
        let together = [at(5, 1.0, 0, 9), at(5, 1.1, 5, 14)];
        assert_eq!(cluster_strangers(&together, 0.6), [0, 1]);
        // Faces 0.5 apart in a row: single linkage would chain ends 1.5 apart into one person.
        let chain =
            [(1.0, 0), (1.5, 10), (2.0, 20), (2.5, 30)].map(|(len, t)| at(3, len, t, t + 5));
        assert_eq!(cluster_strangers(&chain, 0.6), [0, 0, 1, 1]);
    }

    #[test]
    fn single_linkage_chains_links_and_numbers_by_first_item() {
        let linked = |i: usize, j: usize| j == i + 1 && i != 1;
        assert_eq!(single_linkage(5, linked), [0, 0, 2, 2, 2]);
    }
}
