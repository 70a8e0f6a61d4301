//! Restores into a database, all or nothing: into an existing one as one
//! transaction (PostgreSQL); into a new one under a temporary name renamed
//! into place at the end (PostgreSQL); through a staging database whose
//! tables move into the target at once (MariaDB). What a failed restore
//! made is dropped.

use super::{Context, Totals};
use crate::engine::{DatabaseState, Destination, Engine};
use crate::error::{Error, Result, Setting};
use crate::run_id::RunId;

/// A database name of dbbr's own for one restore: where a restore into a
/// new database (PostgreSQL) or a staged restore (MariaDB) goes first.
fn staging_name() -> String {
    format!("dbbr_restore_{}", RunId::new())
}

impl Context<'_> {
    /// Restores into database `name`, all or nothing.
    pub(super) fn to_database(&self, name: &str) -> Result<Totals> {
        let kind = self.kind();
        let restore = self.restore;
        let state = kind.database_state(name, &self.connection)?;
        match state {
            DatabaseState::Missing if !restore.create => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "database `{name}` does not exist: create it, or ask for it to be created"
                    ),
                ))
            }
            DatabaseState::HasTables if !restore.force => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "database `{name}` already has tables: restore into an empty \
                         database, or force it"
                    ),
                ))
            }
            _ => {}
        }
        let missing = state == DatabaseState::Missing;
        let verify = restore
            .verify_first
            .unwrap_or(kind.dump_names_its_database());
        if verify {
            let found = self.verify_whole()?;
            if !found.is_empty() && !restore.scratch && self.opened.engine == Engine::MariaDb {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "{} holds {}, which MariaDB cannot move into place at once, so it \
                         cannot be restored all-or-nothing and nothing was changed: restore it \
                         by hand (`dbbr restore ... --to-stdout | mariadb DB`), which is not \
                         all-or-nothing",
                        self.opened.backup.object(),
                        found.join(", ")
                    ),
                ));
            }
        }
        let totals = if restore.scratch {
            if missing {
                kind.create_database(name, &self.connection)?;
            }
            self.stream(self.client(Destination::Database(name))?)?
        } else {
            match self.opened.engine {
                Engine::Postgres if missing => self.to_new_database(name)?,
                Engine::Postgres => self.stream(self.client(Destination::Database(name))?)?,
                _ => self.staged(name, missing)?,
            }
        };
        Ok((totals.0, totals.1, verify))
    }

    /// PostgreSQL into a database that does not exist: restored into a new
    /// database of a temporary name, renamed into place at the end.
    fn to_new_database(&self, name: &str) -> Result<(u64, u64)> {
        let kind = self.kind();
        let (staging, streamed) = self.restored_staged()?;
        let done = streamed.and_then(|totals| {
            kind.rename_database(&staging, name, &self.connection)?;
            Ok(totals)
        });
        if done.is_err() {
            self.drop_made(&staging);
        }
        done
    }

    /// MariaDB: restored into a staging database, whose tables then move
    /// into the target in one atomic `RENAME TABLE`.
    fn staged(&self, name: &str, missing: bool) -> Result<(u64, u64)> {
        let kind = self.kind();
        let (staging, streamed) = self.restored_staged()?;
        let done = streamed.and_then(|totals| {
            if missing {
                kind.create_database(name, &self.connection)?;
            }
            let moved = kind.move_tables(&staging, name, &self.connection);
            if moved.is_err() && missing {
                self.drop_made(name);
            }
            moved.map(|()| totals)
        });
        self.drop_made(&staging);
        done
    }

    /// The backup restored into a new database of dbbr's own name: that
    /// name, and how the restore into it went (the caller drops it).
    fn restored_staged(&self) -> Result<(String, Result<(u64, u64)>)> {
        let staging = self.create_staging()?;
        let streamed = self
            .client(Destination::Database(&staging))
            .and_then(|client| self.stream(client));
        Ok((staging, streamed))
    }

    /// Creates a database of dbbr's own name for this restore. If that
    /// fails, the name is dropped too: the client may have been stopped
    /// after the server had made it.
    pub(super) fn create_staging(&self) -> Result<String> {
        let kind = self.kind();
        let staging = staging_name();
        if let Err(e) = kind.create_database(&staging, &self.connection) {
            if let Err(d) = kind.drop_database(&staging, &self.connection) {
                tracing::error!(
                    "could not drop database {staging}, which the restore may have made: {d} \
                     (drop it by hand if it is there)"
                );
            }
            return Err(e);
        }
        Ok(staging)
    }

    /// Drops a database this restore made, also after a signal (bounded).
    pub(super) fn drop_made(&self, name: &str) {
        match self.kind().drop_database(name, &self.connection) {
            Ok(()) => tracing::info!("dropped database {name}, which the restore had made"),
            Err(e) => tracing::error!(
                "could not drop database {name}, which the restore had made: {e} (drop it by hand)"
            ),
        }
    }
}
