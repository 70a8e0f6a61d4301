//! `dbbr backup postgresql` end to end against a real PostgreSQL 15 server:
//! what lands in the remote, that it restores with the standard tools
//! (gunzip, age, psql) to the same data, and that failures leave nothing.

use std::ffi::OsStr;
use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};

use dbbr::{Backup, DatabaseReport, Engine, Manifest, Progress};

use crate::common::pg::*;
use crate::common::*;

/// Restored with `gunzip | psql`.
#[test]
fn single_database_restores_with_gunzip_and_the_client() {
    let db = TestDb::sample();
    let source = db.checksums();
    assert_eq!(
        source.keys().collect::<Vec<_>>(),
        ["blobs", "cities", "items"]
    );
    assert!(source["items"].starts_with("4000:"), "{source:?}");
    let tmp = tempfile::tempdir().unwrap();
    let out = succeed(backup_to(tmp.path()).env("BACKUP_DATABASES", &db.name));
    assert!(out.stdout.is_empty(), "the backup writes nothing on stdout");

    let (object, m) = only_backup(tmp.path(), POSTGRESQL, &format!("{}-", db.name), ".sql.gz");
    assert_eq!(m.database, db.name);
    assert!(!m.encrypted);
    assert!(m.recipients.is_empty());
    assert!(m.raw_bytes > m.stored_bytes, "{m:?}");
    assert!(m.raw_bytes > 5_000_000, "the 5 MB value is in the dump");
    let server = m.server_version.as_deref().unwrap_or_default();
    assert!(server.starts_with("15"), "{m:?}");
    assert!(m.dump_tool.as_deref().unwrap().starts_with("pg_dump"));
    let bytes = std::fs::read(tmp.path().join(&object)).unwrap();
    assert_eq!(&bytes[..2], [0x1f, 0x8b], "gzip magic");

    let copy = TestDb::create();
    let file = tmp.path().join(&object);
    Server::shared().restore(&copy.name, GUNZIP, &[&file], true);
    assert_eq!(copy.checksums(), source);
    let seq = Server::shared().psql(&copy.name, "SELECT last_value FROM ticket_seq");
    assert_eq!(seq, "4242");
}

#[test]
fn age_x25519_backup_restores_with_age() {
    let db = TestDb::sample();
    let keys = tempfile::tempdir().unwrap();
    let (key, recipient) = age_key(keys.path());
    let recipients = ("ENCRYPT_RECIPIENTS", recipient.as_ref());
    encrypted_backup_restores_with_age(&db, recipients, &key, &recipient);
}

#[test]
fn ssh_ed25519_recipients_file_backup_restores_with_age() {
    let db = TestDb::small();
    let keys = tempfile::tempdir().unwrap();
    let (key, public, fingerprint) = ssh_key(keys.path());
    let recipients = ("ENCRYPT_RECIPIENTS_FILE", public.as_os_str());
    encrypted_backup_restores_with_age(&db, recipients, &key, &fingerprint);
}

/// Backs up `db` encrypted as `recipients` (a variable and its value) says,
/// checks the object is encrypted to `recipient` alone, and restores it with
/// `age -d -i key | gunzip | psql` into a copy equal to `db`.
fn encrypted_backup_restores_with_age(
    db: &TestDb,
    recipients: (&str, &OsStr),
    key: &Path,
    recipient: &str,
) {
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .env(recipients.0, recipients.1),
    );
    let prefix = format!("{}-", db.name);
    let (object, m) = only_backup(tmp.path(), POSTGRESQL, &prefix, ".sql.gz.age");
    let file = tmp.path().join(&object);
    assert_encrypted(&file, &m, recipient, "COPY p");

    let copy = TestDb::create();
    Server::shared().restore(&copy.name, AGE_GUNZIP, &[&file, key], true);
    assert_eq!(copy.checksums(), db.checksums());
}

