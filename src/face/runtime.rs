//! ONNX Runtime: the one place that loads the library, checks the installed models and creates
//! sessions.
//!
//! In: the models folder written by `scripts/setup` (its `manifest.json` holds the sha256 of every
//! file) and [`RuntimeOptions`] (embedder, device, threads). Out: ONNX Runtime sessions for the
//! detector and the chosen embedder, with the settings that measured fastest on a busy 2-core
//! machine: optimization level All and no spinning of idle intra-op threads.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use ort::environment::Environment;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, PrepackedWeights, SessionBuilder};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::face::landmarks::ShapePredictor;
use crate::face::model::{DetectorKind, EmbedderKind, Model};

/// Where inference runs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    Cpu,
    /// NVIDIA GPU through ONNX Runtime's CUDA execution provider (cargo feature `cuda`).
    Cuda,
}

#[derive(Debug, Clone)]
pub struct RuntimeOptions {
    /// The folder `scripts/setup` filled.
    pub models_dir: PathBuf,
    /// The ONNX Runtime library to load, when not the one in `models_dir`.
    pub library: Option<PathBuf>,
    pub device: Device,
    /// Intra-op threads for each session.
    pub threads: usize,
    /// Which weights find faces.
    pub detector: DetectorKind,
    /// Which network embeds faces.
    pub embedder: EmbedderKind,
    /// Say nothing on stderr but errors (no note of the embedder's licence).
    pub quiet: bool,
}

impl Default for RuntimeOptions {
    fn default() -> Self {
        RuntimeOptions {
            models_dir: default_models_dir(),
            library: env_path("SCREENTIME_ORT_LIB"),
            device: Device::Cpu,
            threads: thread_limit().threads,
            detector: DetectorKind::default(),
            embedder: EmbedderKind::default(),
            quiet: false,
        }
    }
}

/// The most CPU threads worth using, and why no more.
#[derive(Debug, Clone, Copy)]
pub struct ThreadLimit {
    pub threads: usize,
    pub reason: &'static str,
}

/// Memory a run takes before its workers (ONNX Runtime, the cast, the decoder): about 450 MB of
/// address space, measured on 320x180 video.
const BASE_MEMORY: u64 = 512 << 20;
/// Memory each video worker adds with its own detector and embedder sessions and its queue of
/// frames: 70 MB of address space measured on 320x180 video, with room for 1080p frames.
const WORKER_MEMORY: u64 = 128 << 20;

/// One thread per CPU core this process may use: more only take turns on the same cores, and
/// each video worker holds its own sessions, so `--threads 1000` would take memory until the
/// kernel stops the process. Fewer where the memory the process may use (what the system has
/// available, the container's limit, `ulimit -v`) holds fewer workers.
pub fn thread_limit() -> ThreadLimit {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let by_memory = memory_limit()
        .and_then(|bytes| usize::try_from(bytes.saturating_sub(BASE_MEMORY) / WORKER_MEMORY).ok());
    match by_memory {
        Some(workers) if workers < cores => ThreadLimit {
            threads: workers.max(1),
            reason: "as many as the memory this process may use holds",
        },
        _ => ThreadLimit {
            threads: cores,
            reason: "one per CPU core",
        },
    }
}

/// The least of the memory available (`MemAvailable`), the cgroup's `memory.max` (a container's
/// limit) and the address-space limit (`ulimit -v`), in bytes; None where none is known.
fn memory_limit() -> Option<u64> {
    let available = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map(|kib| kib * 1024);
    let container = std::fs::read_to_string("/sys/fs/cgroup/memory.max")
        .ok()
        .and_then(|text| text.trim().parse::<u64>().ok());
    [available, container, address_space_limit()]
        .into_iter()
        .flatten()
        .min()
}

#[cfg(unix)]
fn address_space_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0;
    (known && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

#[cfg(not(unix))]
fn address_space_limit() -> Option<u64> {
    None
}

/// `$SCREENTIME_MODELS`, else the project's own `models/`, where `scripts/setup` installs them.
pub fn default_models_dir() -> PathBuf {
    env_path("SCREENTIME_MODELS")
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("models"))
}

