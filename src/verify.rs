//! Proves backups, from storage alone, at three levels: quick (the object is
//! there, its size and SHA-256 match the manifest), full (also decrypted and
//! decompressed to the end, rows and completion line as the manifest says),
//! and a restore drill (restored into a scratch database, row counts
//! compared): see `levels`. Each verdict can be written next to the
//! manifest for `list`. A parallel backup set is checked part by part (see
//! `set`), and its verdict names the failing part.
//!
//! A verdict is about the backup only. A problem of the environment it is
//! checked in (storage that does not answer, a wrong identity file, an
//! unreachable database, a scratch database that exists) stops the run with
//! an error and records nothing, so an earlier record stays as it was
//! (`verdict` tells the two apart).

use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::Utc;

use crate::catalog::{Catalog, Lookup, State, StoredBackup, Which};
use crate::encode::Identities;
use crate::engine::Engine;
use crate::error::{Error, Result, Setting, Stage};
use crate::manifest::{Kind, Verification, VerifyLevel, VERIFIED_SUFFIX};
use crate::report::{NoProgress, Progress};
use crate::storage::{Remote, RemoteSpec};

mod levels;
mod set;
mod verdict;

use levels::quick;
use verdict::{damaged, decrypt_failed, Outcome};

/// A verification run, configured with chained calls.
///
/// ```no_run
/// let report = dbbr::Verify::new(dbbr::Which::Latest("app".into()))
///     .remote("store")
///     .identity_file("/etc/dbbr/key.txt")
///     .run()?;
/// assert!(report.all_ok());
/// # Ok::<(), dbbr::Error>(())
/// ```
pub struct Verify {
    which: Which,
    engine: Option<Engine>,
    kind: Option<Kind>,
    remote: RemoteSpec,
    prefix: String,
    level: VerifyLevel,
    scratch: Option<String>,
    identity_file: Option<PathBuf>,
    identities: Option<Arc<Identities>>,
    password_file: Option<PathBuf>,
    record: bool,
    progress: Arc<dyn Progress>,
    cancel: Arc<AtomicBool>,
}

/// The outcome for one backup.
#[derive(Debug)]
#[non_exhaustive]
pub struct Verified {
    /// The backup's data object.
    pub object: String,
    /// The database it is of.
    pub database: String,
    /// Its engine (`postgresql`, `mariadb`), as its manifest says.
    pub engine: String,
    /// The level reached: lower than asked when an encrypted backup could
    /// only be checked without its identity.
    pub level: VerifyLevel,
    /// What was proven, or what failed.
    pub result: Result<String>,
}

/// The outcome of a run.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct VerifyReport {
    /// One entry per backup, in catalog order.
    pub backups: Vec<Verified>,
}

impl VerifyReport {
    /// Whether every backup passed.
    pub fn all_ok(&self) -> bool {
        self.backups.iter().all(|b| b.result.is_ok())
    }
}

impl Verify {
    /// Verifies `which` in full (see [`Verify::quick`], [`Verify::restore_into`]).
    pub fn new(which: Which) -> Verify {
        Verify {
            which,
            engine: None,
            kind: None,
            remote: "store".into(),
            prefix: String::new(),
            level: VerifyLevel::Full,
            scratch: None,
            identity_file: None,
            identities: None,
            password_file: None,
            record: true,
            progress: Arc::new(NoProgress),
            cancel: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Only backups of this engine: needed with [`Which::Latest`] when the
    /// database has backups of several engines.
    pub fn engine(mut self, engine: Engine) -> Verify {
        self.engine = Some(engine);
        self
    }

    /// Only backups of this kind: with [`Which::Latest`], when a label
    /// names backups of several kinds (a database called `all` and
    /// whole-server backups).
    pub fn kind(mut self, kind: Kind) -> Verify {
        self.kind = Some(kind);
        self
    }

    /// rclone remote name, `name:path` or connection string, or a
    /// [`Remote`]. Default `store`.
    pub fn remote(mut self, remote: impl Into<RemoteSpec>) -> Verify {
        self.remote = remote.into();
        self
    }

    /// Path below the remote where the backups are.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Verify {
        self.prefix = prefix.into();
        self
    }

    /// Only check the object's presence, size and SHA-256 (no identity needed).
    pub fn quick(mut self) -> Verify {
        self.level = VerifyLevel::Quick;
        self
    }

    /// Also restore each backup into database `scratch` (created for the
    /// drill, which must not exist, and dropped afterwards), and compare each
    /// table's row count with the manifest's.
    pub fn restore_into(mut self, scratch: impl Into<String>) -> Verify {
        self.level = VerifyLevel::Restore;
        self.scratch = Some(scratch.into());
        self
    }

    /// The identity file that decrypts the backups.
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Verify {
        self.identity_file = Some(path.into());
        self
    }

    /// Identities already loaded.
    pub fn identities(mut self, identities: impl Into<Arc<Identities>>) -> Verify {
        self.identities = Some(identities.into());
        self
    }

    /// Read the database password (for restore drills) from a file.
    pub fn password_file(mut self, path: impl Into<PathBuf>) -> Verify {
        self.password_file = Some(path.into());
        self
    }

    /// Whether to write each verdict next to its manifest
    /// (`NAME.verified.json`). Default yes.
    pub fn record(mut self, yes: bool) -> Verify {
        self.record = yes;
        self
    }

    /// Receives progress while a backup is read in full (or restored in a
    /// drill): `started`, `sized` and `advanced` about once a second, with
    /// the backup's database and object.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Verify {
        self.progress = progress;
        self
    }

