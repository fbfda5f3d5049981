//! Face tracks: one person's face followed through consecutive frames of one shot.
//!
//! In: clips, runs of consecutive analysed frames within one shot (the pipeline starts a new
//! clip at every shot cut, which [`crate::shots`] finds, and every [`CLIP_FRAMES`] frames, so that
//! clips can be tracked in parallel). Out: per clip, the [`Piece`]s of tracks in it, each with the
//! evidence of who it is; [`Linker`] joins pieces across clip boundaries (never across a cut)
//! into whole tracks.
//!
//! Following a face costs less than finding it. A full-frame detection runs on a clip's first
//! frame and then every `detect_every` frames, and is what finds new faces; in between, each
//! tracked face is looked for only in a small region around where it was last seen, at about a
//! tenth of the cost. A face is embedded when its track starts, then every `embed_every` frames,
//! and on every frame while its match is uncertain (within [`UNCERTAIN`] of the threshold). The
//! embedded faces are the track's evidence: who it is is decided from all of them once the whole
//! video is seen ([`crate::identify::decide`]). A track survives [`MAX_MISSES`] frames
//! without its face (a blink of blur or occlusion) and counts them as on screen; an embedding far
//! from the track's previous one means someone else took its place, and starts a new track.

use image::RgbImage;
use image::codecs::jpeg::JpegEncoder;
use image::imageops::{self, FilterType};
use serde::Serialize;

use crate::detect::{BBox, Face};
use crate::embed::{Descriptor, distance};
use crate::engine::Engine;
use crate::error::Result;
use crate::identify::Identifier;

/// Most analysed frames in one clip. Each clip re-finds and re-embeds its faces, which bounds
/// how far an early mistake can carry, and is the unit of parallel work. Half a clip is queued
/// per worker, so this also sets how many frames wait in memory: 8 against 16 took 1080p runs
/// from about 460 to 420 MB at the same speed (measured).
pub const CLIP_FRAMES: u64 = 8;
/// Analysed frames a track may go without its face and still continue.
pub const MAX_MISSES: u64 = 2;
/// A followed face is looked for in its last box grown this much about its centre...
const REGION_SCALE: f32 = 2.0;
/// ...with the region scaled down to at most this many pixels a side.
const REGION_SIDE: u32 = 160;
/// A face continues a track when its box overlaps the track's last box at least this much.
const FOLLOW_IOU: f32 = 0.3;
/// A match this close to the threshold, either side, is checked again on every frame.
pub const UNCERTAIN: f32 = 0.08;
/// Faces at least this wide (pixels) are sharp enough to embed at full weight.
const SHARP_WIDTH: f32 = 80.0;
/// Longest side of a kept face picture.
const PICTURE_SIDE: u32 = 200;

/// How faces are followed between frames.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TrackOptions {
    /// Run full-frame detection every this many analysed frames (1: every frame).
    pub detect_every: u64,
    /// Embed a tracked face every this many analysed frames (1: every frame).
    pub embed_every: u64,
    /// Keep each track's best face picture (for thumbnails and `screentime name`).
    pub pictures: bool,
}

impl Default for TrackOptions {
    fn default() -> Self {
        TrackOptions {
            detect_every: 3,
            embed_every: 8,
            pictures: true,
        }
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
}

/// A track's best face, as JPEG: small enough to keep one per track for a whole film.
#[derive(Debug, Clone)]
pub struct Picture {
    pub quality: f32,
    pub jpeg: Vec<u8>,
}

/// One embedded face of a track.
#[derive(Debug, Clone)]
pub struct Sample {
    /// Seconds from the start of the video.
    pub time: f64,
    pub bbox: BBox,
    /// How much to trust the face: detection score, less for faces too small to embed well.
    pub quality: f32,
    pub descriptor: Descriptor,
}

/// What a track's embedded faces say about who it is: the faces themselves, for the decision
/// once the whole video is seen ([`crate::identify::decide`]).
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    pub samples: Vec<Sample>,
    pub picture: Option<Picture>,
}

impl Evidence {
    fn add(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    fn first(&self) -> Option<&Descriptor> {
        self.samples.first().map(|s| &s.descriptor)
    }

    fn last(&self) -> Option<&Descriptor> {
        self.samples.last().map(|s| &s.descriptor)
    }

    fn merge(&mut self, later: Evidence) {
        self.samples.extend(later.samples);
        if later.picture.as_ref().map(|p| p.quality) > self.picture.as_ref().map(|p| p.quality) {
            self.picture = later.picture;
        }
    }
}

/// A track, or the part of one inside one clip.
#[derive(Debug, Clone)]
pub struct Piece {
    /// First and last analysed frame in which the face was found.
    pub first: u64,
    pub last: u64,
    /// Seconds: the first frame's time, and the end of the last frame's span.
    pub start: f64,
    pub end: f64,
    first_box: BBox,
    last_box: BBox,
    /// Still followed at the end of its clip, so the next clip may continue it.
    open_end: bool,
    pub evidence: Evidence,
}

impl Piece {
    fn join(mut self, later: Piece) -> Piece {
        self.last = later.last;
        self.end = later.end;
        self.last_box = later.last_box;
        self.open_end = later.open_end;
        self.evidence.merge(later.evidence);
        self
    }
}

/// Counts of the work done, for the report.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct TrackStats {
    pub full_detections: u64,
    pub region_detections: u64,
    pub faces_embedded: u64,
}

