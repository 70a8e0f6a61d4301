//! Tests on real pg_dump, pg_dumpall and mariadb-dump output (testdata/,
//! made from small databases with awkward data) and on hand-written
//! snippets, each fed whole and cut at every byte position.

use super::*;

fn inspect_chunks<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Evidence {
    let mut inspector = DumpInspector::new();
    for chunk in chunks {
        inspector.update(chunk);
    }
    inspector.finish()
}

fn inspect(dump: &[u8]) -> Evidence {
    inspect_chunks([dump])
}

/// A fixed pseudo-random sequence (linear congruential), so failures reproduce.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, bound: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % bound as u64) as usize
    }
}

/// Inspects `dump` whole, then cut in two at every byte position (at 2000
/// random ones for large inputs), then in many small pieces; every way must
/// give the same evidence. Returns it.
fn inspect_every_way(dump: &[u8]) -> Evidence {
    let whole = inspect(dump);
    let mut random = Lcg(dump.len() as u64);
    let cuts: Vec<usize> = if dump.len() <= 6000 {
        (0..=dump.len()).collect()
    } else {
        (0..2000).map(|_| random.below(dump.len() + 1)).collect()
    };
    for cut in cuts {
        let (a, b) = dump.split_at(cut);
        assert_eq!(inspect_chunks([a, b]), whole, "cut at byte {cut}");
    }
    for max in [1, 2, 3, 7, 64] {
        let mut pieces = Vec::new();
        let mut rest = dump;
        while !rest.is_empty() {
            let (piece, tail) = rest.split_at((1 + random.below(max)).min(rest.len()));
            pieces.push(piece);
            rest = tail;
        }
        assert_eq!(
            inspect_chunks(pieces),
            whole,
            "pieces of at most {max} bytes"
        );
    }
    whole
}

fn rows(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

/// The dump up to (not including) the last line starting with `line`.
fn cut_before<'a>(dump: &'a [u8], line: &str) -> &'a [u8] {
    let needle = format!("\n{line}");
    let at = memchr::memmem::rfind(dump, needle.as_bytes()).expect("line in dump");
    &dump[..at + 1]
}

const PG_PLAIN: &[u8] = include_bytes!("testdata/pg_plain.sql");
const PG_INSERTS: &[u8] = include_bytes!("testdata/pg_inserts.sql");
const PG_COLUMN_INSERTS: &[u8] = include_bytes!("testdata/pg_column_inserts.sql");
const PG_ALL: &[u8] = include_bytes!("testdata/pg_all.sql");
const PG_CUSTOM: &[u8] = include_bytes!("testdata/pg_custom.dump");
const MARIADB_DATABASES: &[u8] = include_bytes!("testdata/maria_shop.sql");
const MARIADB_SINGLE_ROWS: &[u8] = include_bytes!("testdata/maria_single.sql");
const MARIADB_REPLACE: &[u8] = include_bytes!("testdata/maria_replace.sql");

/// Rows of the PostgreSQL test database `app` (see testdata/): `notes` holds
/// a row reading `-- PostgreSQL database dump complete`, rows `\.`, an empty
/// row, a row `COPY x FROM stdin;`, a newline and quotes; `t` holds `\.`,
/// tabs, newlines, backslashes and `),( ;`.
fn pg_rows() -> BTreeMap<String, u64> {
    rows(&[
        ("\"Sch\".empty", 0),
        ("public.\"My Table\"", 5),
        ("public.notes", 7),
        ("public.t", 9),
    ])
}

#[test]
fn pg_dump_plain() {
    let evidence = inspect_every_way(PG_PLAIN);
    assert_eq!(evidence.format, DumpFormat::Plain);
    assert_eq!(evidence.raw_bytes, PG_PLAIN.len() as u64);
    assert_eq!(evidence.completion_line, Some(true));
    assert_eq!(evidence.completion, Some(Completion::Postgresql));
    // The function body's `INSERT INTO t` is not data.
    assert_eq!(evidence.rows, pg_rows());
}

