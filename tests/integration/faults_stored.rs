//! The commands that act on stored backups keep their promises when what
//! is stored is not what it should be: a broken backup never counts or
//! protects itself, an unreadable manifest is never taken for an absent one,
//! only dbbr's own leftovers are cleaned up, kinds come from manifests, and
//! a problem of the environment is never recorded as a verdict on a backup.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use crate::common::pg::*;
use crate::common::*;

/// `dbbr ARGS` against the shared server and the local remote `dir`.
fn dbbr_at(dir: &Path, args: &[&str]) -> Command {
    dbbr_on(&Server::shared(), dir, args)
}

/// [`dbbr_at`] against `server`.
fn dbbr_on(server: &Server, dir: &Path, args: &[&str]) -> Command {
    let mut cmd = dbbr();
    server.env(&mut cmd);
    cmd.env("REMOTE_NAME", local_remote(dir)).args(args);
    cmd
}

/// Backs `db` up into `dir` as `NAME.sql.gz` (name without the suffix).
fn backup_as(dir: &Path, db: &str, name: &str) -> String {
    succeed(
        backup_to(dir)
            .env("BACKUP_DATABASES", db)
            .env("BACKUP_FILE_NAME", name),
    );
    format!("{name}.sql.gz")
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Sets a file's modification time `age` in the past.
fn age_file(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn prune_counts_only_intact_backups_and_leaves_broken_ones() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..4)
        .map(|i| backup_as(tmp.path(), &db.name, &format!("{}-{i}", db.name)))
        .collect();
    // The two newest are broken: one's object is gone, one is cut short.
    std::fs::remove_file(tmp.path().join(&names[3])).unwrap();
    let cut = tmp.path().join(&names[2]);
    let len = std::fs::metadata(&cut).unwrap().len();
    std::fs::File::options()
        .write(true)
        .open(&cut)
        .unwrap()
        .set_len(len / 2)
        .unwrap();

    let out = exits(&mut dbbr_at(tmp.path(), &["prune", "--keep-last", "1"]), 1);
    let text = stdout(&out);
    // The newest intact backup is kept, the older one removed, the broken
    // ones reported and left in place.
    assert!(
        text.contains(&format!("keep         postgresql {}", db.name)),
        "{text}"
    );
    let files = files_below(tmp.path());
    assert!(files.contains(&names[1]), "{files:?}");
    assert!(!files.contains(&names[0]), "{files:?}");
    for broken in &names[2..] {
        assert!(text.contains(&format!("broken       {broken}")), "{text}");
        assert!(
            files.contains(&format!("{broken}.manifest.json")),
            "{files:?}"
        );
    }
    // `dbbr list` says so too (exit 1), and `--latest` takes the intact one.
    let out = exits(&mut dbbr_at(tmp.path(), &["list"]), 1);
    assert!(stdout(&out).contains("BROKEN"), "{}", stdout(&out));
    let copy = unique("pgcopy");
    let _guard = TestDb { name: copy.clone() };
    let out = succeed(&mut dbbr_at(
        tmp.path(),
        &["restore", "--latest", &db.name, "--to", &copy, "--create"],
    ));
    assert!(stderr(&out).contains(&names[1]), "{}", stderr(&out));
}

