//! A damaged set restores nothing: a flipped byte or a missing part leaves
//! the target as it was, a new database is not made, an empty one keeps
//! only what it had.

use super::*;
use crate::common::pg::Cluster;

/// On a server of its own, so that no other test's restore is counted
/// among the temporary databases.
#[test]
fn a_damaged_set_leaves_the_target_as_it_was() {
    let cluster = Cluster::start();
    let s = cluster.server.clone();
    s.create_database("src");
    fill(&s, "src", 30_000);
    // Objects of every kind a restore makes outside a table, some of them
    // in a schema the empty target has already (public).
    s.psql(
        "src",
        "CREATE DOMAIN public.positive AS int CHECK (VALUE > 0);
         CREATE TYPE public.mood AS ENUM ('ok');
         CREATE TYPE public.pair AS (a int, b int);
         CREATE FUNCTION public.add(int, int) RETURNS int LANGUAGE sql AS 'SELECT $1 + $2';
         CREATE OPERATOR public.<~> (leftarg = int, rightarg = int, function = public.add);
         CREATE AGGREGATE public.total(int) (sfunc = public.add, stype = int);
         CREATE CAST (public.pair AS text) WITH INOUT;
         CREATE COLLATION public.bytes (provider = libc, locale = 'C');
         CREATE TEXT SEARCH CONFIGURATION public.plain (COPY = simple);
         CREATE CONVERSION public.latin FOR 'LATIN1' TO 'UTF8' FROM iso8859_1_to_utf8;
         CREATE FOREIGN DATA WRAPPER quiet;
         CREATE SERVER elsewhere FOREIGN DATA WRAPPER quiet;
         CREATE USER MAPPING FOR CURRENT_USER SERVER elsewhere;",
    );
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, "src", tmp.path(), "3"));
    let (set, manifest) = the_set(tmp.path());
    let table_part = parts(tmp.path(), &manifest)
        .into_iter()
        .find(|p| p.to_string_lossy().contains("public.orders-2"))
        .unwrap();
    let good = std::fs::read(&table_part).unwrap();
    let mut flipped = good.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x40;

    for (damage, stage) in [("flipped", "integrity"), ("missing", "download")] {
        match damage {
            "flipped" => std::fs::write(&table_part, &flipped).unwrap(),
            _ => std::fs::remove_file(&table_part).unwrap(),
        }
        // A new database: not made, and no temporary one left.
        let target = unique("setf");
        let out = run(&mut restore(
            &s,
            tmp.path(),
            &set,
            &target,
            &["--create", "--jobs", "2"],
        ));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{damage}: {err}");
        // A flipped byte is found as the part streams; a missing part by
        // the listing, before anything runs.
        let named = err.contains("public.orders-2") && err.contains(stage);
        let listed = damage == "missing" && err.contains("broken");
        assert!(named || listed, "{damage}: {err}");
        assert!(!exists(&s, &target), "{damage}");
        let staging = s.psql(
            "postgres",
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'dbbr_restore_%'",
        );
        assert_eq!(staging, "0", "{damage}");

        // An empty database with something of its own: left as it was.
        let empty = unique("empty");
        s.create_database(&empty);
        s.psql(
            &empty,
            "SELECT lo_from_bytea(0, 'mine'); CREATE SCHEMA mine;
             CREATE FUNCTION public.mine() RETURNS int LANGUAGE sql AS 'SELECT 1';
             CREATE TEXT SEARCH CONFIGURATION public.mine (COPY = simple);",
        );
        let before = (contents(&s, &empty), objects(&s, &empty));
        let out = run(&mut restore(&s, tmp.path(), &set, &empty, &["--jobs", "3"]));
        assert_eq!(out.status.code(), Some(1), "{damage}: {}", stderr(&out));
        assert!(
            !stderr(&out).contains("could not drop"),
            "{damage}: {}",
            stderr(&out)
        );
        assert_eq!(
            (contents(&s, &empty), objects(&s, &empty)),
            before,
            "{damage}"
        );
        std::fs::write(&table_part, &good).unwrap();
    }

    // Repaired, it restores; into a database with tables it is refused.
    let target = unique("target");
    s.create_database(&target);
    succeed(&mut restore(&s, tmp.path(), &set, &target, &[]));
    assert_eq!(checksums(&s, &target), checksums(&s, "src"));
    let out = run(&mut restore(&s, tmp.path(), &set, &target, &["--force"]));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("new or empty database"), "{err}");
}
