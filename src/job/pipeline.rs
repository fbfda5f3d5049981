//! The screen-time job: a video and a cast in, screen time per identity out.
//!
//! Three stages joined by bounded channels, so memory stays the same whatever the video's length:
//! - one decode thread reads every frame's timestamp and thumbnail, finds shot cuts
//!   ([`crate::video::shots`]), converts every `stride`-th frame and the first frame of every shot to
//!   RGB, and cuts the analysed frames into clips ([`crate::track`]): a new clip at each shot cut
//!   and every [`CLIP_FRAMES`] frames. Each analysed frame stands for the time until the next
//!   analysed one (its span), taken from timestamps, so variable frame rates count right and a
//!   shot's last analysed frame ends at the cut. A clip goes whole to the worker with the
//!   shortest queue. The frames between analysed ones travel with them as decoded pictures
//!   (shared, never copied, at most `MAX_WINDOW_BYTES` at a time): the worker searches them
//!   for the frame where a face came or went, so appearances start and end at the right frame
//!   at any stride. The count of every frame's time ([`FrameClock`]) turns segments into video
//!   frames;
//! - worker threads, each with its own detector and embedder sessions, follow the faces through
//!   their clips and embed them;
//! - this thread takes clips back in video order and joins their track pieces into tracks;
//!   once the video is seen, [`crate::job::aggregate`] decides who each track is and tallies it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use crossbeam_channel::{Receiver, Sender, bounded};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::error::{Error, Result};
use crate::face::detect::DetectOptions;
use crate::face::engine::{Engine, EngineOptions};
use crate::face::runtime::Runtime;
use crate::identity::cast::Cast;
use crate::identity::matching::Identifier;
use crate::job::aggregate::Tally;
use crate::job::cpu::{CpuWatch, WorkerTime};
use crate::job::interrupt;
use crate::job::result::{JobResult, JobStats};
use crate::track::linker::Linker;
use crate::track::tracker::{Clip, ClipTracker, Frame};
use crate::track::{CLIP_FRAMES, TrackOptions};
use crate::video::clock::FrameClock;
use crate::video::decode::{Keep, RawFrame, Thumbnail, VideoInfo, VideoReader};
use crate::video::sampler::{Sampler, Stride, nominal_fps};
use crate::video::shots::CutDetector;

#[derive(Debug, Clone)]
pub struct JobOptions {
    /// Largest descriptor distance at which a face is taken for a cast member.
    pub threshold: f32,
    /// Which frames are analysed.
    pub stride: Stride,
    /// Threads that detect and embed, each with its own sessions.
    pub workers: usize,
    /// The most decoder threads: the video is opened for one, and the decoder gets these once
    /// the job leaves its cores idle ([`crate::job::cpu`]). [`share_threads`] sets it.
    pub decoder_threads: usize,
    pub track: TrackOptions,
    /// Identities on screen for less than this many seconds are left out of the charts.
    pub min_screen_time: f64,
    /// Also write every track with its faces and distances (`tracks.jsonl`).
    pub debug_tracks: bool,
    pub progress: bool,
}

/// What the decode thread sends a worker: a clip's start, its frames, its end.
enum Work {
    Start {
        clip: u64,
        after_cut: bool,
    },
    Frame(Frame),
    /// The decoded frames after the clip's last analysed one, up to the next analysed one (or
    /// the cut, or the end).
    End {
        after: Vec<Arc<RawFrame>>,
    },
}

/// Most bytes of decoded frames the decode thread holds for placing edges: at 1080p (3 MB a
/// frame) 32 frames, more than the default mode's 15 between two full detections at 30 fps.
const MAX_WINDOW_BYTES: usize = 96 << 20;

/// The options for each of `jobs` videos measured at once, sharing the CPU threads that
/// `engine` was given: one worker per thread, each running its networks on one thread, which
/// keeps every core busy with less memory than several threads per session. The decoder may grow
/// to as many threads as the job's workers (FFmpeg's own choice, a thread more than the cores,
/// took more CPU time for nothing: 11% more on 4K HEVC, 2 cores).
pub fn share_threads(
    engine: &EngineOptions,
    job: &JobOptions,
    jobs: usize,
) -> (EngineOptions, JobOptions) {
    let mut engine = engine.clone();
    let workers = (engine.runtime.threads / jobs.max(1)).max(1);
    engine.runtime.threads = 1;
    let job = JobOptions {
        workers,
        decoder_threads: workers,
        ..job.clone()
    };
    (engine, job)
}

