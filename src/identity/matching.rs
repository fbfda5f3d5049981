//! Identity: who a face is.
//!
//! In: face descriptors (all from one embedder). Out: the closest cast member and their distance
//! ([`Identifier`]); and, for a whole video's tracks, who each is ([`decide`]): the tracks
//! grouped into people ([`crate::identity::cluster::average_linkage`]), each person named from
//! the cast or numbered as a stranger.
//!
//! A cast member's distance is the mean Euclidean distance to their [`CAST_NEIGHBOURS`] closest
//! photos (fewer if they have fewer): a lookalike resembles one or two of an actor's photos, the
//! actor resembles them all. On the BBT test scenes (five photos per actor), with dlib's own
//! alignment, a background extra is 0.54 from one actor's closest photo, 0.58 on average over his
//! three closest and 0.61 over all five, while every true match's track averages at most 0.58
//! over five.

use crate::face::embed::{Descriptor, distance, squared_distance, to_unit_length};
use crate::face::model::EmbedderKind;
use crate::identity::cast::Cast;
use crate::identity::cluster::average_linkage;
use crate::track::Nearest;
use crate::track::evidence::Sample;

/// How many of a cast member's closest photos their distance averages.
pub const CAST_NEIGHBOURS: usize = 5;

/// Descriptors with the identity each belongs to, stored contiguously for a tight scan.
struct Gallery {
    descriptors: Vec<f32>,
    owners: Vec<usize>,
    /// Numbers per descriptor (the embedder's).
    len: usize,
}

impl Gallery {
    fn new(embedder: EmbedderKind) -> Gallery {
        Gallery {
            descriptors: Vec::new(),
            owners: Vec::new(),
            len: embedder.descriptor_len(),
        }
    }

    fn push(&mut self, owner: usize, descriptor: &Descriptor) {
        self.descriptors.extend_from_slice(descriptor);
        self.owners.push(owner);
    }

    /// Per owner, in owner order, the mean distance to its [`CAST_NEIGHBOURS`] closest
    /// descriptors (every owner has at least one).
    fn owner_distances(&self, query: &Descriptor) -> Vec<f32> {
        let mut descriptors = self.descriptors.chunks_exact(self.len);
        self.owners
            .chunk_by(|a, b| a == b)
            .map(|run| mean_of_closest(descriptors.by_ref().take(run.len()), query))
            .collect()
    }

    /// (owner, mean distance to the owner's [`CAST_NEIGHBOURS`] closest descriptors) of the
    /// closest owner. Each owner's descriptors must be stored together, as
    /// [`Identifier::new`] stores the cast's: the scan then needs no allocation per face, which
    /// matters with a cast of many thousands of photos.
    fn nearest_owner(&self, query: &Descriptor) -> Option<(usize, f32)> {
        let mut best: Option<(usize, f32)> = None;
        let mut descriptors = self.descriptors.chunks_exact(self.len);
        for run in self.owners.chunk_by(|a, b| a == b) {
            let mean = mean_of_closest(descriptors.by_ref().take(run.len()), query);
            if best.is_none_or(|(_, b)| mean < b) {
                best = Some((run[0], mean));
            }
        }
        best
    }
}

/// The mean distance from `query` to its [`CAST_NEIGHBOURS`] closest `descriptors` (fewer if
/// there are fewer; at least one).
fn mean_of_closest<'a>(descriptors: impl Iterator<Item = &'a [f32]>, query: &Descriptor) -> f32 {
    // The closest distances so far, ascending.
    let mut closest = [f32::INFINITY; CAST_NEIGHBOURS];
    let mut n = 0;
    for d in descriptors {
        let mut d = squared_distance(d, query).sqrt();
        n += 1;
        for slot in &mut closest {
            if d < *slot {
                std::mem::swap(slot, &mut d);
            }
        }
    }
    let n = n.clamp(1, CAST_NEIGHBOURS);
    closest[..n].iter().sum::<f32>() / n as f32
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
    embedder: EmbedderKind,
    actors: Vec<String>,
    cast: Gallery,
}

impl Identifier {
    pub fn new(cast: &Cast, threshold: f32, embedder: EmbedderKind) -> Identifier {
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
        let mut gallery = Gallery::new(embedder);
        for (owner, descriptor) in faces {
            gallery.push(owner, descriptor);
        }
        Identifier {
            threshold,
            embedder,
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

    /// The `top` closest cast members to a face, closest first, each with its distance.
    pub fn ranked(&self, descriptor: &Descriptor, top: usize) -> Vec<(String, f32)> {
        self.closest(&self.cast.owner_distances(descriptor), top)
    }

    /// The `top` smallest of per-actor `distances` (in [`Identifier::actors`] order), each with
    /// its actor's name, closest first.
    pub fn closest(&self, distances: &[f32], top: usize) -> Vec<(String, f32)> {
        let mut named: Vec<(String, f32)> = self
            .actors
            .iter()
            .cloned()
            .zip(distances.iter().copied())
            .collect();
        named.sort_by(|a, b| a.1.total_cmp(&b.1));
        named.truncate(top);
        named
    }

    /// The closest cast member, or None for an empty cast.
    pub fn nearest(&self, descriptor: &Descriptor) -> Option<Match> {
        self.cast
            .nearest_owner(descriptor)
            .map(|(actor, distance)| Match { actor, distance })
    }
}

impl Nearest for Identifier {
    fn threshold(&self) -> f32 {
        self.threshold
    }

    fn nearest_distance(&self, descriptor: &Descriptor) -> Option<f32> {
        self.nearest(descriptor).map(|m| m.distance)
    }
}

/// A finished face track, as the decision sees it.
pub struct TrackFaces<'a> {
    /// First and last analysed frame: tracks whose spans overlap were on screen together, so
    /// they are two people.
    pub first: u64,
    pub last: u64,
    pub samples: &'a [Sample],
}

/// Who a track is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Identity {
    /// An index into [`Identifier::actors`].
    Actor(usize),
    /// A person the cast does not know, numbered 0, 1, ... by first appearance.
    Stranger(usize),
}

