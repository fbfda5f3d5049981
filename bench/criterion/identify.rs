//! Matching one face against casts of 10, 1,000 and 100,000 photos (5 photos per actor): the
//! linear scan over one contiguous f32 matrix that `identify` does for every face in a frame.
//!
//!     cargo bench --bench identify

use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use screentime::face::embed::{Descriptor, EmbedderKind};
use screentime::identity::cast::{Cast, CastFace};
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

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = identify
}
criterion_main!(benches);
