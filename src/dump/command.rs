//! The dump tool's command line.

use std::fmt;
use std::io;
use std::process::Command;

use super::child::DumpReader;
use super::{client_environment, env_nonempty, pick_program, Connection, Engine, Target};
use crate::error::{Error, Result};
use crate::redact::{redact, MASK};

/// MariaDB client options that are only accepted as the first arguments.
const MARIADB_LEADING: &[&str] = &[
    "--defaults-file=",
    "--defaults-extra-file=",
    "--defaults-group-suffix=",
];

/// A dump command ready to spawn.
pub struct DumpCommand {
    engine: Engine,
    program: String,
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    database: String,
    /// Why the command must not run (checked by [`DumpCommand::spawn`]).
    problem: Option<String>,
}

impl fmt::Debug for DumpCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, _)| format!("{k}={MASK}"))
            .collect();
        f.debug_struct("DumpCommand")
            .field("program", &self.program)
            .field("args", &self.args)
            .field("env", &env)
            .finish()
    }
}

impl DumpCommand {
    /// Builds the command for `target`, with the user's `extra_args` after
    /// ours. The password, if any, goes to the child's environment
    /// (`PGPASSWORD` / `MYSQL_PWD`), never to its arguments. For MariaDB,
    /// `MYSQL_USER` (if set) becomes `--user=` unless `extra_args` name a
    /// user, `MYSQL_HOST` becomes `--host=` unless they name a host (the
    /// `mariadb` client reads `MYSQL_HOST`, `mariadb-dump` does not), and the
    /// program is `mariadb-dump` if on `PATH`, else `mysqldump`.
    pub fn new(
        engine: Engine,
        target: &Target,
        extra_args: &[String],
        conn: &Connection,
    ) -> DumpCommand {
        let (program, user, host) = match engine {
            Engine::Postgres => ("", None, None),
            Engine::MariaDb => (
                pick_program("mariadb-dump", "mysqldump"),
                env_nonempty("MYSQL_USER"),
                env_nonempty("MYSQL_HOST"),
            ),
        };
        Self::build(
            engine,
            target,
            extra_args,
            conn,
            program,
            user.as_deref(),
            host.as_deref(),
        )
    }

    fn build(
        engine: Engine,
        target: &Target,
        extra_args: &[String],
        conn: &Connection,
        mariadb_program: &str,
        mysql_user: Option<&str>,
        mysql_host: Option<&str>,
    ) -> DumpCommand {
        let (program, args) = match engine {
            Engine::Postgres => postgres_args(target, extra_args),
            Engine::MariaDb => (
                mariadb_program.to_string(),
                mariadb_args(target, extra_args, mysql_user, mysql_host),
            ),
        };
        let problem = match target {
            Target::Database(name) if name.is_empty() => Some("empty database name".to_string()),
            Target::Database(name) if name.contains('\0') => {
                Some(format!("database name {name:?} contains a NUL byte"))
            }
            _ => None,
        };
        DumpCommand {
            engine,
            program,
            args,
            env: conn
                .env(engine)
                .map(|(var, password)| (var, password.to_string()))
                .into_iter()
                .collect(),
            database: target.label().to_string(),
            problem,
        }
    }

    /// The program that will run (`pg_dump`, `pg_dumpall`, `mariadb-dump`
    /// or fallback `mysqldump`).
    pub fn program(&self) -> &str {
        &self.program
    }

    /// The argv after the program (for tests and debug logs; never contains
    /// a password).
    pub fn args(&self) -> &[String] {
        &self.args
    }

    /// Starts the dump: stdout piped for reading, stderr drained on a thread
    /// that keeps its last lines for the error message.
    ///
    /// A missing program is an [`Error::Dump`] saying which client to install.
    pub fn spawn(&self) -> Result<DumpReader> {
        if let Some(problem) = &self.problem {
            return Err(Error::Config(problem.clone()));
        }
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args);
        client_environment(
            &mut cmd,
            self.env.iter().map(|(var, value)| (*var, value.as_str())),
        );
        tracing::debug!(
            target: "dbbr::dump",
            program = %self.program,
            args = %redact(&self.args.join(" ")),
            password_env = self.env.first().map(|(var, _)| *var).unwrap_or("none"),
            "starting dump"
        );
        DumpReader::start(cmd, &self.program, &self.database).map_err(|e| {
            if e.kind() == io::ErrorKind::NotFound {
                Error::Dump {
                    database: self.database.clone(),
                    message: self.engine.not_found(&self.program),
                }
            } else {
                Error::io(format!("cannot start {}", self.program), e)
            }
        })
    }
}