#[test]
fn backup_all_restores_a_whole_server_into_another() {
    let origin = Cluster::start();
    let (a, b) = (unique("pga"), unique("pgb"));
    for name in [&a, &b] {
        origin.server.create_database(name);
        origin.server.fill_sample(name);
    }
    origin.server.psql(
        &b,
        "CREATE TABLE only_b (id int PRIMARY KEY, v text); INSERT INTO only_b VALUES (1, 'b');
         CREATE ROLE dbbr_reader LOGIN; GRANT SELECT ON only_b TO dbbr_reader;",
    );
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        backup_cmd_for(&origin.server)
            .env("REMOTE_NAME", local_remote(tmp.path()))
            .env("BACKUP_ALL", "true"),
    );
    let (object, m) = only_backup(tmp.path(), POSTGRESQL, "all_", ".sql.gz");
    assert_eq!(m.database, "all");
    assert!(m.dump_tool.as_deref().unwrap().starts_with("pg_dumpall"));
    assert!(m.server_version.as_deref().unwrap().starts_with("15"));

    let target = Cluster::start();
    let file = tmp.path().join(&object);
    let out = target.server.restore("postgres", GUNZIP, &[&file], false);
    let err = stderr(&out);
    assert!(out.status.success(), "{err}");
    // The one statement that fails: creating the role psql runs as.
    let errors: Vec<&str> = err.lines().filter(|l| l.contains("ERROR")).collect();
    assert_eq!(errors.len(), 1, "{err}");
    assert!(
        errors[0].contains(r#"role "postgres" already exists"#),
        "{err}"
    );
    for name in [&a, &b] {
        assert_eq!(
            target.server.checksums(name),
            origin.server.checksums(name),
            "{name}"
        );
    }
    assert!(target.server.checksums(&b).contains_key("only_b"));
    let grant = target.server.psql(
        &b,
        "SELECT has_table_privilege('dbbr_reader', 'only_b', 'SELECT')",
    );
    assert_eq!(grant, "t", "roles and grants are restored");
}

#[test]
fn several_databases_follow_the_name_pattern() {
    let (a, b) = (TestDb::small(), TestDb::small());
    let tmp = tempfile::tempdir().unwrap();
    let out = succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", format!("{},{}", a.name, b.name))
            .env("BACKUP_FILE_NAME", "nightly/%Y/${DB}_%H"),
    );
    let now = chrono::Utc::now();
    let names: Vec<String> = files_below(tmp.path());
    assert_eq!(names.len(), 4, "{names:?}");
    for db in [&a, &b] {
        // The hour may have turned during the run.
        let object = names
            .iter()
            .filter(|n| n.starts_with(&format!("nightly/{}/{}_", now.format("%Y"), db.name)))
            .find_map(|n| n.strip_suffix(".manifest.json").map(String::from))
            .unwrap_or_else(|| panic!("{names:?}"));
        let hour = object
            .rsplit_once('_')
            .and_then(|(_, h)| h.strip_suffix(".sql.gz"))
            .unwrap();
        assert!(
            hour.len() == 2 && hour.parse::<u32>().unwrap() < 24,
            "{object}"
        );
        let m = checked_manifest(tmp.path(), &object, POSTGRESQL);
        assert_eq!(m.database, db.name);
    }
    assert!(stderr(&out).contains(&a.name) && stderr(&out).contains(&b.name));
}

#[test]
fn several_databases_with_a_fixed_name_are_refused_before_dumping() {
    let (a, b) = (TestDb::small(), TestDb::small());
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    let err = fail_with(
        backup_to(&remote)
            .env("PATH", path)
            .env("BACKUP_DATABASES", format!("{},{}", a.name, b.name))
            .env("BACKUP_FILE_NAME", "fixed"),
        2,
    );
    assert!(err.contains("$DB"), "{err}");
    assert_empty(&remote, &err);
    assert!(!marker.exists(), "a database tool ran");
}

#[test]
fn a_name_too_long_for_storage_is_refused_before_dumping() {
    // 63 bytes, PostgreSQL's longest name: with a long pattern around it the
    // file name passes 255 bytes once the temporary name is added.
    let db = TestDb::create();
    let tmp = tempfile::tempdir().unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    let err = fail_with(
        backup_to(&remote)
            .env("PATH", path)
            .env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", format!("{}-$DB-%Y", "x".repeat(200))),
        2,
    );
    assert!(err.contains("BACKUP_FILE_NAME"), "{err}");
    assert!(err.contains("shorten the pattern"), "{err}");
    assert_empty(&remote, &err);
    assert!(!marker.exists(), "a database tool ran");
}

