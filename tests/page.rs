//! `report.html` and `catalog.html` as a user sees them: loaded in headless Chromium from
//! `file://`, with the rendered page checked (every identity, one clickable appearance per
//! segment, the video playing, faces shown or not), a click on an appearance seeking the video to
//! its start, hostile names shown as text, every link of a batch's catalog leading to its
//! title's page, and no errors logged by the page. Screenshots go to the tests' target folder.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::browser::Browser;
use common::{demo_spec, make_video, obama_cast, registry_photo, screen_time};
use screentime::job::result::{ScreenTime, Segment};
use screentime::output::cooccurrence::Cooccurrence;
use screentime::output::page::{self, ReportPage};
use screentime::output::webvtt;
use screentime::video::decode::VideoInfo;
use serde_json::{Value, json};

/// The demo's video at `path`.
fn demo_video(path: &Path) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    make_video(&demo_spec(false), path);
    path.to_path_buf()
}

/// screentime with `args`, run in the folder `cwd`.
fn screentime(cwd: &Path, args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_screentime"))
        .current_dir(cwd)
        .args(args)
        .args(["--threads", "2", "--quiet"])
        .output()
        .unwrap()
}

fn succeeded(output: Output) {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Measures `video` in the folder `cwd` (the paths may be relative to it) and returns its report.
fn measure(cwd: &Path, video: &Path, cast: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        video.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    succeeded(screentime(cwd, &args));
    serde_json::from_str(&std::fs::read_to_string(cwd.join(out).join("report.json")).unwrap())
        .unwrap()
}

/// Where a test's screenshot goes (kept after the test, for a person to look at).
fn screenshot_path(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn strings(value: &Value) -> Vec<String> {
    serde_json::from_value(value.clone()).unwrap()
}

/// The video's duration once its metadata is in, or -1 when it cannot be loaded.
fn video_duration(browser: &mut Browser) -> f64 {
    browser
        .eval(
            "new Promise(done => { const v = document.getElementById('video');
               if (v.readyState >= 1) done(v.duration);
               v.addEventListener('loadedmetadata', () => done(v.duration));
               v.addEventListener('error', () => done(-1)); })",
        )
        .as_f64()
        .unwrap()
}

/// The names on the identity cards, top to bottom.
fn identities(browser: &mut Browser) -> Vec<String> {
    strings(&browser.eval("[...document.querySelectorAll('.identity h3')].map(e => e.textContent)"))
}

/// Clicks the `nth` appearance of `name` on the timeline and returns the video's time then and
/// who the page says is on screen.
fn click_appearance(browser: &mut Browser, name: &str, nth: usize) -> (f64, Vec<String>) {
    let rows = "[...document.querySelectorAll('.timeline .row')]";
    let name_js = serde_json::to_string(name).unwrap();
    let index = browser.eval(&format!(
        "{rows}.findIndex(r => r.dataset.name === {name_js}) + 1"
    ));
    browser.click(&format!(
        ".timeline .row:nth-child({index}) .segment:nth-of-type({})",
        nth + 1
    ));
    let time = browser
        .eval("document.getElementById('video').currentTime")
        .as_f64()
        .unwrap();
    let on = strings(
        &browser.eval("[...document.querySelectorAll('.identity.on')].map(e => e.dataset.name)"),
    );
    (time, on)
}

