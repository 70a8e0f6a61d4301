//! Restores through a connection pooler that passes no startup options and
//! keeps its server connections (PgBouncer pooling sessions, in front of the
//! shared server): a set's index builds then connect without asking the
//! server for a client check, a restore that made its database renames it
//! into place although the pooler is still connected to it, and both a set
//! and an object restore as they do directly.

use super::*;

/// The shared server, reached through the pooler in front of it.
fn pooled() -> Server {
    Server {
        port: setting("DBBR_TEST_PGBOUNCER_PORT"),
        ..Server::shared()
    }
}

/// A database backed up both as a set (`--jobs 2`) and as one object.
struct Backups {
    source: String,
    set_dir: tempfile::TempDir,
    set: String,
    object_dir: tempfile::TempDir,
    /// The source's per-table checksums and schema dump.
    expected: (BTreeMap<String, String>, String),
}

fn backups() -> Backups {
    let s = Server::shared();
    let source = unique("poolsrc");
    s.create_database(&source);
    fill(&s, &source, 20_000);
    let set_dir = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, &source, set_dir.path(), "2"));
    let (set, _) = the_set(set_dir.path());
    let object_dir = tempfile::tempdir().unwrap();
    let mut backup = dbbr();
    s.env(&mut backup)
        .env("REMOTE_NAME", local_remote(object_dir.path()))
        .env("BACKUP_DATABASES", &source)
        .args(["backup", "postgresql"]);
    succeed(&mut backup);
    let expected = (checksums(&s, &source), schema(&s, &source));
    Backups {
        source,
        set_dir,
        set,
        object_dir,
        expected,
    }
}

/// Restores `b`'s set and then its object through the pooler, into the
/// databases `made` gives (each named, or made first), with `args`.
fn restore_both(b: &Backups, made: impl Fn(&str) -> String, args: &[&str]) {
    let s = Server::shared();
    let p = pooled();
    let target = made("poolset");
    let set_args = [args, &["--jobs", "2"]].concat();
    succeed(&mut restore(
        &p,
        b.set_dir.path(),
        &b.set,
        &target,
        &set_args,
    ));
    assert_eq!((checksums(&s, &target), schema(&s, &target)), b.expected);
    let target = made("poolobj");
    let mut object = dbbr();
    p.env(&mut object)
        .env("REMOTE_NAME", local_remote(b.object_dir.path()))
        .args(["restore", "--latest", &b.source, "--to", &target])
        .args(args);
    succeed(&mut object);
    assert_eq!((checksums(&s, &target), schema(&s, &target)), b.expected);
}

#[test]
fn a_set_and_an_object_restore_through_a_pooler() {
    let b = backups();
    let existing = |prefix: &str| {
        let name = unique(prefix);
        Server::shared().create_database(&name);
        name
    };
    restore_both(&b, existing, &[]);
}

#[test]
fn restores_that_make_their_database_rename_it_through_a_pooler() {
    let b = backups();
    restore_both(&b, unique, &["--create"]);
}
