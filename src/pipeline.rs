//! The screen-time job: a video and a cast in, screen time per identity out.
//!
//! Three stages joined by bounded channels, so memory stays the same whatever the video's length:
//! - one decode thread reads every frame's timestamp and converts every `stride`-th frame to RGB;
//!   each analysed frame stands for the time until the next analysed one (its span), taken from
//!   timestamps, so variable frame rates count right;
//! - worker threads, each with its own detector and embedder sessions, find the frontal faces
//!   and embed them;
//! - this thread puts results back in frame order, names each face ([`crate::identify`]) and adds
//!   the frame's span to every identity seen in it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, bounded};
use image::RgbImage;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::cast::Cast;
use crate::detect::DetectOptions;
use crate::embed::Descriptor;
use crate::engine::Engine;
use crate::error::{Error, Result};
use crate::identify::Identifier;
use crate::report::ScreenTime;
use crate::runtime::Runtime;
use crate::video::{VideoInfo, VideoReader};

#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Largest descriptor distance at which a face is taken for a cast member.
    pub threshold: f32,
    /// Analyse every `stride`-th frame.
    pub stride: u64,
    /// Threads that detect and embed, each with its own sessions.
    pub workers: usize,
    /// FFmpeg decoder threads (0: FFmpeg decides).
    pub decoder_threads: usize,
    pub progress: bool,
}

#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct JobStats {
    pub frames_decoded: u64,
    pub frames_analysed: u64,
    pub faces_embedded: u64,
    pub damaged_packets: u64,
    pub damaged_frames: u64,
    /// Seconds of video covered by the analysed frames.
    pub video_seconds: f64,
    pub elapsed_seconds: f64,
}

pub struct JobResult {
    pub video: VideoInfo,
    /// Longest screen time first.
    pub screen_time: Vec<ScreenTime>,
    pub stats: JobStats,
}

/// One analysed frame on its way to a worker.
struct Job {
    seq: u64,
    time: f64,
    span: f64,
    image: RgbImage,
}

/// One analysed frame on its way back.
struct Analysed {
    seq: u64,
    time: f64,
    span: f64,
    faces: Vec<Descriptor>,
}

static STOP: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C (SIGINT) stop running jobs cleanly: the decoder stops at the next frame and
/// the job fails with [`Error::Interrupted`], before any result file is written. A second
/// Ctrl-C exits at once with code 130.
pub fn stop_on_ctrl_c() {
    let installed = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    // Without a handler (one already installed by an embedding program) Ctrl-C keeps its
    // default effect, which also writes nothing.
    drop(installed);
}

pub fn stopped() -> bool {
    STOP.load(Ordering::SeqCst)
}

/// (workers, ONNX Runtime threads per worker) for a budget of `threads` CPU threads.
pub fn split_threads(threads: usize) -> (usize, usize) {
    (threads.max(1), 1)
}

/// Measures the video `reader` opened; opening it first lets a bad video fail before the cast
/// is embedded.
pub fn run(
    reader: VideoReader,
    cast: &Cast,
    runtime: &Runtime,
    detect: DetectOptions,
    options: &JobOptions,
) -> Result<JobResult> {
    let started = Instant::now();
    let info = reader.info().clone();
    let workers = options.workers.max(1);
    let (job_tx, job_rx) = bounded::<Job>(2 * workers);
    let (result_tx, result_rx) = bounded::<Result<Analysed>>(2 * workers);

    std::thread::scope(|scope| {
        let decoder = scope.spawn(move || decode(reader, options.stride.max(1), job_tx));
        for _ in 0..workers {
            let (jobs, results) = (job_rx.clone(), result_tx.clone());
            scope.spawn(move || analyse(runtime, detect, jobs, results));
        }
        drop((job_rx, result_tx));

        let progress = progress_bar(&info, options);
        let tally = aggregate(
            result_rx,
            Identifier::new(cast, options.threshold),
            &progress,
        );
        progress.finish_and_clear();
        // A worker's error ends the job first; the decoder then stops at its next send.
        let (mut tally, decoded) = (tally?, decoder.join().expect("decode thread")?);
        if decoded.frames_decoded == 0 {
            return Err(Error::Video {
                path: info.path.clone(),
                reason: "no video frame could be decoded".into(),
            });
        }
        tally.stats.frames_decoded = decoded.frames_decoded;
        tally.stats.damaged_packets = decoded.damaged_packets;
        tally.stats.damaged_frames = decoded.damaged_frames;
        tally.stats.elapsed_seconds = started.elapsed().as_secs_f64();
        Ok(JobResult {
            video: info,
            screen_time: tally.rows(),
            stats: tally.stats,
        })
    })
}

