//! Bad inputs, one row each: what the user gets back (exit code, a one-line message naming the
//! file, or a warning and a completed run) and which result files exist afterwards. Never a
//! panic, never a result that looks complete but is not.

mod common;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::{ffmpeg, make_video, obama_cast, project, registry_photo};
use serde_json::json;

struct Case {
    name: &'static str,
    video: PathBuf,
    cast: PathBuf,
    /// Extra arguments after the video and cast.
    extra: Vec<OsString>,
    code: i32,
    /// Expected on stderr: for failures, the whole message starts `error: <this>`.
    stderr: String,
    out: PathBuf,
    /// Result files that must exist (true) or must not (false) afterwards.
    files: Vec<(&'static str, bool)>,
}

const COMPLETE: [(&str, bool); 5] = [
    ("report.json", true),
    ("report.html", true),
    ("screentime.csv", true),
    ("screentime.png", true),
    ("screentime.svg", true),
];
const NOTHING: [(&str, bool); 2] = [("report.json", false), ("screentime.csv", false)];

fn screentime(video: &Path, cast: &Path, out: &Path, extra: &[OsString]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_screentime"));
    command
        .arg(video)
        .arg("--cast")
        .arg(cast)
        .arg("--out")
        .arg(out)
        .args(extra);
    command
}

fn check(case: &Case, output: &Output) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let context = format!("case {}: {stderr}", case.name);
    assert_eq!(output.status.code(), Some(case.code), "{context}");
    assert!(!stderr.contains("panicked"), "{context}");
    if case.code == 0 {
        assert!(stderr.contains(&case.stderr), "{context}");
    } else {
        assert_eq!(stderr.lines().count(), 1, "{context}");
        assert!(
            stderr.starts_with(&format!("error: {}", case.stderr)),
            "{context}"
        );
    }
    for (file, exists) in &case.files {
        assert_eq!(case.out.join(file).exists(), *exists, "{file}: {context}");
    }
}

