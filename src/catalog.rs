//! What a remote holds, read from storage alone: committed backups (data
//! objects with a manifest), manifests that could not be read, and objects
//! that are not backups (no manifest: a failed run, a killed process, a
//! foreign file). List, restore, verify and prune all start here; there is no
//! local catalog.
//!
//! A read is present, absent (the listing did not show it) or failed: a
//! manifest that could not be read or parsed is never taken for an absent
//! one. Its backup is shown as unreadable, and every decision that depends
//! on which backups exist ([`Catalog::latest`], pruning) refuses to guess.
//! The reading itself is in `read`; this file holds what was read and the
//! look-ups on it.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::engine::Engine;
use crate::error::{Error, Result, Setting};
use crate::manifest::{Kind, Manifest, Verification};

mod read;
#[cfg(test)]
use read::Fetched;
pub(crate) use read::{read_small, side_name};

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
    /// For a set that is not intact: its first part that is missing or of
    /// another size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bad_part: Option<String>,
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

    /// What it holds, as its manifest says.
    pub fn kind(&self) -> Kind {
        self.manifest.kind()
    }

    /// The kind its group goes by: a set is one database's backup like a
    /// single object of it, so retention and lookups count them together.
    pub fn group_kind(&self) -> Kind {
        group_kind(self.kind())
    }

    /// Whether its data object is there as the manifest describes it, and
    /// its last verification, if any, did not find it damaged (a verdict
    /// is about the backup only: see [`Verification`]).
    pub fn is_intact(&self) -> bool {
        self.state == State::Ok && self.failed_verification().is_none()
    }

    /// Its last verification, if that found it damaged.
    pub fn failed_verification(&self) -> Option<&Verification> {
        self.verified.as_ref().filter(|v| !v.ok)
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

/// A manifest that is there but could not be read or is not a valid
/// manifest: its backup is broken, or unknown, and never taken for absent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Unreadable {
    /// The manifest's object name.
    pub manifest_name: String,
    /// The data object it would describe.
    pub object: String,
    /// Whether reading it failed (storage did not answer as it should), as
    /// opposed to its content not being a valid manifest (bad JSON, a value
    /// out of range, too large).
    pub read_failed: bool,
    /// Why, in one line.
    pub reason: String,
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

/// What an object without a manifest is, by the exact names dbbr gives its
/// side objects; whether it is dbbr's at all is for the caller to decide
/// (see [`crate::Prune::orphans_older_than`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StrayKind {
    /// Named as the hidden staging object of an upload that never
    /// committed: `.NAME.<12 hex digits>.partial`.
    Partial,
    /// Named as a claim of a run writing NAME: `.NAME.<12 hex
    /// digits>.claim`. Removed when the run ends, so one that stays was
    /// left by a killed run.
    Claim,
    /// A verification record (`NAME.verified.json`) of a backup that is no
    /// longer there.
    Record,
    /// Anything else: an object without a manifest.
    NoManifest,
}

/// Everything under a remote and prefix.
#[derive(Debug, Clone, Default, Serialize)]
#[non_exhaustive]
pub struct Catalog {
    /// Committed backups, grouped by engine, kind and database, newest
    /// first within a group.
    pub backups: Vec<StoredBackup>,
    /// Manifests that could not be read or parsed. While there is one,
    /// nothing can be said of which backups exist: [`Catalog::latest`] and
    /// pruning refuse, listing reports it.
    pub unreadable: Vec<Unreadable>,
    /// Objects that are not backups.
    pub strays: Vec<Stray>,
}

/// Which backups a command acts on: the one selection restore (one
/// backup) and verify (any number) take. A lookup among a database's
/// backups is a [`Lookup`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Which {
    /// These backups, by object (or manifest) name.
    Objects(Vec<String>),
    /// The newest backup of this database (a label, as in [`Lookup`]).
    Latest(String),
    /// Every backup.
    All,
}

/// Which backups of a database a lookup is about. The database is a
/// label: a database's name, `all` for a whole server, `globals` for the
/// globals; the kind and engine, when not given, must be the same for every
/// backup of that label, or the lookup refuses to choose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Lookup {
    /// The database (label).
    pub database: String,
    /// Only backups of this engine.
    pub engine: Option<Engine>,
    /// Only backups of these kinds.
    pub kinds: Vec<Kind>,
    /// Only backups that started before this time.
    pub before: Option<DateTime<Utc>>,
}

impl Lookup {
    /// The backups of `database`, of any engine and kind.
    pub fn database(database: impl Into<String>) -> Lookup {
        Lookup {
            database: database.into(),
            ..Lookup::default()
        }
    }

    /// Only backups of `engine`.
    pub fn engine(mut self, engine: Option<Engine>) -> Lookup {
        self.engine = engine;
        self
    }

    /// Only backups of one of `kinds` (none given: any kind).
    pub fn kinds(mut self, kinds: &[Kind]) -> Lookup {
        self.kinds = kinds.to_vec();
        self
    }

    /// Only backups that started before `time`.
    pub fn before(mut self, time: Option<DateTime<Utc>>) -> Lookup {
        self.before = time;
        self
    }

