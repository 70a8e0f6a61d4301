//! What a remote holds, read from storage alone: committed backups (data
//! objects with a manifest), manifests whose object is missing, and objects
//! that are not backups (no manifest: a failed run, a killed process, a
//! foreign file). List, restore, verify and prune all start here; there is no
//! local catalog.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::manifest::{Manifest, Verification, MANIFEST_SUFFIX, VERIFIED_SUFFIX};
use crate::storage::{Entry, Remote};

/// Manifests and verification records larger than this are not dbbr's.
const SIDECAR_LIMIT: u64 = 1 << 20;

/// One committed backup as storage shows it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct StoredBackup {
    /// Its manifest (the commit marker).
    pub manifest: Manifest,
    /// The manifest's object name.
    pub manifest_name: String,
    /// Whether the data object is there as the manifest describes it.
    pub state: State,
    /// The last verification written next to it, if any.
    pub verified: Option<Verification>,
}

impl StoredBackup {
    /// The data object's name (relative to the remote path and prefix).
    pub fn object(&self) -> &str {
        &self.manifest.object
    }

    /// When the backup's dump started: the time retention and `--before`
    /// go by.
    pub fn time(&self) -> DateTime<Utc> {
        self.manifest.started_at
    }
}

/// Whether a manifest's data object is intact as far as a listing can tell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
#[non_exhaustive]
pub enum State {
    /// The object is there with the size the manifest records.
    Ok,
    /// The manifest's object is missing: the backup is broken.
    Missing,
    /// The object is there with another size: the backup is broken.
    SizeMismatch {
        /// The size storage reports.
        size: i64,
    },
}

/// An object under the prefix that is not a committed backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Stray {
    /// Its name (relative to the remote path and prefix).
    pub path: String,
    /// Its size.
    pub size: i64,
    /// When storage says it was written.
    pub mod_time: Option<DateTime<Utc>>,
    /// What it is.
    pub kind: StrayKind,
}

/// What an object without a manifest is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StrayKind {
    /// A hidden staging object of an upload that never committed
    /// (`.NAME.<hex>.partial`).
    Partial,
    /// A claim of a run writing the name (`.NAME.<hex>.claim`): removed when
    /// the run ends, so one that stays was left by a killed run.
    Claim,
    /// A manifest that does not parse.
    UnreadableManifest,
    /// Anything else: an object without a manifest.
    NoManifest,
}

/// Everything under a remote and prefix.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Catalog {
    /// Committed backups, grouped by engine and database, newest first
    /// within a group.
    pub backups: Vec<StoredBackup>,
    /// Objects that are not backups.
    pub strays: Vec<Stray>,
}

