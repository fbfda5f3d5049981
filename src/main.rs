use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use screentime::detect::DetectOptions;
use screentime::engine::EngineOptions;
use screentime::runtime::{Device, RuntimeOptions, default_models_dir};

/// Exit codes: 0 success, 1 an input or the installation is broken (the message names the file), 2 bad usage.
#[derive(Parser)]
#[command(
    name = "screentime",
    version,
    about,
    after_help = "Exit codes: 0 success; 1 an input, output or the installation failed (the message names the file); 2 bad command line."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Find the faces in photos and print each one's box, landmarks, score and 128-D embedding
    /// as a JSON line: the way to check the models by hand, or to feed embeddings to other tools.
    Embed {
        /// Images to analyse (jpg, png, webp, bmp).
        #[arg(required = true)]
        images: Vec<PathBuf>,
        #[command(flatten)]
        engine: EngineArgs,
    },
}

#[derive(Args)]
struct EngineArgs {
    /// Folder holding the models and ONNX Runtime, as installed by scripts/setup.
    /// Also set by $SCREENTIME_MODELS.
    #[arg(long, value_name = "DIR", default_value_os_t = default_models_dir())]
    models: PathBuf,
    /// Where the networks run. cuda needs a build with `--features cuda` and `scripts/setup --cuda`;
    /// when CUDA cannot start, screentime says so and runs on the CPU.
    #[arg(long, value_enum, default_value_t = Device::Cpu)]
    device: Device,
    /// ONNX Runtime threads per network; the default uses every core.
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Face-centre score needed to report a face (0-1). Lower finds more blurred or turned faces
    /// and more false ones.
    #[arg(long, value_name = "SCORE", default_value_t = DetectOptions::default().threshold)]
    detect_threshold: f32,
    /// Longer side, in pixels, of the image the detector sees. Larger finds smaller faces but costs
    /// time roughly with the pixel count; images are never enlarged.
    #[arg(long, value_name = "PIXELS", default_value_t = DetectOptions::default().max_side)]
    detect_size: u32,
}

impl EngineArgs {
    fn options(self) -> EngineOptions {
        let defaults = RuntimeOptions::default();
        EngineOptions {
            runtime: RuntimeOptions {
                models_dir: self.models,
                device: self.device,
                threads: self.threads.unwrap_or(defaults.threads).max(1),
                ..defaults
            },
            detect: DetectOptions {
                threshold: self.detect_threshold,
                max_side: self.detect_size.max(32),
                ..DetectOptions::default()
            },
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Embed { images, engine } => {
            screentime::commands::embed(&engine.options(), &images, &mut std::io::stdout().lock())
        }
    };
    match result {
        Ok(0) => ExitCode::SUCCESS,
        Ok(_) => ExitCode::FAILURE,
        Err(err) => {
            eprintln!("error: {err}");
            ExitCode::FAILURE
        }
    }
}