/// The path in environment variable `name`; set but empty counts as not set, as for `PATH`-like
/// variables elsewhere, rather than as the current folder.
fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from)
}

/// A loaded ONNX Runtime with verified models, ready to create sessions.
pub struct Runtime {
    environment: Environment,
    prepacked: PrepackedWeights,
    options: RuntimeOptions,
    hashes: BTreeMap<Model, String>,
    landmarks: Mutex<Option<Arc<ShapePredictor>>>,
    /// The execution providers the sessions were made with (CUDA's only where it registered).
    providers: Mutex<BTreeSet<&'static str>>,
}

/// What the models ran on, as `report.json` records it: ONNX Runtime picks its kernels by the
/// execution provider and, on the CPU, by the instruction sets below, so a result is reproduced
/// bit for bit only where these (and the models' sha256) match.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    /// The CPU's name, as the kernel reports it (None where it does not).
    pub cpu: Option<String>,
    /// Those of the instruction sets ONNX Runtime chooses kernels by that this CPU has.
    pub cpu_features: Vec<String>,
    pub execution_providers: Vec<String>,
}

impl Runtime {
    /// Checks the models against the manifest and loads ONNX Runtime (once per process: later
    /// calls reuse the library the first one loaded).
    pub fn new(options: RuntimeOptions) -> Result<Runtime> {
        limit_malloc_arenas();
        let dir = &options.models_dir;
        let manifest = read_manifest(dir)?;
        let mut hashes = BTreeMap::new();
        for model in Runtime::models(options.detector, options.embedder) {
            hashes.insert(model, verify(dir, model, &manifest)?);
        }

        let library = options
            .library
            .clone()
            .unwrap_or_else(|| default_library(dir, options.device));
        let environment = load_library(&library)?;
        if options.embedder != EmbedderKind::Dlib && !options.quiet {
            note_licence(options.embedder);
        }
        Ok(Runtime {
            environment,
            prepacked: PrepackedWeights::new(),
            options,
            hashes,
            landmarks: Mutex::new(None),
            providers: Mutex::new(BTreeSet::new()),
        })
    }

    /// The models a run loads: the detector, the embedder and, for dlib's chips, dlib's
    /// landmarks.
    fn models(detector: DetectorKind, embedder: EmbedderKind) -> Vec<Model> {
        let mut models = vec![Model::Detector(detector), Model::Embedder(embedder)];
        if embedder == EmbedderKind::Dlib {
            models.push(Model::Landmarks);
        }
        models
    }

    /// The sha256 of a model file, as verified at start.
    pub fn model_sha256(&self, model: Model) -> &str {
        &self.hashes[&model]
    }

    /// The detector this runtime loads.
    pub fn detector(&self) -> DetectorKind {
        self.options.detector
    }

    /// The embedder this runtime loads.
    pub fn embedder(&self) -> EmbedderKind {
        self.options.embedder
    }

    /// The sha256 of the detector's model file.
    pub fn detector_sha256(&self) -> &str {
        self.model_sha256(Model::Detector(self.detector()))
    }

    /// The sha256 of the embedder's model file.
    pub fn embedder_sha256(&self) -> &str {
        self.model_sha256(Model::Embedder(self.embedder()))
    }

