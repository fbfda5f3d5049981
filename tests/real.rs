//! Accuracy on real footage, against truth annotated by eye or known from how a montage was
//! made (tests/truth/), in the default mode and with `--stride 1`: what docs/accuracy.md
//! reports, as assertions. `bench/eval.py` (scripts/eval) prepares the clips, runs the
//! binary and scores every result; these tests read its scores. The footage is development data
//! (`../shared/data/real`): the tests are ignored unless asked for (`scripts/test` asks where
//! the data is present).

mod common;

use std::path::Path;
use std::process::Command;

use common::{project, shared_data};
use serde_json::Value;

/// Runs bench/eval.py on `clips` in `modes` (screentime arguments) with this test build and no
/// peer; the scores by "clip / tool".
fn evaluate(clips: &[&str], modes: &[&str], out: &Path) -> serde_json::Map<String, Value> {
    // bench/eval.py leaves out a clip whose footage is absent; these tests must not.
    shared_data("real");
    let mut command = Command::new("python3");
    command
        .arg(project().join("bench/eval.py"))
        .args([
            "--no-peer",
            "--binary",
            env!("CARGO_BIN_EXE_screentime"),
            "--out",
        ])
        .arg(out);
    for clip in clips {
        command.args(["--clip", clip]);
    }
    for mode in modes {
        command.args(["--mode", mode]);
    }
    let run = command.output().expect("python3");
    assert!(
        run.status.success(),
        "bench/eval.py failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let scores = std::fs::read_to_string(out.join("scores.json")).unwrap();
    match serde_json::from_str(&scores).unwrap() {
        Value::Object(scores) => scores,
        other => panic!("scores.json is not an object: {other}"),
    }
}

/// The default mode and every frame, with dlib's embedder...
const MODES: [&str; 2] = ["", "--stride 1"];
/// ...and with ArcFace's (installed by scripts/setup --test).
const ARCFACE_MODES: [&str; 2] = ["--embedder arcface", "--embedder arcface --stride 1"];

/// The score's key for `clip` in `mode`, as bench/eval.py names it.
fn key(clip: &str, mode: &str) -> String {
    format!(
        "{clip} / screentime {}",
        if mode.is_empty() { "(default)" } else { mode }
    )
}

/// Labels of the result holding two people or more (a label following someone else where its
/// own person is not on screen).
fn mixed_labels(score: &Value) -> u64 {
    score["mixed_labels"].as_u64().unwrap()
}

/// Every cast member's recall and every stranger's, the seconds credited to someone not on
/// screen as a share of the clip, and the strangers with exactly one label of their own.
fn summary(score: &Value) -> (f64, f64, f64, u64, u64) {
    let identities = score["identities"].as_array().unwrap();
    let worst = |stranger: bool| {
        identities
            .iter()
            .filter(|i| i["stranger"].as_bool() == Some(stranger))
            .map(|i| i["recall"].as_f64().unwrap())
            .fold(1.0, f64::min)
    };
    let false_share =
        score["false_seconds"].as_f64().unwrap() / score["clip_seconds"].as_f64().unwrap();
    (
        worst(false),
        worst(true),
        false_share,
        score["strangers_one_label"].as_u64().unwrap(),
        score["strangers"].as_u64().unwrap(),
    )
}

/// The bar: every cast member and every stranger found for at least 95% of their time, at most
/// 1% of the clip credited to someone not there, each stranger under one label of their own,
/// and no label holding two people.
fn assert_meets_the_bar(scores: &serde_json::Map<String, Value>, clip: &str, modes: &[&str]) {
    for mode in modes {
        let key = key(clip, mode);
        let (cast, strangers, false_share, one_label, all) = summary(&scores[&key]);
        println!(
            "{key}: cast recall {cast:.3}, strangers {strangers:.3}, false {false_share:.4}, one label {one_label}/{all}"
        );
        assert!(
            cast >= 0.95,
            "{key}: a cast member found for {cast:.3} of their time"
        );
        assert!(
            strangers >= 0.95,
            "{key}: a stranger found for {strangers:.3} of their time"
        );
        assert!(
            false_share <= 0.01,
            "{key}: {false_share:.4} of the clip credited to someone not there"
        );
        assert_eq!(
            one_label, all,
            "{key}: strangers with one label of their own"
        );
        assert_eq!(
            mixed_labels(&scores[&key]),
            0,
            "{key}: labels holding two people"
        );
    }
}

#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn studio_montages_with_cuts_and_people_side_by_side() {
    let out = tempfile::tempdir().unwrap();
    let scores = evaluate(&["grid_cuts", "grid_pairs"], &MODES, out.path());
    assert_meets_the_bar(&scores, "grid_cuts", &MODES);
    assert_meets_the_bar(&scores, "grid_pairs", &MODES);
}

/// The same montages with ArcFace's embedder: at its own thresholds, every name right and each
/// stranger under one label (strangers' track means scaled to unit length keep them apart).
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn studio_montages_with_arcface() {
    let out = tempfile::tempdir().unwrap();
    let scores = evaluate(&["grid_cuts", "grid_pairs"], &ARCFACE_MODES, out.path());
    assert_meets_the_bar(&scores, "grid_cuts", &ARCFACE_MODES);
    assert_meets_the_bar(&scores, "grid_pairs", &ARCFACE_MODES);
}

#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn strangers_talking_to_the_camera_get_one_label_each() {
    let out = tempfile::tempdir().unwrap();
    let clips = ["talk", "face_noface", "noface_face"];
    let scores = evaluate(&clips, &MODES, out.path());
    for clip in clips {
        assert_meets_the_bar(&scores, clip, &MODES);
    }
}

