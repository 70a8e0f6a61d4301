//! Throughput of the byte path: gzip, gzip + age, and the whole
//! encode -> in-process upload to a local remote.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use std::io::{self, Write};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use dbbr::{Codec, Decoder, DumpInspector, Encoder, Expected, Recipients, Remote};

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
    let codecs = [
        Codec::Gzip { level: 1 },
        Codec::Gzip { level: 2 },
        Codec::Gzip { level: 6 },
        Codec::Zstd { level: 1 },
        Codec::Zstd { level: 3 },
        Codec::None,
    ];
    for codec in codecs {
        let (name, level) = match codec {
            Codec::Gzip { level } | Codec::Zstd { level } => (codec.name(), level),
            _ => (codec.name(), 0),
        };
        for threads in [1, cores] {
            let id = format!("level{level}/threads{threads}");
            group.bench_with_input(BenchmarkId::new(name, &id), &codec, |b, &codec| {
                b.iter(|| {
                    let mut enc = Encoder::with_threads(io::sink(), codec, None, threads).unwrap();
                    enc.write_all(&data).unwrap();
                    enc.finish().unwrap()
                })
            });
            let with_age = format!("{name}+age");
            group.bench_with_input(BenchmarkId::new(&with_age, &id), &codec, |b, &codec| {
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
    group.bench_function("gzip-default+upload", |b| {
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

/// The row counting every backup does while it streams, on COPY text and on
/// MariaDB's extended INSERTs, against the encode stage it runs beside.
fn evidence(c: &mut Criterion) {
    let mut copy = b"COPY public.customers (id, name, city, total, at) FROM stdin;\n".to_vec();
    copy.extend_from_slice(&dump_like(32 << 20));
    copy.extend_from_slice(b"\\.\n\n-- PostgreSQL database dump complete\n");
    let mut inserts = Vec::with_capacity(33 << 20);
    let mut i = 0u64;
    while inserts.len() < 32 << 20 {
        inserts.extend_from_slice(b"INSERT INTO `customers` VALUES ");
        for j in 0..200 {
            i += 1;
            if j > 0 {
                inserts.push(b',');
            }
            let x = i.wrapping_mul(2654435761) % 1_000_003;
            write!(
                inserts,
                "({i},'customer {x}','Zürich',{}.{:02},'2026-01-{:02} 12:{:02}:00')",
                x % 9999,
                x % 100,
                1 + x % 28,
                x % 60
            )
            .unwrap();
        }
        inserts.extend_from_slice(b";\n");
    }
    let mut group = c.benchmark_group("evidence");
    group.sample_size(10);
    for (name, data) in [("copy", &copy), ("insert", &inserts)] {
        group.throughput(Throughput::Bytes(data.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut inspector = DumpInspector::new();
                for chunk in data.chunks(256 * 1024) {
                    inspector.update(chunk);
                }
                inspector.finish()
            })
        });
    }
    group.finish();
}

/// The way back: stored bytes -> sha256 -> age -> gunzip, as restore and
/// verify read them.
fn decode(c: &mut Criterion) {
    let data = dump_like(32 << 20);
    let key = age::x25519::Identity::generate();
    let recipients = Recipients::from_x25519([key.to_public()]).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key.txt");
    std::fs::write(
        &key_file,
        format!(
            "{}\n",
            age::secrecy::ExposeSecret::expose_secret(&key.to_string())
        ),
    )
    .unwrap();
    let identities = dbbr::Identities::from_file(&key_file).unwrap();
    let mut enc = Encoder::new(Vec::new(), Codec::default(), Some(&recipients)).unwrap();
    enc.write_all(&data).unwrap();
    let (stored, stats) = enc.finish().unwrap();
    let mut group = c.benchmark_group("decode");
    group.throughput(Throughput::Bytes(data.len() as u64));
    group.sample_size(10);
    group.bench_function("sha256+age+gunzip", |b| {
        b.iter(|| {
            let expected = Expected {
                sha256: Some(stats.sha256.clone()),
                stored_bytes: Some(stats.stored_bytes),
                raw_bytes: Some(stats.raw_bytes),
            };
            let mut dec =
                Decoder::new(&stored[..], Codec::default(), Some(&identities), expected).unwrap();
            io::copy(&mut dec, &mut io::sink()).unwrap();
            dec.finish().unwrap()
        })
    });
    group.finish();
}

criterion_group!(benches, encode, upload, evidence, decode);
criterion_main!(benches);
