//! `screentime lookalike`, `similarity`, `group` and `search` through the binary, on real faces:
//! the registry photos always, `../shared/data` where this machine has it.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::{
    make_video, measure_every_frame, obama_cast, registry_photo, screentime, shared_data, succeeded,
};
use serde_json::{Value, json};

/// Copies every file under `from` (recursively) into `to`, keeping the layout.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_tree(&path, &target);
        } else {
            std::fs::copy(&path, &target).unwrap();
        }
    }
}

/// A cast of Barack Obama (obama.jpg) and Joe Biden (biden.jpg).
fn obama_biden_cast(dir: &Path) -> PathBuf {
    let cast = obama_cast(dir);
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    cast
}

fn similarity(a: &Path, b: &Path) -> Value {
    let stdout = succeeded(screentime(&[
        "similarity".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--json".as_ref(),
    ]));
    serde_json::from_str(&stdout).unwrap()
}

#[test]
fn similarity_tells_same_person_from_different_people() {
    let same = similarity(&registry_photo("obama.jpg"), &registry_photo("obama2.jpg"));
    assert!(same["distance"].as_f64().unwrap() < 0.6, "{same}");
    assert_eq!(same["verdict"], "same person");
    let different = similarity(&registry_photo("obama.jpg"), &registry_photo("biden.jpg"));
    assert!(
        different["distance"].as_f64().unwrap() >= 0.6,
        "{different}"
    );
    assert_eq!(different["verdict"], "different people");

    // The table form says the same in words.
    let text = succeeded(screentime(&[
        "similarity".as_ref(),
        registry_photo("obama.jpg").as_os_str(),
        registry_photo("obama2.jpg").as_os_str(),
    ]));
    assert!(text.contains("same person"), "{text}");
}

#[test]
fn similarity_of_a_photo_without_a_face_is_an_error_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let blank = tmp.path().join("blank.png");
    image::RgbImage::from_pixel(200, 200, image::Rgb([90, 90, 90]))
        .save(&blank)
        .unwrap();
    let output = screentime(&[
        "similarity".as_ref(),
        registry_photo("obama.jpg").as_os_str(),
        blank.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("blank.png") && stderr.contains("no face found"),
        "{stderr}"
    );
}

/// Runs `lookalike --json` and returns each face's matches as (name, distance), left to right.
fn lookalike(photo: &Path, cast: &Path, extra: &[&str]) -> Vec<Vec<(String, f64)>> {
    let mut args: Vec<&OsStr> = vec![
        "lookalike".as_ref(),
        photo.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--json".as_ref(),
    ];
    args.extend(extra.iter().map(OsStr::new));
    // One JSON line per face.
    let faces: Vec<Value> = succeeded(screentime(&args))
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    // Left to right.
    let lefts: Vec<f64> = faces
        .iter()
        .map(|f| f["box"]["x1"].as_f64().unwrap())
        .collect();
    assert!(lefts.is_sorted(), "{lefts:?}");
    faces
        .iter()
        .map(|face| {
            face["matches"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| {
                    (
                        m["name"].as_str().unwrap().to_string(),
                        m["distance"].as_f64().unwrap(),
                    )
                })
                .collect()
        })
        .collect()
}

#[test]
fn lookalike_ranks_the_right_person_first() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_biden_cast(tmp.path());
    let faces = lookalike(&registry_photo("obama2.jpg"), &cast, &[]);
    assert_eq!(faces.len(), 1);
    assert_eq!(faces[0][0].0, "Barack Obama", "{faces:?}");
    // Biden is farther than the threshold: left out.
    assert_eq!(faces[0].len(), 1, "{faces:?}");
    // With a looser threshold he is second, and the table says so.
    let faces = lookalike(
        &registry_photo("obama2.jpg"),
        &cast,
        &["--threshold", "0.9"],
    );
    let names: Vec<&str> = faces[0].iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["Barack Obama", "Joe Biden"]);
    assert!(faces[0][0].1 < faces[0][1].1);

    let table = succeeded(screentime(&[
        "lookalike".as_ref(),
        registry_photo("obama2.jpg").as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
    ]));
    let row = table.lines().nth(1).unwrap();
    assert!(row.contains("Barack Obama"), "{table}");
}

