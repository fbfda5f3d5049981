//! The screen-time job over one video. In: a video, a cast and the options. Out: screen time
//! and appearances per identity, track reports and face pictures ([`result`]).
//!
//! [`pipeline`] runs the stages on threads: decode, then per clip track and embed, then join
//! the clips' tracks; [`aggregate`] decides who each track is once the video is seen and totals
//! their time, with [`interval`]'s arithmetic of stretches on screen (shared with `search
//! --with` and the co-appearance matrix); [`interrupt`] lets Ctrl-C stop a run without writing
//! half a result.

pub mod aggregate;
pub mod cpu;
pub mod interrupt;
pub mod interval;
pub mod pipeline;
pub mod result;
