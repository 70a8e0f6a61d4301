//! A set of a database that is not UTF-8 (LATIN1, with names and text
//! beyond ASCII, a table cut into ranges) restores to the same text, into
//! a database it makes (UTF-8) and into an existing LATIN1 one, whatever
//! client encoding the user's environment asks for.

use super::*;

/// Every statement of the tests here says its own client encoding: the
/// names and text below are UTF-8, and a psql whose output is not a
/// terminal talks the database's encoding.
const UTF8: &str = "SET client_encoding = 'UTF8';";

/// Rows and text of each table, as UTF-8 bytes, whatever the database's
/// encoding; and the names of its indexes and constraints.
fn contents_in_utf8(s: &Server, db: &str) -> String {
    s.psql(
        db,
        &format!(
            "{UTF8} SELECT (SELECT count(*) || ':' || md5(convert_to(string_agg(t::text, ',' \
             ORDER BY i), 'UTF8')) FROM \"mesure_ü\".\"größe\" t) || ' / ' || \
             (SELECT count(*) || ':' || md5(convert_to(string_agg(c::text, ',' ORDER BY id), \
             'UTF8')) FROM \"mesure_ü\".\"pièce\" c) || ' / ' || \
             (SELECT string_agg(conname, ',' ORDER BY conname) FROM pg_constraint \
             WHERE connamespace = '\"mesure_ü\"'::regnamespace) || ' / ' || \
             (SELECT string_agg(indexname, ',' ORDER BY indexname) FROM pg_indexes \
             WHERE schemaname = 'mesure_ü')"
        ),
    )
}

fn latin1_database(s: &Server, name: &str) {
    s.psql(
        "postgres",
        &format!("CREATE DATABASE \"{name}\" TEMPLATE template0 ENCODING 'LATIN1' LOCALE 'C'"),
    );
}

#[test]
fn a_set_of_a_latin1_database_restores_its_text_and_names() {
    let s = Server::shared();
    let source = unique("latin1");
    latin1_database(&s, &source);
    // A table of about 4 MB (cut into ranges at the tests' split size),
    // with names and text beyond ASCII, an index and a foreign key.
    s.psql(
        &source,
        &format!(
            "{UTF8} CREATE SCHEMA \"mesure_ü\";
             CREATE TABLE \"mesure_ü\".\"größe\" (i int CONSTRAINT \"clé_größe\" PRIMARY KEY, \
               \"wert_é\" text);
             INSERT INTO \"mesure_ü\".\"größe\" \
               SELECT g, repeat('é', 190) || 'ßÿ' || g FROM generate_series(1, 20000) g;
             CREATE INDEX \"index_ö\" ON \"mesure_ü\".\"größe\" (\"wert_é\");
             CREATE TABLE \"mesure_ü\".\"pièce\" (id int PRIMARY KEY, \
               \"größe_i\" int CONSTRAINT \"réf_größe\" REFERENCES \"mesure_ü\".\"größe\", \
               note text);
             INSERT INTO \"mesure_ü\".\"pièce\" VALUES (1, 1, 'à bientôt'), (2, 2, 'Ærø');"
        ),
    );
    let tmp = tempfile::tempdir().unwrap();
    // The user's environment asks for LATIN1: the set is UTF-8 all the
    // same.
    succeed(set_backup(&s, &source, tmp.path(), "2").env("PGCLIENTENCODING", "LATIN1"));
    let (set, manifest) = the_set(tmp.path());
    let ranges = manifest["set"]["parts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["pages"].is_array())
        .count();
    assert!(
        ranges >= 2,
        "the large table is cut into ranges: {manifest}"
    );
    let expected = contents_in_utf8(&s, &source);
    assert!(
        expected.contains("réf_größe") && expected.contains("index_ö"),
        "{expected}"
    );

    // Into a database the restore makes (the server's UTF-8).
    let made = unique("latin1");
    succeed(&mut restore(
        &s,
        tmp.path(),
        &set,
        &made,
        &["--create", "--jobs", "2"],
    ));
    assert_eq!(contents_in_utf8(&s, &made), expected);

    // Into an existing, empty LATIN1 database: the same bytes, the same
    // schema.
    let existing = unique("latin1");
    latin1_database(&s, &existing);
    succeed(&mut restore(
        &s,
        tmp.path(),
        &set,
        &existing,
        &["--jobs", "2"],
    ));
    assert_eq!(contents_in_utf8(&s, &existing), expected);
    assert_eq!(schema_in_utf8(&s, &existing), schema_in_utf8(&s, &source));
}

/// `pg_dump --schema-only` of `db` in UTF-8, without its comments and the
/// per-run `\restrict` key lines.
fn schema_in_utf8(s: &Server, db: &str) -> String {
    let mut cmd = Command::new("pg_dump");
    s.env(&mut cmd)
        .args(["--schema-only", "--encoding=UTF8", "-d", db]);
    run_ok(&mut cmd)
        .lines()
        .filter(|l| {
            !l.starts_with("--") && !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict")
        })
        .collect::<Vec<_>>()
        .join("\n")
}