#[test]
fn result_page_shows_every_identity_and_plays_each_appearance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    demo_video(&dir.join("videos/demo.mp4"));
    obama_cast(dir);
    // Relative paths, as a user types them: the page links the video from its own folder.
    let (video, cast) = (Path::new("videos/demo.mp4"), Path::new("cast"));
    let report = measure(dir, video, cast, Path::new("out"), &["--debug-tracks"]);
    let out = dir.join("out");
    let names: Vec<String> = screen_time(&report).into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["Barack Obama", "unknown_1"]);
    let segments: Vec<Segment> = serde_json::from_value(report["segments"].clone()).unwrap();

    let mut browser = Browser::start();
    browser.open(&out.join("report.html"));
    let duration = video_duration(&mut browser);
    assert!(
        (duration - 7.8).abs() < 0.05,
        "the video did not load: {duration}"
    );
    assert_eq!(identities(&mut browser), names);

    // One clickable appearance per segment, on its identity's row, at its times.
    let shown = browser.eval(
        "[...document.querySelectorAll('.timeline [data-start]')].map(e => { const r = e.getBoundingClientRect();
           return [e.closest('.row').dataset.name, +e.dataset.start, +e.dataset.end, r.width, r.height]; })",
    );
    let shown = shown.as_array().unwrap();
    assert_eq!(shown.len(), segments.len());
    // The page groups them by identity, in the cards' order.
    let mut segments = segments;
    segments.sort_by_key(|s| names.iter().position(|n| *n == s.name));
    for (element, segment) in shown.iter().zip(&segments) {
        assert_eq!(element[0], segment.name.as_str());
        assert!((element[1].as_f64().unwrap() - segment.start).abs() < 5e-4);
        assert!((element[2].as_f64().unwrap() - segment.end).abs() < 5e-4);
        assert!(
            element[3].as_f64().unwrap() >= 3.0 && element[4].as_f64().unwrap() >= 10.0,
            "too small to click: {element}"
        );
    }

    // Each identity shows its saved faces, all of them loaded.
    for name in &names {
        let saved = std::fs::read_dir(out.join("faces").join(name))
            .unwrap()
            .count();
        let name_js = serde_json::to_string(name).unwrap();
        let loaded = browser.eval(&format!(
            "[...document.querySelectorAll('.identity')].find(c => c.dataset.name === {name_js})
               .querySelectorAll('img').length"
        ));
        assert_eq!(loaded, json!(saved), "{name}");
    }
    assert_eq!(
        browser.eval("[...document.images].every(i => i.complete && i.naturalWidth > 0)"),
        json!(true)
    );
    // The stranger's card says how to name them.
    let hint = browser
        .eval("document.querySelector('.identity[data-name=\"unknown_1\"] code').textContent");
    assert_eq!(
        hint,
        json!("screentime name out unknown_1 \"Their Name\" --cast cast")
    );

    // Each card lists its face tracks (tracks.jsonl's, by name), each saying why it is theirs;
    // a click on one plays it.
    let tracks: Vec<Value> = std::fs::read_to_string(out.join("tracks.jsonl"))
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for name in &names {
        let name_js = serde_json::to_string(name).unwrap();
        let listed = browser.eval(&format!(
            "[...document.querySelectorAll('.identity')].find(c => c.dataset.name === {name_js})
               .querySelectorAll('.tracks li').length"
        ));
        let own = tracks.iter().filter(|t| t["name"] == name.as_str()).count();
        assert_eq!(listed, json!(own), "{name}");
    }
    let second = tracks
        .iter()
        .filter(|t| t["name"] == "unknown_1")
        .nth(1)
        .expect("Biden's two shots are two tracks");
    let listed = browser.eval(
        "document.querySelectorAll('.identity[data-name=\"unknown_1\"] .tracks li')[1].textContent",
    );
    assert!(
        listed.as_str().unwrap().contains("grouped with track"),
        "why the second shot is the same stranger: {listed}"
    );
    browser
        .eval("document.querySelector('.identity[data-name=\"unknown_1\"] .tracks').open = true");
    browser.click(".identity[data-name=\"unknown_1\"] .tracks li:nth-child(2) .seek");
    let time = browser
        .eval("document.getElementById('video').currentTime")
        .as_f64()
        .unwrap();
    let start = second["start"].as_f64().unwrap();
    assert!((time - start).abs() < 0.25, "{time} for track {second}");

    // Biden's second shot is 5.8 to 6.8 s; Obama's first starts the video.
    let biden = segments
        .iter()
        .filter(|s| s.name == "unknown_1")
        .nth(1)
        .unwrap();
    let (time, on) = click_appearance(&mut browser, "unknown_1", 1);
    assert!((time - biden.start).abs() < 0.25, "{time} for {biden:?}");
    assert_eq!(on, ["unknown_1"]);
    browser.screenshot(&screenshot_path("report.png"));
    let (time, on) = click_appearance(&mut browser, "Barack Obama", 0);
    assert!(time < 0.25, "{time}");
    assert_eq!(on, ["Barack Obama"]);
    assert_eq!(browser.errors, Vec::<String>::new());

    // --no-thumbnails: the same page without a face.
    measure(dir, video, cast, Path::new("bare"), &["--no-thumbnails"]);
    browser.open(&dir.join("bare/report.html"));
    assert_eq!(identities(&mut browser), names);
    assert_eq!(browser.eval("document.images.length"), json!(0));
    assert_eq!(browser.errors, Vec::<String>::new());
}

