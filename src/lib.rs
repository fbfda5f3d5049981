//! screentime: how long each actor is on screen in a video, from face detection and face
//! embeddings run through ONNX Runtime.
//!
//! Stages, each a module, in the order data flows: [`video`] decodes frames, [`detect`] finds
//! faces and landmarks, [`align`] cuts each face to dlib's 150x150 chip, [`embed`] turns chips
//! into 128-D descriptors, [`track`] follows faces through each shot, [`identify`] names them
//! against the [`cast`], [`aggregate`] turns finished tracks into screen time and appearances,
//! and [`report`] writes the results. [`engine`] chains detect, align and embed for one image; [`pipeline`] runs the
//! whole video job on threads; [`runtime`] is the one place that loads ONNX Runtime and the
//! models; [`commands`] holds what each CLI command does, and [`photos`] the commands on still
//! photos and finished results (lookalike, similarity, group, search). [`names`], [`ledger`]
//! and [`walk`] keep what comes from outside in bounds: names made into paths, the files a run
//! may remove from its output folder, and folder walks.

pub mod aggregate;
pub mod align;
pub mod batch;
pub mod cast;
pub mod commands;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod error;
pub mod identify;
pub mod landmarks;
pub mod ledger;
pub mod names;
pub mod photos;
pub mod pipeline;
pub mod report;
pub mod runtime;
pub mod score;
pub mod shots;
pub mod track;
pub mod video;
pub mod walk;

pub use error::{Error, Result};
