//! Following faces through one clip: full-frame detection every `detect_every` frames, a small
//! region around each followed face in between, and an embedding when a track starts, every
//! `embed_every` frames, and on every frame while its match is uncertain.
//!
//! Edges to the frame: a face is found on an analysed frame, but it may have come on screen at
//! any decoded frame since the last full detection, and one that is gone may have left at any
//! frame since it was last seen. Those frames come with each analysed frame
//! ([`Frame::before`]) and with the clip's end; the first frame with the face, and the first
//! without it, are found by bisection, looking for the face as a followed face is looked for.
//! A face that comes stays for a while, and one that goes stays gone, so bisection needs
//! about log2 of the frames between: 2 to 4 region detections an edge in the default mode.
//!
//! Rolled faces: a face rolled more than 45 degrees (someone lying down) is found in the frame
//! turned a quarter turn ([`FaceFinder::detect_turned`]). Every clip's first frame
//! ([`Frame::turned`]) gets a glance (320 px a side), so someone lying beside people sitting
//! upright is found all through a shot; a full detection whose upright frame shows nobody gets
//! one too; and while the clip follows someone lying, every full detection looks turned as
//! closely as upright, so the others lying there are found as soon as upright faces would be.
//! Each face a turned picture shows is looked for again in the region around it before it
//! counts; and a face the upright frame shows lying is taken as the region turned its way
//! shows it. The glances cost +2.5-3% CPU over turning only a shot's first clip in the default
//! mode, +7-10% with `--stride 1` (docs/benchmarks.md); the rest costs only where nobody is
//! upright or someone lies. A track keeps the turn its face was last found in
//! ([`Face::turn`]): the region around it, between full detections, on them and at its edges,
//! is looked at turned too, where the face is upright.
//!
//! Faces are found and embedded through [`FaceFinder`], which [`Engine`] implements with its
//! networks; the unit tests below drive the tracker with a script of which face is where when.

use std::sync::Arc;

use image::RgbImage;
use serde::Serialize;

use crate::error::Result;
use crate::face::detect::{BBox, Face, Turn, is_turned_find, upright_first};
use crate::face::embed::{Descriptor, distance};
use crate::face::engine::Engine;
use crate::track::evidence::{Evidence, Piece, Sample};
use crate::track::picture::{self, Picture};
use crate::track::{FOLLOW_IOU, MAX_MISSES, Nearest, TrackOptions};
use crate::video::decode::RawFrame;

/// A followed face is looked for in its last box grown this much about its centre...
const REGION_SCALE: f32 = 2.0;
/// ...with the region scaled down to at most this many pixels a side.
const REGION_SIDE: u32 = 160;
/// Faces at least this wide (pixels) are sharp enough to embed at full weight.
const SHARP_WIDTH: f32 = 80.0;
/// A frame turned a quarter turn is looked at scaled to at most this many pixels a side: half
/// the upright frame's 640, a quarter of its cost.
const TURNED_SIDE: u32 = 320;

/// What following faces asks of the face engine, and all it asks: the faces in an analysed
/// frame, in a region of one, or in a region of a decoded frame between analysed ones, and the
/// descriptors of faces found. Faces are given in the frame's own pixel coordinates, as found
/// (whether they count as on screen is the tracker's to judge).
pub trait FaceFinder {
    /// Every face in the whole of `frame`, upright or rolled up to about 45 degrees.
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Face>>;
    /// `upright`, the faces [`FaceFinder::detect`] found in `frame`, with the faces rolled
    /// more than 45 degrees that `frame` turned a quarter turn shows, of overlapping ones the
    /// one first in [`upright_first`]'s order. Each quarter turn is scaled to at most 320
    /// pixels a side (`TURNED_SIDE`), or, `closely`, to the upright frame's own size.
    fn detect_turned(
        &mut self,
        frame: &Frame,
        upright: Vec<Face>,
        closely: bool,
    ) -> Result<Vec<Face>>;
    /// The faces in `region` of `frame`, the region looked at scaled to at most 160 pixels a
    /// side (`REGION_SIDE`) and turned by `turn`.
    fn detect_in(&mut self, frame: &Frame, region: &BBox, turn: Turn) -> Result<Vec<Face>>;
    /// The faces in `region` of a decoded frame, as [`FaceFinder::detect_in`] finds them.
    fn detect_in_decoded(
        &mut self,
        frame: &RawFrame,
        region: &BBox,
        turn: Turn,
    ) -> Result<Vec<Face>>;
    /// The descriptors of `faces`, found in `frame`, in their order.
    fn embed(&mut self, frame: &Frame, faces: &[&Face]) -> Result<Vec<Descriptor>>;
}

impl FaceFinder for Engine {
    fn detect(&mut self, frame: &Frame) -> Result<Vec<Face>> {
        Engine::detect(self, &frame.image)
    }

    fn detect_turned(
        &mut self,
        frame: &Frame,
        upright: Vec<Face>,
        closely: bool,
    ) -> Result<Vec<Face>> {
        let side = if closely {
            self.detect_size()
        } else {
            TURNED_SIDE
        };
        Engine::detect_turned(self, &frame.image, upright, side)
    }

    fn detect_in(&mut self, frame: &Frame, region: &BBox, turn: Turn) -> Result<Vec<Face>> {
        Engine::detect_in(self, &frame.image, region, REGION_SIDE, turn)
    }