/// Measures the video `reader` opened; opening it first lets a bad video fail before the cast
/// is embedded.
pub fn run(
    mut reader: VideoReader,
    cast: &Cast,
    runtime: &Runtime,
    detect: DetectOptions,
    options: &JobOptions,
) -> Result<JobResult> {
    let started = Instant::now();
    let info = reader.info().clone();
    let identifier = Identifier::new(cast, options.threshold, runtime.embedder());
    let stride = options.stride.frames(info.frame_rate);
    let workers = options.workers.max(1);
    // Every frame analysed, decoding is a small part of the work, and a decoder opened again
    // mid-stream may lose a frame or two (see `VideoReader::use_threads`): it gets its threads
    // at the first keyframe. A strided run's decoder gets them once its cores idle.
    let grows = stride > 1 && options.decoder_threads > 1;
    if !grows {
        reader.use_threads(options.decoder_threads);
    }
    // Half a clip queued per worker keeps every worker busy while the decoder fills another's
    // queue (measured), and bounds the frames held in memory.
    let (work_tx, work_rx): (Vec<_>, Vec<_>) = (0..workers)
        .map(|_| bounded::<Work>(CLIP_FRAMES as usize / 2 + 2))
        .unzip();
    let (result_tx, result_rx) = bounded::<Result<Clip>>(2 * workers);
    let worker_time = WorkerTime::default();

    std::thread::scope(|scope| {
        let worker_time = &worker_time;
        let decoder = scope.spawn(move || {
            let grow =
                grows.then(|| (options.decoder_threads, CpuWatch::new(workers, worker_time)));
            decode(reader, stride, options.track, grow, work_tx)
        });
        for work in work_rx {
            let (results, identifier) = (result_tx.clone(), &identifier);
            scope.spawn(move || {
                analyse(
                    runtime,
                    detect,
                    identifier,
                    options.track,
                    work,
                    results,
                    worker_time,
                )
            });
        }
        drop(result_tx);

        let progress = progress_bar(&info, stride, options.progress);
        let tallied = aggregate(result_rx, &identifier, &progress);
        progress.finish_and_clear();
        // A worker's error ends the job first; the decoder then stops at its next send.
        let ((tally, mut stats), decoded) = (tallied?, decoder.join().expect("decode thread")?);
        if decoded.frames_decoded == 0 {
            return Err(Error::Video {
                path: info.path.clone(),
                reason: "no video frame could be decoded".into(),
            });
        }
        stats.frames_decoded = decoded.frames_decoded;
        stats.shot_cuts = decoded.shot_cuts;
        stats.damaged_packets = decoded.damaged_packets;
        stats.damaged_frames = decoded.damaged_frames;
        stats.decoder_threads = decoded.decoder_threads;
        stats.seconds_read = decoded.seconds_read;
        stats.judge_completeness(info.duration, info.frame_rate, decoded.time_moved);
        let identifying = Instant::now();
        let summary = tally.finish(&identifier, stats.video_seconds, &decoded.clock);
        stats.identify_seconds = identifying.elapsed().as_secs_f64();
        stats.tracks = summary.tracks.len() as u64;
        stats.elapsed_seconds = started.elapsed().as_secs_f64();
        Ok(JobResult {
            video: info,
            stride,
            summary,
            stats,
        })
    })
}

/// What the decode thread saw.
struct Decoded {
    frames_decoded: u64,
    shot_cuts: u64,
    damaged_packets: u64,
    damaged_frames: u64,
    decoder_threads: usize,
    /// The end of the last frame decoded.
    seconds_read: f64,
    time_moved: bool,
    clock: FrameClock,
}

