//! A set restore stopped by SIGTERM, while its parts stream or while its
//! indexes are built, ends within seconds with exit 143 and leaves no
//! database: the target is not made, and the temporary one is dropped; an
//! empty target keeps only what it had, even while a server session was
//! building one of its indexes. Killed (SIGKILL), it never makes its
//! target.

use std::process::{Child, Stdio};
use std::time::Duration;

use super::*;
use crate::common::pg::{Cluster, SLOW_INDEX_SQL};

/// A cluster whose database `src` ([`fill`]ed) is backed up as a set of
/// two jobs into a directory: the cluster, the directory, the set's name.
fn backed_up_set() -> (Cluster, tempfile::TempDir, String) {
    let cluster = Cluster::start();
    let s = &cluster.server;
    s.create_database("src");
    fill(s, "src", 120_000);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(s, "src", tmp.path(), "2"));
    let (set, _) = the_set(tmp.path());
    (cluster, tmp, set)
}

#[test]
fn sigterm_in_each_phase_of_a_set_restore_leaves_no_database() {
    let (cluster, tmp, set) = backed_up_set();
    let s = cluster.server.clone();
    for (phase, program) in [("parts", "psql"), ("post-data", "pg_restore")] {
        let target = unique("setsig");
        let mut cmd = restore(&s, tmp.path(), &set, &target, &["--create", "--jobs", "2"]);
        let child: Child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // One client held where it is (clients come and go, several at
        // once): the restore cannot end on its own.
        assert!(
            wait_until(Duration::from_secs(60), || {
                children_named(child.id(), program).into_iter().any(hold)
            }),
            "{phase}: no {program} started"
        );
        let err = terminated_within(child, Duration::from_secs(15), phase);
        assert!(!exists(&s, &target), "{phase}: {err}");
        let left = s.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'dbbr_restore_%'",
        );
        assert_eq!(left, "0", "{phase}: a temporary database is left: {err}");
    }
}

