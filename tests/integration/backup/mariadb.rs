//! `dbbr backup mariadb` end to end against real MariaDB servers: what lands
//! in the remote, that it restores with the standard tools (gunzip, age,
//! mariadb) to the same data, how the connection is configured, and that
//! failures leave nothing behind.

use std::ffi::OsStr;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use crate::common::mariadb::*;
use crate::common::*;

/// Restored with `gunzip | mariadb`.
#[test]
fn single_database_restores_with_gunzip_and_the_client() {
    let server = Server::shared();
    let db = TestDb::sample(true);
    server.assert_sample(&db.name, true);
    let source = server.checksums(&db.name);
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        ["blobs", "cities", "events"]
    );
    let tmp = tempfile::tempdir().unwrap();
    succeed(over_tcp(&mut backup_to(tmp.path())).env("BACKUP_DATABASES", &db.name));

    let (file, m) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert_eq!(m.database, db.name);
    assert!(!m.encrypted && m.recipients.is_empty(), "{m:?}");
    assert!(m.raw_bytes > LARGE_TEXT_BYTES + LARGE_BLOB_BYTES, "{m:?}");
    assert!(m.raw_bytes > m.stored_bytes, "{m:?}");
    assert_eq!(&std::fs::read(&file).unwrap()[..2], [0x1f, 0x8b]);

    // The dump names its database: restoring recreates it.
    server.drop_database(&db.name);
    assert!(!server.has_database(&db.name));
    server.restore(GUNZIP, &[&file]);
    assert_eq!(server.checksums(&db.name), source);
    server.assert_sample(&db.name, true);
    let views = server.sql(&format!("SELECT SUM(n) FROM `{}`.city_events;", db.name));
    assert_eq!(views.trim(), EVENT_ROWS.to_string());
}

#[test]
fn age_x25519_backup_restores_with_age() {
    let db = TestDb::sample(true);
    let keys = tempfile::tempdir().unwrap();
    let (key, recipient) = age_key(keys.path());
    let recipients = ("ENCRYPT_RECIPIENTS", recipient.as_ref());
    encrypted_backup_restores_with_age(&db, true, recipients, &key, &recipient);
}

#[test]
fn ssh_ed25519_recipients_file_backup_restores_with_age() {
    let db = TestDb::sample(false);
    let keys = tempfile::tempdir().unwrap();
    let (key, public, fingerprint) = ssh_key(keys.path());
    let recipients = ("ENCRYPT_RECIPIENTS_FILE", public.as_os_str());
    encrypted_backup_restores_with_age(&db, false, recipients, &key, &fingerprint);
}

/// Backs up `db` (the sample data, `large` or not) encrypted as
/// `recipients` (a variable and its value) says, checks the object is
/// encrypted to `recipient` alone, drops the database and restores it with
/// `age -d -i key | gunzip | mariadb`: the data must be as it was.
fn encrypted_backup_restores_with_age(
    db: &TestDb,
    large: bool,
    recipients: (&str, &OsStr),
    key: &Path,
    recipient: &str,
) {
    let server = Server::shared();
    let source = server.checksums(&db.name);
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", &db.name)
            .env(recipients.0, recipients.1),
    );
    let (file, m) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz.age");
    assert_encrypted(&file, &m, recipient, "Zürich");

    server.drop_database(&db.name);
    server.restore(AGE_GUNZIP, &[&file, key]);
    assert_eq!(server.checksums(&db.name), source);
    server.assert_sample(&db.name, large);
}

