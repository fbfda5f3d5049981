//! The models on real faces: the ONNX embedder against dlib itself, and the whole path
//! (CenterFace, alignment, embedder) against the people in labelled photos, with each embedder
//! (dlib's, and ArcFace's, which `scripts/setup --test` installs) at its own threshold.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use image::imageops::FilterType;
use screentime::face::detect::DetectOptions;
use screentime::face::embed::{Descriptor, Embedder, distance};
use screentime::face::engine::{EmbeddedFace, load_image, padded};
use screentime::face::model::DetectorKind;
use screentime::face::model::EmbedderKind;
use screentime::face::runtime::DESCRIPTOR_REVISION;
use screentime::identity::cast::load;

const EMBEDDERS: [EmbedderKind; 2] = [EmbedderKind::Dlib, EmbedderKind::Arcface];

fn same_person(embedder: EmbedderKind) -> f32 {
    embedder.thresholds().same_person
}

const REGISTRY_PHOTOS: [(&str, &str); 4] = [
    ("obama.jpg", "obama"),
    ("obama2.jpg", "obama"),
    ("obama3.jpg", "obama"),
    ("biden.jpg", "biden"),
];

/// dlib (installed by `scripts/setup --test`) cuts its own chips from the registry photos and
/// embeds them; the converted ONNX model must give the same descriptors for the same chips.
#[test]
fn onnx_embedder_reproduces_dlib_on_dlibs_own_chips() {
    let out = tempfile::tempdir().unwrap();
    let dlib = project().join("data/dlib");
    let run = Command::new(project().join(".venv/bin/python"))
        .arg(project().join("tests/tools/dlib_reference.py"))
        .arg("--shape-predictor")
        .arg(dlib.join("shape_predictor_5_face_landmarks.dat"))
        .arg("--embedder")
        .arg(dlib.join("dlib_face_recognition_resnet_model_v1.dat"))
        .arg(out.path())
        .args(REGISTRY_PHOTOS.map(|(name, _)| registry_photo(name)))
        .output()
        .expect("the project venv (run scripts/setup --test)");
    assert!(
        run.status.success(),
        "dlib reference failed (run scripts/setup --test): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let json = std::fs::read_to_string(out.path().join("descriptors.json")).unwrap();
    let reference: BTreeMap<String, Vec<f32>> = serde_json::from_str(&json).unwrap();
    assert_eq!(reference.len(), 4, "dlib finds one face in each photo");

    let chips: Vec<_> = reference
        .keys()
        .map(|name| image::open(out.path().join(name)).unwrap().to_rgb8())
        .collect();
    let mut embedder = Embedder::new(&runtime()).unwrap();
    let batched = embedder.embed(&chips).unwrap();
    let mut worst = 0.0f32;
    for ((name, want), got) in reference.iter().zip(&batched) {
        let diff = want
            .iter()
            .zip(got)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f32::max);
        println!("{name}: max abs difference from dlib {diff:.2e}");
        worst = worst.max(diff);
    }
    assert!(
        worst < 1e-4,
        "descriptors differ from dlib's by up to {worst}"
    );

    // A chip's descriptor does not depend on what else is in its batch.
    for (chip, in_batch) in chips.iter().zip(&batched) {
        let alone = embedder.embed(std::slice::from_ref(chip)).unwrap();
        assert!(distance(&alone[0], in_batch) < 1e-5);
    }
}

#[test]
fn registry_photos_separate_obama_from_biden() {
    for embedder in EMBEDDERS {
        let mut engine = engine_of(embedder);
        let faces: Vec<(&str, Descriptor)> = REGISTRY_PHOTOS
            .iter()
            .map(|(name, person)| {
                let found = faces_in(&mut engine, &registry_photo(name));
                assert_eq!(found.len(), 1, "{name} shows one face");
                let descriptor = found[0].descriptor.clone();
                assert_eq!(descriptor.len(), embedder.descriptor_len());
                (*person, descriptor)
            })
            .collect();
        assert_pairs_separate(&faces, embedder);
    }
}

