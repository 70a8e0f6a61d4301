//! PostgreSQL: `pg_dump` for one database, `pg_dumpall` for the whole
//! server, `psql` for the server version.

use std::process::Command;

use super::client::{
    client_environment, run_capture, version_of, PROBE_CONNECT_TIMEOUT, PROBE_TIMEOUT,
};
use super::{Connection, DatabaseKind, Engine, Target};
use crate::dump::DumpCommand;

/// Why a PostgreSQL tool is missing, and the fix.
const INSTALL_HINT: &str = "install the PostgreSQL client (e.g. apt-get install postgresql-client)";

/// The PostgreSQL engine.
pub(super) struct Postgres;

impl DatabaseKind for Postgres {
    fn name(&self) -> &'static str {
        "postgresql"
    }

    fn password_var(&self) -> &'static str {
        "PGPASSWORD"
    }

    fn password_file_var(&self) -> &'static str {
        "PGPASSWORD_FILE"
    }

    fn dump_command(
        &self,
        target: &Target,
        extra_args: &[String],
        conn: &Connection,
    ) -> DumpCommand {
        let (program, mut args) = match target {
            Target::Database(name) => ("pg_dump", dbname_args(name)),
            Target::All => ("pg_dumpall", Vec::new()),
        };
        args.extend(extra_args.iter().cloned());
        DumpCommand::new(
            program,
            args,
            conn.env(Engine::Postgres),
            target,
            INSTALL_HINT,
        )
    }

    fn tool_version(&self, all: bool) -> Option<String> {
        version_of(if all { "pg_dumpall" } else { "pg_dump" })
    }

    /// `psql -XAtqw -c 'SHOW server_version'`, with `-d postgres` unless
    /// `PGDATABASE` is set.
    fn server_version(&self, conn: &Connection, _dump_args: &[String]) -> Option<String> {
        let cmd = version_command(
            conn,
            std::env::var_os("PGDATABASE").is_some_and(|v| !v.is_empty()),
            std::env::var_os("PGCONNECT_TIMEOUT").is_some_and(|v| !v.is_empty()),
        );
        run_capture(cmd, PROBE_TIMEOUT)
    }
}

/// The arguments selecting database `name` such that libpq takes it as a
/// plain name: a name libpq would read as a connection string (one with `=`
/// or a URI prefix) is wrapped in `dbname='...'`; one that looks like an
/// option is attached to `--dbname=`.
fn dbname_args(name: &str) -> Vec<String> {
    let conninfo_like =
        name.contains('=') || name.starts_with("postgresql://") || name.starts_with("postgres://");
    if conninfo_like {
        let escaped = name.replace('\\', "\\\\").replace('\'', "\\'");
        vec![format!("--dbname=dbname='{escaped}'")]
    } else if name.starts_with('-') {
        vec![format!("--dbname={name}")]
    } else {
        vec!["-d".to_string(), name.to_string()]
    }
}