/// The decision for one track, with what it rests on.
#[derive(Debug, Clone)]
pub struct Decision {
    pub identity: Identity,
    /// Per actor (as [`Identifier::actors`]), the track's distance: the quality-weighted mean
    /// of its faces' distances. Empty for a track without an embedded face.
    pub distances: Vec<f32>,
    /// The group its track was named with (tracks grouped within the embedder's within-video
    /// distance), numbered 0, 1, ... by first appearance. A group no name went to is one
    /// stranger, one `unknown_N`.
    pub group: usize,
    /// Why, in a few words: what a user reading `--debug-tracks` needs.
    pub reason: &'static str,
    /// Why it has its label: the other tracks of its group (indices into the tracks decided)
    /// with their distance from it, closest first; for a track alone, the closest other
    /// tracks, which stayed apart. At most [`NEIGHBOURS`].
    pub neighbours: Vec<(usize, f32)>,
}

/// Tracks listed per track in [`Decision::neighbours`].
pub const NEIGHBOURS: usize = 8;

impl Identifier {
    /// The track's distance to every actor: each face's distance (mean over the actor's
    /// closest photos) averaged over the faces, weighted by their quality. One blurred face
    /// moves the mean by its share only, and no face counts for more because its match looked
    /// clear: a face just inside the threshold is as much evidence as one just outside.
    fn track_distances(&self, samples: &[Sample]) -> Vec<f32> {
        let mut sums = vec![0.0f32; self.actors.len()];
        for sample in samples {
            for (sum, distance) in sums
                .iter_mut()
                .zip(self.cast.owner_distances(&sample.descriptor))
            {
                *sum += weight(sample) * distance;
            }
        }
        let weights = weight_of(samples);
        if weights == 0.0 {
            return Vec::new();
        }
        sums.iter().map(|s| s / weights).collect()
    }

    /// The actor `distances` (per actor) match clearly: within the threshold, and the
    /// embedder's margin closer than the runner-up.
    fn clear_match(&self, distances: &[f32]) -> Option<usize> {
        let (mut best, mut second) = (None, f32::INFINITY);
        for (actor, &d) in distances.iter().enumerate() {
            match best {
                Some((_, b)) if d >= b => second = second.min(d),
                _ => {
                    second = best.map_or(second, |(_, b)| b);
                    best = Some((actor, d));
                }
            }
        }
        let margin = self.embedder.thresholds().margin;
        best.filter(|&(_, d)| d <= self.threshold && second - d >= margin)
            .map(|(actor, _)| actor)
    }
}

impl Identifier {
    /// How clearly `faces` favour `actor` over `rival`: the quality-weighted mean, over the
    /// faces, of how much closer each is to `actor` than to `rival`, in standard errors
    /// ([`Identifier::in_errors`]). 0 where they do not favour `actor`.
    fn favour<'a>(
        &self,
        faces: impl Iterator<Item = &'a Sample>,
        actor: usize,
        rival: usize,
    ) -> f32 {
        self.in_errors(faces, |distances| distances[rival] - distances[actor])
    }

    /// How far beyond the threshold of `actor` `faces` lie: the quality-weighted mean of each
    /// face's distance to them less the threshold, in standard errors
    /// ([`Identifier::in_errors`]). 0 where they lie within it.
    fn beyond<'a>(&self, faces: impl Iterator<Item = &'a Sample>, actor: usize) -> f32 {
        let threshold = self.threshold;
        self.in_errors(faces, |distances| distances[actor] - threshold)
    }

    /// The quality-weighted mean over `faces` of `measure` (of each face's distances, per
    /// actor), in standard errors of that mean, the photos' own noise
    /// ([`Thresholds::photo_noise`]) added: more faces narrow the faces' share of the error,
    /// never the photos'. 0 where the mean is not above 0.
    ///
    /// [`Thresholds::photo_noise`]: crate::face::model::Thresholds::photo_noise
    fn in_errors<'a>(
        &self,
        faces: impl Iterator<Item = &'a Sample>,
        measure: impl Fn(&[f32]) -> f32,
    ) -> f32 {
        let (mut weights, mut squares, mut sum, mut sum_of_squares) = (0.0, 0.0, 0.0, 0.0);
        for face in faces {
            let value = f64::from(measure(&self.cast.owner_distances(&face.descriptor)));
            let w = f64::from(weight(face));
            weights += w;
            squares += w * w;
            sum += w * value;
            sum_of_squares += w * value * value;
        }
        let mean = sum / weights;
        if mean <= 0.0 {
            return 0.0;
        }
        let variance = (sum_of_squares / weights - mean * mean).max(0.0);
        // The effective number of faces of a weighted mean (Kish).
        let faces = weights * weights / squares;
        let photo_noise = f64::from(self.embedder.thresholds().photo_noise);
        (mean / (variance / faces + photo_noise * photo_noise).sqrt()) as f32
    }

    /// Whether `faces` favour `actor` by a standard error or more ([`Identifier::favour`]) over
    /// the runner-up who could be them: the closest by `distances` (per actor) of the others
    /// `could_be` allows. With no such runner-up, nothing stands against `actor`.
    fn favoured<'a>(
        &self,
        faces: impl Iterator<Item = &'a Sample>,
        distances: &[f32],
        actor: usize,
        could_be: impl Fn(usize) -> bool,
    ) -> bool {
        let rival = (0..self.actors.len())
            .filter(|&other| other != actor && could_be(other))
            .min_by(|&a, &b| distances[a].total_cmp(&distances[b]));
        rival.is_none_or(|rival| self.favour(faces, actor, rival) >= 1.0)
    }
}

/// How much a face counts: its quality, never nothing.
fn weight(sample: &Sample) -> f32 {
    sample.quality.max(f32::EPSILON)
}

fn weight_of(samples: &[Sample]) -> f32 {
    samples.iter().map(weight).sum()
}

