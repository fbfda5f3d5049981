//! Typed errors. Each names what failed (a file, an image, a model) and why, in one line, so a
//! user can act on it without a backtrace.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The models folder is missing, incomplete or does not match its manifest.
    #[error("{path}: {reason}")]
    Models { path: PathBuf, reason: String },

    /// The ONNX Runtime shared library could not be loaded.
    #[error("{path}: cannot load ONNX Runtime: {reason}")]
    Runtime { path: PathBuf, reason: String },

    /// ONNX Runtime refused a model or failed while running it.
    #[error("{path}: {stage}: {source}")]
    Onnx {
        path: PathBuf,
        stage: &'static str,
        source: ort::Error,
    },

    /// An input image could not be read or decoded.
    #[error("{path}: cannot read image: {source}")]
    Image {
        path: PathBuf,
        source: image::ImageError,
    },

    /// A video could not be opened or decoded.
    #[error("{path}: {reason}")]
    Video { path: PathBuf, reason: String },

    /// The cast (a folder of actor photos, or an embeddings file) is unusable.
    #[error("{path}: {reason}")]
    Cast { path: PathBuf, reason: String },

    /// A batch catalog (folder or manifest) is unusable.
    #[error("{path}: {reason}")]
    Catalog { path: PathBuf, reason: String },

    /// An input of the photo commands (a photo without a face, a folder without results) is
    /// unusable.
    #[error("{path}: {reason}")]
    Input { path: PathBuf, reason: String },

    /// A result file could not be written; files written before stay intact.
    #[error("{path}: cannot write: {reason}")]
    Output { path: PathBuf, reason: String },

    /// The user pressed Ctrl-C (SIGINT): the run stopped before writing any result for `path`.
    #[error("{path}: interrupted; no results written for it")]
    Interrupted { path: PathBuf },

    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// Writing a command's answer to standard output failed (a closed pipe, a full disk).
    pub fn stdout(source: std::io::Error) -> Error {
        Error::Io {
            path: "<stdout>".into(),
            source,
        }
    }

    /// A result file or folder at `path` could not be written.
    pub fn output(path: &std::path::Path, reason: impl std::fmt::Display) -> Error {
        Error::Output {
            path: path.to_path_buf(),
            reason: reason.to_string(),
        }
    }

    /// For `map_err`: ONNX Runtime failed at `stage` of using the model at `path`.
    pub fn onnx(path: impl Into<PathBuf>, stage: &'static str) -> impl FnOnce(ort::Error) -> Error {
        let path = path.into();
        move |source| Error::Onnx {
            path,
            stage,
            source,
        }
    }
}
