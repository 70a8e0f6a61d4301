//! What every database client dbbr starts shares: the password (by
//! environment only), an environment built from an allow-list, program
//! lookup on `PATH`, and short probe commands.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Engine;
use crate::dump::environment::{self, on_path, ClientEnv};
use crate::error::{Error, Result, Setting};
use crate::redact::add_secret;

/// How long a version probe may take before it is given up.
pub(super) const PROBE_TIMEOUT: Duration = Duration::from_secs(30);

/// Connect timeout (seconds) for the server version probe, unless the
/// environment sets one.
pub(super) const PROBE_CONNECT_TIMEOUT: &str = "10";

/// Connection settings not carried by the inherited environment.
#[derive(Clone, Default)]
pub(crate) struct Connection {
    /// Password read from a password file, given to clients by environment
    /// only.
    pub password: Option<String>,
    /// The arguments the user gave the dump tool or restore client: the
    /// engine's own administrative queries connect as they say (MariaDB's
    /// option-file options, `--user`, `--host`).
    pub args: Vec<String>,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field(
                "password",
                &self.password.as_ref().map(|_| crate::redact::MASK),
            )
            .field("args", &self.args.len())
            .finish()
    }
}

impl Connection {
    /// The connection with the user's dump or client arguments.
    pub(crate) fn with_args(mut self, args: &[String]) -> Connection {
        self.args = args.to_vec();
        self
    }

    /// Reads the engine's password file variable (`PGPASSWORD_FILE`,
    /// `MYSQL_PWD_FILE`) from the process environment if set and not empty.
    pub(crate) fn from_env(engine: Engine) -> Result<Connection> {
        Self::from_path(std::env::var_os(engine.kind().password_file_var()))
    }

    /// Reads the password from `path`: its trailing newline is trimmed and
    /// the password is registered as a secret. An unreadable file is an
    /// [`Error::Config`] naming the path (never the content).
    pub(crate) fn from_password_file(path: &Path) -> Result<Connection> {
        Self::from_path(Some(path.as_os_str().to_owned()))
    }

    fn from_path(value: Option<OsString>) -> Result<Connection> {
        let Some(path) = value.filter(|v| !v.is_empty()) else {
            return Ok(Connection::default());
        };
        let path = Path::new(&path);
        let bad = |why: String| {
            Error::config(
                Setting::PasswordFile,
                format!("password file {}: {why}", path.display()),
            )
        };
        let bytes =
            std::fs::read(path).map_err(|e| bad(format!("cannot read it: {e}: check the path")))?;
        let text = String::from_utf8(bytes).map_err(|_| bad("is not valid UTF-8".into()))?;
        let password = text.trim_end_matches(['\r', '\n']);
        if password.contains('\0') {
            return Err(bad("contains a NUL byte".into()));
        }
        add_secret(password);
        Ok(Connection {
            password: Some(password.to_string()),
            ..Connection::default()
        })
    }

    /// The options of the user's arguments that say how to connect, for
    /// every connection to `engine`'s server.
    pub(crate) fn connect_args(&self, engine: Engine) -> Vec<String> {
        super::connect::connect_options(engine, &self.args)
    }

    /// The environment addition that passes the password to a client of
    /// `engine`.
    pub(super) fn env(&self, engine: Engine) -> Option<(&'static str, String)> {
        self.password
            .as_ref()
            .map(|password| (engine.kind().password_var(), password.clone()))
    }
}

/// Prefixes of an engine's own client settings: libpq's `PG*` for the
/// PostgreSQL tools, `MYSQL*` and `MARIADB*` for MariaDB's. Each tool gets
/// only its own engine's (and so only its own password).
fn engine_prefixes(engine: Engine) -> &'static [&'static str] {
    match engine {
        Engine::Postgres => &["PG"],
        Engine::MariaDb => &["MYSQL", "MARIADB"],
    }
}

