//! MariaDB and MySQL: `mariadb-dump` (or `mysqldump`) for dumps, `mariadb`
//! (or `mysql`) for the server version.

use std::collections::BTreeMap;
use std::process::Command;

use super::argv::spelled_out;
use super::client::{
    client_env, client_environment, env_nonempty, pick_program, run_capture, run_query_as,
    version_of, QueryMode, PROBE_CONNECT_TIMEOUT, PROBE_TIMEOUT,
};
use super::{Connection, DatabaseKind, DatabaseState, Destination, Engine, Listed, Target};
use crate::dump::DumpCommand;
use crate::error::{Error, Result, Setting};

/// Why a MariaDB tool is missing, and the fix.
const INSTALL_HINT: &str = "install the MariaDB client (e.g. apt-get install mariadb-client)";

/// How to give the password instead of an argument.
pub(super) const PASSWORD_FIX: &str =
    "give the password by MYSQL_PWD, MYSQL_PWD_FILE or an option file (--defaults-extra-file)";

/// MariaDB client options that are only accepted as the first arguments.
const LEADING: &[&str] = &[
    "--defaults-file=",
    "--defaults-extra-file=",
    "--defaults-group-suffix=",
];

/// The MariaDB engine.
pub(super) struct MariaDb;

/// What the MariaDB clients take from the environment, resolved once per
/// command: the programs on `PATH` and `MYSQL_USER` / `MYSQL_HOST` (which
/// `mariadb-dump` does not read itself).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Settings {
    dump_program: &'static str,
    client_program: &'static str,
    user: Option<String>,
    host: Option<String>,
}

impl Settings {
    fn from_env() -> Settings {
        Settings {
            dump_program: pick_program("mariadb-dump", "mysqldump"),
            client_program: pick_program("mariadb", "mysql"),
            user: env_nonempty("MYSQL_USER"),
            host: env_nonempty("MYSQL_HOST"),
        }
    }
}