/// A backup that verification found damaged (a byte flipped: its size is
/// right) is not intact: retention neither counts nor protects it, and
/// `restore --latest` takes the newest one that is.
#[test]
fn a_backup_verification_found_damaged_is_not_counted() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let names: Vec<String> = (0..3)
        .map(|i| backup_as(tmp.path(), &db.name, &format!("{}-{i}", db.name)))
        .collect();
    let damaged = tmp.path().join(&names[2]);
    let mut bytes = std::fs::read(&damaged).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&damaged, bytes).unwrap();
    let out = exits(&mut dbbr_at(tmp.path(), &["verify", &names[2]]), 1);
    assert!(
        tmp.path()
            .join(format!("{}.verified.json", names[2]))
            .exists(),
        "{}",
        stderr(&out)
    );

    let out = exits(&mut dbbr_at(tmp.path(), &["prune", "--keep-last", "1"]), 1);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("broken       {}", names[2])) && text.contains("verification"),
        "{text}"
    );
    let files = files_below(tmp.path());
    assert!(files.contains(&names[2]), "{files:?}");
    assert!(files.contains(&names[1]), "{files:?}");
    assert!(!files.contains(&names[0]), "{files:?}");
    let copy = unique("pgcopy");
    let _guard = TestDb { name: copy.clone() };
    let out = exits(
        &mut dbbr_at(
            tmp.path(),
            &["restore", "--latest", &db.name, "--to", &copy, "--create"],
        ),
        0,
    );
    let err = stderr(&out);
    assert!(
        err.contains(&format!("restoring {}", names[1])) && err.contains("verification failed"),
        "{err}"
    );
}

/// The manifest of a database of many tables (its evidence names each
/// with its rows: 60,000 here, about 2 MiB) is read by every command, as
/// dbbr writes it.
#[test]
fn a_manifest_of_many_tables_is_read() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let object = backup_as(tmp.path(), &db.name, &format!("{}-many", db.name));
    let path = tmp.path().join(format!("{object}.manifest.json"));
    let mut manifest: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let rows = manifest["dump"]["rows"].as_object_mut().unwrap();
    for i in 0..60_000 {
        rows.insert(format!("tenant_{i:05}.orders"), Value::from(i));
    }
    let text = serde_json::to_string_pretty(&manifest).unwrap();
    assert!(text.len() > 2 << 20, "{}", text.len());
    std::fs::write(&path, text).unwrap();
    let out = exits(&mut dbbr_at(tmp.path(), &["list"]), 0);
    assert!(stdout(&out).contains(&object), "{}", stdout(&out));
    exits(
        &mut dbbr_at(tmp.path(), &["verify", "--latest", &db.name, "--quick"]),
        0,
    );
    let out = exits(&mut dbbr_at(tmp.path(), &["prune", "--keep-last", "1"]), 0);
    assert!(stdout(&out).contains("keep"), "{}", stdout(&out));
}

