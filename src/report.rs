//! What a backup run tells its caller: progress while it runs, a report at
//! the end. The library never prints; the CLI turns these into log lines.

use std::time::Duration;

use crate::error::Error;
use crate::prune::PruneReport;

/// Receives progress of a run. Called on the thread doing the work; keep the
/// methods quick. Every method has an empty default.
pub trait Progress: Send + Sync {
    /// A database's dump is starting, into `object`.
    fn started(&self, _database: &str, _object: &str) {}
    /// The stored size of what is about to stream, when it is known (a
    /// restore knows it from the manifest), for an estimate of the time left.
    fn sized(&self, _database: &str, _stored_bytes: u64) {}
    /// About once a second while a database streams.
    fn advanced(&self, _database: &str, _raw_bytes: u64, _stored_bytes: u64, _elapsed: Duration) {}
    /// A database is done, well or not.
    fn finished(&self, _outcome: &DatabaseReport) {}
}

/// Progress that goes nowhere.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// Sizes and times of one successful database backup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackupStats {
    /// Bytes the dump tool produced.
    pub raw_bytes: u64,
    /// Bytes stored after compression and encryption.
    pub stored_bytes: u64,
    /// SHA-256 of the stored bytes, hex.
    pub sha256: String,
    /// The manifest's object name.
    pub manifest: String,
    /// Wall time from dump start to manifest commit.
    pub elapsed: Duration,
    /// Storage requests rclone retried meanwhile (a 5xx answer, a reset
    /// connection): the backup succeeded, but storage was struggling.
    pub storage_retries: u64,
    /// The objects of a parallel backup set (0: one object, no set).
    pub parts: usize,
}

impl BackupStats {
    /// Stored size over raw size (0 for an empty dump).
    pub fn ratio(&self) -> f64 {
        if self.raw_bytes == 0 {
            0.0
        } else {
            self.stored_bytes as f64 / self.raw_bytes as f64
        }
    }

    /// Raw megabytes (10^6 bytes) per second.
    pub fn raw_mb_per_second(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.raw_bytes as f64 / 1e6 / secs
        } else {
            0.0
        }
    }
}

/// The outcome for one database (or the whole server).
#[derive(Debug)]
#[non_exhaustive]
pub struct DatabaseReport {
    /// The database name, or `all`.
    pub database: String,
    /// The data object's name (relative to the remote path and prefix), if
    /// it could be rendered.
    pub object: Option<String>,
    /// Sizes and times, or why it failed (nothing was left behind then).
    pub result: Result<BackupStats, Error>,
}

/// The outcome of a run.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct Report {
    /// The run's id, as recorded in each manifest it wrote.
    pub run_id: crate::RunId,
    /// One entry per database, in order.
    pub databases: Vec<DatabaseReport>,
    /// The prune that followed a fully successful run, when a keep policy
    /// was set.
    pub prune: Option<Result<PruneReport, Error>>,
}

impl Report {
    /// Whether every database was backed up (and the prune after it, if
    /// any, succeeded).
    pub fn all_succeeded(&self) -> bool {
        self.databases.iter().all(|d| d.result.is_ok()) && !matches!(self.prune, Some(Err(_)))
    }

    /// The failed databases.
    pub fn failures(&self) -> impl Iterator<Item = &DatabaseReport> {
        self.databases.iter().filter(|d| d.result.is_err())
    }
}
