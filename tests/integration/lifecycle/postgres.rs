//! The lifecycle against the real PostgreSQL server, from storage alone:
//! backup -> list -> restore / verify -> prune, and each kind of damage.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::common::pg::*;
use crate::common::*;

/// `dbbr SUBCOMMAND` against the shared server and the local remote `dir`.
fn dbbr_at(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = dbbr();
    Server::shared().env(&mut cmd);
    cmd.env("REMOTE_NAME", local_remote(dir)).args(args);
    cmd
}

/// `dbbr list --json --all` as JSON.
fn listing(dir: &Path) -> Value {
    let out = exits(&mut dbbr_at(dir, &["list", "--json", "--all"]), 0);
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The object names `dbbr list` shows, newest first.
fn listed(dir: &Path) -> Vec<String> {
    listing(dir)["backups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["manifest"]["object"].as_str().unwrap().to_string())
        .collect()
}

/// One encrypted backup of `db` in `dir`: its object name.
fn encrypted_backup(dir: &Path, db: &str, recipient: &str, name: &str) -> String {
    succeed(
        backup_to(dir)
            .env("BACKUP_DATABASES", db)
            .env("ENCRYPT_RECIPIENTS", recipient)
            .env("BACKUP_FILE_NAME", name),
    );
    format!("{name}.sql.gz.age")
}

/// Backup, list, restore into a new database; then `--to-stdout`, and what
/// a restore refuses.
#[test]
fn round_trip_with_age_into_another_database() {
    let db = TestDb::sample();
    let source = db.checksums();
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let (key, recipient) = age_key(tmp.path());
    let object = encrypted_backup(&remote, &db.name, &recipient, &format!("{}-one", db.name));

    // list: the backup with sizes, codec, encryption and row counts.
    let json = listing(&remote);
    assert_eq!(json["schema"], 1);
    let b = &json["backups"][0];
    assert_eq!(b["manifest"]["object"], object.as_str());
    assert_eq!(b["manifest"]["database"], db.name.as_str());
    assert_eq!(b["manifest"]["codec"], "gzip");
    assert_eq!(b["manifest"]["encrypted"], true);
    assert_eq!(b["manifest"]["format"], 3);
    assert_eq!(b["manifest"]["kind"], "database");
    assert_eq!(b["state"]["state"], "ok");
    assert_eq!(b["manifest"]["dump"]["rows"]["public.items"], 4000);
    assert_eq!(b["manifest"]["dump"]["completion_line"], true);

    // restore into a new database: the same data.
    let copy = unique("pgcopy");
    let _guard = TestDb { name: copy.clone() };
    succeed(
        dbbr_at(
            &remote,
            &["restore", "--latest", &db.name, "--to", &copy, "--create"],
        )
        .env("ENCRYPT_IDENTITY_FILE", &key),
    );
    assert_eq!(Server::shared().checksums(&copy), source);

    // --to-stdout writes the plain dump, exactly what age -d | gunzip gives.
    let out = exits(
        dbbr_at(&remote, &["restore", &object, "--to-stdout"]).env("ENCRYPT_IDENTITY_FILE", &key),
        0,
    );
    let by_hand = pipeline(AGE_GUNZIP, "cat", &[&remote.join(&object), &key])
        .output()
        .unwrap();
    assert!(by_hand.status.success());
    assert_eq!(out.stdout, by_hand.stdout);
    // An output that fails is named as such, not as a database client.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let err = fail_with(
        dbbr_at(&remote, &["restore", &object, "--to-stdout"])
            .env("ENCRYPT_IDENTITY_FILE", &key)
            .stdout(full),
        1,
    );
    assert!(err.contains("failed at output"), "{err}");

    // A target with tables is refused without --force, and left alone.
    let err = fail_with(
        dbbr_at(&remote, &["restore", &object, "--to", &copy]).env("ENCRYPT_IDENTITY_FILE", &key),
        2,
    );
    assert!(err.contains("already has tables"), "{err}");
    // Without the identity: a clear error, nothing read.
    let err = fail_with(
        &mut dbbr_at(&remote, &["restore", &object, "--to-stdout"]),
        2,
    );
    assert!(
        err.contains("is encrypted") && err.contains("ENCRYPT_IDENTITY_FILE"),
        "{err}"
    );
}

#[test]
fn every_codec_backs_up_verifies_and_restores() {
    let db = TestDb::sample();
    let source = db.checksums();
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    // (COMPRESSION, COMPRESSION_LEVEL, object suffix, the standard tool
    // that reads the object)
    let cases = [
        ("gzip", "", ".sql.gz", "gzip -dc"),
        ("gzip", "9", ".sql.gz", "zcat"),
        ("zstd", "", ".sql.zst", "zstd -dc"),
        ("zstd", "12", ".sql.zst", "zstd -dc"),
        ("none", "", ".sql", "cat"),
    ];
    for (i, (codec, level, suffix, tool)) in cases.into_iter().enumerate() {
        let name = format!("{}-{i}", db.name);
        succeed(
            backup_to(&remote)
                .env("BACKUP_DATABASES", &db.name)
                .env("BACKUP_FILE_NAME", &name)
                .env("COMPRESSION", codec)
                .env("COMPRESSION_LEVEL", level),
        );
        let object = format!("{name}{suffix}");
        let manifest = checked_manifest(&remote, &object, POSTGRESQL);
        assert_eq!(manifest.codec, codec);
        exits(&mut dbbr_at(&remote, &["verify", &object]), 0);
        // The plain dump restore writes is what the standard tool reads.
        let out = exits(
            &mut dbbr_at(&remote, &["restore", &object, "--to-stdout"]),
            0,
        );
        let by_tool = pipeline(&format!("{tool} \"$1\""), "cat", &[&remote.join(&object)])
            .output()
            .unwrap();
        assert!(by_tool.status.success(), "{tool}: {}", stderr(&by_tool));
        assert!(
            out.stdout == by_tool.stdout,
            "{codec} {level}: {tool} differs"
        );
        let copy = unique("pgcodec");
        let _guard = TestDb { name: copy.clone() };
        succeed(&mut dbbr_at(
            &remote,
            &["restore", &object, "--to", &copy, "--create"],
        ));
        assert_eq!(Server::shared().checksums(&copy), source, "{codec} {level}");
    }
    let err = fail_with(
        backup_to(&remote)
            .env("BACKUP_DATABASES", &db.name)
            .env("COMPRESSION", "zstd")
            .env("COMPRESSION_LEVEL", "30"),
        2,
    );
    assert!(
        err.contains("zstd level 30") && err.contains("COMPRESSION_LEVEL"),
        "{err}"
    );
}

#[test]
fn custom_format_is_recorded_and_restored_with_pg_restore() {
    let db = TestDb::sample();
    let source = db.checksums();
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "-Fc"]),
    );
    let json = listing(tmp.path());
    let m = &json["backups"][0]["manifest"];
    assert_eq!(m["dump"]["format"], "custom");
    assert_eq!(m["dump"]["completion_line"], Value::Null);
    // pg_dump compresses its custom archives: stored as it wrote them, not
    // compressed twice, under a name that says what it is.
    assert_eq!(m["codec"], "none");
    let object = m["object"].as_str().unwrap();
    assert!(object.ends_with(".dump"), "{object}");
    let bytes = std::fs::read(tmp.path().join(object)).unwrap();
    assert_eq!(&bytes[..5], b"PGDMP");
    let copy = unique("pgcustom");
    let _guard = TestDb { name: copy.clone() };
    succeed(&mut dbbr_at(
        tmp.path(),
        &["restore", "--latest", &db.name, "--to", &copy, "--create"],
    ));
    assert_eq!(Server::shared().checksums(&copy), source);
    // The directory format cannot stream: refused before any I/O.
    let err = fail_with(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "-Fd"]),
        2,
    );
    assert!(err.contains("directory format"), "{err}");
}

