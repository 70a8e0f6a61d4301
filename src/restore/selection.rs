//! Which backup a restore reads, and whether its settings fit it: the
//! checks made before any I/O, and the choice among the catalog's backups.

use super::{Restore, Sink};
use crate::catalog::{Catalog, Lookup, State, StoredBackup, Which};
use crate::engine::Engine;
use crate::error::{Error, Result, Setting, Stage};
use crate::manifest::Kind;

impl Restore {
    /// Checks how the settings combine, before any I/O.
    pub(super) fn check_settings(&self, sink: &Sink) -> Result<()> {
        let selection = |message: &str| Err(Error::config(Setting::Selection, message));
        let name = match &self.source {
            Which::Objects(names) if names.len() == 1 => &names[0],
            Which::Latest(name) => name,
            _ => return selection("a restore reads one backup: name one object, or a database"),
        };
        if name.trim().is_empty() || name.contains('\0') {
            return selection("name the backup to restore: an object name, or a database");
        }
        if self.before.is_some() && !matches!(self.source, Which::Latest(_)) {
            return selection(
                "a time (before) selects among the backups of a database: give the database \
                 (latest) instead of an object name",
            );
        }
        let into_database = matches!(sink, Sink::Database(_));
        if let Sink::Database(target) = sink {
            if target.trim().is_empty() || target.contains('\0') {
                return selection(
                    "the target database name is empty: name the database to restore into",
                );
            }
        }
        if (self.create || self.force) && !into_database {
            return selection(
                "create and force are about a target database: restore into a database",
            );
        }
        if self.with_globals && !into_database {
            return selection(
                "globals are replayed before a database: restore into a database, or restore \
                 the globals backup itself into the server",
            );
        }
        self.check_client_args(None)
    }

    /// Refuses client arguments that carry a password or would redirect
    /// the restore; MariaDB's `-pSECRET` and each client's own options only
    /// once the engine is known (`-p` is psql's port).
    pub(super) fn check_client_args(&self, engine: Option<(Engine, bool)>) -> Result<()> {
        crate::engine::refuse_passwords(
            &self.client_args,
            engine.is_some_and(|(e, _)| e == Engine::MariaDb),
            Setting::ClientArgs,
            "give the password by the client's environment (PGPASSWORD, MYSQL_PWD) or a \
             password file",
        )?;
        match (engine, self.engine) {
            (Some((engine, archive)), _) => {
                crate::engine::refuse_redirects(engine, archive, &self.client_args)
            }
            // The backup's format is not known yet: what both psql (plain)
            // and pg_restore (archives) refuse now, the rest once it is.
            (None, Some(Engine::Postgres)) => {
                let plain =
                    crate::engine::refuse_redirects(Engine::Postgres, false, &self.client_args);
                let archive =
                    crate::engine::refuse_redirects(Engine::Postgres, true, &self.client_args);
                match (plain, archive) {
                    (Err(e), Err(_)) => Err(e),
                    _ => Ok(()),
                }
            }
            (None, Some(engine)) => {
                crate::engine::refuse_redirects(engine, false, &self.client_args)
            }
            (None, None) => crate::engine::refuse_redirects_any_engine(&self.client_args),
        }
    }

    /// The backup the source names, of a kind the sink takes, intact.
    pub(super) fn select<'a>(&self, catalog: &'a Catalog, sink: &Sink) -> Result<&'a StoredBackup> {
        let backup = match &self.source {
            Which::Latest(database) => {
                let kinds: &[Kind] = match sink {
                    Sink::Database(_) => &[Kind::Database],
                    Sink::Server => &[Kind::Server, Kind::Globals],
                    Sink::Writer(_) => &[],
                };
                let lookup = Lookup::database(database.clone())
                    .engine(self.engine)
                    .kinds(kinds)
                    .before(self.before);
                let found = match catalog.latest(&lookup) {
                    Err(Error::NotFound(message)) => {
                        return Err(other_kinds(catalog, database, kinds)
                            .unwrap_or(Error::NotFound(message)))
                    }
                    found => found?,
                };
                if let Ok(newest) = catalog.newest(&lookup, false) {
                    if newest.object() != found.object() {
                        let why = match newest.failed_verification() {
                            Some(_) => " (its last verification failed)",
                            None => "",
                        };
                        tracing::warn!(
                            "the newest backup of {database}, {}, is broken{why}: restoring {}",
                            newest.object(),
                            found.object()
                        );
                    }
                }
                found
            }
            // check_settings let only one object through.
            Which::Objects(names) => match names.as_slice() {
                [name] => catalog.find(name)?,
                _ => return Err(Error::config(Setting::Selection, "name one backup")),
            },
            Which::All => return Err(Error::config(Setting::Selection, "name one backup")),
        };
        match &backup.state {
            State::Ok => Ok(backup),
            State::Missing => Err(Error::NotFound(format!(
                "{} is broken: its manifest is there but its object is missing",
                backup.object()
            ))),
            State::SizeMismatch { size } => Err(Error::Restore {
                backup: backup.object().into(),
                stage: Stage::Integrity,
                message: format!(
                    "stored size {size} differs from the manifest's {}",
                    backup.manifest.stored_bytes
                ),
            }),
        }
    }
}

/// When `database` names no backup of `kinds` but backups of other kinds,
/// the error that says where those go.
fn other_kinds(catalog: &Catalog, database: &str, kinds: &[Kind]) -> Option<Error> {
    let other = catalog
        .of_database(database)
        .map(StoredBackup::kind)
        .find(|k| !kinds.contains(k))?;
    Some(Error::config(
        Setting::Selection,
        match other {
            Kind::Database | Kind::Set => format!(
                "`{database}` names backups of a database, not of the server: name a database \
                 to restore into"
            ),
            Kind::Server => {
                format!("`{database}` names whole-server backups: restore them into the server")
            }
            _ => format!(
                "`{database}` names backups of the server's globals: restore them into the server"
            ),
        },
    ))
}

/// The intact globals backup that `backup`'s run wrote.
pub(super) fn globals_of<'a>(
    catalog: &'a Catalog,
    backup: &StoredBackup,
) -> Result<&'a StoredBackup> {
    let run = backup.manifest.run_id.as_deref();
    catalog
        .backups
        .iter()
        .filter(|b| b.kind() == Kind::Globals && b.is_intact())
        .filter(|b| b.manifest.engine == backup.manifest.engine)
        .find(|b| run.is_some() && b.manifest.run_id.as_deref() == run)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no globals backup from the run that wrote {}: back up with globals \
                 (BACKUP_GLOBALS=true), or restore without them",
                backup.object()
            ))
        })
}
