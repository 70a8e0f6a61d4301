//! One type per database kind. Each knows which programs to run, their dump
//! arguments, the client environment (the password by environment only) and
//! the version probes; a backup asks its engine and does not know PostgreSQL
//! from MariaDB. Adding an engine means a file here, a line in
//! [`Engine::kind`], and the CLI's list of engines.

use std::collections::BTreeMap;
use std::process::Command;

use crate::dump::DumpCommand;
use crate::error::Result;

mod argv;
mod client;
mod connect;
mod mariadb;
mod pg_query;
mod pg_session;
mod pg_set;
mod pg_set_restore;
mod pg_version;
mod postgres;
mod set_args;

pub(crate) use argv::refuse_passwords;
pub(crate) use client::{run_to_end_bytes, Connection, Input};
pub(crate) use connect::{refuse_redirects, refuse_redirects_any_engine};
pub(crate) use pg_set::{SetSource, TableInfo};
pub(crate) use pg_set_restore::{session_name as set_session_name, SetTarget};
pub(crate) use set_args::refuse_set_args;

/// Database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// PostgreSQL (`pg_dump`, `pg_dumpall`).
    Postgres,
    /// MariaDB or MySQL (`mariadb-dump`, `mysqldump`).
    MariaDb,
}

impl Engine {
    /// The engine's name: `postgresql` or `mariadb`.
    pub fn name(self) -> &'static str {
        self.kind().name()
    }

    /// The engine named `name` (`postgresql`, `mariadb`), as manifests
    /// record it.
    pub fn from_name(name: &str) -> Option<Engine> {
        [Engine::Postgres, Engine::MariaDb]
            .into_iter()
            .find(|e| e.name() == name)
    }

    /// What this engine does, in one place.
    pub(crate) fn kind(self) -> &'static dyn DatabaseKind {
        match self {
            Engine::Postgres => &postgres::Postgres,
            Engine::MariaDb => &mariadb::MariaDb,
        }
    }
}

/// What one dump covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// One database, by name.
    Database(String),
    /// Every database of the server (with roles, for PostgreSQL).
    All,
    /// What belongs to the server rather than to one database: roles and
    /// tablespaces (`pg_dumpall --globals-only`), users and grants
    /// (`mariadb-dump --system=users`).
    Globals,
}

impl Target {
    /// The database name, or `all`.
    pub(crate) fn label(&self) -> &str {
        match self {
            Target::Database(name) => name,
            Target::All => "all",
            Target::Globals => GLOBALS,
        }
    }
}

/// The label (and `$DB` in object names) of a [`Target::Globals`] dump.
pub(crate) const GLOBALS: &str = "globals";

/// A database as the server lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    /// Its name.
    pub name: String,
    /// Its size on the server in bytes, as the server reports it (a rough
    /// guide to the size of its dump).
    pub bytes: u64,
}

/// Where a restore goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Destination<'a> {
    /// Into this database (a one-database dump).
    Database(&'a str),
    /// Into the server (a whole-server dump).
    Server,
}

/// What a database holds, as a restore sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DatabaseState {
    /// There is no such database.
    Missing,
    /// It exists and has no tables.
    Empty,
    /// It exists and has tables.
    HasTables,
}

/// Everything that differs between database engines.
pub(crate) trait DatabaseKind: Sync {
    /// `postgresql` or `mariadb`: manifests and messages use it.
    fn name(&self) -> &'static str;

    /// The variable through which the clients take a password.
    fn password_var(&self) -> &'static str;

    /// The variable naming a file holding the password.
    fn password_file_var(&self) -> &'static str;

    /// Rejects dump arguments that cannot stream to standard output (an
    /// output file, PostgreSQL's directory format), before any I/O.
    fn check_dump_args(&self, extra_args: &[String]) -> Result<()>;

    /// What `extra_args` make the dump: `None` for SQL text, or the archive
    /// kind (`dump`, `tar`) and whether the tool compresses it already.
    fn archive(&self, _extra_args: &[String]) -> Option<(&'static str, bool)> {
        None
    }

    /// The dump of `target`, with the user's `extra_args` after ours.
    fn dump_command(
        &self,
        target: &Target,
        extra_args: &[String],
        conn: &Connection,
    ) -> DumpCommand;

    /// The dump tool's `--version` line (for whole-server dumps if `all`);
    /// `None` if the tool is missing or fails.
    fn tool_version(&self, all: bool) -> Option<String>;

