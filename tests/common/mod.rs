//! Shared by the integration tests: the installed models, the registry photos `scripts/setup`
//! fetched into `data/`, and `../shared/data` when this machine has it.

#![allow(dead_code)] // each test binary uses its own part of this module

pub mod browser;

use std::path::{Path, PathBuf};

use screentime::face::detect::DetectOptions;
use screentime::face::embed::Descriptor;
use screentime::face::engine::{EmbeddedFace, Engine, load_image};
use screentime::face::model::DetectorKind;
use screentime::face::model::EmbedderKind;
use screentime::face::runtime::{Runtime, RuntimeOptions};

pub fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A photo from face_recognition 1.3.0's test images (PyPI), installed by `scripts/setup`.
pub fn registry_photo(name: &str) -> PathBuf {
    let path = project().join("data/photos").join(name);
    assert!(
        path.is_file(),
        "{} is missing: run scripts/setup",
        path.display()
    );
    path
}

/// `../shared/data/<sub>`: development data, present on the development machine and in CI but
/// not on a user's fresh machine, so every test that needs it is `#[ignore]`d with that reason
/// (`cargo test` lists it as ignored) and `scripts/test` runs them where the data is present. An
/// ignored test run without the data fails here, saying why.
pub fn shared_data(sub: &str) -> PathBuf {
    let path = project().join("../shared/data").join(sub);
    assert!(
        path.is_dir(),
        "{} is absent: this test needs the development data (../shared/data)",
        path.display()
    );
    path
}

/// The demo's video, as `scripts/demo` makes it: Obama in three shots (2.0 + 1.2 + 1.0 s),
/// Biden in two (1.6 + 1.0 s), one second of black; 7.8 s, 195 frames at 25 fps (with `vfr`,
/// frames of unequal length).
pub fn demo_spec(vfr: bool) -> serde_json::Value {
    let photo = |name: &str| registry_photo(name).display().to_string();
    serde_json::json!({"width": 640, "height": 360, "fps": 25.0, "vfr": vfr, "segments": [
        {"image": photo("obama2.jpg"), "seconds": 2.0, "motion": "zoom"},
        {"blank": 1.0},
        {"image": photo("biden.jpg"), "seconds": 1.6, "motion": "pan"},
        {"image": photo("obama3.jpg"), "seconds": 1.2, "motion": "still"},
        {"image": photo("biden.jpg"), "seconds": 1.0, "motion": "zoom"},
        {"image": photo("obama2.jpg"), "seconds": 1.0, "motion": "pan"},
    ]})
}

/// screentime with `args`, its output once it exits.
pub fn screentime<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_screentime"))
        .args(args)
        .output()
        .unwrap()
}

/// What a run that must succeed printed on stdout; its stderr where it failed.
pub fn succeeded(output: std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// Measures `video` against `cast` into `out`, with the further arguments `mode`.
pub fn measure(video: &Path, cast: &Path, out: &Path, mode: &[&str]) {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        video.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
        "--quiet".as_ref(),
    ];
    args.extend(mode.iter().map(std::ffi::OsStr::new));
    succeeded(screentime(&args));
}

/// Measures `video` against `cast` into `out`, every frame analysed so that each appearance's
/// start and end are exact.
pub fn measure_every_frame(video: &Path, cast: &Path, out: &Path) {
    measure(video, cast, out, &["--stride", "1"]);
}

/// Renders a video from real photos with `tests/tools/make_video.py` (see its spec format).
pub fn make_video(spec: &serde_json::Value, video: &Path) {
    let spec_file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(spec_file.path(), spec.to_string()).unwrap();
    make_video_from(spec_file.path(), video, None);
}

/// Renders the spec file `spec` into `video`, and its truth into `truth` if given.
pub fn make_video_from(spec: &Path, video: &Path, truth: Option<&Path>) {
    let python = project().join(".venv/bin/python");
    assert!(
        python.is_file(),
        "{} is missing: run scripts/setup",
        python.display()
    );
    succeed(
        std::process::Command::new(python)
            .arg(project().join("tests/tools/make_video.py"))
            .arg(spec)
            .arg(video)
            .args(truth),
    );
}

/// Runs the `ffmpeg` tool quietly (`-v error -y` before `args`) and fails the test if it fails.
pub fn ffmpeg<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) {
    succeed(
        std::process::Command::new("ffmpeg")
            .args(["-nostdin", "-v", "error", "-y"])
            .args(args),
    );
}

/// Runs `command`, failing the test with its stderr if it fails.
fn succeed(command: &mut std::process::Command) {
    let run = command.output().unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
}

/// (name, seconds) of every identity in a run's report.json, as the report lists them.
pub fn screen_time(report: &serde_json::Value) -> Vec<(String, f64)> {
    report["screen_time"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            (
                row["name"].as_str().unwrap().to_string(),
                row["seconds"].as_f64().unwrap(),
            )
        })
        .collect()
}

/// A cast folder in `dir` that knows one person, Barack Obama, from one registry photo.
pub fn obama_cast(dir: &Path) -> PathBuf {
    let cast = dir.join("cast");
    std::fs::create_dir_all(&cast).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), cast.join("Barack Obama.jpg")).unwrap();
    cast
}

pub fn runtime() -> Runtime {
    runtime_of(EmbedderKind::Dlib)
}

/// The runtime with `embedder`; ArcFace's model is installed by `scripts/setup --test`.
pub fn runtime_of(embedder: EmbedderKind) -> Runtime {
    runtime_with(RuntimeOptions {
        embedder,
        ..RuntimeOptions::default()
    })
}

fn runtime_with(options: RuntimeOptions) -> Runtime {
    Runtime::new(options).expect("models installed by scripts/setup --test")
}

pub fn engine() -> Engine {
    engine_of(EmbedderKind::Dlib)
}

pub fn engine_of(embedder: EmbedderKind) -> Engine {
    Engine::new(&runtime_of(embedder), DetectOptions::default()).expect("engine")
}

/// The engine with the detector `detector` (the INT8 one, the default, or the fp32 one).
pub fn engine_with_detector(detector: DetectorKind) -> Engine {
    let runtime = runtime_with(RuntimeOptions {
        detector,
        ..RuntimeOptions::default()
    });
    Engine::new(&runtime, DetectOptions::default()).expect("engine")
}

pub fn faces_in(engine: &mut Engine, path: &Path) -> Vec<EmbeddedFace> {
    let image = load_image(path).expect("readable photo");
    engine.faces(&image).expect("faces")
}

pub fn nearest<'a>(descriptor: &Descriptor, known: &'a [(String, Descriptor)]) -> (&'a str, f32) {
    known
        .iter()
        .map(|(name, d)| {
            (
                name.as_str(),
                screentime::face::embed::distance(descriptor, d),
            )
        })
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("a non-empty set of known faces")
}