#[test]
fn hostile_names_show_as_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Names from a cast folder and a video file: markup, quotes, and what a URL treats
    // specially. (`/` cannot be in either: see tests/hostile.rs for names that try to leave.)
    let actor = r#"<img src=x onerror="document.title='pwned'"> "Bob" O'Neil & <b>Co"#;
    let file = r#"<script>document.title='pwned'<%script> #1 50% ?.mp4"#;
    let video = demo_video(&dir.join("videos").join(file));
    let cast = dir.join("cast");
    std::fs::create_dir_all(cast.join(actor)).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), cast.join(actor).join("a.jpg")).unwrap();
    let out = dir.join("out");
    measure(dir, &video, &cast, &out, &[]);

    let mut browser = Browser::start();
    browser.open(&out.join("report.html"));
    assert!(
        video_duration(&mut browser) > 7.0,
        "the video's link is broken"
    );
    assert_eq!(identities(&mut browser), [actor, "unknown_1"]);
    assert_eq!(
        browser.eval("document.querySelector('.video-name').textContent"),
        json!(file)
    );
    assert_eq!(
        browser.eval("document.title"),
        json!(format!("Screen time in {file}"))
    );
    // Nothing the names hold became an element, and the faces' links hold.
    assert_eq!(
        browser.eval("document.querySelectorAll('img[src=x], b, script[src]').length + document.scripts.length"),
        json!(1)
    );
    assert_eq!(
        browser.eval("[...document.images].every(i => i.complete && i.naturalWidth > 0)"),
        json!(true)
    );
    let (_, on) = click_appearance(&mut browser, actor, 0);
    assert_eq!(on, [actor]);
    assert_eq!(browser.errors, Vec::<String>::new());
}

#[test]
fn catalog_page_links_every_title() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let catalog = dir.join("catalog");
    demo_video(&catalog.join("season 1/pilot.mp4"));
    let photo = |name: &str| registry_photo(name).display().to_string();
    make_video(
        &json!({"width": 640, "height": 360, "fps": 25, "segments": [
            {"image": photo("biden.jpg"), "seconds": 1.2},
            {"image": photo("obama3.jpg"), "seconds": 1.6}]}),
        // A title with markup and quotes, in a folder `<i>finale<`.
        &catalog.join("<i>finale</i> & 'more'.mp4"),
    );
    std::fs::write(catalog.join("broken.mp4"), b"not a video").unwrap();
    let cast = obama_cast(dir);
    let out = dir.join("out");
    let output = screentime(
        dir,
        &[
            "batch".as_ref(),
            catalog.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ],
    );
    assert_eq!(output.status.code(), Some(1), "broken.mp4 fails");
    let summary: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("catalog.json")).unwrap()).unwrap();

    let mut browser = Browser::start();
    browser.open(&out.join("catalog.html"));
    let rows = browser.eval(
        "[...document.querySelectorAll('.title-row')].map(r => [r.querySelector('.title').textContent,
           r.querySelector('a') ? r.querySelector('a').href : null, r.cells[1].textContent])",
    );
    let rows = rows.as_array().unwrap();
    let titles: Vec<&str> = summary["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap())
        .collect();
    assert_eq!(
        rows.iter()
            .map(|r| r[0].as_str().unwrap())
            .collect::<Vec<_>>(),
        titles
    );
    let actors = strings(&browser.eval(
        "[...document.querySelectorAll('.actors tbody tr')].map(r => r.cells[0].textContent)",
    ));
    assert_eq!(actors, ["Barack Obama"]);
    browser.screenshot(&screenshot_path("catalog.png"));
    assert_eq!(browser.errors, Vec::<String>::new());

    // Every done title links to its own page; the failed one says why, with no link.
    for row in rows {
        let title = row[0].as_str().unwrap();
        if title == "broken.mp4" {
            assert_eq!(row[1], Value::Null);
            assert!(row[2].as_str().unwrap().starts_with("failed: "), "{row}");
            continue;
        }
        let link = row[1].as_str().expect("a done title links to its page");
        let page = link.strip_prefix("file://").unwrap();
        let page = percent_decode(page);
        browser.open(Path::new(&page));
        let name = Path::new(title).file_name().unwrap().to_str().unwrap();
        assert_eq!(
            browser.eval("document.querySelector('.video-name').textContent"),
            json!(name)
        );
        assert!(
            video_duration(&mut browser) > 2.0,
            "{title}: the video's link is broken"
        );
        assert_eq!(browser.errors, Vec::<String>::new(), "{title}");
    }
}

