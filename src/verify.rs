//! Proves backups, from storage alone, at three levels: quick (the object is
//! there, its size and SHA-256 match the manifest), full (also decrypted and
//! decompressed to the end, rows and completion line as the manifest says),
//! and a restore drill (restored into a scratch database, row counts
//! compared). Each verdict can be written next to the manifest for `list`.
//! A parallel backup set is checked part by part (see `set`), and its
//! verdict names the failing part.
//!
//! A verdict is about the backup only. A problem of the environment it is
//! checked in (storage that does not answer, a wrong identity file, an
//! unreachable database, a scratch database that exists) stops the run with
//! an error and records nothing, so an earlier record stays as it was.

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;

use crate::catalog::{Catalog, Lookup, State, StoredBackup, Which};
use crate::decode::check_stored;
use crate::encode::Identities;
use crate::engine::{DatabaseState, Engine};
use crate::error::{Error, Result, Setting, Stage};
use crate::evidence::DumpInspector;
use crate::manifest::{Kind, Verification, VerifyLevel, VERIFIED_SUFFIX};
use crate::report::{NoProgress, Progress};
use crate::restore::Restore;
use crate::storage::{Remote, RemoteSpec};
use crate::stored::{read_through, Opened};

mod set;

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

    /// Restores into `scratch` and compares row counts with the manifest.
    fn drill(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        identities: Option<&Arc<Identities>>,
        scratch: &str,
    ) -> Result<String> {
        let manifest = &backup.manifest;
        let opened = Opened::new(remote, backup)?;
        let engine = opened.engine;
        let connection = opened.connect(self.password_file.as_deref())?;
        if engine.kind().database_state(scratch, &connection)? != DatabaseState::Missing {
            return Err(Error::config(
                Setting::Selection,
                format!(
                    "scratch database `{scratch}` exists: a drill creates and drops its own, \
                     name one that does not exist"
                ),
            ));
        }
        let mut restore = Restore::object(backup.object())
            .to_database(scratch)
            .create(true)
            .verify_first(false)
            .progress(Arc::clone(&self.progress))
            .cancel_flag(Arc::clone(&self.cancel));
        if let Some(ids) = identities {
            restore = restore.identities(Arc::clone(ids));
        }
        if let Some(path) = &self.password_file {
            restore = restore.password_file(path);
        }
        let restored = restore
            .run_drill(remote, backup)
            .map_err(|e| verdict(backup, e));
        let counted = restored.and_then(|_| engine.kind().row_counts(scratch, &connection));
        if let Err(e) = engine.kind().drop_database(scratch, &connection) {
            tracing::warn!("could not drop the scratch database {scratch}: {e}");
        }
        let counted = counted?;
        let expected = manifest
            .dump
            .as_ref()
            .map(|d| tables_of(&d.rows, &manifest.database))
            .unwrap_or_default();
        if expected != counted {
            return Err(damaged(
                backup,
                Stage::Rows,
                format!(
                    "the restored tables' row counts {counted:?} differ from the manifest's \
                     {expected:?}"
                ),
            ));
        }
        Ok(format!(
            "restored into {scratch}: {} tables, row counts as in the manifest",
            counted.len()
        ))
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

/// What checking one backup gave.
enum Outcome {
    /// A verdict about the backup, at the level reached.
    Verdict(VerifyLevel, Result<String>),
    /// The check could not be made: not the backup's fault.
    Environment(Error),
}

impl Outcome {
    /// A check's result: a failure that says the backup is damaged is a
    /// verdict; anything else (storage, identity, database, settings, a
    /// signal) is the environment's.
    fn of(level: VerifyLevel, result: Result<String>) -> Outcome {
        match result {
            Ok(detail) => Outcome::Verdict(level, Ok(detail)),
            Err(e @ Error::Damaged { .. }) => Outcome::Verdict(level, Err(e)),
            Err(e) => Outcome::Environment(e),
        }
    }
}

/// Whether `e` is a failure to decrypt (which a wrong identity also gives).
fn decrypt_failed(e: &Error) -> bool {
    matches!(e, Error::Damaged { stage, .. } if *stage == Stage::Decrypt)
}

/// Table row counts as a restored database names its tables: the manifest
/// of a MariaDB dump keys them `db.table` (after the dump's `USE`).
fn tables_of(rows: &BTreeMap<String, u64>, database: &str) -> BTreeMap<String, u64> {
    let prefix = format!("{database}.");
    rows.iter()
        .map(|(table, n)| {
            let table = table.strip_prefix(&prefix).unwrap_or(table);
            (table.to_string(), *n)
        })
        .collect()
}

/// A verdict: `backup` is damaged at `stage`.
fn damaged(backup: &StoredBackup, stage: Stage, message: String) -> Error {
    Error::Damaged {
        backup: backup.object().into(),
        stage,
        message,
    }
}

/// A decoding failure as a verdict about `backup` (integrity, decrypt,
/// decompress); a failed download (storage) as it is.
fn verdict(backup: &StoredBackup, e: Error) -> Error {
    match e {
        Error::Decode { stage, message } if stage != Stage::Download => Error::Damaged {
            backup: backup.object().into(),
            stage,
            message,
        },
        Error::Restore { stage, message, .. }
            if stage != Stage::Download && !message.contains("not found") =>
        {
            Error::Damaged {
                backup: backup.object().into(),
                stage,
                message,
            }
        }
        // Listed, then gone: the object is missing.
        Error::NotFound(message) => Error::Damaged {
            backup: backup.object().into(),
            stage: Stage::Object,
            message,
        },
        other => other,
    }
}

/// Downloads the object (every part of a set) and compares its size and
/// SHA-256 with the manifest.
fn quick(remote: &Remote, backup: &StoredBackup) -> Result<()> {
    if let Some(layout) = set::layout_of(backup) {
        return set::quick(remote, backup, layout);
    }
    let download = remote
        .download(backup.object())
        .map_err(|e| verdict(backup, e))?;
    check_stored(download, &backup.manifest.expected()).map_err(|e| verdict(backup, e))
}

impl Verify {
    /// Whether the run was cancelled or the process interrupted.
    fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed) || crate::interrupt::interrupted()
    }

    /// Reads the whole stream: age authentication, the compressed stream's
    /// checksums, and the rows and completion line against the manifest.
    fn full(
        &self,
        remote: &Remote,
        backup: &StoredBackup,
        identities: Option<&Identities>,
    ) -> Result<String> {
        if let Some(layout) = set::layout_of(backup) {
            return self.full_set(remote, backup, layout, identities);
        }
        let manifest = &backup.manifest;
        let decoder = Opened::new(remote, backup)
            .and_then(|opened| opened.decoder(identities))
            .map_err(|e| verdict(backup, e))?;
        let label = &manifest.database;
        self.progress.started(label, backup.object());
        self.progress.sized(label, manifest.stored_bytes);
        let mut inspector = DumpInspector::new();
        let clock = Instant::now();
        let mut last = Instant::now();
        read_through(
            decoder,
            || self.cancelled(),
            |piece, decoder| {
                inspector.update(piece);
                if last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    let (raw, stored) = (decoder.raw_bytes(), decoder.stored_bytes());
                    self.progress.advanced(label, raw, stored, clock.elapsed());
                }
            },
        )
        .map_err(|e| verdict(backup, e))?;
        verdict_on_rows(backup, inspector)
    }
}