    /// The server's version, best effort, with the dump's connection
    /// settings; `None` on any failure. Never prompts.
    fn server_version(&self, conn: &Connection, dump_args: &[String]) -> Option<String>;

    /// The databases a one-database-per-object backup of the whole server
    /// covers: those the user may connect to, without templates and the
    /// server's own schemas, with their sizes; connected as the dump connects.
    fn databases(&self, conn: &Connection, dump_args: &[String]) -> Result<Vec<Listed>>;

    /// Refuses a dump tool that cannot dump the server, given the versions
    /// [`tool_version`](Self::tool_version) and
    /// [`server_version`](Self::server_version) found (before any dump).
    fn check_versions(&self, _tool: Option<&str>, _server: Option<&str>) -> Result<()> {
        Ok(())
    }

    /// Connects to `target`'s database as its dump would and returns the
    /// server's version; a failure says why (the client's last error lines).
    fn probe(&self, target: &Target, conn: &Connection, dump_args: &[String]) -> Result<String>;

    /// The client that replays an SQL script into `to`, with `client_args`
    /// (`archive`: the script comes from an archive through
    /// [`archive_script`](Self::archive_script), which takes the arguments
    /// that are not about connecting); its program. The client stops at the
    /// first error; the restore decides where a transaction begins and
    /// ends.
    fn restore_command(
        &self,
        to: Destination<'_>,
        archive: bool,
        client_args: &[String],
        conn: &Connection,
    ) -> (Command, String);

    /// The program that turns an archive (a PostgreSQL custom or tar
    /// archive) on its stdin into an SQL script on its stdout for
    /// [`restore_command`](Self::restore_command)'s client, with the client
    /// arguments that are not about connecting; `None` for an engine
    /// without archives.
    fn archive_script(
        &self,
        _to: Destination<'_>,
        _client_args: &[String],
    ) -> Option<(Command, String)> {
        None
    }

    /// Whether a one-database dump names its database itself (MariaDB's
    /// `CREATE DATABASE` / `USE` lines): those lines must be left out to
    /// restore it under another name.
    fn dump_names_its_database(&self) -> bool;

    /// Whether a globals dump creates roles without checking that they
    /// exist (PostgreSQL's `CREATE ROLE`), so that its replay must skip
    /// those that do; MariaDB's says `CREATE USER IF NOT EXISTS` itself.
    fn globals_recreate_roles(&self) -> bool;

    /// Whether database `name` exists and has tables.
    fn database_state(&self, name: &str, conn: &Connection) -> Result<DatabaseState>;

    /// Creates database `name`.
    fn create_database(&self, name: &str, conn: &Connection) -> Result<()>;

    /// Drops database `name` if it exists. Being clean-up (of what a failed
    /// or interrupted restore made), it runs after an interrupt too, for a
    /// few seconds at most.
    fn drop_database(&self, name: &str, conn: &Connection) -> Result<()>;

    /// Renames database `from` to `to`, which must not exist (PostgreSQL:
    /// how a restore into a new database puts it in place at once).
    fn rename_database(&self, from: &str, to: &str, conn: &Connection) -> Result<()>;

    /// Moves every table of database `from` into database `to` in one
    /// atomic statement; if one of them exists in `to`, nothing moves
    /// (MariaDB: how a staged restore puts its tables in place at once).
    fn move_tables(&self, from: &str, to: &str, conn: &Connection) -> Result<()>;

    /// Whether the transaction of id `xid` committed (`Some(true)`), did
    /// not (`Some(false)`), or cannot be told (`None`): how a restore whose
    /// client died after dbbr sent `COMMIT` learns whether it took effect.
    /// Bounded to a few seconds, also after an interrupt.
    fn transaction_committed(&self, _xid: u64, _conn: &Connection) -> Option<bool> {
        None
    }

    /// Rows per table of database `name`, keyed as the dump names tables.
    fn row_counts(&self, name: &str, conn: &Connection) -> Result<BTreeMap<String, u64>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_labels() {
        assert_eq!(Engine::Postgres.name(), "postgresql");
        assert_eq!(Engine::MariaDb.name(), "mariadb");
        assert_eq!(Target::Database("shop".into()).label(), "shop");
        assert_eq!(Target::All.label(), "all");
        assert_eq!(Target::Globals.label(), "globals");
    }
}