/// Children in dim film scenes from two films a few years apart: dlib's descriptors of two
/// different children come as close as one child's across the films, so it does not meet the
/// bar (docs/accuracy.md). Held to what it reaches: no label ever holds two people (a
/// person split in two is the lesser harm: each label's time is theirs), and with one frame of
/// each lead as the cast, every lead found for 95% of their time.
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn children_in_dim_film_scenes() {
    let out = tempfile::tempdir().unwrap();
    let scores = evaluate(&["snape", "snape_named"], &MODES, out.path());
    for mode in MODES {
        for clip in ["snape", "snape_named"] {
            let key = key(clip, mode);
            assert_eq!(
                mixed_labels(&scores[&key]),
                0,
                "{key}: labels holding two people"
            );
        }
        let key = key("snape_named", mode);
        let (cast, ..) = summary(&scores[&key]);
        assert!(
            cast >= 0.95,
            "{key}: a lead found for {cast:.3} of their time"
        );
    }
}

/// The hardest clip: wide shots with faces 40-60 px high, siblings who look alike, one photo per
/// person. It does not meet the bar everywhere (see docs/accuracy.md for where
/// and why); this holds it to what it reaches, so a change that loses ground fails.
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn tv_family_scene() {
    holds_its_ground("fotb", FOTB_RECALL, FOTB_FALSE);
}

/// The same scene turned a quarter turn: everyone lying on their side, faces rolled 90 degrees,
/// found in the frame turned back, on the video bench/eval.py encodes the same on every run
/// (2026-12-08: worst recall 0.916 and 0.912, false 0.0472 and 0.0299 of the clip; 0.812 and
/// 0.895, 0.0715 and 0.0603 before a clip that follows someone lying looked turned at every
/// full detection and bunched upright finds gave way; none found before rolled faces were looked
/// for). The same margins as fotb's below.
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn tv_family_scene_lying_down() {
    holds_its_ground("fotb_turned", 0.90, 0.065);
}

/// The same scene rolled 60 degrees (bench/eval.py): faces found upright read past 45 degrees
/// and are looked at a quarter turn, where they are rolled 30 degrees. Far under the bar with
/// dlib (docs/benchmarks.md, rolled faces); this holds it to what it reaches (2026-12-08: worst
/// recall 0.656 and 0.566, false 0.1572 and 0.2282 of the clip), with fotb's margins.
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn tv_family_scene_rolled_60_degrees() {
    holds_its_ground("fotb_rolled", 0.555, 0.246);
}

/// The same scene as a soft old transfer (854x480, blurred, grained, faded; bench/eval.py):
/// the wide shots' faces are 30-35 px high and, to dlib's descriptors, 0.64-0.81 from their
/// photos and nearer another person's wide shot than their own named tracks, so with dlib the
/// scene is far under the bar; ArcFace's come near it (docs/accuracy.md). 2026-12-07: dlib
/// 0.885 and 0.871, false 0.0918 and 0.0796 of the clip; ArcFace 0.969 and 0.963, false 0.0294
/// in both. Held to that with fotb's margins below.
#[test]
#[ignore = "needs ../shared/data (development data; scripts/test runs it where present)"]
fn tv_family_scene_soft_transfer() {
    let out = tempfile::tempdir().unwrap();
    let modes = [MODES, ARCFACE_MODES].concat();
    let scores = evaluate(&["fotb_soft"], &modes, out.path());
    assert_holds(&scores, "fotb_soft", &MODES, 0.86, 0.11);
    assert_holds(&scores, "fotb_soft", &ARCFACE_MODES, 0.958, 0.047);
}

/// Runs `clip` in the default mode and with `--stride 1` and asserts it holds its ground there
/// ([`assert_holds`]).
fn holds_its_ground(clip: &str, recall: f64, false_share: f64) {
    let out = tempfile::tempdir().unwrap();
    let scores = evaluate(&[clip], &MODES, out.path());
    assert_holds(&scores, clip, &MODES, recall, false_share);
}

/// In each of `modes`, every cast member's recall is at least `recall` and at most
/// `false_share` of the clip goes to someone not there.
fn assert_holds(
    scores: &serde_json::Map<String, Value>,
    clip: &str,
    modes: &[&str],
    recall: f64,
    false_share: f64,
) {
    for mode in modes {
        let key = key(clip, mode);
        let (cast, _, wrong, _, _) = summary(&scores[&key]);
        println!("{key}: cast recall {cast:.3}, false {wrong:.4}");
        assert!(
            cast >= recall,
            "{key}: a cast member found for {cast:.3} of their time"
        );
        assert!(
            wrong <= false_share,
            "{key}: {wrong:.4} of the clip credited to someone not there"
        );
    }
}

/// What the fotb scene reaches (2026-12-07: worst recall 0.956 and 0.963, false 0.0269 and
/// 0.0213 of the clip, default and `--stride 1`), less a margin. The CPU does not move it: the
/// detector is exact on every CPU (tests/tools/int8_exact.py), the embedder's descriptors move
/// by under 1e-6 between AVX2 and AVX-512, and fotb's results were identical end to end on an
/// emulated AVX2-only CPU (docs/cpus.md). The margin, 1.1% of recall
/// and 1.8% of the clip (1.5 s), is about one track of a cast member's (their median is 1.3 s)
/// going the other way, from a change elsewhere that moves a borderline face.
const FOTB_RECALL: f64 = 0.945;
const FOTB_FALSE: f64 = 0.045;
