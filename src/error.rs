//! Typed errors. Each names what failed (a file, an image, a model) and why, in one line, so a
//! user can act on it without a backtrace.

use std::path::PathBuf;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Exit code of a run that failed, or that finished with some inputs failed (each reported).
pub const FAILURE: u8 = 1;
/// Exit code of a run whose results were written but cover only part of a video (a file cut
/// short, packets skipped): not a failure of the run, not a whole result either.
pub const INCOMPLETE: u8 = 3;
/// Exit code of a run stopped by Ctrl-C: 128 + SIGINT, as shells report it.
pub const INTERRUPTED: u8 = 130;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The models folder is missing, incomplete or does not match its manifest.
    Models { path: PathBuf, reason: String },

    /// The ONNX Runtime shared library could not be loaded.
    Runtime { path: PathBuf, reason: String },

    /// ONNX Runtime refused a model or failed while running it.
    Onnx {
        path: PathBuf,
        stage: &'static str,
        source: ort::Error,
    },

    /// An input image could not be read or decoded.
    Image {
        path: PathBuf,
        source: image::ImageError,
    },

    /// A video could not be opened or decoded.
    Video { path: PathBuf, reason: String },

    /// The cast (a folder of actor photos, or an embeddings file) is unusable.
    Cast { path: PathBuf, reason: String },

    /// A batch catalog (folder or manifest) is unusable.
    Catalog { path: PathBuf, reason: String },

    /// An input of the photo commands (a photo without a face, a folder without results) is
    /// unusable.
    Input { path: PathBuf, reason: String },

    /// A result file could not be written; files written before stay intact.
    Output { path: PathBuf, reason: String },

    /// The results are written but cover only part of the video (or of a batch's videos):
    /// `reason` says how much was read.
    Incomplete { path: PathBuf, reason: String },

    /// The user pressed Ctrl-C (SIGINT): the run stopped before writing any result for `path`.
    Interrupted { path: PathBuf },

    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl std::fmt::Display for Error {
    /// `FILE: reason`, on one line whatever the underlying libraries put in their messages.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let message = match self {
            Error::Runtime { path, reason } => {
                format!("{}: cannot load ONNX Runtime: {reason}", path.display())
            }
            Error::Onnx {
                path,
                stage,
                source,
            } => format!("{}: {stage}: {source}", path.display()),
            Error::Image { path, source } => {
                format!("{}: cannot read image: {source}", path.display())
            }
            Error::Output { path, reason } => format!("{}: cannot write: {reason}", path.display()),
            Error::Interrupted { path } => {
                format!("{}: interrupted; no results written for it", path.display())
            }
            Error::Incomplete { path, reason } => {
                format!("{}: incomplete result: {reason}", path.display())
            }
            Error::Io { path, source } => format!("{}: {source}", path.display()),
            Error::Models { path, reason }
            | Error::Video { path, reason }
            | Error::Cast { path, reason }
            | Error::Catalog { path, reason }
            | Error::Input { path, reason } => format!("{}: {reason}", path.display()),
        };
        f.write_str(&one_line(&message))
    }
}

/// `text` as one line: without the whitespace around it, and with control characters inside
/// (the line breaks some decoders end their messages with, or that a file name may hold)
/// written as escapes, so a message is always the one line it claims to be.
pub fn one_line(text: &str) -> String {
    escape_controls(text.trim())
}

/// `text` with its control characters written as escapes (`\n`, `\u{1b}`): a name from outside
/// (a file name, a batch title) printed or drawn as it is could move a terminal's cursor, ring
/// its bell or end a line, and makes an SVG ill-formed XML (which forbids them even escaped).
pub fn escape_controls(text: &str) -> String {
    let mut line = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

/// Prints `message` on stderr as one warning line.
pub fn warn(message: &str) {
    eprintln!("warning: {}", one_line(message));
}

impl Error {
    /// The process's exit code for this error: the only place errors become exit codes.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Interrupted { .. } => INTERRUPTED,
            Error::Incomplete { .. } => INCOMPLETE,
            _ => FAILURE,
        }
    }

    /// The file or folder the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            Error::Models { path, .. }
            | Error::Runtime { path, .. }
            | Error::Onnx { path, .. }
            | Error::Image { path, .. }
            | Error::Video { path, .. }
            | Error::Cast { path, .. }
            | Error::Catalog { path, .. }
            | Error::Input { path, .. }
            | Error::Incomplete { path, .. }
            | Error::Output { path, .. }
            | Error::Interrupted { path }
            | Error::Io { path, .. } => path,
        }
    }

    /// What a run stopped by Ctrl-C reports, whatever failed on the way: a model or a decoder
    /// cut off mid-call fails in its own words (ONNX Runtime's "not implemented"), which would
    /// read as a broken model; the user asked for the stop.
    pub fn or_interrupted(self, stopped: bool) -> Error {
        match self {
            Error::Interrupted { .. } => self,
            _ if stopped => Error::Interrupted {
                path: self.path().to_path_buf(),
            },
            _ => self,
        }
    }

    /// Writing a command's answer to standard output failed (a closed pipe, a full disk).
    pub fn stdout(source: std::io::Error) -> Error {
        Error::Io {
            path: "<stdout>".into(),
            source,
        }
    }

    /// An input at `path` (a photo without a face, a folder without results) is unusable.
    pub fn input(path: &std::path::Path, reason: impl std::fmt::Display) -> Error {
        Error::Input {
            path: path.to_path_buf(),
            reason: reason.to_string(),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_after_ctrl_c_is_the_interrupt() {
        let failed = || Error::Video {
            path: "clip.mp4".into(),
            reason: "GetElementType is not implemented".into(),
        };
        let stopped = failed().or_interrupted(true);
        assert!(matches!(stopped, Error::Interrupted { .. }));
        assert_eq!(stopped.exit_code(), INTERRUPTED);
        assert_eq!(
            stopped.to_string(),
            "clip.mp4: interrupted; no results written for it"
        );
        assert_eq!(failed().or_interrupted(false).exit_code(), FAILURE);
    }

    #[test]
    fn controls_are_escaped_on_one_line() {
        assert_eq!(
            escape_controls("a\u{1b}[2J\nb\u{7}"),
            "a\\u{1b}[2J\\nb\\u{7}"
        );
        assert_eq!(one_line("  x\ny \n"), "x\\ny");
    }
}