impl DatabaseKind for MariaDb {
    fn name(&self) -> &'static str {
        "mariadb"
    }

    fn password_var(&self) -> &'static str {
        "MYSQL_PWD"
    }

    fn password_file_var(&self) -> &'static str {
        "MYSQL_PWD_FILE"
    }

    fn check_dump_args(&self, extra_args: &[String]) -> Result<()> {
        super::refuse_passwords(extra_args, true, Setting::DumpArgs, PASSWORD_FIX)?;
        let to_file = extra_args.iter().take_while(|a| *a != "--").any(|a| {
            let full = spelled_out(a, &["--result-file", "--tab"]);
            let name = full.split_once('=').map_or(full.as_ref(), |(name, _)| name);
            let short = !a.starts_with("--") && (a.starts_with("-r") || a.starts_with("-T"));
            name == "--result-file" || name == "--tab" || short
        });
        if to_file {
            return Err(Error::config(
                Setting::DumpArgs,
                "the dump must go to standard output: remove --result-file/--tab from the dump \
                 arguments",
            ));
        }
        Ok(())
    }

    /// `MYSQL_USER` (if set) becomes `--user=` unless `extra_args` name a
    /// user, `MYSQL_HOST` becomes `--host=` unless they name a host, and the
    /// program is `mariadb-dump` if on `PATH`, else `mysqldump`.
    fn dump_command(
        &self,
        target: &Target,
        extra_args: &[String],
        conn: &Connection,
    ) -> DumpCommand {
        dump_command(&Settings::from_env(), target, extra_args, conn)
    }

    /// Every schema but the server's own (`information_schema`,
    /// `performance_schema`, `sys`, and `mysql`, whose users and grants a
    /// globals dump covers), with the size of its tables.
    fn databases(&self, conn: &Connection, dump_args: &[String]) -> Result<Vec<Listed>> {
        let out = query_as_dump(
            conn,
            dump_args,
            "SELECT s.SCHEMA_NAME, COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) \
             FROM information_schema.SCHEMATA s LEFT JOIN information_schema.TABLES t \
             ON t.TABLE_SCHEMA = s.SCHEMA_NAME WHERE s.SCHEMA_NAME NOT IN \
             ('information_schema', 'performance_schema', 'sys', 'mysql') \
             GROUP BY s.SCHEMA_NAME ORDER BY s.SCHEMA_NAME;",
        )?;
        out.lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let (name, bytes) = line.rsplit_once('\t').unwrap_or((line, ""));
                Ok(Listed {
                    name: name.to_string(),
                    bytes: bytes.trim().parse().map_err(|_| Error::Database {
                        program: "mariadb".into(),
                        message: format!("unexpected database list line {line:?}"),
                    })?,
                })
            })
            .collect()
    }

    fn tool_version(&self, _all: bool) -> Option<String> {
        version_of(Settings::from_env().dump_program, Engine::MariaDb)
    }

    /// `mariadb -N -B -e 'SELECT VERSION()'`, starting with the option-file
    /// options of `dump_args` and `--user=` / `--host=` as the dump does.
    fn server_version(&self, conn: &Connection, dump_args: &[String]) -> Option<String> {
        run_capture(
            version_command(&Settings::from_env(), conn, dump_args),
            PROBE_TIMEOUT,
        )
    }

    /// `SELECT VERSION()` in the database, connected as the dump connects.
    fn probe(&self, target: &Target, conn: &Connection, dump_args: &[String]) -> Result<String> {
        let database = match target {
            Target::Database(name) => Some(name.as_str()),
            Target::All | Target::Globals => None,
        };
        run_as_dump(conn, dump_args, database, "SELECT VERSION();").map(|v| v.trim().to_string())
    }

    /// `mariadb` (or `mysql`) with the connection options a backup uses,
    /// the database to restore into, and `client_args`. MariaDB cannot roll
    /// back DDL: the restore verifies the backup in full first.
    fn restore_command(
        &self,
        to: Destination<'_>,
        _archive: bool,
        client_args: &[String],
        conn: &Connection,
    ) -> (Command, String) {
        let settings = Settings::from_env();
        let mut cmd = Command::new(settings.client_program);
        cmd.args(leading_args(&settings, client_args));
        let rest = client_args
            .iter()
            .enumerate()
            .filter(|(i, a)| *i >= options_end(client_args) || !is_leading(a))
            .map(|(_, a)| a.clone());
        cmd.args(rest);
        if let Destination::Database(name) = to {
            cmd.arg(format!("--database={name}"));
        }
        client_environment(&mut cmd, Engine::MariaDb, conn.env(Engine::MariaDb));
        (cmd, settings.client_program.to_string())
    }

    fn globals_recreate_roles(&self) -> bool {
        false
    }

    fn dump_names_its_database(&self) -> bool {
        true
    }

    fn database_state(&self, name: &str, conn: &Connection) -> Result<DatabaseState> {
        let db = literal(name);
        let out = query(
            conn,
            &format!(
                "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = {db}; \
                 SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = {db} \
                 AND TABLE_TYPE = 'BASE TABLE';"
            ),
        )?;
        let counts: Vec<&str> = out.split_whitespace().collect();
        Ok(match counts.as_slice() {
            ["0", ..] => DatabaseState::Missing,
            [_, "0"] => DatabaseState::Empty,
            _ => DatabaseState::HasTables,
        })
    }

    fn create_database(&self, name: &str, conn: &Connection) -> Result<()> {
        query(conn, &format!("CREATE DATABASE {};", identifier(name))).map(drop)
    }

    fn drop_database(&self, name: &str, conn: &Connection) -> Result<()> {
        query_as(
            conn,
            &format!("DROP DATABASE IF EXISTS {};", identifier(name)),
            QueryMode::Cleanup,
        )
        .map(drop)
    }

    fn rename_database(&self, _from: &str, _to: &str, _conn: &Connection) -> Result<()> {
        Err(Error::Database {
            program: "mariadb".into(),
            message: "MariaDB cannot rename a database: its tables are moved instead".into(),
        })
    }

    /// One `RENAME TABLE` of every table and sequence, which MariaDB does
    /// atomically: all move, or none (one that exists in `to` stops it).
    /// Views, triggers, routines and events cannot move to another
    /// database: a database holding any is refused, and nothing moves.
    fn move_tables(&self, from: &str, to: &str, conn: &Connection) -> Result<()> {
        let source = literal(from);
        let unmovable = query(
            conn,
            &format!(
                "SELECT CONCAT('view ', TABLE_NAME) FROM information_schema.TABLES \
                 WHERE TABLE_SCHEMA = {source} AND TABLE_TYPE = 'VIEW' \
                 UNION ALL SELECT CONCAT('trigger ', TRIGGER_NAME) FROM \
                 information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = {source} \
                 UNION ALL SELECT CONCAT(LOWER(ROUTINE_TYPE), ' ', ROUTINE_NAME) FROM \
                 information_schema.ROUTINES WHERE ROUTINE_SCHEMA = {source} \
                 UNION ALL SELECT CONCAT('event ', EVENT_NAME) FROM information_schema.EVENTS \
                 WHERE EVENT_SCHEMA = {source};"
            ),
        )?;
        let unmovable: Vec<&str> = unmovable.lines().filter(|l| !l.is_empty()).collect();
        if !unmovable.is_empty() {
            return Err(Error::config(
                Setting::Selection,
                format!(
                    "the backup holds objects that MariaDB cannot move into place at once ({}), \
                     so nothing was restored: restore it by hand (`dbbr restore ... --to-stdout \
                     | mariadb DB`), which is not all-or-nothing",
                    unmovable.join(", ")
                ),
            ));
        }
        let tables = query(
            conn,
            &format!(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = {source} \
                 AND TABLE_TYPE IN ('BASE TABLE', 'SEQUENCE') ORDER BY TABLE_NAME;"
            ),
        )?;
        let renames: Vec<String> = tables
            .lines()
            .filter(|t| !t.is_empty())
            .map(|t| {
                format!(
                    "{}.{} TO {}.{}",
                    identifier(from),
                    identifier(t),
                    identifier(to),
                    identifier(t)
                )
            })
            .collect();
        if renames.is_empty() {
            return Ok(());
        }
        query(conn, &format!("RENAME TABLE {};", renames.join(", "))).map(drop)
    }

    /// Exact counts keyed by table name, as a one-database dump names them.
    fn row_counts(&self, name: &str, conn: &Connection) -> Result<BTreeMap<String, u64>> {
        let tables = query(
            conn,
            &format!(
                "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = {} \
                 AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME;",
                literal(name)
            ),
        )?;
        let tables: Vec<&str> = tables.lines().filter(|t| !t.is_empty()).collect();
        if tables.is_empty() {
            return Ok(BTreeMap::new());
        }
        let counts: Vec<String> = tables
            .iter()
            .map(|t| {
                format!(
                    "SELECT {}, COUNT(*) FROM {}.{}",
                    literal(t),
                    identifier(name),
                    identifier(t)
                )
            })
            .collect();
        let out = query(conn, &format!("{};", counts.join(" UNION ALL ")))?;
        out.lines()
            .filter(|l| !l.is_empty())
            .map(|line| {
                let (table, count) = line.rsplit_once('\t').unwrap_or((line, ""));
                let count = count.trim().parse().map_err(|_| Error::Database {
                    program: "mariadb".into(),
                    message: format!("unexpected row count line {line:?}"),
                })?;
                Ok((table.to_string(), count))
            })
            .collect()
    }
}

