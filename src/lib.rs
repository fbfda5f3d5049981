//! screentime: how long each actor is on screen in a video, from face detection and face
//! embeddings run through ONNX Runtime.
//!
//! The folders follow the data, one way: [`video`] decodes frames and finds shot cuts; [`face`]
//! finds faces in a frame and turns each into a descriptor (dlib's or ArcFace's); [`track`] follows
//! faces through each shot; [`identity`] names tracks against the cast; [`job`] runs these on
//! threads over a whole video and totals screen time; [`output`] writes the result files.
//! [`commands`] holds what each CLI command does with them, [`cli`] the command line. [`error`] is
//! the one error type; [`files`] keeps the file system in bounds (atomic writes, names made into
//! paths, folder walks).

// Commands answer on the writer they are given, through one renderer (`output::answer`), so that
// tests and other callers can read the answer; nothing in the library prints to stdout itself.
#![deny(clippy::print_stdout)]

pub mod cli;
pub mod commands;
pub mod error;
pub mod face;
pub mod files;
pub mod identity;
pub mod job;
pub mod output;
pub mod track;
pub mod video;

pub use error::{Error, Result};