/// Who each track is, once the whole video is seen: its tracks grouped into people first, then
/// the people named.
///
/// 1. Grouping: in one video a person's tracks lie closer to each other than to any photo
///    (same lighting, camera, make-up and age), so all tracks, named or not, are grouped by
///    average linkage ([`average_linkage`]) within the embedder's `same_video` distance. Two
///    tracks never share a group when they were on screen at the same time, when either has no
///    embedded face, or when each clearly matches a different cast member ([`Thresholds`]:
///    within the threshold and the margin ahead of the runner-up): a group is never a blend of
///    two actors.
/// 2. Naming: a group's distance to an actor is the quality-weighted mean over all its faces. A
///    group holding clear matches is named after them (one actor, by 1.), unless its faces all
///    together lie beyond that actor's threshold by a standard error or more (the faces' spread
///    and the photos' noise, as in 5.): then it is named as a group holding no clear match
///    would be, and its clear tracks keep the name on their own (3.). A clear match can be one
///    small face among a stranger's many: on `snape` with the GRID cast (`--stride 1`), a
///    child's 0.07 s shot, 0.599 from a GRID speaker, named his 1.2 s whose faces lie 0.65 from
///    that speaker. The groups the development clips name rightly by a clear match lie within
///    the threshold on average, or beyond it by under an error (jessica's two wide shots in
///    fotb, ArcFace `--stride 1`: 1.242 against 1.24). Any other group can be any actor within
///    the threshold of it. Names go out closest group first, and two groups on screen at the
///    same time are two people: a group whose closest actor is taken by a closer group at the
///    same time gets its next candidate in turn.
/// 3. A track matching an actor clearly keeps that name when its group got another or none
///    (its group was kept from that actor by a closer group elsewhere on screen, or its faces
///    lie beyond them, 2.) and no track of that actor is on screen with it. A track that
///    matches an actor within the threshold but not clearly follows its group: on fotb every
///    such track dlib names after the wrong sibling leads by at most 0.059, and its group's
///    faces say who it is. Unless its group was named after its second choice: then it takes
///    its own closest actor where that one is free.
/// 4. The video's word against a weak name: a group named only because its faces lie closest to
///    an actor's photos (within the threshold, not clearly) is compared, by average linkage,
///    with the groups named clearly after each actor and not on screen with it. Where another
///    actor's are closer than its photos' actor's by half the embedder's margin, it takes that
///    actor (within the threshold of its faces and free at its times), else it is a stranger.
///    On fotb with dlib, two shots of jessica (0.52 and 0.55 from eddie's photo, 0.58-0.60 from
///    hers) were eddie's; the video puts them 0.08 and 0.09 closer to jessica's clear groups.
///    Of the eleven weak names on fotb and snape_named (both modes), the right ones are at most
///    0.003 further from their actor's clear groups than from another's (ron, 0.451 against
///    harry's 0.448), so half the margin (0.05 with dlib) lies between. Where the video never
///    shows the actor clearly it has nothing to say, and the photos decide. A group named
///    after its second choice that the video contradicts still lets each of its tracks take its
///    own closest actor where free, as in 3. (fotb with the fp32 detector: without that, a
///    1.3 s shot of evan, 0.49 from his photo alone, was a stranger with an earlier track 0.60
///    from him; evan's recall 87% against 92%).
/// 5. A weak name must be favoured by its faces: over the group's faces, the quality-weighted
///    mean of how much closer each is to the actor than to the runner-up who could be it (not
///    on screen with it as someone else) must be at least its standard error, or the group is
///    a stranger. The error counts the faces' spread and the photos' own noise (how far a lead
///    moves when the photos are rescaled or cropped a little), which no number of faces
///    averages away. A man of the Pexels clips, 0.548 from eddie's photo and 0.550 from
///    evan's, was eddie's at every pass of the 90-minute benchmark (140 s): over his 700
///    faces the lead of 0.0017 is 3 standard errors of the faces' spread alone, 0.2 with the
///    photos' noise. The weak names the development clips get right lead by 0.018 or more
///    and 1.4 errors or more (Ron in snape_named, 0.018 ahead of Harry over 14 faces).
/// 6. A group no cast member is near speaks for its tracks only weakly too: a track whose faces
///    tell who it is can be grouped with ones whose faces tell little (a face turned half
///    away, a small soft one) and the group's mean then lies beyond the threshold of everyone.
///    Where no rule above made it a stranger, each of its tracks takes the cast member its own
///    faces are closest to where within the threshold, favoured over the runner-up who could
///    be them (as in 5.) and free at its times: the name it would get alone. On fotb_soft (the
///    soft transfer, default mode) grandma's 50 px wide shot at 38 s, 0.563 from her photo and
///    5 errors ahead of evan, was a stranger with her near-profile at 1 s (0.67 and more from
///    everyone; 0.43 apart); now hers (her recall 84.6% to 98.2%). Of the tracks in such groups
///    within the threshold of someone on every development clip, in both modes and with both
///    embedders, it names that one and a 0.08 s one of emery in fotb_turned (ArcFace,
///    `--stride 1`); it leaves strangers the blurred boy behind ron and the blurred man beside
///    him in snape_named (0.57-0.59 from ron, who is on screen with them) and evan's 30 px wide
///    shot in fotb_soft (0.585 from him, 0.6 errors ahead of emery).
///
/// A group left without a name is a stranger, numbered by first appearance: one label per
/// group, so a label never holds two people the grouping kept apart. Grouping strangers again
/// within the wider cast threshold (0.6 with dlib) put two of `snape`'s children under one
/// label (three with `--stride 1`): the photo is not what makes a stranger's grouping safe.
///
/// [`Thresholds`]: crate::face::model::Thresholds
pub fn decide(identifier: &Identifier, tracks: &[TrackFaces]) -> Vec<Decision> {
    let threshold = identifier.threshold;
    let distances: Vec<Vec<f32>> = tracks
        .iter()
        .map(|t| identifier.track_distances(t.samples))
        .collect();
    let descriptors: Vec<Descriptor> = tracks
        .iter()
        .map(|t| mean_descriptor(t.samples, identifier))
        .collect();
    let clear: Vec<Option<usize>> = distances
        .iter()
        .map(|ds| identifier.clear_match(ds))
        .collect();
    let overlap =
        |a: usize, b: usize| tracks[a].first <= tracks[b].last && tracks[b].first <= tracks[a].last;
    // Whether any track of `a` is on screen at the same time as any of `b`.
    let together = |a: &[usize], b: &[usize]| a.iter().any(|&t| b.iter().any(|&u| overlap(t, u)));
    let refs: Vec<&[f32]> = descriptors.iter().map(Vec::as_slice).collect();
    let groups = average_linkage(
        &refs,
        identifier.embedder.thresholds().same_video,
        |i, j| {
            overlap(i, j)
                || distances[i].is_empty()
                || distances[j].is_empty()
                || matches!((clear[i], clear[j]), (Some(a), Some(b)) if a != b)
        },
    );
    let mut members: Vec<Vec<usize>> = Vec::new();
    for (track, &group) in groups.iter().enumerate() {
        if group == members.len() {
            members.push(Vec::new());
        }
        members[group].push(track);
    }

    // Per group, per actor: the quality-weighted mean over all its faces.
    let pooled: Vec<Vec<f32>> = members
        .iter()
        .map(|tracks_of| {
            let total: f32 = tracks_of
                .iter()
                .map(|&t| weight_of(tracks[t].samples))
                .sum();
            if total == 0.0 {
                return Vec::new();
            }
            (0..identifier.actors.len())
                .map(|actor| {
                    (tracks_of.iter())
                        .filter(|&&t| !distances[t].is_empty())
                        .map(|&t| weight_of(tracks[t].samples) * distances[t][actor])
                        .sum::<f32>()
                        / total
                })
                .collect()
        })
        .collect();
    // A group whose faces, all together, lie beyond the threshold of the actor its clear
    // matches name by a standard error or more is not theirs (2. above): it is named as a group
    // holding no clear match would be, and its clear tracks speak for themselves only.
    let clear_in_group: Vec<Option<usize>> = members
        .iter()
        .map(|tracks_of| tracks_of.iter().find_map(|&t| clear[t]))
        .collect();
    let outvoted: Vec<bool> = (members.iter().zip(&clear_in_group))
        .map(|(tracks_of, clear)| {
            clear.is_some_and(|actor| {
                let faces = tracks_of.iter().flat_map(|&t| tracks[t].samples);
                identifier.beyond(faces, actor) >= 1.0
            })
        })
        .collect();
    let clear_of_group: Vec<Option<usize>> = (clear_in_group.iter().zip(&outvoted))
        .map(|(clear, &outvoted)| clear.filter(|_| !outvoted))
        .collect();
    let mut pairs: Vec<(f32, usize, usize)> = pooled
        .iter()
        .enumerate()
        .flat_map(|(group, ds)| {
            ds.iter()
                .enumerate()
                .map(move |(actor, &d)| (d, group, actor))
        })
        .filter(|&(d, group, actor)| match clear_of_group[group] {
            Some(clear) => clear == actor,
            None => d <= threshold,
        })
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut named: Vec<Option<(usize, &'static str)>> = vec![None; members.len()];
    // Per actor, the tracks named after them so far.
    let mut named_after: Vec<Vec<usize>> = vec![Vec::new(); identifier.actors.len()];
    // Groups named after a candidate other than their closest: the closest was on screen with
    // one of their tracks elsewhere.
    let mut second_choice = vec![false; members.len()];
    for (_, group, actor) in pairs {
        if named[group].is_some() {
            continue;
        }
        if together(&members[group], &named_after[actor]) {
            continue;
        }
        named_after[actor].extend(&members[group]);
        let closest = closest_within(&pooled[group], f32::INFINITY) == Some(actor);
        second_choice[group] = clear_of_group[group].is_none() && !closest;
        named[group] = Some((
            actor,
            if clear_of_group[group].is_some() {
                "its group holds tracks that match this cast member clearly"
            } else if closest {
                "its group's faces are closest to this cast member, within the threshold"
            } else {
                "closer cast members were on screen at the same time in closer-matching groups"
            },
        ));
    }

    // The video's word against a weak name (4. above).
    let video_margin = identifier.embedder.thresholds().margin / 2.0;
    let clearly_named: Vec<Vec<usize>> = (0..identifier.actors.len())
        .map(|actor| {
            (0..members.len())
                .filter(|&g| clear_of_group[g] == Some(actor) && named[g].is_some())
                .collect()
        })
        .collect();
    let mut contradicted = vec![false; members.len()];
    for group in 0..members.len() {
        let Some((actor, _)) = named[group] else {
            continue;
        };
        if clear_of_group[group].is_some() {
            continue;
        }
        let video: Vec<f32> = clearly_named
            .iter()
            .map(|groups| {
                (groups.iter())
                    .filter(|&&other| !together(&members[group], &members[other]))
                    .map(|&other| mean_distance(&members[group], &members[other], &refs))
                    .fold(f32::INFINITY, f32::min)
            })
            .collect();
        let Some(favoured) = (0..video.len())
            .filter(|&other| other != actor)
            .min_by(|&a, &b| video[a].total_cmp(&video[b]))
        else {
            continue;
        };
        if !(video[actor].is_finite() && video[favoured] + video_margin < video[actor]) {
            continue;
        }
        contradicted[group] = true;
        named_after[actor].retain(|t| !members[group].contains(t));
        let free = !together(&members[group], &named_after[favoured]);
        named[group] = (free && pooled[group][favoured] <= threshold).then(|| {
            named_after[favoured].extend(&members[group]);
            (
                favoured,
                "its faces are within the threshold of this cast member and clearly closer to \
                 their faces elsewhere in the video than to those of its photos' closest",
            )
        });
    }

    // A weak name needs its faces to favour it over the runner-up who could be it (5. above).
    let mut undecided = vec![false; members.len()];
    for group in 0..members.len() {
        let Some((actor, _)) = named[group] else {
            continue;
        };
        if clear_of_group[group].is_some() || contradicted[group] {
            continue;
        }
        let free = |other: usize| !together(&members[group], &named_after[other]);
        let faces = members[group].iter().flat_map(|&t| tracks[t].samples);
        if !identifier.favoured(faces, &pooled[group], actor, free) {
            undecided[group] = true;
            named[group] = None;
            named_after[actor].retain(|t| !members[group].contains(t));
            second_choice[group] = false;
        }
    }

    // Per track: an actor and why, or its stranger group (numbered below).
    let mut who: Vec<Result<(usize, &'static str), usize>> =
        groups.iter().map(|&g| named[g].ok_or(g)).collect();
    // A group named after its second choice speaks for its tracks only weakly: a conflict of one
    // of its tracks moved all of them (fotb with the fp32 detector: a 1.3 s shot of evan, 0.49
    // from him alone, named eddie with the earlier shot it was grouped with). Each of its
    // tracks takes the closest cast member within the threshold of its own faces where that one
    // is free, as a track alone would (6. above for a group no cast member is near).
    let free = |track: usize, actor: usize, named_after: &[Vec<usize>]| {
        !together(&[track], &named_after[actor])
    };
    for track in 0..tracks.len() {
        let group = groups[track];
        let own = if let Some(actor) = clear[track] {
            Some((
                actor,
                if outvoted[group] {
                    "matches this cast member clearly on its own; its group's faces lie beyond \
                     the threshold of them"
                } else {
                    "matches this cast member clearly on its own; its group was kept from them"
                },
            ))
        } else if second_choice[group] {
            closest_within(&distances[track], threshold).map(|actor| {
                (
                    actor,
                    "closest to this cast member on its own; its group's closest was on screen elsewhere",
                )
            })
        } else if named[group].is_none()
            && clear_of_group[group].is_none()
            && !undecided[group]
            && !contradicted[group]
        {
            closest_within(&distances[track], threshold)
                .filter(|&actor| {
                    identifier.favoured(
                        tracks[track].samples.iter(),
                        &distances[track],
                        actor,
                        |other| free(track, other, &named_after),
                    )
                })
                .map(|actor| {
                    (
                        actor,
                        "its own faces are within the threshold of this cast member and favour \
                         them; its group's are near no one",
                    )
                })
        } else {
            None
        };
        let Some((actor, reason)) = own else { continue };
        if who[track].is_ok_and(|(a, _)| a == actor) || !free(track, actor, &named_after) {
            continue;
        }
        named_after[actor].push(track);
        who[track] = Ok((actor, reason));
    }
    // The groups no name went to are the strangers, numbered by first appearance (groups are
    // numbered so already).
    let mut stranger_of_group: Vec<Option<usize>> = vec![None; members.len()];
    let mut strangers = 0;
    for decided in &who {
        if let Err(group) = *decided
            && stranger_of_group[group].is_none()
        {
            stranger_of_group[group] = Some(strangers);
            strangers += 1;
        }
    }
    (0..tracks.len())
        .map(|track| {
            let (identity, reason) = match who[track] {
                Ok((actor, reason)) => (Identity::Actor(actor), reason),
                Err(group) => {
                    let number = stranger_of_group[group].expect("numbered above");
                    (
                        Identity::Stranger(number),
                        if distances[track].is_empty() {
                            "no face embedded"
                        } else if outvoted[group] {
                            "its group's faces lie beyond the threshold of the cast member some of \
                             its tracks match clearly"
                        } else if undecided[group] {
                            "its faces lie about as close to two cast members who could be it"
                        } else if contradicted[group] {
                            "its photos' closest cast member is further from it in the video than \
                             another, who was on screen with it or is beyond the threshold"
                        } else if clear_of_group[group].is_some() {
                            "the cast member its group matches clearly was on screen with it"
                        } else {
                            "no cast member within the threshold of its group"
                        },
                    )
                }
            };
            Decision {
                identity,
                group: groups[track],
                reason,
                neighbours: if distances[track].is_empty() {
                    Vec::new()
                } else {
                    neighbours(track, &members[groups[track]], &refs)
                },
                distances: distances[track].clone(),
            }
        })
        .collect()
}

/// The mean distance between the tracks of two groups (average linkage).
fn mean_distance(a: &[usize], b: &[usize], descriptors: &[&[f32]]) -> f32 {
    let sum: f32 = (a.iter())
        .flat_map(|&t| {
            b.iter()
                .map(move |&u| distance(descriptors[t], descriptors[u]))
        })
        .sum();
    sum / (a.len() * b.len()) as f32
}

/// The actor closest in `distances` (per actor), where within `threshold`.
fn closest_within(distances: &[f32], threshold: f32) -> Option<usize> {
    (distances.iter().copied().enumerate())
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .filter(|&(_, d)| d <= threshold)
        .map(|(actor, _)| actor)
}

/// The other tracks of `track`'s group with their distances, closest first; for a track alone,
/// the closest of all; at most [`NEIGHBOURS`].
fn neighbours(track: usize, group: &[usize], descriptors: &[&[f32]]) -> Vec<(usize, f32)> {
    let others: Box<dyn Iterator<Item = usize>> = if group.len() > 1 {
        Box::new(group.iter().copied())
    } else {
        Box::new(0..descriptors.len())
    };
    let mut near: Vec<(usize, f32)> = others
        .filter(|&other| other != track)
        .map(|other| (other, distance(descriptors[track], descriptors[other])))
        .collect();
    let closer = |a: &(usize, f32), b: &(usize, f32)| a.1.total_cmp(&b.1);
    // Only the few closest sorted: a film has thousands of tracks, many of them alone.
    if near.len() > NEIGHBOURS {
        near.select_nth_unstable_by(NEIGHBOURS, closer);
        near.truncate(NEIGHBOURS);
    }
    near.sort_by(closer);
    near
}

/// The quality-weighted mean of embedded faces' descriptors: a track's (what strangers are
/// grouped by), or an identity's (what `search --photo` matches a photo against). Scaled back to
/// unit length for an embedder whose descriptors are: on the GRID montages two ArcFace
/// strangers' means were 1.23 apart unscaled, within the threshold, and 1.27 scaled. All zeros
/// (far from every face) for no faces.
pub fn mean_descriptor<'a>(
    samples: impl IntoIterator<Item = &'a Sample> + Clone,
    identifier: &Identifier,
) -> Descriptor {
    let mut mean = vec![0.0f32; identifier.embedder.descriptor_len()];
    let total: f32 = (samples.clone().into_iter())
        .map(|s| s.quality.max(f32::EPSILON))
        .sum();
    for sample in samples {
        let weight = sample.quality.max(f32::EPSILON) / total;
        for (m, d) in mean.iter_mut().zip(&sample.descriptor) {
            *m += weight * d;
        }
    }
    if identifier.embedder.unit_length() {
        to_unit_length(&mut mean);
    }
    mean
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::face::embed::along as descriptor;
    use crate::identity::cast::CastFace;

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
        let id = Identifier::new(&cast(), 0.6, EmbedderKind::Dlib);
        let m = id.nearest(&descriptor(0, 1.3)).unwrap();
        assert_eq!(id.actors()[m.actor], "ann");
        assert!((m.distance - 0.3).abs() < 1e-6);
        // The nearest however far: a stranger is told by the distance.
        let stranger = id.nearest(&descriptor(5, 1.0)).unwrap();
        assert!(stranger.distance > id.threshold());
    }

    #[test]
    fn one_lookalike_photo_does_not_decide_alone() {
        // Three photos of ann (fewer than CAST_NEIGHBOURS: all count); the query is 0.5 from
        // one of them and 0.7 from the others.
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
            faces: vec![photo(near), photo(far.clone()), photo(far)],
            warnings: vec![],
        };
        let id = Identifier::new(&cast, 0.6, EmbedderKind::Dlib);
        let m = id.nearest(&descriptor(0, 1.0)).unwrap();
        assert!((m.distance - 0.6333).abs() < 1e-3 && m.distance > id.threshold());
    }

    fn sample(d: Descriptor) -> Sample {
        Sample {
            time: 0.0,
            bbox: crate::face::detect::BBox {
                x1: 0.0,
                y1: 0.0,
                x2: 1.0,
                y2: 1.0,
            },
            quality: 1.0,
            descriptor: d,
        }
    }

    #[test]
    fn two_tracks_at_once_are_two_people_and_the_closer_keeps_the_name() {
        let id = Identifier::new(&cast(), 0.8, EmbedderKind::Dlib);
        // Both near ann (0.1 and 0.67 away); the second also within reach of bob (0.74).
        let mut second = descriptor(0, 0.55);
        second[1] = 0.5;
        let first = [sample(descriptor(0, 1.1))];
        let second = [sample(second)];
        let track = |samples, first, last| TrackFaces {
            first,
            last,
            samples,
        };
        let together = decide(&id, &[track(&first, 0, 10), track(&second, 5, 15)]);
        let who: Vec<Identity> = together.iter().map(|d| d.identity).collect();
        assert_eq!(who, [Identity::Actor(0), Identity::Actor(1)]);
        // Apart in time, both are ann.
        let apart = decide(&id, &[track(&first, 0, 10), track(&second, 20, 30)]);
        let who: Vec<Identity> = apart.iter().map(|d| d.identity).collect();
        assert_eq!(who, [Identity::Actor(0), Identity::Actor(0)]);
        // A track near nobody is a stranger.
        let far = [sample(descriptor(7, 1.0))];
        let alone = decide(&id, &[track(&far, 0, 10)]);
        assert_eq!(alone[0].identity, Identity::Stranger(0));
    }

    /// A descriptor with these first coordinates, the rest 0.
    fn at(coordinates: &[f32]) -> Descriptor {
        let mut d = descriptor(0, 0.0);
        d[..coordinates.len()].copy_from_slice(coordinates);
        d
    }

    /// Decides tracks of one face each, (descriptor, first frame, last frame), with ann's photo
    /// at `ann` and bob's at `bob`.
    fn decide_tracks(
        ann: Descriptor,
        bob: Descriptor,
        tracks: &[(Descriptor, u64, u64)],
    ) -> Vec<Decision> {
        let cast = Cast {
            faces: [("ann", ann), ("bob", bob)]
                .map(|(name, d)| CastFace {
                    name: name.into(),
                    photo: format!("{name}.jpg"),
                    descriptor: d,
                })
                .to_vec(),
            warnings: vec![],
        };
        let id = Identifier::new(&cast, 0.6, EmbedderKind::Dlib);
        let samples: Vec<[Sample; 1]> = tracks.iter().map(|t| [sample(t.0.clone())]).collect();
        let faces: Vec<TrackFaces> = (tracks.iter().zip(&samples))
            .map(|(t, samples)| TrackFaces {
                first: t.1,
                last: t.2,
                samples,
            })
            .collect();
        decide(&id, &faces)
    }

    fn identities(decisions: &[Decision]) -> Vec<Identity> {
        decisions.iter().map(|d| d.identity).collect()
    }

    #[test]
    fn a_person_far_from_their_photo_is_named_by_their_own_closer_tracks() {
        // A wide shot 0.65 from ann's photo (beyond the threshold) but 0.35 from a close-up
        // 0.3 from it: one person, ann. The same wide shot alone is a stranger.
        let (close_up, wide) = (descriptor(0, 1.3), descriptor(0, 1.65));
        let both = decide_tracks(
            descriptor(0, 1.0),
            descriptor(1, 1.0),
            &[(close_up, 0, 9), (wide.clone(), 20, 29)],
        );
        assert_eq!(identities(&both), [Identity::Actor(0), Identity::Actor(0)]);
        assert_eq!(both[0].group, both[1].group);
        assert_eq!(both[1].neighbours.len(), 1);
        assert!((both[1].neighbours[0].1 - 0.35).abs() < 1e-5);
        let alone = decide_tracks(descriptor(0, 1.0), descriptor(1, 1.0), &[(wide, 20, 29)]);
        assert_eq!(identities(&alone), [Identity::Stranger(0)]);
    }

    #[test]
    fn a_weak_match_follows_its_group_and_clear_matches_of_two_actors_never_share_one() {
        // Photos 0.5 apart. Track 0 is clearly ann (0.32 from her, 0.67 from bob); track 1 is
        // 0.39 from track 0 and, alone, bob's by 0.045 (0.31 against 0.36): not clear, so it
        // goes with its group, ann.
        let (ann, bob) = (at(&[1.0, 0.0]), at(&[1.0, 0.5]));
        let weak = decide_tracks(
            ann.clone(),
            bob.clone(),
            &[(at(&[1.3, -0.1]), 0, 9), (at(&[1.22, 0.28]), 20, 29)],
        );
        assert_eq!(identities(&weak), [Identity::Actor(0), Identity::Actor(0)]);
        // Photos 0.3 apart, a track on each (clear: 0.3 ahead of the other) and one between
        // them, at other times: the tracks on the photos are 0.3 apart, within the same-video
        // distance, yet never one person; the one between joins one of them.
        let (ann, bob) = (at(&[1.0, 0.0]), at(&[1.0, 0.3]));
        let split = decide_tracks(
            ann.clone(),
            bob.clone(),
            &[(ann, 0, 9), (bob, 20, 29), (at(&[1.0, 0.14]), 40, 49)],
        );
        assert_eq!(split[0].identity, Identity::Actor(0));
        assert_eq!(split[1].identity, Identity::Actor(1));
        assert_ne!(split[0].group, split[1].group);
    }

    #[test]
    fn a_weak_match_gives_way_where_the_video_clearly_shows_another_actor() {
        // Photos at (1, 0) and (1, 0.5). Track 0 is clearly ann, track 1 clearly bob. Track 2 is
        // 0.458 from bob's photo and 0.51 from ann's: bob's alone, by less than the margin. In
        // the video it is 0.583 from ann's track and 0.787 from bob's, too far to join either,
        // but ann's by more than half the margin: ann.
        let (ann, bob) = (at(&[1.0, 0.0]), at(&[1.0, 0.5]));
        let (clear_ann, clear_bob) = ((at(&[0.8, 0.0]), 0, 9), (at(&[0.8, 0.5, 0.3]), 20, 29));
        let weak = (at(&[1.1, 0.3, -0.4]), 40, 49);
        let decisions = decide_tracks(
            ann.clone(),
            bob.clone(),
            &[clear_ann, clear_bob.clone(), weak.clone()],
        );
        assert_eq!(
            identities(&decisions),
            [Identity::Actor(0), Identity::Actor(1), Identity::Actor(0)]
        );
        assert_eq!(decisions[2].group, 2);
        assert!(decisions[2].reason.contains("elsewhere in the video"));
        // Where the video never shows ann clearly, it has no word against the photos: bob.
        let photos_alone = decide_tracks(ann, bob, &[clear_bob, weak]);
        assert_eq!(
            identities(&photos_alone),
            [Identity::Actor(1), Identity::Actor(1)]
        );
    }

    #[test]
    fn faces_that_cannot_tell_two_cast_members_apart_are_a_stranger() {
        // Photos at (1, 0) and (1, 0.5); tracks 0.1 apart (one person) either side of the line
        // between: one 0.36 from ann and 0.42 from bob, the other the reverse. Together they
        // favour neither: a stranger, not ann by the tie's order.
        let (ann, bob) = (at(&[1.0, 0.0]), at(&[1.0, 0.5]));
        let tied = decide_tracks(
            ann.clone(),
            bob.clone(),
            &[(at(&[0.7, 0.2]), 0, 9), (at(&[0.7, 0.3]), 20, 29)],
        );
        assert_eq!(
            identities(&tied),
            [Identity::Stranger(0), Identity::Stranger(0)]
        );
        assert!(tied[0].reason.contains("two cast members"));
        // Faces that lead by about as much each time (0.051-0.076) are ann's.
        let steady = decide_tracks(
            ann.clone(),
            bob.clone(),
            &[
                (at(&[0.7, 0.2]), 0, 9),
                (at(&[0.7, 0.21]), 20, 29),
                (at(&[0.7, 0.19]), 40, 49),
            ],
        );
        assert_eq!(identities(&steady), [Identity::Actor(0); 3]);
        // A lead of 0.001-0.004 however steady, over however many faces, is within the photos'
        // own noise: a stranger.
        let hair: Vec<_> = (0..40)
            .map(|i| {
                let y = 0.245 + 0.001 * (i % 4) as f32;
                (at(&[0.7, y]), 20 * i, 20 * i + 9)
            })
            .collect();
        let hairs_breadth = decide_tracks(ann, bob, &hair);
        assert_eq!(identities(&hairs_breadth), [Identity::Stranger(0); 40]);
    }

    #[test]
    fn a_clear_match_keeps_its_name_when_its_group_was_kept_from_it() {
        // Track 0 is ann's photo itself. Tracks 1 and 2 (0.3 and 0.35 from it, clear matches
        // too) are one group, kept from ann because track 1 is on screen with track 0: track 1
        // stays a stranger, but track 2, on screen with no ann, keeps the name it has alone.
        let decisions = decide_tracks(
            descriptor(0, 1.0),
            descriptor(1, 1.0),
            &[
                (descriptor(0, 1.0), 0, 9),
                (descriptor(0, 1.3), 5, 14),
                (descriptor(0, 1.35), 30, 39),
            ],
        );
        assert_eq!(
            identities(&decisions),
            [
                Identity::Actor(0),
                Identity::Stranger(0),
                Identity::Actor(0)
            ]
        );
        assert_eq!(decisions[1].group, decisions[2].group);
        assert_eq!(
            decisions[2].reason,
            "matches this cast member clearly on its own; its group was kept from them"
        );
    }

    #[test]
    fn one_stranger_one_label_however_many_tracks() {
        // Two strangers, each coming back, far from the cast and from each other.
        let (x, y) = (descriptor(5, 1.0), descriptor(6, 1.0));
        let decisions = decide_tracks(
            descriptor(0, 1.0),
            descriptor(1, 1.0),
            &[
                (y.clone(), 0, 9),
                (x.clone(), 10, 19),
                (descriptor(6, 1.1), 20, 29),
                (descriptor(5, 0.9), 30, 39),
            ],
        );
        assert_eq!(identities(&decisions), [0, 1, 0, 1].map(Identity::Stranger));
        assert!(
            decisions
                .iter()
                .all(|d| d.reason == "no cast member within the threshold of its group")
        );
    }

    #[test]
    fn a_track_of_a_group_named_after_its_second_choice_takes_its_own_closest_where_free() {
        // Tracks 0 and 2 are one person, closer to ann than to bob, neither clearly; track 1,
        // on screen with track 0, is ann clearly. So the group of 0 and 2 is named bob (ann is
        // taken where track 0 is), but track 2, on screen with no ann, is closest to her.
        let decisions = decide_tracks(
            at(&[0.0, 0.0]),
            at(&[0.5, 0.5]),
            &[
                (at(&[0.22, 0.22]), 0, 9),
                (at(&[-0.1, -0.1]), 5, 15),
                (at(&[0.2, 0.26]), 20, 29),
            ],
        );
        assert_eq!(decisions[0].group, decisions[2].group);
        assert_eq!(
            identities(&decisions),
            [Identity::Actor(1), Identity::Actor(0), Identity::Actor(0)]
        );
    }

    #[test]
    fn a_track_of_a_group_near_no_one_takes_the_name_its_own_faces_favour_where_free() {
        // Tracks 0 and 1 are one person, 0.4 apart: 0 is 0.56 from ann and 0.64 from bob (not
        // clearly ann), 1 (a face turned away, say) 0.86 from ann. Together they are 0.71 from
        // her, a stranger; track 0 on its own is ann.
        let (ann, bob) = (at(&[0.0, 0.0]), at(&[1.0, 0.0]));
        let pair = [(at(&[0.45, -0.33]), 0, 9), (at(&[0.45, -0.73]), 20, 29)];
        let decisions = decide_tracks(ann.clone(), bob.clone(), &pair);
        assert_eq!(decisions[0].group, decisions[1].group);
        assert_eq!(
            identities(&decisions),
            [Identity::Actor(0), Identity::Stranger(0)]
        );
        // Not where its faces lie as close to bob as to ann...
        let torn = [(at(&[0.5, -0.3]), 0, 9), (at(&[0.5, -0.7]), 20, 29)];
        let decisions = decide_tracks(ann.clone(), bob.clone(), &torn);
        assert_eq!(identities(&decisions), [Identity::Stranger(0); 2]);
        // ...nor where ann is on screen at the same time, clearly, as someone else.
        let with_ann = [pair[0].clone(), pair[1].clone(), (at(&[0.05, 0.0]), 5, 15)];
        let decisions = decide_tracks(ann, bob, &with_ann);
        assert_eq!(
            identities(&decisions),
            [
                Identity::Stranger(0),
                Identity::Stranger(0),
                Identity::Actor(0)
            ]
        );
    }

    #[test]
    fn a_clear_match_names_its_group_unless_the_groups_faces_lie_beyond_the_threshold() {
        // One person in four shots, 0.2 apart: a small one clearly ann's (0.55 from her, 1.14
        // from bob), three 0.62 from her (a wide shot at the limit, say). All four, 0.6 on
        // average, are hers.
        let (ann, bob) = (at(&[0.0, 0.0]), at(&[1.0, 0.0]));
        let shots = |others: f32| -> Vec<(Descriptor, u64, u64)> {
            let mut shots = vec![(at(&[0.0, 0.55]), 0, 9)];
            shots.extend((1..4).map(|k| (at(&[0.0, others]), 20 * k, 20 * k + 9)));
            shots
        };
        let at_the_limit = decide_tracks(ann.clone(), bob.clone(), &shots(0.62));
        assert_eq!(identities(&at_the_limit), [Identity::Actor(0); 4]);
        // Three shots 0.75 from her: together 0.70, two standard errors beyond the threshold
        // (a stranger's close-ups and one wide shot of him that looks like her). The shot that
        // matches her clearly keeps her name alone; the others are a stranger.
        let beyond = decide_tracks(ann, bob, &shots(0.75));
        assert!(beyond.iter().all(|d| d.group == beyond[0].group));
        assert_eq!(
            identities(&beyond),
            [
                Identity::Actor(0),
                Identity::Stranger(0),
                Identity::Stranger(0),
                Identity::Stranger(0)
            ]
        );
    }

    #[test]
    fn strangers_further_apart_than_the_within_video_distance_are_two_labels() {
        // Two shots 0.45 apart, beyond dlib's within-video distance (0.44): within the cast
        // threshold (0.6), but on `snape` different children come that close, so two labels.
        let far = || descriptor(5, 1.0);
        let apart = [(far(), 0, 9), (descriptor(5, 1.45), 10, 19)];
        let decisions = decide_tracks(descriptor(0, 1.0), descriptor(1, 1.0), &apart);
        assert_eq!(
            identities(&decisions),
            [Identity::Stranger(0), Identity::Stranger(1)]
        );
        let [(other, apart)] = decisions[0].neighbours[..] else {
            panic!("{:?}", decisions[0].neighbours)
        };
        assert!(
            other == 1 && (apart - 0.45).abs() < 1e-6,
            "the other, 0.45 away"
        );
        // 0.43 apart (one woman across a jump cut in `talk`: 0.431): one label.
        let near = [(far(), 0, 9), (descriptor(5, 1.43), 10, 19)];
        let decisions = decide_tracks(descriptor(0, 1.0), descriptor(1, 1.0), &near);
        assert_eq!(identities(&decisions), [Identity::Stranger(0); 2]);
    }

    #[test]
    fn faces_just_inside_the_threshold_name_the_track_whatever_a_few_blurred_faces_say() {
        let id = Identifier::new(&cast(), 0.6, EmbedderKind::Dlib);
        // 20 faces 0.57 from ann, 3 blurred ones (a lower detection score) 0.85 from her.
        let mut near = descriptor(0, 1.0);
        near[2] = 0.57;
        let mut blurred = descriptor(0, 1.0);
        blurred[3] = 0.85;
        let mut samples = vec![sample(near); 20];
        samples.extend((0..3).map(|_| Sample {
            quality: 0.3,
            ..sample(blurred.clone())
        }));
        let track = TrackFaces {
            first: 0,
            last: 22,
            samples: &samples,
        };
        let decision = &decide(&id, &[track])[0];
        assert_eq!(decision.identity, Identity::Actor(0));
        assert!(
            (decision.distances[0] - 0.582).abs() < 1e-3,
            "{:?}",
            decision.distances
        );
    }
}
