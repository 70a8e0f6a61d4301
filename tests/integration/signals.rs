//! A signal during a backup: the run stops promptly even when the dump is
//! blocked and produces nothing, and nothing is left behind.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::pg::*;
use crate::common::*;

#[test]
fn sigterm_stops_a_backup_whose_dump_is_blocked() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();

    // Another session holds an exclusive lock: pg_dump waits for it forever.
    let lock = Server::shared().lock_table(&db.name, "t");

    let backup = backup_to(dir.path())
        .env("BACKUP_DATABASES", &db.name)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Wait until the dump is blocked: its request for the table's lock waits
    // as long as the other session holds it.
    let waiters = || lock_waiters(&Server::shared(), &db.name);
    let blocked = wait_until(Duration::from_secs(20), || waiters() == "1");
    assert!(blocked, "pg_dump did not start waiting for the lock");
    assert!(
        child_named(backup.id(), "pg_dump").is_some(),
        "the blocked dump is a child of dbbr"
    );
    let (out, stopped_after) = sigterm(backup);
    // The dump's session stopped waiting too: pg_dump was asked to cancel
    // its query, rather than killed with the request left queued on the
    // server (for as long as the lock is held, with no timeout).
    let withdrawn = wait_until(Duration::from_secs(5), || waiters() == "0");
    drop(lock);
    assert!(withdrawn, "the dump's lock request is still queued");
    assert_stopped(&out, stopped_after, dir.path());
}

#[test]
fn sigterm_stops_a_whole_server_backup_whose_dump_is_blocked() {
    // A server of its own: pg_dumpall dumps every database of it.
    let cluster = Cluster::start();
    let server = &cluster.server;
    server.create_database("locked");
    server.psql(
        "locked",
        "CREATE TABLE t (id int); INSERT INTO t VALUES (1);",
    );
    let dir = tempfile::tempdir().unwrap();

    // pg_dumpall runs a pg_dump for the database, which waits for the lock;
    // pg_dumpall itself ignores SIGINT while it waits for that pg_dump.
    let lock = server.lock_table("locked", "t");
    let backup = backup_cmd_for(server)
        .env("REMOTE_NAME", local_remote(dir.path()))
        .env("BACKUP_ALL", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let waiters = || lock_waiters(server, "locked");
    assert!(
        wait_until(Duration::from_secs(30), || waiters() == "1"),
        "the dump did not start waiting for the lock"
    );
    let dumpall = child_named(backup.id(), "pg_dumpall").expect("pg_dumpall is dbbr's child");
    let (out, stopped_after) = sigterm(backup);
    // pg_dumpall's own pg_dump was asked to cancel too: its request is
    // withdrawn, and no process of the dump outlives dbbr.
    let withdrawn = wait_until(Duration::from_secs(5), || waiters() == "0");
    let left = group_members(dumpall);
    drop(lock);
    assert!(withdrawn, "pg_dumpall's pg_dump still waits for the lock");
    assert!(
        left.is_empty(),
        "processes of the dump left running: {left:?}"
    );
    assert_stopped(&out, stopped_after, dir.path());
}

/// How many lock requests for table `t` of `db` wait.
fn lock_waiters(server: &Server, db: &str) -> String {
    server.psql(
        db,
        "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = 't'::regclass",
    )
}

/// Sends SIGTERM to `backup`: its output, and how long it took to end.
fn sigterm(backup: std::process::Child) -> (std::process::Output, Duration) {
    let term = Instant::now();
    signal(backup.id(), "TERM");
    let out = wait_at_most(backup, Duration::from_secs(60));
    (out, term.elapsed())
}

/// The backup ended as a SIGTERM should end it: exit 143 within 10 s,
/// saying it was interrupted, and nothing left in the remote `dir`.
fn assert_stopped(out: &std::process::Output, stopped_after: Duration, dir: &std::path::Path) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(143), "128 + SIGTERM: {err}");
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        stopped_after < Duration::from_secs(10),
        "took {stopped_after:?}"
    );
    assert_empty(dir, &err);
}

/// The live processes (not zombies) of process group `group`.
fn group_members(group: u32) -> Vec<String> {
    let out = std::process::Command::new("ps")
        .args(["-e", "-o", "pgid=,stat=,args="])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| {
            let mut f = l.split_whitespace();
            f.next() == Some(&group.to_string()) && !f.next().unwrap_or("").starts_with('Z')
        })
        .map(str::to_owned)
        .collect()
}
