//! A set is one snapshot: writers that keep invariants across tables
//! while it streams cannot make it inconsistent.

use std::process::{Command, Stdio};

use super::*;
use crate::common::pg::{Server, TestDb};

/// While a set of several tables streams (two of them cut into ranges), a
/// writer moves amounts between rows of two tables (their sum is fixed),
/// and inserts into and deletes from a ledger whose row count a counter
/// table keeps, committing each step. The restored set satisfies both
/// invariants, every table's row count equals the manifest's, and its
/// schema is the source's.
#[test]
fn writers_during_a_set_backup_leave_it_consistent() {
    let s = Server::shared();
    let db = TestDb::create();
    fill(&s, &db.name, 20_000);
    s.psql(
        &db.name,
        "CREATE TABLE acct_a (id int PRIMARY KEY, balance bigint NOT NULL, pad text);
         CREATE TABLE acct_b (id int PRIMARY KEY, balance bigint NOT NULL, pad text);
         INSERT INTO acct_a SELECT i, 1000, repeat('a', 100) FROM generate_series(1, 20000) i;
         INSERT INTO acct_b SELECT i, 1000, repeat('b', 100) FROM generate_series(1, 20000) i;
         CREATE TABLE ledger (id serial PRIMARY KEY, v int);
         CREATE TABLE ledger_count (n bigint NOT NULL);
         INSERT INTO ledger_count VALUES (0);
         CREATE TABLE churn_control (stop boolean NOT NULL, steps bigint NOT NULL);
         INSERT INTO churn_control VALUES (false, 0);
         CREATE PROCEDURE churn() LANGUAGE plpgsql AS $$
         DECLARE x int; y int; amount int;
         BEGIN
           WHILE NOT (SELECT stop FROM churn_control) LOOP
             x := 1 + (random() * 19999)::int; y := 1 + (random() * 19999)::int;
             amount := (random() * 50)::int;
             UPDATE acct_a SET balance = balance - amount WHERE id = x;
             UPDATE acct_b SET balance = balance + amount WHERE id = y;
             INSERT INTO ledger (v) VALUES (x);
             WITH gone AS (DELETE FROM ledger WHERE id = (SELECT min(id) FROM ledger)
                 AND random() < 0.4 RETURNING 1)
             UPDATE ledger_count SET n = n + 1 - (SELECT count(*) FROM gone);
             UPDATE churn_control SET steps = steps + 1;
             COMMIT;
           END LOOP;
         END $$;",
    );
    let mut writer = Command::new("psql");
    s.env(&mut writer)
        .args(["-X", "-q", "-d", &db.name, "-c", "CALL churn()"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let writer = writer.spawn().unwrap();
    let steps = || {
        s.psql(&db.name, "SELECT steps FROM churn_control")
            .parse::<u64>()
            .unwrap()
    };
    assert!(wait_until(std::time::Duration::from_secs(30), || steps() > 50));
    let before = steps();

    let tmp = tempfile::tempdir().unwrap();
    let out = succeed(&mut set_backup(&s, &db.name, tmp.path(), "3"));
    let during = steps();
    s.psql(&db.name, "UPDATE churn_control SET stop = true");
    let ended = wait_at_most(writer, std::time::Duration::from_secs(30));
    assert!(ended.status.success(), "{}", stderr(&ended));
    assert!(
        during > before,
        "the writer ran while the set streamed: {}",
        stderr(&out)
    );

    let (set, manifest) = the_set(tmp.path());
    let cut: Vec<&str> = manifest["set"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pages"].is_array())
        .filter_map(|p| p["table"].as_str())
        .collect();
    assert!(
        cut.contains(&"public.acct_a") && cut.contains(&"public.acct_b"),
        "{cut:?}"
    );

    let target = unique("setc");
    succeed(&mut restore(
        &s,
        tmp.path(),
        &set,
        &target,
        &["--create", "--jobs", "2"],
    ));
    let restored = TestDb { name: target };
    let r = &restored.name;
    assert_eq!(
        s.psql(
            r,
            "SELECT (SELECT sum(balance) FROM acct_a) + (SELECT sum(balance) FROM acct_b)"
        ),
        "40000000"
    );
    assert_eq!(
        s.psql(
            r,
            "SELECT (SELECT count(*) FROM ledger) = (SELECT n FROM ledger_count)"
        ),
        "t"
    );
    let rows = manifest["dump"]["rows"].as_object().unwrap();
    for (table, count) in rows {
        let counted = s.psql(r, &format!("SELECT count(*) FROM ONLY {table}"));
        assert_eq!(counted, count.to_string(), "{table}");
    }
    assert!(rows.contains_key("public.ledger") && rows.contains_key("public.acct_b"));
    assert_eq!(schema(&s, r), schema(&s, &db.name));
}
