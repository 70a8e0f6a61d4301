//! A signal during a backup: the run stops promptly even when the dump is
//! blocked and produces nothing, and nothing is left behind.

use std::io::Write;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::*;
use crate::pg::*;

#[test]
fn sigterm_stops_a_backup_whose_dump_is_blocked() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();

    // Another session holds an exclusive lock: pg_dump waits for it forever.
    let mut locker = Command::new("psql");
    Server::shared()
        .env(&mut locker)
        .args(["-X", "-q", "-d", &db.name]);
    let mut locker = locker
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut lock_session = locker.stdin.take().unwrap();
    lock_session
        .write_all(b"BEGIN; LOCK TABLE t IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(120);\n")
        .unwrap();
    lock_session.flush().unwrap();
    std::thread::sleep(Duration::from_millis(500));

    let backup = backup_to(dir.path())
        .env("BACKUP_DATABASES", &db.name)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until pg_dump runs (and is blocked).
    let started = Instant::now();
    while !Command::new("pgrep")
        .args(["-P", &backup.id().to_string(), "-x", "pg_dump"])
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success()
    {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "pg_dump did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(300));
    let term = Instant::now();
    assert!(Command::new("kill")
        .args(["-TERM", &backup.id().to_string()])
        .status()
        .unwrap()
        .success());
    let out = backup.wait_with_output().unwrap();
    let stopped_after = term.elapsed();
    let _ = locker.kill();
    let _ = locker.wait();

    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        stopped_after < Duration::from_secs(10),
        "took {stopped_after:?}"
    );
    assert_eq!(files_below(dir.path()), Vec::<String>::new());
}
