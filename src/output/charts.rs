//! Everything drawn: a bar chart of seconds per identity ([`write_chart`]), a timeline of when
//! each is on screen ([`write_timeline`]), a heat map of who is on screen with whom
//! ([`write_cooccurrence`]), each as PNG or SVG, and a contact sheet of one face
//! per identity with its name ([`write_contact_sheet`]).
//!
//! Text is drawn with DejaVu Sans embedded at build time (Debian's `fonts-dejavu-core`), so
//! nothing is looked up at run time and the output is the same on every machine.

use std::collections::HashMap;
use std::io;
use std::path::Path;
use std::sync::OnceLock;

use image::codecs::png::PngEncoder;
use image::{ImageEncoder, Rgb, RgbImage, imageops};
use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::error::{Error, Result, escape_controls};
use crate::files::atomic::write_atomically;
use crate::job::result::{ScreenTime, Segment};
use crate::output::cooccurrence::Cooccurrence;
use crate::output::write::write_jpeg;

/// Writes a horizontal bar chart of seconds per identity to `path`, longest at the top, titled
/// `title`, each bar labelled with its name and value. The extension of `path` picks the format:
/// `.png` (1200 px wide, taller with more rows) or `.svg`; anything else is an error. With no
/// rows the chart says "no faces found".
pub fn write_chart(path: &Path, title: &str, rows: &[ScreenTime]) -> Result<()> {
    write_plot(path, chart_size(rows.len()), &BarChart { title, rows })
}

/// Writes a timeline to `path`: when each identity is on screen. One row per identity in the
/// order of `rows` (the first at the top), named at the left, with a bar for each of its
/// `segments`; segments of names not in `rows` are left out, so filtering `rows` filters the
/// chart. The x axis runs from 0 to `video_seconds` (the last shown segment's end when that is
/// not a positive number). Format and size as [`write_chart`].
pub fn write_timeline(
    path: &Path,
    title: &str,
    rows: &[ScreenTime],
    segments: &[Segment],
    video_seconds: f64,
) -> Result<()> {
    let timeline = Timeline {
        title,
        rows,
        segments,
        video_seconds,
    };
    write_plot(path, chart_size(rows.len()), &timeline)
}

/// Writes a heat map of `matrix` to `path`: one row and one column per identity (the first
/// [`HEATMAP_MOST`] of its names, the longest on screen), each cell the seconds the two are on
/// screen at once (see [`cell_label`]), shaded from white to blue (the most of any pair), and
/// blank for a pair never together; the diagonal, grey, is each one's own time. Format as
/// [`write_chart`].
pub fn write_cooccurrence(path: &Path, title: &str, matrix: &Cooccurrence) -> Result<()> {
    let shown = matrix.first(HEATMAP_MOST);
    write_plot(
        path,
        heatmap_size(&shown),
        &Heatmap {
            title,
            matrix: &shown,
        },
    )
}

/// The heat map of [`write_cooccurrence`] as SVG text, for a page to hold inline.
pub fn cooccurrence_svg(title: &str, matrix: &Cooccurrence) -> std::result::Result<String, String> {
    let shown = matrix.first(HEATMAP_MOST);
    svg_text(
        heatmap_size(&shown),
        &Heatmap {
            title,
            matrix: &shown,
        },
    )
}

