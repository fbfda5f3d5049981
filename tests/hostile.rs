//! What a hostile user can hand screentime, one test per kind of harm: a run never deletes or
//! overwrites what it did not write, never writes outside its output folder, never hangs, never
//! grows without bound, and never gives a wrong result with exit code 0. Each test checks the
//! exit code, the one-line message naming the file, and the files present, absent and untouched.
//! Every run is under `timeout`, so a regression that hangs fails instead of stalling CI.

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{ffmpeg, make_video, obama_cast, registry_photo, screen_time};
use serde_json::json;

/// Seconds any one run may take before it counts as hung.
const TIMEOUT: &str = "300";

/// screentime with `args`, under `timeout`.
fn screentime<S: AsRef<OsStr>>(args: &[S]) -> Command {
    let mut command = Command::new("timeout");
    command
        .arg(TIMEOUT)
        .arg(env!("CARGO_BIN_EXE_screentime"))
        .args(args);
    command
}

fn run<S: AsRef<OsStr>>(args: &[S]) -> Output {
    screentime(args).output().unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Exit code 0, and what it printed on stderr.
fn succeeded(output: &Output) -> String {
    let log = stderr(output);
    assert_eq!(output.status.code(), Some(0), "{log}");
    assert!(!log.contains("panicked"), "{log}");
    log
}

/// Exit code `code` and a single line on stderr: `error: <message>...`.
fn failed(output: &Output, code: i32, message: &str) {
    let log = stderr(output);
    assert_eq!(output.status.code(), Some(code), "{log}");
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(log.starts_with(&format!("error: {message}")), "{log}");
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// Every file under `dir`, relative, sorted.
fn files_under(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap();
            if entry.file_type().unwrap().is_dir() {
                folders.push(entry.path());
            } else {
                let relative = entry.path().strip_prefix(dir).unwrap().to_path_buf();
                files.push(relative.to_string_lossy().into_owned());
            }
        }
    }
    files.sort();
    files
}

/// A short video of `photos` (registry photo, seconds) at 320x180.
fn video(path: &Path, shots: &[(&str, f64)]) -> PathBuf {
    let segments: Vec<_> = shots
        .iter()
        .map(|(photo, seconds)| {
            json!({"image": registry_photo(photo).display().to_string(), "seconds": seconds})
        })
        .collect();
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    make_video(
        &json!({"width": 320, "height": 180, "fps": 25, "segments": segments}),
        path,
    );
    path.to_path_buf()
}

/// Class 2: actor names in a cast file (`--cast x.json`) never become paths outside `--out`:
/// `../../victim` and `/abs/dir` are refused when the cast is read, before anything is written.
#[test]
fn cast_file_names_cannot_leave_the_output_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(&dir.join("clip.mp4"), &[("obama2.jpg", 0.6)]);
    let cast = obama_cast(dir);
    let first = dir.join("first");
    succeeded(&run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        first.as_os_str(),
    ]));
    let embeddings: serde_json::Value =
        serde_json::from_slice(&read(&cast.join("screentime-cast.json"))).unwrap();

    // A user's files where the names point.
    let victim = dir.join("victim/1.jpg");
    write(&victim, b"the user's own picture");
    let absolute = dir.join("abs/dir");
    write(&absolute.join("1.jpg"), b"another one");
    let work = dir.join("work");
    for name in [
        "../../victim".to_string(),
        absolute.display().to_string(),
        "..".to_string(),
        String::new(),
    ] {
        let mut hostile = embeddings.clone();
        hostile["photos"][0]["name"] = json!(name);
        let cast_file = dir.join("hostile.json");
        write(&cast_file, hostile.to_string().as_bytes());
        let out = work.join("out");
        failed(
            &run(&[
                clip.as_os_str(),
                "--cast".as_ref(),
                cast_file.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ]),
            1,
            &format!(
                "{}: actor name {name:?} cannot name a file or folder",
                cast_file.display()
            ),
        );
        assert!(!out.exists());
        let photos = dir.join("photos");
        std::fs::create_dir_all(&photos).unwrap();
        std::fs::copy(registry_photo("obama.jpg"), photos.join("a.jpg")).unwrap();
        std::fs::copy(registry_photo("obama3.jpg"), photos.join("b.jpg")).unwrap();
        let groups = work.join("groups");
        failed(
            &run(&[
                "group".as_ref(),
                photos.as_os_str(),
                "--out".as_ref(),
                groups.as_os_str(),
                "--link".as_ref(),
                "--cast".as_ref(),
                cast_file.as_os_str(),
            ]),
            1,
            &format!("{}: actor name", cast_file.display()),
        );
        assert!(!groups.exists());
    }
    assert_eq!(read(&victim), b"the user's own picture");
    assert_eq!(files_under(&dir.join("victim")), ["1.jpg"]);
    assert_eq!(files_under(&absolute), ["1.jpg"]);

    // `screentime name` takes the identity as a folder of the results: it too must be one name.
    let faces = first.join("faces");
    failed(
        &run(&[
            "name".as_ref(),
            first.as_os_str(),
            "../../victim".as_ref(),
            "Someone".as_ref(),
            "--cast".as_ref(),
            cast.as_os_str(),
        ]),
        1,
        &format!(
            "{}: \"../../victim\" cannot name a file or folder",
            faces.join("../../victim").display()
        ),
    );
    assert!(!cast.join("Someone").exists());
}

/// Class 3: batch titles that differ only in `..` against `__`, or a leading `/`, get folders
/// of their own: each result is kept, and a second run skips both.
#[test]
fn batch_titles_never_share_a_folder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    video(&dir.join("v/a.mp4"), &[("obama2.jpg", 0.6)]);
    video(&dir.join("m/__/v/a.mp4"), &[("biden.jpg", 0.6)]);
    let manifest = dir.join("m/list.txt");
    write(&manifest, b"../v/a.mp4\n__/v/a.mp4\n");
    let cast = obama_cast(dir);
    let out = dir.join("m/out");
    let args = [
        "batch".as_ref(),
        manifest.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    let log = succeeded(&run(&args));
    assert!(log.contains("done     ../v/a.mp4"), "{log}");
    assert!(log.contains("done     __/v/a.mp4"), "{log}");
    let catalog = String::from_utf8(read(&out.join("catalog.csv"))).unwrap();
    assert!(catalog.contains("../v/a.mp4,Barack Obama,"), "{catalog}");
    assert!(catalog.contains("__/v/a.mp4,unknown_1,"), "{catalog}");
    assert!(!catalog.contains("__/v/a.mp4,Barack Obama"), "{catalog}");
    // Each in its own folder under OUT/titles, nothing beside the videos.
    let titles = files_under(&out.join("titles"));
    assert!(
        titles.contains(&"%2E./v/a.mp4/report.json".to_string()),
        "{titles:?}"
    );
    assert!(
        titles.contains(&"__/v/a.mp4/report.json".to_string()),
        "{titles:?}"
    );
    assert_eq!(files_under(&dir.join("v")), ["a.mp4"]);

    let again = succeeded(&run(&args));
    assert!(
        again.contains("skipped  ../v/a.mp4 (already done)"),
        "{again}"
    );
    assert!(
        again.contains("skipped  __/v/a.mp4 (already done)"),
        "{again}"
    );
}

