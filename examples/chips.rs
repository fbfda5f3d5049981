//! Writes the aligned 150x150 chip of every face in an image: what the embedder sees.
//!
//!     cargo run --example chips -- PHOTO OUT_DIR

use std::path::PathBuf;

use screentime::face::detect::DetectOptions;
use screentime::face::engine::{Engine, load_image};
use screentime::face::runtime::{Runtime, RuntimeOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [photo, out] = args.as_slice() else {
        return Err("usage: chips PHOTO OUT_DIR".into());
    };
    let runtime = Runtime::new(RuntimeOptions::default())?;
    let mut engine = Engine::new(&runtime, DetectOptions::default())?;
    let image = load_image(photo)?;
    std::fs::create_dir_all(out)?;
    let stem = photo.file_stem().unwrap_or_default().to_string_lossy();
    for (i, face) in engine.detect(&image)?.iter().enumerate() {
        let path = out.join(format!("{stem}_{i}.png"));
        engine.chip(&image, face).save(&path)?;
        println!("{} (score {:.2})", path.display(), face.score);
    }
    Ok(())
}
