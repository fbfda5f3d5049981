//! `screentime search --with` and `search --photo` through the binary, on videos made from the
//! registry photos: who is on screen with whom, and a person nobody named found by a photo.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use common::{make_video, measure_every_frame, registry_photo, screentime, succeeded};
use serde_json::{Value, json};

/// A photo segment of `seconds`, as make_video.py takes it.
fn photo(name: &str, seconds: f64) -> Value {
    json!({"image": registry_photo(name).display().to_string(), "seconds": seconds})
}

/// Joe Biden's face, from his (full-length) registry photo.
fn biden(seconds: f64) -> Value {
    let mut segment = photo("biden.jpg", seconds);
    segment["crop"] = json!([330, 60, 480, 600]);
    segment
}

/// (start, end) of each appearance of `name`, from the run's report.json.
fn segments_of(out: &Path, name: &str) -> Vec<(f64, f64)> {
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["name"] == name)
        .map(|s| (s["start"].as_f64().unwrap(), s["end"].as_f64().unwrap()))
        .collect()
}

/// The rows of a search table, each split into its columns (the header checked and left out).
fn rows(table: &str, header: &[&str]) -> Vec<Vec<String>> {
    let mut lines = table.lines();
    let first: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(first, header, "{table}");
    lines
        .map(|l| l.split_whitespace().map(String::from).collect())
        .collect()
}

/// Each stretch as the table prints it: title, start, end, seconds.
fn printed(title: &str, stretches: &[(f64, f64)]) -> Vec<Vec<String>> {
    stretches
        .iter()
        .map(|&(start, end)| {
            vec![
                title.to_string(),
                format!("{start:.2}"),
                format!("{end:.2}"),
                format!("{:.2}", end - start),
            ]
        })
        .collect()
}

fn close(found: &[(f64, f64)], truth: &[(f64, f64)]) -> bool {
    found.len() == truth.len()
        && found
            .iter()
            .zip(truth)
            .all(|(f, t)| (f.0 - t.0).abs() <= 0.08 && (f.1 - t.1).abs() <= 0.08)
}