#[test]
fn pg_dump_inserts() {
    let mut expected = pg_rows();
    expected.remove("\"Sch\".empty"); // no rows, no insert
    for dump in [PG_INSERTS, PG_COLUMN_INSERTS] {
        let evidence = inspect_every_way(dump);
        assert_eq!(evidence.completion_line, Some(true));
        assert_eq!(evidence.rows, expected);
    }
}

#[test]
fn pg_dumpall_is_complete_only_at_its_cluster_line() {
    let evidence = inspect_every_way(PG_ALL);
    assert_eq!(evidence.completion_line, Some(true));
    assert_eq!(evidence.completion, Some(Completion::PostgresqlCluster));
    assert_eq!(evidence.rows, pg_rows());

    // Cut after the databases' own completion lines: not complete.
    let cut = cut_before(PG_ALL, "-- PostgreSQL database cluster dump complete");
    let evidence = inspect(cut);
    assert_eq!(evidence.completion_line, Some(false));
    assert_eq!(evidence.completion, Some(Completion::Postgresql));
    assert_eq!(evidence.rows, pg_rows());
}

#[test]
fn a_dump_without_its_completion_line() {
    let cut = cut_before(PG_PLAIN, "-- PostgreSQL database dump complete");
    let evidence = inspect_every_way(cut);
    assert_eq!(evidence.completion_line, Some(false));
    assert_eq!(evidence.completion, None);
    assert_eq!(evidence.rows, pg_rows());

    let cut = cut_before(MARIADB_DATABASES, "-- Dump completed on ");
    let evidence = inspect(cut);
    assert_eq!(
        (evidence.completion_line, evidence.completion),
        (Some(false), None)
    );

    // Cut in the middle of the data: the rows so far.
    let cut = cut_before(PG_PLAIN, "3\ttab");
    let evidence = inspect_every_way(cut);
    assert_eq!(evidence.completion_line, Some(false));
    assert_eq!(evidence.rows["public.t"], 2);
}

#[test]
fn pg_dump_custom_and_tar_archives() {
    let evidence = inspect_every_way(PG_CUSTOM);
    assert_eq!(evidence.format, DumpFormat::Custom);
    assert_eq!(evidence.raw_bytes, PG_CUSTOM.len() as u64);
    assert_eq!(evidence.completion_line, None);
    assert!(evidence.rows.is_empty());

    // A tar archive starts with a ustar header: the name of its first
    // member, then the magic at offset 257.
    let mut tar = vec![0u8; 1536];
    tar[..7].copy_from_slice(b"toc.dat");
    tar[257..263].copy_from_slice(b"ustar\0");
    tar[512..].fill(b'x');
    let evidence = inspect_every_way(&tar);
    assert_eq!(evidence.format, DumpFormat::Tar);
    assert_eq!(evidence.completion_line, None);

    // Too short to be an archive.
    assert_eq!(inspect(b"PGD").format, DumpFormat::Plain);
    assert_eq!(inspect(b"").format, DumpFormat::Plain);
    assert_eq!(inspect(b"").completion_line, Some(false));
}

#[test]
fn mariadb_dump_databases_keys_tables_by_database() {
    let evidence = inspect_every_way(MARIADB_DATABASES);
    assert_eq!(evidence.format, DumpFormat::Plain);
    assert_eq!(evidence.completion_line, Some(true));
    assert_eq!(evidence.completion, Some(Completion::Mariadb));
    // `log` is only inserted into by a trigger and a procedure: no data.
    assert_eq!(
        evidence.rows,
        rows(&[
            ("other.t", 3),
            ("shop.big", 300),
            ("shop.t", 7),
            ("shop.we`ird", 2),
        ])
    );
}

#[test]
fn mariadb_dump_single_row_ignore_and_replace_inserts() {
    // --skip-extended-insert --insert-ignore --complete-insert
    let evidence = inspect_every_way(MARIADB_SINGLE_ROWS);
    assert_eq!(evidence.rows, rows(&[("t", 7), ("we`ird", 2)]));
    assert_eq!(evidence.completion_line, Some(true));
    // --replace --skip-dump-date: the completion line has no date.
    let evidence = inspect_every_way(MARIADB_REPLACE);
    assert_eq!(evidence.rows, rows(&[("t", 7)]));
    assert_eq!(evidence.completion_line, Some(true));
}