/// ArcFace's descriptors are of unit length, so that Euclidean distance orders pairs as the
/// cosine the network was trained for does, and a face is the same whatever else is in its
/// batch.
#[test]
fn arcface_descriptors_are_unit_length_and_batch_independent() {
    let mut engine = engine_of(EmbedderKind::Arcface);
    let image = load_image(&registry_photo("obama.jpg")).unwrap();
    let faces = engine.faces(&image).unwrap();
    let chip = engine.chip(&image, &faces[0].face);
    assert_eq!(chip.dimensions(), (112, 112));
    let mut embedder = Embedder::new(&runtime_of(EmbedderKind::Arcface)).unwrap();
    let alone = embedder.embed(std::slice::from_ref(&chip)).unwrap();
    let norm = alone[0].iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-5, "norm {norm}");
    assert!(distance(&alone[0], &faces[0].descriptor) < 1e-5);
    let other = load_image(&registry_photo("biden.jpg")).unwrap();
    let other_face = engine.detect(&other).unwrap().remove(0);
    let other_chip = engine.chip(&other, &other_face);
    let batched = embedder.embed(&[other_chip, chip]).unwrap();
    assert!(distance(&alone[0], &batched[1]) < 1e-5);
}

/// Every same-person pair is closer than the embedder's threshold, every different-person
/// pair farther.
fn assert_pairs_separate(faces: &[(&str, Descriptor)], embedder: EmbedderKind) {
    let threshold = same_person(embedder);
    for (i, (a, da)) in faces.iter().enumerate() {
        for (b, db) in &faces[i + 1..] {
            let d = distance(da, db);
            println!("{embedder:?}: {a} - {b}: {d:.3}");
            if a == b {
                assert!(d < threshold, "{embedder:?}: {a} vs {a}: {d}");
            } else {
                assert!(d > threshold, "{embedder:?}: {a} vs {b}: {d}");
            }
        }
    }
}

fn largest(faces: Vec<EmbeddedFace>) -> EmbeddedFace {
    faces
        .into_iter()
        .max_by(|a, b| a.face.bbox.area().total_cmp(&b.face.bbox.area()))
        .expect("at least one face")
}

/// knn/train holds one person per folder; knn/test photos show the people named in the data's
/// README (obama_and_biden also shows a girl who is none of them).
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn knn_people_are_told_apart() {
    let knn = shared_data("knn");
    for embedder in EMBEDDERS {
        knn_people_told_apart_by(&knn, embedder);
    }
}

fn knn_people_told_apart_by(knn: &Path, embedder: EmbedderKind) {
    let threshold = same_person(embedder);
    let mut engine = engine_of(embedder);
    let mut train: Vec<(String, Descriptor)> = Vec::new();
    for person in sorted_entries(&knn.join("train")) {
        let name = person.file_name().unwrap().to_string_lossy().into_owned();
        for photo in sorted_entries(&person) {
            train.push((
                name.clone(),
                largest(faces_in(&mut engine, &photo)).descriptor,
            ));
        }
    }
    assert_eq!(train.len(), 9);
    let pairs: Vec<(&str, Descriptor)> =
        train.iter().map(|(n, d)| (n.as_str(), d.clone())).collect();
    assert_pairs_separate(&pairs, embedder);

    let tests: [(&str, &[&str]); 5] = [
        ("alex_lacamoire1.jpg", &["alex_lacamoire"]),
        ("johnsnow_test1.jpg", &["kit_harington"]),
        ("kit_with_rose.jpg", &["kit_harington", "rose_leslie"]),
        ("obama1.jpg", &["obama"]),
        ("obama_and_biden.jpg", &["obama", "biden"]),
    ];
    for (photo, people) in tests {
        let faces = faces_in(&mut engine, &knn.join("test").join(photo));
        let matches = |face: &EmbeddedFace, person: &str| {
            train
                .iter()
                .filter(|(name, _)| name == person)
                .all(|(_, d)| distance(&face.descriptor, d) < threshold)
        };
        for person in people {
            let count = faces.iter().filter(|f| matches(f, person)).count();
            assert_eq!(count, 1, "{embedder:?}: {photo}: faces matching {person}");
        }
        for face in &faces {
            let (nearest_name, d) = nearest(&face.descriptor, &train);
            if d < threshold {
                assert!(
                    people.contains(&nearest_name),
                    "{embedder:?}: {photo}: a face is taken for {nearest_name} ({d})"
                );
            }
        }
    }
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    entries
}

