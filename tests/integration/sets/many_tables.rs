//! A set of many small tables, each with its keys, and half of them with a
//! foreign key, restores with a few clients, not one or two per table: the
//! indexes and constraints of the tables one data part loads are built in
//! batches, and so are the foreign keys ready at the same time. A failed
//! restore of such a set into an existing database drops all it made,
//! although the server's lock table could not hold the locks of all the
//! drops at once, and although that takes longer than a signal allows.

use super::*;
use crate::common::pg::Cluster;

/// Makes `pairs` pairs of small tables in `schema` of `db`, the second of
/// each with a foreign key to the first, committing after each pair.
fn pairs_of_tables(s: &Server, db: &str, schema: &str, pairs: u32) {
    s.psql(
        db,
        &format!(
            "DO $$ BEGIN FOR i IN 1..{pairs} LOOP EXECUTE format(
                'CREATE TABLE {schema}.p%s (id int PRIMARY KEY, v text);
                 INSERT INTO {schema}.p%s SELECT g, md5(g::text) FROM generate_series(1, 5) g;
                 CREATE TABLE {schema}.c%s (id int PRIMARY KEY, p int REFERENCES {schema}.p%s,
                   v text UNIQUE);
                 INSERT INTO {schema}.c%s SELECT g, g, md5(g::text) FROM generate_series(1, 5) g',
                i, i, i, i, i); COMMIT; END LOOP; END $$"
        ),
    );
}

/// Flips a byte in the middle of the post-data part of the set in `dir`
/// (its `manifest`): a restore of it fails at integrity once the schema
/// and the data are in.
fn damage_post_data(dir: &Path, manifest: &serde_json::Value) {
    let post_data = parts(dir, manifest)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("post-data"))
        .unwrap();
    let mut bytes = std::fs::read(&post_data).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&post_data, bytes).unwrap();
}

/// The clients named `program` that the restore's debug log shows.
fn clients(log: &str, program: &str) -> usize {
    let program = format!("program=\"{program}\"");
    log.lines()
        .filter(|l| l.contains("client started") || l.contains("client runs"))
        .filter(|l| l.contains(&program))
        .count()
}

#[test]
fn many_small_tables_restore_with_a_few_clients() {
    let s = Server::shared();
    let source = unique("manytables");
    s.create_database(&source);
    pairs_of_tables(&s, &source, "public", 150);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, &source, tmp.path(), "2"));
    let (set, _) = the_set(tmp.path());
    let expected = (checksums(&s, &source), schema(&s, &source));
    let target = unique("manytables");
    let out = succeed(&mut restore(
        &s,
        tmp.path(),
        &set,
        &target,
        &["--create", "--jobs", "2", "--log-level", "debug"],
    ));
    assert_eq!((checksums(&s, &target), schema(&s, &target)), expected);
    let log = stderr(&out);
    // 300 tables and 150 foreign keys: one client each would be 300
    // pg_restore and 150 psql. In batches: the archive read twice, the
    // tables in three batches, the rest; the schema, the data, the probe,
    // and the keys in shares as their tables come in.
    let (pg_restore, psql) = (clients(&log, "pg_restore"), clients(&log, "psql"));
    assert!(
        (1..=10).contains(&pg_restore) && (1..=30).contains(&psql),
        "pg_restore {pg_restore}, psql {psql} clients:\n{log}"
    );
}

/// On a server of its own with a small lock table (10 locks per session):
/// its 810 tables fit in the pre-data's one transaction, but dropping them
/// and what goes with them (types, constraints, the other table of each
/// key) in one transaction would not ("out of shared memory"), nor would
/// dropping the schema that holds 800 of them with one statement.
#[test]
fn a_failed_restore_of_many_tables_into_a_database_drops_them_all() {
    let cluster = Cluster::start();
    let s = cluster.server.clone();
    s.psql(
        "postgres",
        "ALTER SYSTEM SET max_locks_per_transaction = 10",
    );
    cluster.restart();
    s.create_database("src");
    s.psql("src", "CREATE SCHEMA app");
    pairs_of_tables(&s, "src", "app", 400);
    pairs_of_tables(&s, "src", "public", 5);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, "src", tmp.path(), "2"));
    let (set, manifest) = the_set(tmp.path());
    // The post-data part is read after the pre-data made the tables.
    damage_post_data(tmp.path(), &manifest);
    s.create_database("target");
    let before = contents(&s, "target");
    let out = run(&mut restore(
        &s,
        tmp.path(),
        &set,
        "target",
        &["--jobs", "2"],
    ));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("post-data") && err.contains("integrity"),
        "{err}"
    );
    assert!(!err.contains("could not drop"), "{err}");
    assert_eq!(contents(&s, "target"), before, "{err}");
}

/// A failed restore whose clean-up takes longer than the few seconds a
/// signal allows it (here each drop waits 0.1 s, for an event trigger
/// that was in the target before) drops all it made all the same: only a
/// signal hurries a clean-up.
#[test]
fn a_slow_clean_up_without_a_signal_runs_to_its_end() {
    let s = Server::shared();
    let source = unique("slowdrop");
    s.create_database(&source);
    pairs_of_tables(&s, &source, "public", 40);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, &source, tmp.path(), "2"));
    let (set, manifest) = the_set(tmp.path());
    damage_post_data(tmp.path(), &manifest);
    let target = unique("slowdrop");
    s.create_database(&target);
    s.psql(
        &target,
        "CREATE FUNCTION slow_drop() RETURNS event_trigger LANGUAGE plpgsql AS
           $$ BEGIN PERFORM pg_sleep(0.1); END $$;
         CREATE EVENT TRIGGER slow_drop ON sql_drop EXECUTE FUNCTION slow_drop();",
    );
    let before = objects(&s, &target);
    let clock = std::time::Instant::now();
    let out = run(&mut restore(
        &s,
        tmp.path(),
        &set,
        &target,
        &["--jobs", "2"],
    ));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("integrity"), "{err}");
    assert!(!err.contains("could not drop"), "{err}");
    // The 80 tables' drops alone wait 8 s.
    assert!(
        clock.elapsed().as_secs() >= 8,
        "{:?}: {err}",
        clock.elapsed()
    );
    assert_eq!(objects(&s, &target), before, "{err}");
}
