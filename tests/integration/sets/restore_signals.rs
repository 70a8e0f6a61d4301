//! A set restore stopped by SIGTERM, while its parts stream or while its
//! indexes are built, ends within seconds with exit 143 and leaves no
//! database: the target is not made, and the temporary one is dropped.

use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use super::*;
use crate::common::pg::Cluster;

#[test]
fn sigterm_in_each_phase_of_a_set_restore_leaves_no_database() {
    let cluster = Cluster::start();
    let s = cluster.server.clone();
    s.create_database("src");
    fill(&s, "src", 120_000);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, "src", tmp.path(), "2"));
    let (set, _) = the_set(tmp.path());
    for (phase, program) in [("parts", "psql"), ("post-data", "pg_restore")] {
        let target = unique("setsig");
        let mut cmd = restore(&s, tmp.path(), &set, &target, &["--create", "--jobs", "2"]);
        let child: Child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut client = None;
        assert!(
            wait_until(Duration::from_secs(60), || {
                client = child_named(child.id(), program);
                client.is_some()
            }),
            "{phase}: no {program} started"
        );
        // Held where it is: the restore cannot end on its own.
        signal(client.unwrap(), "STOP");
        let clock = Instant::now();
        signal(child.id(), "TERM");
        let out = wait_at_most(child, Duration::from_secs(30));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(143), "{phase}: {err}");
        assert!(
            clock.elapsed() < Duration::from_secs(15),
            "{phase}: {:?}",
            clock.elapsed()
        );
        assert!(!exists(&s, &target), "{phase}: {err}");
        let left = s.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'dbbr_restore_%'",
        );
        assert_eq!(left, "0", "{phase}: a temporary database is left: {err}");
    }
}
