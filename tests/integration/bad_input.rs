//! Bad input of every kind is refused before any database or network I/O:
//! exit 2, one message naming the setting, no database tool started, no
//! connection to storage, nothing stored. Extends the cases of
//! `backup_postgres::configuration_errors_exit_2_before_any_io`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;

/// Stand-ins for every database tool that only leave a marker file, first
/// on PATH: the PATH and the marker.
fn tripwire_tools(dir: &Path) -> (String, PathBuf) {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let marker = dir.join("a-database-tool-ran");
    for tool in [
        "pg_dump",
        "pg_dumpall",
        "psql",
        "pg_restore",
        "mariadb-dump",
        "mysqldump",
        "mariadb",
        "mysql",
    ] {
        write_executable(
            &bin.join(tool),
            &format!("#!/bin/sh\necho {tool} >>'{}'\nexit 1\n", marker.display()),
        );
    }
    (path_with(&bin), marker)
}

/// One bad input: the command's arguments after the engine, its
/// environment, and what the message must name.
struct Case {
    args: Vec<String>,
    env: Vec<(String, String)>,
    names: &'static str,
}

fn case(env: &[(&str, &str)], args: &[&str], names: &'static str) -> Case {
    Case {
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        names,
    }
}

/// Storage that counts every connection made to it: an S3 endpoint on a
/// listener that never answers.
struct NetworkTripwire {
    listener: TcpListener,
}

impl NetworkTripwire {
    fn new() -> NetworkTripwire {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        NetworkTripwire { listener }
    }

    fn remote(&self) -> String {
        format!(
            ":s3,provider=Other,endpoint='http://{}',access_key_id=a,secret_access_key=b:bucket",
            self.listener.local_addr().unwrap()
        )
    }

    fn reached(&self) -> bool {
        self.listener.accept().is_ok()
    }
}

/// Runs every case of `engine` (`postgresql` or `mariadb`) as a backup and
/// checks it is refused cleanly; returns how many were.
fn refused_backups(engine: &str, cases: &[Case]) -> usize {
    let tmp = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    let storage = NetworkTripwire::new();
    let db_env: &[&str] = &["BACKUP_DATABASES", "app"];
    let mut refused = 0;
    for c in cases {
        let mut cmd = dbbr();
        cmd.args(["backup", engine])
            .env("PATH", &path)
            .env("REMOTE_NAME", storage.remote())
            // A case that is wrongly accepted fails in seconds, not minutes.
            .env("RCLONE_TIMEOUT", "5s")
            .env("RCLONE_CONTIMEOUT", "5s")
            .env("RCLONE_LOW_LEVEL_RETRIES", "1")
            .env(db_env[0], db_env[1])
            .envs(c.env.iter().map(|(k, v)| (k, v)));
        if !c.args.is_empty() {
            cmd.arg("--").args(&c.args);
        }
        let err = fail_with(&mut cmd, 2);
        let context = format!("{engine} {:?} {:?}", c.env, c.args);
        assert!(
            err.contains(c.names),
            "{context}: does not name {}: {err}",
            c.names
        );
        // One error line (clap adds its usage hints below its own).
        let errors = err
            .lines()
            .filter(|l| l.to_lowercase().contains("error"))
            .count();
        assert_eq!(errors, 1, "{context}: one message: {err}");
        assert!(
            !err.contains("bad-input-"),
            "{context}: a secret shows: {err}"
        );
        assert!(!marker.exists(), "{context}: a database tool ran");
        assert!(!storage.reached(), "{context}: the storage was reached");
        refused += 1;
    }
    refused
}