impl Catalog {
    /// Reads the catalog of `remote`: one recursive listing, then each
    /// manifest and verification record.
    pub fn read(remote: &Remote) -> Result<Catalog> {
        let entries: Vec<Entry> = remote
            .list("", true)?
            .into_iter()
            .filter(|e| !e.is_dir)
            .collect();
        let sizes: BTreeMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
        let mut claimed: BTreeSet<&str> = BTreeSet::new();
        let mut catalog = Catalog::default();
        for entry in &entries {
            let Some(object) = entry.path.strip_suffix(MANIFEST_SUFFIX) else {
                continue;
            };
            let manifest = match read_json::<Manifest>(remote, entry) {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!("{}: not a dbbr manifest: {e}", entry.path);
                    claimed.insert(&entry.path);
                    catalog
                        .strays
                        .push(stray(entry, StrayKind::UnreadableManifest));
                    continue;
                }
            };
            claimed.insert(&entry.path);
            claimed.insert(object);
            let state = match sizes.get(object) {
                None => State::Missing,
                Some(e) if e.size >= 0 && e.size as u64 != manifest.stored_bytes => {
                    State::SizeMismatch { size: e.size }
                }
                Some(_) => State::Ok,
            };
            let record = format!("{object}{VERIFIED_SUFFIX}");
            let verified = sizes.get(record.as_str()).and_then(|e| {
                claimed.insert(&e.path);
                read_json::<Verification>(remote, e).ok()
            });
            catalog.backups.push(StoredBackup {
                manifest: Manifest {
                    object: object.to_string(),
                    ..manifest
                },
                manifest_name: entry.path.clone(),
                state,
                verified,
            });
        }
        for entry in &entries {
            if claimed.contains(entry.path.as_str()) {
                continue;
            }
            let kind = if is_hidden_with(&entry.path, ".partial") {
                StrayKind::Partial
            } else if is_hidden_with(&entry.path, ".claim") {
                StrayKind::Claim
            } else {
                StrayKind::NoManifest
            };
            catalog.strays.push(stray(entry, kind));
        }
        catalog.backups.sort_by(|a, b| {
            (&a.manifest.engine, &a.manifest.database)
                .cmp(&(&b.manifest.engine, &b.manifest.database))
                .then(b.time().cmp(&a.time()))
                .then(b.object().cmp(a.object()))
        });
        Ok(catalog)
    }

    /// The backups of `database` (all engines), newest first.
    pub fn of_database<'a>(
        &'a self,
        database: &'a str,
    ) -> impl Iterator<Item = &'a StoredBackup> + 'a {
        self.backups
            .iter()
            .filter(move |b| b.manifest.database == database)
    }

    /// The newest intact backup of `database` that started before `before`
    /// (if given). `None` when there is none.
    pub fn latest<'a>(
        &'a self,
        database: &'a str,
        before: Option<DateTime<Utc>>,
    ) -> Option<&'a StoredBackup> {
        self.of_database(database)
            .filter(|b| b.state == State::Ok)
            .filter(|b| before.is_none_or(|t| b.time() < t))
            .max_by_key(|b| b.time())
    }

    /// The backup whose data object (or manifest) is `name`.
    pub fn find(&self, name: &str) -> Option<&StoredBackup> {
        self.backups
            .iter()
            .find(|b| b.object() == name || b.manifest_name == name)
    }
}

/// Whether `path` is a hidden name dbbr's uploads use, ending in `suffix`:
/// the staging name of an unfinished upload (`.partial`) or a claim
/// (`.claim`).
fn is_hidden_with(path: &str, suffix: &str) -> bool {
    let leaf = path.rsplit('/').next().unwrap_or(path);
    leaf.starts_with('.') && leaf.ends_with(suffix)
}

fn stray(entry: &Entry, kind: StrayKind) -> Stray {
    Stray {
        path: entry.path.clone(),
        size: entry.size,
        mod_time: entry.mod_time,
        kind,
    }
}

/// Downloads and parses a small JSON object.
fn read_json<T: for<'de> Deserialize<'de>>(remote: &Remote, entry: &Entry) -> Result<T> {
    if entry.size > SIDECAR_LIMIT as i64 {
        return Err(Error::Storage(format!(
            "{} is larger than a manifest can be",
            entry.path
        )));
    }
    let mut text = Vec::new();
    remote
        .download(&entry.path)?
        .take(SIDECAR_LIMIT)
        .read_to_end(&mut text)
        .map_err(|e| Error::io(format!("reading {}", entry.path), e))?;
    serde_json::from_slice(&text)
        .map_err(|e| Error::Storage(format!("{} is not valid: {e}", entry.path)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn staging_names_are_partial() {
        let is_partial = |p| is_hidden_with(p, ".partial");
        assert!(is_partial(".app.sql.gz.0a1b2c3d4e5f.partial"));
        assert!(is_partial("sub/.app.sql.gz.0a1b2c3d4e5f.partial"));
        assert!(!is_partial("app.sql.gz"));
        assert!(!is_partial("sub.partial/app.sql.gz"));
        assert!(is_hidden_with(
            "sub/.app.sql.gz.0a1b2c3d4e5f.claim",
            ".claim"
        ));
        assert!(!is_hidden_with("sub/app.sql.gz.claim", ".claim"));
    }
}
