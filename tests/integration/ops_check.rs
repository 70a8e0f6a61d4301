//! `dbbr check`: a working deployment passes every check and leaves
//! nothing behind; each broken part is named; bad settings exit 2.

use std::path::Path;
use std::process::Command;

use crate::common::pg::*;
use crate::common::*;

/// `dbbr check postgresql` against the shared server, into `remote`.
fn check_pg(remote: &Path) -> Command {
    let mut cmd = dbbr();
    Server::shared().env(&mut cmd);
    cmd.args(["check", "postgresql"])
        .env("REMOTE_NAME", local_remote(remote));
    cmd
}

fn stdout(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The line of `check` (and `database`) in `text`.
fn line<'a>(text: &'a str, check: &str) -> &'a str {
    text.lines()
        .find(|l| l.starts_with(&format!("{check}: ")))
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{text}"))
}

#[test]
fn each_broken_part_is_named_in_json() {
    let db = TestDb::small();
    let keys = tempfile::tempdir().unwrap();
    let (_, recipient) = age_key(keys.path());
    let other = tempfile::tempdir().unwrap();
    let (wrong_identity, _) = age_key(other.path());
    let missing = unique("nosuch");
    // A file where the remote's directory should be: nothing can be written.
    let blocked = tempfile::tempdir().unwrap();
    let file = blocked.path().join("not-a-dir");
    std::fs::write(&file, b"x").unwrap();
    let out = exits(
        check_pg(&file)
            .arg("--json")
            .env("BACKUP_DATABASES", format!("{},{missing}", db.name))
            .env("ENCRYPT_RECIPIENTS", &recipient)
            .env("ENCRYPT_IDENTITY_FILE", &wrong_identity),
        1,
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["schema"], 1);
    assert_eq!(doc["ok"], false);
    let checks = doc["checks"].as_array().unwrap();
    let find = |check: &str, database: Option<&str>| {
        checks
            .iter()
            .find(|c| c["check"] == check && c["database"].as_str() == database)
            .unwrap_or_else(|| panic!("no {check} in {doc:#}"))
    };
    assert_eq!(find("database", Some(&db.name))["status"], "ok");
    let gone = find("database", Some(&missing));
    assert_eq!(gone["status"], "failed");
    assert!(
        gone["detail"].as_str().unwrap().contains(&missing),
        "{gone}"
    );
    assert_eq!(find("storage", None)["status"], "failed");
    let identity = find("identity", None);
    assert_eq!(identity["status"], "failed", "{identity}");
    assert_eq!(find("recipients", None)["status"], "ok");
    assert_eq!(std::fs::read(&file).unwrap(), b"x");
}

#[test]
fn an_older_dump_tool_than_the_server_is_named_with_both_versions() {
    let db = TestDb::small();
    let tools = tempfile::tempdir().unwrap();
    let bin = tools.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    write_executable(
        &bin.join("pg_dump"),
        "#!/bin/sh\n[ \"$1\" = --version ] && echo 'pg_dump (PostgreSQL) 9.6.24' && exit 0\nexit 1\n",
    );
    let remote = tempfile::tempdir().unwrap();
    let out = exits(
        check_pg(remote.path())
            .env("PATH", path_with(&bin))
            .env("BACKUP_DATABASES", &db.name),
        1,
    );
    let text = stdout(&out);
    let server = Server::shared().psql("postgres", "SHOW server_version");
    let versions = line(&text, "tool_version");
    assert!(versions.contains(": FAILED: "), "{text}");
    assert!(
        versions.contains("9.6.24") && versions.contains(&server),
        "{text}"
    );
    assert!(line(&text, "storage").contains(": ok: "), "{text}");
}

