//! How much of its cores a job uses, to give the decoder more threads only where that pays.
//!
//! Decoding on one thread takes the least CPU time: FFmpeg's frame threads take 13% more with
//! two threads on the bench's 1080p input. So a strided job (the default) decodes on one thread
//! while its workers keep the cores busy, and [`CpuWatch`] says when they do not: then decoding
//! holds the job back (4K HEVC, say) and more decoder threads use the idle cores. A job that
//! analyses every frame decodes on all its threads from the start.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a stretch of the run is judged on: long enough that one slow frame or clip does not
/// decide, short enough that a video decoding holds back gets its threads in its first seconds.
const WINDOW: Duration = Duration::from_secs(1);

/// The share of the job's cores below which its decoder gets more threads. With one decoder
/// thread on 2 cores, measured over such windows: 4K HEVC used 49-53% of them (frame threads
/// run it 1.5x as fast), 4K H.264 75% (as fast either way), 720p and 1080p H.264 90-95%
/// (frame threads 10% slower).
const LOW_USE: f64 = 2.0 / 3.0;

/// CPU time the workers have spent, which each adds after every piece of work.
#[derive(Default)]
pub struct WorkerTime(AtomicU64);

impl WorkerTime {
    /// The calling worker's clock, to [`WorkerClock::report`] what it spends from now.
    pub fn clock(&self) -> WorkerClock<'_> {
        WorkerClock {
            total: self,
            reported: thread_cpu(),
        }
    }

    fn get(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }
}

/// One worker's share of [`WorkerTime`].
pub struct WorkerClock<'a> {
    total: &'a WorkerTime,
    reported: Duration,
}

impl WorkerClock<'_> {
    /// Adds what the worker spent since the last report (or the clock was made).
    pub fn report(&mut self) {
        let now = thread_cpu();
        let spent = now.saturating_sub(self.reported);
        self.total
            .0
            .fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        self.reported = now;
    }
}

/// Watches the decode thread (the caller) and the workers over windows of [`WINDOW`].
pub struct CpuWatch<'a> {
    cores: usize,
    workers: &'a WorkerTime,
    started: Instant,
    spent: Duration,
}

impl<'a> CpuWatch<'a> {
    /// Made on the decode thread, for a job given `cores` cores.
    pub fn new(cores: usize, workers: &'a WorkerTime) -> CpuWatch<'a> {
        CpuWatch {
            cores,
            workers,
            started: Instant::now(),
            spent: thread_cpu() + workers.get(),
        }
    }

    /// Whether the window that just ended left the cores idle: `None` until one ends.
    pub fn cores_idle(&mut self) -> Option<bool> {
        let elapsed = self.started.elapsed();
        if elapsed < WINDOW {
            return None;
        }
        let spent = thread_cpu() + self.workers.get();
        let used = (spent - self.spent).as_secs_f64() / (elapsed.as_secs_f64() * self.cores as f64);
        self.started = Instant::now();
        self.spent = spent;
        Some(used < LOW_USE)
    }
}

/// CPU time the calling thread has spent.
fn thread_cpu() -> Duration {
    let mut time = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: the clock id is valid on Linux and `time` is a timespec to write to.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut time) };
    Duration::new(time.tv_sec as u64, time.tv_nsec as u32)
}