#[test]
fn an_unreadable_manifest_is_a_broken_backup_never_an_absent_one() {
    let db = TestDb::small();
    for (what, damage) in [
        ("bad json", "{ not json".to_string()),
        ("a size out of range", String::new()),
        (
            "too large",
            format!("{{\"padding\": \"{}\"}}", "x".repeat(65 << 20)),
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let old = backup_as(tmp.path(), &db.name, &format!("{}-0", db.name));
        let new = backup_as(tmp.path(), &db.name, &format!("{}-1", db.name));
        let manifest = tmp.path().join(format!("{new}.manifest.json"));
        let text = if damage.is_empty() {
            let mut m: Value =
                serde_json::from_str(&std::fs::read_to_string(&manifest).unwrap()).unwrap();
            m["stored_bytes"] = serde_json::json!(-1);
            m.to_string()
        } else {
            damage
        };
        std::fs::write(&manifest, text).unwrap();
        // Old enough for any leftover rule.
        for f in files_below(tmp.path()) {
            age_file(&tmp.path().join(f), Duration::from_secs(3 * 86400));
        }
        let before = files_below(tmp.path());

        let out = exits(&mut dbbr_at(tmp.path(), &["list"]), 1);
        assert!(
            stdout(&out).contains(&new.to_string()) && stdout(&out).contains("BROKEN"),
            "{what}: {}",
            stdout(&out)
        );
        let err = fail_with(
            &mut dbbr_at(
                tmp.path(),
                &["prune", "--keep-last", "1", "--orphans-older-than", "1d"],
            ),
            1,
        );
        assert!(
            err.contains("nothing was deleted") && err.contains(&format!("{new}.manifest.json")),
            "{what}: {err}"
        );
        assert_eq!(
            files_below(tmp.path()),
            before,
            "{what}: prune deleted something"
        );
        // Which backup is the latest cannot be told.
        let copy = unique("pgcopy");
        let _guard = TestDb { name: copy.clone() };
        let err = fail_with(
            &mut dbbr_at(
                tmp.path(),
                &["restore", "--latest", &db.name, "--to", &copy, "--create"],
            ),
            1,
        );
        assert!(err.contains("could not be read"), "{what}: {err}");
        let err = fail_with(
            &mut dbbr_at(tmp.path(), &["verify", "--latest", &db.name]),
            1,
        );
        assert!(err.contains("could not be read"), "{what}: {err}");
        // By its name, the readable one restores; the unreadable one says why.
        succeed(&mut dbbr_at(
            tmp.path(),
            &["restore", &old, "--to", &copy, "--create"],
        ));
        let err = fail_with(
            &mut dbbr_at(tmp.path(), &["restore", &new, "--to-stdout"]),
            1,
        );
        assert!(err.contains("is broken"), "{what}: {err}");
        // verify --all reports it as damaged.
        let err = fail_with(&mut dbbr_at(tmp.path(), &["verify", "--all", "--quick"]), 1);
        assert!(
            err.contains(&format!("backup {new} failed at manifest")),
            "{what}: {err}"
        );
    }
}

#[test]
fn only_dbbrs_own_leftovers_are_cleaned_up() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let kept = backup_as(dir, &db.name, "app-2026-01-02T03-04-05Z");
    let stale = Duration::from_secs(2 * 86400);
    let leftovers = [
        // A backup whose run was killed before its manifest.
        "app-2026-01-01T00-00-00Z.sql.gz",
        ".app-2026-01-01T00-00-01Z.sql.gz.0a1b2c3d4e5f.partial",
        ".app-2026-01-01T00-00-00Z.sql.gz.manifest.json.a1b2c3d4e5f6.claim",
        // The verification record of a backup that is gone.
        "app-2025-12-01T00-00-00Z.sql.gz.verified.json",
        ".dbbr-check-0123456789abcdef",
    ];
    let foreign = [
        "schema.sql",
        "photos.tar",
        "dump.sql.gz.age",
        ".foo.partial",
        ".bar.claim",
        ".schema.sql.0a1b2c3d4e5f.partial",
        "notes.verified.json",
        "sub/other-tool.sql.gz",
    ];
    for name in leftovers.iter().chain(&foreign) {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, b"x").unwrap();
        age_file(&path, stale);
    }
    // A live run: its claim is fresh, so its old partial is not a leftover.
    let live = ".app-2026-01-03T00-00-00Z.sql.gz.0a1b2c3d4e5f.partial";
    std::fs::write(dir.join(live), b"x").unwrap();
    age_file(&dir.join(live), stale);
    std::fs::write(
        dir.join(".app-2026-01-03T00-00-00Z.sql.gz.ffffffffffff.claim"),
        b"{}",
    )
    .unwrap();
    // Young: may belong to a run still going.
    std::fs::write(dir.join("app-2026-01-04T00-00-00Z.sql.gz"), b"x").unwrap();

    // Shorter than a claim's staleness: refused before any I/O.
    let err = fail_with(
        &mut dbbr_at(
            dir,
            &["prune", "--keep-last", "5", "--orphans-older-than", "1m"],
        ),
        2,
    );
    assert!(err.contains("at least 3m"), "{err}");
    let before = files_below(dir);
    let out = exits(
        &mut dbbr_at(
            dir,
            &["prune", "--keep-last", "5", "--orphans-older-than", "1d"],
        ),
        0,
    );
    let after = files_below(dir);
    let removed: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    let mut expected: Vec<&str> = leftovers.to_vec();
    expected.sort();
    assert_eq!(removed, expected, "{}", stdout(&out));
    for name in foreign.iter().chain([&live, &kept.as_str()]) {
        assert!(after.contains(&name.to_string()), "{name} was removed");
    }
}