/// Enrols the five BBT crops of each cast member (padded: they are tight crops) as references.
fn bbt_cast(cast_dir: &Path, embedder: EmbedderKind) -> Vec<(String, Descriptor)> {
    let mut engine = engine_of(embedder);
    let mut cast = Vec::new();
    for member in sorted_entries(cast_dir) {
        let name = member.file_name().unwrap().to_string_lossy().into_owned();
        for crop in sorted_entries(&member) {
            let image = padded(&load_image(&crop).unwrap());
            let faces = engine.faces(&image).unwrap();
            assert_eq!(faces.len(), 1, "{}: one face", crop.display());
            cast.push((name.clone(), faces[0].descriptor.clone()));
        }
    }
    cast
}

/// Each labelled cast member of each scene is found, recognised against the cast crops, and in
/// the left-to-right order the data's README gives (bbt4 has two rows: top, then bottom).
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn bbt_scenes_show_every_labelled_cast_member() {
    let bbt = shared_data("bbt");
    for embedder in EMBEDDERS {
        bbt_scenes_recognised_by(&bbt, embedder);
    }
}

fn bbt_scenes_recognised_by(bbt: &Path, embedder: EmbedderKind) {
    let threshold = same_person(embedder);
    let cast = bbt_cast(&bbt.join("cast"), embedder);
    assert_eq!(cast.len(), 40);
    let scenes: [(&str, &[&[&str]]); 5] = [
        ("bbt1.jpg", &[&["raj", "leonard", "howard", "sheldon"]]),
        ("bbt2.jpg", &[&["leonard", "sheldon"]]),
        (
            "bbt3.jpg",
            &[&["sheldon", "howard", "penny", "raj", "leonard"]],
        ),
        (
            "bbt4.jpg",
            &[
                &["amy", "raj", "bernadette"],
                &["leonard", "penny", "sheldon"],
            ],
        ),
        (
            "bbt5.jpg",
            &[&["raj", "penny", "sheldon", "leonard", "howard"]],
        ),
    ];
    let mut engine = engine_of(embedder);
    for (scene, rows) in scenes {
        let faces = faces_in(&mut engine, &bbt.join("scenes").join(scene));
        let recognised: Vec<(&str, f32, f32)> = faces
            .iter()
            .filter_map(|f| {
                let (name, d) = nearest(&f.descriptor, &cast);
                let (x, y) = (f.face.bbox.x1, f.face.bbox.y1);
                (d < threshold).then_some((name, x, y))
            })
            .collect();
        for row in rows {
            let mut found: Vec<(&str, f32, f32)> = row
                .iter()
                .map(|member| {
                    let hits: Vec<_> = recognised.iter().filter(|r| r.0 == *member).collect();
                    assert_eq!(
                        hits.len(),
                        1,
                        "{embedder:?}: {scene}: faces recognised as {member}"
                    );
                    *hits[0]
                })
                .collect();
            found.sort_by(|a, b| a.1.total_cmp(&b.1));
            let order: Vec<&str> = found.iter().map(|r| r.0).collect();
            assert_eq!(&order, row, "{embedder:?}: {scene}: left-to-right order");
        }
        assert!(
            recognised.iter().all(|r| r.0 != "stuart"),
            "{embedder:?}: {scene}: stuart is in no scene"
        );
    }
}