/// Class 1: a run removes only the files earlier runs in the same folder wrote (so a user's own
/// `faces/holiday.jpg` stays, with or without thumbnails, in a batch title folder too) and
/// refuses to write over a file no run wrote.
#[test]
fn a_run_removes_only_what_earlier_runs_wrote() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(
        &dir.join("catalog/a.mp4"),
        &[("obama2.jpg", 0.6), ("biden.jpg", 0.6)],
    );
    let cast = obama_cast(dir);
    let out = dir.join("out");
    let mine = ["faces/holiday.jpg", "faces/sub/me.jpg", "notes.txt"];
    for file in mine {
        write(&out.join(file), file.as_bytes());
    }
    let measure = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            clip.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ];
        args.extend(extra.iter().map(OsStr::new));
        run(&args)
    };
    let untouched = |out: &Path| {
        for file in mine {
            assert_eq!(read(&out.join(file)), file.as_bytes(), "{file}");
        }
    };

    succeeded(&measure(&out, &[]));
    untouched(&out);
    assert!(out.join("faces/Barack Obama/1.jpg").is_file());
    assert!(out.join("faces/unknown_1/1.jpg").is_file());
    // Again, then without face pictures: the run's own go, the user's stay.
    succeeded(&measure(&out, &[]));
    succeeded(&measure(&out, &["--no-thumbnails"]));
    untouched(&out);
    let left = files_under(&out);
    assert!(left.contains(&"report.json".to_string()), "{left:?}");
    assert!(!out.join("faces.jpg").exists());
    assert!(!out.join("faces/Barack Obama").exists(), "{left:?}");
    assert!(!out.join("faces/unknown_1").exists(), "{left:?}");

    // A result file of the same name that no run wrote is not overwritten.
    let other = dir.join("other");
    write(&other.join("screentime.csv"), b"the user's table");
    failed(
        &measure(&other, &[]),
        1,
        &format!(
            "{}: cannot write: it is not a file an earlier screentime run wrote here",
            other.join("screentime.csv").display()
        ),
    );
    assert_eq!(read(&other.join("screentime.csv")), b"the user's table");
    assert_eq!(files_under(&other), ["screentime.csv"]);

    // The same in a batch title folder.
    let results = dir.join("results");
    let title = results.join("titles/a.mp4");
    write(&title.join("faces/mine.jpg"), b"mine");
    let batch = |extra: &[&str]| {
        let mut args: Vec<std::ffi::OsString> = vec![
            "batch".into(),
            dir.join("catalog").into_os_string(),
            "--cast".into(),
            cast.clone().into_os_string(),
            "--out".into(),
            results.clone().into_os_string(),
        ];
        args.extend(extra.iter().map(Into::into));
        run(&args)
    };
    succeeded(&batch(&[]));
    assert!(title.join("faces/Barack Obama/1.jpg").is_file());
    succeeded(&batch(&["--force", "--no-thumbnails"]));
    assert_eq!(read(&title.join("faces/mine.jpg")), b"mine");
    assert!(!title.join("faces/Barack Obama").exists());
}