#[test]
fn tricky_copy_data() {
    let dump = concat!(
        "--\n-- PostgreSQL database dump\n--\n\n",
        "COPY public.\"My \"\"Table\"\"\" (id, \"a b\") FROM stdin;\n",
        "1\t\\\\.\n",     // the data `\.`, escaped
        "2\ta\\tb\\nc\n", // tab and newline escapes
        "3\t\\\\\n",      // a lone backslash
        "\\\\.\n",        // a line starting with an escaped `\.`
        "\n",             // an empty row
        "4\t-- Dump completed on 2026-01-01\n",
        "\\.\n",
        "-- Dump completed on 2026-01-01 00:00:00\n",
        "COPY public.t FROM stdin;\n", // no column list
        "\\.\n",
        "COPY public.t (a) FROM stdin;\n",
        "x\n",
        "\\.\n",
        "COPY public.t (a) TO stdout;\n", // not a data block
        "y\n",
        "--\n-- PostgreSQL database dump complete\n--\n",
    );
    let evidence = inspect_every_way(dump.as_bytes());
    assert_eq!(
        evidence.rows,
        rows(&[("public.\"My \"\"Table\"\"\"", 6), ("public.t", 1)])
    );
    // The data row reading like MariaDB's completion line did not count;
    // the real line after the block did, and the last one seen wins.
    assert_eq!(evidence.completion, Some(Completion::Postgresql));
    assert_eq!(evidence.completion_line, Some(true));
}

#[test]
fn tricky_insert_data() {
    let dump = concat!(
        "-- MariaDB dump 10.19\n",
        "INSERT INTO `a` VALUES (1,'it''s ),( ; \\'q\\''),(2,\"dq \\\" );\"),(3,'back\\\\'),(4,'\\\\');\n",
        "INSERT INTO `a` VALUES (5,'multi\nline );\n-- Dump completed on 2020\n'),(6,NULL);\n",
        "INSERT  IGNORE INTO `b` (`x`, `y(`) VALUES (1,2);\n",
        "REPLACE INTO `db2`.`c` VALUES (1),(2);\n",
        "USE `d``b`;\n",
        "INSERT INTO `e` VALUES\n(1,'x'),\n(2,'y');\n",
        "INSERT INTO `e` VALUES (3,'z');\n",
        "DELIMITER ;;\n",
        "INSERT INTO `e` VALUES (99) */;;\n",
        "DELIMITER ;\n",
        "-- Dump completed on 2026-01-01 00:00:00\n",
    );
    let evidence = inspect_every_way(dump.as_bytes());
    assert_eq!(
        evidence.rows,
        rows(&[("a", 6), ("b", 1), ("db2.c", 2), ("d`b.e", 3)])
    );
    assert_eq!(evidence.completion_line, Some(true));
    assert_eq!(evidence.completion, Some(Completion::Mariadb));
}

#[test]
fn postgres_strings_follow_standard_conforming_strings() {
    // With standard_conforming_strings on, 'a\' is the string `a\`; with it
    // off the backslash escapes the quote.
    let insert = "INSERT INTO public.t VALUES (1, 'a\\'), (2, 'b');\n";
    let on = format!("SET standard_conforming_strings = on;\n{insert}");
    assert_eq!(inspect_every_way(on.as_bytes()).rows["public.t"], 2);
    // Off, `'a\'), (2, '` is one string and `');` ends the statement.
    let off = format!("SET standard_conforming_strings = off;\n{insert}');\n");
    assert_eq!(inspect_every_way(off.as_bytes()).rows["public.t"], 1);
}

