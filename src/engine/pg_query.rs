//! PostgreSQL's administrative queries, through `psql` with the
//! connection's settings: a script with bound variables, and the stopping
//! of server sessions that a killed client or a pooler left running.

use std::process::Command;

use super::client::{
    client_environment, run_query_as, speak_utf8, QueryMode, PROBE_CONNECT_TIMEOUT,
};
use super::{Connection, Engine};
use crate::error::Result;

/// Runs `script` with psql (`db` bound to the psql variable `db`, so that it
/// is quoted by psql as `:'db'` or `:"db"`), stopping at the first error,
/// connected as the connection's options say.
pub(super) fn psql(conn: &Connection, target: &[&str], db: &str, script: &str) -> Result<String> {
    psql_as(conn, target, &[("db", db)], script, QueryMode::Normal)
}

/// [`psql`] with several variables, in `mode`.
pub(super) fn psql_as(
    conn: &Connection,
    target: &[&str],
    vars: &[(&str, &str)],
    script: &str,
    mode: QueryMode,
) -> Result<String> {
    run_query_as(psql_command(conn, target, vars), "psql", script, mode)
}

/// [`psql`] on database `postgres` with `vars`, under the session name
/// `dbbr WHAT <id>` of its own: when its client fails (a signal killed it),
/// the server would go on with the script, so that session is stopped too
/// (bounded) before this returns.
pub(super) fn psql_settled(
    conn: &Connection,
    what: &str,
    vars: &[(&str, &str)],
    script: &str,
) -> Result<String> {
    let session = format!("dbbr {what} {}", crate::RunId::new());
    let mut cmd = psql_command(conn, &["-d", "postgres"], vars);
    cmd.env("PGAPPNAME", &session);
    let done = run_query_as(cmd, "psql", script, QueryMode::Normal);
    if done.is_err() {
        stop_sessions(conn, &session);
    }
    done
}

/// The `psql` of [`psql_as`], reading its script from stdin.
pub(super) fn psql_command(conn: &Connection, target: &[&str], vars: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new("psql");
    cmd.args(["-XAtqw", "-v", "ON_ERROR_STOP=1"]);
    for (name, value) in vars {
        cmd.arg("-v").arg(format!("{name}={value}"));
    }
    cmd.args(conn.connect_args(Engine::Postgres)).args(target);
    if std::env::var_os("PGCONNECT_TIMEOUT").is_none_or(|v| v.is_empty()) {
        cmd.env("PGCONNECT_TIMEOUT", PROBE_CONNECT_TIMEOUT);
    }
    client_environment(&mut cmd, Engine::Postgres, conn.env(Engine::Postgres));
    speak_utf8(&mut cmd);
    cmd
}

/// Terminates the server sessions named `session` and waits until they
/// have ended, also after a signal, for a few seconds at most; a session
/// left is logged.
fn stop_sessions(conn: &Connection, session: &str) {
    let deadline = std::time::Instant::now() + super::client::CLEANUP_TIMEOUT;
    let left = loop {
        // Counts the sessions still there, signalling each (again).
        let left = psql_as(
            conn,
            &["-d", "postgres"],
            &[("app", session)],
            "SELECT count(pg_catalog.pg_terminate_backend(pid)) \
             FROM pg_catalog.pg_stat_activity WHERE application_name = :'app';",
            QueryMode::Cleanup,
        );
        match left.as_deref().map(str::trim) {
            Ok("0") => return,
            Ok(_) if std::time::Instant::now() < deadline => {
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
            Ok(n) => break format!("{n} still there"),
            Err(e) => break e.to_string(),
        }
    };
    tracing::warn!("could not stop the server session `{session}`: {left}");
}

/// Ends the idle sessions still connected to `name`, a database that this
/// restore made and is about to rename into place: a connection pooler keeps
/// its server connections to it after the restore's clients have left, and
/// the rename waits for no session. Only idle client sessions of roles this
/// one may signal are ended; a failure is logged, and the rename says why
/// it could not go on.
pub(super) fn end_idle_sessions(conn: &Connection, name: &str) {
    let ended = psql_as(
        conn,
        &["-d", "postgres"],
        &[("db", name)],
        "SELECT count(pg_catalog.pg_terminate_backend(pid)) \
         FROM pg_catalog.pg_stat_activity WHERE datname = :'db' AND state = 'idle' \
         AND backend_type = 'client backend' AND pid <> pg_catalog.pg_backend_pid() \
         AND pg_catalog.pg_has_role(usesysid, 'MEMBER');",
        QueryMode::Normal,
    );
    match ended.as_deref().map(str::trim) {
        Ok("0") => {}
        Ok(n) => tracing::info!("{name}: ended {n} idle session(s) left on it (a pooler's)"),
        Err(e) => tracing::debug!("{name}: could not end the idle sessions on it: {e}"),
    }
}

/// The arguments selecting database `name` such that libpq takes it as a
/// plain name: a name libpq would read as a connection string (one with `=`
/// or a URI prefix) is wrapped in `dbname='...'`; one that looks like an
/// option is attached to `--dbname=`.
pub(super) fn dbname_args(name: &str) -> Vec<String> {
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
