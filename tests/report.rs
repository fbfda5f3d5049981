//! Result files as a user opens them: the CSV and JSON read back, the charts open and show
//! every identity, and a failed write names the file and damages nothing written before.

use std::collections::HashMap;
use std::path::Path;

use screentime::Error;
use screentime::report::{ScreenTime, write_chart, write_csv, write_json};

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
    write_csv(&path, &rows()).unwrap();

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
    write_csv(&path, &[]).unwrap();
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
        assert_output_error(write_csv(&csv, &rows()), &csv);
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
    write_csv(&path, &rows()[..1]).unwrap();
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