#[test]
fn with_finds_the_stretches_two_people_share_exact_to_their_segments() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = tmp.path().join("cast");
    std::fs::create_dir_all(&cast).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), cast.join("Barack Obama.jpg")).unwrap();
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    // Obama alone 0-1 s, with Biden's face beside him 1-2.5, Biden alone 2.5-3.5, nobody
    // 3.5-4, Biden 4-4.6, Obama 4.6-5.4.
    let mut both = photo("obama.jpg", 1.5);
    both["overlays"] = json!([{"image": registry_photo("biden.jpg").display().to_string(),
        "crop": [330, 60, 480, 600], "from_frame": 0, "to_frame": 37,
        "x": 472, "y": 80, "height": 200}]);
    let spec = json!({"width": 640, "height": 360, "fps": 25.0, "segments": [
        photo("obama.jpg", 1.0), both, biden(1.0), {"blank": 0.5}, biden(0.6),
        photo("obama2.jpg", 0.8),
    ]});
    let video = tmp.path().join("pair.mp4");
    make_video(&spec, &video);
    let out = tmp.path().join("out");
    measure_every_frame(&video, &cast, &out);
    let obama = segments_of(&out, "Barack Obama");
    let biden = segments_of(&out, "Joe Biden");
    assert!(close(&obama, &[(0.0, 2.5), (4.6, 5.4)]), "{obama:?}");
    assert!(close(&biden, &[(1.0, 3.5), (4.0, 4.6)]), "{biden:?}");

    let search = |extra: &[&str]| {
        let mut args: Vec<&OsStr> = vec!["search".as_ref(), "Barack Obama".as_ref()];
        args.extend(extra.iter().map(OsStr::new));
        args.push(out.as_os_str());
        screentime(&args)
    };
    let header = ["title", "start", "end", "seconds"];
    // On screen at once: where Biden's first appearance overlaps Obama's first.
    let together = rows(&succeeded(search(&["--with", "Joe Biden"])), &header);
    assert_eq!(together, printed("pair.mp4", &[(biden[0].0, obama[0].1)]));
    // Within a second of each other: each stretch runs from the first moment one of them is
    // on screen with the other at most 1 s away to the last such moment. Obama's second
    // appearance is more than 2 s after his first, so there are two.
    let near = rows(
        &succeeded(search(&["--with", "Joe Biden", "--within", "1"])),
        &header,
    );
    let expected = [
        (
            obama[0].0.max(biden[0].0 - 1.0),
            biden[0].1.min(obama[0].1 + 1.0),
        ),
        (
            biden[1].0.max(obama[1].0 - 1.0),
            obama[1].1.min(biden[1].1 + 1.0),
        ),
    ];
    assert_eq!(near, printed("pair.mp4", &expected));
    assert!(close(&expected, &[(0.0, 3.5), (4.0, 5.4)]), "{expected:?}");
    // Everyone given must be there: a third person who never appears leaves nothing, and
    // says so.
    let output = search(&["--with", "Joe Biden", "--with", "Elena Kagan"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(rows(&succeeded(output), &header).is_empty());
    assert!(
        stderr.contains("Elena Kagan appears in none of these results"),
        "{stderr}"
    );
    // --within without --with is a bad command line.
    assert_eq!(search(&["--within", "1"]).status.code(), Some(2));
}

#[test]
fn photo_finds_an_unknown_in_every_title_under_its_label_there() {
    let tmp = tempfile::tempdir().unwrap();
    // A cast that does not know Obama: in both videos he is an unknown.
    let cast = tmp.path().join("cast");
    std::fs::create_dir_all(&cast).unwrap();
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    let videos = [
        json!([photo("obama.jpg", 1.0), {"blank": 0.5}, biden(1.0)]),
        json!([{"blank": 0.5}, biden(0.5), {"blank": 0.5}, photo("obama2.jpg", 1.0)]),
    ];
    let mut outs: Vec<PathBuf> = Vec::new();
    for (i, segments) in videos.iter().enumerate() {
        let video = tmp.path().join(format!("title{}.mp4", i + 1));
        let spec = json!({"width": 640, "height": 360, "fps": 25.0, "segments": segments});
        make_video(&spec, &video);
        let out = tmp.path().join(format!("out{}", i + 1));
        measure_every_frame(&video, &cast, &out);
        outs.push(out);
    }
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(outs[0].join("report.json")).unwrap())
            .unwrap();
    let descriptors = report["descriptors"].as_object().unwrap();
    let kept: Vec<&String> = descriptors.keys().collect();
    assert_eq!(kept, ["Joe Biden", "unknown_1"], "{report}");
    assert!(
        descriptors
            .values()
            .all(|d| d.as_array().unwrap().len() == 128)
    );

    let search = |face: &str, results: &[&PathBuf]| {
        let mut args: Vec<&OsStr> = vec!["search".as_ref(), "--photo".as_ref()];
        let face = registry_photo(face);
        args.push(face.as_os_str());
        args.extend(results.iter().map(|r| r.as_os_str()));
        screentime(&args)
    };
    // A third photo of Obama, in neither video, finds him in both, as unknown_1 each time,
    // with his appearances there.
    let output = search("obama3.jpg", &[&outs[0], &outs[1]]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let header = ["title", "identity", "distance", "start", "end", "seconds"];
    let found = rows(&succeeded(output), &header);
    let who: Vec<(&str, &str)> = found
        .iter()
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    assert_eq!(
        who,
        [("title1.mp4", "unknown_1"), ("title2.mp4", "unknown_1")]
    );
    for (row, out) in found.iter().zip(&outs) {
        let distance: f64 = row[2].parse().unwrap();
        assert!(distance < 0.6, "{row:?}");
        let (start, end) = segments_of(out, "unknown_1")[0];
        assert_eq!(row[3..5], [format!("{start:.2}"), format!("{end:.2}")]);
    }
    assert!(close(
        &[(found[0][3].parse().unwrap(), found[0][4].parse().unwrap())],
        &[(0.0, 1.0)]
    ));
    // It says how to name him.
    assert!(
        stderr.contains(&format!(
            "screentime name {} unknown_1 NAME",
            outs[1].display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("embedded faces another way"), "{stderr}");
    // Biden's photo finds the named Biden, not the unknown.
    let biden = rows(&succeeded(search("biden.jpg", &[&outs[1]])), &header);
    assert_eq!(biden.len(), 1, "{biden:?}");
    assert_eq!(biden[0][1..3], ["Joe", "Biden"]);

    // A result made before descriptors were kept is skipped, with a warning naming it.
    let mut old = report.clone();
    old.as_object_mut().unwrap().remove("descriptors");
    std::fs::write(outs[0].join("report.json"), old.to_string()).unwrap();
    let output = search("obama3.jpg", &[&outs[0], &outs[1]]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let found = rows(&succeeded(output), &header);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0][0], "title2.mp4");
    let report_path = outs[0].join("report.json");
    assert!(
        stderr.contains(&format!("warning: {}: not searched", report_path.display())),
        "{stderr}"
    );
    // One whose faces an earlier screentime embedded is searched, with a warning.
    let mut earlier = report.clone();
    earlier["models"]
        .as_object_mut()
        .unwrap()
        .remove("descriptor_revision");
    std::fs::write(&report_path, earlier.to_string()).unwrap();
    let output = search("obama3.jpg", &[&outs[0]]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let found = rows(&succeeded(output), &header);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(
        stderr.contains(&format!(
            "warning: {}: measured by a screentime that embedded faces another way",
            report_path.display()
        )),
        "{stderr}"
    );
    // One made by another embedder cannot be compared: exit 1, naming it.
    let mut other = report;
    other["models"]["embedder_sha256"] = json!("0".repeat(64));
    std::fs::write(&report_path, other.to_string()).unwrap();
    let output = search("obama3.jpg", &[&outs[0]]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&report_path.display().to_string())
            && stderr.contains("another face embedder"),
        "{stderr}"
    );
}
