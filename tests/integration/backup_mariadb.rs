//! `dbbr backup mariadb` end to end against real MariaDB servers: what lands
//! in the remote, that it restores with the standard tools (gunzip, age,
//! mariadb) to the same data, how the connection is configured, and that
//! failures leave nothing behind.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dbbr::Manifest;

use crate::common::*;
use crate::mariadb::*;

/// A database of the shared server created by this test, dropped at the end.
struct TestDb {
    name: String,
}

impl TestDb {
    fn sample(large: bool) -> TestDb {
        let db = TestDb { name: unique("my") };
        Server::shared().create_sample(&db.name, large);
        db
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = feed(
            &mut Server::shared().client(),
            format!("DROP DATABASE IF EXISTS `{}`;", self.name).as_bytes(),
        );
    }
}

fn password() -> String {
    setting("DBBR_TEST_MYSQL_PASSWORD")
}

/// `dbbr backup mariadb` into `dir`, with no MYSQL_*, BACKUP_* or ENCRYPT_*
/// setting inherited.
fn backup_to(dir: &Path) -> Command {
    let mut cmd = dbbr();
    for (k, _) in std::env::vars() {
        if ["MYSQL_", "BACKUP_", "ENCRYPT_", "LOG_LEVEL"]
            .iter()
            .any(|p| k.starts_with(p))
        {
            cmd.env_remove(k);
        }
    }
    cmd.args(["backup", "mariadb"])
        .env("REMOTE_NAME", format!(":local:{}", dir.display()))
        .stdin(Stdio::null());
    cmd
}

/// Connection to the shared server as the password user over TCP, all by
/// environment.
fn over_tcp(cmd: &mut Command) -> &mut Command {
    cmd.env("MYSQL_HOST", setting("DBBR_TEST_MYSQL_HOST"))
        .env("MYSQL_TCP_PORT", setting("DBBR_TEST_MYSQL_PORT"))
        .env("MYSQL_USER", setting("DBBR_TEST_MYSQL_USER"))
        .env("MYSQL_PWD", password())
}

/// Runs `cmd`; checks the password shows nowhere in its output.
fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let pw = password();
    let (so, se) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(
        !so.contains(&pw) && !se.contains(&pw),
        "password leaked:\n{so}\n{se}"
    );
    out
}

fn succeed(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(out.stdout.is_empty(), "the backup writes nothing on stdout");
    out
}

fn fail(cmd: &mut Command) -> Output {
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    out
}

/// Whether `name` is `prefix` + `YYYY-MM-DDTHH-MM-SSZ` + `suffix`.
fn is_timestamped(name: &str, prefix: &str, suffix: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
    else {
        return false;
    };
    let shape = "dddd-dd-ddTdd-dd-ddZ";
    stamp.len() == shape.len()
        && stamp.chars().zip(shape.chars()).all(|(c, s)| match s {
            'd' => c.is_ascii_digit(),
            s => c == s,
        })
}

