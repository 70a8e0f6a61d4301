//! PostgreSQL: `pg_dump` for one database, `pg_dumpall` for the whole
//! server, `psql` for the server version.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::process::Command;

use super::argv::spelled_out;
use super::client::{
    client_env, client_environment, run_capture, version_of, QueryMode, PROBE_CONNECT_TIMEOUT,
    PROBE_TIMEOUT,
};
use super::pg_query::{dbname_args, end_idle_sessions, psql, psql_as, psql_settled};
use super::{Connection, DatabaseKind, DatabaseState, Destination, Engine, Listed, Target};
use crate::dump::DumpCommand;
use crate::error::{Error, Result, Setting};

/// pg_dump's long options that decide where a dump goes and what it is,
/// whose abbreviations are read as they are.
const DUMP_WATCHED: &[&str] = &["--format", "--compress", "--file"];

/// Tables (plain and partitioned) outside the system schemas.
const USER_TABLES: &str = "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
     WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') \
     AND n.nspname NOT LIKE 'pg_toast%'";

/// Why a PostgreSQL tool is missing, and the fix.
pub(super) const INSTALL_HINT: &str =
    "install the PostgreSQL client (e.g. apt-get install postgresql-client)";

/// How to give the password instead of an argument.
pub(super) const PASSWORD_FIX: &str =
    "give the password by PGPASSWORD, PGPASSWORD_FILE or PGPASSFILE";

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

    /// `-Fc` / `--format=custom` (compressed by pg_dump unless `-Z0`) and
    /// `-Ft` / `--format=tar` (not compressed).
    fn archive(&self, extra_args: &[String]) -> Option<(&'static str, bool)> {
        let args: Vec<Cow<str>> = extra_args
            .iter()
            .take_while(|a| *a != "--")
            .map(|a| spelled_out(a, DUMP_WATCHED))
            .collect();
        let args: Vec<&str> = args.iter().map(|a| a.as_ref()).collect();
        let mut format = None;
        let mut compressed = true;
        for (i, arg) in args.iter().enumerate() {
            let value = match *arg {
                "-F" | "--format" => args.get(i + 1).copied(),
                a => a.strip_prefix("--format=").or_else(|| a.strip_prefix("-F")),
            };
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                format = Some(v);
            }
            let level = match *arg {
                "-Z" | "--compress" => args.get(i + 1).copied(),
                a => a
                    .strip_prefix("--compress=")
                    .or_else(|| a.strip_prefix("-Z")),
            };
            if let Some(level) = level.filter(|l| !l.is_empty()) {
                compressed = !matches!(level, "0" | "none");
            }
        }
        match format? {
            "c" | "custom" => Some(("dump", compressed)),
            "t" | "tar" => Some(("tar", false)),
            _ => None,
        }
    }

    fn check_dump_args(&self, extra_args: &[String]) -> Result<()> {
        super::refuse_passwords(extra_args, false, Setting::DumpArgs, PASSWORD_FIX)?;
        let mut args = extra_args
            .iter()
            .take_while(|a| *a != "--")
            .map(|a| spelled_out(a, DUMP_WATCHED))
            .peekable();
        while let Some(arg) = args.next() {
            let format = match arg.as_ref() {
                "-F" | "--format" => args.peek().map(|v| v.as_ref()),
                a => a.strip_prefix("--format=").or_else(|| a.strip_prefix("-F")),
            };
            if matches!(format, Some("d" | "directory")) {
                return Err(Error::config(
                    Setting::DumpArgs,
                    "pg_dump's directory format writes files and cannot stream: use the plain, \
                     custom (-Fc) or tar (-Ft) format",
                ));
            }
            let file = arg == "-f"
                || arg == "--file"
                || arg.starts_with("--file=")
                || (arg.starts_with("-f") && arg.len() > 2 && !arg.starts_with("--"));
            if file {
                return Err(Error::config(
                    Setting::DumpArgs,
                    "the dump must go to standard output: remove -f/--file from the dump \
                     arguments",
                ));
            }
        }
        Ok(())
    }

    fn dump_command(
        &self,
        target: &Target,
        extra_args: &[String],
        conn: &Connection,
    ) -> DumpCommand {
        // Never prompt for a password: without one, fail at once.
        let mut args = vec!["--no-password".to_string()];
        let program = match target {
            Target::Database(name) => {
                args.extend(dbname_args(name));
                "pg_dump"
            }
            Target::All => "pg_dumpall",
            // Roles and tablespaces only. The arguments after `--` are the
            // databases' pg_dump options (formats, sections, ...) that
            // pg_dumpall may not take: libpq's variables connect it.
            Target::Globals => {
                args.push("--globals-only".to_string());
                return DumpCommand::new(
                    client_env(Engine::Postgres, conn.env(Engine::Postgres)),
                    "pg_dumpall",
                    args,
                    target.label(),
                    INSTALL_HINT,
                );
            }
        };
        args.extend(extra_args.iter().cloned());
        DumpCommand::new(
            client_env(Engine::Postgres, conn.env(Engine::Postgres)),
            program,
            args,
            target.label(),
            INSTALL_HINT,
        )
    }

    /// Databases that allow connections and that the user may connect to,
    /// without templates, by name.
    fn databases(&self, conn: &Connection, dump_args: &[String]) -> Result<Vec<Listed>> {
        let out = psql(
            &conn.clone().with_args(dump_args),
            &["-d", "postgres", "-0", "-F", FIELD],
            "postgres",
            "SELECT datname, pg_database_size(oid) FROM pg_database \
             WHERE datallowconn AND NOT datistemplate \
             AND has_database_privilege(datname, 'CONNECT') ORDER BY datname;",
        )?;
        out.split('\0')
            .map(|row| row.trim_start_matches('\n'))
            .filter(|row| !row.is_empty())
            .map(|row| {
                let (name, bytes) = row.rsplit_once(FIELD).unwrap_or((row, ""));
                Ok(Listed {
                    name: name.to_string(),
                    bytes: bytes.trim().parse().map_err(|_| Error::Database {
                        program: "psql".into(),
                        message: format!("unexpected database list line {row:?}"),
                    })?,
                })
            })
            .collect()
    }

    fn tool_version(&self, all: bool) -> Option<String> {
        version_of(if all { "pg_dumpall" } else { "pg_dump" }, Engine::Postgres)
    }

    fn check_versions(&self, tool: Option<&str>, server: Option<&str>) -> Result<()> {
        super::pg_version::check_pg_dump(tool, server)
    }

    /// `psql -XAtqw -c 'SHOW server_version'`, with `-d postgres` unless
    /// `PGDATABASE` is set.
    fn server_version(&self, conn: &Connection, dump_args: &[String]) -> Option<String> {
        let cmd = version_command(
            &conn.clone().with_args(dump_args),
            std::env::var_os("PGDATABASE").is_some_and(|v| !v.is_empty()),
            std::env::var_os("PGCONNECT_TIMEOUT").is_some_and(|v| !v.is_empty()),
        );
        run_capture(cmd, PROBE_TIMEOUT)
    }

    /// `psql -XAtqw -c 'SHOW server_version'` in the database itself (in
    /// `postgres` for a whole-server dump).
    fn probe(&self, target: &Target, conn: &Connection, dump_args: &[String]) -> Result<String> {
        let target_args = match target {
            Target::Database(name) => dbname_args(name),
            Target::All | Target::Globals => vec!["-d".to_string(), "postgres".to_string()],
        };
        let args: Vec<&str> = target_args.iter().map(String::as_str).collect();
        psql(
            &conn.clone().with_args(dump_args),
            &args,
            target.label(),
            "SHOW server_version;",
        )
        .map(|v| v.trim().to_string())
    }

    /// `psql`, stopping at the first error: the restore writes its own
    /// `BEGIN` and `COMMIT` around a database's script (see the restore's
    /// transaction), so no `--single-transaction`, which would commit when
    /// the input ends. A whole-server dump goes through `psql -d postgres`
    /// without a transaction (it creates databases). An archive's script
    /// comes from [`archive_script`](DatabaseKind::archive_script), which
    /// takes the client arguments: psql then gets only their connection
    /// options.
    fn restore_command(
        &self,
        to: Destination<'_>,
        archive: bool,
        client_args: &[String],
        conn: &Connection,
    ) -> (Command, String) {
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1"]);
        match to {
            Destination::Database(name) => cmd.args(dbname_args(name)),
            Destination::Server => cmd.args(["-d", "postgres"]),
        };
        if archive {
            cmd.args(
                conn.clone()
                    .with_args(client_args)
                    .connect_args(Engine::Postgres),
            );
        } else {
            cmd.args(client_args);
        }
        client_environment(&mut cmd, Engine::Postgres, conn.env(Engine::Postgres));
        (cmd, "psql".to_string())
    }

    /// `pg_restore -f -`: the archive on stdin as an SQL script on stdout,
    /// with the client arguments but their connection options (it does not
    /// connect).
    fn archive_script(
        &self,
        to: Destination<'_>,
        client_args: &[String],
    ) -> Option<(Command, String)> {
        let connect = super::connect::connect_options(Engine::Postgres, client_args);
        let mut cmd = Command::new("pg_restore");
        cmd.args(["--exit-on-error", "-f", "-"]);
        if to == Destination::Server {
            cmd.arg("--create");
        }
        let mut skip = connect.iter().peekable();
        for arg in client_args {
            if skip.peek() == Some(&arg) {
                skip.next();
                continue;
            }
            cmd.arg(arg);
        }
        client_environment(&mut cmd, Engine::Postgres, None);
        Some((cmd, "pg_restore".to_string()))
    }

    fn globals_recreate_roles(&self) -> bool {
        true
    }

    fn dump_names_its_database(&self) -> bool {
        false
    }

    fn database_state(&self, name: &str, conn: &Connection) -> Result<DatabaseState> {
        let exists = psql(
            conn,
            &["-d", "postgres"],
            name,
            "SELECT count(*) FROM pg_database WHERE datname = :'db';",
        )?;
        if exists.trim() == "0" {
            return Ok(DatabaseState::Missing);
        }
        let tables = psql(
            conn,
            &dbname_args(name)
                .iter()
                .map(String::as_str)
                .collect::<Vec<_>>(),
            name,
            &format!("SELECT count(*) {USER_TABLES};"),
        )?;
        Ok(if tables.trim() == "0" {
            DatabaseState::Empty
        } else {
            DatabaseState::HasTables
        })
    }

    fn create_database(&self, name: &str, conn: &Connection) -> Result<()> {
        // Settled: a create whose client a signal killed would otherwise
        // make the database after dbbr had gone.
        psql_settled(conn, "create", &[("db", name)], "CREATE DATABASE :\"db\";").map(drop)
    }

    fn drop_database(&self, name: &str, conn: &Connection) -> Result<()> {
        psql_as(
            conn,
            &["-d", "postgres"],
            &[("db", name)],
            "DROP DATABASE IF EXISTS :\"db\" WITH (FORCE);",
            QueryMode::Cleanup,
        )
        .map(drop)
    }

    /// `txid_status`, asked again while the transaction is still in
    /// progress (its backend has not yet seen its client go).
    fn transaction_committed(&self, xid: u64, conn: &Connection) -> Option<bool> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            let status = psql_as(
                conn,
                &["-d", "postgres"],
                &[("xid", &xid.to_string())],
                "SELECT pg_catalog.txid_status(:'xid'::bigint);",
                QueryMode::Cleanup,
            )
            .ok()?;
            match status.trim() {
                "committed" => return Some(true),
                "aborted" => return Some(false),
                "in progress" if std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                _ => return None,
            }
        }
    }

    /// `ALTER DATABASE ... RENAME TO`, after ending the idle sessions left
    /// on the database (a connection pooler's, [`end_idle_sessions`]); tried
    /// again twice while another session is still connected to it (the
    /// server itself waits up to 5 s each time for such sessions to leave,
    /// and asks autovacuum to).
    ///
    /// A rename whose client failed (a signal) is stopped in the server
    /// too, and then the server's catalog says whether it took effect.
    fn rename_database(&self, from: &str, to: &str, conn: &Connection) -> Result<()> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            end_idle_sessions(conn, from);
            let script = "ALTER DATABASE :\"db\" RENAME TO :\"to\";";
            match psql_settled(conn, "rename", &[("db", from), ("to", to)], script) {
                Ok(_) => return Ok(()),
                Err(Error::Database { message, .. })
                    if attempt < 3 && message.contains("being accessed by other users") => {}
                Err(e) => {
                    let renamed = psql_as(
                        conn,
                        &["-d", "postgres"],
                        &[("db", from), ("to", to)],
                        "SELECT NOT EXISTS (SELECT FROM pg_catalog.pg_database \
                         WHERE datname = :'db') AND EXISTS (SELECT FROM \
                         pg_catalog.pg_database WHERE datname = :'to');",
                        QueryMode::Cleanup,
                    );
                    if renamed.is_ok_and(|t| t.trim() == "t") {
                        tracing::info!(
                            "database {from} was renamed to {to}, although its client failed: {e}"
                        );
                        return Ok(());
                    }
                    return Err(e);
                }
            }
        }
    }

    fn move_tables(&self, _from: &str, _to: &str, _conn: &Connection) -> Result<()> {
        Err(Error::Database {
            program: "psql".into(),
            message: "PostgreSQL restores are transactional: no tables are moved".into(),
        })
    }

    /// Exact counts of each table's own rows (not its partitions' or
    /// children's, as pg_dump copies them), keyed `schema.table` quoted as
    /// pg_dump quotes them.
    fn row_counts(&self, name: &str, conn: &Connection) -> Result<BTreeMap<String, u64>> {
        let script = format!(
            "SELECT format('%I.%I', n.nspname, c.relname), \
             (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM ONLY %I.%I', \
             n.nspname, c.relname), false, true, '')))[1]::text {USER_TABLES} \
             AND c.relkind = 'r';"
        );
        let args = dbname_args(name);
        let out = psql(
            conn,
            &args.iter().map(String::as_str).collect::<Vec<_>>(),
            name,
            &script,
        )?;
        out.lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let (table, count) = line.rsplit_once('|').unwrap_or((line, ""));
                let count = count.trim().parse().map_err(|_| Error::Database {
                    program: "psql".into(),
                    message: format!("unexpected row count line {line:?}"),
                })?;
                Ok((table.to_string(), count))
            })
            .collect()
    }
}

/// Separates the columns of a listing (a byte no database name holds).
const FIELD: &str = "\u{1f}";

fn version_command(conn: &Connection, has_pgdatabase: bool, has_timeout: bool) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-XAtqw", "-c", "SHOW server_version"]);
    cmd.args(conn.connect_args(Engine::Postgres));
    if !has_pgdatabase {
        cmd.args(["-d", "postgres"]);
    }
    if !has_timeout {
        cmd.env("PGCONNECT_TIMEOUT", PROBE_CONNECT_TIMEOUT);
    }
    client_environment(&mut cmd, Engine::Postgres, conn.env(Engine::Postgres));
    cmd
}

#[cfg(test)]
mod tests;