/// Sends each analysed frame once the next one gives it its span, with the decoded frames its
/// worker may need to place a face's first and last frame exactly ([`Frame::before`]); sends a
/// clip's end with the frames that follow its last analysed frame. `grow`: the threads the
/// decoder gets once the watch finds the cores idle. Stops quietly when the workers hang up.
fn decode(
    mut reader: VideoReader,
    stride: u64,
    track: TrackOptions,
    mut grow: Option<(usize, CpuWatch)>,
    workers: Vec<Sender<Work>>,
) -> Result<Decoded> {
    // A skipped frame next to a face's edge moves the edge to the next decoded frame: at most
    // a frame interval at a constant rate, but maybe several where frames last unequally.
    if stride > 1 && !reader.info().variable_rate {
        reader.skip_non_reference_frames();
    }
    let mut sampler = Sampler::new(stride, reader.info().frame_rate);
    let (mut decoded, mut analysed, mut shot_cuts, mut clips) = (0, 0, 0, 0);
    let mut end = 0.0f64;
    let mut cuts = CutDetector::default();
    let mut pending: Option<Frame> = None;
    // The current clip's worker and how many frames it has.
    let mut clip: Option<(&Sender<Work>, u64)> = None;
    // The shot's frames since its last full detection, and where those after the last analysed
    // frame begin: what a new face's start and a lost face's end are searched in.
    let mut window: Vec<Arc<RawFrame>> = Vec::new();
    let mut since_analysed = 0;
    let send = |to: &Sender<Work>, work: Work| to.send(work).is_ok();
    let mut cut = false;
    // Every frame is looked at for a cut, and the first frame of a shot is always analysed: a
    // shot's faces then start exactly at its first frame, and the frame before stands only for
    // time up to the cut.
    let interval = 1.0 / nominal_fps(reader.info().frame_rate);
    let mut previous_time: Option<f64> = None;
    let mut keep = |time: f64, thumbnail: &Thumbnail, cut: &mut bool| {
        let intervals = previous_time.map_or(1.0, |p| ((time - p) / interval).max(1.0));
        previous_time = Some(time);
        *cut = cuts.is_cut(thumbnail, intervals);
        if sampler.take(time) || *cut {
            Keep::Rgb
        } else {
            Keep::Raw
        }
    };
    while let Some(frame) = reader.next_frame(|time, thumbnail| keep(time, thumbnail, &mut cut))? {
        if interrupt::stopped() {
            return Err(Error::Interrupted {
                path: reader.info().path.clone(),
            });
        }
        decoded += 1;
        if let Some((threads, watch)) = &mut grow
            && watch.cores_idle() == Some(true)
        {
            reader.use_threads(*threads);
            grow = None;
        }
        end = end.max(frame.time + frame.duration);
        shot_cuts += u64::from(cut);
        let raw = frame.raw.map(Arc::new);
        let Some(image) = frame.image else {
            window.extend(raw);
            thin(&mut window, &mut since_analysed);
            continue;
        };
        if let (Some(mut previous), Some((worker, _))) = (pending.take(), clip) {
            previous.span = (frame.time - previous.time).max(0.0);
            if !send(worker, Work::Frame(previous)) {
                break;
            }
        }
        if clip.is_none_or(|(_, frames)| cut || frames == CLIP_FRAMES) {
            let after = window[since_analysed..].to_vec();
            if let Some((worker, _)) = clip
                && !send(worker, Work::End { after })
            {
                break;
            }
            let worker = workers
                .iter()
                .min_by_key(|w| w.len())
                .expect("at least one worker");
            if !send(
                worker,
                Work::Start {
                    clip: clips,
                    after_cut: cut,
                },
            ) {
                break;
            }
            clips += 1;
            clip = Some((worker, 0));
        }
        if cut {
            window.clear();
        }
        let Some((_, in_clip)) = &mut clip else {
            unreachable!("a clip was started above")
        };
        let full = track.full_detection(*in_clip);
        let turned = *in_clip == 0;
        *in_clip += 1;
        pending = Some(Frame {
            seq: analysed,
            time: frame.time,
            span: 0.0,
            image,
            full,
            turned,
            before: if full {
                std::mem::take(&mut window)
            } else {
                window.clone()
            },
        });
        // Faces found here are searched no further back; faces only followed here may have
        // been on screen unseen since the last full detection.
        if !full {
            window.extend(raw);
        }
        since_analysed = window.len();
        thin(&mut window, &mut since_analysed);
        analysed += 1;
    }
    if let (Some(mut last), Some((worker, _))) = (pending, clip) {
        last.span = (end - last.time).max(0.0);
        let after = window.split_off(since_analysed);
        // Nobody listening means the job already failed elsewhere.
        let _ = send(worker, Work::Frame(last)) && send(worker, Work::End { after });
    }
    Ok(Decoded {
        frames_decoded: decoded,
        shot_cuts,
        damaged_packets: reader.damaged_packets(),
        damaged_frames: reader.damaged_frames(),
        decoder_threads: reader.threads(),
        seconds_read: end,
        time_moved: reader.time_moved(),
        clock: reader.into_clock(),
    })
}