#[test]
fn bad_settings_exit_2_naming_the_setting() {
    let remote = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(remote.path());
    let store = remote.path().join("store");
    std::fs::create_dir(&store).unwrap();
    let out = exits(
        check_pg(&store)
            .env("PATH", &path)
            .env("BACKUP_DATABASES", "app")
            .env("BACKUP_SCHEDULE", "every day"),
        2,
    );
    let text = stdout(&out);
    assert!(
        text.starts_with("settings: failed: BACKUP_SCHEDULE `every day` is not a cron expression"),
        "{text}"
    );
    let out = exits(
        check_pg(&store)
            .arg("--json")
            .env("PATH", &path)
            .env("BACKUP_DATABASES", "app")
            .env("ENCRYPT_RECIPIENTS", "not-a-key"),
        2,
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let detail = doc["checks"][0]["detail"].as_str().unwrap();
    assert!(detail.contains("ENCRYPT_RECIPIENTS"), "{detail}");
    assert!(!marker.exists(), "a database tool ran");
    assert_empty(&store, "a rejected check");
}

#[test]
fn storage_modes_for_restricted_credentials() {
    let db = TestDb::small();
    let remote = tempfile::tempdir().unwrap();
    std::fs::write(remote.path().join("existing.txt"), b"mine").unwrap();
    let out = exits(
        check_pg(remote.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("CHECK_STORAGE", "list"),
        0,
    );
    let text = stdout(&out);
    assert!(line(&text, "storage").contains("read-only check"), "{text}");
    assert_eq!(files_below(remote.path()), ["existing.txt"]);

    let out = exits(
        check_pg(remote.path())
            .env("BACKUP_DATABASES", &db.name)
            .args(["--storage-check", "no-delete"]),
        0,
    );
    let text = stdout(&out);
    assert!(line(&text, "storage").contains("left there"), "{text}");
    let files = files_below(remote.path());
    assert_eq!(files.len(), 2, "{files:?}");
    let probe = files
        .iter()
        .find(|f| f.starts_with(".dbbr-check-"))
        .unwrap();
    assert!(std::fs::read_to_string(remote.path().join(probe))
        .unwrap()
        .starts_with("dbbr check "));
}

mod postgres {
    use super::*;

    #[test]
    fn a_working_deployment_passes_every_check_and_leaves_nothing() {
        let db = TestDb::small();
        let keys = tempfile::tempdir().unwrap();
        let (identity, recipient) = age_key(keys.path());
        let remote = tempfile::tempdir().unwrap();
        let out = exits(
            check_pg(remote.path())
                .env("BACKUP_DATABASES", &db.name)
                .env("UPLOAD_PREFIX", "nightly")
                .env("ENCRYPT_RECIPIENTS", &recipient)
                .env("ENCRYPT_IDENTITY_FILE", &identity),
            0,
        );
        let text = stdout(&out);
        assert!(
            line(&text, "settings").starts_with("settings: ok: postgresql backup"),
            "{text}"
        );
        assert!(
            line(&text, "dump_tool").contains(": ok: pg_dump (PostgreSQL)"),
            "{text}"
        );
        let database = line(&text, &format!("database {}", db.name));
        assert!(database.contains(": ok: reachable, server "), "{text}");
        assert!(
            line(&text, "tool_version").contains(": ok: dump tool "),
            "{text}"
        );
        let storage = line(&text, "storage");
        assert!(
            storage.contains(": ok: wrote, read back and deleted .dbbr-check-"),
            "{text}"
        );
        assert!(line(&text, "recipients").contains(&recipient), "{text}");
        assert!(line(&text, "identity").contains(": ok: "), "{text}");
        assert_eq!(text.lines().count(), 7, "{text}");
        assert_eq!(files_below(remote.path()), Vec::<String>::new(), "{text}");
    }
}

mod mariadb {
    use super::{line, stdout};
    use crate::common::mariadb::*;
    use crate::common::*;

    #[test]
    fn a_working_deployment_passes_every_check_and_leaves_nothing() {
        let db = TestDb::sample(false);
        let remote = tempfile::tempdir().unwrap();
        let mut cmd = dbbr();
        for (k, _) in std::env::vars() {
            if k.starts_with("MYSQL_") {
                cmd.env_remove(k);
            }
        }
        over_tcp(&mut cmd);
        let out = exits(
            cmd.args(["check", "mariadb"])
                .env("REMOTE_NAME", local_remote(remote.path()))
                .env("BACKUP_DATABASES", &db.name),
            0,
        );
        let text = stdout(&out);
        assert!(
            line(&text, &format!("database {}", db.name)).contains(": ok: reachable, server "),
            "{text}"
        );
        assert!(line(&text, "tool_version").contains(": ok: "), "{text}");
        assert_empty(remote.path(), &text);
    }
}
