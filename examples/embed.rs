//! Embedding dbbr in another Rust program: back up PostgreSQL databases with
//! progress reported to this program, and read the result.
//!
//! ```sh
//! PGHOST=... PGUSER=... cargo run --example embed -- :local:/tmp/backups app billing
//! ```

use std::sync::Arc;
use std::time::Duration;

use dbbr::{Backup, DatabaseReport, Engine, Progress};

/// Prints progress in this program's own way.
struct Printer;

impl Progress for Printer {
    fn started(&self, database: &str, object: &str) {
        println!("{database}: dumping into {object}");
    }

    fn advanced(&self, database: &str, raw: u64, stored: u64, elapsed: Duration) {
        println!("{database}: {raw} bytes dumped, {stored} stored after {elapsed:?}");
    }

    fn finished(&self, outcome: &DatabaseReport) {
        match &outcome.result {
            Ok(stats) => println!(
                "{}: done, {} -> {} bytes, sha256 {}",
                outcome.database, stats.raw_bytes, stats.stored_bytes, stats.sha256
            ),
            Err(e) => println!("{}: failed: {e}", outcome.database),
        }
    }
}

fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let Some(remote) = args.next() else {
        eprintln!("usage: embed REMOTE DATABASE...");
        return std::process::ExitCode::from(2);
    };
    let databases: Vec<String> = args.collect();
    let run = Backup::new(Engine::Postgres)
        .remote(remote)
        .databases(databases)
        .progress(Arc::new(Printer))
        .run();
    match run {
        Ok(report) if report.all_succeeded() => std::process::ExitCode::SUCCESS,
        Ok(_) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("{e}");
            std::process::ExitCode::from(2)
        }
    }
}
