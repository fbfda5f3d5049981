//! Decode speed of `screentime::video::decode`: `cargo run --release --example decode_speed VIDEO [THREADS]`.
//! Decodes the whole file twice, without and with RGB conversion, and prints frames per second.

use std::path::PathBuf;
use std::time::Instant;

use screentime::video::decode::{Keep, VideoReader};

fn main() -> screentime::Result<()> {
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(args.next().expect("usage: decode_speed VIDEO [THREADS]"));
    let threads = args
        .next()
        .map_or(0, |t| t.parse().expect("THREADS is a number"));
    for rgb in [false, true] {
        let start = Instant::now();
        let mut reader = VideoReader::open(&path, threads)?;
        let (mut frames, mut end) = (0u64, 0.0);
        let keep = if rgb { Keep::Rgb } else { Keep::Nothing };
        while let Some(frame) = reader.next_frame(|_, _| keep)? {
            frames += 1;
            end = frame.time + frame.duration;
        }
        let secs = start.elapsed().as_secs_f64();
        let info = reader.info();
        println!(
            "{} {}x{} {} rgb={rgb} threads={threads}: {frames} frames ({:.3} s of video) in {secs:.3} s = {:.0} fps, {} damaged",
            path.display(),
            info.width,
            info.height,
            info.codec,
            end,
            frames as f64 / secs,
            reader.damaged_packets()
        );
    }
    Ok(())
}