/// What every MariaDB client call of a backup starts with: the option-file
/// options of `extra_args` (the client only accepts them first), then
/// `--user=` / `--host=` from `MYSQL_USER` / `MYSQL_HOST` unless `extra_args`
/// name a user / host. Arguments after a `--` are names, not options.
pub(super) fn mariadb_connection_args(
    extra_args: &[String],
    mysql_user: Option<&str>,
    mysql_host: Option<&str>,
) -> Vec<String> {
    let options = &extra_args[..options_end(extra_args)];
    let mut args: Vec<String> = options.iter().filter(|a| is_leading(a)).cloned().collect();
    let names_user = options
        .iter()
        .any(|a| a == "--user" || a.starts_with("--user=") || a.starts_with("-u"));
    if let (Some(user), false) = (mysql_user, names_user) {
        args.push(format!("--user={user}"));
    }
    let names_host = options
        .iter()
        .any(|a| a == "--host" || a.starts_with("--host=") || a.starts_with("-h"));
    if let (Some(host), false) = (mysql_host, names_host) {
        args.push(format!("--host={host}"));
    }
    args
}

/// Whether the MariaDB client accepts `arg` only as a first argument.
fn is_leading(arg: &str) -> bool {
    arg == "--no-defaults" || MARIADB_LEADING.iter().any(|p| arg.starts_with(p))
}

/// The index of the first `--` of `args`, or their length.
fn options_end(args: &[String]) -> usize {
    args.iter().position(|a| a == "--").unwrap_or(args.len())
}

/// `pg_dump` for one database, `pg_dumpall` for all, and the arguments.
fn postgres_args(target: &Target, extra_args: &[String]) -> (String, Vec<String>) {
    let (program, mut args) = match target {
        Target::Database(name) => ("pg_dump", postgres_dbname(name)),
        Target::All => ("pg_dumpall", Vec::new()),
    };
    args.extend(extra_args.iter().cloned());
    (program.to_string(), args)
}