    /// What a face's descriptor depends on besides its pixels: the models that place the chip
    /// (the detector's box and landmarks, and for dlib's chips dlib's landmarks placed from
    /// them), the embedder that reads it, and the code between them ([`DESCRIPTOR_REVISION`]).
    /// Embeddings made with another fingerprint (a cached cast) must be made again.
    pub fn embedding_fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(DESCRIPTOR_REVISION.to_le_bytes());
        for model in Runtime::models(self.detector(), self.embedder()) {
            hasher.update(self.model_sha256(model));
        }
        format!("{:x}", hasher.finalize())
    }

    /// dlib's shape predictor, read once and shared by every worker: the workers that ask while
    /// it is read wait for it rather than read it again.
    pub fn shape_predictor(&self) -> Result<Arc<ShapePredictor>> {
        let mut landmarks = self.landmarks.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(loaded) = &*landmarks {
            return Ok(loaded.clone());
        }
        let loaded = Arc::new(ShapePredictor::load(&self.model_path(Model::Landmarks))?);
        Ok(landmarks.insert(loaded).clone())
    }

    pub fn model_path(&self, model: Model) -> PathBuf {
        self.options.models_dir.join(model.file_name())
    }

    pub fn options(&self) -> &RuntimeOptions {
        &self.options
    }

    pub fn session(&self, model: Model) -> Result<Session> {
        let path = self.model_path(model);
        let onnx = |stage| Error::onnx(&path, stage);
        let builder = self.builder().map_err(onnx("session options"))?;
        let (mut builder, provider) = with_device(builder, self.options.device);
        let session = builder
            .commit_from_file(&path)
            .map_err(onnx("loading the model"))?;
        (self.providers.lock().unwrap_or_else(|e| e.into_inner())).insert(provider);
        Ok(session)
    }

    /// The CPU and the execution providers this runtime's sessions ran on so far.
    pub fn machine(&self) -> Machine {
        let providers = self.providers.lock().unwrap_or_else(|e| e.into_inner());
        Machine {
            cpu: cpu_name(),
            cpu_features: cpu_features().into_iter().map(String::from).collect(),
            execution_providers: providers.iter().map(|&p| p.into()).collect(),
        }
    }

    fn builder(&self) -> ort::Result<SessionBuilder> {
        Ok(Session::builder(&self.environment)?
            .with_optimization_level(GraphOptimizationLevel::All)?
            .with_intra_threads(self.options.threads)?
            // Spinning idle threads steal the core the decoder or another worker needs:
            // 15-24 fps with spinning became 37-39 fps without, on 2 busy cores.
            .with_intra_op_spinning(false)?
            // Memory patterns plan buffers for one input shape; the detector sees a new shape
            // for every face region, so they only hold memory (48 MB less without, measured).
            .with_memory_pattern(false)?
            // Every worker's sessions share one copy of the weights repacked for the CPU.
            .with_prepacked_weights(&self.prepacked)?)
    }
}

/// glibc gives each thread that allocates its own malloc arena, which keeps memory once freed;
/// with the decoder's, the workers' and ONNX Runtime's threads passing frames around that is
/// 70-80 MB of a 1080p run's peak (measured with MALLOC_ARENA_MAX=2, at the same speed). Two
/// arenas are enough for a process whose heavy work runs inside ONNX Runtime's own buffers.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        // SAFETY: mallopt only sets a tuning value; it is called before the job's threads start.
        ONCE.call_once(|| unsafe {
            libc::mallopt(libc::M_ARENA_MAX, 2);
        });
    }
}

/// The revision of the code that turns a face's pixels into a descriptor (detection's
/// landmarks, dlib's, the chip, its normalisation), part of [`Runtime::embedding_fingerprint`]:
/// raised by a change that moves descriptors, so that a cast cached by an earlier screentime is
/// embedded again rather than compared with faces embedded another way. `tests/recognition.rs`
/// (`a_registry_photo_embeds_as_this_descriptor_revision_recorded`) holds a photo's descriptors
/// and fails when they move.
pub const DESCRIPTOR_REVISION: u32 = 1;

const CPU_PROVIDER: &str = "CPUExecutionProvider";

/// The session builder for `device`, and the execution provider it runs on.
#[cfg(feature = "cuda")]
fn with_device(mut builder: SessionBuilder, device: Device) -> (SessionBuilder, &'static str) {
    use ort::ep::ExecutionProvider;
    if device != Device::Cuda {
        return (builder, CPU_PROVIDER);
    }
    match ort::ep::CUDA::default().register(&mut builder) {
        Ok(()) => (builder, "CUDAExecutionProvider"),
        Err(err) => {
            warn_once(&format!(
                "CUDA is not available ({err}); running on the CPU"
            ));
            (builder, CPU_PROVIDER)
        }
    }
}

/// The session builder for `device`, and the execution provider it runs on.
#[cfg(not(feature = "cuda"))]
fn with_device(builder: SessionBuilder, device: Device) -> (SessionBuilder, &'static str) {
    if device == Device::Cuda {
        warn_once(
            "this screentime was built without CUDA support (cargo feature `cuda`); running on the CPU",
        );
    }
    (builder, CPU_PROVIDER)
}