    /// Converts only the region to RGB: most decoded frames are never converted whole.
    fn detect_in_decoded(
        &mut self,
        frame: &RawFrame,
        region: &BBox,
        turn: Turn,
    ) -> Result<Vec<Face>> {
        let (width, height) = frame.size();
        let (x, y, w, h) = region.pixels_within(width, height);
        let part = frame.region_to_rgb((x, y, w, h))?;
        let whole = BBox {
            x1: 0.0,
            y1: 0.0,
            x2: w as f32,
            y2: h as f32,
        };
        Ok(Engine::detect_in(self, &part, &whole, REGION_SIDE, turn)?
            .into_iter()
            .map(|face| face.moved(x as f32, y as f32))
            .collect())
    }

    fn embed(&mut self, frame: &Frame, faces: &[&Face]) -> Result<Vec<Descriptor>> {
        Engine::embed(self, &frame.image, faces.iter().copied())
    }
}

/// An analysed frame.
pub struct Frame {
    /// Analysed-frame number, from 0.
    pub seq: u64,
    /// Seconds from the start of the video.
    pub time: f64,
    /// Seconds this frame stands for: until the next analysed frame.
    pub span: f64,
    pub image: RgbImage,
    /// Whether to look for new faces in the whole frame ([`TrackOptions::full_detection`]).
    pub full: bool,
    /// Whether that full detection looks at the frame turned a quarter turn each way too, for
    /// faces rolled more than 45 degrees, whatever it finds upright: on a clip's first frame.
    /// (Elsewhere the tracker looks turned where nobody is upright or someone lies.)
    pub turned: bool,
    /// The shot's decoded frames since its last full detection, in time order: where a face
    /// first found here may have come on screen, and where one followed so far may have left.
    pub before: Vec<Arc<RawFrame>>,
}

/// Counts of the work done, for the report.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct TrackStats {
    pub full_detections: u64,
    /// Full detections that also looked at the frame turned each way.
    #[serde(default)]
    pub turned_detections: u64,
    pub region_detections: u64,
    /// Region detections on the frames between analysed ones, placing edges.
    pub edge_detections: u64,
    pub faces_embedded: u64,
}

impl std::ops::AddAssign for TrackStats {
    fn add_assign(&mut self, other: TrackStats) {
        self.full_detections += other.full_detections;
        self.turned_detections += other.turned_detections;
        self.region_detections += other.region_detections;
        self.edge_detections += other.edge_detections;
        self.faces_embedded += other.faces_embedded;
    }
}

/// A tracked clip.
pub struct Clip {
    /// Clip number, from 0, in video order.
    pub number: u64,
    /// Whether a shot cut comes right before this clip.
    pub after_cut: bool,
    pub frames: u64,
    /// Seconds the clip's frames stand for.
    pub seconds: f64,
    pub pieces: Vec<Piece>,
    pub stats: TrackStats,
}

struct Live {
    piece: Piece,
    /// Time of the analysed frame the face was last seen in.
    seen_at: f64,
    /// Where the face left, found at the first frame it was missed; the piece ends there
    /// unless it is seen again.
    left_at: Option<f64>,
    misses: u64,
    /// The turn its face was last found in, where it is looked for.
    turn: Turn,
    since_embedding: u64,
    uncertain: bool,
    /// Best face so far, as (quality, picture); encoded when the clip ends.
    best: Option<(f32, RgbImage)>,
}

/// Follows faces through one clip; one per clip, fed the clip's frames in order.
pub struct ClipTracker<'a> {
    nearest_cast: &'a dyn Nearest,
    options: TrackOptions,
    clip: Clip,
    live: Vec<Live>,
}

