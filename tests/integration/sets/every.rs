//! Sets of every database at once state their stream bound; a set's logs
//! at every level hold no secret.

use super::*;
use crate::common::pg::{Cluster, Server, TestDb};

#[test]
fn every_database_as_sets_states_its_stream_bound() {
    let cluster = Cluster::start();
    let s = &cluster.server;
    for db in ["one", "two"] {
        s.create_database(db);
        fill(s, db, 10_000);
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = set_backup(s, "*", tmp.path(), "2");
    cmd.env("BACKUP_EXCLUDE", "postgres")
        .env("BACKUP_PARALLELISM", "2");
    let err = stderr(&succeed(&mut cmd));
    assert!(
        err.contains("up to 4 streams at once (2 database(s) x 2 jobs)"),
        "{err}"
    );
    let manifests: Vec<String> = files_below(tmp.path())
        .into_iter()
        .filter(|f| f.ends_with(".set.manifest.json"))
        .collect();
    assert_eq!(manifests.len(), 2, "{manifests:?}");
}

#[test]
fn a_set_logs_no_secret_at_any_level() {
    let s = Server::shared();
    let db = TestDb::create();
    fill(&s, &db.name, 10_000);
    for level in ["info", "debug", "trace"] {
        let tmp = tempfile::tempdir().unwrap();
        let mut cmd = set_backup(&s, &db.name, tmp.path(), "2");
        // `succeed` reads every line for the test servers' secrets.
        let err = stderr(&succeed(cmd.env("LOG_LEVEL", level)));
        let (set, _) = the_set(tmp.path());
        let target = unique("setlog");
        let mut restoring = restore(&s, tmp.path(), &set, &target, &["--create"]);
        succeed(restoring.env("LOG_LEVEL", level));
        let _restored = TestDb { name: target };
        if level != "info" {
            assert!(err.contains("DEBUG"), "{level}: {err}");
        }
    }
}
