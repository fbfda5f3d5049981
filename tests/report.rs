//! Result files as a user opens them: the CSV and JSON read back, the charts open and show
//! every identity, the timeline puts bars where the segments are, the JPEGs and contact sheet
//! open with the expected layout, and a failed write names the file and damages nothing
//! written before.

use std::collections::HashMap;
use std::path::Path;

use image::{Rgb, RgbImage};
use screentime::Error;
use screentime::files::atomic::write_json;
use screentime::job::result::{ScreenTime, Segment};
use screentime::output::charts::{write_chart, write_contact_sheet, write_timeline};
use screentime::output::tables::write_screen_time;
use screentime::output::write::write_jpeg;

fn row(name: &str, frames: u64, seconds: f64, first_seen: f64, last_seen: f64) -> ScreenTime {
    ScreenTime {
        name: name.to_string(),
        frames,
        seconds,
        percent: seconds / 120.0 * 100.0,
        first_seen,
        last_seen,
    }
}

/// Deliberately not sorted, with a name that needs CSV quoting.
fn rows() -> Vec<ScreenTime> {
    vec![
        row("Tom Hanks", 40, 20.0, 1.5, 80.25),
        row("unknown_1", 6, 3.0, 12.0, 14.5),
        row("Robin Wright", 110, 55.0, 0.0, 119.875),
        row("O'Neil, Ed", 18, 9.0, 30.125, 60.0),
    ]
}

/// What the CSV holds: values rounded to 3 decimals.
fn rounded(row: &ScreenTime) -> ScreenTime {
    let round = |x: f64| format!("{x:.3}").parse::<f64>().unwrap();
    ScreenTime {
        seconds: round(row.seconds),
        percent: round(row.percent),
        first_seen: round(row.first_seen),
        last_seen: round(row.last_seen),
        ..row.clone()
    }
}

/// Files in `dir` other than `keep`: leftovers such as temporary files.
fn others(dir: &Path, keep: &[&str]) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| !keep.contains(&name.as_str()))
        .collect()
}

fn assert_output_error(result: screentime::Result<()>, path: &Path) {
    let err = result.expect_err("the write should fail");
    assert!(matches!(err, Error::Output { .. }), "{err:?}");
    let message = err.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
}

#[test]
fn csv_reads_back_as_the_same_rows_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.csv");
    write_screen_time(&path, &rows()).unwrap();

    let mut reader = csv::Reader::from_path(&path).unwrap();
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(
        header,
        [
            "name",
            "frames",
            "seconds",
            "percent",
            "first_seen",
            "last_seen"
        ]
    );
    let back: Vec<ScreenTime> = reader.deserialize().map(|r| r.unwrap()).collect();
    assert_eq!(back, rows().iter().map(rounded).collect::<Vec<_>>());

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\nTom Hanks,40,20.000,16.667,1.500,80.250\n"),
        "{text}"
    );
    assert_eq!(
        others(dir.path(), &["screentime.csv"]),
        Vec::<String>::new()
    );
}

#[test]
fn csv_with_no_rows_is_just_the_header() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.csv");
    write_screen_time(&path, &[]).unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "name,frames,seconds,percent,first_seen,last_seen\n"
    );
}

#[test]
fn json_round_trips_and_ends_with_a_newline() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.json");
    write_json(&path, &rows()).unwrap();

    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("]\n"), "{text}");
    assert!(
        text.contains("\n  {\n    \"name\": \"Tom Hanks\""),
        "not pretty: {text}"
    );
    let back: Vec<ScreenTime> = serde_json::from_str(&text).unwrap();
    assert_eq!(back, rows());
}