/// A picture that plotters can draw on any backend, so [`write_plot`] writes it as PNG or SVG.
trait Plot {
    /// Draws on `area`, the canvas already cleared to white and inset by the margins.
    fn draw<DB: DrawingBackend>(&self, area: DrawingArea<DB, Shift>) -> Drawn<DB>;
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Writes `plot` as a `size` picture in the format `path`'s extension names: `.png` or `.svg`.
fn write_plot(path: &Path, size: (u32, u32), plot: &impl Plot) -> Result<()> {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let svg = match extension.as_deref() {
        Some("png") => false,
        Some("svg") => true,
        _ => return Err(Error::output(path, "a chart must end in .png or .svg")),
    };
    if svg {
        let text = svg_text(size, plot).map_err(|e| Error::output(path, e))?;
        return write_atomically(path, |out| out.write_all(text.as_bytes()));
    }
    if !font_registered() {
        return Err(Error::output(path, "the embedded chart font is unreadable"));
    }
    let mut pixels = vec![0u8; size.0 as usize * size.1 as usize * 3];
    render(BitMapBackend::with_buffer(&mut pixels, size), plot)
        .map_err(|e| Error::output(path, format!("cannot draw chart: {e}")))?;
    write_atomically(path, |out| {
        PngEncoder::new(out)
            .write_image(&pixels, size.0, size.1, image::ExtendedColorType::Rgb8)
            .map_err(io::Error::other)
    })
}

/// The bar chart of [`write_chart`] as SVG text, for a page to hold inline.
pub fn chart_svg(title: &str, rows: &[ScreenTime]) -> std::result::Result<String, String> {
    svg_text(chart_size(rows.len()), &BarChart { title, rows })
}

fn svg_text(size: (u32, u32), plot: &impl Plot) -> std::result::Result<String, String> {
    // SVG leaves glyphs to the viewer but plotters still measures text to lay out the chart.
    if !font_registered() {
        return Err("the embedded chart font is unreadable".into());
    }
    let mut text = String::new();
    render(SVGBackend::with_string(&mut text, size), plot)
        .map_err(|e| format!("cannot draw chart: {e}"))?;
    Ok(text)
}

fn render<DB: DrawingBackend>(backend: DB, plot: &impl Plot) -> Drawn<DB> {
    let root = backend.into_drawing_area();
    root.fill(&WHITE)?;
    plot.draw(root.margin(20, 20, 20, 20))?;
    root.present()
}

/// Identities on screen for less than this many seconds are left out of a run's charts and
/// contact sheet by default: a face seen for under a second is mostly a passer-by or a false
/// detection, and would crowd them.
pub const MIN_SCREEN_TIME: f64 = 1.0;

const CHART_WIDTH: u32 = 1200;
const BAR_PITCH: u32 = 40;
/// Height taken by the title, the x axis and the margins.
const CHART_CHROME: u32 = 170;
const TITLE_FONT: (&str, u32) = ("sans-serif", 30);
const LABEL_FONT: (&str, u32) = ("sans-serif", 18);
const BAR_COLOR: RGBColor = RGBColor(66, 114, 196);
/// Timeline row colours, in turn from the top, so neighbouring rows are told apart at a glance.
const TIMELINE_COLORS: [RGBColor; 8] = [
    RGBColor(66, 114, 196),
    RGBColor(237, 125, 49),
    RGBColor(84, 160, 70),
    RGBColor(200, 50, 60),
    RGBColor(128, 90, 180),
    RGBColor(140, 90, 70),
    RGBColor(220, 100, 180),
    RGBColor(30, 170, 190),
];
const NO_FACES: &str = "no faces found";

/// The timeline's colour for its `row`th row (from the top), as CSS: pages draw their
/// timelines in the same colours as timeline.png.
pub fn row_color(row: usize) -> String {
    let RGBColor(r, g, b) = timeline_color(row);
    format!("#{r:02x}{g:02x}{b:02x}")
}

fn timeline_color(row: usize) -> RGBColor {
    TIMELINE_COLORS[row % TIMELINE_COLORS.len()]
}

/// A few rows' worth of height at least, so a short chart is not squashed flat.
fn chart_size(rows: usize) -> (u32, u32) {
    let rows = u32::try_from(rows.max(3)).unwrap_or(u32::MAX);
    (
        CHART_WIDTH,
        CHART_CHROME.saturating_add(BAR_PITCH.saturating_mul(rows)),
    )
}

struct BarChart<'a> {
    title: &'a str,
    rows: &'a [ScreenTime],
}

