//! Throughput of the byte path: gzip, gzip + age, and the whole
//! encode -> in-process upload to a local remote.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::io::{self, Write};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dbbr::{Codec, Encoder, Recipients, Remote};

/// SQL-dump-like text: COPY rows with numbers, names and timestamps.
fn dump_like(len: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(len + 200);
    let mut i: u64 = 0;
    while out.len() < len {
        i += 1;
        let x = i.wrapping_mul(2654435761) % 1_000_003;
        writeln!(
            out,
            "{i}\tcustomer {x}\tZürich\t{}.{:02}\t2026-01-{:02} 12:{:02}:00+00",
            x % 9999,
            x % 100,
            1 + x % 28,
            x % 60
        )
        .unwrap();
    }
    out.truncate(len);
    out
}

fn encode(c: &mut Criterion) {
    let data = dump_like(32 << 20);
    let key = age::x25519::Identity::generate();
    let recipients = Recipients::from_x25519([key.to_public()]).unwrap();
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for level in [1, 6] {
        let codec = Codec::Gzip { level };
        for threads in [1, cores] {
            let id = format!("level{level}/threads{threads}");
            group.bench_with_input(BenchmarkId::new("gzip", &id), &codec, |b, &codec| {
                b.iter(|| {
                    let mut enc = Encoder::with_threads(io::sink(), codec, None, threads).unwrap();
                    enc.write_all(&data).unwrap();
                    enc.finish().unwrap()
                })
            });
            group.bench_with_input(BenchmarkId::new("gzip+age", &id), &codec, |b, &codec| {
                b.iter(|| {
                    let mut enc =
                        Encoder::with_threads(io::sink(), codec, Some(&recipients), threads)
                            .unwrap();
                    enc.write_all(&data).unwrap();
                    enc.finish().unwrap()
                })
            });
        }
    }
    group.finish();
}

fn upload(c: &mut Criterion) {
    let data = dump_like(32 << 20);
    let dir = tempfile::tempdir().unwrap();
    let remote = Remote::parse(&format!(":local:{}", dir.path().display())).unwrap();
    let mut group = c.benchmark_group("upload-local");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    let mut n = 0;
    group.bench_function("raw", |b| {
        b.iter(|| {
            n += 1;
            let mut up = remote.upload(&format!("raw-{n}")).unwrap();
            up.write_all(&data).unwrap();
            up.commit().unwrap()
        })
    });
    group.bench_function("gzip6+upload", |b| {
        b.iter(|| {
            n += 1;
            let up = remote.upload(&format!("gz-{n}")).unwrap();
            let mut enc = Encoder::new(up, Codec::default(), None).unwrap();
            enc.write_all(&data).unwrap();
            let (up, _) = enc.finish().unwrap();
            up.commit().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, encode, upload);
criterion_main!(benches);
