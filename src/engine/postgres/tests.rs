//! Unit tests of `postgres`.

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
    assert_eq!(
        cmd.args(),
        ["--no-password", "-d", "shop", "--no-owner", "-Fp"]
    );
}

#[test]
fn formats_that_cannot_stream_are_rejected() {
    for args in [
        &["-Fd"][..],
        &["--format=directory"],
        &["-F", "d"],
        &["--format", "d"],
        &["-f", "out.sql"],
        &["--file=out.sql"],
        &["-fout.sql"],
        // Abbreviations, which pg_dump takes.
        &["--fil=out.sql"],
        &["--form", "directory"],
        &["--form=d"],
    ] {
        let err = Postgres.check_dump_args(&strings(args)).unwrap_err();
        assert_eq!(err.setting(), Some(Setting::DumpArgs), "{args:?}");
    }
    for args in [
        &["-Fc"][..],
        &["--format=tar"],
        &["--no-owner"],
        &["--", "-Fd"],
    ] {
        Postgres.check_dump_args(&strings(args)).unwrap();
    }
}

#[test]
fn archive_formats() {
    let archive = |args: &[&str]| Postgres.archive(&strings(args));
    assert_eq!(archive(&["-Fc"]), Some(("dump", true)));
    assert_eq!(archive(&["--format=custom", "-Z0"]), Some(("dump", false)));
    assert_eq!(archive(&["--format", "c"]), Some(("dump", true)));
    assert_eq!(archive(&["--form=c", "--comp=0"]), Some(("dump", false)));
    assert_eq!(archive(&["-Ft"]), Some(("tar", false)));
    assert_eq!(archive(&["-Fp"]), None);
    assert_eq!(archive(&["--no-owner"]), None);
    assert_eq!(archive(&["--", "-Fc"]), None);
}

#[test]
fn postgres_all() {
    let cmd = pg(&Target::All, &["--clean"]);
    assert_eq!(cmd.program(), "pg_dumpall");
    assert_eq!(cmd.args(), ["--no-password", "--clean"]);
    assert_eq!(pg(&Target::All, &[]).args(), ["--no-password"]);
}

#[test]
fn postgres_name_escaping() {
    // Every dump first refuses to prompt for a password.
    assert_eq!(pg(&db("-x"), &[]).args(), ["--no-password", "--dbname=-x"]);
    assert_eq!(dbname_args("-x"), ["--dbname=-x"]);
    assert_eq!(dbname_args("a=b"), ["--dbname=dbname='a=b'"]);
    assert_eq!(dbname_args(r"o'k=\x"), [r"--dbname=dbname='o\'k=\\x'"]);
    assert_eq!(dbname_args("-a=b"), ["--dbname=dbname='-a=b'"]);
    assert_eq!(
        dbname_args("postgresql://h/db"),
        ["--dbname=dbname='postgresql://h/db'"]
    );
    assert_eq!(
        dbname_args("postgres://h"),
        ["--dbname=dbname='postgres://h'"]
    );
    // Quotes and backslashes alone are not special outside conninfo.
    assert_eq!(dbname_args(r"it's\"), ["-d", r"it's\"]);
    assert_eq!(dbname_args("my db"), ["-d", "my db"]);
}

#[test]
fn password_stays_out_of_args_and_debug() {
    let conn = Connection {
        password: Some("hunter2-secret".into()),
        ..Connection::default()
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
fn a_missing_program_is_found_before_running() {
    let mut cmd = pg(&db("shop"), &[]);
    cmd.set_program("pg_dump-dbbr-missing", &[]);
    let err = cmd.check_installed().unwrap_err();
    assert_eq!(err.setting(), Some(Setting::DumpTool));
    assert!(err.to_string().contains("postgresql-client"), "{err}");
    cmd.set_program("sh", &[]);
    cmd.check_installed().unwrap();
    cmd.set_program("/bin/sh", &[]);
    cmd.check_installed().unwrap();
}

#[test]
fn password_reaches_the_child_environment() {
    let conn = Connection {
        password: Some("env-only-pw".into()),
        ..Connection::default()
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
        ..Connection::default()
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
    // Nothing set; the removals are the environment's allow-list at work.
    assert_eq!(cmd.get_envs().filter(|(_, v)| v.is_some()).count(), 0);
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
