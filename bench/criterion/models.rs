//! Speed of each model stage on a real face: full-frame detection on a 640x384 and a 1920x1080
//! frame (scaled to 640 first), following the face in its region (what face tracks do between
//! full detections), dlib's landmarks and alignment, and embedding at batch 1, 4 and 16 (per-chip
//! cost falls with batch size).
//!
//!     cargo bench --bench models

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::imageops::{self, FilterType};
use screentime::face::detect::{DetectOptions, Detector};
use screentime::face::embed::Embedder;
use screentime::face::engine::{Engine, load_image};
use screentime::face::runtime::{Runtime, RuntimeOptions};

fn models(c: &mut Criterion) {
    let runtime = Runtime::new(RuntimeOptions::default()).expect("models: run scripts/setup");
    let photo = load_image(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/photos/obama.jpg"))
        .expect("data/photos/obama.jpg: run scripts/setup");
    let frame = imageops::resize(&photo, 640, 384, FilterType::Triangle);

    let hd = imageops::resize(&photo, 1920, 1080, FilterType::Triangle);

    let mut detector = Detector::new(&runtime, DetectOptions::default()).unwrap();
    c.bench_function("detect 640x384", |b| {
        b.iter(|| detector.detect(black_box(&frame)).unwrap())
    });
    c.bench_function("detect 1920x1080", |b| {
        b.iter(|| detector.detect(black_box(&hd)).unwrap())
    });
    let tracked = detector.detect(&hd).unwrap().remove(0).bbox.scaled(2.0);
    c.bench_function("detect region of a 1920x1080 face, 160 px", |b| {
        b.iter(|| detector.detect_in(black_box(&hd), &tracked, 160).unwrap())
    });

    let engine = Engine::new(&runtime, DetectOptions::default()).unwrap();
    let face = detector.detect(&photo).unwrap().remove(0);
    c.bench_function("landmarks and 150x150 chip", |b| {
        b.iter(|| engine.chip(black_box(&photo), &face))
    });

    let chip = engine.chip(&photo, &face);
    let mut embedder = Embedder::new(&runtime).unwrap();
    let mut group = c.benchmark_group("embed");
    for batch in [1, 4, 16] {
        let chips = vec![chip.clone(); batch];
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_function(format!("batch {batch}"), |b| {
            b.iter(|| embedder.embed(black_box(&chips)).unwrap())
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = models
}
criterion_main!(benches);