fn version_command(conn: &Connection, has_pgdatabase: bool, has_timeout: bool) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-XAtqw", "-c", "SHOW server_version"]);
    if !has_pgdatabase {
        cmd.args(["-d", "postgres"]);
    }
    if !has_timeout {
        cmd.env("PGCONNECT_TIMEOUT", PROBE_CONNECT_TIMEOUT);
    }
    client_environment(&mut cmd, conn.env(Engine::Postgres));
    cmd
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use crate::dump::tests::{args_of, env_of, strings};
    use crate::error::Error;

    fn db(name: &str) -> Target {
        Target::Database(name.to_string())
    }

    fn pg(target: &Target, extra: &[&str]) -> DumpCommand {
        Postgres.dump_command(target, &strings(extra), &Connection::default())
    }

    #[test]
    fn postgres_database() {
        let cmd = pg(&db("shop"), &["--no-owner", "-Fp"]);
        assert_eq!(cmd.program(), "pg_dump");
        assert_eq!(cmd.args(), ["-d", "shop", "--no-owner", "-Fp"]);
    }

    #[test]
    fn postgres_all() {
        let cmd = pg(&Target::All, &["--clean"]);
        assert_eq!(cmd.program(), "pg_dumpall");
        assert_eq!(cmd.args(), ["--clean"]);
        assert_eq!(pg(&Target::All, &[]).args(), Vec::<String>::new());
    }

    #[test]
    fn postgres_name_escaping() {
        assert_eq!(pg(&db("-x"), &[]).args(), ["--dbname=-x"]);
        assert_eq!(pg(&db("a=b"), &[]).args(), ["--dbname=dbname='a=b'"]);
        assert_eq!(
            pg(&db(r"o'k=\x"), &[]).args(),
            [r"--dbname=dbname='o\'k=\\x'"]
        );
        assert_eq!(pg(&db("-a=b"), &[]).args(), ["--dbname=dbname='-a=b'"]);
        assert_eq!(
            pg(&db("postgresql://h/db"), &[]).args(),
            ["--dbname=dbname='postgresql://h/db'"]
        );
        assert_eq!(
            pg(&db("postgres://h"), &[]).args(),
            ["--dbname=dbname='postgres://h'"]
        );
        // Quotes and backslashes alone are not special outside conninfo.
        assert_eq!(pg(&db(r"it's\"), &[]).args(), ["-d", r"it's\"]);
        assert_eq!(pg(&db("my db"), &[]).args(), ["-d", "my db"]);
    }

    #[test]
    fn password_stays_out_of_args_and_debug() {
        let conn = Connection {
            password: Some("hunter2-secret".into()),
        };
        for target in [db("shop"), Target::All] {
            let cmd = Postgres.dump_command(&target, &[], &conn);
            assert!(!cmd.args().iter().any(|a| a.contains("hunter2")));
            let debug = format!("{cmd:?}");
            assert!(!debug.contains("hunter2"), "{debug}");
            assert!(debug.contains("PGPASSWORD=***"), "{debug}");
            assert_eq!(
                cmd.password_env(),
                Some(&("PGPASSWORD", "hunter2-secret".to_string()))
            );
        }
        assert_eq!(pg(&db("shop"), &[]).password_env(), None);
    }

    #[test]
    fn missing_program_says_what_to_install() {
        let mut cmd = pg(&db("shop"), &[]);
        cmd.set_program("pg_dump-dbbr-missing", &[]);
        let Err(Error::Dump { database, message }) = cmd.spawn() else {
            panic!("expected a dump error");
        };
        assert_eq!(database, "shop");
        assert!(
            message.starts_with("pg_dump-dbbr-missing not found"),
            "{message}"
        );
        assert!(message.contains("postgresql-client"), "{message}");
    }

    #[test]
    fn password_reaches_the_child_environment() {
        let conn = Connection {
            password: Some("env-only-pw".into()),
        };
        let mut cmd = Postgres.dump_command(&db("shop"), &[], &conn);
        cmd.set_program("sh", &["-c", "printf %s \"$PGPASSWORD\""]);
        let mut reader = cmd.spawn().unwrap();
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        reader.finish().unwrap();
        assert_eq!(out, "env-only-pw");
    }

    #[test]
    fn version_probe() {
        let conn = Connection {
            password: Some("probe-secret".into()),
        };
        let cmd = version_command(&conn, false, false);
        assert_eq!(cmd.get_program(), "psql");
        assert_eq!(
            args_of(&cmd),
            ["-XAtqw", "-c", "SHOW server_version", "-d", "postgres"]
        );
        assert_eq!(env_of(&cmd, "PGPASSWORD").as_deref(), Some("probe-secret"));
        assert_eq!(env_of(&cmd, "PGCONNECT_TIMEOUT").as_deref(), Some("10"));
        assert!(!args_of(&cmd).iter().any(|a| a.contains("probe-secret")));

        let cmd = version_command(&Connection::default(), true, true);
        assert_eq!(args_of(&cmd), ["-XAtqw", "-c", "SHOW server_version"]);
        assert_eq!(cmd.get_envs().count(), 0);
    }

    /// The test command installs the PostgreSQL client: the versions of
    /// both dump tools must be read.
    #[test]
    fn tool_versions() {
        let v = Postgres.tool_version(false).unwrap();
        assert!(v.starts_with("pg_dump (PostgreSQL)"), "{v}");
        let v = Postgres.tool_version(true).unwrap();
        assert!(v.starts_with("pg_dumpall (PostgreSQL)"), "{v}");
    }
}