    /// A flag that stops the run when set (e.g. from a signal handler):
    /// [`run`](Verify::run) then returns [`Error::Interrupted`], and a drill
    /// drops its scratch database. Verdicts recorded before it stand.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Verify {
        self.cancel = flag;
        self
    }

    /// Verifies each selected backup; a damaged one does not stop the
    /// others. `Err` when the run could not start (settings, storage,
    /// nothing selected, a manifest that could not be read while choosing
    /// the latest) or the environment failed a check (storage, a wrong
    /// identity, the drill's database): verdicts recorded before it stand.
    pub fn run(mut self) -> Result<VerifyReport> {
        if let Some(scratch) = &self.scratch {
            if scratch.trim().is_empty() || scratch.contains('\0') {
                return Err(Error::config(
                    Setting::Selection,
                    "the scratch database name is empty: name a database that does not exist",
                ));
            }
        }
        let remote = self.remote.resolve(&self.prefix)?;
        let identities =
            Identities::given_or_read(self.identities.take(), self.identity_file.as_deref())?;
        remote.check()?;
        let catalog = Catalog::read(&remote)?;
        let selected = self.select(&catalog)?;
        let mut report = VerifyReport::default();
        for backup in selected {
            if self.cancelled() {
                return Err(Error::Interrupted);
            }
            let (level, result) = match self.one(&remote, backup, identities.as_ref()) {
                Outcome::Verdict(level, result) => (level, result),
                Outcome::Environment(e) => return Err(e),
            };
            if self.record {
                self.write_record(&remote, backup, level, &result);
            }
            report.backups.push(Verified {
                object: backup.object().to_string(),
                database: backup.manifest.database.clone(),
                engine: backup.manifest.engine.clone(),
                level,
                result,
            });
        }
        // Manifests that are there but are not valid: damaged backups,
        // reported (not recorded: there is no manifest to record against).
        if self.which == Which::All {
            for u in &catalog.unreadable {
                report.backups.push(Verified {
                    object: u.object.clone(),
                    database: String::new(),
                    engine: String::new(),
                    level: VerifyLevel::Quick,
                    result: Err(Error::Damaged {
                        backup: u.object.clone(),
                        stage: Stage::Manifest,
                        message: format!("{} is unreadable: {}", u.manifest_name, u.reason),
                    }),
                });
            }
        }
        Ok(report)
    }

    fn select<'a>(&self, catalog: &'a Catalog) -> Result<Vec<&'a StoredBackup>> {
        let engine = |b: &&StoredBackup| {
            self.engine.is_none_or(|e| e.name() == b.manifest.engine)
                && self
                    .kind
                    .is_none_or(|k| crate::catalog::kind_selected(&[k], b.kind()))
        };
        let selected: Vec<&StoredBackup> = match &self.which {
            Which::All => {
                // A manifest that could not be read may be any backup's:
                // unknown, so the run stops (one that is not valid is a
                // damaged backup, reported by run).
                if let Some(u) = catalog.unreadable.iter().find(|u| u.read_failed) {
                    return Err(Error::Storage(format!(
                        "the manifest {} could not be read: {} (try again when storage answers)",
                        u.manifest_name, u.reason
                    )));
                }
                catalog.backups.iter().filter(engine).collect()
            }
            Which::Latest(database) => {
                let kinds: Vec<Kind> = self.kind.into_iter().collect();
                let lookup = Lookup::database(database.clone())
                    .engine(self.engine)
                    .kinds(&kinds);
                vec![catalog.newest(&lookup, false)?]
            }
            Which::Objects(names) => names
                .iter()
                .map(|name| catalog.find(name))
                .collect::<Result<_>>()?,
        };
        if selected.is_empty() && (self.which != Which::All || catalog.unreadable.is_empty()) {
            return Err(Error::NotFound("no backups to verify".into()));
        }
        Ok(selected)
    }

    /// Verifies one backup: a verdict, or a problem of the environment.
    fn one(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        identities: Option<&Arc<Identities>>,
    ) -> Outcome {
        let manifest = &backup.manifest;
        // A set's first bad part, and its recorded size.
        let part = backup.bad_part.as_deref().and_then(|name| {
            let parts = &set::layout_of(backup)?.parts;
            parts.iter().find(|p| p.object == name)
        });
        match (&backup.state, part) {
            (State::Ok, _) => {}
            (State::Missing, part) => {
                let message = match part {
                    Some(part) => format!("part {} is missing", part.object),
                    None => "the object is missing".into(),
                };
                return Outcome::Verdict(
                    VerifyLevel::Quick,
                    Err(damaged(backup, Stage::Object, message)),
                );
            }
            (State::SizeMismatch { size }, part) => {
                let message = match part {
                    Some(part) => format!(
                        "part {}: stored size {size}, manifest {}",
                        part.object, part.stored_bytes
                    ),
                    None => format!("stored size {size}, manifest {}", manifest.stored_bytes),
                };
                return Outcome::Verdict(
                    VerifyLevel::Quick,
                    Err(damaged(backup, Stage::Integrity, message)),
                );
            }
        }
        let can_decrypt = !manifest.encrypted || identities.is_some();
        if self.level == VerifyLevel::Quick || !can_decrypt {
            let result = quick(remote, backup).map(|()| {
                if self.level == VerifyLevel::Quick {
                    "size and sha256 match the manifest".to_string()
                } else {
                    "encrypted and no identity given: only size and sha256 were checked".to_string()
                }
            });
            return Outcome::of(VerifyLevel::Quick, result);
        }
        let full = match self.full(remote, backup, identities.map(|i| &**i)) {
            // The object is what was written, and does not decrypt: the
            // identity is not one of its recipients.
            Err(e) if decrypt_failed(&e) && quick(remote, backup).is_ok() => {
                return Outcome::Environment(Error::config(
                    Setting::IdentityFile,
                    format!(
                        "{} does not decrypt with the identity given, and is intact (its \
                         sha256 matches the manifest): use the key of one of its recipients \
                         ({})",
                        backup.object(),
                        manifest.recipients.join(", ")
                    ),
                ))
            }
            other => other,
        };
        // A drill of a server-wide backup would change the server: they are
        // checked in full only. A set is drilled as a restore restores it.
        if full.is_err() || self.level == VerifyLevel::Full || manifest.kind().into_server() {
            return Outcome::of(VerifyLevel::Full, full);
        }
        let scratch = self.scratch.as_deref().unwrap_or_default();
        match self.drill(remote, backup, identities, scratch) {
            Ok(detail) => Outcome::Verdict(VerifyLevel::Restore, Ok(detail)),
            Err(e) => Outcome::of(VerifyLevel::Restore, Err(e)),
        }
    }

    /// Whether the run was cancelled or the process interrupted.
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || crate::interrupt::interrupted()
    }

    fn write_record(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        level: VerifyLevel,
        result: &Result<String>,
    ) {
        let record = Verification {
            verified_at: Utc::now(),
            level,
            ok: result.is_ok(),
            detail: match result {
                Ok(detail) => detail.clone(),
                Err(e) => e.to_string(),
            },
        };
        let name = format!("{}{VERIFIED_SUFFIX}", backup.object());
        let text = serde_json::to_string_pretty(&record).expect("a record always serialises");
        // The record is replaced: delete the old one first (uploads never
        // overwrite).
        let written = remote
            .stat(&name)
            .and_then(|old| match old {
                Some(_) => remote.delete(&name),
                None => Ok(()),
            })
            .and_then(|()| {
                let mut upload = remote.upload(&name)?;
                io::Write::write_all(&mut upload, text.as_bytes())
                    .map_err(|e| Error::io(format!("writing {name}"), e))?;
                upload.commit().map(drop)
            });
        if let Err(e) = written {
            tracing::warn!(
                "could not record the verification of {}: {e}",
                backup.object()
            );
        }
    }
}
