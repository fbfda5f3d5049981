//! Identity: who a face is.
//!
//! In: a face's 128-D descriptor. Out: the closest cast member when they are at most
//! `threshold` away, otherwise a stable `unknown_N` label.
//!
//! A cast member's distance is the mean Euclidean distance to their [`CAST_NEIGHBOURS`] closest
//! photos (fewer if they have fewer): one photo that happens to resemble a stranger then no
//! longer decides alone. On the BBT test scenes a background extra came within 0.57 of one
//! actor's closest photo but 0.62 of his three closest, while every true match stayed below
//! 0.57 on three.
//!
//! Unknown faces are remembered as they come, in frame order: a new unknown face within the
//! threshold of one already seen gets that face's label, so the same stranger keeps the same
//! label across the video. Each unknown keeps a few varied descriptors (not every face) so
//! memory stays small however long the video is.

use crate::cast::Cast;
use crate::embed::{DESCRIPTOR_LEN, Descriptor, distance, squared_distance};

/// How many of a cast member's closest photos their distance averages.
pub const CAST_NEIGHBOURS: usize = 3;

/// Descriptors closer than this to one an unknown already has add nothing new.
const UNKNOWN_NOVELTY: f32 = 0.25;
const UNKNOWN_MAX_DESCRIPTORS: usize = 16;

/// Descriptors with the identity each belongs to, stored contiguously for a tight scan.
#[derive(Default)]
struct Gallery {
    descriptors: Vec<f32>,
    owners: Vec<usize>,
}

impl Gallery {
    fn push(&mut self, owner: usize, descriptor: &Descriptor) {
        self.descriptors.extend_from_slice(descriptor);
        self.owners.push(owner);
    }

    /// (owner, distance) of the closest descriptor, if any.
    fn nearest(&self, query: &Descriptor) -> Option<(usize, f32)> {
        self.descriptors
            .chunks_exact(DESCRIPTOR_LEN)
            .zip(&self.owners)
            .map(|(d, &owner)| (owner, squared_distance(d, query)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(owner, squared)| (owner, squared.sqrt()))
    }

    /// (owner, mean distance to the owner's [`CAST_NEIGHBOURS`] closest descriptors) of the
    /// closest owner. Each owner's descriptors must be stored together, as
    /// [`Identifier::new`] stores the cast's: the scan then needs no allocation per face, which
    /// matters with a cast of many thousands of photos.
    fn nearest_owner(&self, query: &Descriptor) -> Option<(usize, f32)> {
        let mut best: Option<(usize, f32)> = None;
        let mut descriptors = self.descriptors.chunks_exact(DESCRIPTOR_LEN);
        for run in self.owners.chunk_by(|a, b| a == b) {
            // The owner's closest distances so far, ascending.
            let mut closest = [f32::INFINITY; CAST_NEIGHBOURS];
            for d in descriptors.by_ref().take(run.len()) {
                let mut d = squared_distance(d, query).sqrt();
                for slot in &mut closest {
                    if d < *slot {
                        std::mem::swap(slot, &mut d);
                    }
                }
            }
            let n = run.len().min(CAST_NEIGHBOURS);
            let mean = closest[..n].iter().sum::<f32>() / n as f32;
            if best.is_none_or(|(_, b)| mean < b) {
                best = Some((run[0], mean));
            }
        }
        best
    }

    /// Distance from `query` to the closest descriptor of `owner`.
    fn nearest_of(&self, owner: usize, query: &Descriptor) -> f32 {
        self.descriptors
            .chunks_exact(DESCRIPTOR_LEN)
            .zip(&self.owners)
            .filter(|(_, o)| **o == owner)
            .map(|(d, _)| squared_distance(d, query))
            .fold(f32::INFINITY, f32::min)
            .sqrt()
    }
}

/// Every cast identity with its distance from `query`: the distance to that identity's closest
/// photo, nearest first (ties by name). For ranking lookalikes; [`Identifier`] decides who a face
/// is with the stricter mean over [`CAST_NEIGHBOURS`] photos.
pub fn ranked_identities<'a>(cast: &'a Cast, query: &Descriptor) -> Vec<(&'a str, f32)> {
    let mut nearest: Vec<(&str, f32)> = Vec::new();
    for face in &cast.faces {
        let d = distance(&face.descriptor, query);
        match nearest.iter_mut().find(|(name, _)| *name == face.name) {
            Some(entry) => entry.1 = entry.1.min(d),
            None => nearest.push((&face.name, d)),
        }
    }
    nearest.sort_by(|a, b| a.1.total_cmp(&b.1).then_with(|| a.0.cmp(b.0)));
    nearest
}