impl Plot for BarChart<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Drawn<DB> {
        if self.rows.is_empty() {
            return draw_no_faces(&root, self.title);
        }
        let mut sorted: Vec<&ScreenTime> = self.rows.iter().collect();
        // Ties by name so the same results always give the same chart.
        sorted.sort_by(|a, b| {
            b.seconds
                .total_cmp(&a.seconds)
                .then_with(|| a.name.cmp(&b.name))
        });
        let names: Vec<&str> = sorted.iter().map(|row| row.name.as_str()).collect();
        let longest = sorted[0].seconds;
        // Headroom past the longest bar for its value label.
        let x_end = if longest.is_finite() && longest > 0.0 {
            longest * 1.15
        } else {
            1.0
        };
        let mut chart = rows_chart(&root, self.title, &names, x_end)?;

        let count = sorted.len();
        chart.draw_series(sorted.iter().enumerate().map(|(rank, row)| {
            let y = slot(count, rank);
            Rectangle::new(
                [(0.0, y + 0.15), (row.seconds, y + 0.85)],
                BAR_COLOR.filled(),
            )
        }))?;
        let value_style = LABEL_FONT
            .into_text_style(&root)
            .pos(Pos::new(HPos::Left, VPos::Center));
        chart.draw_series(sorted.iter().enumerate().map(|(rank, row)| {
            EmptyElement::at((row.seconds, slot(count, rank) + 0.5))
                + Text::new(format!("{:.1} s", row.seconds), (6, 0), value_style.clone())
        }))?;
        Ok(())
    }
}

struct Timeline<'a> {
    title: &'a str,
    rows: &'a [ScreenTime],
    segments: &'a [Segment],
    video_seconds: f64,
}

impl Plot for Timeline<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Drawn<DB> {
        if self.rows.is_empty() {
            return draw_no_faces(&root, self.title);
        }
        let count = self.rows.len();
        let mut rank_of: HashMap<&str, usize> = HashMap::new();
        for (rank, row) in self.rows.iter().enumerate() {
            // A name listed twice keeps its first row; the second stays empty.
            rank_of.entry(row.name.as_str()).or_insert(rank);
        }
        let shown: Vec<(usize, &Segment)> = self
            .segments
            .iter()
            .filter_map(|segment| Some((*rank_of.get(segment.name.as_str())?, segment)))
            .collect();
        let x_end = if self.video_seconds.is_finite() && self.video_seconds > 0.0 {
            self.video_seconds
        } else {
            let last = shown
                .iter()
                .map(|(_, segment)| segment.end)
                .filter(|end| end.is_finite())
                .fold(0.0, f64::max);
            if last > 0.0 { last } else { 1.0 }
        };
        let names: Vec<&str> = self.rows.iter().map(|row| row.name.as_str()).collect();
        let mut chart = rows_chart(&root, self.title, &names, x_end)?;

        chart.draw_series(shown.iter().filter_map(|&(rank, segment)| {
            // Clamped so a segment past the video's end cannot spill over the axis.
            let start = segment.start.clamp(0.0, x_end);
            let end = segment.end.clamp(0.0, x_end);
            let y = slot(count, rank);
            let color = timeline_color(rank);
            (end > start)
                .then(|| Rectangle::new([(start, y + 0.15), (end, y + 0.85)], color.filled()))
        }))?;
        Ok(())
    }
}

/// Identities drawn in a heat map at most: more would make cells too small to read (the CSV
/// holds them all).
pub const HEATMAP_MOST: usize = 30;
const HEATMAP_CELL: u32 = 56;
/// Room left of the cells for the names, above them for the column numbers.
const HEATMAP_NAMES: u32 = 300;
const HEATMAP_HEADER: u32 = 36;
const HEATMAP_TITLE: u32 = 60;
const DIAGONAL_COLOR: RGBColor = RGBColor(215, 215, 215);
const NEVER_COLOR: RGBColor = RGBColor(246, 246, 246);