impl std::ops::AddAssign for TrackStats {
    fn add_assign(&mut self, other: TrackStats) {
        self.full_detections += other.full_detections;
        self.region_detections += other.region_detections;
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
    misses: u64,
    since_embedding: u64,
    uncertain: bool,
    /// Best face so far, as (quality, picture); encoded when the clip ends.
    best: Option<(f32, RgbImage)>,
}

/// Follows faces through one clip; one per clip, fed the clip's frames in order.
pub struct ClipTracker<'a> {
    identifier: &'a Identifier,
    options: TrackOptions,
    clip: Clip,
    live: Vec<Live>,
}

impl<'a> ClipTracker<'a> {
    pub fn new(
        identifier: &'a Identifier,
        options: TrackOptions,
        number: u64,
        after_cut: bool,
    ) -> ClipTracker<'a> {
        ClipTracker {
            identifier,
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
        let full = self
            .clip
            .frames
            .is_multiple_of(self.options.detect_every.max(1));
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
            let threshold = self.identifier.threshold();
            let mut track = track;
            if let (Some(i), Some(d)) = (track, &descriptor)
                && let Some(last) = self.live[i].piece.evidence.last()
                && distance(d, last) > threshold
            {
                // Someone else where the tracked face was (a cut the detector missed): that
                // track ends (unseen this frame, it passes MAX_MISSES below) and a new one starts.
                self.live[i].misses = MAX_MISSES;
                track = None;
            }
            let i = match track {
                Some(i) => {
                    seen[i] = true;
                    let live = &mut self.live[i];
                    live.piece.last = frame.seq;
                    live.piece.end = frame.time + frame.span;
                    live.piece.last_box = face.bbox;
                    live.misses = 0;
                    live.since_embedding += 1;
                    i
                }
                None => {
                    self.live.push(Live {
                        piece: Piece {
                            first: frame.seq,
                            last: frame.seq,
                            start: frame.time,
                            end: frame.time + frame.span,
                            first_box: face.bbox,
                            last_box: face.bbox,
                            open_end: false,
                            evidence: Evidence::default(),
                        },
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
                let nearest = self.identifier.nearest(&descriptor);
                live.uncertain =
                    nearest.is_some_and(|m| (m.distance - threshold).abs() < UNCERTAIN);
                live.since_embedding = 0;
                live.piece.evidence.add(Sample {
                    time: frame.time,
                    bbox: face.bbox,
                    quality,
                    descriptor,
                });
            }
            if self.options.pictures && live.best.as_ref().is_none_or(|(q, _)| quality > *q) {
                live.best = Some((quality, picture(image, &face.bbox)));
            }
        }
        for (live, seen) in self.live.iter_mut().zip(seen) {
            if !seen {
                live.misses += 1;
            }
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

    /// The clip's pieces, those still followed at its last frame marked open.
    pub fn finish(mut self) -> Clip {
        let live = std::mem::take(&mut self.live);
        self.clip
            .pieces
            .extend(live.into_iter().map(|l| finish(l, true)));
        self.clip.pieces.sort_by_key(|p| p.first);
        self.clip
    }
}

fn finish(mut live: Live, open_end: bool) -> Piece {
    live.piece.open_end = open_end;
    live.piece.evidence.picture = live.best.and_then(|(quality, image)| {
        let mut jpeg = Vec::new();
        // Encoding an in-memory RGB image has no failure but a bug; a track then has no picture.
        JpegEncoder::new_with_quality(&mut jpeg, 90)
            .encode_image(&image)
            .ok()
            .map(|()| Picture { quality, jpeg })
    });
    live.piece
}

/// How much to trust a face: its detection score, less for faces too small to embed well.
fn quality(face: &Face) -> f32 {
    face.score * (face.bbox.width() / SHARP_WIDTH).min(1.0)
}

/// The face with as much again around it, at most [`PICTURE_SIDE`] a side: framed like a
/// portrait, so it can serve as a cast photo.
fn picture(image: &RgbImage, bbox: &BBox) -> RgbImage {
    let (width, height) = image.dimensions();
    // A face found in the image overlaps it, so the crop is never empty.
    let (x, y, w, h) = bbox.scaled(2.0).pixels_within(width, height);
    let crop = imageops::crop_imm(image, x, y, w, h).to_image();
    let (w, h) = crop.dimensions();
    if w.max(h) <= PICTURE_SIDE {
        return crop;
    }
    let scale = PICTURE_SIDE as f32 / w.max(h) as f32;
    let size = |n: u32| ((n as f32 * scale).round() as u32).max(1);
    imageops::resize(&crop, size(w), size(h), FilterType::Triangle)
}

/// Joins clips' pieces into whole tracks. Clips must come in order.
pub struct Linker {
    threshold: f32,
    /// Pieces still followed at the end of the last clip.
    open: Vec<Piece>,
}

impl Linker {
    pub fn new(threshold: f32) -> Linker {
        Linker {
            threshold,
            open: Vec::new(),
        }
    }

    /// Takes the next clip's pieces; returns the tracks that are now complete.
    pub fn push(&mut self, clip: Clip) -> Vec<Piece> {
        let mut open: Vec<Option<Piece>> = std::mem::take(&mut self.open)
            .into_iter()
            .map(Some)
            .collect();
        let mut pieces = clip.pieces;
        let mut done = Vec::new();
        if !clip.after_cut {
            let mut pairs: Vec<(f32, usize, usize)> = Vec::new();
            for (o, before) in open.iter().enumerate() {
                let before = before.as_ref().expect("all open pieces are present here");
                for (p, after) in pieces.iter().enumerate() {
                    if let Some(score) = self.continues(before, after) {
                        pairs.push((score, o, p));
                    }
                }
            }
            pairs.sort_by(|a, b| b.0.total_cmp(&a.0));
            let mut continues: Vec<Option<Piece>> = vec![None; pieces.len()];
            for (_, o, p) in pairs {
                if continues[p].is_none() {
                    continues[p] = open[o].take();
                }
            }
            pieces = pieces
                .into_iter()
                .zip(continues)
                .map(|(after, before)| match before {
                    Some(before) => before.join(after),
                    None => after,
                })
                .collect();
        }
        done.extend(open.into_iter().flatten());
        for piece in pieces {
            if piece.open_end {
                self.open.push(piece);
            } else {
                done.push(piece);
            }
        }
        done
    }

    /// The tracks still open when the video ends.
    pub fn finish(self) -> Vec<Piece> {
        self.open
    }

    /// How well `after` continues `before` (higher is better), if it does at all: it starts
    /// within [`MAX_MISSES`] frames of its end, where it left off, with a face that matches.
    fn continues(&self, before: &Piece, after: &Piece) -> Option<f32> {
        let gap = after.first.checked_sub(before.last + 1)?;
        let iou = before.last_box.iou(&after.first_box);
        let same_face = match (before.evidence.last(), after.evidence.first()) {
            (Some(a), Some(b)) => distance(a, b) <= self.threshold,
            _ => true,
        };
        (gap <= MAX_MISSES && iou >= FOLLOW_IOU && same_face).then_some(iou)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(first: u64, last: u64, x: f32, open_end: bool) -> Piece {
        let bbox = BBox {
            x1: x,
            y1: 0.0,
            x2: x + 50.0,
            y2: 50.0,
        };
        Piece {
            first,
            last,
            start: first as f64,
            end: last as f64 + 1.0,
            first_box: bbox,
            last_box: bbox,
            open_end,
            evidence: Evidence::default(),
        }
    }

    fn clip(number: u64, after_cut: bool, pieces: Vec<Piece>) -> Clip {
        Clip {
            number,
            after_cut,
            frames: 16,
            seconds: 16.0,
            pieces,
            stats: TrackStats::default(),
        }
    }

    #[test]
    fn pieces_join_across_clips_but_not_across_cuts() {
        let mut linker = Linker::new(0.6);
        // Two faces followed to the end of clip 0; one ended inside it.
        let done = linker.push(clip(
            0,
            false,
            vec![
                piece(0, 15, 0.0, true),
                piece(3, 15, 200.0, true),
                piece(0, 5, 400.0, false),
            ],
        ));
        assert_eq!(done.len(), 1);
        // Clip 1 continues the face at x=0 (after a 1-frame miss) but not the one at x=200.
        let done = linker.push(clip(
            1,
            false,
            vec![piece(17, 31, 2.0, true), piece(16, 20, 300.0, false)],
        ));
        let spans: Vec<(u64, u64)> = done.iter().map(|p| (p.first, p.last)).collect();
        assert_eq!(spans, [(3, 15), (16, 20)]);
        // After a cut nothing continues, even in the same place.
        let done = linker.push(clip(2, true, vec![piece(32, 40, 2.0, false)]));
        let spans: Vec<(u64, u64)> = done.iter().map(|p| (p.first, p.last)).collect();
        assert_eq!(spans, [(0, 31), (32, 40)]);
        assert!(linker.finish().is_empty());
    }
}
