use super::*;

/// A pg_dump of a database with large objects (which pg_dump wraps in
/// `BEGIN;` / `COMMIT;`), a procedure whose body commits, a `BEGIN ATOMIC`
/// function, and data and comments that hold `COMMIT;`.
const TRICKY: &str = include_str!("../testdata/pg_tricky.sql");

fn run(script: &str) -> io::Result<String> {
    run_split(script, &[])
}

/// Writes `script` in pieces cut at `cuts`, then commits.
fn run_split(script: &str, cuts: &[usize]) -> io::Result<String> {
    let mut tx = PgTransaction::begin(Vec::new())?;
    let mut at = 0;
    for &cut in cuts.iter().chain([&script.len()]) {
        tx.write_all(&script.as_bytes()[at..cut])?;
        at = cut;
    }
    let out = tx.commit()?;
    Ok(String::from_utf8(out).unwrap())
}

fn body(out: &str) -> &str {
    out.strip_prefix(std::str::from_utf8(START).unwrap())
        .and_then(|o| o.strip_suffix(std::str::from_utf8(END).unwrap()))
        .expect("wrapped in the restore's own transaction")
}

#[test]
fn pg_dumps_transaction_statements_are_left_out_and_nothing_else() {
    let out = run(TRICKY).unwrap();
    let expected = TRICKY
        .replacen(
            "\nBEGIN;\n",
            &format!("\n{}\n", std::str::from_utf8(LEFT_OUT).unwrap()),
            1,
        )
        .replacen(
            "\nCOMMIT;\n\n--\n-- Name: notes notes_pkey",
            &format!(
                "\n{}\n\n--\n-- Name: notes notes_pkey",
                std::str::from_utf8(LEFT_OUT).unwrap()
            ),
            1,
        );
    assert_ne!(
        expected, TRICKY,
        "the fixture has its large objects' BEGIN and COMMIT"
    );
    assert_eq!(body(&out), expected);
    // The procedure's COMMIT, the BEGIN ATOMIC body's END, the data rows and
    // the comment are all still there.
    for kept in [
        "\nCOMMIT;\nEND\n$$;",
        "END AS b;\nEND;",
        "1\tit's; COMMIT; here",
        "IS 'COMMIT;\nROLLBACK;';",
    ] {
        assert!(body(&out).contains(kept), "{kept:?} was changed");
    }
}

#[test]
fn any_split_gives_the_same_script() {
    let whole = run(TRICKY).unwrap();
    for cut in 0..=TRICKY.len() {
        if !TRICKY.is_char_boundary(cut) {
            continue;
        }
        assert_eq!(run_split(TRICKY, &[cut]).unwrap(), whole, "cut at {cut}");
    }
    let bytes: Vec<usize> = (1..TRICKY.len())
        .filter(|&i| TRICKY.is_char_boundary(i))
        .collect();
    assert_eq!(
        run_split(TRICKY, &bytes).unwrap(),
        whole,
        "one byte at a time"
    );
}

#[test]
fn transaction_statements_of_every_spelling() {
    for left_out in [
        "BEGIN;",
        "begin ;",
        "BEGIN WORK;",
        "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE;",
        "START TRANSACTION;",
        "COMMIT;",
        "commit work;",
        "END;",
        "END TRANSACTION;",
        "COMMIT AND NO CHAIN;",
        "BEGIN /* a comment */ ;",
        "BEGIN\n-- a comment\n;",
    ] {
        let out = run(&format!("SELECT 1;\n{left_out}\nSELECT 2;\n")).unwrap();
        assert_eq!(
            body(&out),
            format!(
                "SELECT 1;\n{}\nSELECT 2;\n",
                std::str::from_utf8(LEFT_OUT).unwrap()
            ),
            "{left_out}"
        );
    }
    for refused in [
        "ROLLBACK;",
        "ABORT;",
        "rollback work;",
        "COMMIT AND CHAIN;",
        "COMMIT PREPARED 'x';",
        "ROLLBACK PREPARED 'x';",
    ] {
        let err = run(&format!("SELECT 1;\n{refused}\n")).unwrap_err();
        assert!(
            err.to_string().contains("ends its own transaction"),
            "{refused}: {err}"
        );
    }
    for kept in [
        "ROLLBACK TO SAVEPOINT a;",
        "ROLLBACK TO a;",
        "SAVEPOINT a;",
        "START;",
        "SELECT 'BEGIN;';",
        "SELECT $$COMMIT;$$;",
        "SELECT $t$ $$ COMMIT; $$ $t$;",
        "SELECT \"COMMIT\" FROM t;",
        "-- COMMIT;\nSELECT 1;",
        "/* COMMIT; /* nested */ COMMIT; */ SELECT 1;",
        "SELECT E'\\'; COMMIT; ';",
        "SELECT 'a'';COMMIT;';",
        "SELECT $1, a$b FROM t;",
        "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC SELECT 1; END;",
        "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN true THEN 1 END; END;",
        "\\connect app\nSELECT 1;",
    ] {
        let out = run(&format!("{kept}\n")).unwrap();
        assert_eq!(body(&out), format!("{kept}\n"), "{kept}");
    }
}

#[test]
fn copy_data_is_passed_as_it_is() {
    let script = "COPY t (a) FROM stdin;\nCOMMIT;\n\\\\.\nBEGIN;\n\\.\nCOMMIT;\n";
    let out = run(script).unwrap();
    assert_eq!(
        body(&out),
        format!(
            "COPY t (a) FROM stdin;\nCOMMIT;\n\\\\.\nBEGIN;\n\\.\n{}\n",
            std::str::from_utf8(LEFT_OUT).unwrap()
        )
    );
    // CRLF line ends too.
    let out = run("copy t from STDIN ;\r\nx\r\n\\.\r\nCOMMIT;\r\n").unwrap();
    assert!(
        body(&out).starts_with("copy t from STDIN ;\r\nx\r\n\\.\r\n-- dbbr"),
        "{out}"
    );
}

#[test]
fn settings_that_change_the_reading() {
    // Without standard conforming strings a backslash escapes a quote.
    let script = "SET standard_conforming_strings = off;\nSELECT 'a\\'; COMMIT; ';\nCOMMIT;\n";
    let out = run(script).unwrap();
    assert!(body(&out).contains("SELECT 'a\\'; COMMIT; ';"), "{out}");
    assert!(!body(&out).ends_with("COMMIT;\n"), "{out}");
    let err = run("SET client_encoding = 'SJIS';\nSELECT 1;\n").unwrap_err();
    assert!(err.to_string().contains("SJIS"), "{err}");
    run("SET client_encoding = 'UTF8';\n").unwrap();
}

#[test]
fn an_incomplete_script_is_never_committed() {
    for cut in [
        "COPY t (a) FROM stdin;\n1\n",
        "SELECT 'unterminated",
        "SELECT 1",
        "CREATE FUNCTION f() RETURNS int AS $$ SELECT 1",
        "/* open comment",
    ] {
        let mut tx = PgTransaction::begin(Vec::new()).unwrap();
        tx.write_all(cut.as_bytes()).unwrap();
        let err = tx.commit().unwrap_err();
        assert!(err.to_string().contains("incomplete"), "{cut}: {err}");
    }
}