impl<'a> ClipTracker<'a> {
    pub fn new(
        nearest_cast: &'a dyn Nearest,
        options: TrackOptions,
        number: u64,
        after_cut: bool,
    ) -> ClipTracker<'a> {
        ClipTracker {
            nearest_cast,
            options,
            clip: Clip {
                number,
                after_cut,
                frames: 0,
                seconds: 0.0,
                pieces: Vec::new(),
                stats: TrackStats::default(),
            },
            live: Vec::new(),
        }
    }

    pub fn step(&mut self, finder: &mut dyn FaceFinder, frame: &Frame) -> Result<()> {
        let full = frame.full;
        self.clip.frames += 1;
        self.clip.seconds += frame.span;
        let image = &frame.image;

        // Each face found, with the live track it continues (None: a new face).
        let found = if full {
            self.clip.stats.full_detections += 1;
            let mut faces = finder.detect(frame)?;
            let (width, height) = image.dimensions();
            // Someone followed lying down: others in the shot may lie too, and a face that
            // comes is found at once, as closely as an upright one. Nobody upright (or only
            // faces whose landmarks are bunched, which a lying face can be read as): the one
            // there may be lying. Otherwise the clip's first frame, a glance.
            let lying = self.live.iter().any(|l| l.turn != Turn::Upright);
            let nobody = !(faces.iter()).any(|f| f.counts(width, height) && f.fills_its_box());
            if frame.turned || lying || nobody {
                self.clip.stats.turned_detections += 1;
                faces = self.with_turned(finder, frame, faces, lying)?;
            }
            for face in &mut faces {
                if let Some(turned) = self.found_turned(finder, frame, face)? {
                    *face = turned;
                }
            }
            // A face followed in a quarter turn is not in the upright frame: it is looked for
            // where it was, in its turn, as between full detections; where the full detection
            // found it too, one is kept as `detect_turned` keeps one ([`upright_first`]).
            for i in 0..self.live.len() {
                if self.live[i].turn == Turn::Upright {
                    continue;
                }
                if let Some(face) = self.follow(finder, frame, i)? {
                    keep_one(&mut faces, face);
                }
            }
            self.assign(
                faces
                    .into_iter()
                    .filter(|f| f.counts(width, height))
                    .collect(),
            )
        } else {
            let mut found: Vec<(Option<usize>, Face)> = Vec::new();
            for i in 0..self.live.len() {
                // Two tracks that meet never take the same face.
                if let Some(face) = self.follow(finder, frame, i)?
                    && found.iter().all(|(_, f)| f.bbox.iou(&face.bbox) <= 0.5)
                {
                    found.push((Some(i), face));
                }
            }
            found
        };

        let due: Vec<bool> = found
            .iter()
            .map(|(track, _)| match *track {
                None => true,
                Some(i) => {
                    let live = &self.live[i];
                    live.uncertain || live.since_embedding + 1 >= self.options.embed_every
                }
            })
            .collect();
        let to_embed: Vec<&Face> = (found.iter().zip(&due))
            .filter(|(_, due)| **due)
            .map(|((_, face), _)| face)
            .collect();
        let mut descriptors = finder.embed(frame, &to_embed)?.into_iter();

        let mut seen = vec![false; self.live.len()];
        for ((track, face), due) in found.into_iter().zip(due) {
            let descriptor = if due { descriptors.next() } else { None };
            let threshold = self.nearest_cast.threshold();
            let mut track = track;
            let mut replaced = false;
            if let (Some(i), Some(d)) = (track, &descriptor)
                && let Some(last) = self.live[i].piece.evidence.last()
                && distance(d, last) > threshold
            {
                // Someone else where the tracked face was (a cut the detector missed): that
                // track ends (unseen this frame, it passes MAX_MISSES below) and a new one starts.
                self.live[i].misses = MAX_MISSES;
                track = None;
                replaced = true;
            }
            let i = match track {
                Some(i) => {
                    seen[i] = true;
                    let live = &mut self.live[i];
                    live.piece.last = frame.seq;
                    live.piece.end = frame.time + frame.span;
                    live.piece.last_box = face.bbox;
                    live.seen_at = frame.time;
                    live.left_at = None;
                    live.misses = 0;
                    live.turn = face.turn;
                    live.since_embedding += 1;
                    i
                }
                None => {
                    // Where the face came: not searched for a face that took another's place,
                    // whose frames before are the other face's.
                    let start = if replaced {
                        frame.time
                    } else {
                        let first = first_with(finder, &frame.before, &face.bbox, face.turn, true)?;
                        self.clip.stats.edge_detections += first.detections;
                        first.time.unwrap_or(frame.time)
                    };
                    self.live.push(Live {
                        piece: Piece {
                            first: frame.seq,
                            last: frame.seq,
                            start,
                            end: frame.time + frame.span,
                            first_box: face.bbox,
                            last_box: face.bbox,
                            open_end: false,
                            evidence: Evidence::default(),
                        },
                        seen_at: frame.time,
                        left_at: None,
                        misses: 0,
                        turn: face.turn,
                        since_embedding: 0,
                        uncertain: false,
                        best: None,
                    });
                    self.live.len() - 1
                }
            };
            let quality = quality(&face);
            let live = &mut self.live[i];
            if let Some(descriptor) = descriptor {
                self.clip.stats.faces_embedded += 1;
                let nearest = self.nearest_cast.nearest_distance(&descriptor);
                let band = self.options.uncertain;
                live.uncertain = nearest.is_some_and(|d| (d - threshold).abs() < band);
                live.since_embedding = 0;
                live.piece.evidence.add(Sample {
                    time: frame.time,
                    bbox: face.bbox,
                    quality,
                    descriptor,
                });
            }
            if self.options.pictures && live.best.as_ref().is_none_or(|(q, _)| quality > *q) {
                // Upright, as a person would look at it (and as a cast photo, which it may become).
                let picture = face.turn.picture(picture::crop(image, &face.bbox));
                live.best = Some((quality, picture));
            }
        }
        for (live, seen) in self.live.iter_mut().zip(seen) {
            if seen {
                continue;
            }
            if live.misses == 0 {
                let since = frame.before.partition_point(|f| f.time <= live.seen_at);
                let gone = first_with(
                    finder,
                    &frame.before[since..],
                    &live.piece.last_box,
                    live.turn,
                    false,
                )?;
                self.clip.stats.edge_detections += gone.detections;
                live.left_at = Some(gone.time.unwrap_or(frame.time));
            }
            live.misses += 1;
        }
        let (lost, live): (Vec<Live>, Vec<Live>) = std::mem::take(&mut self.live)
            .into_iter()
            .partition(|live| live.misses > MAX_MISSES);
        self.live = live;
        self.clip
            .pieces
            .extend(lost.into_iter().map(|l| finish(l, false)));
        Ok(())
    }

    /// The face of live track `i` in `frame`, looked for in the region around its last box, in
    /// its turn: the one found there that counts and overlaps that box most, if enough.
    fn follow(
        &mut self,
        finder: &mut dyn FaceFinder,
        frame: &Frame,
        i: usize,
    ) -> Result<Option<Face>> {
        let (last_box, turn) = (self.live[i].piece.last_box, self.live[i].turn);
        self.near(finder, frame, &last_box, turn)
    }

    /// `upright`, the faces the full detection found in `frame`, with those the frame turned a
    /// quarter turn each way shows ([`FaceFinder::detect_turned`]) that a closer look confirms:
    /// each is looked for again in the region around it, in its turn, where it is several times
    /// larger than in the small turned picture, and kept only where it is found there too (the
    /// one such find on fotb, a hand at 79.75 s scoring 0.68 in the turned picture, is not).
    fn with_turned(
        &mut self,
        finder: &mut dyn FaceFinder,
        frame: &Frame,
        upright: Vec<Face>,
        closely: bool,
    ) -> Result<Vec<Face>> {
        let mut faces = Vec::new();
        for face in finder.detect_turned(frame, upright, closely)? {
            let confirmed = face.turn == Turn::Upright
                || (self.near_turned(finder, frame, &face.bbox, face.turn)?).is_some();
            if confirmed {
                faces.push(face);
            }
        }
        Ok(faces)
    }

    /// A face the upright picture shows rolled more than 45 degrees, as the region around it
    /// turned its way shows it, where that finds it. The upright picture's landmarks of a lying
    /// face are a guess: on fotb turned a quarter turn, every track started from such a face
    /// was a stranger (6.5 s with `--stride 1`). One read just past 45 degrees that the turned
    /// region does not show stays as found (evan at 58.81 s of fotb, read 46 degrees).
    fn found_turned(
        &mut self,
        finder: &mut dyn FaceFinder,
        frame: &Frame,
        face: &Face,
    ) -> Result<Option<Face>> {
        let turn = Turn::of(face);
        if face.turn != Turn::Upright || turn == Turn::Upright {
            return Ok(None);
        }
        self.near_turned(finder, frame, &face.bbox, turn)
    }

    /// The face at `bbox` in `frame` as the region around it turned by `turn` shows it, where
    /// that is a face the turn adds ([`is_turned_find`]).
    fn near_turned(
        &mut self,
        finder: &mut dyn FaceFinder,
        frame: &Frame,
        bbox: &BBox,
        turn: Turn,
    ) -> Result<Option<Face>> {
        Ok((self.near(finder, frame, bbox, turn)?).filter(|again| is_turned_find(again, turn)))
    }

    /// The face at `bbox` in `frame`, looked for in the region around it, turned by `turn`:
    /// the one found there that counts and overlaps `bbox` most, if enough.
    fn near(
        &mut self,
        finder: &mut dyn FaceFinder,
        frame: &Frame,
        bbox: &BBox,
        turn: Turn,
    ) -> Result<Option<Face>> {
        self.clip.stats.region_detections += 1;
        let (width, height) = frame.image.dimensions();
        let found = finder.detect_in(frame, &bbox.scaled(REGION_SCALE), turn)?;
        Ok(best_at(bbox, found, width, height))
    }

    /// Pairs faces with the live tracks they continue, best overlap first.
    fn assign(&self, faces: Vec<Face>) -> Vec<(Option<usize>, Face)> {
        let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
        for (t, live) in self.live.iter().enumerate() {
            for (f, face) in faces.iter().enumerate() {
                let iou = live.piece.last_box.iou(&face.bbox);
                if iou >= FOLLOW_IOU {
                    pairs.push((iou, t, f));
                }
            }
        }
        pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
        let mut track_of: Vec<Option<usize>> = vec![None; faces.len()];
        let mut taken = vec![false; self.live.len()];
        for (_, t, f) in pairs {
            if !taken[t] && track_of[f].is_none() {
                taken[t] = true;
                track_of[f] = Some(t);
            }
        }
        track_of.into_iter().zip(faces).collect()
    }

    /// The clip's pieces, those still followed at its last frame marked open. `after`: the
    /// decoded frames after the last analysed one, where a face seen there may have left.
    pub fn finish(mut self, finder: &mut dyn FaceFinder, after: &[Arc<RawFrame>]) -> Result<Clip> {
        for live in &mut self.live {
            if live.misses == 0 {
                let gone = first_with(finder, after, &live.piece.last_box, live.turn, false)?;
                self.clip.stats.edge_detections += gone.detections;
                live.left_at = gone.time;
            }
        }
        let live = std::mem::take(&mut self.live);
        self.clip
            .pieces
            .extend(live.into_iter().map(|l| finish(l, true)));
        self.clip.pieces.sort_by_key(|p| p.first);
        Ok(self.clip)
    }
}