/// The INT8 detector (the default) finds the faces the fp32 one finds in the registry photos,
/// at their size and at a third of it (smaller faces), with landmarks and dlib descriptors
/// close to the fp32 detector's: far closer than the 0.6 that separates people.
#[test]
fn int8_detector_finds_the_faces_fp32_finds() {
    let mut int8 = engine_with_detector(DetectorKind::Int8);
    let mut fp32 = engine_with_detector(DetectorKind::Fp32);
    let (mut landmarks, mut descriptors) = (0.0f32, 0.0f32);
    for (name, _) in REGISTRY_PHOTOS {
        let photo = load_image(&registry_photo(name)).unwrap();
        let (w, h) = photo.dimensions();
        let third = image::imageops::resize(&photo, w / 3, h / 3, FilterType::Triangle);
        for image in [&photo, &third] {
            let (want, got) = (fp32.faces(image).unwrap(), int8.faces(image).unwrap());
            assert_eq!(got.len(), want.len(), "{name} at {:?}", image.dimensions());
            for (a, b) in want.iter().zip(&got) {
                assert!(a.face.bbox.iou(&b.face.bbox) > 0.8, "{name}: {a:?} {b:?}");
                let width = a.face.bbox.width();
                for (p, q) in a.face.landmarks.iter().zip(&b.face.landmarks) {
                    landmarks = landmarks.max((p[0] - q[0]).abs().max((p[1] - q[1]).abs()) / width);
                }
                descriptors = descriptors.max(distance(&a.descriptor, &b.descriptor));
            }
        }
    }
    println!(
        "largest landmark difference {landmarks:.4} of the face's width, descriptor distance {descriptors:.4}"
    );
    assert!(landmarks < 0.06, "{landmarks}");
    assert!(descriptors < 0.15, "{descriptors}");
}

/// The INT8 detector's answer does not depend on the CPU: no convolution's 16-bit pair sum can
/// saturate (which CPUs without VNNI would clip), and every convolution ONNX Runtime computes on
/// this machine's CPU is the exact integer result (tests/tools/int8_exact.py, on the registry
/// photos). Run on an AVX2-only machine, this checks that machine's kernels.
#[test]
fn int8_detector_arithmetic_is_exact_on_this_cpu() {
    let run = Command::new(project().join(".venv/bin/python"))
        .arg(project().join("tests/tools/int8_exact.py"))
        .arg(project().join("models/centerface_int8.onnx"))
        .args(REGISTRY_PHOTOS.map(|(name, _)| registry_photo(name)))
        .output()
        .expect("the project venv (run scripts/setup)");
    let answer = String::from_utf8_lossy(&run.stdout);
    println!("{answer}");
    assert!(
        run.status.success(),
        "{answer}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    // CenterFace has 60 convolutions; each is checked on every photo.
    assert_eq!(answer["convolutions_checked"], 60 * REGISTRY_PHOTOS.len());
    assert_eq!(answer["convolutions_differing"], 0);
    assert!(answer["largest_pair_sum"].as_u64().unwrap() <= 32767);
}

/// Black bars (letterbox, pillarbox) change nothing the detector finds, though it leaves them
/// out: a photo framed by black from a point of the network's 32-pixel grid gives the faces of
/// the photo alone, moved, with the same scores.
#[test]
fn black_bars_change_no_face() {
    let mut engine = engine();
    for (name, _) in REGISTRY_PHOTOS {
        let photo = load_image(&registry_photo(name)).unwrap();
        // At most 384 px, so that neither the photo nor the 640 px frame around it is scaled.
        let (w, h) = photo.dimensions();
        let fit = 384.0 / w.max(h) as f32;
        let (w, h) = ((w as f32 * fit) as u32, (h as f32 * fit) as u32);
        let photo = image::imageops::resize(&photo, w, h, FilterType::Triangle);
        let mut framed = image::RgbImage::new(640, 480);
        image::imageops::overlay(&mut framed, &photo, 160, 64);

        let alone = engine.detect(&photo).unwrap();
        let found = engine.detect(&framed).unwrap();
        assert!(!alone.is_empty(), "{name}: no face");
        assert_eq!(found.len(), alone.len(), "{name}");
        for (a, b) in alone.iter().zip(&found) {
            let a = a.clone().moved(160.0, 64.0);
            assert!((a.score - b.score).abs() < 1e-6, "{name}: {a:?} {b:?}");
            assert!(a.bbox.iou(&b.bbox) > 0.999, "{name}: {a:?} {b:?}");
            for (p, q) in a.landmarks.iter().zip(&b.landmarks) {
                assert!(
                    (p[0] - q[0]).abs() < 1e-3 && (p[1] - q[1]).abs() < 1e-3,
                    "{name}"
                );
            }
        }
    }
}

/// A cast folder's cached embeddings made with another fingerprint (other models, or an earlier
/// screentime that embedded faces another way) are not used: the photo is embedded again and
/// the cache rewritten.
#[test]
fn a_cast_cached_with_another_fingerprint_is_embedded_again() {
    let tmp = tempfile::tempdir().unwrap();
    let cast = obama_cast(tmp.path());
    let runtime = runtime();
    let fresh = load(&cast, &runtime, DetectOptions::default()).unwrap();
    let cache = cast.join("screentime-cast.json");
    let mut cached: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(cached["embedder_sha256"], runtime.embedding_fingerprint());
    // What an earlier screentime would have left: its own fingerprint, its own descriptor.
    cached["embedder_sha256"] = "0".repeat(64).into();
    cached["photos"][0]["descriptor"] = vec![0.0f32; 128].into();
    std::fs::write(&cache, cached.to_string()).unwrap();

    let again = load(&cast, &runtime, DetectOptions::default()).unwrap();
    assert_eq!(again.faces[0].descriptor, fresh.faces[0].descriptor);
    let rewritten: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&cache).unwrap()).unwrap();
    assert_eq!(
        rewritten["embedder_sha256"],
        runtime.embedding_fingerprint()
    );
}