/// groups.csv as (photo file name -> groups of its faces), plus the rows.
fn read_groups(out: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut csv = csv::Reader::from_path(out.join("groups.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap(),
        vec!["photo", "x1", "y1", "x2", "y2", "group"]
    );
    let mut photos: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in csv.records() {
        let row = row.unwrap();
        let name = Path::new(&row[0])
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        photos.entry(name).or_default().insert(row[5].to_string());
    }
    photos
}

/// The photos of each group (ungrouped left out).
fn by_group(photos: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    let mut groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (photo, labels) in photos {
        for label in labels.iter().filter(|l| *l != "ungrouped") {
            groups
                .entry(label.clone())
                .or_default()
                .insert(photo.clone());
        }
    }
    groups
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn group_sorts_registry_photos_into_two_people() {
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(photos.join("more")).unwrap();
    for name in ["obama.jpg", "obama2.jpg", "biden.jpg"] {
        std::fs::copy(registry_photo(name), photos.join(name)).unwrap();
    }
    // Found recursively.
    std::fs::copy(registry_photo("obama3.jpg"), photos.join("more/obama3.jpg")).unwrap();
    std::fs::copy(registry_photo("biden.jpg"), photos.join("joe.jpg")).unwrap();

    let out = tmp.path().join("out");
    let summary = succeeded(screentime(&[
        "group".as_ref(),
        photos.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--link".as_ref(),
    ]));
    assert!(summary.contains("2 groups"), "{summary}");
    let obama = set(&["obama.jpg", "obama2.jpg", "obama3.jpg"]);
    let biden = set(&["biden.jpg", "joe.jpg"]);
    // Numbered by first appearance in sorted path order: biden.jpg comes first.
    let expected = BTreeMap::from([
        ("person_1".to_string(), biden.clone()),
        ("person_2".to_string(), obama.clone()),
    ]);
    assert_eq!(by_group(&read_groups(&out)), expected);
    // One link per photo of the group, pointing at it; running again replaces them.
    let linked = |group: &str| -> BTreeSet<String> {
        std::fs::read_dir(out.join(group))
            .unwrap()
            .map(|e| {
                let path = e.unwrap().path();
                assert!(path.symlink_metadata().unwrap().is_symlink());
                assert!(path.metadata().unwrap().is_file(), "{}", path.display());
                path.file_name().unwrap().to_string_lossy().into_owned()
            })
            .collect()
    };
    assert_eq!(linked("person_1"), biden);
    assert_eq!(
        linked("person_2"),
        set(&["obama.jpg", "obama2.jpg", "more%2Fobama3.jpg"])
    );

    // With a cast the groups take its names; --person lists that group's photos.
    let cast = obama_biden_cast(tmp.path());
    let listed = succeeded(screentime(&[
        "group".as_ref(),
        photos.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--link".as_ref(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--person".as_ref(),
        "Barack Obama".as_ref(),
    ]));
    let expected = BTreeMap::from([
        ("Barack Obama".to_string(), obama.clone()),
        ("Joe Biden".to_string(), biden),
    ]);
    assert_eq!(by_group(&read_groups(&out)), expected);
    let listed: BTreeSet<String> = listed
        .lines()
        .map(|l| {
            Path::new(l)
                .file_name()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(listed, obama);
    assert_eq!(linked("Barack Obama").len(), 3);
}

#[test]
fn search_finds_a_person_in_finished_results() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = tmp.path().join("short.mp4");
    let spec = json!({"width": 640, "height": 360, "fps": 25.0, "segments": [
        {"blank": 1.0},
        {"image": registry_photo("obama2.jpg").display().to_string(), "seconds": 1.0, "motion": "still"},
        {"blank": 0.5},
        {"image": registry_photo("obama3.jpg").display().to_string(), "seconds": 0.5, "motion": "still"},
    ]});
    make_video(&spec, &video);
    let out = tmp.path().join("out");
    measure_every_frame(&video, &cast, &out);

    let table = succeeded(screentime(&[
        "search".as_ref(),
        "Barack Obama".as_ref(),
        out.as_os_str(),
    ]));
    // One row per appearance: two here.
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(lines[0].starts_with("title"), "{table}");
    for (line, truth) in lines[1..].iter().zip([(1.0, 2.0), (2.5, 3.0)]) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(fields[0], "short.mp4", "{table}");
        let numbers: Vec<f64> = fields[1..].iter().map(|f| f.parse().unwrap()).collect();
        let (start, end, seconds) = (numbers[0], numbers[1], numbers[2]);
        assert!((start - truth.0).abs() <= 0.08, "{table}");
        assert!((end - truth.1).abs() <= 0.08, "{table}");
        assert!((seconds - (truth.1 - truth.0)).abs() <= 0.12, "{table}");
    }

    // Someone who is not there: no rows. A folder without results: exit 1, naming it.
    let none = succeeded(screentime(&[
        "search".as_ref(),
        "Joe Biden".as_ref(),
        out.as_os_str(),
    ]));
    assert_eq!(none.lines().count(), 1, "{none}");
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let output = screentime(&[
        "search".as_ref(),
        "Barack Obama".as_ref(),
        empty.as_os_str(),
    ]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("empty") && stderr.contains("no screen-time results"),
        "{stderr}"
    );
}

#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn group_finds_the_five_knn_people() {
    let knn = shared_data("knn");
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for person in std::fs::read_dir(knn.join("train")).unwrap() {
        let person = person.unwrap().path();
        for photo in std::fs::read_dir(&person).unwrap() {
            let photo = photo.unwrap().path();
            let name = format!(
                "{}_{}",
                person.file_name().unwrap().to_string_lossy(),
                photo.file_name().unwrap().to_string_lossy()
            );
            std::fs::copy(&photo, photos.join(name)).unwrap();
        }
    }
    for photo in std::fs::read_dir(knn.join("test")).unwrap() {
        let photo = photo.unwrap().path();
        std::fs::copy(&photo, photos.join(photo.file_name().unwrap())).unwrap();
    }
    let out = tmp.path().join("out");
    succeeded(screentime(&[
        "group".as_ref(),
        photos.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--min-photos".as_ref(),
        "2".as_ref(),
    ]));
    let photos = read_groups(&out);
    let groups = by_group(&photos);
    let people: BTreeSet<BTreeSet<String>> = groups.values().cloned().collect();
    let expected: BTreeSet<BTreeSet<String>> = [
        set(&["alex_lacamoire_img1.jpg", "alex_lacamoire1.jpg"]),
        set(&["biden_biden.jpg", "biden_biden2.jpg", "obama_and_biden.jpg"]),
        set(&[
            "kit_harington_john1.jpeg",
            "kit_harington_john2.jpeg",
            "johnsnow_test1.jpg",
            "kit_with_rose.jpg",
        ]),
        set(&[
            "obama_obama.jpg",
            "obama_obama2.jpg",
            "obama1.jpg",
            "obama_and_biden.jpg",
        ]),
        set(&[
            "rose_leslie_img1.jpg",
            "rose_leslie_img2.jpg",
            "kit_with_rose.jpg",
        ]),
    ]
    .into_iter()
    .collect();
    assert_eq!(people, expected, "{groups:?}");
    // The girl in obama_and_biden.jpg is in no other photo: her face stays ungrouped.
    assert_eq!(
        photos["obama_and_biden.jpg"],
        groups
            .iter()
            .filter(|(_, p)| p.contains("obama_and_biden.jpg"))
            .map(|(g, _)| g.clone())
            .chain(["ungrouped".to_string()])
            .collect::<BTreeSet<_>>()
    );
}

#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn lookalike_names_each_knn_test_face() {
    let knn = shared_data("knn");
    let tmp = tempfile::tempdir().unwrap();
    // A copy: the cast cache is written beside the photos and shared data is read-only.
    let cast = tmp.path().join("cast");
    copy_tree(&knn.join("train"), &cast);
    // The expected first-ranked name of each face, left to right (None: anyone or no one).
    let cases: [(&str, &[Option<&str>]); 5] = [
        ("alex_lacamoire1.jpg", &[Some("alex_lacamoire")]),
        ("johnsnow_test1.jpg", &[Some("kit_harington")]),
        ("obama1.jpg", &[Some("obama")]),
        (
            "kit_with_rose.jpg",
            &[Some("rose_leslie"), Some("kit_harington")],
        ),
        // Biden, Obama, then a girl far right who is in no photo of the cast.
        ("obama_and_biden.jpg", &[Some("biden"), Some("obama"), None]),
    ];
    for (photo, expected) in cases {
        let faces = lookalike(&knn.join("test").join(photo), &cast, &[]);
        assert_eq!(faces.len(), expected.len(), "{photo}: {faces:?}");
        for (face, want) in faces.iter().zip(expected) {
            if let Some(want) = want {
                assert_eq!(
                    face.first().map(|m| m.0.as_str()),
                    Some(*want),
                    "{photo}: {faces:?}"
                );
            }
        }
    }
}