/// The first `model name` in /proc/cpuinfo.
fn cpu_name() -> Option<String> {
    let info = std::fs::read_to_string("/proc/cpuinfo").ok()?;
    info.lines()
        .find_map(|line| line.strip_prefix("model name")?.split_once(':'))
        .map(|(_, name)| name.trim().to_string())
}

/// The instruction sets ONNX Runtime's CPU kernels are chosen by (MLAS: AVX2 and FMA, AVX-512,
/// and the VNNI dot products its integer kernels use where present), those this CPU has.
fn cpu_features() -> Vec<&'static str> {
    let mut found = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! detect {
            ($($feature:tt),*) => {
                $(if std::arch::is_x86_feature_detected!($feature) {
                    found.push($feature);
                })*
            };
        }
        detect!(
            "avx",
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avxvnni"
        );
    }
    found
}

/// The ONNX Runtime library in `dir` for `device`: the CUDA build only where it can be used.
fn default_library(dir: &Path, device: Device) -> PathBuf {
    let cpu = dir.join("libonnxruntime.so");
    // A build without the `cuda` feature says why it runs on the CPU when it makes a session.
    if device == Device::Cpu || !cfg!(feature = "cuda") {
        return cpu;
    }
    let cuda = dir.join("cuda").join("libonnxruntime.so");
    if cuda.is_file() {
        return cuda;
    }
    warn_once(&format!(
        "{}: not installed (scripts/setup --cuda); running on the CPU",
        cuda.display()
    ));
    cpu
}

/// Results made with an embedder whose weights come with terms come under them: said once per
/// run, once the models are loaded (report.json records it too).
fn note_licence(embedder: EmbedderKind) {
    static NOTED: std::sync::Once = std::sync::Once::new();
    NOTED.call_once(|| {
        eprintln!(
            "note: --embedder {}: {}; licence: {}",
            embedder.name(),
            embedder.model(),
            embedder.licence()
        )
    });
}

/// Every session would say it again; once per run is enough.
fn warn_once(message: &str) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| eprintln!("warning: {message}"));
}

fn load_library(path: &Path) -> Result<Environment> {
    static LOADED: OnceLock<std::result::Result<Environment, String>> = OnceLock::new();
    let not_found = || Error::Runtime {
        path: path.to_path_buf(),
        reason: "file not found (run scripts/setup, or set SCREENTIME_ORT_LIB)".into(),
    };
    if LOADED.get().is_none() && !path.is_file() {
        return Err(not_found());
    }
    LOADED
        .get_or_init(|| {
            ort::init_from(path)
                .map_err(|e| e.to_string())?
                .with_name("screentime")
                .build()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(|reason| Error::Runtime {
            path: path.to_path_buf(),
            reason,
        })
}

fn read_manifest(dir: &Path) -> Result<BTreeMap<String, String>> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        files: BTreeMap<String, String>,
    }
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::Models {
        path: path.clone(),
        reason: format!("{e} (the models are not installed: run scripts/setup)"),
    })?;
    let manifest: Manifest = serde_json::from_str(&text).map_err(|e| Error::Models {
        path,
        reason: format!("not a screentime manifest: {e}"),
    })?;
    Ok(manifest.files)
}

/// Returns the model file's sha256 after checking it against the manifest.
fn verify(dir: &Path, model: Model, manifest: &BTreeMap<String, String>) -> Result<String> {
    let name = model.file_name();
    let path = dir.join(name);
    let expected = manifest
        .get(&format!("models/{name}"))
        .ok_or_else(|| Error::Models {
            path: dir.join("manifest.json"),
            reason: format!("lists no {name}: run {}", model.setup_command()),
        })?;
    let actual = sha256_file(&path)?;
    if &actual != expected {
        return Err(Error::Models {
            path,
            reason: format!(
                "sha256 {actual} does not match the manifest ({expected}): the file is damaged or was replaced; run {}",
                model.setup_command()
            ),
        });
    }
    Ok(actual)
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer).map_err(io)?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
    }
    Ok(format!("{:x}", hasher.finalize()))
}