#[test]
fn png_chart_is_1200_wide_and_grows_with_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let few = dir.path().join("few.png");
    let many = dir.path().join("many.png");
    write_chart(&few, "Forrest Gump", &rows()).unwrap();
    let lots: Vec<ScreenTime> = (0..30)
        .map(|i| row(&format!("unknown_{i}"), i, i as f64, 0.0, i as f64))
        .collect();
    write_chart(&many, "Forrest Gump", &lots).unwrap();

    let few = image::open(&few).unwrap();
    let many = image::open(&many).unwrap();
    assert_eq!(few.width(), 1200);
    assert_eq!(many.width(), 1200);
    assert!(
        many.height() > few.height(),
        "{} <= {}",
        many.height(),
        few.height()
    );
    // Something beyond the white background was drawn.
    let colours: std::collections::HashSet<_> = few.to_rgb8().pixels().map(|p| p.0).collect();
    assert!(colours.len() > 10, "{} colours", colours.len());
}

/// The text elements of an SVG as (y, text), in document order.
fn svg_texts(svg: &str) -> Vec<(f64, String)> {
    svg.split("<text ")
        .skip(1)
        .map(|element| {
            let y = &element[element.find(" y=\"").unwrap() + 4..];
            let y = y[..y.find('"').unwrap()].parse().unwrap();
            let text = &element[element.find('>').unwrap() + 1..element.find("</text>").unwrap()];
            let text = text.trim().replace("&apos;", "'").replace("&amp;", "&");
            (y, text)
        })
        .collect()
}

#[test]
fn svg_chart_shows_title_every_name_and_value_longest_on_top() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.svg");
    write_chart(&path, "Forrest Gump", &rows()).unwrap();

    let svg = std::fs::read_to_string(&path).unwrap();
    assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(200)]);
    let texts = svg_texts(&svg);
    let y_of = |wanted: &str| {
        let found = texts.iter().find(|(_, text)| text == wanted);
        found
            .unwrap_or_else(|| panic!("no {wanted:?} in {texts:?}"))
            .0
    };
    y_of("Forrest Gump");
    y_of("seconds");
    for value in ["55.0 s", "20.0 s", "9.0 s", "3.0 s"] {
        y_of(value);
    }
    let top_down = ["Robin Wright", "Tom Hanks", "O'Neil, Ed", "unknown_1"];
    let ys: Vec<f64> = top_down.iter().map(|name| y_of(name)).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "{top_down:?} at {ys:?}");
}

#[test]
fn chart_with_no_rows_says_no_faces_found() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("empty.svg");
    let png = dir.path().join("empty.png");
    write_chart(&svg, "Silent film", &[]).unwrap();
    write_chart(&png, "Silent film", &[]).unwrap();

    let texts: Vec<String> = svg_texts(&std::fs::read_to_string(&svg).unwrap())
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert_eq!(texts, ["Silent film", "no faces found"]);
    assert_eq!(image::open(&png).unwrap().width(), 1200);
}

#[test]
fn chart_with_another_extension_is_refused_and_the_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.jpg");
    std::fs::write(&path, "earlier").unwrap();

    assert_output_error(write_chart(&path, "t", &rows()), &path);
    assert_output_error(
        write_chart(&dir.path().join("chart"), "t", &rows()),
        &dir.path().join("chart"),
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "earlier");
    assert_eq!(
        others(dir.path(), &["screentime.jpg"]),
        Vec::<String>::new()
    );
}

#[test]
fn write_into_a_missing_or_impossible_folder_names_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-folder");
    std::fs::write(&file, "x").unwrap();
    let missing = dir.path().join("missing");

    for folder in [&file, &missing] {
        let json = folder.join("screentime.json");
        let csv = folder.join("screentime.csv");
        let png = folder.join("screentime.png");
        let svg = folder.join("screentime.svg");
        assert_output_error(write_json(&json, &rows()), &json);
        assert_output_error(write_screen_time(&csv, &rows()), &csv);
        assert_output_error(write_chart(&png, "t", &rows()), &png);
        assert_output_error(write_chart(&svg, "t", &rows()), &svg);
    }
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "x");
    assert!(!missing.exists());
}

