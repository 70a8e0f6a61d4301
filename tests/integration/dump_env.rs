//! What the dump tool receives: the password by environment only, never on
//! its command line, and none of the storage settings.

use std::process::Command;

use crate::common::pg::*;
use crate::common::*;

#[test]
fn dump_tool_gets_the_password_by_environment_and_no_storage_secrets() {
    let db = TestDb::small();
    let tmp = tempfile::tempdir().unwrap();
    let remote_dir = tmp.path().join("remote");
    let record = tmp.path().join("pg_dump-saw");
    // A pg_dump that records its arguments and environment, then runs the
    // real one.
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let real = run_ok(Command::new("sh").args(["-c", "command -v pg_dump"]));
    let real = real.trim();
    assert!(real.starts_with('/'), "no pg_dump on PATH: {real:?}");
    write_executable(
        &bin.join("pg_dump"),
        &format!(
            "#!/bin/sh\n{{ echo \"ARGS: $*\"; env; }} >'{}'\nexec '{real}' \"$@\"\n",
            record.display()
        ),
    );
    let password_file = tmp.path().join("pgpassword");
    write_private(
        &password_file,
        &format!("{}\n", setting("DBBR_TEST_PG_PASSWORD")),
    );

    let storage_secret = "storage-Secret-31337";
    let other_engine = "mysql-Pw-Other-4242";
    let out = succeed(
        backup_cmd()
            .env_remove("PGPASSWORD")
            .env("PGPASSWORD_FILE", &password_file)
            .env("MYSQL_PWD", other_engine)
            .env("MYSQL_HOST", "elsewhere.invalid")
            .env("PATH", path_with(&bin))
            .env("BACKUP_DATABASES", &db.name)
            .env("RCLONE_CONFIG_STORE_TYPE", "local")
            .env("RCLONE_CONFIG_STORE_PASS", storage_secret)
            .env("UPLOAD_PREFIX", &remote_dir),
    );

    let saw = std::fs::read_to_string(&record).unwrap();
    let args = saw.lines().next().unwrap();
    let password = setting("DBBR_TEST_PG_PASSWORD");
    assert!(args.contains(&db.name), "{args}");
    assert!(
        !args.contains(&password),
        "the password must not be on the command line"
    );
    assert!(
        saw.lines().any(|l| l == format!("PGPASSWORD={password}")),
        "the password goes by environment"
    );
    assert!(
        !saw.contains("RCLONE_"),
        "the dump tool must not see storage settings"
    );
    assert!(!saw.contains(storage_secret));
    // Each tool gets its own engine's settings only.
    assert!(
        !saw.contains(other_engine) && !saw.contains("MYSQL_"),
        "{saw}"
    );
    assert!(!stderr(&out).contains(&password) && !stderr(&out).contains(storage_secret));
    let object = only_object(&remote_dir);
    assert_eq!(
        checked_manifest(&remote_dir, &object, POSTGRESQL).database,
        db.name
    );
}