/// A 2-hour result with hundreds of appearances: the page still shows every one, and says how
/// long it took to load (`cargo test --release --test page -- --nocapture long`).
#[test]
fn long_result_page_shows_every_appearance() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let video = demo_video(&dir.join("movie.mp4"));
    let length = 7200.0;
    let names: Vec<String> = (1..=40)
        .map(|i| {
            if i <= 12 {
                format!("Actor {i}")
            } else {
                format!("unknown_{}", i - 12)
            }
        })
        .collect();
    // 800 appearances of 2-20 s spread over the two hours, from a fixed pseudo-random walk.
    let mut segments = Vec::new();
    let mut state = 7u64;
    for i in 0..800 {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let start = (i as f64) * 9.0 + (state >> 60) as f64 / 4.0;
        let seconds = 2.0 + (state >> 59 & 15) as f64;
        let name = names[(state >> 33) as usize % names.len()].clone();
        segments.push(Segment {
            name,
            start,
            end: start + seconds,
            seconds,
        });
    }
    let mut rows: Vec<ScreenTime> = names
        .iter()
        .map(|name| {
            let own: Vec<&Segment> = segments.iter().filter(|s| &s.name == name).collect();
            let seconds: f64 = own.iter().map(|s| s.seconds).sum();
            ScreenTime {
                name: name.clone(),
                frames: (seconds * 25.0) as u64,
                seconds,
                percent: 100.0 * seconds / length,
                first_seen: own.first().map_or(0.0, |s| s.start),
                last_seen: own.last().map_or(0.0, |s| s.end),
            }
        })
        .collect();
    rows.sort_by(|a, b| b.seconds.total_cmp(&a.seconds));
    let info = VideoInfo {
        path: video,
        width: 1920,
        height: 1080,
        rotation: 0,
        mirrored: false,
        codec: "h264".into(),
        frame_rate: Some(25.0),
        variable_rate: false,
        duration: Some(length),
        frames: Some(180_000),
        bytes: None,
    };
    let shown: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
    let track = webvtt::text(&segments, None);
    page::write_report(
        &dir.join("report.html"),
        &ReportPage {
            video: &info,
            video_seconds: length,
            coverage: "read the whole video",
            complete: true,
            screen_time: &rows,
            charted: &rows,
            segments: &segments,
            faces: &BTreeMap::new(),
            cast: Path::new("cast"),
            together: &Cooccurrence::of(&shown, &segments),
            track: &track,
            tracks: &[],
        },
    )
    .unwrap();

    let mut browser = Browser::start();
    browser.open(&dir.join("report.html"));
    assert_eq!(
        browser.eval("document.querySelectorAll('[data-start]').length"),
        json!(segments.len())
    );
    // Every cue of the track reaches the player.
    let cues = browser.eval(
        "new Promise(done => { const track = document.querySelector('track');
           const count = () => done(track.track.cues.length);
           if (track.readyState === 2) count(); else track.addEventListener('load', count); })",
    );
    assert_eq!(cues, json!(track.matches(" --> ").count()));
    assert_eq!(identities(&mut browser).len(), names.len());
    let loaded = browser.eval("performance.getEntriesByType('navigation')[0].loadEventEnd");
    eprintln!(
        "report.html of a 2-hour result ({} identities, {} appearances, {} KB): loaded in {:.0} ms",
        names.len(),
        segments.len(),
        std::fs::metadata(dir.join("report.html")).unwrap().len() / 1024,
        loaded.as_f64().unwrap()
    );
    assert_eq!(browser.errors, Vec::<String>::new());
}

/// `%XX` escapes in a file URL's path, decoded.
fn percent_decode(path: &str) -> String {
    percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .unwrap()
        .into_owned()
}
