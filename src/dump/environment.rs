//! The environment and lookup of every child program dbbr starts (dump
//! tools, restore clients, version probes): an allow-list of the process
//! environment, so that no storage setting or cloud credential reaches a
//! database client.

use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// What a child program's environment is made of, beyond the allow-list.
#[derive(Clone)]
pub(crate) struct ClientEnv {
    /// Prefixes of the program's own settings (`PG` for libpq's tools).
    pub(crate) prefixes: &'static [&'static str],
    /// The password variable and its value, if any.
    pub(crate) password: Option<(&'static str, String)>,
}

/// Variables a database client may inherit, by exact name: what the
/// programs need to run (search path, home for `~/.pgpass` and `~/.my.cnf`,
/// locale, time zone, temporary files, shared libraries) and Kerberos for
/// GSSAPI logins.
const CLIENT_VARS: &[&str] = &[
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LANGUAGE",
    "TZ",
    "TZDIR",
    "TMPDIR",
    "LD_LIBRARY_PATH",
    "KRB5_CONFIG",
    "KRB5CCNAME",
    "KRB5_KTNAME",
    "KRB5_CLIENT_KTNAME",
];

/// Prefixes of the variables every database client may inherit: the
/// locale.
const CLIENT_PREFIXES: &[&str] = &["LC_"];

/// dbbr's own settings that match [`CLIENT_PREFIXES`] but are not the
/// clients'.
const NOT_CLIENT_VARS: &[&str] = &["PGPASSWORD_FILE", "MYSQL_PWD_FILE"];

/// Whether a client whose own settings start with `prefixes` may inherit
/// variable `name`.
pub(crate) fn may_inherit(name: &str, prefixes: &[&str]) -> bool {
    (CLIENT_VARS.contains(&name)
        || CLIENT_PREFIXES.iter().any(|p| name.starts_with(p))
        || prefixes.iter().any(|p| name.starts_with(p)))
        && !NOT_CLIENT_VARS.contains(&name)
}

/// Sets up a client's environment from an allow-list ([`may_inherit`]) of
/// the process environment, plus its password variable, if any. Nothing
/// else reaches the client: no storage settings (`RCLONE_*`), no cloud
/// credentials (`AWS_*`, `AZURE_*`, `GOOGLE_*`...), no encryption
/// settings, no other engine's settings.
pub(crate) fn apply(cmd: &mut Command, env: &ClientEnv) {
    // Removing (rather than clearing and adding) keeps what the caller set
    // on `cmd` already, such as PGCONNECT_TIMEOUT.
    for (var, _) in std::env::vars_os() {
        if !var.to_str().is_some_and(|v| may_inherit(v, env.prefixes)) {
            cmd.env_remove(var);
        }
    }
    if let Some((var, value)) = &env.password {
        cmd.env(var, value);
    }
}

/// Whether an executable file `name` is in a `PATH` directory.
pub(crate) fn on_path(name: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| {
        std::fs::metadata(dir.join(name))
            .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    })
}