/// Where a face's edge was found, and the region detections it took.
struct Edge {
    time: Option<f64>,
    detections: u64,
}

/// The time of the first of `frames` (in time order) from which on the face in `bbox`, upright
/// in `turn`, is there (`present`) or gone (not `present`), by bisection; None where that is
/// none of them.
fn first_with(
    finder: &mut dyn FaceFinder,
    frames: &[Arc<RawFrame>],
    bbox: &BBox,
    turn: Turn,
    present: bool,
) -> Result<Edge> {
    let (mut before, mut from) = (0, frames.len());
    let mut detections = 0;
    // Most faces found on a clip's first frame were on screen all along (followed by the clip
    // before), and most followed to a clip's end stay: the end of `frames` that says so is
    // looked at first, which settles those at one detection.
    if let Some(probe) = (!frames.is_empty()).then(|| if present { 0 } else { frames.len() - 1 }) {
        detections += 1;
        let has = has_face(finder, &frames[probe], bbox, turn)?;
        match (present, has) {
            (true, true) => from = 0,
            (true, false) => before = 1,
            (false, true) => before = frames.len(),
            (false, false) => from = frames.len() - 1,
        }
    }
    while before < from {
        let middle = (before + from) / 2;
        detections += 1;
        if has_face(finder, &frames[middle], bbox, turn)? == present {
            from = middle;
        } else {
            before = middle + 1;
        }
    }
    Ok(Edge {
        time: frames.get(from).map(|f| f.time),
        detections,
    })
}

