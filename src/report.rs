//! Result files: what a run hands to its user.
//!
//! In: per-identity screen-time rows ([`ScreenTime`]) and the run's metadata (any
//! `serde::Serialize` value). Out: files in an output folder: pretty JSON ([`write_json`]), a
//! CSV table ([`write_csv`]) and a bar chart of seconds per identity as PNG or SVG
//! ([`write_chart`]).
//!
//! Every file is written to a temporary file in the destination folder, synced, then renamed
//! over the destination. A crash or a failed write therefore never leaves a half-written file,
//! and a file written by an earlier run stays intact until its replacement is complete.
//!
//! Chart text is drawn with DejaVu Sans embedded at build time (Debian's `fonts-dejavu-core`),
//! so nothing is looked up at run time and the output is the same on every machine.

use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::sync::OnceLock;

use image::ImageEncoder;
use image::codecs::png::PngEncoder;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result};

/// Screen time of one identity over the whole video.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ScreenTime {
    /// Actor name, or `unknown_N` for a face that matched no one in the cast.
    pub name: String,
    /// Analysed frames in which this identity was seen.
    pub frames: u64,
    /// Screen time in seconds.
    pub seconds: f64,
    /// `seconds` as a percentage of the video's duration.
    pub percent: f64,
    /// Seconds from the start of the video to the first sighting.
    pub first_seen: f64,
    /// Seconds from the start of the video to the last sighting.
    pub last_seen: f64,
}

/// One continuous stretch of an identity on screen.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Segment {
    pub name: String,
    /// Seconds from the start of the video to the first frame of the stretch.
    pub start: f64,
    /// Seconds from the start of the video to the end of the stretch's last frame.
    pub end: f64,
    /// `end - start`.
    pub seconds: f64,
}

/// Writes `value` as pretty JSON (trailing newline) to `path`, atomically.
pub fn write_json(path: &Path, value: &impl serde::Serialize) -> Result<()> {
    write_atomically(path, |out| {
        serde_json::to_writer_pretty(&mut *out, value)?;
        out.write_all(b"\n")
    })
}

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
pub fn write_csv(path: &Path, rows: &[ScreenTime]) -> Result<()> {
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

/// Writes a CSV file with this header and these records, atomically.
pub fn write_table(path: &Path, header: &[&str], records: &[Vec<String>]) -> Result<()> {
    write_atomically(path, |out| {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(header)?;
        for record in records {
            csv.write_record(record)?;
        }
        csv.flush()
    })
}

/// Writes a horizontal bar chart of seconds per identity to `path`, longest at the top, titled
/// `title`, each bar labelled with its name and value. The extension of `path` picks the format:
/// `.png` (1200 px wide, taller with more rows) or `.svg`; anything else is an error. With no
/// rows the chart says "no faces found".
pub fn write_chart(path: &Path, title: &str, rows: &[ScreenTime]) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let svg = match extension.as_deref() {
        Some("png") => false,
        Some("svg") => true,
        _ => return Err(Error::output(path, "a chart must end in .png or .svg")),
    };
    // SVG leaves glyphs to the viewer but plotters still measures text to lay out the chart.
    if !font_registered() {
        return Err(Error::output(path, "the embedded chart font is unreadable"));
    }
    let size = chart_size(rows.len());
    let draw_failed = |e: String| Error::output(path, format!("cannot draw chart: {e}"));

    if svg {
        let mut text = String::new();
        draw_chart(
            SVGBackend::with_string(&mut text, size).into_drawing_area(),
            title,
            rows,
        )
        .map_err(|e| draw_failed(e.to_string()))?;
        write_atomically(path, |out| out.write_all(text.as_bytes()))
    } else {
        let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
        draw_chart(
            BitMapBackend::with_buffer(&mut pixels, size).into_drawing_area(),
            title,
            rows,
        )
        .map_err(|e| draw_failed(e.to_string()))?;
        write_atomically(path, |out| {
            PngEncoder::new(out)
                .write_image(&pixels, size.0, size.1, image::ExtendedColorType::Rgb8)
                .map_err(io::Error::other)
        })
    }
}

const CHART_WIDTH: u32 = 1200;
const BAR_PITCH: u32 = 40;
/// Height taken by the title, the x axis and the margins.
const CHART_CHROME: u32 = 170;
const TITLE_FONT: (&str, u32) = ("sans-serif", 30);
const LABEL_FONT: (&str, u32) = ("sans-serif", 18);
const BAR_COLOR: RGBColor = RGBColor(66, 114, 196);

/// A few rows' worth of height at least, so a short chart is not squashed flat.
fn chart_size(rows: usize) -> (u32, u32) {
    let rows = u32::try_from(rows.max(3)).unwrap_or(u32::MAX);
    (
        CHART_WIDTH,
        CHART_CHROME.saturating_add(BAR_PITCH.saturating_mul(rows)),
    )
}