#[test]
fn ssh_key_encrypted_backup_restores_with_the_private_key() {
    let db = TestDb::small();
    let source = db.checksums();
    let tmp = tempfile::tempdir().unwrap();
    let (private, public, _) = ssh_key(tmp.path());
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    succeed(
        backup_to(&remote)
            .env("BACKUP_DATABASES", &db.name)
            .env("ENCRYPT_RECIPIENTS_FILE", &public),
    );
    let copy = unique("pgssh");
    let _guard = TestDb { name: copy.clone() };
    succeed(
        dbbr_at(
            &remote,
            &["restore", "--latest", &db.name, "--to", &copy, "--create"],
        )
        .env("ENCRYPT_IDENTITY_FILE", &private),
    );
    assert_eq!(Server::shared().checksums(&copy), source);
    // Another key cannot decrypt it: exit 1, naming the stage.
    let (other, _) = age_key(tmp.path());
    let err = fail_with(
        dbbr_at(&remote, &["restore", "--latest", &db.name, "--to-stdout"])
            .env("ENCRYPT_IDENTITY_FILE", &other),
        1,
    );
    assert!(err.contains("at decrypt"), "{err}");
}

/// Ways to damage a stored backup, and what each must be reported as.
fn damage(kind: &str, dir: &Path, object: &str, other: &str) {
    let path = dir.join(object);
    let mut bytes = std::fs::read(&path).unwrap();
    match kind {
        "flipped byte" => {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0x40;
        }
        "missing final chunk" => {
            let keep = bytes.len() - 100;
            bytes.truncate(keep);
        }
        "appended bytes" => bytes.extend_from_slice(b"trailing garbage"),
        "swapped for another backup" => bytes = std::fs::read(dir.join(other)).unwrap(),
        "deleted object" => {
            std::fs::remove_file(&path).unwrap();
            return;
        }
        other => panic!("no damage {other}"),
    }
    std::fs::write(&path, bytes).unwrap();
}