/// Class 4: links to folders are not followed by `group` and `batch` (a `self -> .` link would
/// count everything again at each level, and with `up -> ..` the walk would never end): each
/// photo and video counts once, and a warning names each link.
#[test]
fn folder_walks_do_not_follow_links_to_folders() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let photos = dir.join("photos");
    std::fs::create_dir_all(photos.join("more")).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), photos.join("obama.jpg")).unwrap();
    std::fs::copy(registry_photo("obama3.jpg"), photos.join("more/obama3.jpg")).unwrap();
    std::os::unix::fs::symlink(".", photos.join("self")).unwrap();
    std::os::unix::fs::symlink("..", photos.join("more/up")).unwrap();
    // A link to a photo counts like the photo.
    std::os::unix::fs::symlink(registry_photo("obama2.jpg"), photos.join("linked.jpg")).unwrap();
    let out = dir.join("groups");
    let output = run(&[
        "group".as_ref(),
        photos.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let log = succeeded(&output);
    for link in [photos.join("self"), photos.join("more/up")] {
        let warning = format!(
            "warning: {}: a link to a folder; not followed",
            link.display()
        );
        assert!(log.contains(&warning), "{log}");
    }
    let summary = String::from_utf8_lossy(&output.stdout);
    assert!(summary.contains("person_1: 3 photos"), "{summary}");
    let groups = String::from_utf8(read(&out.join("groups.csv"))).unwrap();
    assert_eq!(groups.lines().count(), 4, "{groups}");

    let catalog = dir.join("catalog");
    video(&catalog.join("a.mp4"), &[("obama2.jpg", 0.6)]);
    std::os::unix::fs::symlink(".", catalog.join("self")).unwrap();
    std::os::unix::fs::symlink("..", catalog.join("up")).unwrap();
    let results = dir.join("results");
    let log = succeeded(&run(&[
        "batch".as_ref(),
        catalog.as_os_str(),
        "--cast".as_ref(),
        obama_cast(dir).as_os_str(),
        "--out".as_ref(),
        results.as_os_str(),
    ]));
    assert_eq!(log.matches("done     ").count(), 1, "{log}");
    assert!(log.contains("done     a.mp4"), "{log}");
    let titles = String::from_utf8(read(&results.join("catalog.csv"))).unwrap();
    assert_eq!(titles.lines().count(), 2, "{titles}");
}

/// screentime with `args` under `ulimit -v` of `mib` MiB (and `timeout`), so a run that would
/// grow without bound fails instead of taking the machine's memory.
fn run_limited<S: AsRef<OsStr>>(mib: u64, args: &[S]) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {} && exec timeout {TIMEOUT} \"$0\" \"$@\"",
            mib * 1024
        ))
        .arg(env!("CARGO_BIN_EXE_screentime"))
        .args(args)
        .output()
        .unwrap()
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A valid PNG header declaring `width`x`height` grey pixels, with the data of one row: what a
/// decoder allocates comes from the declared size.
fn png_declaring(width: u32, height: u32) -> Vec<u8> {
    fn chunk(png: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        png.extend((data.len() as u32).to_be_bytes());
        let start = png.len();
        png.extend(kind);
        png.extend(data);
        let crc = crc32(&png[start..]);
        png.extend(crc.to_be_bytes());
    }
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = Vec::new();
    header.extend(width.to_be_bytes());
    header.extend(height.to_be_bytes());
    header.extend([8, 0, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &header);
    // zlib: one stored block holding one row (its filter byte and zeros), then Adler-32.
    let row = vec![0u8; width as usize + 1];
    let mut data = vec![0x78, 0x01, 0x01];
    data.extend((row.len() as u16).to_le_bytes());
    data.extend((!(row.len() as u16)).to_le_bytes());
    data.extend(&row);
    let (a, b) = row.iter().fold((1u32, 0u32), |(a, b), &x| {
        let a = (a + u32::from(x)) % 65521;
        (a, (b + a) % 65521)
    });
    data.extend(((b << 16) | a).to_be_bytes());
    chunk(&mut png, b"IDAT", &data);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// Class 5: under a memory limit, a photo declaring 40000x40000 pixels is refused with a clear
/// message wherever photos are read (embed, a cast, group), and `--threads 1000` or
/// `--jobs 1000` run on as many threads as help, with a warning.
#[test]
fn memory_stays_bounded() {
    const LIMIT_MIB: u64 = 2048;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let huge = dir.join("photos/huge.png");
    write(&huge, &png_declaring(40000, 40000));
    let too_large = format!(
        "{}: cannot read image: 40000x40000 pixels is more than screentime reads (100 megapixels)",
        huge.display()
    );
    failed(
        &run_limited(LIMIT_MIB, &["embed".as_ref(), huge.as_os_str()]),
        1,
        &too_large,
    );

    let cast = obama_cast(dir);
    std::fs::copy(&huge, cast.join("Huge.png")).unwrap();
    // A large photo without a face, which enrolment pads (to nine times its pixels) and tries
    // again.
    image::RgbImage::from_pixel(12000, 8000, image::Rgb([90, 90, 90]))
        .save(cast.join("Nobody.jpg"))
        .unwrap();
    let clip = video(&dir.join("clip.mp4"), &[("obama2.jpg", 0.6)]);
    let out = dir.join("out");
    let log = succeeded(&run_limited(
        LIMIT_MIB,
        &[
            clip.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--threads".as_ref(),
            "1000".as_ref(),
        ],
    ));
    let cast_huge = cast.join("Huge.png");
    assert!(
        log.contains(&format!(
            "warning: {}: cannot read image: 40000x40000 pixels",
            cast_huge.display()
        )),
        "{log}"
    );
    let faceless = format!(
        "warning: {}: no face found",
        cast.join("Nobody.jpg").display()
    );
    assert!(log.contains(&faceless), "{log}");
    let cores = std::thread::available_parallelism().unwrap().get();
    assert!(log.contains("warning: --threads 1000: using "), "{log}");
    let settings = &report(&out)["settings"];
    let workers = settings["workers"].as_u64().unwrap() as usize;
    assert!((1..=cores).contains(&workers), "{settings}");
    assert_eq!(screen_time(&report(&out))[0].0, "Barack Obama");

    std::fs::copy(registry_photo("obama.jpg"), dir.join("photos/obama.jpg")).unwrap();
    std::fs::copy(registry_photo("obama3.jpg"), dir.join("photos/obama3.jpg")).unwrap();
    let output = run_limited(
        LIMIT_MIB,
        &[
            "group".as_ref(),
            dir.join("photos").as_os_str(),
            "--out".as_ref(),
            dir.join("groups").as_os_str(),
        ],
    );
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert_eq!(log.trim_end(), format!("error: {too_large}; photo skipped"));
    assert!(String::from_utf8_lossy(&output.stdout).contains("person_1: 2 photos"));

    let catalog = dir.join("catalog");
    for name in ["a.mp4", "b.mp4", "c.mp4"] {
        std::fs::create_dir_all(&catalog).unwrap();
        std::fs::copy(&clip, catalog.join(name)).unwrap();
    }
    let log = succeeded(&run_limited(
        LIMIT_MIB,
        &[
            "batch".as_ref(),
            catalog.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            dir.join("results").as_os_str(),
            "--threads".as_ref(),
            "2".as_ref(),
            "--jobs".as_ref(),
            "1000".as_ref(),
        ],
    ));
    assert!(log.contains("warning: --jobs 1000: using "), "{log}");
    assert_eq!(log.matches("done     ").count(), 3, "{log}");
}
fn report(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&read(&dir.join("report.json"))).unwrap()
}

fn ts(mp4: &Path, ts: &Path, offset_seconds: u32) {
    let offset = offset_seconds.to_string();
    ffmpeg([
        "-i".as_ref(),
        mp4.as_os_str(),
        "-c".as_ref(),
        "copy".as_ref(),
        "-output_ts_offset".as_ref(),
        offset.as_ref(),
        "-f".as_ref(),
        "mpegts".as_ref(),
        ts.as_os_str(),
    ]);
}

/// Class 6: two MPEG-TS files joined with `cat` (timestamps start again, or leap ahead) are one
/// video whose time only goes forward: the default stride analyses both halves, and `--stride 1`
/// gives no overlapping appearances.
#[test]
fn joined_recordings_keep_time_going_forward() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let first = video(&dir.join("first.mp4"), &[("biden.jpg", 2.0)]);
    let second = video(&dir.join("second.mp4"), &[("obama2.jpg", 2.0)]);
    let cast = obama_cast(dir);
    // The second recording starting over from its own zero, and one made an hour later.
    for (name, offset) in [("restart", 0), ("leap", 3600)] {
        let (a, b) = (
            dir.join(format!("{name}-a.ts")),
            dir.join(format!("{name}-b.ts")),
        );
        ts(&first, &a, 0);
        ts(&second, &b, offset);
        let joined = dir.join(format!("{name}.ts"));
        write(&joined, &[read(&a), read(&b)].concat());
        for stride in ["auto", "1"] {
            let out = dir.join(format!("{name}-{stride}"));
            succeeded(&run(&[
                joined.as_os_str(),
                "--cast".as_ref(),
                cast.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
                "--stride".as_ref(),
                stride.as_ref(),
            ]));
            let context = format!("{name}, stride {stride}: {}", report(&out));
            let seconds = report(&out)["stats"]["video_seconds"].as_f64().unwrap();
            assert!((seconds - 4.0).abs() < 0.1, "{context}");
            let obama = screen_time(&report(&out))
                .into_iter()
                .find(|(who, _)| who == "Barack Obama")
                .unwrap_or_else(|| panic!("{context}"));
            assert!((obama.1 - 2.0).abs() < 0.25, "{context}");
            // Appearances in video order, none starting before the one before it ended.
            let segments = report(&out)["segments"].as_array().unwrap().clone();
            let obama_start = segments
                .iter()
                .find(|s| s["name"] == "Barack Obama")
                .unwrap()["start"]
                .as_f64()
                .unwrap();
            assert!((obama_start - 2.0).abs() < 0.25, "{context}");
            let mut ends = std::collections::BTreeMap::new();
            for segment in &segments {
                let name = segment["name"].as_str().unwrap();
                let (start, end) = (
                    segment["start"].as_f64().unwrap(),
                    segment["end"].as_f64().unwrap(),
                );
                assert!(start <= end && end <= 4.1, "{context}");
                if let Some(previous) = ends.insert(name.to_string(), end) {
                    assert!(start >= previous, "{context}");
                }
            }
        }
    }
}