/// Whether `frame` shows a face where `bbox` is, found as a followed face is found: in the
/// region around it, turned by `turn`.
fn has_face(
    finder: &mut dyn FaceFinder,
    frame: &RawFrame,
    bbox: &BBox,
    turn: Turn,
) -> Result<bool> {
    let (width, height) = frame.size();
    let found = finder.detect_in_decoded(frame, &bbox.scaled(REGION_SCALE), turn)?;
    Ok(best_at(bbox, found, width, height).is_some())
}

/// Of the faces `found` in the region around `bbox` (of a `width` x `height` frame), the one
/// that counts and overlaps `bbox` most, if enough to be the face there.
fn best_at(bbox: &BBox, found: Vec<Face>, width: u32, height: u32) -> Option<Face> {
    found
        .into_iter()
        .filter(|f| f.counts(width, height))
        .map(|face| (bbox.iou(&face.bbox), face))
        .filter(|(iou, _)| *iou >= FOLLOW_IOU)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, face)| face)
}

fn finish(mut live: Live, open_end: bool) -> Piece {
    live.piece.open_end = open_end;
    if let Some(left_at) = live.left_at {
        live.piece.end = left_at.max(live.piece.start);
    }
    live.piece.evidence.picture = live
        .best
        .and_then(|(quality, image)| Picture::encode(quality, &image));
    live.piece
}

/// Adds `face` to `faces`, or, where one of them is the same face (their boxes overlap by more
/// than half), keeps whichever comes first in [`upright_first`]'s order, as the detector does.
fn keep_one(faces: &mut Vec<Face>, face: Face) {
    match faces.iter().position(|f| f.bbox.iou(&face.bbox) > 0.5) {
        None => faces.push(face),
        Some(j) if upright_first(&face, &faces[j]).is_lt() => faces[j] = face,
        Some(_) => {}
    }
}

/// How much to trust a face: its detection score, less for faces too small to embed well.
/// A face found turned is measured as it is there, upright.
fn quality(face: &Face) -> f32 {
    let (width, _) = face.turn.size(face.bbox.width(), face.bbox.height());
    face.score * (width / SHARP_WIDTH).min(1.0)
}

#[cfg(test)]
mod tests {
    use std::ops::Range;

    use super::*;
    use crate::face::embed::along;
    use crate::track::linker::Linker;

    const FPS: f64 = 25.0;
    const WIDTH: u32 = 320;
    const HEIGHT: u32 = 180;

    fn time(frame: u64) -> f64 {
        frame as f64 / FPS
    }

    fn square(x: f32, y: f32) -> BBox {
        BBox {
            x1: x,
            y1: y,
            x2: x + 60.0,
            y2: y + 60.0,
        }
    }

    /// A frontal face filling `bbox`, as the detector would give it.
    fn face_in(bbox: BBox) -> Face {
        let at = |x: f32, y: f32| [bbox.x1 + x * bbox.width(), bbox.y1 + y * bbox.height()];
        Face {
            bbox,
            landmarks: [
                at(0.3, 0.4),
                at(0.7, 0.4),
                at(0.5, 0.55),
                at(0.35, 0.75),
                at(0.65, 0.75),
            ],
            score: 0.9,
            turn: Turn::Upright,
        }
    }

    /// One person on screen in the decoded `frames`, moving from `from` to `to`, upright in
    /// `turn` (lying down where it is a quarter turn).
    struct Shown {
        frames: Range<u64>,
        from: BBox,
        to: BBox,
        descriptor: Descriptor,
        turn: Turn,
    }

    impl Shown {
        fn still(frames: Range<u64>, bbox: BBox, person: usize) -> Shown {
            Shown::moving(frames, bbox, bbox, person)
        }

        fn moving(frames: Range<u64>, from: BBox, to: BBox, person: usize) -> Shown {
            Shown {
                frames,
                from,
                to,
                descriptor: along(person, 1.0),
                turn: Turn::Upright,
            }
        }

        /// The face as the detector gives it, its landmarks upright in its turn.
        fn face(&self, frame: u64) -> Option<Face> {
            let bbox = self.bbox(frame)?;
            let (width, height) = self.turn.size(WIDTH as f32, HEIGHT as f32);
            let upright = face_in(
                face_in(bbox)
                    .turned(self.turn, WIDTH as f32, HEIGHT as f32)
                    .bbox,
            );
            Some(upright.turned_back(self.turn, width, height))
        }

        fn bbox(&self, frame: u64) -> Option<BBox> {
            if !self.frames.contains(&frame) {
                return None;
            }
            let steps = (self.frames.end - self.frames.start - 1).max(1) as f32;
            let share = (frame - self.frames.start) as f32 / steps;
            let between = |a: f32, b: f32| a + (b - a) * share;
            Some(BBox {
                x1: between(self.from.x1, self.to.x1),
                y1: between(self.from.y1, self.to.y1),
                x2: between(self.from.x2, self.to.x2),
                y2: between(self.from.y2, self.to.y2),
            })
        }
    }