/// SIGKILL (an out-of-memory kill, a node drain) while the parts stream:
/// nothing of dbbr runs after it, yet the target is never made, its
/// clients end with it, and what is left is dbbr's staging database, by
/// its name; the same restore then works.
#[test]
fn a_set_restore_killed_never_makes_its_target() {
    let (cluster, tmp, set) = backed_up_set();
    let s = cluster.server.clone();
    let before = s.databases();
    let target = unique("setkill");
    let mut child = restore(&s, tmp.path(), &set, &target, &["--create", "--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // A data part's client held where it is (the first client replays the
    // pre-data; dbbr's own queries run `psql -XAtqw`): the restore cannot
    // end before the kill.
    let mut first = None;
    let held = wait_until(Duration::from_secs(60), || {
        children_named(child.id(), "psql")
            .into_iter()
            .filter(|&pid| replays(pid))
            .any(|pid| *first.get_or_insert(pid) != pid && hold(pid))
    });
    assert!(held, "no data part's client started");
    // The parts' sessions carry dbbr's name, by which a clean-up stops them.
    let sessions = |filter: &str| {
        s.psql(
            "postgres",
            &format!(
                "SELECT count(*) FROM pg_stat_activity WHERE datname LIKE 'dbbr_restore_%' \
                 AND {filter}"
            ),
        )
    };
    let named = format!("application_name = 'dbbr restore {}'", child.id());
    assert!(
        wait_until(Duration::from_secs(10), || sessions(&named) != "0"),
        "no session named for dbbr"
    );
    assert_eq!(
        sessions(&format!("query LIKE 'COPY %' AND NOT {named}")),
        "0"
    );
    let clients: Vec<u32> = ["psql", "pg_restore"]
        .into_iter()
        .flat_map(|program| children_named(child.id(), program))
        .collect();
    signal(child.id(), "KILL");
    child.wait().unwrap();
    for &pid in &clients {
        release(pid);
    }
    for pid in clients {
        assert!(gone(pid), "client {pid} outlived dbbr");
    }
    assert!(!exists(&s, &target));
    let after = s.databases();
    let left: Vec<&String> = after.iter().filter(|d| !before.contains(d)).collect();
    assert!(
        left.iter().all(|d| d.starts_with("dbbr_restore_")),
        "{left:?}"
    );
    succeed(&mut restore(
        &s,
        tmp.path(),
        &set,
        &target,
        &["--create", "--jobs", "2"],
    ));
    assert_eq!(checksums(&s, &target), checksums(&s, "src"));
}

/// Whether process `pid` is a client replaying a script (`psql -X`).
fn replays(pid: u32) -> bool {
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    cmdline.split(|&b| b == 0).nth(1) == Some(b"-X")
}

/// A cluster whose database `src` has a table `t` with an index `t_slow`
/// (and `more` after it) whose build is slow where the database says so,
/// backed up as a set of two jobs; and an empty database that says so, to
/// restore into: the cluster, the set's directory and name, the database.
fn slow_index_set(more: &str, prefix: &str) -> (Cluster, tempfile::TempDir, String, String) {
    let cluster = Cluster::start();
    let s = &cluster.server;
    s.create_database("src");
    s.psql("src", &format!("{SLOW_INDEX_SQL} {more}"));
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(s, "src", tmp.path(), "2"));
    let (set, _) = the_set(tmp.path());
    let target = unique(prefix);
    s.create_database(&target);
    s.slow_builds(&target);
    (cluster, tmp, set, target)
}

#[test]
fn sigterm_during_an_index_build_leaves_an_empty_target_as_it_was() {
    let (cluster, tmp, set, target) = slow_index_set("", "setidx");
    let s = cluster.server.clone();
    s.psql(&target, "CREATE SCHEMA mine;");
    let before = (contents(&s, &target), objects(&s, &target));
    let child: Child = restore(&s, tmp.path(), &set, &target, &["--jobs", "2"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let building = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{target}' \
         AND query LIKE 'CREATE INDEX t_slow%' AND state = 'active'"
    );
    assert!(
        wait_until(Duration::from_secs(60), || s.psql("postgres", &building)
            == "1"),
        "the index build never started"
    );
    let err = terminated_within(child, Duration::from_secs(15), "during the index build");
    assert!(!err.contains("could not drop"), "{err}");
    assert_eq!(
        (contents(&s, &target), objects(&s, &target)),
        before,
        "{err}"
    );
    assert_eq!(
        s.psql("postgres", &building),
        "0",
        "the build goes on: {err}"
    );
}

/// SIGKILL while `pg_restore` builds an index (it reads its archive from a
/// file, not from dbbr): the builds end with dbbr, the statement running
/// on the server within seconds (it would take a minute), and the index
/// builds still to come never start.
#[test]
fn a_set_restore_killed_while_it_builds_stops_its_builds() {
    let (cluster, tmp, set, target) = slow_index_set(
        "CREATE INDEX t_slow_next ON t (public.slow(id + 1));",
        "setkillidx",
    );
    let s = cluster.server.clone();
    let mut child = restore(&s, tmp.path(), &set, &target, &["--jobs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let sessions = format!(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = '{target}' \
         AND application_name = 'dbbr restore {}'",
        child.id()
    );
    let building = format!("{sessions} AND query LIKE 'CREATE INDEX t_slow%' AND state = 'active'");
    assert!(
        wait_until(Duration::from_secs(60), || s.psql("postgres", &building)
            == "1"),
        "the index build never started"
    );
    let builders = children_named(child.id(), "pg_restore");
    assert!(!builders.is_empty(), "no pg_restore builds the index");
    signal(child.id(), "KILL");
    child.wait().unwrap();
    for pid in builders {
        assert!(gone(pid), "pg_restore {pid} outlived dbbr");
    }
    assert!(
        wait_until(Duration::from_secs(5), || s.psql("postgres", &sessions)
            == "0"),
        "the restore's sessions outlived dbbr"
    );
    let indexes = "SELECT count(*) FROM pg_indexes WHERE indexname LIKE 't_slow%'";
    assert_eq!(s.psql(&target, indexes), "0", "a build went on after dbbr");
}