fn heatmap_size(matrix: &Cooccurrence) -> (u32, u32) {
    let count = u32::try_from(matrix.names.len().max(1)).unwrap_or(u32::MAX);
    let cells = HEATMAP_CELL.saturating_mul(count);
    (
        (HEATMAP_NAMES + cells + 40).max(CHART_WIDTH / 2),
        HEATMAP_TITLE + HEATMAP_HEADER + cells + 60,
    )
}

struct Heatmap<'a> {
    title: &'a str,
    matrix: &'a Cooccurrence,
}

impl Plot for Heatmap<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Drawn<DB> {
        let matrix = self.matrix;
        if matrix.names.is_empty() {
            return draw_no_faces(&root, self.title);
        }
        let area = root.titled(&escape_controls(self.title), TITLE_FONT)?;
        let count = matrix.names.len();
        let most = (0..count)
            .flat_map(|i| (0..count).filter(move |&j| j != i).map(move |j| (i, j)))
            .map(|(i, j)| matrix.seconds[i][j])
            .fold(0.0, f64::max);
        let font = LABEL_FONT.into_font();
        let at = |h, v| LABEL_FONT.into_text_style(&area).pos(Pos::new(h, v));
        let (cell, left, top) = (
            HEATMAP_CELL as i32,
            HEATMAP_NAMES as i32,
            HEATMAP_HEADER as i32,
        );
        // Pairs never together are left on this ground, unlabelled: in a large cast most are,
        // and the page holds the picture inline.
        let side = cell * count as i32 - 2;
        let ground = [(left, top), (left + side, top + side)];
        area.draw(&Rectangle::new(ground, NEVER_COLOR.filled()))?;
        for (i, name) in matrix.names.iter().enumerate() {
            let offset = i as i32 * cell;
            let label = fit(
                &format!("{}  {}", i + 1, escape_controls(name)),
                &font,
                HEATMAP_NAMES - 16,
            );
            let middle = top + offset + cell / 2;
            area.draw(&Text::new(
                label,
                (left - 10, middle),
                at(HPos::Right, VPos::Center),
            ))?;
            let column = (left + offset + cell / 2, top / 2);
            area.draw(&Text::new(
                (i + 1).to_string(),
                column,
                at(HPos::Center, VPos::Center),
            ))?;
            for (j, &seconds) in matrix.seconds[i].iter().enumerate() {
                if i != j && seconds <= 0.0 {
                    continue;
                }
                let share = if most > 0.0 { seconds / most } else { 0.0 };
                let color = if i == j { DIAGONAL_COLOR } else { shade(share) };
                let corner = (left + j as i32 * cell, top + offset);
                let far = (corner.0 + cell - 2, corner.1 + cell - 2);
                area.draw(&Rectangle::new([corner, far], color.filled()))?;
                let ink = if i != j && share > 0.55 { WHITE } else { BLACK };
                let value = at(HPos::Center, VPos::Center).color(&ink);
                let centre = (corner.0 + cell / 2 - 1, corner.1 + cell / 2 - 1);
                area.draw(&Text::new(cell_label(seconds), centre, value))?;
            }
        }
        Ok(())
    }
}

/// Seconds short enough for a cell: tenths below 100 s, whole seconds below 10 000 s, then
/// hours (a catalog's totals), e.g. `3.4`, `812`, `4.2 h`.
fn cell_label(seconds: f64) -> String {
    if seconds < 100.0 {
        format!("{seconds:.1}")
    } else if seconds < 10_000.0 {
        format!("{seconds:.0}")
    } else {
        format!("{:.1} h", seconds / 3600.0)
    }
}

/// White for 0, [`BAR_COLOR`] for 1.
fn shade(share: f64) -> RGBColor {
    let share = share.clamp(0.0, 1.0);
    let mix = |full: u8| (255.0 - (255.0 - f64::from(full)) * share).round() as u8;
    let RGBColor(r, g, b) = BAR_COLOR;
    RGBColor(mix(r), mix(g), mix(b))
}

