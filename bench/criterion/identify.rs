//! Matching one face against casts of 10, 1,000 and 100,000 photos (5 photos per actor): the
//! linear scan over one contiguous f32 matrix that `identify` does for every face in a frame.
//! And grouping a video's tracks into people (average linkage, tracks on screen together kept
//! apart), for 300, 1,000 and 3,000 tracks of 10 tracks per person: what a film's worth of tracks
//! costs once the video is seen.
//!
//!     cargo bench --bench identify

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use screentime::face::embed::Descriptor;
use screentime::face::model::EmbedderKind;
use screentime::identity::cast::{Cast, CastFace};
use screentime::identity::cluster::average_linkage;
use screentime::identity::matching::Identifier;

/// Deterministic descriptors spread like dlib's (components around +-0.1, norms near 1.4).
fn descriptor(seed: u64) -> Descriptor {
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..EmbedderKind::Dlib.descriptor_len())
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 33) as f32 / (1u64 << 31) as f32 - 0.5) * 0.43
        })
        .collect()
}

fn cast(photos: usize) -> Cast {
    Cast {
        faces: (0..photos)
            .map(|i| CastFace {
                name: format!("actor {}", i / 5),
                photo: format!("{i}.jpg"),
                descriptor: descriptor(i as u64),
            })
            .collect(),
        warnings: Vec::new(),
    }
}

fn identify(c: &mut Criterion) {
    let query = descriptor(u64::MAX);
    let mut group = c.benchmark_group("identify one face");
    for photos in [10, 1_000, 100_000] {
        let identifier = Identifier::new(&cast(photos), 0.6, EmbedderKind::Dlib);
        group.throughput(Throughput::Elements(photos as u64));
        group.bench_with_input(BenchmarkId::from_parameter(photos), &query, |b, query| {
            b.iter(|| identifier.nearest(black_box(query)))
        });
    }
    group.finish();
}

/// `n` tracks of `n / 10` people, in turn: each track its person's descriptor moved a little
/// (0.1 at most per component: within one person's spread), each on screen with the next.
fn tracks(n: usize) -> Vec<(Descriptor, u64, u64)> {
    let people = n / 10;
    (0..n)
        .map(|t| {
            let person = descriptor((t % people) as u64);
            let noise = descriptor(1_000_000 + t as u64);
            let d = person
                .iter()
                .zip(&noise)
                .map(|(p, e)| p + 0.1 * e)
                .collect();
            (d, 10 * t as u64, 10 * t as u64 + 15)
        })
        .collect()
}

fn group(c: &mut Criterion) {
    let mut group = c.benchmark_group("group tracks");
    for n in [300, 1_000, 3_000] {
        let tracks = tracks(n);
        let descriptors: Vec<&[f32]> = tracks.iter().map(|t| t.0.as_slice()).collect();
        let together =
            |i: usize, j: usize| tracks[i].1 <= tracks[j].2 && tracks[j].1 <= tracks[i].2;
        group.throughput(Throughput::Elements(n as u64));
        group.bench_function(BenchmarkId::from_parameter(n), |b| {
            b.iter(|| average_linkage(black_box(&descriptors), 0.42, together))
        });
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = identify, group
}
criterion_main!(benches);
