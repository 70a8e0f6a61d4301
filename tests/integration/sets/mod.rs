//! Parallel backup sets (PostgreSQL, `BACKUP_JOBS` > 1): a set restores to
//! what a single-stream backup restores; it is consistent while writers
//! run; faults in any session, the server, storage or dbbr leave nothing
//! that lists as a backup; a damaged set restores nothing; the README's
//! recipe restores one with the standard tools; a set locks only the
//! tables whose data it holds; sets and objects restore through a
//! connection pooler; a set of a database that is not UTF-8 restores its
//! text.

mod consistency;
mod encodings;
mod equivalence;
mod every;
mod faults;
mod many_tables;
mod pooler;
mod recipe;
mod restore_faults;
mod restore_signals;
mod selection;
mod storage;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::pg::Server;
use crate::common::*;

/// The split size the tests use: tables over 1 MiB are cut into ranges.
pub const SPLIT: &str = "1Mi";

/// Everything a set must hold as pg_dump would: a table cut into ranges
/// (with a primary key, two secondary indexes and a foreign key), a
/// partitioned table, generated columns, a quoted mixed-case table in a
/// schema of its own (referencing itself by a quoted column), a table
/// named with pattern characters (referencing it) next to one its name
/// would match as a pattern, sequences (owned and free), a large object.
pub fn fill(s: &Server, db: &str, orders: u64) {
    s.psql(
        db,
        &format!(
            r#"CREATE SCHEMA "Odd Schema";
            CREATE TABLE "Odd Schema"."Mixed Case" (id int PRIMARY KEY, v text,
                g int GENERATED ALWAYS AS (id * 2) STORED,
                "Up, (Id)" int REFERENCES "Odd Schema"."Mixed Case" (id));
            INSERT INTO "Odd Schema"."Mixed Case" (id, v, "Up, (Id)")
                SELECT i, repeat(md5(i::text), 12), nullif(i - 1, 0)
                FROM generate_series(1, 3000) i;
            CREATE TABLE customers (id serial PRIMARY KEY, name text UNIQUE);
            INSERT INTO customers (name) SELECT 'c' || i FROM generate_series(1, 100) i;
            CREATE TABLE orders (id bigserial PRIMARY KEY,
                customer int NOT NULL REFERENCES customers (id), amount numeric(12, 2),
                note text, created timestamptz);
            INSERT INTO orders (customer, amount, note, created)
                SELECT 1 + i % 100, i / 7.0, md5(i::text) || md5((i * 3)::text),
                    '2026-01-01'::timestamptz + i * interval '1 minute'
                FROM generate_series(1, {orders}) i;
            CREATE INDEX orders_customer ON orders (customer);
            CREATE INDEX orders_created ON orders (created);
            CREATE TABLE events (id int, k int, payload text) PARTITION BY RANGE (k);
            CREATE TABLE events_low PARTITION OF events FOR VALUES FROM (0) TO (50);
            CREATE TABLE events_high PARTITION OF events FOR VALUES FROM (50) TO (100);
            CREATE INDEX ON events (k);
            INSERT INTO events SELECT i, i % 100, 'e' || i FROM generate_series(1, 5000) i;
            CREATE SCHEMA "s.p*c";
            CREATE TABLE "s.p*c"."we*ird$(x) ""q""" (id int PRIMARY KEY, v text,
                mixed int REFERENCES "Odd Schema"."Mixed Case" (id));
            INSERT INTO "s.p*c"."we*ird$(x) ""q""" SELECT i, md5(i::text), 1 + i % 3000
                FROM generate_series(1, 30000) i;
            CREATE TABLE "s.p*c"."weXird" (id int);
            INSERT INTO "s.p*c"."weXird" VALUES (1);
            CREATE SEQUENCE free_counter START 100;
            SELECT nextval('free_counter'), nextval('free_counter');
            SELECT lo_from_bytea(0, convert_to('a large object, ä', 'UTF8'));"#
        ),
    );
}

/// Per table of every user schema (partitions too): `rows:md5 of every
/// row as text, sorted`; per sequence its `last_value/is_called`; per
/// large object its md5.
pub fn checksums(s: &Server, db: &str) -> BTreeMap<String, String> {
    let tables = s.psql(
        db,
        "SELECT format('%I.%I', n.nspname, c.relname) || '|' || c.relkind::text FROM pg_class c \
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'S') \
         AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema' ORDER BY 1",
    );
    let mut sums = BTreeMap::new();
    for line in tables.lines() {
        let (table, kind) = line.rsplit_once('|').unwrap();
        let sql = if kind == "S" {
            format!("SELECT last_value || '/' || is_called FROM {table}")
        } else {
            format!(
                "SELECT count(*) || ':' || md5(coalesce(string_agg(t::text, ',' ORDER BY \
                 t::text), '')) FROM ONLY {table} t"
            )
        };
        sums.insert(table.to_string(), s.psql(db, &sql));
    }
    sums.insert(
        "large objects".into(),
        s.psql(
            db,
            "SELECT string_agg(oid || ':' || md5(lo_get(oid)), ',' ORDER BY oid) \
             FROM pg_largeobject_metadata",
        ),
    );
    sums
}

