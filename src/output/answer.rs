//! The one renderer of the commands' answers on standard output. In: an answer, data that says
//! what its tables and its JSON items are ([`Answer`]). Out: for people, aligned tables (text
//! columns left, numbers right, each as wide as its widest entry, two spaces apart, lines under
//! them for totals and verdicts); with `--json`, JSON lines: one JSON object per line, each an
//! item of the answer (a face, a result, a sighting; the report, where the answer is one), for
//! scripts and `jq`, and printed as each is ready.

use std::io::Write;

use serde::Serialize;

use crate::error::{Error, Result, escape_controls};
use crate::output::write;

/// How an answer is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Table,
    /// One JSON object per line.
    JsonLines,
}

impl Format {
    /// The format a command's `--json` flag asks for.
    pub fn json_if(json: bool) -> Format {
        if json {
            Format::JsonLines
        } else {
            Format::Table
        }
    }
}

/// A command's answer, as data.
pub trait Answer {
    type Item: Serialize;

    /// What `--json` prints, one per line.
    fn items(&self) -> &[Self::Item];

    /// What a person reads, table after table.
    fn tables(&self) -> Vec<Table>;
}

/// A column's alignment: text left, numbers right (so that their points line up).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// Columns under a header, with an optional title line above (which indents the rest) and
/// lines of notes under the rows. A row with fewer cells than columns is a remark: its last cell
/// runs on over the columns it leaves.
#[derive(Debug, Default)]
pub struct Table {
    title: Option<String>,
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
    notes: Vec<String>,
}

impl Table {
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            ..Table::default()
        }
    }

    /// With a line above, naming what the table is of; the table is indented under it.
    pub fn titled(mut self, title: impl Into<String>) -> Table {
        self.title = Some(title.into());
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// The table as lines of text. Cells come from names and titles anyone can write: their
    /// control characters are escaped, so that they cannot move the terminal's cursor.
    fn lines(&self) -> Vec<String> {
        let escape = |cells: &[String]| -> Vec<String> {
            cells.iter().map(|cell| escape_controls(cell)).collect()
        };
        let header: Vec<String> = self
            .columns
            .iter()
            .map(|(name, _)| name.to_string())
            .collect();
        let rows: Vec<Vec<String>> = self.rows.iter().map(|row| escape(row)).collect();
        let mut widths: Vec<usize> = header.iter().map(|name| name.chars().count()).collect();
        for row in rows.iter().filter(|row| row.len() == self.columns.len()) {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let indent = if self.title.is_some() { "  " } else { "" };
        let line = |cells: &[String]| -> String {
            let remark = cells.len() < self.columns.len();
            let aligned: Vec<String> = (cells.iter().zip(&self.columns).zip(&widths))
                .enumerate()
                .map(|(i, ((cell, (_, align)), &width))| match align {
                    _ if remark && i + 1 == cells.len() => cell.clone(),
                    Align::Left => format!("{cell:width$}"),
                    Align::Right => format!("{cell:>width$}"),
                })
                .collect();
            format!("{indent}{}", aligned.join("  "))
                .trim_end()
                .to_string()
        };
        let mut lines: Vec<String> = self.title.iter().map(|t| escape_controls(t)).collect();
        if !self.columns.is_empty() {
            lines.push(line(&header));
        }
        lines.extend(rows.iter().map(|row| line(row)));
        lines.extend(
            self.notes
                .iter()
                .map(|n| format!("{indent}{}", escape_controls(n))),
        );
        lines
    }
}

/// Prints `answer` on `out` in `format`.
pub fn render<A: Answer>(out: &mut impl Write, format: Format, answer: &A) -> Result<()> {
    match format {
        Format::JsonLines => json_lines(out, answer.items()),
        Format::Table => print_tables(out, &answer.tables()),
    }
}

/// Prints `tables`, one after the other: an answer with no JSON form (`slideshow`'s list).
pub fn print_tables(out: &mut impl Write, tables: &[Table]) -> Result<()> {
    let mut print = || -> std::io::Result<()> {
        for line in tables.iter().flat_map(Table::lines) {
            writeln!(out, "{line}")?;
        }
        Ok(())
    };
    print().map_err(Error::stdout)
}

/// Prints `items` as JSON lines: the `--json` answers, and `embed`'s, which has no table.
pub fn json_lines<T: Serialize>(out: &mut impl Write, items: &[T]) -> Result<()> {
    for item in items {
        write::json_line(out, item).map_err(Error::stdout)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_fit_their_widest_entry_text_left_numbers_right() {
        let mut table = Table::new(&[("name", Align::Left), ("seconds", Align::Right)]);
        table.row(vec!["Jo\u{1b}[2J".into(), "1.50".into()]);
        table.row(vec!["unknown_12".into(), "123.25".into()]);
        table.row(vec!["face".into(), "no one within 0.60".into()][..1].to_vec());
        table.note("(read 10.00 s)");
        assert_eq!(
            table.lines(),
            [
                "name         seconds",
                "Jo\\u{1b}[2J     1.50",
                "unknown_12    123.25",
                "face",
                "(read 10.00 s)",
            ]
        );
        let titled = Table::new(&[("a", Align::Right)]).titled("result");
        assert_eq!(titled.lines(), ["result", "  a"]);
    }

    #[test]
    fn a_remark_runs_on_over_the_columns_it_leaves() {
        let columns = [
            ("face", Align::Right),
            ("box", Align::Left),
            ("rank", Align::Right),
        ];
        let mut table = Table::new(&columns);
        table.row(vec!["0".into(), "1,2,3,4".into(), "1".into()]);
        table.row(vec!["1".into(), "no cast member within 0.60".into()]);
        assert_eq!(
            table.lines(),
            [
                "face  box      rank",
                "   0  1,2,3,4     1",
                "   1  no cast member within 0.60",
            ]
        );
    }
}