/// Each kind of damage `damage` makes.
#[test]
fn a_damaged_backup_is_caught_and_a_restore_changes_nothing() {
    let db = TestDb::sample();
    let tmp = tempfile::tempdir().unwrap();
    let (key, recipient) = age_key(tmp.path());
    // The target: a database with a table of its own.
    let target = unique("pgtarget");
    let _guard = TestDb {
        name: target.clone(),
    };
    Server::shared().create_database(&target);
    Server::shared().psql(
        &target,
        "CREATE TABLE mine (id int PRIMARY KEY); INSERT INTO mine VALUES (1), (2);",
    );
    let before = Server::shared().checksums(&target);
    for kind in [
        "flipped byte",
        "missing final chunk",
        "appended bytes",
        "swapped for another backup",
        "deleted object",
    ] {
        let remote = tmp.path().join(kind.replace(' ', "-"));
        std::fs::create_dir(&remote).unwrap();
        let object = encrypted_backup(&remote, &db.name, &recipient, "damaged");
        let other = encrypted_backup(&remote, &db.name, &recipient, "other");
        succeed(dbbr_at(&remote, &["verify", &object]).env("ENCRYPT_IDENTITY_FILE", &key));
        damage(kind, &remote, &object, &other);

        let err = fail_with(
            dbbr_at(&remote, &["verify", &object]).env("ENCRYPT_IDENTITY_FILE", &key),
            1,
        );
        assert!(err.contains(&object), "{kind}: {err}");
        // The intact one still verifies.
        succeed(dbbr_at(&remote, &["verify", &other]).env("ENCRYPT_IDENTITY_FILE", &key));

        let out = run(
            dbbr_at(&remote, &["restore", &object, "--to", &target, "--force"])
                .env("ENCRYPT_IDENTITY_FILE", &key),
        );
        assert_eq!(out.status.code(), Some(1), "{kind}: {}", stderr(&out));
        assert_eq!(
            Server::shared().checksums(&target),
            before,
            "{kind}: the target changed"
        );
    }
}

#[test]
fn restore_drill_and_missing_things() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    succeed(backup_to(tmp.path()).env("BACKUP_DATABASES", &db.name));
    let scratch = unique("pgscratch");
    let out = succeed(&mut dbbr_at(
        tmp.path(),
        &["verify", "--latest", &db.name, "--restore-into", &scratch],
    ));
    assert!(
        stderr(&out).contains("row counts as in the manifest"),
        "{}",
        stderr(&out)
    );
    // The scratch database is gone again; the result is recorded for list.
    assert_eq!(
        Server::shared().psql(
            "postgres",
            &format!("SELECT count(*) FROM pg_database WHERE datname = '{scratch}'")
        ),
        "0"
    );
    let json = listing(tmp.path());
    assert_eq!(json["backups"][0]["verified"]["level"], "restore");
    assert_eq!(json["backups"][0]["verified"]["ok"], true);

    let err = fail_with(
        &mut dbbr_at(
            tmp.path(),
            &["restore", "--latest", "nosuchdb", "--to-stdout"],
        ),
        1,
    );
    assert!(err.contains("no intact backup of `nosuchdb`"), "{err}");
    let err = fail_with(
        &mut dbbr_at(tmp.path(), &["restore", "nosuch.sql.gz", "--to-stdout"]),
        1,
    );
    assert!(err.contains("no backup named `nosuch.sql.gz`"), "{err}");
    let missing = unique("pgmissing");
    let err = fail_with(
        &mut dbbr_at(
            tmp.path(),
            &["restore", "--latest", &db.name, "--to", &missing],
        ),
        2,
    );
    assert!(err.contains("does not exist"), "{err}");
    // An unreachable remote: exit 1 with a one-line error.
    let mut cmd = dbbr_at(tmp.path(), &["list"]);
    let key = setting("DBBR_TEST_SFTP_KEY_FILE");
    cmd.env(
        "REMOTE_NAME",
        format!(":sftp,host=127.0.0.1,port=1,user=nobody,key_file='{key}':/x"),
    );
    let err = fail_with(&mut cmd, 1);
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(errors[0].contains("connection refused"), "{err}");
}

