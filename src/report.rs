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
    write_atomically(path, |out| {
        let mut csv = csv::Writer::from_writer(out);
        csv.write_record(CSV_HEADER)?;
        for row in rows {
            csv.write_record([
                row.name.as_str(),
                &row.frames.to_string(),
                &format!("{:.3}", row.seconds),
                &format!("{:.3}", row.percent),
                &format!("{:.3}", row.first_seen),
                &format!("{:.3}", row.last_seen),
            ])?;
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
        _ => return Err(output_error(path, "a chart must end in .png or .svg")),
    };
    // SVG leaves glyphs to the viewer but plotters still measures text to lay out the chart.
    if !font_registered() {
        return Err(output_error(path, "the embedded chart font is unreadable"));
    }
    let size = chart_size(rows.len());
    let draw_failed = |e: String| output_error(path, format!("cannot draw chart: {e}"));

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
    if rows.is_empty() {
        let (width, height) = root.dim_in_pixel();
        let area = root.titled(title, TITLE_FONT)?;
        let centre = Pos::new(HPos::Center, VPos::Center);
        let text_at = (width as i32 / 2, (height as i32 - 60) / 2);
        area.draw(&Text::new(
            "no faces found",
            text_at,
            ("sans-serif", 24).into_text_style(&area).pos(centre),
        ))?;
        return root.present();
    }

    let mut sorted: Vec<&ScreenTime> = rows.iter().collect();
    // Ties by name so the same results always give the same chart.
    sorted.sort_by(|a, b| {
        b.seconds
            .total_cmp(&a.seconds)
            .then_with(|| a.name.cmp(&b.name))
    });
    let count = sorted.len();
    // plotters' y axis grows upwards, so the longest bar takes the highest segment.
    let segment = |rank: usize| count - 1 - rank;
    // The same mapping backwards; tick indexes past the last bar get no name.
    let name_at = |index: usize| (index < count).then(|| sorted[segment(index)].name.clone());

    let label_font = LABEL_FONT.into_font();
    let name_width = sorted
        .iter()
        .filter_map(|row| label_font.box_size(&row.name).ok())
        .map(|(width, _)| width)
        .max()
        .unwrap_or(0)
        .min(CHART_WIDTH / 3);
    let longest = sorted[0].seconds;
    // Headroom past the longest bar for its value label.
    let x_end = if longest.is_finite() && longest > 0.0 {
        longest * 1.15
    } else {
        1.0
    };

    let mut chart = ChartBuilder::on(&root)
        .caption(title, TITLE_FONT)
        .margin(20)
        .x_label_area_size(50)
        .y_label_area_size(name_width + 16)
        .build_cartesian_2d(0f64..x_end, (0..count).into_segmented())?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(count + 1)
        .y_label_formatter(&|value| match value {
            SegmentValue::CenterOf(index) => name_at(*index).unwrap_or_default(),
            _ => String::new(),
        })
        .x_desc("seconds")
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .draw()?;

    chart.draw_series(sorted.iter().enumerate().map(|(rank, row)| {
        let index = segment(rank);
        let mut bar = Rectangle::new(
            [
                (0.0, SegmentValue::Exact(index)),
                (row.seconds, SegmentValue::Exact(index + 1)),
            ],
            BAR_COLOR.filled(),
        );
        bar.set_margin(6, 6, 0, 0);
        bar
    }))?;
    let value_style = LABEL_FONT
        .into_text_style(&root)
        .pos(Pos::new(HPos::Left, VPos::Center));
    chart.draw_series(sorted.iter().enumerate().map(|(rank, row)| {
        EmptyElement::at((row.seconds, SegmentValue::CenterOf(segment(rank))))
            + Text::new(format!("{:.1} s", row.seconds), (6, 0), value_style.clone())
    }))?;
    root.present()
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

fn output_error(path: &Path, reason: impl Into<String>) -> Error {
    Error::Output {
        path: path.to_path_buf(),
        reason: reason.into(),
    }
}

/// Runs `write` on a temporary file next to `path`, then renames it over `path`. The temporary
/// file sits in the same folder so the rename stays on one filesystem and is atomic; it is
/// synced first so a crash right after the rename cannot expose an empty file.
fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let fail = |e: io::Error| output_error(path, e.to_string());
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