#[test]
fn backup_all_restores_a_whole_server_into_another() {
    let (source, target) = std::thread::scope(|s| {
        let a = s.spawn(Instance::start);
        let b = s.spawn(Instance::start);
        (a.join().unwrap(), b.join().unwrap())
    });
    let (one, two) = (unique("myall"), unique("myall"));
    source.server().create_sample(&one, true);
    source.server().create_sample(&two, false);
    let sums_one = source.server().checksums(&one);
    let sums_two = source.server().checksums(&two);

    let tmp = tempfile::tempdir().unwrap();
    // Root by socket auth through the environment's socket; --no-defaults
    // keeps the system's option files (which may name another socket) out.
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_ALL", "true")
            .env("MYSQL_UNIX_PORT", source.server().socket())
            .env("MYSQL_USER", "root")
            .args(["--", "--no-defaults"]),
    );
    let (file, m) = mariadb_backup(tmp.path(), "all_", ".sql.gz");
    assert_eq!(m.database, "all");
    let text = gunzipped(&file);
    for db in [&one, &two, &"mysql".to_string()] {
        assert!(
            text.contains(&format!("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{db}`")),
            "{db} is not in the dump"
        );
    }

    target.server().restore(GUNZIP, &[&file]);
    assert_eq!(target.server().checksums(&one), sums_one);
    assert_eq!(target.server().checksums(&two), sums_two);
    target.server().assert_sample(&one, true);
    target.server().assert_sample(&two, false);
}

#[test]
fn dump_is_one_consistent_transaction_that_takes_no_locks() {
    let server = Server::shared();
    let db = TestDb::sample(false);
    // Another session holds an open transaction with an uncommitted row:
    // a locking dump (LOCK TABLES) would wait for it to end.
    let mut holder = Session::start(server.client().arg("--unbuffered").arg(&db.name));
    holder.run(
        "BEGIN; INSERT INTO cities VALUES (99, 'uncommitted', NULL, NULL, NULL, NULL); \
         SELECT 'ready';",
        "ready",
    );

    let tmp = tempfile::tempdir().unwrap();
    let child = over_tcp(&mut backup_to(tmp.path()))
        .env("BACKUP_DATABASES", &db.name)
        .env("LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_at_most(child, Duration::from_secs(60));
    holder.run("ROLLBACK; SELECT 'rolled back';", "rolled back");

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(!err.contains(&password()), "{err}");
    let started = err
        .lines()
        .find(|l| l.contains("starting dump") && l.contains("program=mariadb-dump"))
        .unwrap_or_else(|| panic!("no `starting dump` line: {err}"));
    assert!(started.contains("--single-transaction"), "{started}");
    assert!(
        started.contains(&format!("--databases {}", db.name)),
        "{started}"
    );
    let (file, _) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    let text = gunzipped(&file);
    assert!(text.contains("Zürich"));
    assert!(
        !text.contains("uncommitted"),
        "the dump saw an open transaction"
    );
}

/// The password comes from `MYSQL_PWD_FILE`.
#[test]
fn password_from_file_is_used() {
    let db = TestDb::sample(false);
    let secrets = tempfile::tempdir().unwrap();
    let file = secrets.path().join("pw");
    write_private(&file, &format!("{}\n", password()));
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env_remove("MYSQL_PWD")
            .env("MYSQL_PWD_FILE", &file)
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_LEVEL", "debug"),
    );
    // mariadb_backup checks the server version too: the probe got the password.
    let (file, _) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert!(gunzipped(&file).contains("東京"));
}

#[test]
fn wrong_password_fails_leaving_nothing_and_revealing_nothing() {
    let db = TestDb::sample(false);
    let tmp = tempfile::tempdir().unwrap();
    let out = exits(
        over_tcp(&mut backup_to(tmp.path()))
            .env("MYSQL_PWD", "wrong-Pw-456")
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_LEVEL", "debug"),
        1,
    );
    let (so, se) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(se.contains("Access denied"), "{se}");
    assert!(
        !so.contains("wrong-Pw-456") && !se.contains("wrong-Pw-456"),
        "{se}"
    );
    assert_empty(tmp.path(), &se);
}

#[test]
fn missing_database_fails_leaving_nothing() {
    let missing = unique("mymissing");
    let tmp = tempfile::tempdir().unwrap();
    let err = fail_with(
        over_tcp(&mut backup_to(tmp.path())).env("BACKUP_DATABASES", &missing),
        1,
    );
    assert!(
        err.contains("Unknown database") && err.contains(&missing),
        "{err}"
    );
    assert_empty(tmp.path(), &err);
}