#[test]
fn whole_server_backup_restores_into_another_server() {
    let origin = Cluster::start();
    let name = unique("pgall");
    origin.server.create_database(&name);
    origin.server.fill_sample(&name);
    let source = origin.server.checksums(&name);
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        backup_cmd_for(&origin.server)
            .env("REMOTE_NAME", local_remote(tmp.path()))
            .env("BACKUP_ALL", "true"),
    );
    let target = Cluster::start();
    let mut cmd = dbbr();
    target.server.env(&mut cmd);
    cmd.env("REMOTE_NAME", local_remote(tmp.path())).args([
        "restore",
        "--latest",
        "all",
        "--to-server",
    ]);
    // pg_dumpall's dump creates the role psql runs as, which a new cluster
    // has: replay past that one error, as `psql -f` does.
    cmd.args(["--", "-v", "ON_ERROR_STOP=0"]);
    succeed(&mut cmd);
    assert_eq!(target.server.checksums(&name), source);
    // A one-database restore target is refused for a whole-server backup.
    let err = fail_with(
        &mut dbbr_at(tmp.path(), &["restore", "--latest", "all", "--to", "x"]),
        2,
    );
    assert!(err.contains("whole-server"), "{err}");
}

#[test]
fn prune_keeps_by_policy_and_touches_nothing_else() {
    let a = TestDb::small();
    let b = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..3 {
        succeed(
            backup_to(tmp.path())
                .env("BACKUP_DATABASES", &a.name)
                .env("BACKUP_FILE_NAME", format!("$DB-{i}")),
        );
    }
    succeed(backup_to(tmp.path()).env("BACKUP_DATABASES", &b.name));
    std::fs::write(tmp.path().join("foreign.sql.gz"), b"not ours").unwrap();
    std::fs::write(tmp.path().join("notes.txt"), b"not ours").unwrap();
    let before = files_below(tmp.path());

    let err = fail_with(&mut dbbr_at(tmp.path(), &["prune"]), 2);
    assert!(err.contains("no keep policy"), "{err}");
    let out = exits(
        &mut dbbr_at(tmp.path(), &["prune", "--keep-last", "1", "--dry-run"]),
        0,
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        text.contains("would remove") && text.contains("last 1"),
        "{text}"
    );
    assert_eq!(
        files_below(tmp.path()),
        before,
        "a dry run deleted something"
    );

    exits(
        &mut dbbr_at(
            tmp.path(),
            &["prune", "--keep-last", "1", "--database", &a.name],
        ),
        0,
    );
    let left = listed(tmp.path());
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(
        left.iter().any(|o| o.starts_with(&format!("{}-2", a.name))),
        "{left:?}"
    );
    assert!(left.iter().any(|o| o.starts_with(&b.name)), "{left:?}");
    let files = files_below(tmp.path());
    assert!(
        files.contains(&"foreign.sql.gz".to_string()) && files.contains(&"notes.txt".to_string())
    );
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with(&format!("{}-0", a.name))),
        "{files:?}"
    );

    // A backup with a keep policy prunes after it succeeds.
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &b.name)
            .env("BACKUP_FILE_NAME", "$DB-next")
            .env("BACKUP_KEEP_LAST", "1"),
    );
    let left = listed(tmp.path());
    assert!(
        left.iter()
            .any(|o| o.starts_with(&format!("{}-next", b.name))),
        "{left:?}"
    );
    assert_eq!(left.len(), 2, "{left:?}");
}

#[test]
fn a_dump_without_its_completion_line_is_not_stored() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    // A pg_dump that stops early but exits 0: the real dump, cut before its
    // last lines.
    write_executable(
        &bin.join("pg_dump"),
        "#!/bin/sh\n/usr/bin/pg_dump \"$@\" | head -n 20\nexit 0\n",
    );
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let err = fail_with(
        backup_to(&remote)
            .env("PATH", path_with(&bin))
            .env("BACKUP_DATABASES", &db.name),
        1,
    );
    assert!(err.contains("without its completion line"), "{err}");
    assert_empty(&remote, "after a cut dump");
}
