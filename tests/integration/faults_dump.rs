//! Dump and local-disk faults: the dump killed part way, a dump that fails
//! after writing data, the server restarted mid-dump, a full or read-only
//! target. Each ends in exit 1 with a one-line cause and nothing left, and
//! other databases of the same run are unaffected.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::common::pg::*;
use crate::common::*;

/// A `pg_dump` stand-in first on PATH that runs the real one and passes its
/// output on at about 2 MB/s, writing how many bytes it passed to
/// `progress`; `after` is shell run once the dump has ended (e.g. `exit 3`).
fn slow_pg_dump(dir: &Path, after: &str) -> (String, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let progress = dir.join("progress");
    let real = Path::new(&setting("DBBR_TEST_PG_BIN")).join("pg_dump");
    let pace = r#"
import os, sys, time
done = 0
while True:
    chunk = os.read(0, 16384)
    if not chunk:
        break
    os.write(1, chunk)
    done += len(chunk)
    with open(sys.argv[1], "w") as f:
        f.write(str(done))
    time.sleep(0.008)
"#;
    write_executable(
        &bin.join("pg_dump"),
        &format!(
            "#!/bin/bash\nset -o pipefail\n\
             case \"$1\" in --version|-V) exec '{real}' \"$@\";; esac\n\
             '{real}' \"$@\" | python3 -c '{pace}' '{progress}'\nstatus=$?\n{after}\nexit $status\n",
            real = real.display(),
            progress = progress.display(),
        ),
    );
    (path_with(&bin), progress)
}

/// A database whose plain dump is about 6.5 MB.
fn dump_sized_db() -> TestDb {
    let db = TestDb::create();
    Server::shared().psql(
        &db.name,
        "CREATE TABLE big AS SELECT i, md5(i::text) || md5((i * 7)::text) AS v \
         FROM generate_series(1, 90000) i;",
    );
    db
}

/// Bytes the stand-in has passed on so far.
fn passed(progress: &Path) -> u64 {
    std::fs::read_to_string(progress)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn a_dump_killed_part_way_leaves_nothing() {
    let db = dump_sized_db();
    // How large the whole dump is.
    let full = tempfile::tempdir().unwrap();
    exits(backup_to(full.path()).env("BACKUP_DATABASES", &db.name), 0);
    let object = only_object(full.path());
    let total = read_manifest(full.path(), &object).raw_bytes;

    for percent in [10, 50, 90] {
        let dir = tempfile::tempdir().unwrap();
        let remote = dir.path().join("remote");
        let (path, progress) = slow_pg_dump(dir.path(), "");
        let backup = backup_to(&remote)
            .env("BACKUP_DATABASES", &db.name)
            .env("PATH", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut at = 0;
        let reached = wait_until(Duration::from_secs(60), || {
            at = passed(&progress) * 100 / total;
            at >= percent
        });
        assert!(reached, "the dump never reached {percent}%");
        let wrapper = child_named(backup.id(), "pg_dump").expect("the stand-in runs");
        let real = child_named(wrapper, "pg_dump").expect("the real pg_dump runs");
        signal(real, "KILL");
        let out = wait_at_most(backup, Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "killed at {at}%: {err}");
        assert!(err.contains("137"), "the dump's status is named: {err}");
        assert_empty(&remote, &err);
        eprintln!("dump killed at {at}%: exit 1, nothing left");
    }
}

#[test]
fn a_dump_that_fails_after_writing_everything_leaves_nothing() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote");
    let (path, _) = slow_pg_dump(dir.path(), "exit 3");
    let out = run(backup_to(&remote)
        .env("BACKUP_DATABASES", &db.name)
        .env("PATH", &path));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("exited with status 3"), "{err}");
    assert_empty(&remote, &err);
}

#[test]
fn the_server_restarted_or_the_session_killed_mid_dump() {
    let cluster = Cluster::start();
    for name in ["first", "second"] {
        cluster.server.create_database(name);
    }
    // About 22 MB of dump: far more than every buffer between the server
    // and the paced stand-in, so the fault lands mid-dump.
    cluster.server.psql(
        "first",
        "CREATE TABLE big AS SELECT i, md5(i::text) || md5((i * 7)::text) AS v \
         FROM generate_series(1, 300000) i;",
    );
    let dir = tempfile::tempdir().unwrap();
    let remote = dir.path().join("remote");
    let (path, progress) = slow_pg_dump(dir.path(), "");
    let start = |databases: &str| {
        let _ = std::fs::remove_file(&progress);
        let mut cmd = backup_cmd_for(&cluster.server);
        let child = cmd
            .env("REMOTE_NAME", local_remote(&remote))
            .env("BACKUP_DATABASES", databases)
            .env("PATH", &path)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        assert!(
            wait_until(Duration::from_secs(60), || passed(&progress) > 1_000_000),
            "the dump never got going"
        );
        child
    };

    // The server restarts mid-dump: the run fails, nothing is left.
    let backup = start("first");
    cluster.restart();
    let out = wait_at_most(backup, Duration::from_secs(120));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // A fast shutdown terminates the session first; whether pg_dump reads
    // that message or only sees the socket close depends on timing.
    assert!(
        err.contains("server closed the connection")
            || err.contains("terminating connection due to administrator command"),
        "{err}"
    );
    assert_empty(&remote, &err);

    // The first database's session is killed mid-dump: that database fails,
    // the next one of the same run is backed up.
    let backup = start("first,second");
    cluster.server.psql(
        "postgres",
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity \
         WHERE datname = 'first' AND query LIKE 'COPY%'",
    );
    let out = wait_at_most(backup, Duration::from_secs(120));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    let files = files_below(&remote);
    assert_eq!(
        files.len(),
        2,
        "only the second database's backup: {files:?}\n{err}"
    );
    assert!(files.iter().all(|f| f.starts_with("second")), "{files:?}");
    assert!(err.contains("first: backup failed"), "{err}");
}

/// A small tmpfs mounted for the test, unmounted when dropped.
struct Mount {
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Mount {
    fn tmpfs(options: &str) -> Mount {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("mnt");
        std::fs::create_dir(&path).unwrap();
        run_ok(
            Command::new("mount")
                .args(["-t", "tmpfs", "-o", options, "tmpfs"])
                .arg(&path),
        );
        Mount { path, _dir: dir }
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.path).status();
    }
}

#[test]
fn a_full_or_read_only_target_fails_loudly_and_leaves_nothing() {
    let db = dump_sized_db();

    let full = Mount::tmpfs("size=1m");
    let out = run(backup_to(&full.path).env("BACKUP_DATABASES", &db.name));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("no space left"), "{err}");
    assert_empty(&full.path, &err);

    let read_only = Mount::tmpfs("size=1m,ro");
    let out = run(backup_to(&read_only.path).env("BACKUP_DATABASES", &db.name));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("read-only file system"), "{err}");
    assert_empty(&read_only.path, &err);
}

#[test]
fn a_full_temporary_directory_does_not_matter_nothing_is_spooled() {
    let db = dump_sized_db();
    let tmp = Mount::tmpfs("size=64k");
    std::fs::write(tmp.path.join("filler"), vec![0u8; 60 * 1024]).ok();
    let dir = tempfile::tempdir().unwrap();
    exits(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("TMPDIR", &tmp.path),
        0,
    );
    let object = only_object(dir.path());
    checked_manifest(dir.path(), &object, "postgresql");
}
