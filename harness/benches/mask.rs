//! Masking throughput: the word-at-a-time path against the byte-at-a-time definition.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use wsspec::frame::{apply_mask, apply_mask_bytewise};

fn masking(c: &mut Criterion) {
    let key = [0x37, 0xfa, 0x21, 0x3d];
    let mut group = c.benchmark_group("mask");
    for len in [125usize, 64 * 1024, 1 << 20] {
        let mut buf = vec![0x5au8; len];
        group.throughput(Throughput::Bytes(len as u64));
        group.bench_with_input(BenchmarkId::new("word", len), &len, |b, _| b.iter(|| apply_mask(&mut buf, key)));
        group.bench_with_input(BenchmarkId::new("bytewise", len), &len, |b, _| b.iter(|| apply_mask_bytewise(&mut buf, key)));
    }
    group.finish();
}

criterion_group!(benches, masking);
criterion_main!(benches);
