//! screentime: how long each actor is on screen in a video, from face detection and face
//! embeddings run through ONNX Runtime.
//!
//! Stages, each a module, in the order data flows: [`detect`] finds faces and landmarks,
//! [`align`] cuts each face to dlib's 150x150 chip, [`embed`] turns chips into 128-D
//! descriptors. [`engine`] chains them for one image; [`runtime`] is the one place that loads
//! ONNX Runtime and the models.

pub mod align;
pub mod cast;
pub mod commands;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod error;
pub mod identify;
pub mod pipeline;
pub mod report;
pub mod runtime;
pub mod video;

pub use error::{Error, Result};
