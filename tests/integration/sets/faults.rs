//! Faults while a set streams: a worker's COPY killed, the coordinator's
//! session terminated, the server restarted, dbbr stopped, storage
//! refusing one part, a DDL statement queued. Each run exits non-zero and
//! leaves nothing that lists as a backup, and no part of its own.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::common::pg::{Cluster, Server, TestDb};

/// The pid of a `psql` that dbbr (`parent`) started to copy a table.
fn copy_worker(parent: u32) -> Option<u32> {
    std::fs::read_dir("/proc").ok()?.find_map(|entry| {
        let pid: u32 = entry.ok()?.file_name().to_str()?.parse().ok()?;
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let ppid: u32 = stat
            .rsplit_once(')')?
            .1
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()?;
        let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).ok()?;
        (ppid == parent && cmdline.contains("COPY ")).then_some(pid)
    })
}

/// Starts a set backup of `db` into `dir`, with `vars`.
fn start(s: &Server, db: &str, dir: &Path, vars: &[(&str, &str)]) -> Child {
    let mut cmd = set_backup(s, db, dir, "2");
    cmd.envs(vars.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

/// Waits for a COPY worker of `child` and stops it (SIGSTOP): the set
/// cannot end until it goes on.
fn stop_a_worker(child: &Child) -> u32 {
    let mut worker = None;
    assert!(
        wait_until(Duration::from_secs(60), || {
            worker = copy_worker(child.id());
            worker.is_some()
        }),
        "no COPY worker started"
    );
    let worker = worker.unwrap();
    signal(worker, "STOP");
    worker
}

/// The run ended with `code`, said `says`, and left nothing in `dir`: no
/// file, and no empty folder of the set.
fn failed_cleanly(child: Child, dir: &Path, code: i32, says: &[&str]) -> String {
    let out = wait_at_most(child, Duration::from_secs(60));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(code), "{err}");
    assert!(says.iter().any(|s| err.contains(s)), "{says:?}: {err}");
    assert_eq!(files_below(dir), Vec::<String>::new(), "{err}");
    let entries: Vec<_> = std::fs::read_dir(dir).unwrap().collect();
    assert!(entries.is_empty(), "{entries:?}: {err}");
    err
}

/// A database large enough that a set of it streams for a while.
fn source(s: &Server) -> TestDb {
    let db = TestDb::create();
    fill(s, &db.name, 120_000);
    db
}

#[test]
fn a_killed_copy_worker_fails_the_set() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[]);
    let worker = stop_a_worker(&child);
    signal(worker, "KILL");
    failed_cleanly(child, tmp.path(), 1, &["psql was killed by signal 9"]);
}

#[test]
fn the_coordinator_terminated_fails_the_set() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[]);
    let worker = stop_a_worker(&child);
    let terminated = s.psql(
        "postgres",
        &format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = \
             '{}' AND application_name LIKE '%(dbbr set coordinator)'",
            db.name
        ),
    );
    assert_eq!(terminated, "1");
    signal(worker, "CONT");
    failed_cleanly(
        child,
        tmp.path(),
        1,
        &[
            "snapshot ended before the set was complete",
            "invalid snapshot",
        ],
    );
}

#[test]
fn a_server_restart_fails_the_set() {
    let cluster = Cluster::start();
    let s = &cluster.server;
    s.create_database("src");
    fill(s, "src", 120_000);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(s, "src", tmp.path(), &[]);
    let worker = stop_a_worker(&child);
    cluster.restart();
    // dbbr may have killed it already, when another session failed first.
    let _ = Command::new("kill")
        .args(["-CONT", &worker.to_string()])
        .status();
    failed_cleanly(
        child,
        tmp.path(),
        1,
        // Whichever session noticed first says so: a copy, a pg_dump or
        // the coordinator.
        &["psql", "pg_dump", "snapshot"],
    );
}

#[test]
fn sigterm_mid_set_stops_within_seconds_and_leaves_nothing() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[]);
    let worker = stop_a_worker(&child);
    let pid = child.id();
    let clock = Instant::now();
    signal(pid, "TERM");
    failed_cleanly(
        child,
        tmp.path(),
        143,
        &["interrupted", "stopped", "signal"],
    );
    assert!(
        clock.elapsed() < Duration::from_secs(15),
        "{:?}",
        clock.elapsed()
    );
    assert!(
        wait_until(Duration::from_secs(10), || !Path::new(&format!(
            "/proc/{worker}"
        ))
        .exists()
            || std::fs::read_to_string(format!("/proc/{worker}/stat"))
                .is_ok_and(|st| st.split(' ').nth(2) == Some("Z"))),
        "the worker psql outlived dbbr"
    );
}

