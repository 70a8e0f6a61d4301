//! A set of many small tables, each with its keys, and half of them with a
//! foreign key, restores with a few clients, not one or two per table: the
//! indexes and constraints of the tables one data part loads are built in
//! batches, and so are the foreign keys ready at the same time.

use super::*;

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
    s.psql(
        &source,
        "DO $$ BEGIN FOR i IN 1..150 LOOP EXECUTE format(
            'CREATE TABLE p%s (id int PRIMARY KEY, v text);
             INSERT INTO p%s SELECT g, md5(g::text) FROM generate_series(1, 5) g;
             CREATE TABLE c%s (id int PRIMARY KEY, p int REFERENCES p%s, v text UNIQUE);
             INSERT INTO c%s SELECT g, g, md5(g::text) FROM generate_series(1, 5) g',
            i, i, i, i, i); END LOOP; END $$",
    );
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
