//! Retention: deletes the backups a keep policy does not keep, per engine,
//! kind and database, from storage alone. It touches only objects with a
//! dbbr manifest (and, when asked, dbbr's own leftovers), never another
//! group's backups, never foreign files, never the newest intact backup of a
//! group. Only intact backups count: a broken one (object missing or of
//! another size) is neither counted nor protected by the rules, and is left
//! in place and reported. Nothing is deleted while any manifest could not
//! be read: which backups exist cannot be told then. A backup's manifest is
//! deleted first and its object second (the reverse of the write order), so
//! an interrupted prune leaves at worst an object that is plainly not a
//! backup. A set and a single-object backup of one database are one group;
//! a set is removed manifest first, then each part, then its record, then
//! its folder if that is empty (on backends with real folders).

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};

use crate::catalog::{group_kind, Catalog, State, StoredBackup};
use crate::engine::Engine;
use crate::error::{Error, Result, Setting};
use crate::leftovers::Leftovers;
use crate::manifest::{Kind, VERIFIED_SUFFIX};
use crate::naming::NamePattern;
use crate::retention::KeepPolicy;
use crate::storage::{Remote, RemoteSpec};

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
    policy: KeepPolicy,
    remote: RemoteSpec,
    prefix: String,
    databases: Option<Vec<String>>,
    engine: Option<Engine>,
    groups: Option<Vec<(Engine, Kind, String)>>,
    dry_run: bool,
    orphans_older_than: Option<Duration>,
    file_names: Vec<String>,
}

/// What a prune decided for one intact backup.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PruneDecision {
    /// The backup's engine.
    pub engine: String,
    /// What it holds.
    pub kind: Kind,
    /// Its database (label).
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
    /// Every intact backup considered, grouped by engine, kind and
    /// database, newest first.
    pub decisions: Vec<PruneDecision>,
    /// Broken backups of the groups considered (object missing or of
    /// another size), with why: not counted by any rule, and left in place.
    pub broken: Vec<(String, String)>,
    /// Objects deleted (manifests, verification records, data objects,
    /// leftovers); empty on a dry run.
    pub deleted: Vec<String>,
    /// Leftover objects removed (or, on a dry run, that would be).
    pub orphans: Vec<String>,
}

/// How long a claim lives without being renewed before it counts as left
/// by a killed run (as the storage layer's uploads see it): leftovers
/// younger than this may belong to a live run.
pub const CLAIM_STALENESS: std::time::Duration = std::time::Duration::from_secs(180);

impl Prune {
    /// A prune keeping what `policy` keeps. A policy that keeps nothing is
    /// rejected by [`run`](Prune::run).
    pub fn new(policy: KeepPolicy) -> Prune {
        Prune {
            policy,
            remote: "store".into(),
            prefix: String::new(),
            databases: None,
            engine: None,
            groups: None,
            dry_run: false,
            orphans_older_than: None,
            file_names: Vec::new(),
        }
    }

    /// rclone remote name, `name:path` or connection string, or a
    /// [`Remote`]. Default `store`.
    pub fn remote(mut self, remote: impl Into<RemoteSpec>) -> Prune {
        self.remote = remote.into();
        self
    }