#[test]
fn storage_refusing_one_part_fails_the_set() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    // The data part is always the set's second object: a folder stands
    // where it would be written.
    let blocker = tmp.path().join(format!("{}.set/0001-data.sql.gz", db.name));
    std::fs::create_dir_all(blocker.join("x")).unwrap();
    let out = run(set_backup(&s, &db.name, tmp.path(), "2").env("BACKUP_FILE_NAME", "$DB"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // Only the folder that was there before is left.
    assert_eq!(files_below(tmp.path()), Vec::<String>::new(), "{err}");
    assert!(blocker.join("x").is_dir());
}

/// An `ALTER TABLE` queued while a set streams waits for the set's locks;
/// the set's sessions that then need that table wait behind it for at
/// most `BACKUP_LOCK_TIMEOUT` and fail the set (nothing stored), or, if
/// they had their locks already, the set completes without the change.
/// Either way the ALTER runs once the set has ended, and a stored set never
/// holds a mixed state.
#[test]
fn a_ddl_statement_queued_during_a_set_waits_and_never_mixes() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[("BACKUP_LOCK_TIMEOUT", "3s")]);
    let worker = stop_a_worker(&child);
    let mut alter = Command::new("psql");
    s.env(&mut alter).args([
        "-X",
        "-q",
        "-d",
        &db.name,
        "-c",
        "ALTER TABLE orders ADD COLUMN extra int DEFAULT 7",
    ]);
    let alter = alter
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    signal(worker, "CONT");
    let out = wait_at_most(child, Duration::from_secs(120));
    let altered = wait_at_most(alter, Duration::from_secs(60));
    assert!(altered.status.success(), "{}", stderr(&altered));
    match out.status.code() {
        Some(0) => {
            let (set, _) = the_set(tmp.path());
            let target = unique("setd");
            succeed(&mut restore(&s, tmp.path(), &set, &target, &["--create"]));
            let restored = TestDb { name: target };
            assert_eq!(
                s.psql(
                    &restored.name,
                    "SELECT count(*) FROM information_schema.columns WHERE column_name = 'extra'"
                ),
                "0"
            );
        }
        Some(1) => {
            let err = stderr(&out);
            assert!(
                err.contains("lock timeout") || err.contains("could not lock"),
                "{err}"
            );
            assert_eq!(files_below(tmp.path()), Vec::<String>::new(), "{err}");
        }
        other => panic!("exit {other:?}: {}", stderr(&out)),
    }
}

/// A table another session holds locked: the set fails before storing
/// anything, naming the table and the session.
#[test]
fn a_lock_that_does_not_come_names_the_table_and_the_holder() {
    let s = Server::shared();
    let db = source(&s);
    let _lock = s.lock_table(&db.name, "customers");
    let tmp = tempfile::tempdir().unwrap();
    let out = run(set_backup(&s, &db.name, tmp.path(), "2").env("BACKUP_LOCK_TIMEOUT", "1s"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("could not lock table public.customers within 1s"),
        "{err}"
    );
    assert!(
        err.contains("holding") && err.contains("BACKUP_LOCK_TIMEOUT"),
        "{err}"
    );
    assert_eq!(files_below(tmp.path()), Vec::<String>::new());
}

/// SIGTERM while the set waits for a lock (well within its timeout): the
/// run stops within seconds, and its lock request does not stay queued on
/// the server behind the holder.
#[test]
fn sigterm_while_a_set_waits_for_a_lock_withdraws_the_request() {
    let s = Server::shared();
    let db = source(&s);
    let lock = s.lock_table(&db.name, "customers");
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[("BACKUP_LOCK_TIMEOUT", "120s")]);
    let waiters = || {
        s.psql(
            &db.name,
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND relation = \
             'customers'::regclass",
        )
    };
    assert!(
        wait_until(Duration::from_secs(30), || waiters() == "1"),
        "the set did not wait for the lock"
    );
    let clock = Instant::now();
    signal(child.id(), "TERM");
    failed_cleanly(child, tmp.path(), 143, &["interrupted"]);
    assert!(
        clock.elapsed() < Duration::from_secs(10),
        "{:?}",
        clock.elapsed()
    );
    let withdrawn = wait_until(Duration::from_secs(5), || waiters() == "0");
    drop(lock);
    assert!(withdrawn, "the set's lock request is still queued");
}

