//! What a set locks: the tables whose data it holds, as `pg_dump
//! --section=data` with the arguments after `--` selects them, and no
//! other. A role that may read one schema backs that schema up as a set; a
//! lock on a table outside the selection does not hold the set up; a table
//! made while the set starts (after the tables were listed, before the
//! snapshot) makes it start again, and is in it. A foreign table's rows
//! are in a set exactly when `--include-foreign-data` names its server, as
//! pg_dump writes them.

use std::collections::BTreeMap;
use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::common::pg::{Server, TestDb};

/// A database with two tables (a key between them) in schema `app` and
/// one in schema `secret`.
fn two_schemas(s: &Server) -> TestDb {
    let db = TestDb::create();
    s.psql(
        &db.name,
        "CREATE SCHEMA app; CREATE SCHEMA secret;
         CREATE TABLE app.a (id int PRIMARY KEY, v text);
         INSERT INTO app.a SELECT i, md5(i::text) FROM generate_series(1, 20000) i;
         CREATE TABLE app.b (id int PRIMARY KEY, a int REFERENCES app.a);
         INSERT INTO app.b SELECT i, i FROM generate_series(1, 20000) i;
         CREATE TABLE secret.s (id int PRIMARY KEY); INSERT INTO secret.s VALUES (1);",
    );
    db
}

/// The rows per table the set's manifest in `dir` records.
fn rows(dir: &Path) -> BTreeMap<String, u64> {
    let (_, manifest) = the_set(dir);
    let mut rows = BTreeMap::new();
    for part in manifest["set"]["parts"].as_array().unwrap() {
        for (table, n) in part["rows"].as_object().unwrap() {
            *rows.entry(table.clone()).or_default() += n.as_u64().unwrap();
        }
    }
    rows
}

fn app_rows() -> BTreeMap<String, u64> {
    [("app.a".to_string(), 20000), ("app.b".to_string(), 20000)].into()
}