/// What the decode thread saw.
struct Decoded {
    frames_decoded: u64,
    damaged_packets: u64,
    damaged_frames: u64,
}

/// Stops quietly when the workers hang up.
fn decode(mut reader: VideoReader, stride: u64, jobs: Sender<Job>) -> Result<Decoded> {
    let (mut decoded, mut analysed) = (0, 0);
    let mut end = 0.0f64;
    let mut pending: Option<Job> = None;
    while let Some(frame) = reader.next_frame(decoded % stride == 0)? {
        if stopped() {
            return Err(Error::Interrupted {
                path: reader.info().path.clone(),
            });
        }
        decoded += 1;
        end = end.max(frame.time + frame.duration);
        let Some(image) = frame.image else { continue };
        if let Some(mut job) = pending.take() {
            job.span = (frame.time - job.time).max(0.0);
            if jobs.send(job).is_err() {
                break;
            }
        }
        analysed += 1;
        pending = Some(Job {
            seq: analysed - 1,
            time: frame.time,
            span: 0.0,
            image,
        });
    }
    if let Some(mut job) = pending {
        job.span = (end - job.time).max(0.0);
        let _ = jobs.send(job); // nobody listening means the job already failed elsewhere
    }
    Ok(Decoded {
        frames_decoded: decoded,
        damaged_packets: reader.damaged_packets(),
        damaged_frames: reader.damaged_frames(),
    })
}

fn analyse(
    runtime: &Runtime,
    detect: DetectOptions,
    jobs: Receiver<Job>,
    results: Sender<Result<Analysed>>,
) {
    let mut engine = match Engine::new(runtime, detect) {
        Ok(engine) => engine,
        Err(err) => {
            let _ = results.send(Err(err));
            return;
        }
    };
    for job in jobs {
        let analysed = engine
            .faces_where(&job.image, |face| face.is_frontal())
            .map(|faces| Analysed {
                seq: job.seq,
                time: job.time,
                span: job.span,
                faces: faces.into_iter().map(|f| f.descriptor).collect(),
            });
        let failed = analysed.is_err();
        if results.send(analysed).is_err() || failed {
            return;
        }
    }
}

#[derive(Default)]
struct Seen {
    frames: u64,
    seconds: f64,
    first: f64,
    last: f64,
}

struct Tally {
    seen: BTreeMap<String, Seen>,
    stats: JobStats,
}

impl Tally {
    fn add(&mut self, name: String, time: f64, span: f64) {
        let seen = self.seen.entry(name).or_insert(Seen {
            first: time,
            ..Seen::default()
        });
        seen.frames += 1;
        seen.seconds += span;
        seen.last = time;
    }

    fn rows(&self) -> Vec<ScreenTime> {
        let total = self.stats.video_seconds;
        let mut rows: Vec<ScreenTime> = self
            .seen
            .iter()
            .map(|(name, s)| ScreenTime {
                name: name.clone(),
                frames: s.frames,
                seconds: s.seconds,
                percent: if total > 0.0 {
                    100.0 * s.seconds / total
                } else {
                    0.0
                },
                first_seen: s.first,
                last_seen: s.last,
            })
            .collect();
        rows.sort_by(|a, b| {
            b.seconds
                .total_cmp(&a.seconds)
                .then_with(|| a.name.cmp(&b.name))
        });
        rows
    }
}

/// Takes results in any order and counts them in frame order, so unknown labels are numbered
/// by first appearance whatever the worker timing.
fn aggregate(
    results: Receiver<Result<Analysed>>,
    mut identifier: Identifier,
    progress: &ProgressBar,
) -> Result<Tally> {
    let mut tally = Tally {
        seen: BTreeMap::new(),
        stats: JobStats::default(),
    };
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for result in results {
        let analysed = result?;
        waiting.insert(analysed.seq, analysed);
        while let Some(frame) = waiting.remove(&next) {
            next += 1;
            progress.inc(1);
            tally.stats.frames_analysed += 1;
            tally.stats.faces_embedded += frame.faces.len() as u64;
            tally.stats.video_seconds += frame.span;
            // Two faces taken for the same person still make one frame of screen time.
            let names: BTreeSet<String> = frame
                .faces
                .iter()
                .map(|d| identifier.identify(d).name)
                .collect();
            for name in names {
                tally.add(name, frame.time, frame.span);
            }
        }
    }
    Ok(tally)
}

fn progress_bar(info: &VideoInfo, options: &JobOptions) -> ProgressBar {
    if !options.progress {
        return ProgressBar::hidden();
    }
    let bar = match info.frames {
        Some(frames) => ProgressBar::new(frames.div_ceil(options.stride.max(1))),
        None => ProgressBar::no_length(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {per_sec}  ETA {eta}")
            .expect("a valid template"),
    );
    bar
}