#[test]
fn a_failing_database_does_not_stop_the_others() {
    let db = TestDb::sample(false);
    let missing = unique("mymissing");
    let tmp = tempfile::tempdir().unwrap();
    let err = fail_with(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", format!("{},{missing}", db.name)),
        1,
    );
    assert!(err.contains(&format!("{missing}: backup failed")), "{err}");
    let (file, m) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert_eq!(m.database, db.name);
    assert!(gunzipped(&file).contains("Zürich"));
}

#[test]
fn dump_killed_mid_stream_fails_leaving_nothing() {
    let server = Server::shared();
    let db = TestDb::sample(false);
    // About 40 MB of poorly compressible text: streams for a while.
    server.sql(&format!(
        "USE `{}`; CREATE TABLE big (id INT PRIMARY KEY, a CHAR(64), b CHAR(128)) ENGINE=InnoDB;
         INSERT INTO big SELECT seq, SHA2(seq, 256), SHA2(seq, 512) FROM seq_1_to_200000;",
        db.name
    ));
    let tmp = tempfile::tempdir().unwrap();
    assert_killed_dump_leaves_nothing(
        over_tcp(&mut backup_to(tmp.path())).env("BACKUP_DATABASES", &db.name),
        tmp.path(),
        &db.name,
        "mariadb-dump",
    );
}

/// The dump tool is `mariadb-dump`.
#[test]
fn arguments_after_double_dash_reach_the_dump_tool() {
    let db = TestDb::sample(false);
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "--no-data"]),
    );
    let (file, _) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    let text = gunzipped(&file);
    assert!(text.contains("CREATE TABLE `cities`"), "{text}");
    assert!(text.contains("CREATE TABLE `events`"), "{text}");
    assert!(!text.contains("INSERT INTO"), "{text}");
}

#[test]
fn host_and_port_from_environment() {
    let db = TestDb::sample(false);
    let tmp = tempfile::tempdir().unwrap();
    // Only the environment says where the server is: MYSQL_HOST must reach
    // the dump too (the system option files name a socket that is not there).
    succeed(
        backup_to(tmp.path())
            .env("MYSQL_HOST", "127.0.0.1")
            .env("MYSQL_TCP_PORT", setting("DBBR_TEST_MYSQL_PORT"))
            .env("MYSQL_USER", "dbbr")
            .env("MYSQL_PWD", password())
            .env("BACKUP_DATABASES", &db.name),
    );
    let (file, _) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    let text = gunzipped(&file);
    assert!(text.contains("-- Host: 127.0.0.1 "), "dumped over TCP");
    assert!(text.contains("INSERT INTO `events`"));
}

#[test]
fn closed_port_fails_leaving_nothing() {
    let db = TestDb::sample(false);
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let tmp = tempfile::tempdir().unwrap();
    let err = fail_with(
        over_tcp(&mut backup_to(tmp.path()))
            .env("MYSQL_TCP_PORT", closed.to_string())
            .env("BACKUP_DATABASES", &db.name),
        1,
    );
    assert!(err.contains("Can't connect"), "{err}");
    assert_empty(tmp.path(), &err);
}

#[test]
fn defaults_extra_file_after_double_dash_is_moved_first() {
    let server = Server::shared();
    let db = TestDb::sample(false);
    let source = server.checksums(&db.name);
    let secrets = tempfile::tempdir().unwrap();
    let cnf = secrets.path().join("client.cnf");
    write_private(
        &cnf,
        &format!(
            "[client]\nuser=dbbr\npassword={}\nhost=127.0.0.1\nport={}\n",
            password(),
            setting("DBBR_TEST_MYSQL_PORT")
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    // The option file comes after another option: the client only takes it first.
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "--skip-dump-date"])
            .arg(format!("--defaults-extra-file={}", cnf.display())),
    );
    let (file, _) = mariadb_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert!(!gunzipped(&file).contains("-- Dump completed on"));
    server.drop_database(&db.name);
    server.restore(GUNZIP, &[&file]);
    assert_eq!(server.checksums(&db.name), source);
}