#[test]
fn upload_prefix_puts_objects_below_it() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("UPLOAD_PREFIX", "sub/dir"),
    );
    let below = tmp.path().join("sub/dir");
    let object = only_object(&below);
    assert_eq!(files_below(tmp.path()).len(), 2);
    checked_manifest(&below, &object, POSTGRESQL);
    assert!(object.starts_with(&db.name), "{object}");
}

#[test]
fn remote_from_rclone_environment_over_sftp() {
    let db = TestDb::small();
    let dir = unique("pgsftp");
    let out = succeed(
        backup_cmd()
            .env("BACKUP_DATABASES", &db.name)
            .envs(sftp_store_env())
            .env("UPLOAD_PREFIX", sftp_dir(&dir)),
    );
    let landed = sftp_dir(&dir);
    let (object, m) = only_backup(&landed, POSTGRESQL, &format!("{}-", db.name), ".sql.gz");
    assert_eq!(m.database, db.name);
    assert!(stderr(&out).contains(&object), "{}", stderr(&out));
}

#[test]
fn remote_as_s3_connection_string() {
    let db = TestDb::small();
    let bucket = unique("pgbucket");
    let out = succeed(
        backup_cmd()
            .env("BACKUP_DATABASES", &db.name)
            .env("REMOTE_NAME", s3_remote(&bucket))
            .env("UPLOAD_PREFIX", "pg/nightly"),
    );
    let landed = s3_bucket_dir(&bucket).join("pg/nightly");
    let (_, m) = only_backup(&landed, POSTGRESQL, &format!("{}-", db.name), ".sql.gz");
    assert_eq!(m.database, db.name);
    let secret = setting("DBBR_TEST_S3_SECRET_KEY");
    assert!(!stderr(&out).contains(&secret), "{}", stderr(&out));
}

/// The password comes from `PGPASSWORD_FILE`.
#[test]
fn password_from_file_is_used() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("pgpassword");
    write_private(&pw, &format!("{}\n", setting("DBBR_TEST_PG_PASSWORD")));
    let remote = tmp.path().join("remote");
    let out = succeed(
        backup_to(&remote)
            .env_remove("PGPASSWORD")
            .env("PGPASSWORD_FILE", &pw)
            .env("BACKUP_DATABASES", &db.name),
    );
    let object = only_object(&remote);
    let m = checked_manifest(&remote, &object, POSTGRESQL);
    assert!(
        m.server_version.unwrap().starts_with("15"),
        "probe has it too"
    );
    let password = setting("DBBR_TEST_PG_PASSWORD");
    assert!(!stderr(&out).contains(&password));
}

#[test]
fn wrong_password_fails_leaving_nothing_and_revealing_nothing() {
    let db = TestDb::small();
    let real = setting("DBBR_TEST_PG_PASSWORD");
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("wrong");
    write_private(&pw, "wrong-File-Pw-456\n");
    let by_env = ("PGPASSWORD", "wrong-Pw-123");
    let by_file = ("PGPASSWORD_FILE", pw.to_str().unwrap());
    for (var, value) in [by_env, by_file] {
        let remote = tempfile::tempdir().unwrap();
        let out = exits(
            backup_to(remote.path())
                .env_remove("PGPASSWORD")
                .env(var, value)
                .env("BACKUP_DATABASES", &db.name),
            1,
        );
        let (err, stdout) = (stderr(&out), String::from_utf8_lossy(&out.stdout));
        assert!(err.contains("authentication failed"), "{var}: {err}");
        for secret in ["wrong-Pw-123", "wrong-File-Pw-456", &real] {
            assert!(!err.contains(secret) && !stdout.contains(secret), "{err}");
        }
        assert_empty(remote.path(), var);
    }
}

#[test]
fn missing_database_fails_leaving_nothing() {
    let missing = unique("pgmissing");
    let tmp = tempfile::tempdir().unwrap();
    let err = fail_with(backup_to(tmp.path()).env("BACKUP_DATABASES", &missing), 1);
    assert!(err.contains("does not exist"), "{err}");
    assert!(err.contains(&missing), "{err}");
    assert_empty(tmp.path(), &err);
}