/// Class 7: a display matrix that mirrors the picture is a mirror, not half a turn: the face is
/// upright and found.
#[test]
fn mirrored_video_is_not_turned_upside_down() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = dir.join("mirrored.mp4");
    make_video(
        &json!({"width": 320, "height": 180, "fps": 25, "mirror": true, "segments": [
            {"image": registry_photo("obama2.jpg").display().to_string(), "seconds": 1.0}
        ]}),
        &clip,
    );
    let out = dir.join("out");
    succeeded(&run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        obama_cast(dir).as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]));
    assert_eq!(report(&out)["video"]["rotation"], 0);
    assert_eq!(report(&out)["video"]["mirrored"], true);
    let obama = screen_time(&report(&out));
    assert_eq!(obama[0].0, "Barack Obama", "{obama:?}");
    assert!((obama[0].1 - 1.0).abs() < 0.1, "{obama:?}");
}

/// Class 8: a title whose results are damaged is a failure: `summary` lists it, `search` says it
/// was not searched, and the next batch measures it again. A folder without batch results is an
/// error, and gets no catalog.
#[test]
fn damaged_results_are_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let catalog = dir.join("catalog");
    for name in ["a.mp4", "b.mp4", "c.mp4"] {
        video(&catalog.join(name), &[("obama2.jpg", 0.6)]);
    }
    let cast = obama_cast(dir);
    let out = dir.join("results");
    let batch = [
        "batch".as_ref(),
        catalog.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ];
    succeeded(&run(&batch));
    let damaged = out.join("titles/b.mp4/report.json");
    let bytes = read(&damaged);
    write(&damaged, &bytes[..bytes.len() / 2]);

    let summary = run(&["summary".as_ref(), out.as_os_str()]);
    let log = stderr(&summary);
    assert_eq!(summary.status.code(), Some(1), "{log}");
    assert!(
        log.starts_with("2 titles done, 0 incomplete, 1 failed"),
        "{log}"
    );
    let listed = format!("  failed: b.mp4: {}: damaged: ", damaged.display());
    assert!(log.contains(&listed), "{log}");
    let failures = String::from_utf8(read(&out.join("failures.csv"))).unwrap();
    assert!(
        failures.lines().nth(1).unwrap().starts_with("b.mp4,"),
        "{failures}"
    );
    let rows = String::from_utf8(read(&out.join("catalog.csv"))).unwrap();
    assert!(!rows.contains("b.mp4"), "{rows}");

    let found = run(&["search".as_ref(), "Barack Obama".as_ref(), out.as_os_str()]);
    let log = succeeded(&found);
    assert!(log.contains("warning: b.mp4: not searched: "), "{log}");
    assert_eq!(String::from_utf8_lossy(&found.stdout).lines().count(), 3);

    let again = succeeded(&run(&batch));
    assert!(again.contains("done     b.mp4"), "{again}");
    assert!(again.contains("skipped  a.mp4 (already done)"), "{again}");
    let rows = String::from_utf8(read(&out.join("catalog.csv"))).unwrap();
    assert!(rows.contains("b.mp4,Barack Obama,"), "{rows}");

    // No results: an error naming the folder, and nothing written into it.
    let empty = dir.join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    failed(
        &run(&["summary".as_ref(), empty.as_os_str()]),
        1,
        &format!("{}: no batch results", empty.display()),
    );
    assert!(files_under(&empty).is_empty());
    let missing = dir.join("missing");
    failed(
        &run(&["summary".as_ref(), missing.as_os_str()]),
        1,
        &format!("{}: no such folder", missing.display()),
    );
    assert!(!missing.exists());
    failed(
        &run(&[
            "batch".as_ref(),
            empty.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        1,
        &format!("{}: no videos in it", empty.display()),
    );
}

/// Class 9: nothing in a cast folder is left out without a warning naming it: photos of a format
/// screentime does not read, links to nothing, actor folders without a photo.
#[test]
fn cast_photos_are_never_dropped_silently() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cast = obama_cast(dir);
    let bytes = read(&registry_photo("biden.jpg"));
    write(&cast.join("Joe Biden.tiff"), &bytes);
    write(&cast.join("Animated.gif"), &bytes);
    std::os::unix::fs::symlink(dir.join("nowhere.jpg"), cast.join("Ghost.jpg")).unwrap();
    write(&cast.join("Empty Actor/notes.txt"), b"photos to come");
    write(&cast.join(".DS_Store"), b"");
    let clip = video(&dir.join("clip.mp4"), &[("obama2.jpg", 0.6)]);
    let out = dir.join("out");
    let log = succeeded(&run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]));
    let not_read = "not a photo screentime reads (jpg, jpeg, png, webp, bmp); skipped";
    for warning in [
        format!("{}: {not_read}", cast.join("Joe Biden.tiff").display()),
        format!("{}: {not_read}", cast.join("Animated.gif").display()),
        format!(
            "{}: {not_read}",
            cast.join("Empty Actor/notes.txt").display()
        ),
        format!(
            "{}: no photos (jpg, jpeg, png, webp, bmp) of Empty Actor; Empty Actor will not be \
             recognised",
            cast.join("Empty Actor").display()
        ),
        format!(
            "{}: No such file or directory",
            cast.join("Ghost.jpg").display()
        ),
        format!(
            "{}: no usable photo of Ghost; Ghost will not be recognised",
            cast.display()
        ),
    ] {
        assert!(
            log.contains(&format!("warning: {warning}")),
            "{warning}\n{log}"
        );
    }
    assert!(!log.contains(".DS_Store"), "{log}");
    assert_eq!(log.matches("warning: ").count(), 6, "{log}");
    assert_eq!(report(&out)["settings"]["cast_faces"], 1);
    assert_eq!(report(&out)["cast_warnings"].as_array().unwrap().len(), 6);
}

