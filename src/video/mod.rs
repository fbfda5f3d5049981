//! Frames from a video. In: a file or URL FFmpeg can read. Out: every frame's timestamp and
//! thumbnail, and the frames to analyse as RGB images ([`decode`]), picked by [`sampler`];
//! where the shots cut ([`shots`]), found on every frame's thumbnail; and every frame's time,
//! decoded or not ([`clock`]), to count frames on screen; the start timecode a file carries
//! ([`timecode`]). The other way: pictures in, a video file out ([`encode`]), for a slideshow.

pub mod clock;
pub mod decode;
pub mod encode;
pub mod sampler;
pub mod shots;
pub mod timecode;