/// dbbr killed (SIGKILL, as an out-of-memory kill does) mid-set: its
/// sessions end with it, and what it stored does not list as a backup.
#[test]
fn a_killed_dbbr_leaves_no_backup_and_no_session() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[]);
    let mut worker = None;
    assert!(wait_until(Duration::from_secs(60), || {
        worker = copy_worker(child.id());
        worker.is_some()
    }));
    signal(child.id(), "KILL");
    let out = wait_at_most(child, Duration::from_secs(30));
    assert_eq!(out.status.code(), None, "killed by a signal");
    let sessions = || {
        s.psql(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = '{}' AND pid <> \
                 pg_backend_pid()",
                db.name
            ),
        )
    };
    assert!(
        wait_until(Duration::from_secs(20), || sessions() == "0"),
        "sessions of the killed run stay: {}",
        sessions()
    );
    let mut list = dbbr();
    list.env("REMOTE_NAME", local_remote(tmp.path()))
        .args(["list", "--json"]);
    let listed = run_ok(&mut list);
    assert!(
        !listed.contains("\"kind\": \"set\"") && !listed.contains("\"kind\":\"set\""),
        "{listed}"
    );
}

/// A set's run holds a claim on the set from its start to its manifest: a
/// prune that cleans up leftovers leaves the set's parts alone even when
/// none of them has a claim of its own (as between the last part's
/// commit and the manifest's, made here by removing the part's claim and
/// ageing every part past the age), and the run then stores the set
/// whole, and leaves no claim. dbbr is stopped (SIGSTOP) meanwhile, so
/// that its other job writes nothing while the test looks.
#[test]
fn a_prune_of_leftovers_leaves_a_running_set_alone() {
    let s = Server::shared();
    let db = source(&s);
    let tmp = tempfile::tempdir().unwrap();
    let child = start(&s, &db.name, tmp.path(), &[]);
    let worker = stop_a_worker(&child);
    signal(child.id(), "STOP");
    let root: Vec<String> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let set = root
        .iter()
        .find(|n| n.ends_with(".set"))
        .unwrap_or_else(|| panic!("no set folder: {root:?}"))
        .clone();
    let claim = regex::Regex::new(&format!(
        r"^\.{}\.[0-9a-f]{{12}}\.claim$",
        regex::escape(&set)
    ))
    .unwrap();
    assert!(root.iter().any(|n| claim.is_match(n)), "{root:?}");
    // No claim on a part, every part an hour old.
    let hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for name in files_below(&tmp.path().join(&set)) {
        let path = tmp.path().join(&set).join(&name);
        if name.ends_with(".claim") {
            std::fs::remove_file(&path).unwrap();
        } else {
            let file = std::fs::File::options().write(true).open(&path).unwrap();
            file.set_modified(hour_ago).unwrap();
        }
    }
    let before = files_below(tmp.path());
    let mut prune = dbbr();
    s.env(&mut prune)
        .env("REMOTE_NAME", local_remote(tmp.path()))
        .args(["prune", "--keep-last", "9", "--orphans-older-than", "3m"]);
    let out = exits(&mut prune, 0);
    assert_eq!(files_below(tmp.path()), before, "{}", stderr(&out));
    signal(child.id(), "CONT");
    signal(worker, "CONT");
    let out = wait_at_most(child, Duration::from_secs(120));
    assert!(out.status.success(), "{}", stderr(&out));
    let (name, _) = the_set(tmp.path());
    assert!(
        !files_below(tmp.path())
            .iter()
            .any(|f| f.ends_with(".claim")),
        "{:?}",
        files_below(tmp.path())
    );
    let mut verify = dbbr();
    s.env(&mut verify)
        .env("REMOTE_NAME", local_remote(tmp.path()))
        .args(["verify", &name]);
    exits(&mut verify, 0);
}