/// Holds a window of decoded frames to [`MAX_WINDOW_BYTES`] by dropping every other one:
/// a large `--stride` (or a 4K video) then places edges less exactly instead of taking memory
/// without bound. `since` keeps pointing at the first frame after the last analysed one.
fn thin(window: &mut Vec<Arc<RawFrame>>, since: &mut usize) {
    while window.len() > 1 && window.iter().map(|f| f.bytes()).sum::<usize>() > MAX_WINDOW_BYTES {
        let mut index = 0;
        window.retain(|_| {
            index += 1;
            index % 2 == 0
        });
        *since /= 2;
    }
}

fn analyse(
    runtime: &Runtime,
    detect: DetectOptions,
    identifier: &Identifier,
    options: TrackOptions,
    work: Receiver<Work>,
    results: Sender<Result<Clip>>,
    time: &WorkerTime,
) {
    let mut clock = time.clock();
    let mut engine = match Engine::new(runtime, detect) {
        Ok(engine) => engine,
        Err(err) => {
            let _ = results.send(Err(err));
            return;
        }
    };
    let mut tracker = None;
    for work in work {
        match work {
            Work::Start { clip, after_cut } => {
                tracker = Some(ClipTracker::new(identifier, options, clip, after_cut));
            }
            Work::Frame(frame) => {
                let tracker = tracker.as_mut().expect("a clip starts before its frames");
                if let Err(err) = tracker.step(&mut engine, &frame) {
                    let _ = results.send(Err(err));
                    return;
                }
            }
            Work::End { after } => {
                let tracker = tracker.take().expect("a clip starts before it ends");
                let finished = tracker.finish(&mut engine, &after);
                let failed = finished.is_err();
                if results.send(finished).is_err() || failed {
                    return;
                }
            }
        }
        clock.report();
    }
}

/// Takes clips in any order and links them in video order, so tracks join up and strangers are
/// numbered by first appearance whatever the worker timing.
fn aggregate(
    results: Receiver<Result<Clip>>,
    identifier: &Identifier,
    progress: &ProgressBar,
) -> Result<(Tally, JobStats)> {
    let mut tally = Tally::default();
    let mut stats = JobStats::default();
    let mut linker = Linker::new(identifier.threshold());
    let mut waiting = BTreeMap::new();
    let mut next = 0;
    for result in results {
        let clip = result?;
        waiting.insert(clip.number, clip);
        while let Some(clip) = waiting.remove(&next) {
            next += 1;
            progress.inc(clip.frames);
            stats.frames_analysed += clip.frames;
            stats.video_seconds += clip.seconds;
            stats.work += clip.stats;
            for track in linker.push(clip) {
                tally.add(track);
            }
        }
    }
    for track in linker.finish() {
        tally.add(track);
    }
    Ok((tally, stats))
}

fn progress_bar(info: &VideoInfo, stride: u64, progress: bool) -> ProgressBar {
    if !progress {
        return ProgressBar::hidden();
    }
    let bar = match info.frames {
        Some(frames) => ProgressBar::new(frames.div_ceil(stride)),
        None => ProgressBar::no_length(),
    };
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} frames  {per_sec}  ETA {eta}")
            .expect("a valid template"),
    );
    bar
}