#[test]
fn kinds_come_from_manifests_not_names() {
    // A server of its own: the chaos matrix makes databases of these
    // names on the shared one.
    let cluster = Cluster::start();
    let server = &cluster.server;
    // Databases called like the server-wide backups' labels.
    for db in ["all", "globals"] {
        server.create_database(db);
        server.psql(
            db,
            &format!(
                "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, '{db}')"
            ),
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let at = |args: &[&str]| dbbr_on(server, dir, args);
    succeed(
        at(&["backup", "postgresql"])
            .env("BACKUP_DATABASES", "all,globals")
            .env("BACKUP_FILE_NAME", "db-$DB"),
    );
    succeed(
        at(&["backup", "postgresql"])
            .env("BACKUP_DATABASES", "all")
            .env("BACKUP_GLOBALS", "true")
            .env("BACKUP_FILE_NAME", "run2-$DB"),
    );
    let listing: Value =
        serde_json::from_slice(&exits(&mut at(&["list", "--json"]), 0).stdout).unwrap();
    let kinds: Vec<(String, String)> = listing["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            (
                b["manifest"]["kind"].as_str().unwrap().into(),
                b["manifest"]["object"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        kinds.contains(&("database".into(), "db-globals.sql.gz".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("database".into(), "db-all.sql.gz".into())),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&("globals".into(), "run2-globals.sql.gz".into())),
        "{kinds:?}"
    );
    // The database called `globals` restores into a database, from its own
    // backup, not from the globals backup written after it.
    let copy = unique("pgcopy");
    let out = succeed(&mut at(&[
        "restore", "--latest", "globals", "--to", &copy, "--create",
    ]));
    assert!(
        stderr(&out).contains("db-globals.sql.gz"),
        "{}",
        stderr(&out)
    );
    assert_eq!(server.psql(&copy, "SELECT v FROM t"), "globals");
    // The label alone is ambiguous where no destination says the kind.
    let err = fail_with(
        &mut at(&["restore", "--latest", "globals", "--to-stdout"]),
        2,
    );
    assert!(err.contains("several kinds"), "{err}");
    // Prune keeps each kind's group apart: the database `all` has two
    // backups and loses the older; `globals` (a database) and the globals
    // of the server have one each and keep it.
    let before = files_below(dir);
    exits(&mut at(&["prune", "--keep-last", "1"]), 0);
    let after = files_below(dir);
    let removed: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    assert_eq!(
        removed,
        ["db-all.sql.gz", "db-all.sql.gz.manifest.json"],
        "{after:?}"
    );
}

#[test]
fn latest_never_crosses_engines_silently() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    backup_as(dir, &db.name, &format!("{}-pg", db.name));
    // A MariaDB backup of a database of the same name (its manifest says so).
    let pg_manifest =
        std::fs::read_to_string(dir.join(format!("{}-pg.sql.gz.manifest.json", db.name))).unwrap();
    let mut m: Value = serde_json::from_str(&pg_manifest).unwrap();
    m["engine"] = "mariadb".into();
    m["started_at"] = "2099-01-01T00:00:00Z".into();
    std::fs::copy(
        dir.join(format!("{}-pg.sql.gz", db.name)),
        dir.join("my.sql.gz"),
    )
    .unwrap();
    std::fs::write(dir.join("my.sql.gz.manifest.json"), m.to_string()).unwrap();
    let copy = unique("pgcopy");
    let _guard = TestDb { name: copy.clone() };
    let err = fail_with(
        &mut dbbr_at(
            dir,
            &["restore", "--latest", &db.name, "--to", &copy, "--create"],
        ),
        2,
    );
    assert!(
        err.contains("several engines") && err.contains("mariadb") && err.contains("postgresql"),
        "{err}"
    );
    succeed(&mut dbbr_at(
        dir,
        &[
            "restore",
            "--latest",
            &db.name,
            "--engine",
            "postgresql",
            "--to",
            &copy,
            "--create",
        ],
    ));
    assert_eq!(Server::shared().checksums(&copy), db.checksums());
}

#[test]
fn restore_settings_are_checked_before_any_io() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    for args in [
        &["restore", "--latest", "app", "--to", ""][..],
        &["restore", "--latest", "", "--to", "x"],
        &[
            "restore",
            "--latest",
            "app",
            "--to",
            "x",
            "--",
            "--dbname=other",
        ],
        // The clients take abbreviations of long options.
        &[
            "restore",
            "--latest",
            "app",
            "--to",
            "x",
            "--",
            "--dbn=other",
        ],
        &["restore", "--latest", "app", "--to", "x", "--", "other"],
        &[
            "restore", "--latest", "app", "--to", "x", "--", "-U", "u", "other",
        ],
        &[
            "restore",
            "--latest",
            "app",
            "--to",
            "x",
            "--engine",
            "postgresql",
            "--",
            "-d",
            "other",
        ],
        &[
            "restore", "--latest", "app", "--to", "x", "--engine", "mariadb", "--", "-D", "other",
        ],
        &[
            "restore",
            "app.sql.gz",
            "--before",
            "2026-01-01",
            "--to",
            "x",
        ],
    ] {
        let out = exits(
            dbbr()
                .env("PATH", &path)
                .env("REMOTE_NAME", ":local:/nonexistent/dbbr-remote")
                .args(args),
            2,
        );
        assert!(
            !stderr(&out).contains("no intact"),
            "{args:?}: storage was read: {}",
            stderr(&out)
        );
        assert!(!marker.exists(), "{args:?}: a database tool ran");
    }
    // Options that mean something else to each engine's client are checked
    // once the backup says its engine, before any database is touched.
    let db = TestDb::small();
    let remote = tmp.path().join("remote");
    backup_as(&remote, &db.name, "x");
    for extra in [
        &["-d", "other"][..],
        &["-f", "/tmp/x.sql"],
        &["-1"],
        &["--fil=/tmp/x.sql"],
    ] {
        let err = fail_with(
            dbbr()
                .env("PATH", &path)
                .env("REMOTE_NAME", local_remote(&remote))
                .args(["restore", "--latest", &db.name, "--to", "x", "--"])
                .args(extra),
            2,
        );
        assert!(err.contains("redirect"), "{extra:?}: {err}");
        assert!(!marker.exists(), "{extra:?}: a database tool ran");
    }
}

#[test]
fn verify_records_verdicts_about_the_backup_only() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let keys = tempfile::tempdir().unwrap();
    let (key, recipient) = age_key(keys.path());
    std::fs::create_dir(keys.path().join("other")).unwrap();
    let (other, _) = age_key(&keys.path().join("other"));
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", "v")
            .env("ENCRYPT_RECIPIENTS", &recipient),
    );
    let record = tmp.path().join("v.sql.gz.age.verified.json");
    succeed(dbbr_at(tmp.path(), &["verify", "v.sql.gz.age"]).env("ENCRYPT_IDENTITY_FILE", &key));
    let good = std::fs::read_to_string(&record).unwrap();
    assert!(good.contains("\"ok\": true"), "{good}");
    // A wrong identity is the environment's problem: exit 2, no verdict.
    let err = fail_with(
        dbbr_at(tmp.path(), &["verify", "v.sql.gz.age"]).env("ENCRYPT_IDENTITY_FILE", &other),
        2,
    );
    assert!(
        err.contains("is intact") && err.contains(&recipient),
        "{err}"
    );
    assert_eq!(std::fs::read_to_string(&record).unwrap(), good);
    // A scratch database that exists: exit 2, no verdict.
    let err = fail_with(
        dbbr_at(
            tmp.path(),
            &["verify", "v.sql.gz.age", "--restore-into", &db.name],
        )
        .env("ENCRYPT_IDENTITY_FILE", &key),
        2,
    );
    assert!(err.contains("exists"), "{err}");
    assert_eq!(std::fs::read_to_string(&record).unwrap(), good);
    // An unreachable database: exit 1, no verdict.
    let err = fail_with(
        dbbr_at(
            tmp.path(),
            &["verify", "v.sql.gz.age", "--restore-into", "scratch_x"],
        )
        .env("ENCRYPT_IDENTITY_FILE", &key)
        .env("PGPORT", "1"),
        1,
    );
    assert!(!err.contains("FAILED"), "{err}");
    assert_eq!(std::fs::read_to_string(&record).unwrap(), good);
    // Damage is a verdict, and recorded.
    let object = tmp.path().join("v.sql.gz.age");
    let mut bytes = std::fs::read(&object).unwrap();
    let at = bytes.len() / 2;
    bytes[at] ^= 1;
    std::fs::write(&object, bytes).unwrap();
    let err = fail_with(
        dbbr_at(tmp.path(), &["verify", "v.sql.gz.age"]).env("ENCRYPT_IDENTITY_FILE", &key),
        1,
    );
    // The verdict names the backup and the stage, never a restore.
    assert!(
        err.contains("backup v.sql.gz.age failed at integrity"),
        "{err}"
    );
    assert!(!err.contains("restore of"), "{err}");
    assert!(std::fs::read_to_string(&record)
        .unwrap()
        .contains("\"ok\": false"));
}