#[test]
fn a_write_that_fails_halfway_leaves_the_earlier_file_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.json");
    write_json(&path, &rows()).unwrap();
    let earlier = std::fs::read(&path).unwrap();

    // JSON object keys must be strings: serde_json fails after it has started writing.
    let bad: HashMap<(u8, u8), u8> = [((1, 2), 3)].into();
    assert_output_error(write_json(&path, &bad), &path);

    assert_eq!(std::fs::read(&path).unwrap(), earlier);
    assert_eq!(
        others(dir.path(), &["screentime.json"]),
        Vec::<String>::new()
    );
}

#[test]
fn a_write_replaces_an_earlier_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.csv");
    std::fs::write(
        &path,
        "stale contents that are longer than the new file ".repeat(50),
    )
    .unwrap();
    write_screen_time(&path, &rows()[..1]).unwrap();
    assert_eq!(csv::Reader::from_path(&path).unwrap().records().count(), 1);
}

#[cfg(unix)]
#[test]
fn result_files_get_the_same_permissions_as_any_new_file() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("screentime.json");
    let plain = dir.path().join("plain");
    write_json(&path, &rows()).unwrap();
    std::fs::write(&plain, "").unwrap();
    // Not the 0600 of a bare temporary file: others can read results if the umask allows.
    assert_eq!(mode(&path), mode(&plain));
}

#[test]
fn a_very_long_name_is_shortened_with_an_ellipsis_not_clipped() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("long.svg");
    let long = "Sir Anthony Hopkins the Very Long Named Actor of Many Films ".repeat(3);
    write_chart(&path, "t", &[row(&long, 1, 1.0, 0.0, 1.0)]).unwrap();

    let texts = svg_texts(&std::fs::read_to_string(&path).unwrap());
    let name = texts
        .iter()
        .find(|(_, text)| text.starts_with("Sir Anthony"));
    let (_, name) = name.unwrap_or_else(|| panic!("no name in {texts:?}"));
    assert!(name.ends_with('…') && name.len() < long.len(), "{name}");
}

/// Segments for [`rows`], plus one of a name the rows leave out.
fn segments() -> Vec<Segment> {
    vec![
        Segment::new("Robin Wright", 0.0, 30.0),
        Segment::new("Tom Hanks", 10.0, 25.0),
        Segment::new("Robin Wright", 60.0, 85.0),
        Segment::new("O'Neil, Ed", 40.0, 49.0),
        Segment::new("unknown_1", 100.0, 103.0),
        Segment::new("Left Out", 0.0, 120.0),
    ]
}

/// The (width, height) an SVG declares.
fn svg_size(svg: &str) -> (u32, u32) {
    let attribute = |name: &str| {
        let start = svg.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
        svg[start..start + svg[start..].find('"').unwrap()]
            .parse()
            .unwrap()
    };
    (attribute("width"), attribute("height"))
}

/// Colours other than white, most frequent first.
fn colours_by_count(image: &RgbImage) -> Vec<([u8; 3], usize)> {
    let mut counts: HashMap<[u8; 3], usize> = HashMap::new();
    for pixel in image.pixels().filter(|p| p.0 != [255, 255, 255]) {
        *counts.entry(pixel.0).or_default() += 1;
    }
    let mut counts: Vec<_> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    counts
}

/// Smallest (min_x, min_y, max_x, max_y) around every pixel that `wanted` accepts.
fn bounding_box(image: &RgbImage, wanted: impl Fn(&Rgb<u8>) -> bool) -> (u32, u32, u32, u32) {
    let found = image.enumerate_pixels().filter(|(_, _, p)| wanted(p));
    found
        .fold(None, |acc, (x, y, _)| match acc {
            None => Some((x, y, x, y)),
            Some((x0, y0, x1, y1)) => Some((x0.min(x), y0.min(y), x1.max(x), y1.max(y))),
        })
        .expect("no such pixel")
}

