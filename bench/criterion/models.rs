//! Speed of each model stage on a real face: full-frame detection on a 640x384 and a 1920x1080
//! frame (scaled to 640 first), the 1920x1080 frame turned a quarter turn each way (at 320, what
//! finds rolled faces) and following the face in its region (what face tracks do between full
//! detections), each with the INT8 detector (the default) and the fp32 one; dlib's
//! landmarks and alignment; and embedding at batch 1, 4 and 16 (per-chip cost falls with batch
//! size).
//!
//!     cargo bench --bench models

use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use image::imageops::{self, FilterType};
use screentime::face::detect::{DetectOptions, Detector, Turn};
use screentime::face::embed::Embedder;
use screentime::face::engine::{Engine, load_image};
use screentime::face::model::DetectorKind;
use screentime::face::runtime::{Runtime, RuntimeOptions};

fn models(c: &mut Criterion) {
    let runtime = Runtime::new(RuntimeOptions::default()).expect("models: run scripts/setup");
    let photo = load_image(&Path::new(env!("CARGO_MANIFEST_DIR")).join("data/photos/obama.jpg"))
        .expect("data/photos/obama.jpg: run scripts/setup");
    let frame = imageops::resize(&photo, 640, 384, FilterType::Triangle);

    let hd = imageops::resize(&photo, 1920, 1080, FilterType::Triangle);

    for kind in [DetectorKind::Int8, DetectorKind::Fp32] {
        let name = format!("{kind:?}").to_lowercase();
        let runtime = Runtime::new(RuntimeOptions {
            detector: kind,
            ..RuntimeOptions::default()
        })
        .unwrap();
        let mut detector = Detector::new(&runtime, DetectOptions::default()).unwrap();
        c.bench_function(&format!("detect 640x384, {name}"), |b| {
            b.iter(|| detector.detect(black_box(&frame)).unwrap())
        });
        c.bench_function(&format!("detect 1920x1080, {name}"), |b| {
            b.iter(|| detector.detect(black_box(&hd)).unwrap())
        });
        c.bench_function(
            &format!("detect 1920x1080 turned both ways, 320 px, {name}"),
            |b| {
                b.iter(|| {
                    detector
                        .detect_turned(black_box(&hd), Vec::new(), 320)
                        .unwrap()
                })
            },
        );
        let tracked = detector.detect(&hd).unwrap().remove(0).bbox.scaled(2.0);
        c.bench_function(
            &format!("detect region of a 1920x1080 face, 160 px, {name}"),
            |b| {
                b.iter(|| {
                    detector
                        .detect_in(black_box(&hd), &tracked, 160, Turn::Upright)
                        .unwrap()
                })
            },
        );
    }

    let mut engine = Engine::new(&runtime, DetectOptions::default()).unwrap();
    let face = engine.detect(&photo).unwrap().remove(0);
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