/// Whether `line` reads (GETs) the manifest of an object whose name holds
/// `marker`.
fn manifest_get(line: &str, marker: &str) -> bool {
    line.starts_with("GET ") && line.contains(marker) && line.contains(".manifest.json")
}

#[test]
fn a_failed_manifest_read_on_s3_is_retried_or_stops_every_command() {
    let db = TestDb::small();
    let proxy = Proxy::start(&s3c_address());
    let bucket = unique("unread");
    let remote = s3c_remote_at(&proxy.url(), &bucket);
    // One attempt per request at rclone's level: dbbr's own tries are
    // what is under test.
    let at = |args: &[&str]| {
        let mut cmd = dbbr();
        Server::shared().env(&mut cmd);
        cmd.env("REMOTE_NAME", &remote)
            .env("RCLONE_LOW_LEVEL_RETRIES", "1")
            .env("RCLONE_RETRIES", "1")
            .args(args);
        cmd
    };
    for name in ["old", "new"] {
        succeed(
            backup_cmd()
                .env("REMOTE_NAME", &remote)
                .env("BACKUP_DATABASES", &db.name)
                .env("BACKUP_FILE_NAME", name),
        );
    }
    // One 500 on the newest manifest: the read is tried again.
    let mut once = true;
    proxy.set(move |line| {
        if manifest_get(line, "/new.") && std::mem::take(&mut once) {
            Fault::Status(500)
        } else {
            Fault::Pass
        }
    });
    let out = exits(&mut at(&["list"]), 0);
    assert!(stdout(&out).contains("new.sql.gz"), "{}", stdout(&out));
    // Every read of it fails: nothing acts as if it were absent.
    proxy.set(|line| {
        if manifest_get(line, "/new.") {
            Fault::Status(500)
        } else {
            Fault::Pass
        }
    });
    let out = exits(&mut at(&["list"]), 1);
    assert!(
        stdout(&out).contains("manifest could not be read"),
        "{}",
        stdout(&out)
    );
    let copy = unique("pgcopy");
    let _guard = TestDb { name: copy.clone() };
    for args in [
        &["restore", "--latest", &db.name, "--to", &copy, "--create"][..],
        &["verify", "--latest", &db.name],
        &["verify", "--all"],
        &["prune", "--keep-last", "1", "--orphans-older-than", "1d"],
    ] {
        let err = fail_with(&mut at(args), 1);
        assert!(err.contains("new.sql.gz.manifest.json"), "{args:?}: {err}");
    }
    assert!(!Server::shared()
        .psql("postgres", "SELECT datname FROM pg_database")
        .contains(&copy));
    let left = files_below(&s3c_bucket_dir(&bucket));
    for object in [
        "old.sql.gz",
        "old.sql.gz.manifest.json",
        "new.sql.gz",
        "new.sql.gz.manifest.json",
    ] {
        assert!(
            left.contains(&object.to_string()),
            "{object} was deleted: {left:?}"
        );
    }
}