    /// Which face is where in which frame, as a perfect detector and embedder would see it,
    /// except in the `missed` frames, where the detector finds nothing. As CenterFace, the
    /// detector finds a face only in a picture turned the way that shows it upright, but where
    /// the whole upright frame `shows_lying` faces (as CenterFace now and then does, with
    /// landmarks that read them lying). What is `glimpsed` the small turned picture takes for a
    /// face, and no closer look does (fotb's hand at 79.75 s). The faces `small` (indices into
    /// `shown`) are too small for the turned picture's glance: only a close look finds them.
    #[derive(Default)]
    struct Script {
        shown: Vec<Shown>,
        missed: Vec<u64>,
        shows_lying: bool,
        glimpsed: Vec<Shown>,
        small: Vec<usize>,
    }

    impl Script {
        /// Every face shown at `time`, whatever its turn.
        fn faces(&self, time: f64) -> Vec<(Face, &Descriptor)> {
            let frame = (time * FPS).round() as u64;
            if self.missed.contains(&frame) {
                return Vec::new();
            }
            (self.shown.iter())
                .filter_map(|s| Some((s.face(frame)?, &s.descriptor)))
                .collect()
        }

        /// The faces shown at `time` that are upright in `turn`, as found in it.
        fn faces_turned(&self, time: f64, turn: Turn) -> Vec<Face> {
            (self.faces(time).into_iter())
                .map(|(face, _)| Face { turn, ..face })
                .filter(|face| Turn::of(face) == turn)
                .collect()
        }

        /// The faces upright in `turn` whose centre lies in `region`.
        fn faces_in(&self, time: f64, region: &BBox, turn: Turn) -> Vec<Face> {
            let inside = |f: &Face| {
                let (x, y) = ((f.bbox.x1 + f.bbox.x2) / 2.0, (f.bbox.y1 + f.bbox.y2) / 2.0);
                (region.x1..region.x2).contains(&x) && (region.y1..region.y2).contains(&y)
            };
            (self.faces_turned(time, turn).into_iter())
                .filter(inside)
                .collect()
        }
    }

    impl FaceFinder for Script {
        fn detect(&mut self, frame: &Frame) -> Result<Vec<Face>> {
            if self.shows_lying {
                return Ok(self.faces(frame.time).into_iter().map(|(f, _)| f).collect());
            }
            Ok(self.faces_turned(frame.time, Turn::Upright))
        }

        fn detect_turned(
            &mut self,
            frame: &Frame,
            mut upright: Vec<Face>,
            closely: bool,
        ) -> Result<Vec<Face>> {
            let frame_number = (frame.time * FPS).round() as u64;
            let glance_misses = |face: &Face| {
                (self.small.iter())
                    .any(|&s| self.shown[s].face(frame_number).map(|f| f.bbox) == Some(face.bbox))
            };
            for turn in Turn::QUARTERS {
                let faces = self.faces_turned(frame.time, turn).into_iter();
                for face in faces.filter(|face| closely || !glance_misses(face)) {
                    keep_one(&mut upright, face);
                }
            }
            for glimpse in &self.glimpsed {
                upright.extend(glimpse.face(frame_number).map(|f| Face {
                    turn: glimpse.turn,
                    ..f
                }));
            }
            Ok(upright)
        }

        fn detect_in(&mut self, frame: &Frame, region: &BBox, turn: Turn) -> Result<Vec<Face>> {
            Ok(self.faces_in(frame.time, region, turn))
        }

        fn detect_in_decoded(
            &mut self,
            frame: &RawFrame,
            region: &BBox,
            turn: Turn,
        ) -> Result<Vec<Face>> {
            Ok(self.faces_in(frame.time, region, turn))
        }

        fn embed(&mut self, frame: &Frame, faces: &[&Face]) -> Result<Vec<Descriptor>> {
            let shown = self.faces(frame.time);
            Ok((faces.iter())
                .map(|face| {
                    let (_, descriptor) = (shown.iter())
                        .find(|(f, _)| f.bbox == face.bbox)
                        .expect("only faces found are embedded");
                    (*descriptor).clone()
                })
                .collect())
        }
    }

    /// One person standing still in the decoded `frames`.
    fn one_face(frames: Range<u64>) -> Script {
        Script {
            shown: vec![Shown::still(frames, square(100.0, 60.0), 0)],
            ..Script::default()
        }
    }

    /// A cast far from every scripted person: no match is uncertain.
    struct NoCast;

    impl Nearest for NoCast {
        fn threshold(&self) -> f32 {
            0.6
        }

        fn nearest_distance(&self, _: &Descriptor) -> Option<f32> {
            None
        }
    }

    fn options() -> TrackOptions {
        TrackOptions {
            pictures: false,
            ..TrackOptions::default()
        }
    }

    /// Follows the script through decoded `frames` as the pipeline feeds one clip: every
    /// `stride`-th frame analysed, each with the decoded frames since the last full detection.
    fn clip(
        script: &mut Script,
        frames: Range<u64>,
        stride: u64,
        options: TrackOptions,
        after_cut: bool,
    ) -> Clip {
        let turned = |analysed: usize| analysed == 0;
        clip_turned(script, frames, stride, options, after_cut, turned)
    }

