//! Runs the database dump tools (`pg_dump`, `pg_dumpall`, `mariadb-dump`) as
//! child processes and exposes their output as a stream.
//!
//! Connection settings come from the inherited environment (`PGHOST`,
//! `PGUSER`, option files, ...) plus a [`Connection`]: a password read from
//! `PGPASSWORD_FILE` / `MYSQL_PWD_FILE` is handed to the child through its
//! environment only, never on its command line or in a message.

use std::ffi::OsString;
use std::fmt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use crate::error::{Error, Result};
use crate::redact::add_secret;

mod child;
mod command;
mod version;

pub use child::{DumpKiller, DumpReader};
pub use command::DumpCommand;
pub use version::{server_version, tool_version};

/// Database engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// PostgreSQL (`pg_dump`, `pg_dumpall`).
    Postgres,
    /// MariaDB or MySQL (`mariadb-dump`, `mysqldump`).
    MariaDb,
}

impl Engine {
    /// The engine's name: `postgresql` or `mariadb`.
    pub fn name(&self) -> &'static str {
        match self {
            Engine::Postgres => "postgresql",
            Engine::MariaDb => "mariadb",
        }
    }

    /// The environment variable naming the password file.
    fn password_file_var(self) -> &'static str {
        match self {
            Engine::Postgres => "PGPASSWORD_FILE",
            Engine::MariaDb => "MYSQL_PWD_FILE",
        }
    }

    /// The environment variable through which the client takes a password.
    fn password_var(self) -> &'static str {
        match self {
            Engine::Postgres => "PGPASSWORD",
            Engine::MariaDb => "MYSQL_PWD",
        }
    }

    /// Why a tool of this engine is missing, and the fix.
    fn not_found(self, program: &str) -> String {
        match self {
            Engine::Postgres => format!(
                "{program} not found: install the PostgreSQL client \
                 (e.g. apt-get install postgresql-client)"
            ),
            Engine::MariaDb => format!(
                "{program} not found: install the MariaDB client \
                 (e.g. apt-get install mariadb-client)"
            ),
        }
    }
}

/// What one dump covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One database, by name.
    Database(String),
    /// Every database of the server (with roles, for PostgreSQL).
    All,
}

impl Target {
    /// The database name, or `all`.
    pub fn label(&self) -> &str {
        match self {
            Target::Database(name) => name,
            Target::All => "all",
        }
    }
}

/// Connection settings not carried by the inherited environment.
#[derive(Clone, Default)]
pub struct Connection {
    /// Password read from `PGPASSWORD_FILE` / `MYSQL_PWD_FILE`, given to the
    /// child by environment only.
    pub password: Option<String>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field(
                "password",
                &self.password.as_ref().map(|_| crate::redact::MASK),
            )
            .finish()
    }
}

impl Connection {
    /// Reads `PGPASSWORD_FILE` (Postgres) or `MYSQL_PWD_FILE` (MariaDB) from
    /// the process environment if set and not empty. The file's trailing
    /// newline is trimmed and the password is registered as a secret.
    ///
    /// An unreadable file is an [`Error::Config`] naming the variable and the
    /// path (never the content).
    pub fn from_env(engine: Engine) -> Result<Connection> {
        let var = engine.password_file_var();
        Self::from_var(var, std::env::var_os(var))
    }

    /// Reads the password from `path`, as [`Connection::from_env`] does for
    /// the engine's `*_FILE` variable (named in errors).
    pub fn from_password_file(engine: Engine, path: &Path) -> Result<Connection> {
        Self::from_var(
            engine.password_file_var(),
            Some(path.as_os_str().to_owned()),
        )
    }

    fn from_var(var: &str, value: Option<OsString>) -> Result<Connection> {
        let Some(path) = value.filter(|v| !v.is_empty()) else {
            return Ok(Connection::default());
        };
        let path = Path::new(&path);
        let bytes = std::fs::read(path)
            .map_err(|e| Error::Config(format!("{var}: cannot read {}: {e}", path.display())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::Config(format!("{var}: {} is not valid UTF-8", path.display())))?;
        let password = text.trim_end_matches(['\r', '\n']);
        if password.contains('\0') {
            return Err(Error::Config(format!(
                "{var}: {} contains a NUL byte",
                path.display()
            )));
        }
        add_secret(password);
        Ok(Connection {
            password: Some(password.to_string()),
        })
    }

    /// The environment addition that passes the password to a client.
    fn env(&self, engine: Engine) -> Option<(&'static str, &str)> {
        self.password
            .as_deref()
            .map(|password| (engine.password_var(), password))
    }
}

/// Sets up a database client's environment: `env` (the password variable,
/// if any) added, and the storage settings (`RCLONE_*`) removed: no client
/// has any business with the storage credentials.
fn client_environment<'a>(cmd: &mut Command, env: impl IntoIterator<Item = (&'a str, &'a str)>) {
    for (var, _) in std::env::vars_os() {
        if var.to_str().is_some_and(|v| v.starts_with("RCLONE_")) {
            cmd.env_remove(var);
        }
    }
    for (var, value) in env {
        cmd.env(var, value);
    }
}

/// `preferred` if it is on `PATH`, else `fallback` if that is, else
/// `preferred` (so that the error names it).
fn pick_program(preferred: &'static str, fallback: &'static str) -> &'static str {
    if !on_path(preferred) && on_path(fallback) {
        fallback
    } else {
        preferred
    }
}

/// Whether an executable file `name` is in a `PATH` directory.
fn on_path(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}

/// An environment variable's value, if set, UTF-8 and not empty.
fn env_nonempty(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
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
    }

    #[test]
    fn password_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "pa ss-word\r\n").unwrap();
        let conn = Connection::from_var("PGPASSWORD_FILE", Some(path.into())).unwrap();
        assert_eq!(conn.password.as_deref(), Some("pa ss-word"));
        let debug = format!("{conn:?}");
        assert!(!debug.contains("pa ss-word"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        assert_eq!(crate::redact::redact("x pa ss-word y"), "x *** y");
    }

    #[test]
    fn password_file_unset_or_empty() {
        let conn = Connection::from_var("MYSQL_PWD_FILE", None).unwrap();
        assert_eq!(conn.password, None);
        assert_eq!(format!("{conn:?}"), "Connection { password: None }");
        let conn = Connection::from_var("MYSQL_PWD_FILE", Some("".into())).unwrap();
        assert_eq!(conn.password, None);
    }

    #[test]
    fn unreadable_password_file_is_a_config_error() {
        let err =
            Connection::from_var("MYSQL_PWD_FILE", Some("/nonexistent/pw".into())).unwrap_err();
        assert!(matches!(err, Error::Config(_)), "{err:?}");
        let text = err.to_string();
        assert!(text.contains("MYSQL_PWD_FILE"), "{text}");
        assert!(text.contains("/nonexistent/pw"), "{text}");
    }
}