#[test]
fn leftovers_are_never_removed_through_a_symbolic_link() {
    let tmp = tempfile::tempdir().unwrap();
    let outside = tempfile::tempdir().unwrap();
    let victim = outside.path().join("app-2026-01-01T00-00-00Z.sql.gz");
    std::fs::write(&victim, b"not dbbr's").unwrap();
    age_file(&victim, Duration::from_secs(2 * 86400));
    std::os::unix::fs::symlink(outside.path(), tmp.path().join("linked")).unwrap();
    // A listing that follows links shows the file below the prefix, named
    // as the backups are.
    let err = fail_with(
        dbbr()
            .env("REMOTE_NAME", local_remote(tmp.path()))
            .env("RCLONE_LOCAL_COPY_LINKS", "true")
            .env("BACKUP_FILE_NAME", "linked/${DB}-%Y-%m-%dT%H-%M-%SZ")
            .args(["prune", "--keep-last", "1", "--orphans-older-than", "1d"]),
        1,
    );
    assert!(err.contains("symbolic link"), "{err}");
    assert!(
        victim.exists(),
        "a file outside the prefix was deleted: {err}"
    );
}

mod postgres {
    use super::*;

    #[test]
    fn connection_options_after_dashes_reach_every_connection() {
        let server = Server::shared();
        let db = TestDb::small();
        let tmp = tempfile::tempdir().unwrap();
        backup_as(tmp.path(), &db.name, &format!("{}-x", db.name));
        let user = unique("bk");
        // A member of the role the dump's objects are owned by.
        server.psql(
            "postgres",
            &format!(
                "CREATE ROLE \"{user}\" LOGIN CREATEDB PASSWORD 'bk-Pw-5521'; GRANT \"{}\" TO \"{user}\"",
                server.user
            ),
        );
        let copy = unique("pgcopy");
        let _guard = TestDb { name: copy.clone() };
        // No PG* connection settings: everything comes from the arguments.
        let mut cmd = dbbr();
        cmd.env("REMOTE_NAME", local_remote(tmp.path()))
            .env("PGPASSWORD", "bk-Pw-5521")
            .env("PGHOST", "/nonexistent")
            .env("PGUSER", "nobody")
            .env("PGPASSFILE", "/nonexistent/pgpass")
            .args([
                "restore", "--latest", &db.name, "--to", &copy, "--create", "--",
            ])
            .args(["-h", &server.host, "-p", &server.port, "-U", &user]);
        succeed(&mut cmd);
        assert_eq!(server.checksums(&copy), db.checksums());
        server.psql(
            "postgres",
            &format!("DROP DATABASE \"{copy}\" WITH (FORCE); DROP ROLE \"{user}\""),
        );
    }
}