/// Class 10: options out of range are refused by name with exit code 2 before anything runs, a
/// negative number too without `=`.
#[test]
fn options_out_of_range_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(&dir.join("clip.mp4"), &[("obama2.jpg", 0.2)]);
    let cast = obama_cast(dir);
    let out = dir.join("out");
    let measure = |option: &str, value: &str| {
        vec![
            clip.clone().into_os_string(),
            "--cast".into(),
            cast.clone().into_os_string(),
            "--out".into(),
            out.clone().into_os_string(),
            option.into(),
            value.into(),
        ]
    };
    let photo = registry_photo("obama.jpg").into_os_string();
    let cases: Vec<(Vec<std::ffi::OsString>, &str, &str)> = vec![
        (
            measure("--threshold", "-1"),
            "--threshold <DISTANCE>",
            "a number above 0 and at most 2",
        ),
        (
            measure("--threshold", "NaN"),
            "--threshold <DISTANCE>",
            "a number above 0 and at most 2",
        ),
        (
            measure("--threshold", "2.5"),
            "--threshold <DISTANCE>",
            "a number above 0 and at most 2",
        ),
        (
            measure("--detect-threshold", "0"),
            "--detect-threshold <SCORE>",
            "a number above 0 and below 1",
        ),
        (
            measure("--detect-threshold", "1.5"),
            "--detect-threshold <SCORE>",
            "a number above 0 and below 1",
        ),
        (
            measure("--detect-size", "0"),
            "--detect-size <PIXELS>",
            "a whole number of pixels from 32",
        ),
        (
            measure("--detect-size", "1"),
            "--detect-size <PIXELS>",
            "a whole number of pixels from 32",
        ),
        (
            measure("--min-screen-time", "NaN"),
            "--min-screen-time <SECONDS>",
            "a number from 0",
        ),
        (
            measure("--min-screen-time", "-1"),
            "--min-screen-time <SECONDS>",
            "a number from 0",
        ),
        (
            measure("--threads", "0"),
            "--threads <N>",
            "a whole number from 1",
        ),
        (
            measure("--stride", "-1"),
            "--stride <N|auto>",
            "auto or a whole number from 1",
        ),
        (
            ["batch", "x", "--cast", "y", "--out", "z", "--jobs", "0"]
                .map(Into::into)
                .to_vec(),
            "--jobs <N>",
            "a whole number from 1",
        ),
        (
            vec![
                "lookalike".into(),
                photo.clone(),
                "--cast".into(),
                cast.clone().into(),
                "--threshold".into(),
                "-0.6".into(),
            ],
            "--threshold <DISTANCE>",
            "a number above 0 and at most 2",
        ),
        (
            [
                "slideshow",
                "x",
                "--person",
                "p",
                "--cast",
                "y",
                "--out",
                "z.mp4",
                "--seconds-per-photo",
                "1e9",
            ]
            .map(Into::into)
            .to_vec(),
            "--seconds-per-photo <SECONDS>",
            "a number above 0 and at most 60",
        ),
        (
            ["group", "x", "--out", "z", "--min-photos", "0"]
                .map(Into::into)
                .to_vec(),
            "--min-photos <N>",
            "a whole number from 1",
        ),
    ];
    for (args, option, expected) in cases {
        let output = run(&args);
        let log = stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {log}");
        let value = args.last().unwrap().to_string_lossy().into_owned();
        let message = format!(
            "error: invalid value '{value}' for '{option}': expected {expected}, not \"{value}\""
        );
        assert_eq!(
            log.lines().next(),
            Some(message.as_str()),
            "{args:?}: {log}"
        );
    }
    assert!(!out.exists());
    assert!(!dir.join("z").exists());
}

/// The unclear messages: each input is named, with what is wrong with it, on one line.
#[test]
fn unclear_inputs_get_clear_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let cast = obama_cast(dir);
    // A file whose name FFmpeg would take for a protocol and an address is a file.
    let clip = video(&dir.join("clip:1.ts"), &[("obama2.jpg", 0.4)]);
    let measure = |video: &OsStr, cast: &Path, out: &str, extra: &[&str]| {
        let mut args = vec![
            video.to_os_string(),
            "--cast".into(),
            cast.as_os_str().to_os_string(),
            "--out".into(),
            dir.join(out).into_os_string(),
        ];
        args.extend(extra.iter().map(Into::into));
        run(&args)
    };
    succeeded(&measure(clip.as_os_str(), &cast, "local", &[]));
    assert_eq!(
        screen_time(&report(&dir.join("local")))[0].0,
        "Barack Obama"
    );
    // URLs only when asked for.
    let url = "https://example.com/clip.mp4";
    failed(
        &measure(url.as_ref(), &cast, "web", &[]),
        1,
        &format!("{url}: cannot open: no such file (to open a URL, add --url)"),
    );
    let file_url = format!("file:{}", clip.display());
    succeeded(&measure(file_url.as_ref(), &cast, "by-url", &["--url"]));
    assert_eq!(
        screen_time(&report(&dir.join("by-url")))[0].0,
        "Barack Obama"
    );

    // A photo, or a file that is not text, given as the cast.
    let photo = cast.join("Barack Obama.jpg");
    failed(
        &measure(clip.as_os_str(), &photo, "photo", &[]),
        1,
        &format!("{}: a photo, not a cast", photo.display()),
    );
    let binary = dir.join("binary.json");
    write(&binary, &[0xff, 0xfe, 0x00, 0x9c]);
    failed(
        &measure(clip.as_os_str(), &binary, "binary", &[]),
        1,
        &format!(
            "{}: not a screentime cast file (it is not text)",
            binary.display()
        ),
    );
    assert!(!dir.join("photo").exists() && !dir.join("binary").exists());

    // SCREENTIME_MODELS set but empty is not set: the installed models are used.
    let embedded = screentime(&["embed".as_ref(), photo.as_os_str()])
        .env("SCREENTIME_MODELS", "")
        .output()
        .unwrap();
    succeeded(&embedded);
    assert_eq!(String::from_utf8_lossy(&embedded.stdout).lines().count(), 1);

    // A damaged photo's message is one line, however the decoder ends its own.
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let damaged = photos.join("damaged.jpg");
    write(&damaged, &read(&photo)[..3000]);
    std::fs::copy(&photo, photos.join("whole.jpg")).unwrap();
    let output = run(&[
        "group".as_ref(),
        photos.as_os_str(),
        "--out".as_ref(),
        dir.join("groups").as_os_str(),
    ]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert_eq!(log.lines().count(), 1, "{log:?}");
    assert!(
        log.starts_with(&format!(
            "error: {}: cannot read image: ",
            damaged.display()
        )) && log.ends_with("; photo skipped\n"),
        "{log:?}"
    );
}

/// `video` remuxed with its index first (`+faststart`), then cut to `percent` of its bytes: the
/// container still says the whole duration, the frames after the cut are gone.
fn cut_video(video: &Path, percent: usize) -> PathBuf {
    let fast = video.with_extension("fast.mp4");
    ffmpeg([
        "-i".as_ref(),
        video.as_os_str(),
        "-c".as_ref(),
        "copy".as_ref(),
        "-movflags".as_ref(),
        "+faststart".as_ref(),
        fast.as_os_str(),
    ]);
    let bytes = read(&fast);
    let cut = video.with_extension("cut.mp4");
    write(&cut, &bytes[..bytes.len() * percent / 100]);
    cut
}

