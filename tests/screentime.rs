//! `screentime VIDEO --cast DIR` end to end, on videos made from real photos with known segments.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::{demo_spec, make_video, obama_cast, registry_photo, screen_time, shared_data};
use serde_json::{Value, json};

const FPS: f64 = 25.0;

/// Renders `spec` (see tests/tools/make_video.py) to `dir/name`.
fn video(dir: &Path, name: &str, spec: Value) -> PathBuf {
    let video = dir.join(name);
    make_video(&spec, &video);
    video
}

fn screentime(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_screentime"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs the job and returns its report.json.
fn measure(video: &Path, cast: &Path, out: &Path) -> Value {
    measure_with(video, cast, out, &[])
}

/// Every frame is analysed (`--stride 1`) unless `extra` sets a stride: these tests check
/// results to the frame.
fn measure_with(video: &Path, cast: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args: Vec<&Path> = vec![video, "--cast".as_ref(), cast, "--out".as_ref(), out];
    args.extend(["--quiet"].iter().chain(extra).map(Path::new));
    if !extra.contains(&"--stride") {
        args.extend(["--stride", "1"].map(Path::new));
    }
    let output = screentime(&args);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report = std::fs::read_to_string(out.join("report.json")).unwrap();
    serde_json::from_str(&report).unwrap()
}

fn seconds_of(report: &Value, name: &str) -> f64 {
    screen_time(report)
        .into_iter()
        .find(|(n, _)| n == name)
        .map_or(0.0, |(_, s)| s)
}

/// Obama is in the cast (one photo); Biden is not. The video shows other photos of Obama in
/// three segments and Biden in two, with a segment without faces and movement in most shots.
#[test]
fn screen_time_of_a_cast_member_and_a_stranger() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = tmp.path().join("cast");
    std::fs::create_dir_all(cast.join("Barack Obama")).unwrap();
    std::fs::copy(
        registry_photo("obama.jpg"),
        cast.join("Barack Obama/official.jpg"),
    )
    .unwrap();

    let video = video(tmp.path(), "registry.mp4", demo_spec(false));
    let out = tmp.path().join("out");
    let report = measure_with(&video, &cast, &out, &["--debug-tracks"]);

    let names: Vec<String> = screen_time(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Barack Obama", "unknown_1"], "{report:#}");
    // --debug-tracks: the stranger's two shots are one group, each track listing the other
    // (by number, with their distance) as why they were joined.
    let tracks: Vec<Value> = std::fs::read_to_string(out.join("tracks.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let biden: Vec<&Value> = tracks.iter().filter(|t| t["name"] == "unknown_1").collect();
    assert!(biden.len() >= 2, "{tracks:#?}");
    for track in &biden {
        assert_eq!(track["group"], biden[0]["group"], "{tracks:#?}");
        let others: Vec<&Value> = (biden.iter())
            .filter(|t| t["track"] != track["track"])
            .map(|t| &t["track"])
            .collect();
        let neighbours = track["neighbours"].as_array().unwrap();
        assert!(
            others
                .iter()
                .all(|&other| neighbours.iter().any(|n| &n[0] == other)),
            "{tracks:#?}"
        );
    }
    let frame = 1.0 / FPS;
    let obama = seconds_of(&report, "Barack Obama");
    assert!(
        (obama - 4.2).abs() <= 3.0 * frame,
        "Obama: {obama} s, truth 4.2 s"
    );
    let biden = seconds_of(&report, "unknown_1");
    assert!(
        (biden - 2.6).abs() <= 2.0 * frame,
        "Biden as unknown_1: {biden} s, truth 2.6 s"
    );
    let stranger = &report["screen_time"][1];
    assert!((stranger["first_seen"].as_f64().unwrap() - 3.0).abs() <= frame);
    assert!((stranger["last_seen"].as_f64().unwrap() - 6.8).abs() <= frame);
    // One segment per shot, each within 2 frames of the truth, for the cast member and for the
    // stranger, who keeps one label over both of his shots.
    assert_segments(
        &report,
        "Barack Obama",
        &[(0.0, 2.0), (4.6, 5.8), (6.8, 7.8)],
    );
    assert_segments(&report, "unknown_1", &[(3.0, 4.6), (5.8, 6.8)]);
    assert_eq!(segments(&report).len(), 5, "{report:#}");
    let mut csv = csv::Reader::from_path(out.join("segments.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap(),
        vec!["name", "start", "end", "seconds"]
    );
    let rows: Vec<(String, f64, f64)> = csv
        .records()
        .map(|r| {
            let r = r.unwrap();
            (
                r[0].to_string(),
                r[1].parse().unwrap(),
                r[2].parse().unwrap(),
            )
        })
        .collect();
    let from_report: Vec<(String, f64, f64)> = segments(&report)
        .into_iter()
        .map(|(name, start, end)| (name, round3(start), round3(end)))
        .collect();
    assert_eq!(rows, from_report);
    assert_eq!(report["stats"]["frames_decoded"], 195);
    assert!((report["stats"]["video_seconds"].as_f64().unwrap() - 7.8).abs() < 1e-6);
    // What produced the result: ONNX Runtime on the CPU, with the instruction sets its kernels
    // were picked by.
    assert_eq!(
        report["machine"]["execution_providers"],
        json!(["CPUExecutionProvider"])
    );
    let features = report["machine"]["cpu_features"].as_array().unwrap();
    assert_eq!(
        features.contains(&json!("avx2")),
        std::arch::is_x86_feature_detected!("avx2"),
        "{features:?}"
    );

    // The CSV holds the same rows; both charts exist.
    let mut csv = csv::Reader::from_path(out.join("screentime.csv")).unwrap();
    assert_eq!(
        csv.headers().unwrap(),
        vec![
            "name",
            "frames",
            "seconds",
            "percent",
            "first_seen",
            "last_seen"
        ]
    );
    let rows: Vec<csv::StringRecord> = csv.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(&rows[0][0], "Barack Obama");
    for chart in [
        "screentime.png",
        "screentime.svg",
        "timeline.png",
        "timeline.svg",
        "report.html",
        "faces.jpg",
        "faces/Barack Obama/1.jpg",
        "faces/unknown_1/1.jpg",
    ] {
        assert!(
            std::fs::metadata(out.join(chart)).unwrap().len() > 1000,
            "{chart}"
        );
    }

    // The cast's embeddings were cached beside it and serve as a cast on their own.
    let cache = cast.join(screentime::identity::cast::cache_file(
        screentime::face::model::EmbedderKind::Dlib,
    ));
    assert!(cache.is_file());
    let again = measure(&video, &cache, &tmp.path().join("again"));
    assert_eq!(screen_time(&again), screen_time(&report));
}

/// The same video and cast with ArcFace's embedder: the same people, to the same frames, and the
/// run says which embedder and licence it used, on stderr and in report.json. Its cast cache is
/// its own file, beside dlib's.
#[test]
fn arcface_finds_the_same_people_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = video(tmp.path(), "registry.mp4", demo_spec(false));
    let out = tmp.path().join("out");
    let args: Vec<&Path> = vec![
        &video,
        "--cast".as_ref(),
        &cast,
        "--out".as_ref(),
        &out,
        "--embedder".as_ref(),
        "arcface".as_ref(),
    ];
    let output = screentime(&args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(
        stderr.contains("note: --embedder arcface") && stderr.contains("non-commercial"),
        "{stderr}"
    );
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["models"]["embedder"], "arcface");
    assert!(
        report["models"]["embedder_licence"]
            .as_str()
            .unwrap()
            .contains("non-commercial")
    );
    assert_eq!(
        report["settings"]["threshold"].as_f64().unwrap() as f32,
        1.24
    );
    let names: Vec<String> = screen_time(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Barack Obama", "unknown_1"], "{report:#}");
    assert_segments(
        &report,
        "Barack Obama",
        &[(0.0, 2.0), (4.6, 5.8), (6.8, 7.8)],
    );
    assert_segments(&report, "unknown_1", &[(3.0, 4.6), (5.8, 6.8)]);
    let cache = |kind| cast.join(screentime::identity::cast::cache_file(kind));
    assert!(cache(screentime::face::model::EmbedderKind::Arcface).is_file());
    assert!(!cache(screentime::face::model::EmbedderKind::Dlib).exists());
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// report.json's segments as (name, start, end), in its order (by start).
fn segments(report: &Value) -> Vec<(String, f64, f64)> {
    report["segments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_string(),
                s["start"].as_f64().unwrap(),
                s["end"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// `name` has exactly these segments, each end within 2 frames.
fn assert_segments(report: &Value, name: &str, truth: &[(f64, f64)]) {
    let got: Vec<(f64, f64)> = segments(report)
        .into_iter()
        .filter(|(n, _, _)| n == name)
        .map(|(_, start, end)| (start, end))
        .collect();
    assert_eq!(got.len(), truth.len(), "{name}: {got:?}, truth {truth:?}");
    for (&(start, end), &(true_start, true_end)) in got.iter().zip(truth) {
        assert!(
            (start - true_start).abs() <= 2.0 / FPS && (end - true_end).abs() <= 2.0 / FPS,
            "{name}: {got:?}, truth {truth:?}"
        );
    }
}

/// "Name a face once": the stranger's saved faces become a cast member, and the next run names
/// him in both of his shots.
#[test]
fn a_named_stranger_is_recognised_next_time() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = video(tmp.path(), "registry.mp4", demo_spec(false));
    let first = tmp.path().join("first");
    let report = measure(&video, &cast, &first);
    assert_segments(&report, "unknown_1", &[(3.0, 4.6), (5.8, 6.8)]);

    let name = |name: &str| {
        Command::new(env!("CARGO_BIN_EXE_screentime"))
            .args(["name".as_ref(), first.as_os_str(), "unknown_1".as_ref()])
            .arg(name)
            .args(["--cast".as_ref(), cast.as_os_str()])
            .output()
            .unwrap()
    };
    let output = name("Joe Biden");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let added = std::fs::read_dir(cast.join("Joe Biden")).unwrap().count();
    assert!(added >= 1);
    // Naming again adds nothing new.
    assert!(name("Joe Biden").status.success());
    assert_eq!(
        std::fs::read_dir(cast.join("Joe Biden")).unwrap().count(),
        added
    );

    let again = measure(&video, &cast, &tmp.path().join("second"));
    assert_segments(&again, "Joe Biden", &[(3.0, 4.6), (5.8, 6.8)]);
    assert_segments(
        &again,
        "Barack Obama",
        &[(0.0, 2.0), (4.6, 5.8), (6.8, 7.8)],
    );
    assert_eq!(segments(&again).len(), 5, "{again:#}");

    // An identity the run did not save: exit 1, naming the folder it looked in.
    let output = Command::new(env!("CARGO_BIN_EXE_screentime"))
        .args([
            "name".as_ref(),
            first.as_os_str(),
            "unknown_9".as_ref(),
            "X".as_ref(),
        ])
        .args(["--cast".as_ref(), cast.as_os_str()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("faces/unknown_9") && stderr.contains("no saved faces"),
        "{stderr}"
    );
}

/// Following faces between full detections and embedding them only now and then changes no
/// result: the same segments as detecting and embedding every face of every frame.
#[test]
fn tracking_shortcuts_keep_the_results() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = video(tmp.path(), "registry.mp4", demo_spec(false));
    let fast = measure(&video, &cast, &tmp.path().join("fast"));
    let every = ["--detect-every", "1", "--embed-every", "1"];
    let exhaustive = measure_with(&video, &cast, &tmp.path().join("every"), &every);
    assert_eq!(segments(&fast), segments(&exhaustive));
    let work = |report: &Value, key: &str| report["stats"][key].as_u64().unwrap();
    assert_eq!(work(&exhaustive, "region_detections"), 0);
    assert!(work(&fast, "full_detections") * 2 < work(&exhaustive, "full_detections"));
    assert!(work(&fast, "faces_embedded") * 4 < work(&exhaustive, "faces_embedded"));
}

/// --min-screen-time leaves short identities out of the charts and the contact sheet, not out
/// of the data; --no-thumbnails writes no face pictures and removes an earlier run's.
#[test]
fn short_identities_and_face_pictures_are_the_users_choice() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = video(tmp.path(), "registry.mp4", demo_spec(false));
    let out = tmp.path().join("out");
    let report = measure_with(&video, &cast, &out, &["--min-screen-time", "3"]);
    assert_eq!(screen_time(&report).len(), 2, "{report:#}");
    for chart in ["screentime.svg", "timeline.svg"] {
        let svg = std::fs::read_to_string(out.join(chart)).unwrap();
        assert!(
            svg.contains("Barack Obama") && !svg.contains("unknown_1"),
            "{chart}"
        );
    }
    assert!(out.join("faces/unknown_1/1.jpg").is_file());

    measure_with(&video, &cast, &out, &["--no-thumbnails"]);
    assert!(!out.join("faces").exists() && !out.join("faces.jpg").exists());
    let svg = std::fs::read_to_string(out.join("timeline.svg")).unwrap();
    assert!(svg.contains("unknown_1"));
}

/// The same shots, with every third frame dropped inside each shot and the rest keeping their
/// timestamps: seconds come from timestamps, so nothing changes.
#[test]
fn variable_frame_rate_counts_real_time() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = video(tmp.path(), "vfr.mp4", demo_spec(true));
    let report = measure(&video, &cast, &tmp.path().join("out"));
    assert!(report["stats"]["frames_decoded"].as_u64().unwrap() < 195);
    let frame = 1.0 / FPS;
    assert!(
        (seconds_of(&report, "Barack Obama") - 4.2).abs() <= 3.0 * frame,
        "{report:#}"
    );
    assert!(
        (seconds_of(&report, "unknown_1") - 2.6).abs() <= 2.0 * frame,
        "{report:#}"
    );
}

/// With --stride 5 each analysed frame stands for five: still right to a stride per shot.
#[test]
fn stride_keeps_seconds_within_a_stride_per_shot() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let video = video(tmp.path(), "registry.mp4", demo_spec(false));
    // The default, auto, is every 5th frame at 25 fps.
    for stride in ["5", "auto"] {
        let out = tmp.path().join(stride);
        let report = measure_with(&video, &cast, &out, &["--stride", stride]);
        assert_eq!(report["settings"]["stride"], 5);
        assert_eq!(report["stats"]["frames_analysed"], 39);
        // Frames no other frame needs (B-frames) were not even decoded.
        assert!(report["stats"]["frames_decoded"].as_u64().unwrap() < 195);
        let stride = 5.0 / FPS;
        assert!(
            (seconds_of(&report, "Barack Obama") - 4.2).abs() <= 3.0 * stride,
            "{report:#}"
        );
        assert!(
            (seconds_of(&report, "unknown_1") - 2.6).abs() <= 2.0 * stride,
            "{report:#}"
        );
        // Still one segment per shot, each end within a stride.
        for (name, truth) in [
            ("Barack Obama", &[(0.0, 2.0), (4.6, 5.8), (6.8, 7.8)][..]),
            ("unknown_1", &[(3.0, 4.6), (5.8, 6.8)][..]),
        ] {
            let got: Vec<(f64, f64)> = segments(&report)
                .into_iter()
                .filter(|(n, _, _)| n == name)
                .map(|(_, start, end)| (start, end))
                .collect();
            assert_eq!(got.len(), truth.len(), "{name}: {got:?}");
            for (g, t) in got.iter().zip(truth) {
                assert!(
                    (g.0 - t.0).abs() <= stride && (g.1 - t.1).abs() <= stride,
                    "{name}: {got:?}"
                );
            }
        }
    }
}

/// The five BBT scenes, 2 s each, against the BBT cast's tight face crops: each actor gets
/// exactly the scenes they are in (the data's README), stuart (in none) gets nothing.
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn bbt_scenes_give_each_actor_their_scenes() {
    let bbt = shared_data("bbt");
    let tmp = tempfile::tempdir().unwrap();
    // A copy, because the cast folder gets the embeddings cache and shared data is read-only.
    let cast = tmp.path().join("cast");
    for member in std::fs::read_dir(bbt.join("cast")).unwrap() {
        let member = member.unwrap().path();
        let target = cast.join(member.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for photo in std::fs::read_dir(&member).unwrap() {
            let photo = photo.unwrap().path();
            std::fs::copy(&photo, target.join(photo.file_name().unwrap())).unwrap();
        }
    }
    let segments: Vec<Value> = (1..=5)
        .map(|i| {
            let scene = bbt.join(format!("scenes/bbt{i}.jpg"));
            json!({"image": scene.display().to_string(), "seconds": 2.0, "motion": "still"})
        })
        .collect();
    let video = video(
        tmp.path(),
        "bbt.mp4",
        json!({"width": 1280, "height": 720, "fps": FPS, "segments": segments}),
    );
    let report = measure(&video, &cast, &tmp.path().join("out"));

    let truth = [
        ("leonard", 10.0),
        ("sheldon", 10.0),
        ("raj", 8.0),
        ("howard", 6.0),
        ("penny", 6.0),
        ("amy", 2.0),
        ("bernadette", 2.0),
        ("stuart", 0.0),
    ];
    for (actor, want) in truth {
        let got = seconds_of(&report, actor);
        assert!(
            (got - want).abs() < 0.5 / FPS,
            "{actor}: {got} s, truth {want} s\n{report:#}"
        );
    }
}

fn assert_fails_naming(args: &[&Path], named: &Path, reason: &str) {
    let output = screentime(args);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.starts_with(&format!("error: {}: ", named.display())),
        "{stderr}"
    );
    assert!(stderr.contains(reason), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[test]
fn bad_inputs_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = tmp.path().join("cast");
    std::fs::create_dir_all(&cast).unwrap();
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    let video = video(
        tmp.path(),
        "short.mp4",
        json!({"width": 320, "height": 180, "fps": FPS, "segments": [{"blank": 0.2}]}),
    );
    let cast_flag: &Path = "--cast".as_ref();

    let missing = tmp.path().join("missing.mp4");
    assert_fails_naming(&[&missing, cast_flag, &cast], &missing, "");
    let text = tmp.path().join("notes.mp4");
    std::fs::write(&text, "not a video").unwrap();
    assert_fails_naming(&[&text, cast_flag, &cast], &text, "");

    let empty = tmp.path().join("empty-cast");
    std::fs::create_dir_all(&empty).unwrap();
    assert_fails_naming(&[&video, cast_flag, &empty], &empty, "no photos");

    let faceless = tmp.path().join("faceless-cast");
    std::fs::create_dir_all(&faceless).unwrap();
    image::RgbImage::new(200, 200)
        .save(faceless.join("Nobody.png"))
        .unwrap();
    assert_fails_naming(
        &[&video, cast_flag, &faceless],
        &faceless,
        "no face found in any cast photo",
    );

    let absent = tmp.path().join("absent-cast");
    assert_fails_naming(
        &[&video, cast_flag, &absent],
        &absent,
        "no such folder or file",
    );
}
