//! The CSV files of a run: `screentime.csv` (screen time per identity) and `segments.csv`
//! (every appearance), the one place that knows their columns.

use std::path::Path;

use crate::error::{Error, Result};
use crate::job::result::{ScreenTime, Segment};
use crate::output::write::write_table;

/// The CSV header; the names match [`ScreenTime`]'s fields so the file deserializes back.
const CSV_HEADER: [&str; 6] = [
    "name",
    "frames",
    "seconds",
    "percent",
    "first_seen",
    "last_seen",
];

/// Writes `rows` in the given order to `path` as CSV with header
/// `name,frames,seconds,percent,first_seen,last_seen`; times and percentages with 3 decimals.
pub fn write_screen_time(path: &Path, rows: &[ScreenTime]) -> Result<()> {
    let records: Vec<Vec<String>> = rows
        .iter()
        .map(|row| {
            vec![
                row.name.clone(),
                row.frames.to_string(),
                format!("{:.3}", row.seconds),
                format!("{:.3}", row.percent),
                format!("{:.3}", row.first_seen),
                format!("{:.3}", row.last_seen),
            ]
        })
        .collect();
    write_table(path, &CSV_HEADER, &records)
}

/// Writes `segments` to `path` as CSV with header `name,start,end,seconds`, times in seconds
/// with 3 decimals.
pub fn write_segments(path: &Path, segments: &[Segment]) -> Result<()> {
    let records: Vec<Vec<String>> = segments
        .iter()
        .map(|s| {
            vec![
                s.name.clone(),
                format!("{:.3}", s.start),
                format!("{:.3}", s.end),
                format!("{:.3}", s.seconds),
            ]
        })
        .collect();
    write_table(path, &["name", "start", "end", "seconds"], &records)
}

/// Reads a `segments.csv` that [`write_segments`] wrote.
pub fn read_segments(path: &Path) -> Result<Vec<Segment>> {
    let bad = |e: csv::Error| Error::Input {
        path: path.to_path_buf(),
        reason: format!("not a screentime segments.csv: {e}"),
    };
    csv::Reader::from_path(path)
        .map_err(bad)?
        .deserialize()
        .collect::<std::result::Result<_, _>>()
        .map_err(bad)
}