/// `pg_dump --schema-only` of `db`, without its comments and the
/// per-run `\restrict` key lines.
pub fn schema(s: &Server, db: &str) -> String {
    let mut cmd = Command::new("pg_dump");
    s.env(&mut cmd).args(["--schema-only", "-d", db]);
    let out = run_ok(&mut cmd);
    out.lines()
        .filter(|l| {
            !l.starts_with("--") && !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `dbbr backup postgresql` of `db` on `s` into `dir` as a set of `jobs`.
pub fn set_backup(s: &Server, db: &str, dir: &Path, jobs: &str) -> Command {
    let mut cmd = dbbr();
    s.env(&mut cmd)
        .env("REMOTE_NAME", local_remote(dir))
        .env("BACKUP_DATABASES", db)
        .env("BACKUP_JOBS", jobs)
        .env("BACKUP_SPLIT_SIZE", SPLIT)
        .args(["backup", "postgresql"]);
    cmd
}

/// `dbbr restore OBJECT --to TARGET` from `dir` on `s`, with `args`.
pub fn restore(s: &Server, dir: &Path, object: &str, target: &str, args: &[&str]) -> Command {
    let mut cmd = dbbr();
    s.env(&mut cmd)
        .env("REMOTE_NAME", local_remote(dir))
        .args(["restore", object, "--to", target])
        .args(args);
    cmd
}

/// The set in `dir`: its name and manifest (JSON).
pub fn the_set(dir: &Path) -> (String, serde_json::Value) {
    let manifests: Vec<String> = files_below(dir)
        .into_iter()
        .filter(|f| f.ends_with(".set.manifest.json"))
        .collect();
    assert_eq!(manifests.len(), 1, "{:?}", files_below(dir));
    let text = std::fs::read_to_string(dir.join(&manifests[0])).unwrap();
    let name = manifests[0].trim_end_matches(".manifest.json").to_string();
    (name, serde_json::from_str(&text).unwrap())
}

/// The paths of the set's parts, as the manifest lists them.
pub fn parts(dir: &Path, manifest: &serde_json::Value) -> Vec<PathBuf> {
    manifest["set"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| dir.join(p["object"].as_str().unwrap()))
        .collect()
}

/// Whether database `db` exists on `s`.
pub fn exists(s: &Server, db: &str) -> bool {
    s.psql(
        "postgres",
        &format!("SELECT count(*) FROM pg_database WHERE datname = '{db}'"),
    ) == "1"
}

/// What database `db` holds, for "left as it was": its user relations,
/// schemas and large objects.
pub fn contents(s: &Server, db: &str) -> String {
    s.psql(
        db,
        "SELECT (SELECT string_agg(format('%I.%I', n.nspname, c.relname), ',' ORDER BY 1) \
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname !~ '^pg_' AND n.nspname <> 'information_schema') || ' / ' || \
         (SELECT string_agg(nspname, ',' ORDER BY 1) FROM pg_namespace) || ' / ' || \
         (SELECT count(*) FROM pg_largeobject_metadata)",
    )
}

/// Every object of `db` that is not the system's, by kind and name.
pub fn objects(s: &Server, db: &str) -> String {
    s.psql(
        db,
        "SELECT string_agg(x.type || ' ' || x.identity, ', ' ORDER BY 1) FROM (
           SELECT 'pg_namespace'::regclass c, oid o FROM pg_namespace
           UNION ALL SELECT 'pg_class'::regclass, oid FROM pg_class
           UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc
           UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type
           UNION ALL SELECT 'pg_operator'::regclass, oid FROM pg_operator
           UNION ALL SELECT 'pg_cast'::regclass, oid FROM pg_cast
           UNION ALL SELECT 'pg_collation'::regclass, oid FROM pg_collation
           UNION ALL SELECT 'pg_conversion'::regclass, oid FROM pg_conversion
           UNION ALL SELECT 'pg_ts_config'::regclass, oid FROM pg_ts_config
           UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid FROM pg_foreign_data_wrapper
           UNION ALL SELECT 'pg_foreign_server'::regclass, oid FROM pg_foreign_server
           UNION ALL SELECT 'pg_user_mapping'::regclass, oid FROM pg_user_mapping
         ) a, pg_identify_object(a.c, a.o, 0) x WHERE a.o >= 16384",
    )
}