fn draw_chart<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    title: &str,
    rows: &[ScreenTime],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    root.fill(&WHITE)?;
    let root = root.margin(20, 20, 20, 20);
    if rows.is_empty() {
        let area = root.titled(title, TITLE_FONT)?;
        let (width, height) = area.dim_in_pixel();
        let centre = Pos::new(HPos::Center, VPos::Center);
        let style = ("sans-serif", 24).into_text_style(&area).pos(centre);
        let at = (width as i32 / 2, height as i32 / 2);
        area.draw(&Text::new("no faces found", at, style))?;
        return area.present();
    }

    let mut sorted: Vec<&ScreenTime> = rows.iter().collect();
    // Ties by name so the same results always give the same chart.
    sorted.sort_by(|a, b| {
        b.seconds
            .total_cmp(&a.seconds)
            .then_with(|| a.name.cmp(&b.name))
    });
    // plotters' y axis grows upwards: the longest bar gets the top slot, `count - 1`.
    let count = sorted.len();
    let slot = |rank: usize| (count - 1 - rank) as f64;

    let label_font = LABEL_FONT.into_font();
    let names: Vec<String> = sorted
        .iter()
        .map(|row| fit(&row.name, &label_font))
        .collect();
    let name_width = names.iter().map(|name| text_width(name, &label_font)).max();
    let longest = sorted[0].seconds;
    // Headroom past the longest bar for its value label.
    let x_end = if longest.is_finite() && longest > 0.0 {
        longest * 1.15
    } else {
        1.0
    };

    let mut chart = ChartBuilder::on(&root)
        .caption(title, TITLE_FONT)
        // Room for the last x tick label, which is centred on the plot's right edge.
        .margin_right(24)
        .x_label_area_size(50)
        .y_label_area_size(name_width.unwrap_or(0) + 16)
        .build_cartesian_2d(0f64..x_end, 0f64..count as f64)?;
    // Names are drawn by hand below: axis ticks would not fall on the bars' centres.
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .light_line_style(TRANSPARENT)
        .x_desc("seconds")
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .draw()?;

    chart.draw_series(sorted.iter().enumerate().map(|(rank, row)| {
        let y = slot(rank);
        Rectangle::new(
            [(0.0, y + 0.15), (row.seconds, y + 0.85)],
            BAR_COLOR.filled(),
        )
    }))?;
    let value_style = LABEL_FONT
        .into_text_style(&root)
        .pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(sorted.iter().enumerate().map(|(rank, row)| {
        EmptyElement::at((row.seconds, slot(rank) + 0.5))
            + Text::new(format!("{:.1} s", row.seconds), (6, 0), value_style.clone())
    }))?;
    // Names go left of the plotting area, so they are placed in whole-canvas pixels.
    let name_style = LABEL_FONT
        .into_text_style(&root)
        .pos(Pos::new(HPos::Right, VPos::Center));
    let (left, top) = root.get_base_pixel();
    for (rank, name) in names.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, slot(rank) + 0.5));
        let at = (x - left - 8, y - top);
        root.draw(&Text::new(name.as_str(), at, name_style.clone()))?;
    }
    root.present()
}

/// Widest name label in pixels; longer names are cut so the bars keep most of the width.
const MAX_NAME_WIDTH: u32 = CHART_WIDTH / 3;

fn text_width(text: &str, font: &FontDesc) -> u32 {
    font.box_size(text).map_or(0, |(width, _)| width)
}

/// `name`, or as much of it as fits in [`MAX_NAME_WIDTH`] followed by an ellipsis.
fn fit(name: &str, font: &FontDesc) -> String {
    if text_width(name, font) <= MAX_NAME_WIDTH {
        return name.to_string();
    }
    let mut cut: String = name.to_string();
    while cut.pop().is_some() {
        let shortened = format!("{}…", cut.trim_end());
        if text_width(&shortened, font) <= MAX_NAME_WIDTH {
            return shortened;
        }
    }
    "…".to_string()
}

/// DejaVu Sans from Debian's fonts-dejavu-core; embedded so charts need no font at run time.
static FONT: &[u8] = include_bytes!("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf");

/// plotters' ab_glyph text needs its font registered once per process before any drawing.
fn font_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT).is_ok()
    })
}

/// Runs `write` on a temporary file next to `path`, then renames it over `path`. The temporary
/// file sits in the same folder so the rename stays on one filesystem and is atomic; it is
/// synced first so a crash right after the rename cannot expose an empty file.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let fail = |e: io::Error| Error::output(path, e);
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(".screentime-");
    // tempfile's default 0600 would leave result files unreadable to others; 0666 minus the
    // umask gives what any other program's output gets.
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
    let mut temp = builder.tempfile_in(dir).map_err(fail)?;

    let mut out = BufWriter::new(temp.as_file_mut());
    write(&mut out).and_then(|()| out.flush()).map_err(fail)?;
    drop(out);
    temp.as_file().sync_all().map_err(fail)?;
    // On failure the temporary file is dropped, which deletes it.
    temp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}