/// The one timeline bar of a one-identity, one-segment PNG: its colour and bounding box,
/// checked to be a solid rectangle of real size.
fn only_bar(path: &Path) -> ([u8; 3], (u32, u32, u32, u32)) {
    let image = image::open(path).unwrap().to_rgb8();
    // The bar outweighs the text, axes and grid lines by far.
    let colour = colours_by_count(&image)[0].0;
    let bar = bounding_box(&image, |p| p.0 == colour);
    let (x0, y0, x1, y1) = bar;
    assert!(x1 - x0 > 200 && y1 - y0 > 10, "bar {bar:?} too small");
    for y in y0..=y1 {
        for x in x0..=x1 {
            assert_eq!(
                image.get_pixel(x, y).0,
                colour,
                "hole in bar {bar:?} at {x},{y}"
            );
        }
    }
    (colour, bar)
}

#[test]
fn timeline_bar_covers_its_segment_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let jenny = [row("Jenny", 50, 5.0, 5.0, 10.0)];
    let write = |name: &str, start: f64, end: f64| {
        let path = dir.path().join(name);
        write_timeline(
            &path,
            "t",
            &jenny,
            &[Segment::new("Jenny", start, end)],
            10.0,
        )
        .unwrap();
        path
    };
    let second_half = write("second.png", 5.0, 10.0);
    let first_half = write("first.png", 0.0, 5.0);
    let whole = write("whole.png", 0.0, 10.0);

    let (colour, (x0, y0, x1, y1)) = only_bar(&second_half);
    let (_, first) = only_bar(&first_half);
    let (_, all) = only_bar(&whole);
    // The three bars sit on one row and split the axis in two equal halves.
    assert_eq!((first.1, first.3, all.1, all.3), (y0, y1, y0, y1));
    assert_eq!(all.0, first.0, "{all:?} {first:?}");
    assert_eq!(all.2, x1, "{all:?} ends elsewhere than {x1}");
    assert!(first.2.abs_diff(x0) <= 2, "{first:?} and {x0}");
    assert!(
        (x1 - x0).abs_diff(first.2 - first.0) <= 2,
        "{first:?} vs {x0}..{x1}"
    );

    // Left of the second-half bar, along its row: background and grid lines, no bar.
    let image = image::open(&second_half).unwrap().to_rgb8();
    for y in [y0 + 2, (y0 + y1) / 2, y1 - 2] {
        let left: Vec<[u8; 3]> = (first.0 + 2..first.2 - 2)
            .map(|x| image.get_pixel(x, y).0)
            .collect();
        assert!(
            !left.contains(&colour),
            "bar colour left of the segment at y {y}"
        );
        let white = left.iter().filter(|p| **p == [255, 255, 255]).count();
        assert!(
            white * 10 >= left.len() * 9,
            "{white} of {} white",
            left.len()
        );
    }
}

#[test]
fn timeline_ignores_segments_of_names_not_in_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let jenny = [row("Jenny", 50, 5.0, 5.0, 10.0)];
    let seen = [Segment::new("Jenny", 2.0, 7.0)];
    let with_ghost = [
        Segment::new("Ghost", 0.0, 100.0),
        seen[0].clone(),
        Segment::new("Ghost", 8.0, 9.0),
    ];
    // Also without a usable duration: then the axis ends at the last shown segment.
    for video_seconds in [10.0, f64::NAN, 0.0] {
        let plain = dir.path().join("plain.png");
        let ghost = dir.path().join("ghost.png");
        write_timeline(&plain, "t", &jenny, &seen, video_seconds).unwrap();
        write_timeline(&ghost, "t", &jenny, &with_ghost, video_seconds).unwrap();
        let plain = image::open(&plain).unwrap().to_rgb8();
        let ghost = image::open(&ghost).unwrap().to_rgb8();
        assert!(
            plain == ghost,
            "the ghost changed the picture at {video_seconds} s"
        );
    }
}

