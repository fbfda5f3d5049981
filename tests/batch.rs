//! `screentime batch` and `screentime summary` on a catalog of videos made from real photos:
//! sharding gives the same catalog as one run, a killed batch resumes without redoing or
//! duplicating anything, and a broken file is reported without stopping the others.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{make_video, obama_cast, registry_photo};
use serde_json::json;

const TITLES: [&str; 4] = ["a.mp4", "b.mp4", "season 2/c.mp4", "season 2/d.mp4"];

/// A catalog folder of four short videos (Obama and Biden, 640x360) and a cast knowing Obama.
fn catalog(dir: &Path) -> (PathBuf, PathBuf) {
    let catalog = dir.join("catalog");
    std::fs::create_dir_all(catalog.join("season 2")).unwrap();
    let photo = |name: &str| registry_photo(name).display().to_string();
    let shots = [
        vec![("obama2.jpg", 1.0), ("biden.jpg", 0.6)],
        vec![("biden.jpg", 0.8)],
        vec![("obama3.jpg", 0.6), ("obama2.jpg", 0.6)],
        vec![("biden.jpg", 0.4), ("obama3.jpg", 1.0)],
    ];
    for (title, shots) in TITLES.iter().zip(shots) {
        let segments: Vec<_> = shots
            .iter()
            .map(|(p, s)| json!({"image": photo(p), "seconds": s, "motion": "zoom"}))
            .collect();
        let spec = json!({"width": 640, "height": 360, "fps": 25, "segments": segments});
        make_video(&spec, &catalog.join(title));
    }
    (catalog, obama_cast(dir))
}

fn batch(catalog: &Path, cast: &Path, out: &Path, extra: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_screentime"));
    command
        .arg("batch")
        .arg(catalog)
        .arg("--cast")
        .arg(cast)
        .arg("--out")
        .arg(out)
        .args(["--threads", "1"])
        .args(extra);
    command
}

fn run(mut command: Command) -> Output {
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap()
}

#[test]
fn sharded_batch_resumes_and_matches_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let (catalog, cast) = catalog(tmp.path());

    // One plain run.
    let whole = tmp.path().join("whole");
    run(batch(&catalog, &cast, &whole, &[]));
    let expected = read(&whole.join("catalog.csv"));
    let rows: Vec<&str> = expected.lines().collect();
    assert_eq!(rows[0], "title,actor,seconds,percent,status,read_percent");
    assert!(
        rows.contains(&"a.mp4,Barack Obama,1.000,62.500,done,100.0"),
        "{expected}"
    );
    assert!(
        rows.contains(&"a.mp4,unknown_1,0.600,37.500,done,100.0"),
        "{expected}"
    );
    assert!(
        rows.contains(&"b.mp4,unknown_1,0.800,100.000,done,100.0"),
        "{expected}"
    );
    assert!(
        rows.contains(&"season 2/c.mp4,Barack Obama,1.200,100.000,done,100.0"),
        "{expected}"
    );
    for title in TITLES {
        assert!(
            whole
                .join("titles")
                .join(title)
                .join("screentime.png")
                .is_file()
        );
    }

    // Two shards in two processes at once, then the summary.
    let sharded = tmp.path().join("sharded");
    let shards: Vec<_> = ["0/2", "1/2"]
        .iter()
        .map(|shard| {
            batch(&catalog, &cast, &sharded, &["--shard", shard, "--quiet"])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for shard in shards {
        let output = shard.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let mut summary = Command::new(env!("CARGO_BIN_EXE_screentime"));
    summary.arg("summary").arg(&sharded);
    run(summary);
    assert_eq!(read(&sharded.join("catalog.csv")), expected);

    // Killed (SIGKILL) once the first title is done, then run again.
    let resumed = tmp.path().join("resumed");
    let mut child = batch(&catalog, &cast, &resumed, &[])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let first_done = resumed.join("titles/a.mp4/done.json");
    let started = Instant::now();
    while !first_done.exists() {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "first title never finished"
        );
        assert!(
            child.try_wait().unwrap().is_none(),
            "the batch ended before it was killed"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    let report = resumed.join("titles/a.mp4/report.json");
    let first_report = read(&report);

    let again = run(batch(&catalog, &cast, &resumed, &[]));
    let log = String::from_utf8_lossy(&again.stderr);
    assert!(log.contains("skipped  a.mp4 (already done)"), "{log}");
    assert_eq!(
        read(&report),
        first_report,
        "the first title was not measured again"
    );
    for title in &TITLES[1..] {
        assert!(log.contains(&format!("done     {title}")), "{log}");
    }
    assert_eq!(read(&resumed.join("catalog.csv")), expected);
}

#[test]
fn a_broken_title_is_listed_and_the_others_complete() {
    let tmp = tempfile::tempdir().unwrap();
    let (catalog, cast) = catalog(tmp.path());
    std::fs::write(catalog.join("broken.mp4"), "this is not a video").unwrap();
    let out = tmp.path().join("out");

    let output = batch(&catalog, &cast, &out, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.contains("failed   broken.mp4: "), "{log}");
    let failures = read(&out.join("failures.csv"));
    let lines: Vec<&str> = failures.lines().collect();
    assert_eq!(lines.len(), 2, "{failures}");
    assert!(lines[1].starts_with("broken.mp4,"), "{failures}");
    assert!(
        lines[1].contains(&catalog.join("broken.mp4").display().to_string()),
        "{failures}"
    );
    for title in TITLES {
        assert!(
            out.join("titles").join(title).join("done.json").is_file(),
            "{title}"
        );
    }
    let catalog_csv = read(&out.join("catalog.csv"));
    assert!(!catalog_csv.contains("broken.mp4"));
    assert!(out.join("catalog.png").is_file());
}