#[test]
fn bad_inputs_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let good = dir.join("good.mp4");
    let photo = |name: &str| registry_photo(name).display().to_string();
    make_video(
        &json!({"width": 640, "height": 360, "fps": 25, "segments": [
            {"image": photo("obama2.jpg"), "seconds": 1.0, "motion": "zoom"},
            {"image": photo("biden.jpg"), "seconds": 1.0, "motion": "pan"},
        ]}),
        &good,
    );
    let cast = obama_cast(dir);
    let good_bytes = std::fs::read(&good).unwrap();

    let truncated = dir.join("truncated.mp4");
    std::fs::write(&truncated, &good_bytes[..good_bytes.len() / 2]).unwrap();
    let corrupt = dir.join("corrupt.mp4");
    let mut bytes = good_bytes.clone();
    let middle = bytes.len() / 2;
    for b in &mut bytes[middle..middle + 2000] {
        *b = b.wrapping_mul(7).wrapping_add(13);
    }
    std::fs::write(&corrupt, bytes).unwrap();
    let rotated = dir.join("rotated.mp4");
    make_video(
        &json!({"width": 360, "height": 640, "fps": 25, "rotate": 90, "segments": [
            {"image": photo("obama2.jpg"), "seconds": 1.0},
        ]}),
        &rotated,
    );
    let audio = dir.join("audio.m4a");
    ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "sine=duration=1",
        audio.to_str().unwrap(),
    ]);
    let zero = dir.join("zero.avi");
    ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "color=c=black:s=64x64",
        "-frames:v",
        "0",
        zero.to_str().unwrap(),
    ]);
    let text = dir.join("notes.mp4");
    std::fs::write(&text, "not a video").unwrap();
    let folder = dir.join("folder.mp4");
    std::fs::create_dir_all(&folder).unwrap();

    let cast_dir = |name: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(&path).unwrap();
        std::fs::copy(registry_photo("obama.jpg"), path.join("Barack Obama.jpg")).unwrap();
        path
    };
    let damaged_photo = cast_dir("damaged-photo-cast");
    std::fs::write(damaged_photo.join("Joe Biden.jpg"), &good_bytes[..500]).unwrap();
    let faceless = cast_dir("faceless-cast");
    image::RgbImage::new(300, 200)
        .save(faceless.join("Nobody.png"))
        .unwrap();
    let crowd = cast_dir("crowd-cast");
    let (obama, biden) = (
        image::open(registry_photo("obama2.jpg")).unwrap().to_rgb8(),
        image::open(registry_photo("biden.jpg")).unwrap().to_rgb8(),
    );
    let mut both = image::RgbImage::new(
        obama.width() + biden.width(),
        obama.height().max(biden.height()),
    );
    image::imageops::replace(&mut both, &obama, 0, 0);
    image::imageops::replace(&mut both, &biden, obama.width() as i64, 0);
    both.save(crowd.join("Two People.jpg")).unwrap();
    let twice = cast_dir("same-name-cast");
    std::fs::create_dir_all(twice.join("Barack Obama")).unwrap();
    std::fs::copy(
        registry_photo("obama3.jpg"),
        twice.join("Barack Obama/later.jpg"),
    )
    .unwrap();
    let huge = dir.join("huge-cast");
    std::fs::create_dir_all(&huge).unwrap();
    let scale = (12000.0 / obama.width() as f64).min(8000.0 / obama.height() as f64);
    let (w, h) = (
        (obama.width() as f64 * scale) as u32,
        (obama.height() as f64 * scale) as u32,
    );
    let mut canvas = image::RgbImage::new(12000, 8000);
    let enlarged = image::imageops::resize(&obama, w, h, image::imageops::FilterType::Triangle);
    image::imageops::replace(
        &mut canvas,
        &enlarged,
        ((12000 - w) / 2) as i64,
        ((8000 - h) / 2) as i64,
    );
    canvas.save(huge.join("Barack Obama.jpg")).unwrap();

    // Installed models with one file missing.
    let models = dir.join("models");
    std::fs::create_dir_all(&models).unwrap();
    for name in ["manifest.json", "dlib_resnet_v1.onnx", "libonnxruntime.so"] {
        std::os::unix::fs::symlink(project().join("models").join(name), models.join(name)).unwrap();
    }
    // Installed models without the opt-in ArcFace embedder.
    let dlib_only = dir.join("models-dlib-only");
    std::fs::create_dir_all(&dlib_only).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(project().join("models/manifest.json")).unwrap(),
    )
    .unwrap();
    let files = manifest["files"].as_object_mut().unwrap();
    files.remove("models/arcface_w600k_mbf.onnx");
    for name in files.keys().filter_map(|f| f.strip_prefix("models/")) {
        std::os::unix::fs::symlink(project().join("models").join(name), dlib_only.join(name))
            .unwrap();
    }
    std::fs::write(dlib_only.join("manifest.json"), manifest.to_string()).unwrap();
    let not_a_folder = dir.join("a-file");
    std::fs::write(&not_a_folder, "").unwrap();

    let out = |name: &str| dir.join("out").join(name);
    let case =
        |name, video: &Path, cast: &Path, code, stderr: String, files: &[(&'static str, bool)]| {
            Case {
                name,
                video: video.to_path_buf(),
                cast: cast.to_path_buf(),
                extra: Vec::new(),
                code,
                stderr,
                out: out(name),
                files: files.to_vec(),
            }
        };
    let named = |path: &Path, reason: &str| format!("{}: {reason}", path.display());
    let mut cases = vec![
        case(
            "truncated",
            &truncated,
            &cast,
            1,
            named(&truncated, "cannot open"),
            &NOTHING,
        ),
        case(
            "corrupt",
            &corrupt,
            &cast,
            3,
            named(&corrupt, "incomplete result: read "),
            &COMPLETE,
        ),
        case(
            "rotated phone video",
            &rotated,
            &cast,
            0,
            String::new(),
            &COMPLETE,
        ),
        case(
            "audio only",
            &audio,
            &cast,
            1,
            named(&audio, "no video stream"),
            &NOTHING,
        ),
        case(
            "zero frames",
            &zero,
            &cast,
            1,
            named(&zero, "no video frame could be decoded"),
            &NOTHING,
        ),
        case(
            "text as video",
            &text,
            &cast,
            1,
            named(&text, "cannot open"),
            &NOTHING,
        ),
        case(
            "folder as video",
            &folder,
            &cast,
            1,
            named(&folder, "not a file"),
            &NOTHING,
        ),
        case(
            "missing cast",
            &good,
            &dir.join("nobody"),
            1,
            named(&dir.join("nobody"), "no such folder"),
            &NOTHING,
        ),
        case(
            "empty cast",
            &good,
            &folder,
            1,
            named(&folder, "no photos"),
            &NOTHING,
        ),
        case(
            "damaged cast photo",
            &good,
            &damaged_photo,
            0,
            format!(
                "warning: {}: cannot read image",
                damaged_photo.join("Joe Biden.jpg").display()
            ),
            &COMPLETE,
        ),
        case(
            "cast photo without a face",
            &good,
            &faceless,
            0,
            format!(
                "warning: {}: no face found; photo skipped",
                faceless.join("Nobody.png").display()
            ),
            &COMPLETE,
        ),
        case(
            "cast photo with two faces",
            &good,
            &crowd,
            0,
            format!(
                "warning: {}: 2 faces found; using the largest as Two People",
                crowd.join("Two People.jpg").display()
            ),
            &COMPLETE,
        ),
        case(
            "same actor twice",
            &good,
            &twice,
            0,
            String::new(),
            &COMPLETE,
        ),
        case(
            "12000x8000 cast photo",
            &good,
            &huge,
            0,
            String::new(),
            &COMPLETE,
        ),
        case(
            "missing model",
            &good,
            &cast,
            1,
            named(&models.join("centerface_int8.onnx"), "No such file"),
            &NOTHING,
        ),
        case(
            "ArcFace not installed",
            &good,
            &cast,
            1,
            named(
                &dlib_only.join("manifest.json"),
                "lists no arcface_w600k_mbf.onnx: run scripts/setup --arcface",
            ),
            &NOTHING,
        ),
        case(
            "output under a file",
            &good,
            &cast,
            1,
            named(&not_a_folder, "cannot write: a file, not a folder"),
            &[],
        ),
    ];
    let by_name =
        |cases: &mut Vec<Case>, name: &str| cases.iter_mut().position(|c| c.name == name).unwrap();
    let i = by_name(&mut cases, "missing model");
    cases[i].extra = vec!["--models".into(), models.into()];
    let i = by_name(&mut cases, "ArcFace not installed");
    cases[i].extra = vec![
        "--models".into(),
        dlib_only.into(),
        "--embedder".into(),
        "arcface".into(),
    ];
    let i = by_name(&mut cases, "output under a file");
    cases[i].out = not_a_folder.join("out");

    for case in &cases {
        let output = screentime(&case.video, &case.cast, &case.out, &case.extra)
            .output()
            .unwrap();
        check(case, &output);
    }

    // What the completed runs report.
    let report = |name: &str| -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(out(name).join("report.json")).unwrap())
            .unwrap()
    };
    let names = |name: &str| -> Vec<String> {
        report(name)["screen_time"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["name"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names("same actor twice"), ["Barack Obama", "unknown_1"]);
    // The phone video's frames are stored sideways; turned upright, Obama is found all along.
    assert_eq!(names("rotated phone video"), ["Barack Obama"]);
    assert_eq!(report("rotated phone video")["video"]["rotation"], 90);
    assert_eq!(report("same actor twice")["settings"]["cast_faces"], 2);
    assert_eq!(
        names("cast photo without a face"),
        ["Barack Obama", "unknown_1"]
    );
    assert_eq!(report("12000x8000 cast photo")["settings"]["cast_faces"], 1);
}

/// A result file that cannot be replaced: the error names it, and no report.json vouches for
/// the mix of old and new files left behind.
#[test]
fn write_failure_midway_leaves_no_complete_looking_result() {
    let tmp = tempfile::tempdir().unwrap();
    let video = tmp.path().join("v.mp4");
    let photo = registry_photo("obama2.jpg").display().to_string();
    make_video(
        &json!({"width": 320, "height": 180, "fps": 25, "segments": [{"image": photo, "seconds": 0.4}]}),
        &video,
    );
    let cast = obama_cast(tmp.path());
    let out = tmp.path().join("out");
    let first = screentime(&video, &cast, &out, &[]).output().unwrap();
    assert!(first.status.success());
    std::fs::remove_file(out.join("screentime.svg")).unwrap();
    std::fs::create_dir(out.join("screentime.svg")).unwrap();

    let case = Case {
        name: "write failure midway",
        video,
        cast,
        extra: Vec::new(),
        code: 1,
        stderr: format!("{}: cannot write", out.join("screentime.svg").display()),
        out: out.clone(),
        files: vec![
            ("report.json", false),
            ("screentime.csv", true),
            ("screentime.png", true),
        ],
    };
    let output = screentime(&case.video, &case.cast, &case.out, &case.extra)
        .output()
        .unwrap();
    check(&case, &output);
    let csv = std::fs::read_to_string(out.join("screentime.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "name,frames,seconds,percent,first_seen,last_seen");
    assert!(
        rows[1].starts_with("Barack Obama,") && rows[1].contains(",0.400,"),
        "{csv}"
    );
}

/// Ctrl-C in the middle of a run: exit code 130, and no result written.
#[test]
fn sigint_stops_the_run_without_results() {
    let tmp = tempfile::tempdir().unwrap();
    let video = tmp.path().join("long.mp4");
    let photo = registry_photo("obama2.jpg").display().to_string();
    make_video(
        &json!({"width": 640, "height": 360, "fps": 25, "segments": [{"image": photo, "seconds": 60.0}]}),
        &video,
    );
    let cast = obama_cast(tmp.path());
    let out = tmp.path().join("out");
    // The slowest mode, every face of every frame: about a minute of work here, so the signal
    // lands mid-run even on a machine many times faster.
    let slow: Vec<OsString> = ["--stride", "1", "--detect-every", "1", "--embed-every", "1"]
        .map(OsString::from)
        .to_vec();
    let child = screentime(&video, &cast, &out, &slow)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let case = Case {
        name: "SIGINT",
        video: video.clone(),
        cast,
        extra: slow,
        code: 130,
        stderr: format!("{}: interrupted; no results written", video.display()),
        out,
        files: NOTHING.to_vec(),
    };
    check(&case, &child.wait_with_output().unwrap());
}