type RowsChart<'a, DB> = ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// The frame both charts share: `title` above, an x axis of seconds from 0 to `x_end` below,
/// and one row per name from the top down, each named at its left. In chart coordinates row
/// `rank` spans y from [`slot`] to `slot + 1`.
fn rows_chart<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    names: &[&str],
    x_end: f64,
) -> Result<RowsChart<'a, DB>, DrawingAreaErrorKind<DB::ErrorType>> {
    let label_font = LABEL_FONT.into_font();
    let names: Vec<String> = names
        .iter()
        .map(|name| fit(&escape_controls(name), &label_font, MAX_NAME_WIDTH))
        .collect();
    let name_width = names.iter().map(|name| text_width(name, &label_font)).max();
    let count = names.len();

    let mut chart = ChartBuilder::on(root)
        .caption(escape_controls(title), TITLE_FONT)
        // Room for the last x tick label, which is centred on the plot's right edge.
        .margin_right(24)
        .x_label_area_size(50)
        .y_label_area_size(name_width.unwrap_or(0) + 16)
        .build_cartesian_2d(0f64..x_end, 0f64..count as f64)?;
    // Names are drawn by hand below: axis ticks would not fall on the rows' centres.
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(0)
        .light_line_style(TRANSPARENT)
        .x_desc("seconds")
        .label_style(LABEL_FONT)
        .axis_desc_style(LABEL_FONT)
        .draw()?;

    // Names go left of the plotting area, so they are placed in whole-canvas pixels.
    let name_style = LABEL_FONT
        .into_text_style(root)
        .pos(Pos::new(HPos::Right, VPos::Center));
    let (left, top) = root.get_base_pixel();
    for (rank, name) in names.iter().enumerate() {
        let (x, y) = chart.backend_coord(&(0.0, slot(count, rank) + 0.5));
        let at = (x - left - 8, y - top);
        root.draw(&Text::new(name.as_str(), at, name_style.clone()))?;
    }
    Ok(chart)
}

/// plotters' y axis grows upwards: the first of `count` rows gets the top slot, `count - 1`.
fn slot(count: usize, rank: usize) -> f64 {
    (count - 1 - rank) as f64
}

fn draw_no_faces<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, title: &str) -> Drawn<DB> {
    let area = root.titled(&escape_controls(title), TITLE_FONT)?;
    draw_centred(&area, NO_FACES, 24)
}

fn draw_centred<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    text: &str,
    size: u32,
) -> Drawn<DB> {
    let (width, height) = area.dim_in_pixel();
    let centre = Pos::new(HPos::Center, VPos::Center);
    let style = ("sans-serif", size).into_text_style(area).pos(centre);
    let at = (width as i32 / 2, height as i32 / 2);
    area.draw(&Text::new(text, at, style))
}

/// Widest name label in pixels; longer names are cut so the bars keep most of the width.
const MAX_NAME_WIDTH: u32 = CHART_WIDTH / 3;

fn text_width(text: &str, font: &FontDesc) -> u32 {
    font.box_size(text).map_or(0, |(width, _)| width)
}

/// `name`, or as much of it as fits in `max_width` pixels followed by an ellipsis.
fn fit(name: &str, font: &FontDesc, max_width: u32) -> String {
    if text_width(name, font) <= max_width {
        return name.to_string();
    }
    let mut cut: String = name.to_string();
    while cut.pop().is_some() {
        let shortened = format!("{}…", cut.trim_end());
        if text_width(&shortened, font) <= max_width {
            return shortened;
        }
    }
    "…".to_string()
}

/// Side of the square each face is scaled to fit on a contact sheet.
const SHEET_TILE: u32 = 160;
/// Most tiles in one row of a contact sheet.
const SHEET_COLUMNS: u32 = 6;
/// Space between tiles and around the sheet's edge.
const SHEET_GAP: u32 = 10;
/// Strip under each tile for its name.
const SHEET_LABEL: u32 = 24;
const SHEET_FONT: (&str, u32) = ("sans-serif", 14);
const SHEET_BACKGROUND: Rgb<u8> = Rgb([232, 232, 232]);
/// JPEG's limit on either side of an image.
const JPEG_MAX_SIDE: u32 = 65_535;