/// Issue 33, item 1: a video cut at 60% is measured on the part that decodes, and says so: the
/// printed table, report.json, report.html and the batch catalog give how much was read, the
/// run exits 3 with one line, and batch lists the title as incomplete, not done.
#[test]
fn a_video_read_in_part_is_an_incomplete_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let whole = video(
        &dir.join("videos/whole.mp4"),
        &[("obama2.jpg", 2.0), ("biden.jpg", 2.0)],
    );
    let cut = cut_video(&whole, 60);
    let cast = obama_cast(dir);
    let out = dir.join("out");
    let output = run(&[
        cut.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    failed(
        &output,
        3,
        &format!("{}: incomplete result: read ", cut.display()),
    );
    let table = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        table.lines().last().unwrap().ends_with("; INCOMPLETE)"),
        "{table}"
    );
    let stats = &report(&out)["stats"];
    assert_eq!(stats["complete"], false, "{stats}");
    let share = stats["read_percent"].as_f64().unwrap();
    assert!(share > 20.0 && share < 80.0, "{stats}");
    assert!(stats["seconds_read"].as_f64().unwrap() < 3.5, "{stats}");
    let page = String::from_utf8(read(&out.join("report.html"))).unwrap();
    assert!(page.contains("Incomplete result: read "), "{page}");
    // The exports that can hold a note say it too.
    let vtt = String::from_utf8(read(&out.join("appearances.vtt"))).unwrap();
    assert!(
        vtt.starts_with("WEBVTT\n\nNOTE Incomplete result: read "),
        "{vtt}"
    );
    let edl = String::from_utf8(read(&out.join("appearances.edl"))).unwrap();
    assert!(edl.contains("\n* INCOMPLETE RESULT: read "), "{edl}");

    // The whole video is whole, and says so too.
    let out_whole = dir.join("whole");
    let output = run(&[
        whole.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out_whole.as_os_str(),
    ]);
    succeeded(&output);
    let stats = &report(&out_whole)["stats"];
    assert_eq!(stats["complete"], true, "{stats}");
    assert_eq!(stats["read_percent"].as_f64(), Some(100.0), "{stats}");
    let vtt = String::from_utf8(read(&out_whole.join("appearances.vtt"))).unwrap();
    assert!(!vtt.contains("NOTE"), "{vtt}");

    // In a batch: its own state, in every catalog file, and exit code 3 (no title failed).
    std::fs::remove_file(dir.join("videos/whole.fast.mp4")).unwrap();
    let batch_out = dir.join("batch");
    let videos = dir.join("videos");
    let args = [
        "batch".as_ref(),
        videos.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        batch_out.as_os_str(),
    ];
    let output = run(&args);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{log}");
    assert!(log.contains("incomplete whole.cut.mp4: read "), "{log}");
    assert!(log.contains("done     whole.mp4"), "{log}");
    let catalog = String::from_utf8(read(&batch_out.join("catalog.csv"))).unwrap();
    assert!(
        catalog.starts_with("title,actor,seconds,percent,status,read_percent\n"),
        "{catalog}"
    );
    assert!(
        catalog.contains("whole.cut.mp4,Barack Obama,") && catalog.contains(",incomplete,"),
        "{catalog}"
    );
    assert!(
        catalog.contains("whole.mp4,Barack Obama,") && catalog.contains(",done,100.0\n"),
        "{catalog}"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&read(&batch_out.join("catalog.json"))).unwrap();
    let states: Vec<&str> = json["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["status"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["incomplete", "done"]);
    let page = String::from_utf8(read(&batch_out.join("catalog.html"))).unwrap();
    assert!(page.contains("incomplete: read "), "{page}");
    // Resumed, the title is skipped and still incomplete; `summary` says the same.
    let output = run(&args);
    assert_eq!(output.status.code(), Some(3), "{}", stderr(&output));
    let output = run(&["summary".as_ref(), batch_out.as_os_str()]);
    let log = stderr(&output);
    assert_eq!(output.status.code(), Some(3), "{log}");
    assert!(
        log.contains("1 titles done, 1 incomplete, 0 failed"),
        "{log}"
    );
}

/// Issue 33, item 3: a JPEG cut short is refused like a PNG cut short, as a photo to compare
/// and as a cast photo (left out with a warning), instead of decoding grey rows into a face.
#[test]
fn a_truncated_jpeg_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let photo = registry_photo("obama.jpg");
    let bytes = read(&photo);
    let cut = dir.join("cut.jpg");
    write(&cut, &bytes[..bytes.len() * 6 / 10]);
    failed(
        &run(&["similarity".as_ref(), photo.as_os_str(), cut.as_os_str()]),
        1,
        &format!(
            "{}: cannot read image: the JPEG is cut short",
            cut.display()
        ),
    );
    let cast = dir.join("cast");
    write(
        &cast.join("Barack Obama.jpg"),
        &bytes[..bytes.len() * 6 / 10],
    );
    std::fs::copy(registry_photo("biden.jpg"), cast.join("Joe Biden.jpg")).unwrap();
    let output = run(&[
        "lookalike".as_ref(),
        photo.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
    ]);
    let log = succeeded(&output);
    assert!(
        log.contains(&format!(
            "{}: cannot read image: the JPEG is cut short",
            cast.join("Barack Obama.jpg").display()
        )),
        "{log}"
    );
    assert!(!String::from_utf8_lossy(&output.stdout).contains("Barack Obama"));
}

/// Issue 33, item 5: one video listed twice in a manifest under different spellings is
/// refused, as an exact repeat is, instead of being measured and counted twice.
#[test]
fn a_manifest_cannot_list_one_video_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    video(&dir.join("a.mp4"), &[("obama2.jpg", 0.2)]);
    std::os::unix::fs::symlink(dir.join("a.mp4"), dir.join("link.mp4")).unwrap();
    let cast = obama_cast(dir);
    for listed in ["a.mp4\n./a.mp4\n", "a.mp4\nlink.mp4\n"] {
        let manifest = dir.join("list.txt");
        write(&manifest, listed.as_bytes());
        let out = dir.join("out");
        let second = listed.lines().nth(1).unwrap();
        let (first, second) = if second < "a.mp4" {
            (second, "a.mp4")
        } else {
            ("a.mp4", second)
        };
        failed(
            &run(&[
                "batch".as_ref(),
                manifest.as_os_str(),
                "--cast".as_ref(),
                cast.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ]),
            1,
            &format!(
                "{}: {first} and {second} are the same video, listed twice",
                manifest.display()
            ),
        );
        assert!(!out.exists());
    }
}

