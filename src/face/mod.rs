//! Faces in one image. In: an RGB image. Out: each face's box, landmarks and score
//! ([`detect`]), its 150x150 chip cut as dlib cuts it ([`landmarks`], [`align`]) and its 128-D
//! descriptor ([`embed`]). [`engine`] chains these for one image; [`runtime`] is the one place
//! that loads ONNX Runtime and the models.

pub mod align;
pub mod detect;
pub mod embed;
pub mod engine;
pub mod landmarks;
pub mod runtime;