/// The environment of a client of `engine`: the allow-list plus `password`
/// (the password variable and value, if any).
pub(crate) fn client_env(engine: Engine, password: Option<(&'static str, String)>) -> ClientEnv {
    ClientEnv {
        prefixes: engine_prefixes(engine),
        password,
    }
}

/// Whether a client of `engine` may inherit variable `name`.
#[cfg(test)]
fn client_may_inherit(name: &str, engine: Engine) -> bool {
    environment::may_inherit(name, engine_prefixes(engine))
}

/// Sets up the environment of a client of `engine` (see
/// [`environment::apply`]), with `env` (the password variable, if any).
pub(crate) fn client_environment(
    cmd: &mut Command,
    engine: Engine,
    env: Option<(&'static str, String)>,
) {
    environment::apply(cmd, &client_env(engine, env));
}

/// Makes `cmd` (a PostgreSQL client that runs dbbr's own statements and
/// answers them to dbbr) talk UTF-8 with the server, whatever the
/// database's encoding or the user's `PGCLIENTENCODING`: dbbr's text is
/// UTF-8, so the names it writes into statements and reads from answers
/// are only right in it. Scripts that dbbr replays as they were stored say
/// their own encoding and are not run through such a client.
pub(super) fn speak_utf8(cmd: &mut Command) {
    cmd.env("PGCLIENTENCODING", "UTF8");
}

/// `preferred` if it is on `PATH`, else `fallback` if that is, else
/// `preferred` (so that the error names it).
pub(super) fn pick_program(preferred: &'static str, fallback: &'static str) -> &'static str {
    if !on_path(preferred) && on_path(fallback) {
        fallback
    } else {
        preferred
    }
}

/// An environment variable's value, if set, UTF-8 and not empty.
pub(super) fn env_nonempty(var: &str) -> Option<String> {
    std::env::var(var).ok().filter(|v| !v.is_empty())
}

/// `program --version`'s first line, run with `engine`'s clients'
/// environment.
pub(super) fn version_of(program: &str, engine: Engine) -> Option<String> {
    let mut cmd = Command::new(program);
    cmd.arg("--version");
    client_environment(&mut cmd, engine, None);
    run_capture(cmd, PROBE_TIMEOUT)
}

/// How long a clean-up query (dropping what a failed or interrupted restore
/// made) may go on after a signal: it runs after one too, so it is bounded.
pub(super) const CLEANUP_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a clean-up query may take when no signal came: dropping what a
/// failed restore of tens of thousands of tables made takes a while, and
/// nothing asks for haste then.
const CLEANUP_UNHURRIED: Duration = Duration::from_secs(600);

/// Whether a query stops at an interrupt, or is clean-up that runs after
/// one, for [`CLEANUP_TIMEOUT`] at most after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum QueryMode {
    /// Stopped by an interrupt.
    Normal,
    /// Runs after an interrupt too, bounded.
    Cleanup,
}

/// Runs an administrative query (`script` on stdin) and returns its stdout;
/// a failure is an [`Error::Database`] with the exit status and the last
/// stderr lines, redacted. In [`QueryMode::Normal`] an interrupt kills it
/// ([`Error::Interrupted`]); clean-up runs for [`CLEANUP_TIMEOUT`] at most
/// after an interrupt (or after its start, if that came first), and for
/// [`CLEANUP_UNHURRIED`] without one.
pub(super) fn run_query_as(
    cmd: Command,
    program: &str,
    script: &str,
    mode: QueryMode,
) -> Result<String> {
    let started = Instant::now();
    let signalled = std::sync::OnceLock::new();
    let stop = || match mode {
        QueryMode::Normal => crate::interrupt::interrupted().then_some(Error::Interrupted),
        QueryMode::Cleanup => {
            let now = Instant::now();
            let (since, bound) = if crate::interrupt::interrupted() {
                (*signalled.get_or_init(|| now), CLEANUP_TIMEOUT)
            } else {
                (started, CLEANUP_UNHURRIED)
            };
            (now >= since + bound).then(|| Error::Database {
                program: program.to_string(),
                message: format!("no answer within {}s", bound.as_secs()),
            })
        }
    };
    run_to_end(cmd, program, Input::Bytes(script.as_bytes()), &stop)
}

/// What a client started by [`run_to_end`] reads.
pub(crate) enum Input<'a> {
    /// These bytes (a script, an archive), written from a thread.
    Bytes(&'a [u8]),
    /// Another process's output.
    From(Stdio),
}

/// Runs `cmd` with `input` on its stdin and returns its stdout; a failure
/// is an [`Error::Database`] with the exit status and the last stderr
/// lines, redacted. Polled rather than waited for: as soon as `stop`
/// gives an error, the client is stopped ([`crate::client_stop`]) and that
/// is the result, so that a signal stops a client that a server never
/// answers.
pub(super) fn run_to_end(
    cmd: Command,
    program: &str,
    input: Input<'_>,
    stop: &dyn Fn() -> Option<Error>,
) -> Result<String> {
    let stdout = run_to_end_bytes(cmd, program, input, stop)?;
    Ok(String::from_utf8_lossy(&stdout).into_owned())
}

/// [`run_to_end`], its stdout as bytes.
pub(crate) fn run_to_end_bytes(
    mut cmd: Command,
    program: &str,
    input: Input<'_>,
    stop: &dyn Fn() -> Option<Error>,
) -> Result<Vec<u8>> {
    let script = match input {
        Input::Bytes(bytes) => {
            cmd.stdin(Stdio::piped());
            Some(bytes.to_vec())
        }
        Input::From(stdin) => {
            cmd.stdin(stdin);
            None
        }
    };
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    // Waited for below, on this thread: it ends with dbbr.
    crate::ffi::die_with_parent(&mut cmd);
    let fail = |message: String| Error::Database {
        program: program.to_string(),
        message: crate::redact::redact(&message),
    };
    let mut child = cmd.spawn().map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => fail("not found: install the database client".into()),
        _ => fail(format!("cannot start it: {e}")),
    })?;
    let stdin = child.stdin.take();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        if let (Some(mut stdin), Some(script)) = (stdin, script) {
            let _ = stdin.write_all(&script);
        }
    });
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = read(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = read(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => match stop() {
                None => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Some(e) => {
                    crate::client_stop::stop(&mut child);
                    return Err(e);
                }
            },
            Err(e) => return Err(fail(format!("waiting for it: {e}"))),
        }
    };
    let _ = writer.join();
    let stdout = stdout.join().unwrap_or_default();
    let stderr = stderr.join().unwrap_or_default();
    if !status.success() {
        let stderr = String::from_utf8_lossy(&stderr);
        let lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
        let tail = lines[lines.len().saturating_sub(5)..].join(" | ");
        return Err(fail(format!("{status}: {tail}")));
    }
    Ok(stdout)
}