#[test]
fn a_failing_database_does_not_stop_the_others() {
    let good = TestDb::small();
    let missing = unique("pgmissing");
    for list in [
        format!("{},{missing}", good.name),
        format!("{missing},{}", good.name),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let err = fail_with(backup_to(tmp.path()).env("BACKUP_DATABASES", &list), 1);
        assert!(err.contains("does not exist"), "{err}");
        let prefix = format!("{}-", good.name);
        let (_, m) = only_backup(tmp.path(), POSTGRESQL, &prefix, ".sql.gz");
        assert_eq!(m.database, good.name, "{list}");
    }
}

#[test]
fn dump_killed_mid_stream_fails_leaving_nothing() {
    let db = TestDb::create();
    // About 70 MB of dump text: seconds of gzip, created in a few seconds.
    Server::shared().psql(
        &db.name,
        "CREATE UNLOGGED TABLE big AS SELECT g AS id, md5(g::text) AS a, \
         md5(random()::text) AS b FROM generate_series(1, 1000000) g",
    );
    let tmp = tempfile::tempdir().unwrap();
    assert_killed_dump_leaves_nothing(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_LEVEL", "info"),
        tmp.path(),
        &db.name,
        "pg_dump",
    );
}

/// The dump tool is `pg_dump`.
#[test]
fn arguments_after_double_dash_reach_the_dump_tool() {
    let db = TestDb::sample();
    let tmp = tempfile::tempdir().unwrap();
    succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .args(["--", "--schema-only", "--no-owner"]),
    );
    let object = only_object(tmp.path());
    let m = checked_manifest(tmp.path(), &object, POSTGRESQL);
    assert!(
        m.raw_bytes < 100_000,
        "no data in a schema-only dump: {m:?}"
    );
    let file = tmp.path().join(&object);
    let text = gunzipped(&file);
    assert!(text.contains("CREATE TABLE public.items"), "{text}");
    assert!(!text.contains("COPY public.items"), "{text}");
    assert!(!text.contains("OWNER TO"), "--no-owner was passed too");

    let copy = TestDb::create();
    Server::shared().restore(&copy.name, GUNZIP, &[&file], true);
    let sums = copy.checksums();
    assert_eq!(
        sums.keys().collect::<Vec<_>>(),
        ["blobs", "cities", "items"]
    );
    assert!(sums.values().all(|s| s.starts_with("0:")), "{sums:?}");
}

#[test]
fn an_existing_object_is_never_overwritten() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let backup = || {
        let mut cmd = backup_to(tmp.path());
        cmd.env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", "fixed-$DB");
        cmd
    };
    succeed(&mut backup());
    let object = format!("fixed-{}.sql.gz", db.name);
    assert_eq!(only_object(tmp.path()), object);
    let manifest = tmp.path().join(Manifest::object_name(&object));
    let before = (
        std::fs::read(tmp.path().join(&object)).unwrap(),
        std::fs::read(&manifest).unwrap(),
    );
    let first = checked_manifest(tmp.path(), &object, POSTGRESQL);
    // Something to tell the dumps apart, had the second one been written.
    Server::shared().psql(&db.name, "INSERT INTO t VALUES (3, 'new')");

    let err = fail_with(&mut backup(), 1);
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(only_object(tmp.path()), object);
    let after = (
        std::fs::read(tmp.path().join(&object)).unwrap(),
        std::fs::read(&manifest).unwrap(),
    );
    assert!(before == after, "the first backup changed");
    assert_eq!(
        checked_manifest(tmp.path(), &object, POSTGRESQL).sha256,
        first.sha256
    );
}