/// Runs `sql` connected as the dump with `dump_args` connects.
fn query_as_dump(conn: &Connection, dump_args: &[String], sql: &str) -> Result<String> {
    run_as_dump(conn, dump_args, None, sql)
}

/// Runs `sql` in `database` (if any), connected as the dump with
/// `dump_args` connects (batch mode, no column names).
fn run_as_dump(
    conn: &Connection,
    dump_args: &[String],
    database: Option<&str>,
    sql: &str,
) -> Result<String> {
    let settings = Settings::from_env();
    let mut cmd = Command::new(settings.client_program);
    cmd.args(connection_args(&settings, dump_args));
    cmd.arg(format!("--connect-timeout={PROBE_CONNECT_TIMEOUT}"));
    cmd.args(["-N", "-B", "-r"]);
    if let Some(name) = database {
        cmd.arg(format!("--database={name}"));
    }
    client_environment(&mut cmd, Engine::MariaDb, conn.env(Engine::MariaDb));
    run_query_as(cmd, settings.client_program, sql, QueryMode::Normal)
}

/// Runs `sql` with the MariaDB client (batch mode, no column names),
/// connected as the user's arguments say.
fn query(conn: &Connection, sql: &str) -> Result<String> {
    query_as(conn, sql, QueryMode::Normal)
}

/// [`query`] in `mode`.
fn query_as(conn: &Connection, sql: &str, mode: QueryMode) -> Result<String> {
    let settings = Settings::from_env();
    let mut cmd = Command::new(settings.client_program);
    cmd.args(connection_args(&settings, &conn.args));
    cmd.arg(format!("--connect-timeout={PROBE_CONNECT_TIMEOUT}"));
    cmd.args(["-N", "-B", "-r"]);
    client_environment(&mut cmd, Engine::MariaDb, conn.env(Engine::MariaDb));
    run_query_as(cmd, settings.client_program, sql, mode)
}