/// How often progress is reported while a backup is read.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// What a full read saw, against the manifest's rows and completion line.
fn verdict_on_rows(backup: &StoredBackup, inspector: DumpInspector) -> Result<String> {
    let manifest = &backup.manifest;
    let seen = inspector.finish();
    let Some(recorded) = &manifest.dump else {
        return Ok(
            "decrypted and decompressed in full (a format 1 manifest records no rows)".into(),
        );
    };
    if seen.completion_line != recorded.completion_line {
        return Err(damaged(
            backup,
            Stage::Rows,
            format!(
                "completion line seen: {:?}, manifest: {:?}",
                seen.completion_line, recorded.completion_line
            ),
        ));
    }
    if seen.rows != recorded.rows {
        return Err(damaged(
            backup,
            Stage::Rows,
            "the rows per table differ from the manifest's".to_string(),
        ));
    }
    Ok(format!(
        "decrypted and decompressed in full; {} tables, {} rows and the completion line as in the manifest",
        seen.rows.len(),
        seen.rows.values().sum::<u64>()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mariadb_table_keys_lose_their_database() {
        let rows: BTreeMap<String, u64> =
            [("shop.items".to_string(), 3), ("other".to_string(), 1)].into();
        let tables = tables_of(&rows, "shop");
        assert_eq!(
            tables,
            [("items".to_string(), 3), ("other".to_string(), 1)].into()
        );
    }
}