#[test]
fn configuration_errors_exit_2_before_any_io() {
    let tmp = tempfile::tempdir().unwrap();
    let comments = tmp.path().join("recipients.txt");
    std::fs::write(&comments, "# nobody yet\n\n# still nobody\n").unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let db = ("BACKUP_DATABASES", "app");
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (vec![], "nothing to back up"),
        (vec![db, ("BACKUP_ALL", "true")], "both set"),
        (
            vec![db, ("ENCRYPT_RECIPIENTS", "not-a-key")],
            "ENCRYPT_RECIPIENTS",
        ),
        // Set but blank is a mistake, never a plaintext backup.
        (vec![db, ("ENCRYPT_RECIPIENTS", "")], "no recipient"),
        (vec![db, ("ENCRYPT_RECIPIENTS", " \n ")], "no recipient"),
        (
            vec![db, ("LOG_LEVEL", "verbose")],
            "LOG_LEVEL `verbose` is not valid",
        ),
        (
            vec![db, ("ENCRYPT_RECIPIENTS_FILE", comments.to_str().unwrap())],
            "contains no recipient",
        ),
        (vec![db, ("BACKUP_FILE_NAME", "../x")], "BACKUP_FILE_NAME"),
        (vec![db, ("BACKUP_FILE_NAME", "%Q")], "strftime"),
        (
            vec![db, ("PGPASSWORD_FILE", "/nonexistent/pw")],
            "PGPASSWORD_FILE",
        ),
        (
            vec![db, ("REMOTE_NAME", "unconfigured")],
            "RCLONE_CONFIG_UNCONFIGURED_TYPE",
        ),
    ];
    for (env, expected) in cases {
        let err = fail_with(
            backup_to(&remote)
                .env("PATH", &path)
                .envs(env.iter().copied()),
            2,
        );
        assert!(err.contains(expected), "{env:?}: {err}");
        assert_empty(&remote, &format!("{env:?}"));
        assert!(!marker.exists(), "{env:?}: a database tool ran");
    }
    // The tripwire works: past validation, the stand-in tools do run.
    let err = fail_with(backup_to(&remote).env("PATH", &path).envs([db]), 1);
    assert!(marker.exists(), "{err}");
    assert_empty(&remote, &err);
}

#[test]
fn json_log_lines_carry_the_results() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let out = succeed(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_FORMAT", "json"),
    );
    let err = stderr(&out);
    let lines: Vec<serde_json::Value> = err
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let last = lines.last().unwrap();
    let object = only_object(tmp.path());
    let m = checked_manifest(tmp.path(), &object, POSTGRESQL);
    assert_eq!(last["level"], "INFO", "{last}");
    assert_eq!(last["database"], db.name.as_str(), "{last}");
    assert_eq!(last["object"], object.as_str(), "{last}");
    assert_eq!(last["raw_bytes"], m.raw_bytes, "{last}");
    assert_eq!(last["stored_bytes"], m.stored_bytes, "{last}");
    assert_eq!(last["sha256"], m.sha256.as_str(), "{last}");
    assert!(lines
        .iter()
        .any(|l| l["database"] == db.name.as_str() && l["raw_bytes"].is_null()));
}

/// Records what a run reports, in order.
#[derive(Default)]
struct Recorder(Mutex<Vec<String>>);

impl Progress for Recorder {
    fn started(&self, database: &str, object: &str) {
        self.0
            .lock()
            .unwrap()
            .push(format!("started {database} {object}"));
    }

    fn finished(&self, outcome: &DatabaseReport) {
        let ok = if outcome.result.is_ok() {
            "ok"
        } else {
            "failed"
        };
        self.0
            .lock()
            .unwrap()
            .push(format!("{ok} {}", outcome.database));
    }
}

