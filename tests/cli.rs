//! `screentime embed` as a user runs it: JSON lines on stdout, one-line errors naming the file.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{project, registry_photo};
use serde_json::Value;

fn screentime(args: &[&Path]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_screentime"))
        .args(args)
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn embed_prints_one_json_line_per_face() {
    let (obama, biden) = (registry_photo("obama.jpg"), registry_photo("biden.jpg"));
    let output = screentime(&["embed".as_ref(), &obama, &biden]);
    assert!(output.status.success(), "{}", stderr(&output));
    let lines: Vec<Value> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);

    let mut embeddings = Vec::new();
    for (line, photo) in lines.iter().zip([&obama, &biden]) {
        assert_eq!(line["image"], photo.to_str().unwrap());
        let (width, height) = image::image_dimensions(photo).unwrap();
        let b = &line["box"];
        let [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map(|k| b[k].as_f64().unwrap());
        assert!(0.0 <= x1 && x1 < x2 && x2 <= width as f64);
        assert!(0.0 <= y1 && y1 < y2 && y2 <= height as f64);
        let landmarks = line["landmarks"].as_array().unwrap();
        assert_eq!(landmarks.len(), 5);
        for point in landmarks {
            let (x, y) = (point[0].as_f64().unwrap(), point[1].as_f64().unwrap());
            assert!(
                x1 <= x && x <= x2 && y1 <= y && y <= y2,
                "landmark inside the box"
            );
        }
        // Image-left eye first.
        assert!(landmarks[0][0].as_f64() < landmarks[1][0].as_f64());
        let score = line["score"].as_f64().unwrap();
        assert!(score > 0.5 && score <= 1.0);
        let embedding: Vec<f32> = serde_json::from_value(line["embedding"].clone()).unwrap();
        assert_eq!(embedding.len(), 128);
        embeddings.push(embedding);
    }
    let d: f32 = embeddings[0]
        .iter()
        .zip(&embeddings[1])
        .map(|(a, b)| (a - b) * (a - b))
        .sum::<f32>()
        .sqrt();
    assert!(d > 0.6, "obama and biden are different people: {d}");
}

#[test]
fn unreadable_image_is_named_and_the_rest_still_embedded() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("holiday.jpg");
    std::fs::write(&fake, "this is not a picture").unwrap();
    let missing = tmp.path().join("missing.png");
    let obama = registry_photo("obama.jpg");
    let output = screentime(&["embed".as_ref(), &fake, &missing, &obama]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    assert!(
        lines[0].starts_with(&format!("error: {}: ", fake.display())),
        "{err}"
    );
    assert!(
        lines[1].starts_with(&format!("error: {}: ", missing.display())),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    assert_eq!(String::from_utf8_lossy(&output.stdout).lines().count(), 1);
}

#[test]
fn missing_models_are_named_with_the_fix() {
    let empty = tempfile::tempdir().unwrap();
    let obama = registry_photo("obama.jpg");
    let output = screentime(&["embed".as_ref(), &obama, "--models".as_ref(), empty.path()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(&empty.path().join("manifest.json").display().to_string()),
        "{err}"
    );
    assert!(err.contains("run scripts/setup"), "{err}");
}

#[test]
fn damaged_model_is_refused() {
    let installed = project().join("models");
    let tmp = tempfile::tempdir().unwrap();
    for name in ["manifest.json", "dlib_resnet_v1.onnx", "libonnxruntime.so"] {
        std::os::unix::fs::symlink(installed.join(name), tmp.path().join(name)).unwrap();
    }
    // The default detector, INT8.
    let mut detector = std::fs::read(installed.join("centerface_int8.onnx")).unwrap();
    let last = detector.len() - 1;
    detector[last] ^= 1;
    let damaged = tmp.path().join("centerface_int8.onnx");
    std::fs::write(&damaged, detector).unwrap();

    let obama = registry_photo("obama.jpg");
    let output = screentime(&["embed".as_ref(), &obama, "--models".as_ref(), tmp.path()]);
    assert_eq!(output.status.code(), Some(1));
    let err = stderr(&output);
    assert!(
        err.starts_with(&format!("error: {}: sha256 ", damaged.display())),
        "{err}"
    );
    assert!(err.contains("does not match the manifest"), "{err}");
}

/// `--device cuda` where CUDA cannot run (a CPU build, or no GPU): the CPU does the work, and
/// stderr says so once. The faces found are the CPU's.
#[test]
fn cuda_falls_back_to_the_cpu_with_a_message() {
    let obama = registry_photo("obama.jpg");
    let cpu = screentime(&["embed".as_ref(), &obama]);
    let cuda = screentime(&[
        "embed".as_ref(),
        &obama,
        "--device".as_ref(),
        "cuda".as_ref(),
    ]);
    assert!(cuda.status.success(), "{}", stderr(&cuda));
    let warning = stderr(&cuda);
    assert!(
        warning.starts_with("warning: ") && warning.contains("running on the CPU"),
        "{warning}"
    );
    assert_eq!(warning.lines().count(), 1, "{warning}");
    assert_eq!(cuda.stdout, cpu.stdout);
}