/// The arguments selecting database `name` such that libpq takes it as a
/// plain name: a name libpq would read as a connection string (one with `=`
/// or a URI prefix) is wrapped in `dbname='...'`; one that looks like an
/// option is attached to `--dbname=`.
fn postgres_dbname(name: &str) -> Vec<String> {
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

/// `mariadb-dump` arguments: [`mariadb_connection_args`], ours, and the
/// rest of `extra_args`.
fn mariadb_args(
    target: &Target,
    extra_args: &[String],
    mysql_user: Option<&str>,
    mysql_host: Option<&str>,
) -> Vec<String> {
    let options = options_end(extra_args);
    let rest: Vec<String> = extra_args
        .iter()
        .enumerate()
        .filter(|(i, a)| *i >= options || !is_leading(a))
        .map(|(_, a)| a.clone())
        .collect();
    let mut args = mariadb_connection_args(extra_args, mysql_user, mysql_host);
    args.push("--single-transaction".to_string());
    match target {
        Target::All => {
            args.push("--all-databases".to_string());
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
mod tests {
    use std::io::Read;

    use super::*;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    fn db(name: &str) -> Target {
        Target::Database(name.to_string())
    }

    fn pg(target: &Target, extra: &[&str]) -> DumpCommand {
        DumpCommand::build(
            Engine::Postgres,
            target,
            &strings(extra),
            &Connection::default(),
            "",
            None,
            None,
        )
    }

    fn maria(target: &Target, extra: &[&str], user: Option<&str>) -> DumpCommand {
        DumpCommand::build(
            Engine::MariaDb,
            target,
            &strings(extra),
            &Connection::default(),
            "mariadb-dump",
            user,
            None,
        )
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
    fn mariadb_database_and_all() {
        let cmd = maria(&db("shop"), &["--routines"], None);
        assert_eq!(cmd.program(), "mariadb-dump");
        assert_eq!(
            cmd.args(),
            ["--single-transaction", "--databases", "shop", "--routines"]
        );
        let cmd = maria(&Target::All, &["--events"], None);
        assert_eq!(
            cmd.args(),
            ["--single-transaction", "--all-databases", "--events"]
        );
    }

    #[test]
    fn mariadb_name_like_an_option() {
        let cmd = maria(&db("-x"), &["--routines"], None);
        assert_eq!(
            cmd.args(),
            [
                "--single-transaction",
                "--databases",
                "--routines",
                "--",
                "-x"
            ]
        );
    }

    #[test]
    fn mariadb_option_file_options_go_first() {
        let cmd = maria(
            &db("shop"),
            &[
                "--routines",
                "--defaults-extra-file=/etc/x.cnf",
                "--no-defaults",
                "--defaults-group-suffix=_b",
                "--defaults-file=/etc/my.cnf",
                "--events",
            ],
            Some("backup"),
        );
        assert_eq!(
            cmd.args(),
            [
                "--defaults-extra-file=/etc/x.cnf",
                "--no-defaults",
                "--defaults-group-suffix=_b",
                "--defaults-file=/etc/my.cnf",
                "--user=backup",
                "--single-transaction",
                "--databases",
                "shop",
                "--routines",
                "--events",
            ]
        );
    }

    #[test]
    fn mariadb_user_from_env() {
        let cmd = maria(&Target::All, &[], Some("backup"));
        assert_eq!(
            cmd.args(),
            ["--user=backup", "--single-transaction", "--all-databases"]
        );
        for extra in [
            ["-u", "root"],
            ["-uroot", "-v"],
            ["--user", "root"],
            ["--user=root", "-v"],
        ] {
            let cmd = maria(&Target::All, &extra, Some("backup"));
            assert!(
                !cmd.args().contains(&"--user=backup".to_string()),
                "{extra:?}"
            );
            assert_eq!(cmd.args()[2..], strings(&extra));
        }
        // After `--` an argument is a name, not an option.
        let cmd = maria(&Target::All, &["--", "-u"], Some("backup"));
        assert_eq!(cmd.args()[0], "--user=backup");
    }

    #[test]
    fn mariadb_host_from_env() {
        let build = |extra: &[&str]| {
            DumpCommand::build(
                Engine::MariaDb,
                &db("shop"),
                &strings(extra),
                &Connection::default(),
                "mariadb-dump",
                Some("backup"),
                Some("db.internal"),
            )
        };
        assert_eq!(
            build(&["--defaults-extra-file=/etc/x.cnf"]).args(),
            [
                "--defaults-extra-file=/etc/x.cnf",
                "--user=backup",
                "--host=db.internal",
                "--single-transaction",
                "--databases",
                "shop",
            ]
        );
        for extra in [
            ["-h", "other"],
            ["-hother", "-v"],
            ["--host", "other"],
            ["--host=other", "-v"],
        ] {
            let cmd = build(&extra);
            assert!(
                !cmd.args().contains(&"--host=db.internal".to_string()),
                "{extra:?}"
            );
        }
        // `--hex-blob` is not a host, and after `--` nothing is an option.
        assert!(build(&["--hex-blob"])
            .args()
            .contains(&"--host=db.internal".to_string()));
        assert!(build(&["--", "-h"])
            .args()
            .contains(&"--host=db.internal".to_string()));
    }

    #[test]
    fn password_stays_out_of_args_and_debug() {
        let conn = Connection {
            password: Some("hunter2-secret".into()),
        };
        for engine in [Engine::Postgres, Engine::MariaDb] {
            for target in [db("shop"), Target::All] {
                let cmd =
                    DumpCommand::build(engine, &target, &[], &conn, "mysqldump", Some("u"), None);
                assert!(!cmd.args().iter().any(|a| a.contains("hunter2")));
                let debug = format!("{cmd:?}");
                assert!(!debug.contains("hunter2"), "{debug}");
                let var = if engine == Engine::Postgres {
                    "PGPASSWORD"
                } else {
                    "MYSQL_PWD"
                };
                assert!(debug.contains(&format!("{var}=***")), "{debug}");
                assert_eq!(cmd.env, [(var, "hunter2-secret".to_string())]);
            }
        }
        let cmd = pg(&db("shop"), &[]);
        assert!(cmd.env.is_empty());
    }

    #[test]
    fn password_reaches_the_child_environment() {
        let mut cmd = pg(&db("shop"), &[]);
        cmd.program = "sh".into();
        cmd.args = strings(&["-c", "printf %s \"$PGPASSWORD\""]);
        cmd.env = vec![("PGPASSWORD", "env-only-pw".into())];
        let mut reader = cmd.spawn().unwrap();
        let mut out = String::new();
        reader.read_to_string(&mut out).unwrap();
        reader.finish().unwrap();
        assert_eq!(out, "env-only-pw");
    }

    #[test]
    fn missing_program_says_what_to_install() {
        let mut cmd = pg(&db("shop"), &[]);
        cmd.program = "pg_dump-dbbr-missing".into();
        let Err(Error::Dump { database, message }) = cmd.spawn() else {
            panic!("expected a dump error");
        };
        assert_eq!(database, "shop");
        assert!(
            message.starts_with("pg_dump-dbbr-missing not found"),
            "{message}"
        );
        assert!(message.contains("postgresql-client"), "{message}");
        let mut cmd = maria(&Target::All, &[], None);
        cmd.program = "mariadb-dump-dbbr-missing".into();
        let err = cmd.spawn().unwrap_err().to_string();
        assert!(err.contains("mariadb-client"), "{err}");
    }

    #[test]
    fn bad_names_are_rejected_before_running() {
        for name in ["", "a\0b"] {
            let err = pg(&db(name), &[]).spawn().unwrap_err();
            assert!(matches!(err, Error::Config(_)), "{err:?}");
        }
    }

    #[test]
    fn new_picks_programs() {
        let conn = Connection::default();
        let cmd = DumpCommand::new(Engine::Postgres, &db("x"), &[], &conn);
        assert_eq!(cmd.program(), "pg_dump");
        let cmd = DumpCommand::new(Engine::MariaDb, &Target::All, &[], &conn);
        assert!(["mariadb-dump", "mysqldump"].contains(&cmd.program()));
    }
}