/// A cast cached beside its photos is trusted for as long as the embedding fingerprint is the
/// same, and the code's part of it is `DESCRIPTOR_REVISION`: a change that moves descriptors
/// without raising it would leave every cached cast compared with faces embedded another way.
/// The first components of obama.jpg's descriptors, recorded at the revision below; CPUs move
/// them by under 1e-6 (docs/cpus.md), so 1e-4 is a change of code or models.
#[test]
fn a_registry_photo_embeds_as_this_descriptor_revision_recorded() {
    const RECORDED_AT: u32 = 1;
    let recorded: [(EmbedderKind, [f32; 8]); 2] = [
        (
            EmbedderKind::Dlib,
            [
                -0.094869286,
                0.12573734,
                0.0038653633,
                -0.06845353,
                0.022833062,
                0.0005623611,
                -0.071522474,
                -0.09763617,
            ],
        ),
        (
            EmbedderKind::Arcface,
            [
                0.030753098,
                -0.033453286,
                -0.019498263,
                -0.07682226,
                0.013049328,
                -0.014585019,
                0.0070271785,
                0.023039846,
            ],
        ),
    ];
    assert_eq!(
        DESCRIPTOR_REVISION, RECORDED_AT,
        "DESCRIPTOR_REVISION was raised: record this test's descriptors again at the new revision"
    );
    for (embedder, expected) in recorded {
        let mut engine = engine_of(embedder);
        let face = largest(faces_in(&mut engine, &registry_photo("obama.jpg")));
        let moved = (face.descriptor[..8].iter().zip(expected))
            .map(|(got, want)| (got - want).abs())
            .fold(0.0f32, f32::max);
        assert!(
            moved < 1e-4,
            "{embedder:?}: obama.jpg's descriptor moved by {moved} since revision {RECORDED_AT} \
             (now {:?}): raise DESCRIPTOR_REVISION in src/face/runtime.rs, so cached casts are \
             embedded again, and record the new values here",
            &face.descriptor[..8]
        );
    }
}