#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn lookalike_names_the_bbt_actors_in_each_scene() {
    let bbt = shared_data("bbt");
    let tmp = tempfile::tempdir().unwrap();
    let cast = tmp.path().join("cast");
    copy_tree(&bbt.join("cast"), &cast);
    // The labelled actors of each scene (../shared/data/README.md).
    let scenes: [(&str, &[&str]); 5] = [
        ("bbt1.jpg", &["raj", "leonard", "howard", "sheldon"]),
        ("bbt2.jpg", &["leonard", "sheldon"]),
        (
            "bbt3.jpg",
            &["sheldon", "howard", "penny", "raj", "leonard"],
        ),
        (
            "bbt4.jpg",
            &["amy", "raj", "bernadette", "leonard", "penny", "sheldon"],
        ),
        (
            "bbt5.jpg",
            &["raj", "penny", "sheldon", "leonard", "howard"],
        ),
    ];
    for (scene, actors) in scenes {
        let faces = lookalike(&bbt.join("scenes").join(scene), &cast, &[]);
        let first: BTreeSet<String> = faces
            .iter()
            .filter_map(|f| f.first().map(|m| m.0.clone()))
            .collect();
        for actor in actors {
            assert!(first.contains(*actor), "{scene}: {actor} not in {first:?}");
        }
    }
}
