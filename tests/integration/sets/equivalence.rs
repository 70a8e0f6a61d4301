//! A set restores to exactly what a single-stream backup restores.

use super::*;
use crate::common::pg::{Server, TestDb};

/// With a table cut into ranges, sequences, a large object, a partitioned
/// table, generated columns, a quoted mixed-case table in a schema of its
/// own, foreign keys and indexes: the set restored with `--jobs 3`, with
/// `--jobs 1` and replayed by psql from `--to-stdout`, and the plain backup
/// restored, have the same per-table checksums and schema as the source.
#[test]
fn a_set_restores_what_a_single_stream_backup_restores() {
    let s = Server::shared();
    let source = TestDb::create();
    fill(&s, &source.name, 60_000);
    let tmp = tempfile::tempdir().unwrap();
    let (plain_dir, set_dir) = (tmp.path().join("plain"), tmp.path().join("set"));
    succeed(&mut set_backup(&s, &source.name, &plain_dir, "1"));
    let out = succeed(&mut set_backup(&s, &source.name, &set_dir, "3"));
    assert!(stderr(&out).contains("parts"), "{}", stderr(&out));

    let (set, manifest) = the_set(&set_dir);
    assert_eq!(manifest["kind"], "set");
    let parts = manifest["set"]["parts"].as_array().unwrap();
    let ranges = parts
        .iter()
        .filter(|p| p["table"] == "public.orders" && p["pages"].is_array())
        .count();
    assert!(
        ranges >= 3,
        "orders is cut into at least one range per job: {manifest}"
    );
    for p in parts {
        assert!(set_dir.join(p["object"].as_str().unwrap()).is_file(), "{p}");
    }
    // Rows per table, summed over the parts, are the source's.
    assert_eq!(manifest["dump"]["rows"]["public.orders"], 60_000);
    assert_eq!(
        manifest["dump"]["rows"]["\"Odd Schema\".\"Mixed Case\""],
        3_000
    );
    assert_eq!(manifest["dump"]["rows"]["public.events_low"], 2_500);
    let rows = &manifest["dump"]["rows"];
    assert_eq!(rows[r#""s.p*c"."we*ird$(x) ""q""""#], 30_000, "{rows}");
    assert_eq!(rows[r#""s.p*c"."weXird""#], 1, "{rows}");

    let want = checksums(&s, &source.name);
    let want_schema = schema(&s, &source.name);
    let plain = files_below(&plain_dir)
        .into_iter()
        .find(|f| f.ends_with(".sql.gz"))
        .unwrap();
    let latest = ["--latest", source.name.as_str()];
    for (which, dir, args) in [
        // `--jobs` on one object: restored as one stream, with a warning.
        (
            &[plain.as_str()][..],
            &plain_dir,
            &["--create", "--jobs", "2"][..],
        ),
        (&[set.as_str()], &set_dir, &["--create", "--jobs", "3"]),
        (&[set.as_str()], &set_dir, &["--create", "--jobs", "1"]),
        (&latest, &set_dir, &["--create"]),
    ] {
        let target = unique("setr");
        let mut cmd = dbbr();
        s.env(&mut cmd)
            .env("REMOTE_NAME", local_remote(dir))
            .arg("restore")
            .args(which)
            .args(["--to", &target])
            .args(args);
        let out = succeed(&mut cmd);
        let restored = TestDb { name: target };
        let one_stream = "one object restores as one stream; jobs (2) apply to parallel";
        assert_eq!(
            stderr(&out).contains(one_stream),
            dir == &plain_dir,
            "{args:?}"
        );
        if dir == &set_dir {
            // Tables' indexes and constraints are built as their parts
            // come in: orders, customers, "Mixed Case", the partitions;
            // and the foreign keys between them as both tables are: orders
            // to customers, "Mixed Case" to itself, the oddly named table
            // to "Mixed Case".
            let log = stderr(&out);
            let count = |after: &str| -> usize {
                log.split(after)
                    .nth(1)
                    .and_then(|rest| rest.split(' ').next())
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("{after}: {log}"))
            };
            assert!(count("with the indexes and constraints of ") >= 4, "{log}");
            assert_eq!(count(" tables and "), 3, "{log}");
        }
        assert_eq!(checksums(&s, &restored.name), want, "{which:?} {args:?}");
        assert_eq!(
            schema(&s, &restored.name),
            want_schema,
            "{which:?} {args:?}"
        );
    }

    // One script that psql replays.
    let script = tmp.path().join("set.sql");
    let mut cmd = dbbr();
    s.env(&mut cmd)
        .env("REMOTE_NAME", local_remote(&set_dir))
        .args(["restore", &set, "--to-stdout"]);
    let out = run(&mut cmd);
    assert!(out.status.success(), "{}", stderr(&out));
    std::fs::write(&script, &out.stdout).unwrap();
    let replayed = TestDb::create();
    run_ok(
        s.env(&mut Command::new("psql"))
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-d",
                &replayed.name,
                "-f",
            ])
            .arg(&script),
    );
    assert_eq!(checksums(&s, &replayed.name), want);
    assert_eq!(schema(&s, &replayed.name), want_schema);
}

/// A restore drill of a set restores it in parallel into a scratch
/// database and finds every table's rows, partitions included, as the
/// manifest says; the verdict is recorded and listed.
#[test]
fn a_restore_drill_of_a_set_counts_its_rows() {
    let s = Server::shared();
    let source = TestDb::create();
    fill(&s, &source.name, 20_000);
    let tmp = tempfile::tempdir().unwrap();
    succeed(&mut set_backup(&s, &source.name, tmp.path(), "2"));
    let scratch = unique("drill");
    let mut cmd = dbbr();
    s.env(&mut cmd)
        .env("REMOTE_NAME", local_remote(tmp.path()))
        .args([
            "verify",
            "--latest",
            &source.name,
            "--restore-into",
            &scratch,
        ]);
    let err = stderr(&succeed(&mut cmd));
    assert!(err.contains("row counts as in the manifest"), "{err}");
    assert!(!exists(&s, &scratch), "the scratch database is dropped");
    let mut list = dbbr();
    list.env("REMOTE_NAME", local_remote(tmp.path()))
        .arg("list");
    let listed = run_ok(&mut list);
    assert!(
        listed.contains("restore verified") && listed.contains("(set: "),
        "{listed}"
    );
}