/// The one backup in `dir`: checks the object's name and its manifest
/// against the object's bytes, and returns the object's path and manifest.
fn only_backup(dir: &Path, prefix: &str, suffix: &str) -> (PathBuf, Manifest) {
    let files = files_below(dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let object = files[0].clone();
    assert!(is_timestamped(&object, prefix, suffix), "{files:?}");
    assert_eq!(files[1], format!("{object}.manifest.json"));
    let path = dir.join(&object);
    let m = manifest_of(&path);
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(m.engine, "mariadb");
    assert_eq!(m.object, object);
    assert_eq!(m.sha256, sha256(&bytes));
    assert_eq!(m.stored_bytes, bytes.len() as u64);
    assert!(m.raw_bytes > 0);
    assert_eq!(m.codec, "gzip");
    let server = m.server_version.as_deref().unwrap_or_default();
    assert!(server.contains("MariaDB"), "{m:?}");
    let tool = m.dump_tool.as_deref().unwrap_or_default();
    assert!(tool.contains("mariadb-dump"), "{m:?}");
    assert!(m.started_at <= m.finished_at);
    (path, m)
}

fn manifest_of(object: &Path) -> Manifest {
    let text = std::fs::read_to_string(format!("{}.manifest.json", object.display())).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The text of a gzipped dump (lossy).
fn gunzipped(file: &Path) -> String {
    let out = Command::new("gunzip").arg("-c").arg(file).output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // Blobs make the dump text not UTF-8.
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn single_database_restores_with_gunzip_and_mariadb() {
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

    let (file, m) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert_eq!(m.database, db.name);
    assert!(!m.encrypted && m.recipients.is_empty(), "{m:?}");
    assert!(m.raw_bytes > LARGE_TEXT_BYTES + LARGE_BLOB_BYTES, "{m:?}");
    assert!(m.raw_bytes > m.stored_bytes, "{m:?}");
    assert_eq!(&std::fs::read(&file).unwrap()[..2], [0x1f, 0x8b]);

    // The dump names its database: restoring recreates it.
    server.drop_database(&db.name);
    assert!(!server.has_database(&db.name));
    server.restore(r#"gunzip -c "$F""#, &file, None);
    assert_eq!(server.checksums(&db.name), source);
    server.assert_sample(&db.name, true);
    let views = server.sql(&format!("SELECT SUM(n) FROM `{}`.city_events;", db.name));
    assert_eq!(views.trim(), EVENT_ROWS.to_string());
}

#[test]
fn age_x25519_backup_restores_with_age() {
    let server = Server::shared();
    let db = TestDb::sample(true);
    let source = server.checksums(&db.name);
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("key.txt");
    let out = Command::new("age-keygen")
        .arg("-o")
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let recipient = std::fs::read_to_string(&key)
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("# public key: ").map(str::to_string))
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", &db.name)
            .env("ENCRYPT_RECIPIENTS", &recipient),
    );
    let (file, m) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz.age");
    assert!(m.encrypted, "{m:?}");
    assert_eq!(m.recipients.len(), 1, "{m:?}");
    let head = std::fs::read(&file).unwrap();
    assert!(head.starts_with(b"age-encryption.org/v1\n"), "age header");
    assert!(!String::from_utf8_lossy(&head).contains("Zürich"));

    server.drop_database(&db.name);
    server.restore(r#"age -d -i "$K" "$F" | gunzip"#, &file, Some(&key));
    assert_eq!(server.checksums(&db.name), source);
    server.assert_sample(&db.name, true);
}

#[test]
fn ssh_ed25519_recipients_file_backup_restores_with_age() {
    let server = Server::shared();
    let db = TestDb::sample(false);
    let source = server.checksums(&db.name);
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("id_ed25519");
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "dbbr-test", "-f"])
        .arg(&key)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", &db.name)
            .env(
                "ENCRYPT_RECIPIENTS_FILE",
                keys.path().join("id_ed25519.pub"),
            ),
    );
    let (file, m) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz.age");
    assert!(m.encrypted && m.recipients.len() == 1, "{m:?}");

    server.drop_database(&db.name);
    server.restore(r#"age -d -i "$K" "$F" | gunzip"#, &file, Some(&key));
    assert_eq!(server.checksums(&db.name), source);
    server.assert_sample(&db.name, false);
}

#[test]
fn all_databases_of_a_server_restore_into_another_server() {
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
    let (file, m) = only_backup(tmp.path(), "all_", ".sql.gz");
    assert_eq!(m.database, "all");
    let text = gunzipped(&file);
    for db in [&one, &two, &"mysql".to_string()] {
        assert!(
            text.contains(&format!("CREATE DATABASE /*!32312 IF NOT EXISTS*/ `{db}`")),
            "{db} is not in the dump"
        );
    }

    target.server().restore(r#"gunzip -c "$F""#, &file, None);
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
    let mut holder = server
        .client()
        .arg("--unbuffered")
        .arg(&db.name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut input = holder.stdin.take().unwrap();
    let mut output = BufReader::new(holder.stdout.take().unwrap());
    input
        .write_all(
            b"BEGIN; INSERT INTO cities VALUES (99, 'uncommitted', NULL, NULL, NULL, NULL);\
              SELECT 'ready';\n",
        )
        .unwrap();
    let mut line = String::new();
    output.read_line(&mut line).unwrap();
    assert_eq!(line.trim(), "ready");

    let tmp = tempfile::tempdir().unwrap();
    let child = over_tcp(&mut backup_to(tmp.path()))
        .env("BACKUP_DATABASES", &db.name)
        .env("LOG_LEVEL", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = wait_at_most(child, Duration::from_secs(60));
    input.write_all(b"ROLLBACK;\n").unwrap();
    drop(input);
    holder.wait().unwrap();

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
    let (file, _) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    let text = gunzipped(&file);
    assert!(text.contains("Zürich"));
    assert!(
        !text.contains("uncommitted"),
        "the dump saw an open transaction"
    );
}

/// Waits for `child` to exit, killing it and failing after `limit`.
fn wait_at_most(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            child.kill().unwrap();
            let out = child.wait_with_output().unwrap();
            panic!("still running after {limit:?}: {}", stderr(&out));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn password_from_mysql_pwd_file() {
    let db = TestDb::sample(false);
    let secrets = tempfile::tempdir().unwrap();
    let file = secrets.path().join("pw");
    std::fs::write(&file, format!("{}\n", password())).unwrap();
    std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env_remove("MYSQL_PWD")
            .env("MYSQL_PWD_FILE", &file)
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_LEVEL", "debug"),
    );
    // only_backup checks the server version too: the probe got the password.
    let (file, _) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert!(gunzipped(&file).contains("東京"));
}

#[test]
fn wrong_password_fails_leaving_nothing_and_revealing_nothing() {
    let db = TestDb::sample(false);
    let tmp = tempfile::tempdir().unwrap();
    let out = fail(
        over_tcp(&mut backup_to(tmp.path()))
            .env("MYSQL_PWD", "wrong-Pw-456")
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_LEVEL", "debug"),
    );
    let (so, se) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(se.contains("Access denied"), "{se}");
    assert!(
        !so.contains("wrong-Pw-456") && !se.contains("wrong-Pw-456"),
        "{se}"
    );
    assert_eq!(files_below(tmp.path()), Vec::<String>::new());
}

#[test]
fn missing_database_fails_leaving_nothing() {
    let missing = unique("mymissing");
    let tmp = tempfile::tempdir().unwrap();
    let out = fail(over_tcp(&mut backup_to(tmp.path())).env("BACKUP_DATABASES", &missing));
    let err = stderr(&out);
    assert!(
        err.contains("Unknown database") && err.contains(&missing),
        "{err}"
    );
    assert_eq!(files_below(tmp.path()), Vec::<String>::new());
}

#[test]
fn missing_database_does_not_stop_the_others() {
    let db = TestDb::sample(false);
    let missing = unique("mymissing");
    let tmp = tempfile::tempdir().unwrap();
    let out = fail(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", format!("{},{missing}", db.name)),
    );
    let err = stderr(&out);
    assert!(err.contains(&format!("{missing}: backup failed")), "{err}");
    let (file, m) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
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
    let mut child = over_tcp(&mut backup_to(tmp.path()))
        .env("BACKUP_DATABASES", &db.name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let staging = loop {
        let files = files_below(tmp.path());
        if let Some(f) = files.iter().find(|f| f.ends_with(".partial")) {
            break f.clone();
        }
        assert!(child.try_wait().unwrap().is_none(), "dbbr ended early");
        assert!(Instant::now() < deadline, "no staging file: {files:?}");
        std::thread::sleep(Duration::from_millis(20));
    };
    assert!(staging.starts_with(&format!(".{}-", db.name)), "{staging}");
    let dump = children(child.id())
        .into_iter()
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim() == "mariadb-dump")
        })
        .expect("the dump runs as a child of dbbr");
    let killed = Command::new("kill")
        .args(["-KILL", &dump.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = wait_at_most(child, Duration::from_secs(60));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("killed by signal 9"), "{err}");
    assert_eq!(files_below(tmp.path()), Vec::<String>::new());
}

/// The pids of `pid`'s children.
fn children(pid: u32) -> Vec<u32> {
    let out = Command::new("pgrep")
        .args(["-P", &pid.to_string()])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

#[test]
fn arguments_after_double_dash_reach_mariadb_dump() {
    let db = TestDb::sample(false);
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        over_tcp(&mut backup_to(tmp.path()))
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "--no-data"]),
    );
    let (file, _) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
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
    let (file, _) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
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
    let out = fail(
        over_tcp(&mut backup_to(tmp.path()))
            .env("MYSQL_TCP_PORT", closed.to_string())
            .env("BACKUP_DATABASES", &db.name),
    );
    let err = stderr(&out);
    assert!(err.contains("Can't connect"), "{err}");
    assert_eq!(files_below(tmp.path()), Vec::<String>::new());
}

#[test]
fn defaults_extra_file_after_double_dash_is_moved_first() {
    let server = Server::shared();
    let db = TestDb::sample(false);
    let source = server.checksums(&db.name);
    let secrets = tempfile::tempdir().unwrap();
    let cnf = secrets.path().join("client.cnf");
    std::fs::write(
        &cnf,
        format!(
            "[client]\nuser=dbbr\npassword={}\nhost=127.0.0.1\nport={}\n",
            password(),
            setting("DBBR_TEST_MYSQL_PORT")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&cnf, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    // The option file comes after another option: the client only takes it first.
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "--skip-dump-date"])
            .arg(format!("--defaults-extra-file={}", cnf.display())),
    );
    let (file, _) = only_backup(tmp.path(), &format!("{}-", db.name), ".sql.gz");
    assert!(!gunzipped(&file).contains("-- Dump completed on"));
    server.drop_database(&db.name);
    server.restore(r#"gunzip -c "$F""#, &file, None);
    assert_eq!(server.checksums(&db.name), source);
}
