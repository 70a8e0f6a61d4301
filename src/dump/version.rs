//! Version probes: the dump tool's and the server's, for the backup's metadata.

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::command::mariadb_connection_args;
use super::{client_environment, env_nonempty, pick_program, Connection, Engine};

/// How long a version probe may take before it is given up.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect timeout (seconds) for the server version probe, unless the
/// environment sets one.
const PROBE_CONNECT_TIMEOUT: &str = "10";

/// `pg_dump --version` (`pg_dumpall` if `all`) or `mariadb-dump --version`
/// output line, trimmed; `None` if the tool is missing or fails.
pub fn tool_version(engine: Engine, all: bool) -> Option<String> {
    let program = match engine {
        Engine::Postgres if all => "pg_dumpall",
        Engine::Postgres => "pg_dump",
        Engine::MariaDb => pick_program("mariadb-dump", "mysqldump"),
    };
    let mut cmd = Command::new(program);
    cmd.arg("--version");
    client_environment(&mut cmd, None);
    run_capture(cmd, PROBE_TIMEOUT)
}

/// The server version, best effort, using the same environment and password
/// handling as the dump: `psql -XAtqw -c 'SHOW server_version'` (with
/// `-d postgres` unless `PGDATABASE` is set) or
/// `mariadb -N -B -e 'SELECT VERSION()'` (fallback `mysql`, starting with
/// the option-file options of `dump_args` and `--user=` / `--host=` as the
/// dump does). `None` on any failure; never prompts.
pub fn server_version(engine: Engine, conn: &Connection, dump_args: &[String]) -> Option<String> {
    let cmd = match engine {
        Engine::Postgres => postgres_version_command(
            conn,
            std::env::var_os("PGDATABASE").is_some_and(|v| !v.is_empty()),
            std::env::var_os("PGCONNECT_TIMEOUT").is_some_and(|v| !v.is_empty()),
        ),
        Engine::MariaDb => mariadb_version_command(
            conn,
            pick_program("mariadb", "mysql"),
            &mariadb_connection_args(
                dump_args,
                env_nonempty("MYSQL_USER").as_deref(),
                env_nonempty("MYSQL_HOST").as_deref(),
            ),
        ),
    };
    run_capture(cmd, PROBE_TIMEOUT)
}

fn postgres_version_command(conn: &Connection, has_pgdatabase: bool, has_timeout: bool) -> Command {
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

fn mariadb_version_command(conn: &Connection, program: &str, leading: &[String]) -> Command {
    let mut cmd = Command::new(program);
    cmd.args(leading);
    cmd.arg(format!("--connect-timeout={PROBE_CONNECT_TIMEOUT}"));
    cmd.args(["-N", "-B", "-e", "SELECT VERSION()"]);
    client_environment(&mut cmd, conn.env(Engine::MariaDb));
    cmd
}

/// Runs a short command and returns its first non-empty stdout line, or
/// `None` if it cannot start, fails, or outlives `timeout`.
fn run_capture(mut cmd: Command, timeout: Duration) -> Option<String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    let mut child = cmd.spawn().ok()?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
        }
    };
    if !status.success() {
        return None;
    }
    let mut out = Vec::new();
    child
        .stdout
        .take()?
        .take(64 * 1024)
        .read_to_end(&mut out)
        .ok()?;
    String::from_utf8_lossy(&out)
        .lines()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::super::on_path;
    use super::*;

    fn args_of(cmd: &Command) -> Vec<String> {
        cmd.get_args()
            .map(|a| a.to_str().unwrap().to_string())
            .collect()
    }

    fn env_of(cmd: &Command, var: &str) -> Option<String> {
        cmd.get_envs()
            .find(|(k, _)| *k == var)
            .and_then(|(_, v)| v.map(|v| v.to_str().unwrap().to_string()))
    }

    #[test]
    fn postgres_version_probe() {
        let conn = Connection {
            password: Some("probe-secret".into()),
        };
        let cmd = postgres_version_command(&conn, false, false);
        assert_eq!(cmd.get_program(), "psql");
        assert_eq!(
            args_of(&cmd),
            ["-XAtqw", "-c", "SHOW server_version", "-d", "postgres"]
        );
        assert_eq!(env_of(&cmd, "PGPASSWORD").as_deref(), Some("probe-secret"));
        assert_eq!(env_of(&cmd, "PGCONNECT_TIMEOUT").as_deref(), Some("10"));
        assert!(!args_of(&cmd).iter().any(|a| a.contains("probe-secret")));

        let cmd = postgres_version_command(&Connection::default(), true, true);
        assert_eq!(args_of(&cmd), ["-XAtqw", "-c", "SHOW server_version"]);
        assert_eq!(cmd.get_envs().count(), 0);
    }

    #[test]
    fn mariadb_version_probe() {
        let conn = Connection {
            password: Some("probe-secret".into()),
        };
        let dump_args = [
            "--routines".to_string(),
            "--defaults-extra-file=/etc/x.cnf".to_string(),
        ];
        let leading = mariadb_connection_args(&dump_args, Some("backup"), Some("db"));
        let cmd = mariadb_version_command(&conn, "mariadb", &leading);
        assert_eq!(
            args_of(&cmd),
            [
                "--defaults-extra-file=/etc/x.cnf",
                "--user=backup",
                "--host=db",
                "--connect-timeout=10",
                "-N",
                "-B",
                "-e",
                "SELECT VERSION()"
            ]
        );
        assert_eq!(env_of(&cmd, "MYSQL_PWD").as_deref(), Some("probe-secret"));
        let cmd = mariadb_version_command(&Connection::default(), "mysql", &[]);
        assert_eq!(cmd.get_program(), "mysql");
        assert_eq!(args_of(&cmd)[0], "--connect-timeout=10");
    }

    #[test]
    fn capture_first_line_and_failures() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo; echo '  v1.2 '; echo other"]);
        assert_eq!(run_capture(cmd, PROBE_TIMEOUT).as_deref(), Some("v1.2"));
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "echo v; exit 1"]);
        assert_eq!(run_capture(cmd, PROBE_TIMEOUT), None);
        assert_eq!(
            run_capture(Command::new("dbbr-no-such-tool"), PROBE_TIMEOUT),
            None
        );
        let mut cmd = Command::new("sleep");
        cmd.arg("100");
        let start = Instant::now();
        assert_eq!(run_capture(cmd, Duration::from_millis(200)), None);
        assert!(start.elapsed() < Duration::from_secs(10));
    }

    #[test]
    fn tool_version_when_installed() {
        if on_path("pg_dump") {
            let v = tool_version(Engine::Postgres, false).unwrap();
            assert!(v.starts_with("pg_dump"), "{v}");
        }
        if on_path("pg_dumpall") {
            let v = tool_version(Engine::Postgres, true).unwrap();
            assert!(v.starts_with("pg_dumpall"), "{v}");
        }
        if on_path("mariadb-dump") || on_path("mysqldump") {
            assert!(tool_version(Engine::MariaDb, false).is_some());
        }
        assert!(on_path("sh"));
        assert!(!on_path("dbbr-no-such-tool"));
    }
}
