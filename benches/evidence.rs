//! How fast `DumpInspector` reads the dump text a backup streams through
//! it: COPY text with escapes, MariaDB's extended INSERTs, and a statement
//! per row (`mariadb-dump --skip-extended-insert`). Measured in wall time
//! and, on Linux, in this thread's time on the CPU, which a busy machine
//! does not inflate the way it does wall time:
//! `cargo bench --bench evidence`.

// criterion's macros generate undocumented public functions.
#![allow(missing_docs)]

use criterion::measurement::{Measurement, ValueFormatter, WallTime};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use dbbr::{DumpInspector, Evidence};

/// Bytes of each dump.
const SIZE: usize = 64 << 20;
/// Bytes handed to the inspector at a time.
const CHUNK: usize = 64 << 10;

/// A dump to inspect: its text, the key of its table in
/// [`Evidence::rows`] and the rows it holds.
struct Dump {
    name: &'static str,
    text: String,
    table: &'static str,
    rows: u64,
}

/// COPY text of a PostgreSQL dump, with escaped tabs and backslashes.
fn copy_text() -> Dump {
    let mut text =
        String::from("COPY public.orders (id, customer, note, amount, at) FROM stdin;\n");
    let mut rows = 0u64;
    while text.len() < SIZE {
        let i = rows;
        text.push_str(&format!(
            "{i}\tcustomer {}\tnote with \\t tab and \\\\ backslash {i}\t{}.{:02}\t2026-11-29 14:{:02}:00+00\n",
            i % 977,
            i % 10_000,
            i % 100,
            i % 60
        ));
        rows += 1;
    }
    text.push_str("\\.\n");
    Dump {
        name: "copy",
        text,
        table: "public.orders",
        rows,
    }
}

/// MariaDB's extended INSERTs of 200 rows, with quotes and parentheses in
/// strings.
fn extended_inserts() -> Dump {
    let mut text = String::new();
    let mut rows = 0u64;
    while text.len() < SIZE {
        text.push_str("INSERT INTO `orders` VALUES ");
        for j in 0..200 {
            let i = rows;
            if j > 0 {
                text.push(',');
            }
            text.push_str(&format!(
                "({i},'customer {}','note with \\' quote ),( and ; {i}',{}.{:02},'2026-11-29 14:{:02}:00')",
                i % 977,
                i % 10_000,
                i % 100,
                i % 60
            ));
            rows += 1;
        }
        text.push_str(";\n");
    }
    Dump {
        name: "insert",
        text,
        table: "orders",
        rows,
    }
}

/// `mariadb-dump --skip-extended-insert`: a statement per row.
fn single_row_inserts() -> Dump {
    let mut text = String::new();
    let mut rows = 0u64;
    while text.len() < SIZE {
        let i = rows;
        text.push_str(&format!(
            "INSERT INTO `orders` VALUES ({i},'customer {}','note {i}',{}.{:02},'2026-11-29 14:{:02}:00');\n",
            i % 977,
            i % 10_000,
            i % 100,
            i % 60
        ));
        rows += 1;
    }
    Dump {
        name: "insert-a-row-each",
        text,
        table: "orders",
        rows,
    }
}

/// `text` through an inspector, `CHUNK` bytes at a time.
fn inspect(text: &str) -> Evidence {
    let mut inspector = DumpInspector::new();
    for chunk in text.as_bytes().chunks(CHUNK) {
        inspector.update(chunk);
    }
    inspector.finish()
}

/// The dumps, each checked once: a measurement of wrong counts is no use.
fn dumps() -> Vec<Dump> {
    let dumps = vec![copy_text(), extended_inserts(), single_row_inserts()];
    for dump in &dumps {
        let evidence = inspect(&dump.text);
        assert_eq!(
            evidence.rows.get(dump.table),
            Some(&dump.rows),
            "{}",
            dump.name
        );
    }
    dumps
}

fn bench<M: Measurement>(c: &mut Criterion<M>, group: &str) {
    let mut group = c.benchmark_group(group);
    group.sample_size(10);
    for dump in dumps() {
        group.throughput(Throughput::Bytes(dump.text.len() as u64));
        group.bench_function(dump.name, |b| b.iter(|| inspect(&dump.text)));
    }
    group.finish();
}

fn wall_time(c: &mut Criterion) {
    bench(c, "dump-inspector");
}

fn cpu_time(c: &mut Criterion<ThreadCpu>) {
    if thread_cpu_ns().is_some() {
        bench(c, "dump-inspector-cpu");
    }
}

/// This thread's time on the CPU so far, in nanoseconds (Linux; the
/// kernel brings it up to date at least once a scheduler tick).
fn thread_cpu_ns() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    stat.split_whitespace().next()?.parse().ok()
}

/// This thread's time on the CPU, in nanoseconds like wall time (and shown
/// as wall time is): criterion runs each routine on the thread that
/// measures it.
struct ThreadCpu(WallTime);

impl Measurement for ThreadCpu {
    type Intermediate = u64;
    type Value = u64;

    fn start(&self) -> u64 {
        thread_cpu_ns().unwrap_or(0)
    }

    fn end(&self, start: u64) -> u64 {
        thread_cpu_ns().unwrap_or(0).saturating_sub(start)
    }

    fn add(&self, a: &u64, b: &u64) -> u64 {
        a + b
    }

    fn zero(&self) -> u64 {
        0
    }

    fn to_f64(&self, value: &u64) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        self.0.formatter()
    }
}

criterion_group!(wall, wall_time);
criterion_group! {
    name = cpu;
    config = Criterion::default().with_measurement(ThreadCpu(WallTime));
    targets = cpu_time
}
criterion_main!(wall, cpu);