    /// Path below the remote where the backups are.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Prune {
        self.prefix = prefix.into();
        self
    }

    /// Only the backups of these databases (labels: `all` and `globals`
    /// name the server-wide backups); default every database's. Each kind
    /// is still a group of its own.
    pub fn databases<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Prune {
        self.databases = Some(names.into_iter().map(Into::into).collect());
        self
    }

    /// Only the backups of this engine.
    pub fn engine(mut self, engine: Engine) -> Prune {
        self.engine = Some(engine);
        self
    }

    /// Only these groups (engine, kind, database): what a backup run wrote.
    pub(crate) fn groups(mut self, groups: Vec<(Engine, Kind, String)>) -> Prune {
        self.groups = Some(groups);
        self
    }

    /// Decide and report, but delete nothing.
    pub fn dry_run(mut self, yes: bool) -> Prune {
        self.dry_run = yes;
        self
    }

    /// Also remove dbbr's leftovers older than `age` (at least
    /// [`CLAIM_STALENESS`]: younger ones may belong to a run still going):
    /// the hidden staging objects and claims of uploads that never
    /// finished, objects named as the backups are named (see
    /// [`file_names`](Prune::file_names)) that have no manifest, and the
    /// verification records of backups that are gone; then the folder of a
    /// set whose every object was such a leftover, if it is empty. Only
    /// dbbr's exact name formats; never a name a live claim is on.
    pub fn orphans_older_than(mut self, age: Duration) -> Prune {
        self.orphans_older_than = Some(age);
        self
    }

    /// The file name patterns backups are named by (as
    /// [`Backup::file_name`](crate::Backup::file_name) takes them), for
    /// telling leftovers from foreign objects; default dbbr's default
    /// names (`${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz`, `all_%Y-...`).
    pub fn file_names<I: IntoIterator<Item = S>, S: Into<String>>(mut self, patterns: I) -> Prune {
        self.file_names = patterns.into_iter().map(Into::into).collect();
        self
    }

    fn wanted(&self, b: &StoredBackup) -> bool {
        let m = &b.manifest;
        self.databases
            .as_ref()
            .is_none_or(|names| names.contains(&m.database))
            && self.engine.is_none_or(|e| e.name() == m.engine)
            && self.groups.as_ref().is_none_or(|groups| {
                groups.iter().any(|(e, k, d)| {
                    e.name() == m.engine && group_kind(*k) == b.group_kind() && *d == m.database
                })
            })
    }

    /// Decides per engine, kind and database, then deletes (manifest
    /// first). `Err` before any deletion for a policy that keeps nothing, a
    /// storage failure while reading, or a manifest that could not be read;
    /// a failed deletion stops the run.
    pub fn run(self) -> Result<PruneReport> {
        let policy = self.policy.checked()?;
        let leftovers = match self.orphans_older_than {
            Some(age) => Some(self.leftovers(age)?),
            None => None,
        };
        let remote = self.remote.resolve(&self.prefix)?;
        remote.check()?;
        let catalog = Catalog::read(&remote)?;
        catalog
            .require_readable()
            .map_err(|e| Error::Storage(format!("{e}: nothing was deleted")))?;
        let mut groups: BTreeMap<(&str, Kind, &str), Vec<&StoredBackup>> = BTreeMap::new();
        let mut report = PruneReport::default();
        for b in catalog.backups.iter().filter(|b| self.wanted(b)) {
            if !b.is_intact() {
                report
                    .broken
                    .push((b.object().to_string(), broken_reason(b)));
                continue;
            }
            groups
                .entry((&b.manifest.engine, b.group_kind(), &b.manifest.database))
                .or_default()
                .push(b);
        }
        for ((engine, _, database), mut backups) in groups {
            backups.sort_by_key(|b| std::cmp::Reverse(b.time()));
            let decisions = policy.apply(&backups, |b| b.time(), &chrono::Local);
            for (b, d) in backups.iter().zip(decisions) {
                report.decisions.push(PruneDecision {
                    engine: engine.into(),
                    kind: b.kind(),
                    database: database.into(),
                    object: b.object().into(),
                    time: b.time(),
                    keep: d.keep,
                    reasons: d.reasons,
                });
            }
        }
        let mut orphans = Vec::new();
        if let Some(leftovers) = &leftovers {
            orphans = leftovers.find(&catalog, Utc::now());
            report.orphans = orphans.iter().map(|o| o.path.clone()).collect();
        }
        if self.dry_run {
            return Ok(report);
        }
        for d in report.decisions.iter().filter(|d| !d.keep) {
            stop_if_interrupted()?;
            let backup = catalog.find(&d.object)?;
            // Manifest first: without it the object is no longer a backup.
            delete_if_there(&remote, &backup.manifest_name, &mut report.deleted)?;
            // A set: its parts, then the record (so that a run stopped
            // half-way leaves parts a later --orphans-older-than finds).
            let parts = backup.manifest.set.as_ref().map(|s| &s.parts[..]);
            for part in parts.unwrap_or_default() {
                stop_if_interrupted()?;
                delete_if_there(&remote, &part.object, &mut report.deleted)?;
            }
            let record = format!("{}{VERIFIED_SUFFIX}", backup.object());
            delete_if_there(&remote, &record, &mut report.deleted)?;
            match parts {
                // The folder the parts were in, now empty where folders
                // are real (never one its parts were not in).
                Some(parts) => {
                    let inside = format!("{}/", backup.object());
                    if parts.iter().any(|p| p.object.starts_with(&inside)) {
                        remove_set_folder(&remote, backup.object())?;
                    }
                }
                None => delete_if_there(&remote, backup.object(), &mut report.deleted)?,
            }
            tracing::info!(
                "removed {} ({} {} {}): {}",
                backup.object(),
                d.engine,
                d.kind,
                d.database,
                d.reasons.join(", ")
            );
        }
        for orphan in &orphans {
            stop_if_interrupted()?;
            // Only if it is still the object the listing showed (one that
            // changed since belongs to a run that is writing), and never
            // through a symbolic link.
            remote.delete_leftover(&orphan.path, orphan.size, orphan.mod_time)?;
            report.deleted.push(orphan.path.clone());
            tracing::info!("removed the leftover {}", orphan.path);
        }
        // The folders of sets whose every part was a leftover removed.
        if let Some(leftovers) = &leftovers {
            for folder in leftovers.emptied_set_folders(&catalog, &orphans) {
                stop_if_interrupted()?;
                remove_set_folder(&remote, &folder)?;
            }
        }
        Ok(report)
    }

    /// What counts as a leftover, checked before any I/O.
    fn leftovers(&self, age: Duration) -> Result<Leftovers> {
        let staleness = Duration::from_std(CLAIM_STALENESS).expect("a small duration");
        if age < staleness {
            return Err(Error::config(
                Setting::Retention,
                format!(
                    "leftovers younger than {} minutes may belong to a run still going: give \
                     at least 3m to --orphans-older-than",
                    CLAIM_STALENESS.as_secs() / 60
                ),
            ));
        }
        let patterns = if self.file_names.is_empty() {
            vec![
                NamePattern::default_for(false),
                NamePattern::default_for(true),
            ]
        } else {
            self.file_names
                .iter()
                .map(|p| NamePattern::parse(p, 1))
                .collect::<Result<_>>()?
        };
        Leftovers::new(&patterns, age, staleness)
    }
}

