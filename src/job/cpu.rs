//! How much of its cores a job uses, to give the decoder more threads only where that pays.
//!
//! Decoding on one thread takes the least CPU time: FFmpeg's frame threads take 13% more with
//! two threads on the bench's 1080p input. So a strided job (the default) decodes on one thread
//! while its workers keep the cores busy, and [`CpuWatch`] says when they do not: then decoding
//! holds the job back (4K HEVC, say) and more decoder threads use the idle cores. A job that
//! analyses every frame decodes on all its threads from the start.
//!
//! Time a thread waited for a core counts as used: on a machine busy with other work (other
//! titles of a batch, other jobs on a node) the cores are not idle, and more decoder threads
//! would only spend more CPU time there.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a stretch of the run is judged on: long enough that one slow frame or clip does not
/// decide, short enough that a video decoding holds back gets its threads in its first seconds.
const WINDOW: Duration = Duration::from_secs(1);

/// The share of the job's cores below which its decoder gets more threads. With one decoder
/// thread on 2 cores, measured over such windows: 4K HEVC ran 49-53% of them and ran or waited
/// 50% (frame threads run it 1.5x as fast), 4K H.264 75% and 81% (as fast either way), 720p and
/// 1080p H.264 90-95% and 105-132% (frame threads 10% slower).
const LOW_USE: f64 = 2.0 / 3.0;

/// Time the workers have run or waited to run, which each adds after every piece of work.
#[derive(Default)]
pub struct WorkerTime(AtomicU64);

impl WorkerTime {
    /// The calling worker's clock, to [`WorkerClock::report`] what it spends from now.
    pub fn clock(&self) -> WorkerClock<'_> {
        WorkerClock {
            total: self,
            reported: thread_demand(),
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
        let now = thread_demand();
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
            spent: thread_demand() + workers.get(),
        }
    }

    /// Whether the window that just ended left the cores idle: `None` until one ends.
    pub fn cores_idle(&mut self) -> Option<bool> {
        let elapsed = self.started.elapsed();
        if elapsed < WINDOW {
            return None;
        }
        let spent = thread_demand() + self.workers.get();
        // Saturating: a thread whose schedstat could not be read once falls back to its smaller
        // CPU clock, and that window reads as idle rather than panicking.
        let used = spent.saturating_sub(self.spent).as_secs_f64()
            / (elapsed.as_secs_f64() * self.cores as f64);
        self.started = Instant::now();
        self.spent = spent;
        Some(used < LOW_USE)
    }
}

/// Time the calling thread has run or waited in the run queue for a core, from
/// /proc/thread-self/schedstat (nanoseconds each); its CPU time where that cannot be read.
fn thread_demand() -> Duration {
    let schedstat = std::fs::read_to_string("/proc/thread-self/schedstat").ok();
    let run_and_wait = schedstat.and_then(|text| {
        let mut fields = text.split_whitespace().map(|f| f.parse::<u64>().ok());
        Some(fields.next()?? + fields.next()??)
    });
    run_and_wait.map_or_else(thread_cpu, Duration::from_nanos)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_core_held_by_other_work_is_not_idle() {
        // Twice as many spinning threads as cores: this thread wants its core all the time and
        // runs a share of it, waiting the rest.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let stop = AtomicBool::new(false);
        let idle = std::thread::scope(|scope| {
            for _ in 0..2 * cores {
                scope.spawn(|| {
                    while !stop.load(Ordering::Relaxed) {
                        std::hint::spin_loop();
                    }
                });
            }
            let workers = WorkerTime::default();
            let mut watch = CpuWatch::new(1, &workers);
            let idle = loop {
                std::hint::spin_loop();
                if let Some(idle) = watch.cores_idle() {
                    break idle;
                }
            };
            stop.store(true, Ordering::Relaxed);
            idle
        });
        assert!(!idle);
    }

    #[test]
    fn a_sleeping_thread_leaves_its_core_idle() {
        let workers = WorkerTime::default();
        let mut watch = CpuWatch::new(1, &workers);
        std::thread::sleep(WINDOW);
        assert_eq!(watch.cores_idle(), Some(true));
    }
}