#[test]
fn timelines_grow_with_the_rows_and_give_each_row_its_own_colour() {
    let dir = tempfile::tempdir().unwrap();
    let lots: Vec<ScreenTime> = (0..30)
        .map(|i| row(&format!("unknown_{i}"), i, 2.0, 0.0, 2.0))
        .collect();
    let lots_segments: Vec<Segment> = (0..30)
        .map(|i| {
            Segment::new(
                &format!("unknown_{i}"),
                i as f64 * 4.0,
                i as f64 * 4.0 + 2.0,
            )
        })
        .collect();
    let mut sizes = Vec::new();
    for (name, rows, segments) in [("few", rows(), segments()), ("many", lots, lots_segments)] {
        let png = dir.path().join(format!("{name}.png"));
        let svg = dir.path().join(format!("{name}.svg"));
        write_timeline(&png, "Forrest Gump", &rows, &segments, 120.0).unwrap();
        write_timeline(&svg, "Forrest Gump", &rows, &segments, 120.0).unwrap();
        let png = image::open(&png).unwrap();
        let svg = svg_size(&std::fs::read_to_string(&svg).unwrap());
        assert_eq!((png.width(), png.height()), svg);
        sizes.push(svg);
    }
    assert_eq!(sizes[0].0, 1200);
    assert_eq!(sizes[1].0, 1200);
    assert!(sizes[1].1 > sizes[0].1, "{sizes:?}");

    // One identity per row: each bar's colour differs from its neighbours'.
    let path = dir.path().join("three.png");
    let three = [
        row("a", 1, 4.0, 0.0, 4.0),
        row("b", 1, 4.0, 4.0, 8.0),
        row("c", 1, 4.0, 8.0, 12.0),
    ];
    let bars = [
        Segment::new("a", 0.0, 4.0),
        Segment::new("b", 4.0, 8.0),
        Segment::new("c", 8.0, 12.0),
    ];
    write_timeline(&path, "t", &three, &bars, 12.0).unwrap();
    let image = image::open(&path).unwrap().to_rgb8();
    let colours: Vec<[u8; 3]> = colours_by_count(&image)[..3].iter().map(|c| c.0).collect();
    let tops: Vec<u32> = colours
        .iter()
        .map(|c| bounding_box(&image, |p| p.0 == *c).1)
        .collect();
    let lefts: Vec<u32> = colours
        .iter()
        .map(|c| bounding_box(&image, |p| p.0 == *c).0)
        .collect();
    // The three most common colours are the three bars: on three rows, "a" at the top left.
    let mut order: Vec<usize> = (0..3).collect();
    order.sort_by_key(|&i| tops[i]);
    assert!(
        tops[order[0]] < tops[order[1]] && tops[order[1]] < tops[order[2]],
        "{tops:?}"
    );
    assert!(
        lefts[order[0]] < lefts[order[1]] && lefts[order[1]] < lefts[order[2]],
        "{lefts:?} by {tops:?}"
    );
}

#[test]
fn svg_timeline_names_the_rows_top_down_in_the_given_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeline.svg");
    // Not sorted by seconds: the timeline keeps the caller's order.
    write_timeline(&path, "Forrest Gump", &rows(), &segments(), 120.0).unwrap();

    let svg = std::fs::read_to_string(&path).unwrap();
    let texts = svg_texts(&svg);
    let y_of = |wanted: &str| {
        let found = texts.iter().find(|(_, text)| text == wanted);
        found
            .unwrap_or_else(|| panic!("no {wanted:?} in {texts:?}"))
            .0
    };
    y_of("Forrest Gump");
    y_of("seconds");
    let top_down = ["Tom Hanks", "unknown_1", "Robin Wright", "O'Neil, Ed"];
    let ys: Vec<f64> = top_down.iter().map(|name| y_of(name)).collect();
    assert!(ys.windows(2).all(|w| w[0] < w[1]), "{top_down:?} at {ys:?}");
    assert!(
        !texts.iter().any(|(_, text)| text == "Left Out"),
        "{texts:?}"
    );
    // Five shown segments: one filled rectangle each, besides the background.
    let rects = svg.matches("<rect").count();
    assert!(rects >= 5, "{rects} rectangles");
}

