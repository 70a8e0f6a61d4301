//! Retention: deletes the backups a keep policy does not keep, per engine and
//! database, from storage alone. It touches only objects with a dbbr
//! manifest (and, when asked, dbbr's own leftovers), never another
//! database's backups, never the newest backup of a database. A backup's
//! manifest is deleted first and its object second (the reverse of the write
//! order), so an interrupted prune leaves at worst an object that is plainly
//! not a backup.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::catalog::{Catalog, StoredBackup, StrayKind};
use crate::error::Result;
use crate::manifest::VERIFIED_SUFFIX;
use crate::retention::Policy;
use crate::storage::Remote;

/// A prune run, configured with chained calls.
///
/// ```no_run
/// let policy = dbbr::KeepPolicy { keep_daily: Some(7), ..Default::default() };
/// let report = dbbr::Prune::new(policy).remote("store").dry_run(true).run()?;
/// for d in &report.decisions {
///     println!("{} {}: {}", if d.keep { "keep" } else { "remove" }, d.object, d.reasons.join(", "));
/// }
/// # Ok::<(), dbbr::Error>(())
/// ```
pub struct Prune {
    policy: Policy,
    remote: String,
    prefix: String,
    databases: Option<Vec<String>>,
    dry_run: bool,
    orphans_older_than: Option<Duration>,
}

/// What a prune decided for one backup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PruneDecision {
    /// The backup's engine.
    pub engine: String,
    /// Its database.
    pub database: String,
    /// Its data object.
    pub object: String,
    /// When its dump started.
    pub time: DateTime<Utc>,
    /// Whether it is kept.
    pub keep: bool,
    /// Why (`daily 2026-11-29`, `last 3`, ... or `not kept by any rule`).
    pub reasons: Vec<String>,
}

/// The outcome of a prune.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct PruneReport {
    /// Every backup considered, grouped by engine and database, newest first.
    pub decisions: Vec<PruneDecision>,
    /// Objects deleted (manifests, verification records, data objects,
    /// orphans); empty on a dry run.
    pub deleted: Vec<String>,
    /// Leftover objects removed (or, on a dry run, that would be).
    pub orphans: Vec<String>,
}

impl Prune {
    /// A prune keeping what `policy` keeps. A policy that keeps nothing is
    /// rejected by [`run`](Prune::run).
    pub fn new(policy: Policy) -> Prune {
        Prune {
            policy,
            remote: "store".into(),
            prefix: String::new(),
            databases: None,
            dry_run: false,
            orphans_older_than: None,
        }
    }

    /// rclone remote name, `name:path` or connection string. Default `store`.
    pub fn remote(mut self, remote: impl Into<String>) -> Prune {
        self.remote = remote.into();
        self
    }

    /// Path below the remote where the backups are.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Prune {
        self.prefix = prefix.into();
        self
    }

    /// Only these databases' backups (default: every database's).
    pub fn databases<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Prune {
        self.databases = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Decide and report, but delete nothing.
    pub fn dry_run(mut self, yes: bool) -> Prune {
        self.dry_run = yes;
        self
    }

    /// Also remove dbbr's leftovers older than `age`: hidden staging objects
    /// of uploads that never committed, and objects named like backups
    /// (`.sql...`) that have no manifest.
    pub fn orphans_older_than(mut self, age: Duration) -> Prune {
        self.orphans_older_than = Some(age);
        self
    }

    /// Decides per engine and database, then deletes (manifest first).
    /// `Err` before any deletion for a policy that keeps nothing or a
    /// storage failure while reading; a failed deletion stops the run.
    pub fn run(self) -> Result<PruneReport> {
        let policy = self.policy.checked()?;
        let remote = Remote::parse(&self.remote)?.with_prefix(&self.prefix);
        remote.check()?;
        let catalog = Catalog::read(&remote)?;
        let mut groups: BTreeMap<(&str, &str), Vec<&StoredBackup>> = BTreeMap::new();
        for b in &catalog.backups {
            let wanted = self
                .databases
                .as_ref()
                .is_none_or(|names| names.contains(&b.manifest.database));
            if wanted {
                groups
                    .entry((&b.manifest.engine, &b.manifest.database))
                    .or_default()
                    .push(b);
            }
        }
        let mut report = PruneReport::default();
        for ((engine, database), mut backups) in groups {
            backups.sort_by_key(|b| std::cmp::Reverse(b.time()));
            let decisions = policy.apply(&backups, |b| b.time(), &chrono::Local);
            for (b, d) in backups.iter().zip(decisions) {
                report.decisions.push(PruneDecision {
                    engine: engine.into(),
                    database: database.into(),
                    object: b.object().into(),
                    time: b.time(),
                    keep: d.keep,
                    reasons: d.reasons,
                });
            }
        }
        if let Some(age) = self.orphans_older_than {
            let cutoff = Utc::now() - age;
            for stray in &catalog.strays {
                let ours = match stray.kind {
                    StrayKind::Partial | StrayKind::Claim => true,
                    StrayKind::NoManifest => looks_like_backup(&stray.path),
                    _ => false,
                };
                if ours && stray.mod_time.is_some_and(|t| t < cutoff) {
                    report.orphans.push(stray.path.clone());
                }
            }
        }
        if self.dry_run {
            return Ok(report);
        }
        for d in report.decisions.iter().filter(|d| !d.keep) {
            let backup = catalog
                .find(&d.object)
                .expect("a decision is about a listed backup");
            // Manifest first: without it the object is no longer a backup.
            remote.delete(&backup.manifest_name)?;
            report.deleted.push(backup.manifest_name.clone());
            let record = format!("{}{VERIFIED_SUFFIX}", backup.object());
            if remote.stat(&record)?.is_some() {
                remote.delete(&record)?;
                report.deleted.push(record);
            }
            if remote.stat(backup.object())?.is_some() {
                remote.delete(backup.object())?;
                report.deleted.push(backup.object().into());
            }
            tracing::info!(
                "removed {} ({} {}): {}",
                backup.object(),
                d.engine,
                d.database,
                d.reasons.join(", ")
            );
        }
        for path in &report.orphans {
            remote.delete(path)?;
            report.deleted.push(path.clone());
        }
        Ok(report)
    }
}

/// Whether an object without a manifest is named the way dbbr names
/// backups, so that removing it as a leftover cannot hit a foreign file.
fn looks_like_backup(path: &str) -> bool {
    let leaf = path.rsplit('/').next().unwrap_or(path);
    let leaf = leaf.strip_suffix(".age").unwrap_or(leaf);
    [
        ".sql", ".sql.gz", ".sql.zst", ".sql.lz4", ".dump", ".tar", ".tar.gz",
    ]
    .iter()
    .any(|ext| leaf.ends_with(ext))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_backup_like_names_are_leftovers() {
        assert!(looks_like_backup("app-2026.sql.gz"));
        assert!(looks_like_backup("x/app.sql.gz.age"));
        assert!(looks_like_backup("app.sql"));
        assert!(!looks_like_backup("notes.txt"));
        assert!(!looks_like_backup("app.sql.gz.manifest.json"));
    }
}