    fn matches(&self, b: &StoredBackup) -> bool {
        b.manifest.database == self.database
            && self.engine.is_none_or(|e| b.manifest.engine == e.name())
            && (self.kinds.is_empty() || kind_selected(&self.kinds, b.kind()))
    }
}

/// The kind a backup of `kind` is grouped by: [`Kind::Set`] counts as
/// [`Kind::Database`] (both hold one database), every other kind as itself.
pub(crate) fn group_kind(kind: Kind) -> Kind {
    if kind.of_one_database() {
        Kind::Database
    } else {
        kind
    }
}

/// Whether a backup of `kind` is one of `kinds`: asking for
/// [`Kind::Database`] also selects sets (asking for [`Kind::Set`] selects
/// sets only).
pub(crate) fn kind_selected(kinds: &[Kind], kind: Kind) -> bool {
    kinds.contains(&kind) || (kind == Kind::Set && kinds.contains(&Kind::Database))
}

impl Catalog {
    /// The backups of `database` (all engines and kinds), newest first.
    pub fn of_database<'a>(
        &'a self,
        database: &'a str,
    ) -> impl Iterator<Item = &'a StoredBackup> + 'a {
        self.backups
            .iter()
            .filter(move |b| b.manifest.database == database)
    }

    /// Fails, naming the first of them, when a manifest could not be read:
    /// which backups exist cannot be told then.
    pub fn require_readable(&self) -> Result<()> {
        match self.unreadable.first() {
            None => Ok(()),
            Some(u) => Err(Error::Storage(format!(
                "{} manifest(s) could not be read, so which backups exist cannot be told: {}: \
                 {} ({})",
                self.unreadable.len(),
                u.manifest_name,
                u.reason,
                if u.read_failed {
                    "try again when storage answers"
                } else {
                    "repair or remove that manifest, e.g. `dbbr remote rm NAME`"
                }
            ))),
        }
    }

    /// The newest intact backup that `lookup` selects. `Err` when it
    /// cannot be told (a manifest could not be read), when the backups of
    /// that database are of several engines or kinds and the lookup does not
    /// say which ([`Error::Config`]), or when there is none.
    pub fn latest(&self, lookup: &Lookup) -> Result<&StoredBackup> {
        self.newest(lookup, true)
    }

    /// The newest backup that `lookup` selects, intact or not (for
    /// verification, which reports a broken one). Errors as [`latest`](Self::latest).
    pub fn newest(&self, lookup: &Lookup, intact_only: bool) -> Result<&StoredBackup> {
        self.require_readable()?;
        let matching: Vec<&StoredBackup> =
            self.backups.iter().filter(|b| lookup.matches(b)).collect();
        let name = &lookup.database;
        let engines: BTreeSet<&str> = matching
            .iter()
            .map(|b| b.manifest.engine.as_str())
            .collect();
        if engines.len() > 1 {
            return Err(Error::config(
                Setting::Selection,
                format!(
                    "`{name}` has backups of several engines ({}): name the engine",
                    engines.into_iter().collect::<Vec<_>>().join(", ")
                ),
            ));
        }
        let kinds: BTreeSet<Kind> = matching.iter().map(|b| b.group_kind()).collect();
        if kinds.len() > 1 {
            return Err(Error::config(
                Setting::Selection,
                format!(
                    "`{name}` names backups of several kinds ({}): restore a database into a \
                     database and a server-wide backup into the server, or name the object",
                    kinds
                        .iter()
                        .map(|k| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let in_time = |b: &&&StoredBackup| lookup.before.is_none_or(|t| b.time() < t);
        let found = matching
            .iter()
            .filter(in_time)
            .filter(|b| !intact_only || b.is_intact())
            .max_by_key(|b| b.time());
        if let Some(found) = found {
            return Ok(found);
        }
        let broken = matching.iter().filter(in_time).count();
        let mut message = format!("no intact backup of `{name}`");
        if let Some(t) = lookup.before {
            message.push_str(&format!(" before {t}"));
        }
        if let Some(e) = lookup.engine {
            message.push_str(&format!(" ({})", e.name()));
        }
        if broken > 0 {
            message.push_str(&format!(" ({broken} broken: see `dbbr list`)"));
        }
        Err(Error::NotFound(message))
    }

    /// The backup whose data object (or manifest) is `name`: `Err` when
    /// there is none, or when its manifest is there but unreadable.
    pub fn find(&self, name: &str) -> Result<&StoredBackup> {
        if let Some(b) = self
            .backups
            .iter()
            .find(|b| b.object() == name || b.manifest_name == name)
        {
            return Ok(b);
        }
        if let Some(u) = self
            .unreadable
            .iter()
            .find(|u| u.object == name || u.manifest_name == name)
        {
            return Err(Error::Storage(format!(
                "{} is broken: its manifest {} could not be read: {}",
                u.object, u.manifest_name, u.reason
            )));
        }
        Err(Error::NotFound(format!(
            "no backup named `{name}` (an object without a manifest is not a backup)"
        )))
    }
}

#[cfg(test)]
mod set_tests;