#[test]
fn bad_backup_settings_are_refused_before_any_io() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let empty = tmp.path().join("empty-recipients");
    std::fs::write(&empty, "\n# nobody\n").unwrap();
    let empty = empty.to_str().unwrap();
    let db = ("BACKUP_DATABASES", "app");
    let remote = |v: &'static str| [("REMOTE_NAME", v)];
    let shared = vec![
        // Names and selections.
        case(&[("BACKUP_FILE_NAME", "/etc/x")], &[], "BACKUP_FILE_NAME"),
        case(
            &[("BACKUP_FILE_NAME", "a/../../x")],
            &[],
            "BACKUP_FILE_NAME",
        ),
        case(&[("BACKUP_FILE_NAME", "%Q")], &[], "BACKUP_FILE_NAME"),
        case(
            &[("BACKUP_DATABASES", "a,b"), ("BACKUP_FILE_NAME", "fixed")],
            &[],
            "BACKUP_FILE_NAME",
        ),
        case(&[db, ("BACKUP_ALL", "true")], &[], "BACKUP_ALL"),
        case(&[("BACKUP_DATABASES", " , ")], &[], "BACKUP_DATABASES"),
        // Recipients of many kinds.
        case(
            &[("ENCRYPT_RECIPIENTS", "not-a-key")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
        case(
            &[("ENCRYPT_RECIPIENTS", "age1qqqq")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
        case(
            &[("ENCRYPT_RECIPIENTS", "AGE-SECRET-KEY-1QQQQ")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
        case(
            &[("ENCRYPT_RECIPIENTS", "ssh-ed25519 AAAA")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
        case(
            &[("ENCRYPT_RECIPIENTS", "ssh-rsa AAAAB3NzaC1yc2E")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
        case(
            &[("ENCRYPT_RECIPIENTS", "ssh-dss AAAAB3NzaC1kc3M")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
        case(&[("ENCRYPT_RECIPIENTS", ",")], &[], "ENCRYPT_RECIPIENTS"),
        case(&[("ENCRYPT_RECIPIENTS", "")], &[], "ENCRYPT_RECIPIENTS"),
        case(&[("ENCRYPT_RECIPIENTS", " \n ")], &[], "ENCRYPT_RECIPIENTS"),
        case(
            &[("ENCRYPT_RECIPIENTS_FILE", empty)],
            &[],
            "ENCRYPT_RECIPIENTS_FILE",
        ),
        case(
            &[("ENCRYPT_RECIPIENTS_FILE", "/nonexistent/r")],
            &[],
            "ENCRYPT_RECIPIENTS_FILE",
        ),
        // Remotes.
        case(
            &remote("unconfigured"),
            &[],
            "RCLONE_CONFIG_UNCONFIGURED_TYPE",
        ),
        case(&remote("bad/name"), &[], "REMOTE_NAME"),
        case(
            &remote(":s3,secret_access_key=bad-input-Secret-1"),
            &[],
            "REMOTE_NAME",
        ),
        case(&remote(":nosuchbackend:x"), &[], "RCLONE"),
        case(&remote(""), &[], "REMOTE_NAME"),
        // rclone settings, including those rclone would exit on.
        case(
            &[("RCLONE_HEADER", "no-colon-bad-input-Token-2")],
            &[],
            "RCLONE_HEADER",
        ),
        case(&[("RCLONE_TIMEOUT", "soon")], &[], "timeout"),
        case(
            &[("RCLONE_VERBOSE", "2"), ("RCLONE_QUIET", "true")],
            &[],
            "RCLONE_QUIET",
        ),
        case(&[("RCLONE_CA_CERT", garbage)], &[], "RCLONE_CA_CERT"),
        case(&[("RCLONE_CLIENT_CERT", garbage)], &[], "RCLONE_CLIENT_KEY"),
        case(&[("RCLONE_SYSLOG", "true")], &[], "RCLONE_SYSLOG"),
        case(
            &[("RCLONE_LOG_FILE", "/nonexistent/dir/log")],
            &[],
            "RCLONE_LOG_FILE",
        ),
        // dbbr's own settings.
        case(&[("LOG_LEVEL", "verbose")], &[], "LOG_LEVEL"),
        case(&[("LOG_FORMAT", "xml")], &[], "LOG_FORMAT"),
        case(&[("BACKUP_KEEP_LAST", "many")], &[], "keep-last"),
        case(&[("BACKUP_KEEP_WITHIN", "soon")], &[], "BACKUP_KEEP_"),
    ];
    let mut pg = shared;
    pg.extend([
        case(
            &[("PGPASSWORD_FILE", "/nonexistent/pw")],
            &[],
            "PGPASSWORD_FILE",
        ),
        case(&[], &["-Fd"], "after --"),
        case(&[], &["-f", "/tmp/x"], "after --"),
        // A password on the dump tool's command line.
        case(
            &[],
            &["--dbname=postgresql://u:bad-input-Pw-3@h/app"],
            "after --",
        ),
        case(
            &[],
            &["-d", "host=h password=bad-input-Pw-4 dbname=app"],
            "after --",
        ),
    ]);
    let maria = vec![
        case(
            &[("MYSQL_PWD_FILE", "/nonexistent/pw")],
            &[],
            "MYSQL_PWD_FILE",
        ),
        case(&[], &["--result-file=/tmp/x"], "after --"),
        case(&[], &["--tab=/tmp"], "after --"),
        case(&[], &["--password=bad-input-Pw-5"], "after --"),
        case(&[], &["-pbad-input-Pw-6"], "after --"),
        case(&[], &["--pass=bad-input-Pw-7"], "after --"),
        case(&[("BACKUP_FILE_NAME", "../x")], &[], "BACKUP_FILE_NAME"),
        case(
            &[("ENCRYPT_RECIPIENTS", "age1zzzz")],
            &[],
            "ENCRYPT_RECIPIENTS",
        ),
    ];
    let tried = pg.len() + maria.len();
    let refused = refused_backups("postgresql", &pg) + refused_backups("mariadb", &maria);
    println!("bad inputs: {tried} tried, {refused} refused cleanly (exit 2, before any I/O)");
    assert_eq!(refused, tried);
}

#[test]
fn restore_client_arguments_with_a_password_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    for args in [
        &["--password=bad-input-Pw-8"][..],
        &["-d", "postgresql://u:bad-input-Pw-9@h/x"],
    ] {
        let err = fail_with(
            Command::new(env!("CARGO_BIN_EXE_dbbr"))
                .env("PATH", &path)
                .env("REMOTE_NAME", local_remote(tmp.path()))
                .args(["restore", "--latest", "app", "--to", "copy", "--"])
                .args(args),
            2,
        );
        assert!(
            err.contains("after --") && !err.contains("bad-input-Pw"),
            "{args:?}: {err}"
        );
        assert!(!marker.exists(), "{args:?}: a database tool ran");
    }
}
