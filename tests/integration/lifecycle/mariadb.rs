//! The lifecycle against the real MariaDB server: restore under another
//! name, verify first (MariaDB cannot roll back DDL), restore drills.

use std::path::Path;
use std::process::Command;

use crate::common::mariadb::*;
use crate::common::*;

/// `dbbr ARGS` over TCP as the password user, against the local remote `dir`.
fn dbbr_at(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = dbbr();
    for (k, _) in std::env::vars() {
        if k.starts_with("MYSQL_") {
            cmd.env_remove(k);
        }
    }
    over_tcp(&mut cmd);
    cmd.env("REMOTE_NAME", local_remote(dir)).args(args);
    cmd
}

/// Backup, then restore into a new database, verified in full first;
/// then a restore drill.
#[test]
fn round_trip_with_age_into_another_database() {
    let server = Server::shared();
    let db = TestDb::tables_only();
    let source = server.checksums(&db.name);
    let tmp = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let (key, recipient) = age_key(keys.path());
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", &db.name)
            .env("ENCRYPT_RECIPIENTS", &recipient),
    );

    let copy = unique("mycopy");
    let _guard = TestDb { name: copy.clone() };
    let out = succeed(
        dbbr_at(
            tmp.path(),
            &["restore", "--latest", &db.name, "--to", &copy, "--create"],
        )
        .env("ENCRYPT_IDENTITY_FILE", &key),
    );
    assert!(
        stderr(&out).contains("verified in full first"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.checksums(&copy), source);
    // The source database was not touched by the dump's own USE line.
    assert_eq!(server.checksums(&db.name), source);

    // A restore drill compares the restored tables' rows with the manifest.
    let scratch = unique("myscratch");
    let out = succeed(
        dbbr_at(
            tmp.path(),
            &["verify", "--latest", &db.name, "--restore-into", &scratch],
        )
        .env("ENCRYPT_IDENTITY_FILE", &key),
    );
    assert!(
        stderr(&out).contains("row counts as in the manifest"),
        "{}",
        stderr(&out)
    );
    assert!(!server.has_database(&scratch));
}

#[test]
fn what_cannot_move_into_place_at_once_is_refused_and_drilled() {
    // A view cannot move to another database: the restore would not be
    // all-or-nothing, so it is refused before anything changes. A server
    // of its own, so that other tests' databases do not come and go.
    let instance = Instance::start();
    let server = instance.server();
    server.sql(&sample_sql("src", false));
    let tmp = tempfile::tempdir().unwrap();
    let on = |args: &[&str]| {
        let verify = args[0] == "verify";
        let mut cmd = dbbr();
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("MYSQL_UNIX_PORT", server.socket())
            .env("MYSQL_USER", "root")
            .env("REMOTE_NAME", local_remote(tmp.path()))
            .args(args);
        // verify takes no client arguments: its drill connects as the
        // option files say, the last read ($MYSQL_HOME/my.cnf) pointing at
        // this server.
        if verify {
            cmd.env("MYSQL_HOME", tmp.path());
        } else {
            cmd.args(["--", "--no-defaults"]);
        }
        cmd
    };
    std::fs::write(
        tmp.path().join("my.cnf"),
        format!("[client]\nsocket={}\n", server.socket().display()),
    )
    .unwrap();
    succeed(on(&["backup", "mariadb"]).env("BACKUP_DATABASES", "src"));
    let before = server.sql("SHOW DATABASES;");
    let err = fail_with(
        &mut on(&["restore", "--latest", "src", "--to", "copy", "--create"]),
        2,
    );
    assert!(
        err.contains("views") && err.contains("--to-stdout"),
        "{err}"
    );
    assert_eq!(
        server.sql("SHOW DATABASES;"),
        before,
        "a database was left behind"
    );
    // With --no-verify-first the staging database finds it instead.
    let err = fail_with(
        &mut on(&[
            "restore",
            "--latest",
            "src",
            "--to",
            "copy",
            "--create",
            "--no-verify-first",
        ]),
        2,
    );
    assert!(err.contains("view city_events"), "{err}");
    assert_eq!(
        server.sql("SHOW DATABASES;"),
        before,
        "a database was left behind"
    );
    // A drill into a scratch database restores it, view and all.
    let out = succeed(&mut on(&[
        "verify",
        "--latest",
        "src",
        "--restore-into",
        "scratch",
    ]));
    assert!(
        stderr(&out).contains("row counts as in the manifest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.sql("SHOW DATABASES;"), before);
}

#[test]
fn a_damaged_backup_is_caught_and_a_restore_changes_nothing() {
    let server = Server::shared();
    let db = TestDb::sample(false);
    let tmp = tempfile::tempdir().unwrap();
    succeed(over_tcp(&mut backup_to(tmp.path())).env("BACKUP_DATABASES", &db.name));
    let object = only_object(tmp.path());
    // Damage the end of the object: a client fed the start would already
    // have run its DDL.
    let path = tmp.path().join(&object);
    let mut bytes = std::fs::read(&path).unwrap();
    let at = bytes.len() - 20;
    bytes[at] ^= 0x01;
    std::fs::write(&path, bytes).unwrap();

    let target = unique("mytarget");
    let _guard = TestDb {
        name: target.clone(),
    };
    server.sql(&format!(
        "CREATE DATABASE `{target}`; CREATE TABLE `{target}`.mine (id int PRIMARY KEY); \
         INSERT INTO `{target}`.mine VALUES (1);"
    ));
    let before = server.checksums(&target);
    let err = fail_with(
        &mut dbbr_at(
            tmp.path(),
            &["restore", &object, "--to", &target, "--force"],
        ),
        1,
    );
    assert!(err.contains("at integrity"), "{err}");
    assert_eq!(server.checksums(&target), before);
    let err = fail_with(&mut dbbr_at(tmp.path(), &["verify", &object]), 1);
    assert!(err.contains(&object), "{err}");
}