    /// [`clip`], with the frames `turned` says (by analysed frame, from 0) looked at turned.
    fn clip_turned(
        script: &mut Script,
        frames: Range<u64>,
        stride: u64,
        options: TrackOptions,
        after_cut: bool,
        turned: impl Fn(usize) -> bool,
    ) -> Clip {
        let mut tracker = ClipTracker::new(&NoCast, options, frames.start / stride, after_cut);
        let (mut window, mut since) = (Vec::new(), 0);
        let mut pending: Option<Frame> = None;
        for (analysed, index) in frames.clone().step_by(stride as usize).enumerate() {
            if let Some(mut last) = pending.take() {
                last.span = time(index) - last.time;
                tracker.step(script, &last).unwrap();
            }
            let full = options.full_detection(analysed as u64);
            pending = Some(Frame {
                seq: index / stride,
                time: time(index),
                span: 0.0,
                image: RgbImage::new(WIDTH, HEIGHT),
                full,
                turned: turned(analysed),
                before: if full {
                    std::mem::take(&mut window)
                } else {
                    window.clone()
                },
            });
            let decoded = index..(index + stride).min(frames.end);
            let raw = decoded.map(|i| Arc::new(RawFrame::blank(time(i), WIDTH, HEIGHT)));
            // A fully detected frame is searched no further back; its own picture is not kept.
            let raw: Vec<_> = raw.skip(usize::from(full)).collect();
            since = window.len() + usize::from(!full);
            window.extend(raw);
        }
        let mut last = pending.expect("at least one frame");
        last.span = time(frames.end) - last.time;
        tracker.step(script, &last).unwrap();
        tracker.finish(script, &window[since..]).unwrap()
    }

    /// Start and end of each piece, in seconds.
    fn spans(clip: &Clip) -> Vec<(f64, f64)> {
        clip.pieces.iter().map(|p| (p.start, p.end)).collect()
    }

    #[test]
    fn a_face_that_comes_and_goes_between_analysed_frames_is_timed_to_the_frame() {
        let mut script = one_face(23..37);
        let clip = clip(&mut script, 0..60, 5, options(), false);
        assert_eq!(spans(&clip), vec![(time(23), time(37))]);
        assert!(clip.stats.edge_detections > 0);
    }

    #[test]
    fn a_face_that_leaves_after_the_last_analysed_frame_ends_where_it_left() {
        let mut script = one_face(0..57);
        let clip = clip(&mut script, 0..60, 5, options(), false);
        assert_eq!(spans(&clip), vec![(0.0, time(57))]);
    }

    #[test]
    fn a_face_missed_for_one_analysed_frame_keeps_its_track() {
        let mut script = Script {
            missed: vec![25],
            ..one_face(0..60)
        };
        let clip = clip(&mut script, 0..60, 5, options(), false);
        assert_eq!(spans(&clip), vec![(0.0, time(60))]);
        assert!(clip.pieces[0].open_end);
    }

    #[test]
    fn two_faces_crossing_keep_their_tracks() {
        let mut script = Script {
            shown: vec![
                Shown::moving(0..60, square(20.0, 40.0), square(260.0, 40.0), 0),
                Shown::moving(0..60, square(260.0, 55.0), square(20.0, 55.0), 1),
            ],
            ..Script::default()
        };
        let options = TrackOptions {
            embed_every: 1,
            ..options()
        };
        // They pass at frame 30, a full detection: each face then overlaps the other's track
        // (IoU 0.38) almost as much as its own (0.49).
        let clip = clip(&mut script, 0..60, 5, options, false);
        assert_eq!(spans(&clip), vec![(0.0, time(60)); 2]);
        for (person, piece) in clip.pieces.iter().enumerate() {
            let samples = &piece.evidence.samples;
            assert_eq!(samples.len(), 12, "one embedding per analysed frame");
            assert!(samples.iter().all(|s| s.descriptor == along(person, 1.0)));
        }
    }

    #[test]
    fn someone_else_where_a_face_was_starts_a_new_track() {
        // The detector missed the cut: person 1 stands where person 0 stood.
        let place = square(100.0, 60.0);
        let mut script = Script {
            shown: vec![
                Shown::still(0..30, place, 0),
                Shown::still(30..60, place, 1),
            ],
            ..Script::default()
        };
        let options = TrackOptions {
            embed_every: 1,
            ..options()
        };
        let clip = clip(&mut script, 0..60, 5, options, false);
        let people: Vec<&Descriptor> = (clip.pieces.iter())
            .map(|p| &p.evidence.samples[0].descriptor)
            .collect();
        assert_eq!(people, vec![&along(0, 1.0), &along(1, 1.0)]);
        assert_eq!(clip.pieces[1].start, time(30));
        assert!(clip.pieces[0].end <= time(30));
    }

    #[test]
    fn a_cut_ends_every_track_and_clips_without_one_join() {
        let mut script = one_face(0..80);
        let tracks = |script: &mut Script, after_cut: bool| {
            let mut linker = Linker::new(NoCast.threshold());
            let mut done = linker.push(clip(script, 0..40, 5, options(), false));
            done.extend(linker.push(clip(script, 40..80, 5, options(), after_cut)));
            done.extend(linker.finish());
            let mut spans: Vec<(f64, f64)> = done.iter().map(|p| (p.start, p.end)).collect();
            spans.sort_by(|a, b| a.0.total_cmp(&b.0));
            spans
        };
        assert_eq!(tracks(&mut script, false), vec![(0.0, time(80))]);
        assert_eq!(
            tracks(&mut script, true),
            vec![(0.0, time(40)), (time(40), time(80))]
        );
    }

