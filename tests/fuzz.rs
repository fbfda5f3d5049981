//! Property-based fuzzing of the two parsers that read files users hand over: the cast
//! embeddings file (`--cast screentime-cast.json`) and the batch catalog manifest. Seeds are the
//! corpus in tests/fuzz/corpus; each is also cut short and corrupted at random. Whatever the
//! bytes, a parser answers Ok or a one-line error naming the file, and never panics.
//! More cases: `PROPTEST_CASES=100000 cargo test --test fuzz`.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use screentime::commands::batch::titles::parse_manifest;
use screentime::face::model::EmbedderKind;
use screentime::identity::cast::parse_cast_file;

const EMBEDDER: &str = "c93295d95ee645f388e842532690d97aae99da64960831e1a7998c6534e9b761";

fn corpus(kind: &str) -> Vec<(PathBuf, String)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz/corpus")
        .join(kind);
    let mut seeds: Vec<(PathBuf, String)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let path = e.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            (path, text)
        })
        .collect();
    seeds.sort();
    assert!(!seeds.is_empty());
    seeds
}

/// A seed cut at `cut` (a fraction of its length) with up to three bytes overwritten.
fn mutate(seed: &str, cut: f64, flips: &[(f64, u8)]) -> String {
    let mut bytes = seed.as_bytes().to_vec();
    bytes.truncate((bytes.len() as f64 * cut) as usize);
    for &(at, byte) in flips {
        if !bytes.is_empty() {
            let i = ((bytes.len() - 1) as f64 * at) as usize;
            bytes[i] = byte;
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

fn check_cast(text: &str) {
    let path = Path::new("cast/screentime-cast.json");
    if let Err(err) = parse_cast_file(path, text, EMBEDDER, EmbedderKind::Dlib) {
        let message = err.to_string();
        assert!(
            message.starts_with("cast/screentime-cast.json: "),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1, "{message}");
    }
}

#[test]
fn cast_seeds_parse_as_expected() {
    let results: Vec<(String, bool)> = corpus("cast")
        .iter()
        .map(|(path, text)| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                parse_cast_file(path, text, EMBEDDER, EmbedderKind::Dlib).is_ok(),
            )
        })
        .collect();
    let expected = [
        ("short_descriptor.json", false),
        ("valid.json", true),
        ("with_faceless_photo.json", true),
        ("wrong_format.json", false),
    ];
    let expected: Vec<(String, bool)> = expected
        .iter()
        .map(|(n, ok)| (n.to_string(), *ok))
        .collect();
    assert_eq!(results, expected);
    let (path, text) = &corpus("cast")[1];
    let cast = parse_cast_file(path, text, EMBEDDER, EmbedderKind::Dlib).unwrap();
    assert_eq!(cast.names(), ["Barack Obama"]);
    assert!(parse_cast_file(path, text, "another embedder", EmbedderKind::Dlib).is_err());
}

#[test]
fn manifest_seeds_parse_as_expected() {
    let parsed: Vec<Result<usize, String>> = corpus("manifest")
        .iter()
        .map(|(_, text)| parse_manifest(text, Path::new("/catalog")).map(|titles| titles.len()))
        .collect();
    assert_eq!(parsed[0], Ok(3)); // csv_with_casts.csv
    assert_eq!(parsed[1], Ok(2)); // lines.txt
    assert!(parsed[2].as_ref().unwrap_err().starts_with("line 1: "));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn cast_file_reader_never_panics(
        seed in 0usize..4,
        cut in 0.0f64..=1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..3),
    ) {
        let seeds = corpus("cast");
        check_cast(&mutate(&seeds[seed].1, cut, &flips));
    }

    #[test]
    fn cast_file_reader_takes_any_text(text in ".{0,300}") {
        check_cast(&text);
    }

    #[test]
    fn manifest_parser_never_panics(
        seed in 0usize..3,
        cut in 0.0f64..=1.0,
        flips in proptest::collection::vec((0.0f64..1.0, any::<u8>()), 0..3),
        text in ".{0,200}",
    ) {
        let seeds = corpus("manifest");
        for input in [mutate(&seeds[seed].1, cut, &flips), text] {
            if let Err(message) = parse_manifest(&input, Path::new("/catalog")) {
                prop_assert!(message.starts_with("line "), "{}", message);
            }
        }
    }

    /// Titles written one per line, some with a cast column, read back as written.
    #[test]
    fn manifest_round_trips(
        rows in proptest::collection::vec(("[a-z0-9 _/.-]{1,20}[a-z0-9]", proptest::option::of("[a-z0-9_/]{1,10}")), 1..8),
    ) {
        let text: String = rows
            .iter()
            .map(|(video, cast)| match cast {
                Some(cast) => format!("{video},{cast}\n"),
                None => format!("{video}\n"),
            })
            .collect();
        let titles = parse_manifest(&text, Path::new("/catalog")).unwrap();
        let names: Vec<&str> = titles.iter().map(|t| t.name.as_str()).collect();
        // A first line naming the columns is a header, not a title.
        let header = rows[0].0.trim().eq_ignore_ascii_case("video");
        let rows = &rows[usize::from(header)..];
        let expected: Vec<&str> = rows.iter().map(|(v, _)| v.trim()).collect();
        prop_assert_eq!(names, expected);
        for (title, (_, cast)) in titles.iter().zip(rows) {
            prop_assert_eq!(title.cast.clone(), cast.as_ref().map(|c| Path::new("/catalog").join(c)));
        }
    }
}
