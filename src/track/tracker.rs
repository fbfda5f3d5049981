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

use std::sync::Arc;

use image::RgbImage;
use serde::Serialize;

use crate::error::Result;
use crate::face::detect::{BBox, Face};
use crate::face::embed::distance;
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
    /// The shot's decoded frames since its last full detection, in time order: where a face
    /// first found here may have come on screen, and where one followed so far may have left.
    pub before: Vec<Arc<RawFrame>>,
}

/// Counts of the work done, for the report.
#[derive(Debug, Clone, Copy, Default, Serialize, serde::Deserialize)]
pub struct TrackStats {
    pub full_detections: u64,
    pub region_detections: u64,
    /// Region detections on the frames between analysed ones, placing edges.
    pub edge_detections: u64,
    pub faces_embedded: u64,
}

impl std::ops::AddAssign for TrackStats {
    fn add_assign(&mut self, other: TrackStats) {
        self.full_detections += other.full_detections;
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

    pub fn step(&mut self, engine: &mut Engine, frame: &Frame) -> Result<()> {
        let full = frame.full;
        self.clip.frames += 1;
        self.clip.seconds += frame.span;
        let image = &frame.image;

        // Each face found, with the live track it continues (None: a new face).
        let found = if full {
            self.clip.stats.full_detections += 1;
            let faces = engine.detect(image)?;
            let (width, height) = image.dimensions();
            self.assign(
                faces
                    .into_iter()
                    .filter(|f| f.counts(width, height))
                    .collect(),
            )
        } else {
            let mut found: Vec<(Option<usize>, Face)> = Vec::new();
            for (i, live) in self.live.iter().enumerate() {
                self.clip.stats.region_detections += 1;
                let region = live.piece.last_box.scaled(REGION_SCALE);
                let best = engine
                    .detect_in(image, &region, REGION_SIDE)?
                    .into_iter()
                    .filter(|f| f.counts(image.width(), image.height()))
                    .map(|face| (live.piece.last_box.iou(&face.bbox), face))
                    .filter(|(iou, _)| *iou >= FOLLOW_IOU)
                    .max_by(|a, b| a.0.total_cmp(&b.0));
                // Two tracks that meet never take the same face.
                if let Some((_, face)) = best
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
        let to_embed = found.iter().zip(&due).filter(|(_, due)| **due);
        let mut descriptors = engine
            .embed(image, to_embed.map(|((_, face), _)| face))?
            .into_iter();

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
                    live.since_embedding += 1;
                    i
                }
                None => {
                    // Where the face came: not searched for a face that took another's place,
                    // whose frames before are the other face's.
                    let start = if replaced {
                        frame.time
                    } else {
                        let first = first_with(engine, &frame.before, &face.bbox, true)?;
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
                live.best = Some((quality, picture::crop(image, &face.bbox)));
            }
        }
        for (live, seen) in self.live.iter_mut().zip(seen) {
            if seen {
                continue;
            }
            if live.misses == 0 {
                let since = frame.before.partition_point(|f| f.time <= live.seen_at);
                let gone = first_with(engine, &frame.before[since..], &live.piece.last_box, false)?;
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
    pub fn finish(mut self, engine: &mut Engine, after: &[Arc<RawFrame>]) -> Result<Clip> {
        for live in &mut self.live {
            if live.misses == 0 {
                let gone = first_with(engine, after, &live.piece.last_box, false)?;
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

/// The time of the first of `frames` (in time order) from which on the face in `bbox` is there
/// (`present`) or gone (not `present`), by bisection; None where that is none of them.
fn first_with(
    engine: &mut Engine,
    frames: &[Arc<RawFrame>],
    bbox: &BBox,
    present: bool,
) -> Result<Edge> {
    let (mut before, mut from) = (0, frames.len());
    let mut detections = 0;
    // Most faces found on a clip's first frame were on screen all along (followed by the clip
    // before), and most followed to a clip's end stay: the end of `frames` that says so is
    // looked at first, which settles those at one detection.
    if let Some(probe) = (!frames.is_empty()).then(|| if present { 0 } else { frames.len() - 1 }) {
        detections += 1;
        let has = has_face(engine, &frames[probe], bbox)?;
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
        if has_face(engine, &frames[middle], bbox)? == present {
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
/// region around it, converted alone.
fn has_face(engine: &mut Engine, frame: &RawFrame, bbox: &BBox) -> Result<bool> {
    let (width, height) = frame.size();
    let (x, y, w, h) = bbox.scaled(REGION_SCALE).pixels_within(width, height);
    let region = frame.region_to_rgb((x, y, w, h))?;
    let whole = BBox {
        x1: 0.0,
        y1: 0.0,
        x2: w as f32,
        y2: h as f32,
    };
    Ok(engine
        .detect_in(&region, &whole, REGION_SIDE)?
        .into_iter()
        .map(|face| face.moved(x as f32, y as f32))
        .any(|f| f.counts(width, height) && bbox.iou(&f.bbox) >= FOLLOW_IOU))
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

/// How much to trust a face: its detection score, less for faces too small to embed well.
fn quality(face: &Face) -> f32 {
    face.score * (face.bbox.width() / SHARP_WIDTH).min(1.0)
}
