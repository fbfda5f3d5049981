//! Faces in one image. In: an RGB image. Out: each face's box, landmarks and score ([`detect`]),
//! its chip for the chosen embedder (dlib's 150x150 as dlib cuts it: [`landmarks`], [`align`]; or
//! ArcFace's 112x112) and its descriptor ([`embed`]: 128-D dlib, 512-D ArcFace). [`engine`] chains
//! these for one image; [`runtime`] is the one place that loads ONNX Runtime and the models;
//! [`model`] describes each model as plain data, for all of them.

pub mod align;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod landmarks;
pub mod model;
pub mod runtime;