/// The answer for one face.
#[derive(Debug, Clone, PartialEq)]
pub struct Match {
    pub name: String,
    /// Mean distance to that identity's closest faces.
    pub distance: f32,
    pub known: bool,
}

pub struct Identifier {
    threshold: f32,
    cast_names: Vec<String>,
    cast: Gallery,
    unknowns: Gallery,
    unknown_count: usize,
}

impl Identifier {
    pub fn new(cast: &Cast, threshold: f32) -> Identifier {
        let cast_names: Vec<String> = cast.names().into_iter().map(String::from).collect();
        let mut faces: Vec<(usize, &Descriptor)> = cast
            .faces
            .iter()
            .map(|face| {
                let owner = cast_names
                    .binary_search(&face.name)
                    .expect("names come from the cast");
                (owner, &face.descriptor)
            })
            .collect();
        // Each actor's photos together, for Gallery::nearest_owner.
        faces.sort_by_key(|(owner, _)| *owner);
        let mut gallery = Gallery::default();
        for (owner, descriptor) in faces {
            gallery.push(owner, descriptor);
        }
        Identifier {
            threshold,
            cast_names,
            cast: gallery,
            unknowns: Gallery::default(),
            unknown_count: 0,
        }
    }

    /// Identifies one face. Call in frame order: unknown labels are numbered by first sight.
    pub fn identify(&mut self, descriptor: &Descriptor) -> Match {
        if let Some((owner, distance)) = self.cast.nearest_owner(descriptor)
            && distance <= self.threshold
        {
            return Match {
                name: self.cast_names[owner].clone(),
                distance,
                known: true,
            };
        }
        let (owner, distance) = match self.unknowns.nearest(descriptor) {
            Some((owner, distance)) if distance <= self.threshold => (owner, distance),
            _ => {
                self.unknown_count += 1;
                (self.unknown_count, 0.0)
            }
        };
        self.remember_unknown(owner, descriptor);
        Match {
            name: format!("unknown_{owner}"),
            distance,
            known: false,
        }
    }

    fn remember_unknown(&mut self, owner: usize, descriptor: &Descriptor) {
        let kept = self.unknowns.owners.iter().filter(|&&o| o == owner).count();
        if kept == 0
            || (kept < UNKNOWN_MAX_DESCRIPTORS
                && self.unknowns.nearest_of(owner, descriptor) > UNKNOWN_NOVELTY)
        {
            self.unknowns.push(owner, descriptor);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cast::CastFace;

    fn descriptor(direction: usize, length: f32) -> Descriptor {
        let mut d = [0.0; DESCRIPTOR_LEN];
        d[direction] = length;
        d
    }

    fn cast() -> Cast {
        let face = |name: &str, d| CastFace {
            name: name.into(),
            photo: format!("{name}.jpg"),
            descriptor: d,
        };
        Cast {
            faces: vec![
                face("ann", descriptor(0, 1.0)),
                face("bob", descriptor(1, 1.0)),
            ],
            warnings: vec![],
        }
    }

    #[test]
    fn nearest_cast_member_within_threshold() {
        let mut id = Identifier::new(&cast(), 0.6);
        let m = id.identify(&descriptor(0, 1.3));
        assert_eq!((m.name.as_str(), m.known), ("ann", true));
        assert!((m.distance - 0.3).abs() < 1e-6);
    }

    #[test]
    fn one_lookalike_photo_does_not_decide_alone() {
        // Three photos of ann; the query is 0.5 from one of them and 0.7 from the others.
        let photo = |d| CastFace {
            name: "ann".into(),
            photo: "ann.jpg".into(),
            descriptor: d,
        };
        let mut near = descriptor(0, 1.0);
        near[1] = 0.5;
        let mut far = descriptor(0, 1.0);
        far[1] = 0.7;
        let cast = Cast {
            faces: vec![photo(near), photo(far), photo(far)],
            warnings: vec![],
        };
        let m = Identifier::new(&cast, 0.6).identify(&descriptor(0, 1.0));
        assert_eq!((m.name.as_str(), m.known), ("unknown_1", false));
    }

    #[test]
    fn strangers_get_stable_labels_in_order_of_first_sight() {
        let mut id = Identifier::new(&cast(), 0.6);
        let names: Vec<String> = [(5, 1.0), (9, 1.0), (5, 1.2), (9, 0.9), (5, 1.0)]
            .iter()
            .map(|&(dir, len)| id.identify(&descriptor(dir, len)).name)
            .collect();
        assert_eq!(
            names,
            [
                "unknown_1",
                "unknown_2",
                "unknown_1",
                "unknown_2",
                "unknown_1"
            ]
        );
    }
}