#[test]
fn timeline_with_no_rows_says_no_faces_found() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("empty.svg");
    let png = dir.path().join("empty.png");
    write_timeline(&svg, "Silent film", &[], &segments(), 120.0).unwrap();
    write_timeline(&png, "Silent film", &[], &segments(), 120.0).unwrap();

    let texts: Vec<String> = svg_texts(&std::fs::read_to_string(&svg).unwrap())
        .into_iter()
        .map(|(_, text)| text)
        .collect();
    assert_eq!(texts, ["Silent film", "no faces found"]);
    assert_eq!(image::open(&png).unwrap().width(), 1200);
}

#[test]
fn timeline_with_another_extension_is_refused_and_the_file_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("timeline.jpg");
    std::fs::write(&path, "earlier").unwrap();
    let bare = dir.path().join("timeline");

    assert_output_error(
        write_timeline(&path, "t", &rows(), &segments(), 120.0),
        &path,
    );
    assert_output_error(
        write_timeline(&bare, "t", &rows(), &segments(), 120.0),
        &bare,
    );
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "earlier");
    assert_eq!(others(dir.path(), &["timeline.jpg"]), Vec::<String>::new());
}

fn is_jpeg(path: &Path) -> bool {
    let bytes = std::fs::read(path).unwrap();
    image::guess_format(&bytes).ok() == Some(image::ImageFormat::Jpeg)
}

#[test]
fn jpeg_reads_back_with_the_same_size_and_colour() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("face.jpg");
    write_jpeg(&path, &RgbImage::from_pixel(37, 23, Rgb([200, 40, 60]))).unwrap();

    assert!(is_jpeg(&path));
    let back = image::open(&path).unwrap().to_rgb8();
    assert_eq!(back.dimensions(), (37, 23));
    let [r, g, b] = back.get_pixel(18, 11).0;
    assert!(r.abs_diff(200) < 8 && g.abs_diff(40) < 8 && b.abs_diff(60) < 8);
    assert_eq!(others(dir.path(), &["face.jpg"]), Vec::<String>::new());

    let missing = dir.path().join("missing").join("face.jpg");
    assert_output_error(write_jpeg(&missing, &RgbImage::new(4, 4)), &missing);
}

/// Saturated colours far enough apart to tell apart after JPEG compression.
const FACE_COLOURS: [[u8; 3]; 7] = [
    [220, 30, 30],
    [30, 170, 30],
    [30, 30, 220],
    [230, 210, 20],
    [200, 30, 200],
    [20, 200, 200],
    [120, 60, 10],
];

fn faces(count: usize) -> Vec<(String, RgbImage)> {
    (0..count)
        .map(|i| {
            // Sizes vary: tiles are laid out the same whatever the faces' sizes.
            let side = 40 + 30 * i as u32;
            let face = RgbImage::from_pixel(side, side, Rgb(FACE_COLOURS[i]));
            (format!("Actor {i}"), face)
        })
        .collect()
}

fn near(pixel: &Rgb<u8>, colour: [u8; 3]) -> bool {
    pixel.0.iter().zip(colour).all(|(a, b)| a.abs_diff(b) < 40)
}

fn sheet(dir: &Path, name: &str, faces: &[(String, RgbImage)]) -> RgbImage {
    let path = dir.join(name);
    write_contact_sheet(&path, faces).unwrap();
    assert!(is_jpeg(&path), "{name} is not a JPEG");
    image::open(&path).unwrap().to_rgb8()
}