#[test]
fn library_run_reports_what_it_stored() {
    let db = TestDb::sample();
    let tmp = tempfile::tempdir().unwrap();
    let pw = tmp.path().join("pw");
    write_private(&pw, &setting("DBBR_TEST_PG_PASSWORD"));
    let remote = tmp.path().join("remote");
    let missing = unique("pgmissing");
    let recorder = Arc::new(Recorder::default());
    // Connection settings as pg_dump options: the test process's own
    // environment is shared by every test.
    let report = Backup::new(Engine::Postgres)
        .databases([db.name.clone(), missing.clone()])
        .file_name("lib/$DB")
        .remote(local_remote(&remote))
        .prefix("p")
        .password_file(&pw)
        .dump_args([
            format!("--host={}", setting("DBBR_TEST_PG_HOST")),
            format!("--port={}", setting("DBBR_TEST_PG_PORT")),
            format!("--username={}", setting("DBBR_TEST_PG_USER")),
            "--no-password".to_string(),
        ])
        .progress(recorder.clone())
        .run()
        .unwrap();
    assert!(!report.all_succeeded());
    assert_eq!(report.databases.len(), 2);
    let first = &report.databases[0];
    let object = format!("lib/{}.sql.gz", db.name);
    assert_eq!(first.object.as_deref(), Some(object.as_str()));
    let stats = first.result.as_ref().unwrap();
    let below = remote.join("p");
    let m = checked_manifest(&below, &object, POSTGRESQL);
    assert_eq!(stats.sha256, m.sha256);
    assert_eq!(
        (stats.raw_bytes, stats.stored_bytes),
        (m.raw_bytes, m.stored_bytes)
    );
    assert_eq!(stats.manifest, Manifest::object_name(&object));
    assert_eq!(report.failures().count(), 1);
    let failure = report.failures().next().unwrap();
    assert_eq!(failure.database, missing);
    let text = failure.result.as_ref().unwrap_err().to_string();
    assert!(text.contains("does not exist"), "{text}");
    assert_eq!(only_object(&below), object);
    assert_eq!(
        *recorder.0.lock().unwrap(),
        [
            format!("started {} {object}", db.name),
            format!("ok {}", db.name),
            format!("started {missing} lib/{missing}.sql.gz"),
            format!("failed {missing}"),
        ]
    );

    let copy = TestDb::create();
    let file = below.join(&object);
    Server::shared().restore(&copy.name, GUNZIP, &[&file], true);
    assert_eq!(copy.checksums(), db.checksums());

    // Verified through the library: a parsed Remote, progress, and a
    // cancel flag that stops the run.
    let parsed = dbbr::Remote::parse(&local_remote(&remote)).unwrap();
    let verify = || {
        dbbr::Verify::new(dbbr::Which::Objects(vec![object.clone()]))
            .remote(&parsed)
            .prefix("p")
            .record(false)
    };
    let seen = Arc::new(Recorder::default());
    let verified = verify().progress(seen.clone()).run().unwrap();
    assert!(verified.all_ok(), "{verified:?}");
    assert_eq!(
        *seen.0.lock().unwrap(),
        [format!("started {} {object}", db.name)]
    );
    let cancelled = verify()
        .cancel_flag(Arc::new(AtomicBool::new(true)))
        .run()
        .unwrap_err();
    assert!(matches!(cancelled, dbbr::Error::Interrupted), "{cancelled}");
}

#[test]
fn library_builders_refuse_what_does_not_combine_in_run() {
    // Exclusions are kept whatever the order of the calls; with a list of
    // databases they are refused, before any I/O, not dropped.
    let err = Backup::new(Engine::Postgres)
        .exclude(["test_*"])
        .databases(["app"])
        .remote(":local:/nonexistent-dbbr-remote")
        .run()
        .unwrap_err();
    assert!(err.is_usage(), "{err}");
    assert_eq!(err.setting(), Some(dbbr::Setting::Exclude), "{err}");
    assert!(!Path::new("/nonexistent-dbbr-remote").exists());
}

#[test]
fn a_missing_dump_tool_is_reported_before_any_io() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("bin");
    std::fs::create_dir(&empty).unwrap();
    let remote = tmp.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let err = fail_with(
        backup_to(&remote)
            .env("PATH", &empty)
            .env("BACKUP_DATABASES", "app"),
        2,
    );
    assert!(
        err.contains("pg_dump not found") && err.contains("postgresql-client"),
        "{err}"
    );
    assert_empty(&remote, "a missing dump tool");
}

#[test]
fn a_database_name_cannot_forge_a_log_line() {
    let tmp = tempfile::tempdir().unwrap();
    let err = fail_with(
        backup_to(tmp.path())
            .env(
                "BACKUP_DATABASES",
                "nosuch\nFORGED ERROR everything is fine",
            )
            .env("BACKUP_FILE_NAME", "$DB"),
        1,
    );
    assert!(err.contains("FORGED"), "{err}");
    assert!(
        !err.lines().any(|l| l.starts_with("FORGED")),
        "a line was forged:\n{err}"
    );
    assert_empty(tmp.path(), "a failed dump");
}

#[test]
fn a_directory_at_the_object_name_is_found_before_dumping() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let blocking = tmp.path().join(format!("{}.sql.gz", db.name));
    std::fs::create_dir(&blocking).unwrap();
    std::fs::write(blocking.join("keep.txt"), b"mine").unwrap();
    let err = fail_with(
        backup_to(tmp.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", "$DB"),
        1,
    );
    assert!(err.contains("(a directory) already exists"), "{err}");
    assert!(
        !err.contains("starting dump") && !err.contains(": 0 B in"),
        "{err}"
    );
    assert_eq!(
        files_below(tmp.path()),
        [format!("{}.sql.gz/keep.txt", db.name)],
        "the directory was touched"
    );
}