/// Runs a short command and returns its first non-empty stdout line, or
/// `None` if it cannot start, fails, or outlives `timeout`.
pub(super) fn run_capture(mut cmd: Command, timeout: Duration) -> Option<String> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    crate::ffi::die_with_parent(&mut cmd);
    let mut child = cmd.spawn().ok()?;
    let deadline = Instant::now() + timeout;
    let mut pause = Duration::from_millis(2);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline && !crate::interrupt::interrupted() => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            _ => {
                crate::client_stop::stop(&mut child);
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
    use super::*;

    #[test]
    fn password_file_is_read_and_trimmed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pw");
        std::fs::write(&path, "pa ss-word\r\n").unwrap();
        let conn = Connection::from_password_file(&path).unwrap();
        assert_eq!(conn.password.as_deref(), Some("pa ss-word"));
        let debug = format!("{conn:?}");
        assert!(!debug.contains("pa ss-word"), "{debug}");
        assert!(debug.contains("***"), "{debug}");
        assert_eq!(crate::redact::redact("x pa ss-word y"), "x *** y");
        assert_eq!(
            conn.env(Engine::MariaDb),
            Some(("MYSQL_PWD", "pa ss-word".to_string()))
        );
    }

    #[test]
    fn password_file_unset_or_empty() {
        let conn = Connection::from_path(None).unwrap();
        assert_eq!(conn.password, None);
        assert_eq!(
            format!("{conn:?}"),
            "Connection { password: None, args: 0 }"
        );
        let conn = Connection::from_path(Some("".into())).unwrap();
        assert_eq!(conn.password, None);
        assert_eq!(conn.env(Engine::Postgres), None);
    }

    #[test]
    fn unreadable_password_file_is_a_config_error() {
        let err = Connection::from_password_file(Path::new("/nonexistent/pw")).unwrap_err();
        assert_eq!(err.setting(), Some(Setting::PasswordFile), "{err:?}");
        let text = err.to_string();
        assert!(text.starts_with("password file /nonexistent/pw"), "{text}");
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
    fn clients_inherit_only_what_they_need() {
        for var in [
            "PATH",
            "HOME",
            "LANG",
            "LC_ALL",
            "TZ",
            "TMPDIR",
            "KRB5CCNAME",
        ] {
            assert!(client_may_inherit(var, Engine::Postgres), "{var}");
            assert!(client_may_inherit(var, Engine::MariaDb), "{var}");
        }
        // Each engine's tools get their own settings only: pg_dump never
        // sees MYSQL_PWD, mariadb-dump never PGPASSWORD.
        for var in [
            "PGHOST",
            "PGPASSWORD",
            "PGPASSFILE",
            "PGSERVICE",
            "PGSSLMODE",
        ] {
            assert!(client_may_inherit(var, Engine::Postgres), "{var}");
            assert!(!client_may_inherit(var, Engine::MariaDb), "{var}");
        }
        for var in ["MYSQL_PWD", "MYSQL_HOST", "MARIADB_HOME"] {
            assert!(client_may_inherit(var, Engine::MariaDb), "{var}");
            assert!(!client_may_inherit(var, Engine::Postgres), "{var}");
        }
        for var in [
            "AWS_SECRET_ACCESS_KEY",
            "AWS_SESSION_TOKEN",
            "RCLONE_CONFIG_STORE_PASS",
            "AZURE_CLIENT_SECRET",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "ENCRYPT_RECIPIENTS",
            "REMOTE_NAME",
            "PGPASSWORD_FILE",
            "MYSQL_PWD_FILE",
            "HTTPS_PROXY",
            "DATABASE_URL",
        ] {
            assert!(!client_may_inherit(var, Engine::Postgres), "{var}");
            assert!(!client_may_inherit(var, Engine::MariaDb), "{var}");
        }
    }

    #[test]
    fn programs_on_path() {
        assert!(on_path("sh"));
        assert!(!on_path("dbbr-no-such-tool"));
        assert_eq!(pick_program("dbbr-no-such-tool", "sh"), "sh");
        assert_eq!(pick_program("sh", "dbbr-no-such-tool"), "sh");
        assert_eq!(
            pick_program("dbbr-no-such-tool", "dbbr-no-such-tool-either"),
            "dbbr-no-such-tool"
        );
    }
}
