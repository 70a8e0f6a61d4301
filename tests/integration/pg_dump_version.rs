//! A pg_dump older than the server is refused before anything is dumped or
//! stored, naming both versions and the image tag that fits: the most
//! common failure of backup images built with an old client.

use crate::common::pg::*;
use crate::common::*;

/// A `pg_dump` that reports `version` and records any other call (a dump)
/// in the returned marker file. Returns (PATH value, marker).
fn pg_dump_reporting(dir: &std::path::Path, version: &str) -> (String, std::path::PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = dir.join("pg_dump-dumped");
    write_executable(
        &bin.join("pg_dump"),
        &format!(
            "#!/bin/sh\n[ \"$1\" = --version ] && echo 'pg_dump (PostgreSQL) {version}' && exit 0\n\
             echo \"$@\" >>'{}'\nexit 1\n",
            marker.display()
        ),
    );
    (path_with(&bin), marker)
}

/// The shared server's major version, e.g. "15".
fn server_major() -> String {
    let version = Server::shared().psql("postgres", "SHOW server_version");
    version
        .trim()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .unwrap()
        .to_string()
}

#[test]
fn an_older_pg_dump_is_refused_before_dumping_with_both_versions() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let (path, marker) = pg_dump_reporting(tmp.path(), "9.6.24");
    let err = fail_with(
        backup_to(&store)
            .env("PATH", &path)
            .env("BACKUP_DATABASES", &db.name),
        1,
    );
    let major = server_major();
    let want = format!(
        "pg_dump 9.6 cannot dump a PostgreSQL {major} server: use pg_dump {major} or newer \
         (image tag postgresql-backup-rclone:{major})"
    );
    assert!(err.contains(&want), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
    assert!(!marker.exists(), "pg_dump was run to dump");
    assert_empty(&store, "a refused backup stores nothing");
}

#[test]
fn a_pg_dump_of_the_servers_major_passes_the_check() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let store = tmp.path().join("store");
    std::fs::create_dir(&store).unwrap();
    // Reports the server's major: the check lets it through to the dump,
    // which this stand-in then fails.
    let (path, marker) = pg_dump_reporting(tmp.path(), &format!("{}.0", server_major()));
    let err = fail_with(
        backup_to(&store)
            .env("PATH", &path)
            .env("BACKUP_DATABASES", &db.name),
        1,
    );
    assert!(!err.contains("cannot dump a PostgreSQL"), "{err}");
    assert!(marker.exists(), "the dump did not start: {err}");
}