#[test]
fn contact_sheet_lays_faces_out_six_to_a_row() {
    let dir = tempfile::tempdir().unwrap();
    let one = sheet(dir.path(), "one.jpg", &faces(1));
    let six = sheet(dir.path(), "six.jpg", &faces(6));
    let seven = sheet(dir.path(), "seven.jpg", &faces(7));

    // Each face fills its 160-pixel tile (all are square); the boxes give the grid.
    let tiles: Vec<(u32, u32, u32, u32)> = FACE_COLOURS
        .iter()
        .map(|&c| bounding_box(&seven, |p| near(p, c)))
        .collect();
    for (i, &(x0, y0, x1, y1)) in tiles.iter().enumerate() {
        assert!((x1 - x0 + 1).abs_diff(160) <= 2, "tile {i}: {:?}", tiles[i]);
        assert!((y1 - y0 + 1).abs_diff(160) <= 2, "tile {i}: {:?}", tiles[i]);
    }
    let pitch = tiles[1].0 - tiles[0].0;
    assert!(pitch >= 160, "tiles overlap: {tiles:?}");
    for i in 1..6 {
        assert!(tiles[i].1.abs_diff(tiles[0].1) <= 1, "{tiles:?}");
        assert!(
            (tiles[i].0 - tiles[i - 1].0).abs_diff(pitch) <= 1,
            "{tiles:?}"
        );
    }
    // The seventh starts a second row under the first.
    assert!(tiles[6].0.abs_diff(tiles[0].0) <= 1, "{tiles:?}");
    let row_pitch = tiles[6].1 - tiles[0].1;
    assert!(row_pitch > 160, "{tiles:?}");

    // Sheets are as big as their grid: one tile, one full row, two rows.
    assert_eq!(six.width(), one.width() + 5 * pitch);
    assert_eq!(seven.width(), six.width());
    assert_eq!(six.height(), one.height());
    assert_eq!(seven.height(), six.height() + row_pitch);
    assert!(
        one.width() >= 160 && one.height() >= 160,
        "{:?}",
        one.dimensions()
    );
    assert!(one.width() < 2 * 160, "{:?}", one.dimensions());
}

#[test]
fn contact_sheet_keeps_each_faces_shape_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let wide = RgbImage::from_pixel(80, 40, Rgb([30, 30, 220]));
    let long = "Sir Anthony Hopkins the Very Long Named Actor of Many Films".to_string();
    let image = sheet(dir.path(), "wide.jpg", &[(long, wide)]);

    // Scaled to fit the tile, aspect kept and centred on white.
    let (x0, y0, x1, y1) = bounding_box(&image, |p| near(p, [30, 30, 220]));
    assert!((x1 - x0 + 1).abs_diff(160) <= 2, "{:?}", (x0, y0, x1, y1));
    assert!((y1 - y0 + 1).abs_diff(80) <= 2, "{:?}", (x0, y0, x1, y1));
    let (mid_x, above, below) = ((x0 + x1) / 2, y0 - 20, y1 + 20);
    for y in [above, below] {
        let [r, g, b] = image.get_pixel(mid_x, y).0;
        assert!(r > 240 && g > 240 && b > 240, "not white at {mid_x},{y}");
    }
    // The name: dark text in the strip under the tile (the face's tile ends 40 px below it).
    let text = (y1 + 41..image.height())
        .flat_map(|y| (0..image.width()).map(move |x| (x, y)))
        .filter(|&(x, y)| image.get_pixel(x, y).0.iter().all(|&c| c < 100))
        .count();
    assert!(text > 50, "{text} dark pixels under the tile");
}

#[test]
fn contact_sheet_of_no_faces_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let empty = sheet(dir.path(), "empty.jpg", &[]);
    let one = sheet(dir.path(), "one.jpg", &faces(1));
    assert_eq!(empty.dimensions(), one.dimensions());
    let dark = empty
        .pixels()
        .filter(|p| p.0.iter().all(|&c| c < 100))
        .count();
    assert!(dark > 50, "no text: {dark} dark pixels");

    let missing = dir.path().join("missing").join("sheet.jpg");
    assert_output_error(write_contact_sheet(&missing, &faces(2)), &missing);
}