    /// One person lying on their side (upright in `turn`) in the decoded `frames`.
    fn lying(frames: Range<u64>, turn: Turn) -> Script {
        Script {
            shown: vec![Shown {
                turn,
                ..Shown::still(frames, square(100.0, 60.0), 0)
            }],
            ..Script::default()
        }
    }

    #[test]
    fn a_lying_face_found_turned_is_followed_and_timed_in_its_turn() {
        for turn in Turn::QUARTERS {
            // Found on the clip's first frame, the only one looked at turned; followed by
            // region detections in its turn, and its leaving placed by bisection in its turn.
            let mut script = lying(0..57, turn);
            let clip = clip(&mut script, 0..60, 5, options(), false);
            assert_eq!(spans(&clip), vec![(0.0, time(57))], "{turn:?}");
            // The clip's first frame, then, someone followed lying, every full detection.
            assert_eq!(clip.stats.turned_detections, clip.stats.full_detections);
            assert!(clip.stats.edge_detections > 0);
        }
    }

    #[test]
    fn every_clip_looks_turned_and_keeps_what_a_closer_look_confirms() {
        let mut script = lying(0..60, Turn::Clockwise);
        script
            .shown
            .push(Shown::still(0..60, square(200.0, 60.0), 1));
        script.glimpsed.push(Shown {
            turn: Turn::CounterClockwise,
            ..Shown::still(0..60, square(20.0, 60.0), 2)
        });
        // A clip within the shot, someone upright beside the lying face: both are found, and
        // what only the small turned picture shows is not (it would not be embedded).
        for after_cut in [false, true] {
            let clip = clip(&mut script, 10..20, 1, options(), after_cut);
            // The first frame, then every full detection: someone is followed lying.
            assert_eq!(clip.stats.turned_detections, clip.stats.full_detections);
            assert_eq!(spans(&clip), vec![(time(10), time(20)); 2]);
        }
    }

    #[test]
    fn a_face_lying_down_that_comes_where_nobody_is_upright_is_found_at_the_next_full_detection() {
        // Comes at frame 20, after the clip's first frame; the full detections are at frames
        // 0, 15, 30 and 45, and at 30 the upright frame shows nobody.
        let mut script = lying(20..60, Turn::Clockwise);
        let clip = clip(&mut script, 0..60, 5, options(), false);
        assert_eq!(spans(&clip), vec![(time(20), time(60))]);
    }

    #[test]
    fn while_someone_lies_a_small_face_lying_that_comes_is_found_by_a_close_look() {
        let mut script = lying(0..60, Turn::Clockwise);
        script.shown.push(Shown {
            turn: Turn::Clockwise,
            ..Shown::still(20..60, square(20.0, 60.0), 1)
        });
        script
            .shown
            .push(Shown::still(0..60, square(200.0, 60.0), 2));
        script.small = vec![1];
        // Someone upright all through: only the one followed lying has the turned frame looked
        // at after the first frame, and looked at closely enough to show the small face.
        let found = clip(&mut script, 0..60, 5, options(), false);
        let mut found = spans(&found);
        found.sort_by(|a, b| a.0.total_cmp(&b.0));
        assert_eq!(
            found,
            vec![(0.0, time(60)), (0.0, time(60)), (time(20), time(60))]
        );

        // Nobody followed lying: after the first frame's glance, the small face is not looked
        // for.
        script.shown.remove(0);
        script.small = vec![0];
        let found = clip(&mut script, 0..60, 5, options(), false);
        assert_eq!(spans(&found), vec![(0.0, time(60))]);
    }

    #[test]
    fn a_face_the_upright_frame_shows_lying_is_followed_in_its_turn() {
        for turn in Turn::QUARTERS {
            // The clip's first frame not looked at turned: found upright, it is only followed
            // where its turn is looked in (and, followed lying, the later full detections look
            // turned).
            let mut script = Script {
                shows_lying: true,
                ..lying(0..60, turn)
            };
            let clip = clip_turned(&mut script, 0..60, 5, options(), false, |_| false);
            assert_eq!(spans(&clip), vec![(0.0, time(60))], "{turn:?}");
            assert_eq!(clip.stats.turned_detections, clip.stats.full_detections - 1);
        }
    }

    #[test]
    fn edges_are_found_by_bisection_in_few_detections() {
        let frames: Vec<Arc<RawFrame>> = (0..15)
            .map(|i| Arc::new(RawFrame::blank(time(i), WIDTH, HEIGHT)))
            .collect();
        let place = square(100.0, 60.0);
        for edge in 0..=15 {
            let mut comes = Script {
                shown: vec![Shown::still(edge..100, place, 0)],
                ..Script::default()
            };
            let first = first_with(&mut comes, &frames, &place, Turn::Upright, true).unwrap();
            assert_eq!(first.time, frames.get(edge as usize).map(|f| f.time));
            assert!(first.detections <= 5, "{} detections", first.detections);

            let mut goes = Script {
                shown: vec![Shown::still(0..edge, place, 0)],
                ..Script::default()
            };
            let gone = first_with(&mut goes, &frames, &place, Turn::Upright, false).unwrap();
            assert_eq!(gone.time, frames.get(edge as usize).map(|f| f.time));
            assert!(gone.detections <= 5, "{} detections", gone.detections);
        }
    }
}
