//! Restores through a connection pooler that passes no startup options
//! (PgBouncer pooling sessions, in front of the shared server): a set's
//! index builds then connect without asking the server for a client check,
//! and both a set and an object restore as they do directly.

use super::*;

/// The shared server, reached through the pooler in front of it.
fn pooled() -> Server {
    Server {
        port: setting("DBBR_TEST_PGBOUNCER_PORT"),
        ..Server::shared()
    }
}

#[test]
fn a_set_and_an_object_restore_through_a_pooler() {
    let s = Server::shared();
    let source = unique("poolsrc");
    s.create_database(&source);
    fill(&s, &source, 20_000);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, &source, tmp.path(), "2"));
    let (set, _) = the_set(tmp.path());
    let object_dir = tempfile::tempdir().unwrap();
    let mut backup = dbbr();
    s.env(&mut backup)
        .env("REMOTE_NAME", local_remote(object_dir.path()))
        .env("BACKUP_DATABASES", &source)
        .args(["backup", "postgresql"]);
    succeed(&mut backup);
    let expected = (checksums(&s, &source), schema(&s, &source));
    let p = pooled();
    let target = unique("poolset");
    s.create_database(&target);
    succeed(&mut restore(
        &p,
        tmp.path(),
        &set,
        &target,
        &["--jobs", "2"],
    ));
    assert_eq!((checksums(&s, &target), schema(&s, &target)), expected);
    let target = unique("poolobj");
    s.create_database(&target);
    let mut object = dbbr();
    p.env(&mut object)
        .env("REMOTE_NAME", local_remote(object_dir.path()))
        .args(["restore", "--latest", &source, "--to", &target]);
    succeed(&mut object);
    assert_eq!((checksums(&s, &target), schema(&s, &target)), expected);
}