#[test]
fn long_lines() {
    // A COPY line with a column list longer than the kept start of a line,
    // a data row of a megabyte, and an insert statement of a megabyte.
    let columns: Vec<String> = (0..2000).map(|i| format!("column_number_{i}")).collect();
    let mut dump = format!("COPY public.wide ({}) FROM stdin;\n", columns.join(", "));
    dump.push_str(&"x".repeat(1 << 20));
    dump.push_str("\n\\.\nINSERT INTO `t` VALUES ");
    let tuples: Vec<String> = (0..50_000)
        .map(|i| format!("({i},'-- Dump completed')"))
        .collect();
    dump.push_str(&tuples.join(","));
    dump.push_str(";\n");
    let evidence = inspect(dump.as_bytes());
    assert_eq!(evidence.rows, rows(&[("public.wide", 1), ("t", 50_000)]));
    assert_eq!(evidence.completion_line, Some(false));
    let halves = dump.as_bytes().split_at(dump.len() / 3);
    assert_eq!(inspect_chunks([halves.0, halves.1]), evidence);
}

#[test]
fn evidence_as_json() {
    let evidence = inspect(PG_PLAIN);
    let json = serde_json::to_value(&evidence).unwrap();
    assert_eq!(json["format"], "plain");
    assert_eq!(json["completion_line"], true);
    assert_eq!(json["completion"], "postgresql");
    assert_eq!(json["rows"]["public.t"], 9);
    assert_eq!(json["raw_bytes"], PG_PLAIN.len());
    let back: Evidence = serde_json::from_value(json).unwrap();
    assert_eq!(back, evidence);

    let archive = serde_json::to_value(inspect(PG_CUSTOM)).unwrap();
    assert_eq!(archive["format"], "custom");
    assert!(archive["completion_line"].is_null());
    assert!(archive.get("completion").is_none());
}

use proptest::strategy::Strategy as _;

/// Pieces of dumps of every kind, to build inputs that reach deep into the
/// scanner's states, mixed with arbitrary bytes.
const PIECES: &[&str] = &[
    "COPY public.t (a, b) FROM stdin;\n",
    "COPY \"odd \"\"name\"\" FROM stdin;\n",
    "\\.\n",
    "1\tx\n",
    "\\N\t\\\\\n",
    "INSERT INTO `t` VALUES (1,'a'),(2,'b\\'c');\n",
    "INSERT IGNORE INTO t VALUES ((1),\"(\");\n",
    "REPLACE INTO `db`.`t` VALUES (",
    "INSERT INTO public.t VALUES (E'\\'', $$x$$);\n",
    "CREATE FUNCTION f() RETURNS int AS $body$ INSERT INTO t VALUES (1); $body$;\n",
    "USE `db`;\n",
    "DELIMITER ;;\n",
    "DELIMITER ;\n",
    "SET standard_conforming_strings = off;\n",
    "-- Data for Name: t; Type: TABLE DATA\n",
    "-- PostgreSQL database dump complete\n",
    "-- PostgreSQL database cluster dump complete\n",
    "-- Dump completed on 2026-01-01\n",
    "-- PostgreSQL database cluster dump\n",
    "PGDMP",
    "'",
    "\"",
    "`",
    "\\",
    "(",
    ")",
    ",",
    ";",
    "\n",
    "\r\n",
    "/*",
    "*/",
    "--",
    "#",
];

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

    /// Arbitrary bytes, and dump pieces mixed with them, cut anywhere:
    /// never a panic, and the same evidence however the input is cut.
    #[test]
    fn any_bytes_in_any_chunks(
        parts in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::sample::select(PIECES).prop_map(|p| p.as_bytes().to_vec()),
                proptest::collection::vec(proptest::num::u8::ANY, 0..40),
            ],
            0..40,
        ),
        cuts in proptest::collection::vec(0usize..4096, 0..8),
    ) {
        let dump: Vec<u8> = parts.concat();
        let whole = inspect(&dump);
        let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c % (dump.len() + 1)).collect();
        cuts.sort_unstable();
        let mut chunks = Vec::new();
        let mut at = 0;
        for cut in cuts {
            chunks.push(&dump[at..cut]);
            at = cut;
        }
        chunks.push(&dump[at..]);
        proptest::prop_assert_eq!(inspect_chunks(chunks), whole);
        let _ = inspect_chunks(dump.chunks(1));
    }
}