/// `'text'` as a MariaDB string literal.
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `` `name` `` as a MariaDB identifier.
fn identifier(name: &str) -> String {
    format!("`{}`", name.replace('`', "``"))
}

fn dump_command(
    settings: &Settings,
    target: &Target,
    extra_args: &[String],
    conn: &Connection,
) -> DumpCommand {
    DumpCommand::new(
        client_env(Engine::MariaDb, conn.env(Engine::MariaDb)),
        settings.dump_program,
        dump_args(settings, target, extra_args),
        target.label(),
        INSTALL_HINT,
    )
}

fn version_command(settings: &Settings, conn: &Connection, dump_args: &[String]) -> Command {
    let mut cmd = Command::new(settings.client_program);
    cmd.args(connection_args(settings, dump_args));
    cmd.arg(format!("--connect-timeout={PROBE_CONNECT_TIMEOUT}"));
    cmd.args(["-N", "-B", "-e", "SELECT VERSION()"]);
    client_environment(&mut cmd, Engine::MariaDb, conn.env(Engine::MariaDb));
    cmd
}

/// What every MariaDB client call of a backup or restore starts with:
/// [`leading_args`], then the options of `extra_args` that say how to
/// connect (`--user`, `--host`, `--port`, `--socket`, TLS, ...), so that
/// dbbr's own queries connect as the dump or the restore client does.
fn connection_args(settings: &Settings, extra_args: &[String]) -> Vec<String> {
    let mut args = leading_args(settings, extra_args);
    args.extend(super::connect::connect_options(Engine::MariaDb, extra_args));
    args
}

/// The option-file options of `extra_args` (the client only accepts them
/// first), then `--user=` / `--host=` from the settings unless `extra_args`
/// name a user / host. Arguments after a `--` are names, not options.
fn leading_args(settings: &Settings, extra_args: &[String]) -> Vec<String> {
    let options = &extra_args[..options_end(extra_args)];
    let mut args: Vec<String> = options.iter().filter(|a| is_leading(a)).cloned().collect();
    let names_user = options
        .iter()
        .any(|a| a == "--user" || a.starts_with("--user=") || a.starts_with("-u"));
    if let (Some(user), false) = (&settings.user, names_user) {
        args.push(format!("--user={user}"));
    }
    let names_host = options
        .iter()
        .any(|a| a == "--host" || a.starts_with("--host=") || a.starts_with("-h"));
    if let (Some(host), false) = (&settings.host, names_host) {
        args.push(format!("--host={host}"));
    }
    args
}

/// Whether the MariaDB client accepts `arg` only as a first argument.
fn is_leading(arg: &str) -> bool {
    arg == "--no-defaults" || LEADING.iter().any(|p| arg.starts_with(p))
}

/// The index of the first `--` of `args`, or their length.
fn options_end(args: &[String]) -> usize {
    args.iter().position(|a| a == "--").unwrap_or(args.len())
}

/// `mariadb-dump` arguments: [`connection_args`], ours, and the rest of
/// `extra_args`.
fn dump_args(settings: &Settings, target: &Target, extra_args: &[String]) -> Vec<String> {
    let options = options_end(extra_args);
    let rest: Vec<String> = extra_args
        .iter()
        .enumerate()
        .filter(|(i, a)| *i >= options || !is_leading(a))
        .map(|(_, a)| a.clone())
        .collect();
    let mut args = leading_args(settings, extra_args);
    args.push("--single-transaction".to_string());
    match target {
        Target::All => {
            args.push("--all-databases".to_string());
            args.extend(rest);
        }
        // Users, roles and grants as `CREATE USER IF NOT EXISTS` and
        // `GRANT`: replaying them onto a server that has some is harmless.
        Target::Globals => {
            args.pop();
            args.extend(["--system=users".to_string(), "--insert-ignore".to_string()]);
            args.extend(rest);
        }
        // A name that looks like an option must follow `--`, after every option.
        Target::Database(name) if name.starts_with('-') => {
            args.push("--databases".to_string());
            let has_separator = rest.iter().any(|a| a == "--");
            args.extend(rest);
            if !has_separator {
                args.push("--".to_string());
            }
            args.push(name.clone());
        }
        Target::Database(name) => {
            args.push("--databases".to_string());
            args.push(name.clone());
            args.extend(rest);
        }
    }
    args
}

#[cfg(test)]
mod tests;