/// Writes a contact sheet of `faces` to `path` as JPEG, so a user can check at a glance who
/// each identity is: a grid of up to 6 tiles per row, each face scaled to fit 160 pixels square
/// on a white tile with its name underneath. With no faces the
/// sheet says "no faces found".
pub fn write_contact_sheet(path: &Path, faces: &[(String, RgbImage)]) -> Result<()> {
    if !font_registered() {
        return Err(Error::output(path, "the embedded chart font is unreadable"));
    }
    let count = u32::try_from(faces.len()).unwrap_or(u32::MAX);
    let columns = count.clamp(1, SHEET_COLUMNS);
    let rows = count.div_ceil(SHEET_COLUMNS).max(1);
    let (cell_width, cell_height) = (SHEET_TILE + SHEET_GAP, SHEET_TILE + SHEET_LABEL + SHEET_GAP);
    let width = SHEET_GAP + columns * cell_width;
    let height = rows
        .checked_mul(cell_height)
        .and_then(|h| h.checked_add(SHEET_GAP))
        .filter(|&h| h <= JPEG_MAX_SIDE)
        .ok_or_else(|| {
            Error::output(
                path,
                format!("{} faces are too many for one contact sheet", faces.len()),
            )
        })?;
    let origin = |index: u32| {
        let (column, row) = (index % SHEET_COLUMNS, index / SHEET_COLUMNS);
        (
            SHEET_GAP + column * cell_width,
            SHEET_GAP + row * cell_height,
        )
    };

    let mut sheet = RgbImage::from_pixel(width, height, SHEET_BACKGROUND);
    let tile = RgbImage::from_pixel(SHEET_TILE, SHEET_TILE, Rgb([255, 255, 255]));
    for (index, (_, face)) in (0..).zip(faces) {
        let (x, y) = origin(index);
        imageops::replace(&mut sheet, &tile, x.into(), y.into());
        if face.width() == 0 || face.height() == 0 {
            continue;
        }
        let scale = f64::from(SHEET_TILE) / f64::from(face.width().max(face.height()));
        let side = |pixels: u32| ((f64::from(pixels) * scale).round() as u32).clamp(1, SHEET_TILE);
        let (w, h) = (side(face.width()), side(face.height()));
        let scaled = imageops::resize(face, w, h, imageops::FilterType::Triangle);
        let (dx, dy) = ((SHEET_TILE - w) / 2, (SHEET_TILE - h) / 2);
        imageops::replace(&mut sheet, &scaled, (x + dx).into(), (y + dy).into());
    }

    let draw_failed = |e: String| Error::output(path, format!("cannot draw contact sheet: {e}"));
    let font = SHEET_FONT.into_font();
    let root = BitMapBackend::with_buffer(&mut sheet, (width, height)).into_drawing_area();
    let drawn = if faces.is_empty() {
        draw_centred(&root, NO_FACES, SHEET_FONT.1)
    } else {
        let style = SHEET_FONT
            .into_text_style(&root)
            .pos(Pos::new(HPos::Center, VPos::Center));
        (0..).zip(faces).try_for_each(|(index, (name, _))| {
            let (x, y) = origin(index);
            let at = (
                (x + SHEET_TILE / 2) as i32,
                (y + SHEET_TILE + SHEET_LABEL / 2) as i32,
            );
            let name = fit(name, &font, SHEET_TILE - 4);
            root.draw(&Text::new(name, at, style.clone()))
        })
    };
    drawn
        .and_then(|()| root.present())
        .map_err(|e| draw_failed(e.to_string()))?;
    drop(root);
    write_jpeg(path, &sheet)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_labels_stay_short_from_a_title_to_a_catalog() {
        assert_eq!(cell_label(0.0), "0.0");
        assert_eq!(cell_label(99.94), "99.9");
        assert_eq!(cell_label(812.4), "812");
        assert_eq!(cell_label(15_120.0), "4.2 h");
    }
}