/// Issue 33, item 6: the labels screentime gives people nobody named (`unknown_N`, and
/// `group`'s `person_N` and `ungrouped`) cannot be cast names, wherever a cast is read: a photo
/// named so, a cast file's name, `screentime name`. A stranger and an actor never share a row.
#[test]
fn cast_names_cannot_be_stranger_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(
        &dir.join("clip.mp4"),
        &[("obama2.jpg", 0.6), ("biden.jpg", 0.6)],
    );
    let cast = obama_cast(dir);
    let first = dir.join("first");
    succeeded(&run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        first.as_os_str(),
    ]));
    assert_eq!(screen_time(&report(&first))[1].0, "unknown_1");

    // A photo named after a stranger's label.
    let hostile = dir.join("hostile-cast");
    std::fs::create_dir_all(&hostile).unwrap();
    std::fs::copy(registry_photo("biden.jpg"), hostile.join("unknown_1.jpg")).unwrap();
    let out = dir.join("out");
    failed(
        &run(&[
            clip.as_os_str(),
            "--cast".as_ref(),
            hostile.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        1,
        &format!(
            "{}: actor name \"unknown_1\" is kept for a run's strangers",
            hostile.join("unknown_1.jpg").display()
        ),
    );
    assert!(!out.exists());

    // A cast file naming one so.
    let mut embeddings: serde_json::Value =
        serde_json::from_slice(&read(&cast.join("screentime-cast.json"))).unwrap();
    embeddings["photos"][0]["name"] = json!("unknown_1");
    let cast_file = dir.join("named.json");
    write(&cast_file, embeddings.to_string().as_bytes());
    failed(
        &run(&[
            clip.as_os_str(),
            "--cast".as_ref(),
            cast_file.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        1,
        &format!(
            "{}: actor name \"unknown_1\" is kept for a run's strangers",
            cast_file.display()
        ),
    );

    // `group`'s labels, in `group` and in `name`.
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), photos.join("a.jpg")).unwrap();
    let grouped = dir.join("group-cast");
    std::fs::create_dir_all(&grouped).unwrap();
    std::fs::copy(registry_photo("obama.jpg"), grouped.join("person_1.jpg")).unwrap();
    failed(
        &run(&[
            "group".as_ref(),
            photos.as_os_str(),
            "--out".as_ref(),
            dir.join("groups").as_os_str(),
            "--cast".as_ref(),
            grouped.as_os_str(),
        ]),
        1,
        &format!(
            "{}: actor name \"person_1\" is kept for the groups",
            grouped.join("person_1.jpg").display()
        ),
    );
    for label in ["unknown_2", "person_2", "ungrouped"] {
        failed(
            &run(&[
                "name".as_ref(),
                first.as_os_str(),
                "unknown_1".as_ref(),
                label.as_ref(),
                "--cast".as_ref(),
                cast.as_os_str(),
            ]),
            1,
            &format!(
                "{}: actor name \"{label}\" is kept",
                cast.join(label).display()
            ),
        );
        assert!(!cast.join(label).exists());
    }
}

/// Issue 33, items 14 to 16: what is wrong with an output or an input is said before the work
/// starts, in words about it: `--out` on a file (no analysis first, then "File exists"), a video
/// given to `batch` as its catalog, a cast folder that does not exist.
#[test]
fn wrong_outputs_and_inputs_are_named_before_the_work() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(&dir.join("clip.mp4"), &[("obama2.jpg", 0.4)]);
    let cast = obama_cast(dir);
    let file = dir.join("a-file");
    write(&file, b"the user's own file");
    for out in [file.clone(), file.join("below")] {
        let measure = run(&[
            clip.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let batch = run(&[
            "batch".as_ref(),
            dir.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        let group = run(&[
            "group".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]);
        for output in [measure, batch, group] {
            failed(
                &output,
                1,
                &format!("{}: cannot write: a file, not a folder", file.display()),
            );
        }
    }
    assert_eq!(read(&file), b"the user's own file");

    // A video, or a file that is not text, as batch's catalog.
    let out = dir.join("out");
    failed(
        &run(&[
            "batch".as_ref(),
            clip.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        1,
        &format!(
            "{}: a video, not a catalog: give a folder of videos, or a manifest",
            clip.display()
        ),
    );
    let binary = dir.join("list.bin");
    write(&binary, &[0xff, 0xfe, 0x00, 0x9c]);
    failed(
        &run(&[
            "batch".as_ref(),
            binary.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        1,
        &format!("{}: not a manifest (it is not text)", binary.display()),
    );
    assert!(!out.exists());

    // `name` into a cast folder that does not exist.
    succeeded(&run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]));
    let missing = dir.join("missing");
    failed(
        &run(&[
            "name".as_ref(),
            out.as_os_str(),
            "Barack Obama".as_ref(),
            "Someone".as_ref(),
            "--cast".as_ref(),
            missing.as_os_str(),
        ]),
        1,
        &format!("{}: no such cast folder", missing.display()),
    );
    assert!(!missing.exists());
}

/// screentime with `args` interrupted by one SIGINT `after` it starts: its output, within a
/// minute of the signal.
fn interrupted<S: AsRef<OsStr>>(args: &[S], after: Duration) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_screentime"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(after);
    let signalled = Instant::now();
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    while child.try_wait().unwrap().is_none() {
        if signalled.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            panic!("still running a minute after one Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    child.wait_with_output().unwrap()
}

/// Issue 33, items 10 and 11: one Ctrl-C stops `group` and `slideshow` while they scan photos,
/// reported as an interrupt (exit code 130, one line), with no result and no temporary file
/// left in the destination.
#[test]
fn one_ctrl_c_stops_the_photo_commands() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    // Enough photos that scanning them takes far longer than the wait below on any machine
    // (tens of seconds here: 80 photos and a 4 s wait were done before the signal on a quiet
    // machine); links where the file system allows, so they take no room.
    for i in 0..600 {
        let (from, to) = (
            registry_photo(["obama.jpg", "obama2.jpg", "biden.jpg"][i % 3]),
            photos.join(format!("{i:03}.jpg")),
        );
        if std::fs::hard_link(&from, &to).is_err() {
            std::fs::copy(&from, &to).unwrap();
        }
    }
    let cast = obama_cast(dir);
    let groups = dir.join("groups");
    let output = interrupted(
        &[
            "group".as_ref(),
            photos.as_os_str(),
            "--out".as_ref(),
            groups.as_os_str(),
        ],
        Duration::from_secs(2),
    );
    failed(&output, 130, "");
    assert!(stderr(&output).contains(": interrupted; no results written"));
    assert!(!groups.join("groups.csv").exists());

    let shows = dir.join("shows");
    std::fs::create_dir_all(&shows).unwrap();
    let output = interrupted(
        &[
            "slideshow".as_ref(),
            photos.as_os_str(),
            "--person".as_ref(),
            "Barack Obama".as_ref(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            shows.join("show.mp4").as_os_str(),
        ],
        Duration::from_secs(2),
    );
    failed(&output, 130, "");
    assert!(stderr(&output).contains(": interrupted; no results written"));
    assert_eq!(files_under(&shows), Vec::<String>::new());
}

/// Whether `svg` is well-formed XML, by Python's XML parser.
fn parses_as_xml(svg: &Path) -> bool {
    Command::new(common::project().join(".venv/bin/python"))
        .args([
            "-c",
            "import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])",
        ])
        .arg(svg)
        .status()
        .unwrap()
        .success()
}

/// Issue 33, item 7: control characters from outside (a video's file name, an actor's name)
/// never reach a terminal or a chart raw: the SVG charts parse as XML, the table has no ESC or
/// BEL, and an actor name holding one is refused, on one line, wherever a cast is read.
#[test]
fn control_characters_are_escaped_or_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(&dir.join("clip\u{7}\u{1b}[31m.mp4"), &[("obama2.jpg", 1.2)]);
    let cast = obama_cast(dir);
    let out = dir.join("out");
    let output = run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    succeeded(&output);
    assert!(
        !output.stdout.iter().any(|&b| b == 0x1b || b == 0x07),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    for chart in ["screentime.svg", "timeline.svg"] {
        assert!(parses_as_xml(&out.join(chart)), "{chart} is not XML");
    }

    let hostile = dir.join("hostile-cast");
    std::fs::create_dir_all(&hostile).unwrap();
    let photo = hostile.join("Ann\u{1b}[2J\nLee.jpg");
    std::fs::copy(registry_photo("obama.jpg"), &photo).unwrap();
    failed(
        &run(&[
            clip.as_os_str(),
            "--cast".as_ref(),
            hostile.as_os_str(),
            "--out".as_ref(),
            dir.join("hostile-out").as_os_str(),
        ]),
        1,
        "",
    );
    let mut embeddings: serde_json::Value =
        serde_json::from_slice(&read(&cast.join("screentime-cast.json"))).unwrap();
    embeddings["photos"][0]["name"] = json!("Bar\u{7}ack");
    let cast_file = dir.join("bell.json");
    write(&cast_file, embeddings.to_string().as_bytes());
    failed(
        &run(&[
            clip.as_os_str(),
            "--cast".as_ref(),
            cast_file.as_os_str(),
            "--out".as_ref(),
            dir.join("bell-out").as_os_str(),
        ]),
        1,
        &format!(
            "{}: actor name \"Bar\\u{{7}}ack\" holds a control character",
            cast_file.display()
        ),
    );
    failed(
        &run(&[
            "name".as_ref(),
            out.as_os_str(),
            "Barack Obama".as_ref(),
            "Ann\nLee".as_ref(),
            "--cast".as_ref(),
            cast.as_os_str(),
        ]),
        1,
        "",
    );
    assert!(!dir.join("hostile-out").exists() && !dir.join("bell-out").exists());
}

/// Issue 33, items 12 and 13: `group --out` keeps the record of what it wrote, as the main
/// job does: a run again with other options leaves no stale links or group folders. And an
/// output folder inside the photo folder is not walked: its links are not photos again.
#[test]
fn group_output_is_rewritten_whole_and_not_walked() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let photos = dir.join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    for (i, name) in ["obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg"]
        .iter()
        .enumerate()
    {
        std::fs::copy(registry_photo(name), photos.join(format!("{i}.jpg"))).unwrap();
    }
    let out = photos.join("groups");
    let group = |min_photos: &str| {
        let output = run(&[
            "group".as_ref(),
            photos.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--link".as_ref(),
            "--min-photos".as_ref(),
            min_photos.as_ref(),
        ]);
        succeeded(&output);
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let first = group("1");
    assert!(
        first.starts_with("4 faces in 4 photos: 2 groups"),
        "{first}"
    );
    let links = files_under(&out);
    assert!(links.contains(&"person_2/3.jpg".to_string()), "{links:?}");
    // Again with its links inside the photo folder: the same 4 photos, and with other options
    // Biden, alone, is ungrouped: no person_2 is left behind.
    let second = group("2");
    assert!(
        second.starts_with("4 faces in 4 photos: 1 groups"),
        "{second}"
    );
    assert_eq!(
        files_under(&out),
        [
            ".screentime-files.json",
            "groups.csv",
            "person_1/0.jpg",
            "person_1/1.jpg",
            "person_1/2.jpg",
            "ungrouped/3.jpg"
        ]
    );
    let csv = String::from_utf8(read(&out.join("groups.csv"))).unwrap();
    assert_eq!(csv.lines().count(), 5, "{csv}");
}

/// Issue 33, item 4: `score` scores a result only against the video it was made from, and
/// only a finished result: another clip, a re-encode at another frame rate and a folder
/// without `report.json` are refused, naming what differs.
#[test]
fn score_checks_the_video_and_the_result() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(&dir.join("clip.mp4"), &[("obama2.jpg", 0.8)]);
    let other = video(&dir.join("other.mp4"), &[("biden.jpg", 0.8)]);
    let faster = dir.join("faster.mp4");
    ffmpeg([
        "-i".as_ref(),
        clip.as_os_str(),
        "-r".as_ref(),
        "50".as_ref(),
        faster.as_os_str(),
    ]);
    let cast = obama_cast(dir);
    let out = dir.join("out");
    succeeded(&run(&[
        clip.as_os_str(),
        "--cast".as_ref(),
        cast.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]));
    let truth = dir.join("truth.csv");
    write(&truth, b"name,start_frame,end_frame\nBarack Obama,0,19\n");
    let score = |video: &Path| {
        run(&[
            "score".as_ref(),
            video.as_os_str(),
            "--truth".as_ref(),
            truth.as_os_str(),
            out.as_os_str(),
        ])
    };
    succeeded(&score(&clip));
    for video in [&other, &faster] {
        failed(
            &score(video),
            1,
            &format!(
                "{}: made from another video ({}), not {}",
                out.join("report.json").display(),
                clip.display(),
                video.display()
            ),
        );
    }
    std::fs::remove_file(out.join("report.json")).unwrap();
    failed(
        &score(&clip),
        1,
        &format!("{}: no report.json: not a finished", out.display()),
    );
}

/// Issue 33, item 8: a video declaring 16000x16000 frames (a small FFV1 file) is refused when
/// opened, under a 3 GB memory limit, instead of aborting on a failed allocation.
#[test]
fn huge_video_frames_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let huge = dir.join("huge.mkv");
    ffmpeg([
        "-f",
        "lavfi",
        "-i",
        "color=gray:s=16000x16000:d=0.04",
        "-frames:v",
        "1",
        "-c:v",
        "ffv1",
        huge.to_str().unwrap(),
    ]);
    let cast = obama_cast(dir);
    let out = dir.join("out");
    failed(
        &run_limited(
            3000,
            &[
                huge.as_os_str(),
                "--cast".as_ref(),
                cast.as_os_str(),
                "--out".as_ref(),
                out.as_os_str(),
            ],
        ),
        1,
        &format!(
            "{}: 16000x16000 frames are more than screentime decodes (36 megapixels)",
            huge.display()
        ),
    );
    assert!(!out.exists());
}

/// Issue 33, item 2: a raw H.264 stream has no timestamps (its demuxer makes them up, and frames
/// the decoder skips lose theirs): refused with a clear error instead of a video of the wrong
/// length with no frames counted.
#[test]
fn raw_streams_without_timestamps_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let clip = video(
        &dir.join("clip.mp4"),
        &[("obama2.jpg", 1.0), ("biden.jpg", 1.0)],
    );
    let raw = dir.join("raw.h264");
    ffmpeg([
        "-i".as_ref(),
        clip.as_os_str(),
        "-c".as_ref(),
        "copy".as_ref(),
        "-bsf:v".as_ref(),
        "h264_mp4toannexb".as_ref(),
        "-f".as_ref(),
        "h264".as_ref(),
        raw.as_os_str(),
    ]);
    let cast = obama_cast(dir);
    let out = dir.join("out");
    failed(
        &run(&[
            raw.as_os_str(),
            "--cast".as_ref(),
            cast.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
        ]),
        1,
        &format!(
            "{}: a raw h264 stream, without timestamps: its frames cannot be timed",
            raw.display()
        ),
    );
    assert!(!out.exists());
}
