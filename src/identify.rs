//! Identity: who a face is.
//!
//! In: 128-D descriptors. Out: the closest cast member and their distance ([`Identifier`]), and
//! for faces that matched no one, groups of the same stranger ([`cluster_strangers`]).
//!
//! A cast member's distance is the mean Euclidean distance to their [`CAST_NEIGHBOURS`] closest
//! photos (fewer if they have fewer): one photo that happens to resemble a stranger then no
//! longer decides alone. On the BBT test scenes a background extra came within 0.57 of one
//! actor's closest photo but 0.62 of his three closest, while every true match stayed below
//! 0.57 on three.

use crate::cast::Cast;
use crate::embed::{DESCRIPTOR_LEN, Descriptor, distance, squared_distance};

/// How many of a cast member's closest photos their distance averages.
pub const CAST_NEIGHBOURS: usize = 3;

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

/// The closest cast member to a face, however far.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Match {
    /// Index into [`Identifier::actors`].
    pub actor: usize,
    /// Mean distance to that actor's closest photos.
    pub distance: f32,
}

/// The cast, ready for matching; read-only, so every worker thread can share one.
pub struct Identifier {
    threshold: f32,
    actors: Vec<String>,
    cast: Gallery,
}

impl Identifier {
    pub fn new(cast: &Cast, threshold: f32) -> Identifier {
        let actors: Vec<String> = cast.names().into_iter().map(String::from).collect();
        let mut faces: Vec<(usize, &Descriptor)> = cast
            .faces
            .iter()
            .map(|face| {
                let owner = actors
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
            actors,
            cast: gallery,
        }
    }

    /// Largest distance at which a face is taken for a cast member.
    pub fn threshold(&self) -> f32 {
        self.threshold
    }

    /// Actor names, sorted.
    pub fn actors(&self) -> &[String] {
        &self.actors
    }

    /// The closest cast member, or None for an empty cast.
    pub fn nearest(&self, descriptor: &Descriptor) -> Option<Match> {
        self.cast
            .nearest_owner(descriptor)
            .map(|(actor, distance)| Match { actor, distance })
    }
}

/// Groups faces of strangers (one descriptor each, e.g. a face track's mean) into people:
/// two are the same person when their descriptors are at most `threshold` apart, and so are
/// faces linked through others (single linkage). Returns each face's group number; groups are
/// numbered 0, 1, ... in the order of their first face, so callers that pass faces in order of
/// appearance get strangers numbered by first appearance.
pub fn cluster_strangers(faces: &[Descriptor], threshold: f32) -> Vec<usize> {
    let mut parent: Vec<usize> = (0..faces.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let limit = threshold * threshold;
    for i in 0..faces.len() {
        for j in 0..i {
            if squared_distance(&faces[i], &faces[j]) <= limit {
                let (a, b) = (root(&mut parent, i), root(&mut parent, j));
                // The earlier face stays the root, so a group's root is its first face.
                parent[a.max(b)] = a.min(b);
            }
        }
    }
    let mut numbers = vec![usize::MAX; faces.len()];
    let mut next = 0;
    (0..faces.len())
        .map(|i| {
            let r = root(&mut parent, i);
            if numbers[r] == usize::MAX {
                numbers[r] = next;
                next += 1;
            }
            numbers[r]
        })
        .collect()
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
    fn nearest_cast_member_and_its_distance() {
        let id = Identifier::new(&cast(), 0.6);
        let m = id.nearest(&descriptor(0, 1.3)).unwrap();
        assert_eq!(id.actors()[m.actor], "ann");
        assert!((m.distance - 0.3).abs() < 1e-6);
        // The nearest however far: a stranger is told by the distance.
        let stranger = id.nearest(&descriptor(5, 1.0)).unwrap();
        assert!(stranger.distance > id.threshold());
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
        let id = Identifier::new(&cast, 0.6);
        let m = id.nearest(&descriptor(0, 1.0)).unwrap();
        assert!((m.distance - 0.6333).abs() < 1e-3 && m.distance > id.threshold());
    }

    #[test]
    fn strangers_are_numbered_by_first_appearance() {
        let faces = [(5, 1.0), (9, 1.0), (5, 1.2), (9, 0.9), (7, 1.0), (5, 1.0)]
            .map(|(dir, len)| descriptor(dir, len));
        assert_eq!(cluster_strangers(&faces, 0.6), [0, 1, 0, 1, 2, 0]);
        // A chain of close faces is one person (single linkage), even when its ends are far.
        let chain = [1.0, 1.5, 2.0, 2.5].map(|len| descriptor(3, len));
        assert_eq!(cluster_strangers(&chain, 0.6), [0, 0, 0, 0]);
    }
}
