//! Who appears with whom: for every pair of identities, the seconds they are on screen at once
//! (`cooccurrence.csv`, and a heat map of it drawn by [`crate::output::charts`]). In: one
//! title's appearances, or several titles' matrices for a catalog. Out: a square matrix whose
//! diagonal is each identity's own screen time.
//!
//! Time together is [`together`] over the same segments `search --with` reads, so the matrix
//! and a search for the pair agree to the frame.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Result;
use crate::job::interval::together;
use crate::job::result::{Segment, appearances};
use crate::output::write::write_table;

#[derive(Debug, Clone, PartialEq)]
pub struct Cooccurrence {
    pub names: Vec<String>,
    /// `seconds[i][j]`: seconds `names[i]` and `names[j]` are on screen at once; `seconds[i][i]`,
    /// `names[i]`'s own screen time.
    pub seconds: Vec<Vec<f64>>,
}

impl Cooccurrence {
    /// The matrix of `names`, in that order, from one title's `segments`.
    pub fn of(names: &[String], segments: &[Segment]) -> Cooccurrence {
        let appearances = appearances(names, segments);
        let count = names.len();
        let mut seconds = vec![vec![0.0; count]; count];
        for i in 0..count {
            for j in i..count {
                // With i == j, together is the identity's own time: one rule for every cell.
                let pair = [appearances[i].clone(), appearances[j].clone()];
                // Folded from +0.0: f64's sum of nothing is -0.0, which prints as "-0.000".
                let shared = (together(&pair, 0.0).iter()).fold(0.0, |sum, i| sum + i.seconds());
                seconds[i][j] = shared;
                seconds[j][i] = shared;
            }
        }
        Cooccurrence {
            names: names.to_vec(),
            seconds,
        }
    }

    /// Several titles' matrices added up, keeping the names `keep` accepts (a catalog keeps the
    /// cast: unknown_N labels are per title), longest on screen first, ties by name.
    pub fn sum<'a>(
        matrices: impl IntoIterator<Item = &'a Cooccurrence>,
        keep: impl Fn(&str) -> bool,
    ) -> Cooccurrence {
        let mut cells: BTreeMap<(&str, &str), f64> = BTreeMap::new();
        for matrix in matrices {
            for (i, a) in matrix.names.iter().enumerate().filter(|(_, a)| keep(a)) {
                for (j, b) in matrix.names.iter().enumerate().filter(|(_, b)| keep(b)) {
                    *cells.entry((a, b)).or_default() += matrix.seconds[i][j];
                }
            }
        }
        let mut names: Vec<(&str, f64)> = (cells.iter())
            .filter(|((a, b), _)| a == b)
            .map(|((a, _), own)| (*a, *own))
            .collect();
        names.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let seconds = (names.iter())
            .map(|(a, _)| {
                (names.iter())
                    .map(|(b, _)| cells.get(&(*a, *b)).copied().unwrap_or(0.0))
                    .collect()
            })
            .collect();
        Cooccurrence {
            names: names
                .into_iter()
                .map(|(name, _)| name.to_string())
                .collect(),
            seconds,
        }
    }

    /// The first `count` names (the longest on screen) and their cells.
    pub fn first(&self, count: usize) -> Cooccurrence {
        let count = count.min(self.names.len());
        Cooccurrence {
            names: self.names[..count].to_vec(),
            seconds: (self.seconds[..count].iter())
                .map(|row| row[..count].to_vec())
                .collect(),
        }
    }

    /// Writes the matrix as CSV: a header `name,<every name>`, then one row per name with its
    /// seconds together with each, 3 decimals as in `segments.csv`.
    pub fn write_csv(&self, path: &Path) -> Result<()> {
        let header: Vec<&str> = std::iter::once("name")
            .chain(self.names.iter().map(String::as_str))
            .collect();
        let rows: Vec<Vec<String>> = (self.names.iter().zip(&self.seconds))
            .map(|(name, row)| {
                std::iter::once(name.clone())
                    .chain(row.iter().map(|s| format!("{s:.3}")))
                    .collect()
            })
            .collect();
        write_table(path, &header, &rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_the_seconds_on_screen_at_once_and_the_diagonal_each_ones_own() {
        let segments = [
            Segment::new("A", 0.0, 10.0),
            Segment::new("B", 4.0, 12.0),
            Segment::new("A", 30.0, 31.0),
            Segment::new("C", 30.5, 40.0),
        ];
        let names: Vec<String> = ["A", "B", "C", "D"].map(String::from).into();
        let m = Cooccurrence::of(&names, &segments);
        assert_eq!(m.seconds[0], [11.0, 6.0, 0.5, 0.0]);
        assert_eq!(m.seconds[1], [6.0, 8.0, 0.0, 0.0]);
        assert_eq!(m.seconds[2], [0.5, 0.0, 9.5, 0.0]);
        assert_eq!(m.seconds[3], [0.0; 4]);
        // One right after the other is not together, and reads as 0, not -0.
        let touching = Cooccurrence::of(
            &["A", "B"].map(String::from),
            &[Segment::new("A", 0.0, 1.0), Segment::new("B", 1.0, 2.0)],
        );
        assert!(touching.seconds[0][1].is_sign_positive());
        let file = tempfile::NamedTempFile::new().unwrap();
        touching.write_csv(file.path()).unwrap();
        let csv = std::fs::read_to_string(file.path()).unwrap();
        assert_eq!(csv, "name,A,B\nA,1.000,0.000\nB,0.000,1.000\n");
    }

    #[test]
    fn a_catalog_adds_the_titles_up_and_keeps_whom_it_is_told() {
        let one = Cooccurrence::of(
            &["A", "unknown_1"].map(String::from),
            &[
                Segment::new("A", 0.0, 2.0),
                Segment::new("unknown_1", 1.0, 3.0),
            ],
        );
        let two = Cooccurrence::of(
            &["B", "A"].map(String::from),
            &[Segment::new("A", 0.0, 1.0), Segment::new("B", 0.5, 4.0)],
        );
        let all = Cooccurrence::sum([&one, &two], |name| !name.starts_with("unknown_"));
        assert_eq!(all.names, ["B", "A"]);
        assert_eq!(all.seconds, [[3.5, 0.5], [0.5, 3.0]]);
        assert_eq!(all.first(1).seconds, [[3.5]]);
    }
}