/// Why a backup is broken, in a few words.
fn broken_reason(b: &StoredBackup) -> String {
    let part = b.bad_part.as_deref().and_then(|name| {
        let parts = &b.manifest.set.as_ref()?.parts;
        parts.iter().find(|p| p.object == name)
    });
    match (&b.state, part) {
        (State::Missing, Some(part)) => format!("its part {} is missing", part.object),
        (State::SizeMismatch { size }, Some(part)) => format!(
            "its part {} has {size} bytes, the manifest says {}",
            part.object, part.stored_bytes
        ),
        (State::Missing, None) => "its object is missing".into(),
        (State::SizeMismatch { size }, None) => format!(
            "its object has {size} bytes, the manifest says {}",
            b.manifest.stored_bytes
        ),
        (State::Ok, _) => match b.failed_verification() {
            Some(v) => format!(
                "its {} verification of {} failed: {}",
                v.level,
                v.verified_at.format("%Y-%m-%d"),
                v.detail
            ),
            None => "intact".into(),
        },
    }
}

/// Deletes `path`; one that is not there (any more) is fine.
fn delete_if_there(remote: &Remote, path: &str, deleted: &mut Vec<String>) -> Result<()> {
    match remote.delete(path) {
        Ok(()) => {
            deleted.push(path.to_string());
            Ok(())
        }
        Err(Error::NotFound(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Removes the folder of a set whose parts were deleted, if it is empty
/// (see [`Remote::remove_empty_folder`]): on bucket backends there is none.
/// A folder left in place (one that still holds something, or a failure) is
/// logged and never fails the prune; only an interrupt stops it.
fn remove_set_folder(remote: &Remote, folder: &str) -> Result<()> {
    match remote.remove_empty_folder(folder) {
        Ok(()) => tracing::debug!("removed the set's folder {folder} if there was one"),
        Err(Error::Interrupted) => return Err(Error::Interrupted),
        Err(e) if is_not_empty_or_gone(&e) => {
            tracing::debug!("left the set's folder {folder} in place: {e}");
        }
        Err(e) => tracing::warn!(
            "could not remove the set's folder {folder}, whose parts were deleted: {e} (the \
             prune goes on; no later run tries again: remove it by hand if it is empty)"
        ),
    }
    Ok(())
}

/// Whether a failed rmdir found the folder holding something, or not there.
fn is_not_empty_or_gone(e: &Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    ["not empty", "directory not found", "no such file"]
        .iter()
        .any(|m| text.contains(m))
}

fn stop_if_interrupted() -> Result<()> {
    if crate::interrupt::interrupted() {
        return Err(Error::Interrupted);
    }
    Ok(())
}