mod mariadb {
    use crate::common::mariadb::*;
    use crate::common::*;

    #[test]
    fn connection_options_after_dashes_reach_every_connection() {
        let server = Server::shared();
        let db = TestDb::tables_only();
        let tmp = tempfile::tempdir().unwrap();
        succeed(over_tcp(&mut backup_to(tmp.path())).env("BACKUP_DATABASES", &db.name));
        let user = unique("bk");
        server.sql(&format!(
            "CREATE USER '{user}'@'127.0.0.1' IDENTIFIED BY 'bk-Pw-6631'; \
             GRANT ALL PRIVILEGES ON *.* TO '{user}'@'127.0.0.1';"
        ));
        let copy = unique("mycopy");
        let _guard = TestDb { name: copy.clone() };
        let mut cmd = dbbr();
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
        cmd.env("REMOTE_NAME", local_remote(tmp.path()))
            .env("MYSQL_PWD", "bk-Pw-6631")
            .args([
                "restore", "--latest", &db.name, "--to", &copy, "--create", "--",
            ])
            .args([
                "--no-defaults",
                &format!("--user={user}"),
                "--host=127.0.0.1",
            ])
            .arg(format!("--port={}", setting("DBBR_TEST_MYSQL_PORT")));
        succeed(&mut cmd);
        assert_eq!(server.checksums(&copy), server.checksums(&db.name));
        server.sql(&format!("DROP USER '{user}'@'127.0.0.1';"));
    }
}