#[test]
fn a_role_that_reads_one_schema_backs_it_up_as_a_set() {
    let s = Server::shared();
    let db = two_schemas(&s);
    let user = unique("reader");
    s.psql(
        "postgres",
        &format!(
            "CREATE ROLE \"{user}\" LOGIN PASSWORD 'rd-Pw-7731'; \
             GRANT CONNECT ON DATABASE \"{}\" TO \"{user}\"",
            db.name
        ),
    );
    s.psql(
        &db.name,
        &format!(
            "GRANT USAGE ON SCHEMA app TO \"{user}\"; \
             GRANT SELECT ON ALL TABLES IN SCHEMA app TO \"{user}\""
        ),
    );
    let reader = Server {
        user: user.clone(),
        password: Some("rd-Pw-7731".into()),
        ..s.clone()
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = run(set_backup(&reader, &db.name, tmp.path(), "2").args(["--", "-n", "app"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(rows(tmp.path()), app_rows());

    let (name, _) = the_set(tmp.path());
    let copy = TestDb {
        name: unique("pgcopy"),
    };
    succeed(&mut restore(
        &s,
        tmp.path(),
        &name,
        &copy.name,
        &["--create"],
    ));
    let counts = s.psql(
        &copy.name,
        "SELECT (SELECT count(*) FROM app.a) || ' ' || (SELECT count(*) FROM app.b) || ' ' || \
         (SELECT count(*) FROM pg_namespace WHERE nspname = 'secret')",
    );
    assert_eq!(counts, "20000 20000 0");
    for database in [&db.name, &copy.name] {
        s.psql(database, &format!("DROP OWNED BY \"{user}\""));
    }
    s.psql(
        "postgres",
        &format!(
            "REVOKE ALL ON DATABASE \"{}\" FROM \"{user}\"; DROP ROLE \"{user}\"",
            db.name
        ),
    );
}

#[test]
fn a_lock_outside_the_selection_does_not_hold_a_set_up() {
    let s = Server::shared();
    let db = two_schemas(&s);
    let _lock = s.lock_table(&db.name, "secret.s");
    let tmp = tempfile::tempdir().unwrap();
    let out = run(set_backup(&s, &db.name, tmp.path(), "2")
        .env("BACKUP_LOCK_TIMEOUT", "1s")
        .args(["--", "-n", "app"]));
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(rows(tmp.path()), app_rows());
}

#[test]
fn a_table_made_while_a_set_starts_makes_it_start_again() {
    let s = Server::shared();
    let db = two_schemas(&s);
    let tmp = tempfile::tempdir().unwrap();
    // A pg_dump whose first listing without a snapshot (the tables the
    // coordinator then locks) is written only once it has made a table:
    // the listing at the snapshot then has a table that was not locked.
    let real = run_ok(Command::new("sh").args(["-c", "command -v pg_dump"]));
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let mark = tmp.path().join("made");
    let wrapper = bin.join("pg_dump");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\n\
             case \"$*\" in *--snapshot=*) ;; *--section=data*)\n\
               if [ ! -e '{mark}' ]; then\n\
                 '{real}' \"$@\" > '{mark}'; rc=$?\n\
                 psql -X -q -d '{db}' -c 'CREATE TABLE app.late AS SELECT 1 AS id' >/dev/null\n\
                 cat '{mark}'; exit $rc\n\
               fi ;;\n\
             esac\n\
             exec '{real}' \"$@\"\n",
            mark = mark.display(),
            real = real.trim(),
            db = db.name,
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let out = run(set_backup(&s, &db.name, &remote, "2").env("PATH", path));
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    assert!(
        mark.exists(),
        "the table was not made: {err}\n{}",
        std::fs::read_to_string(&wrapper).unwrap()
    );
    assert!(err.contains("starting again"), "{err}");
    let mut expected = app_rows();
    expected.insert("app.late".into(), 1);
    expected.insert("secret.s".into(), 1);
    assert_eq!(rows(&remote), expected, "{err}");
}

/// The lines of `script` from the `COPY` of `table` to its end (`\.`).
fn copy_block(script: &str, table: &str) -> Vec<String> {
    let start = format!("COPY {table} ");
    script
        .lines()
        .skip_while(|l| !l.starts_with(&start))
        .take_while(|l| *l != "\\.")
        .map(str::to_string)
        .collect()
}

#[test]
fn foreign_data_is_in_a_set_as_pg_dump_writes_it() {
    let s = Server::shared();
    let db = TestDb::create();
    // The foreign server is this database, read as a role of the test's
    // own (a user mapping's password is in the dump, as pg_dump writes it).
    let reader = unique("farreader");
    s.psql(
        "postgres",
        &format!("CREATE ROLE \"{reader}\" LOGIN PASSWORD 'fr-Pw-4471'"),
    );
    s.psql(
        &db.name,
        &format!(
            "CREATE EXTENSION postgres_fdw;
             CREATE TABLE far (id int PRIMARY KEY, v text);
             INSERT INTO far SELECT i, 'row ' || i FROM generate_series(1, 300) i;
             GRANT SELECT ON far TO \"{reader}\";
             CREATE SERVER loop FOREIGN DATA WRAPPER postgres_fdw
               OPTIONS (host '{}', port '{}', dbname '{}');
             CREATE USER MAPPING FOR CURRENT_USER SERVER loop
               OPTIONS (user '{reader}', password 'fr-Pw-4471');
             CREATE FOREIGN TABLE near (id int, v text) SERVER loop OPTIONS (table_name 'far');",
            s.host, s.port, db.name,
        ),
    );
    assert_eq!(s.psql(&db.name, "SELECT count(*) FROM near"), "300");

    // Without the option, as pg_dump: the foreign table's definition only.
    let plain = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, &db.name, plain.path(), "2"));
    let only_far: BTreeMap<String, u64> = [("public.far".to_string(), 300)].into();
    assert_eq!(rows(plain.path()), only_far);

    let tmp = tempfile::tempdir().unwrap();
    let out =
        run(set_backup(&s, &db.name, tmp.path(), "2").args(["--", "--include-foreign-data=loop"]));
    assert!(out.status.success(), "{}", stderr(&out));
    let mut both = only_far.clone();
    both.insert("public.near".into(), 300);
    assert_eq!(rows(tmp.path()), both);

    let (name, _) = the_set(tmp.path());
    let mut cmd = dbbr();
    s.env(&mut cmd)
        .env("REMOTE_NAME", local_remote(tmp.path()))
        .args(["restore", &name, "--to-stdout"]);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    let script = String::from_utf8(out.stdout).unwrap();
    let dumped = run_ok(s.env(&mut Command::new("pg_dump")).args([
        "--include-foreign-data=loop",
        "-d",
        &db.name,
    ]));
    let near = copy_block(&script, "public.near");
    assert_eq!(near.len(), 301, "{script}");
    assert_eq!(near, copy_block(&dumped, "public.near"));
    s.psql(&db.name, &format!("REVOKE ALL ON far FROM \"{reader}\""));
    s.psql("postgres", &format!("DROP ROLE \"{reader}\""));
}
