//! Bad input of every kind is refused before any database or network I/O:
//! exit 2, one message naming the setting, no database tool started, no
//! connection to storage, nothing stored. Extends the cases of
//! `backup::postgres::configuration_errors_exit_2_before_any_io`.

use std::ffi::OsString;
use std::net::TcpListener;
use std::os::unix::ffi::OsStringExt;
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
        // Parallel sets.
        case(&[("BACKUP_JOBS", "0")], &[], "BACKUP_JOBS"),
        case(&[("BACKUP_JOBS", "65")], &[], "BACKUP_JOBS"),
        case(&[("BACKUP_JOBS", "two")], &[], "BACKUP_JOBS"),
        case(
            &[("BACKUP_JOBS", "4"), ("BACKUP_PARALLELISM", "20")],
            &[],
            "BACKUP_JOBS",
        ),
    ];
    let mut pg = shared;
    let set = ("BACKUP_JOBS", "2");
    pg.extend([
        case(
            &[set, ("BACKUP_SPLIT_SIZE", "big")],
            &[],
            "BACKUP_SPLIT_SIZE",
        ),
        case(
            &[set, ("BACKUP_SPLIT_SIZE", "4Ki")],
            &[],
            "BACKUP_SPLIT_SIZE",
        ),
        case(
            &[set, ("BACKUP_LOCK_TIMEOUT", "soon")],
            &[],
            "BACKUP_LOCK_TIMEOUT",
        ),
        case(
            &[set, ("BACKUP_ALL", "true"), ("BACKUP_DATABASES", "")],
            &[],
            "BACKUP_JOBS",
        ),
        case(&[set], &["-Fc"], "BACKUP_JOBS=1"),
        case(&[set], &["--inserts"], "BACKUP_JOBS=1"),
        case(&[set], &["--schema-only"], "BACKUP_JOBS=1"),
        case(&[set], &["--section=data"], "BACKUP_JOBS=1"),
        case(&[set], &["--snapshot=00000003-1"], "BACKUP_JOBS=1"),
        // pg_dump takes abbreviations of long options.
        case(&[set], &["--data-on"], "BACKUP_JOBS=1"),
        case(
            &[("PGPASSWORD_FILE", "/nonexistent/pw")],
            &[],
            "PGPASSWORD_FILE",
        ),
        case(&[], &["-Fd"], "after --"),
        case(&[], &["-f", "/tmp/x"], "after --"),
        case(&[], &["--fil=/tmp/x"], "after --"),
        case(&[], &["--form=d"], "after --"),
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
        // Parallel sets are PostgreSQL's.
        case(&[("BACKUP_JOBS", "2")], &[], "PostgreSQL-only"),
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

/// One bad value for any command: its arguments (the command first), its
/// environment (values as bytes: some are not UTF-8), and what the message
/// must name.
struct Bad {
    args: Vec<OsString>,
    env: Vec<(String, OsString)>,
    names: &'static str,
}

fn bad(args: &[&str], env: &[(&str, &str)], names: &'static str) -> Bad {
    Bad {
        args: args.iter().map(OsString::from).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), OsString::from(v)))
            .collect(),
        names,
    }
}

/// `bad` with one variable set to bytes that are not UTF-8.
fn not_utf8(args: &[&str], var: &str, names: &'static str) -> Bad {
    Bad {
        args: args.iter().map(OsString::from).collect(),
        env: vec![(
            var.to_string(),
            OsString::from_vec(b"ab\xff\xfecd".to_vec()),
        )],
        names,
    }
}

/// Runs each case with database tools and storage that record any use,
/// and checks it is refused cleanly: exit 2 (never a panic), one message
/// naming the setting, no tool started, storage not reached. Returns the
/// cases that were not, with why.
fn refused(cases: &[Bad]) -> Vec<String> {
    let tmp = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(tmp.path());
    let storage = NetworkTripwire::new();
    let mut failures = Vec::new();
    for c in cases {
        let context = format!("{:?} {:?}", c.args, c.env);
        let mut cmd = dbbr();
        cmd.args(&c.args)
            .env("PATH", &path)
            .env("REMOTE_NAME", storage.remote())
            .env("RCLONE_TIMEOUT", "5s")
            .env("RCLONE_CONTIMEOUT", "5s")
            .env("RCLONE_LOW_LEVEL_RETRIES", "1")
            .env("BACKUP_DATABASES", "app")
            .env("PGPASSWORD", "bad-input-Pw-env")
            .envs(c.env.iter().map(|(k, v)| (k, v)));
        let out = run(&mut cmd);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        let errors = text
            .lines()
            .filter(|l| {
                let l = l.to_lowercase();
                l.contains("error") || l.contains("failed")
            })
            .count();
        let why = if out.status.code() != Some(2) {
            Some(format!("exit {:?}", out.status.code()))
        } else if text.contains("panicked") {
            Some("a panic".into())
        } else if !text.contains(c.names) {
            Some(format!("does not name {}", c.names))
        } else if errors != 1 {
            Some(format!("{errors} error lines"))
        } else if text.contains("bad-input-") {
            Some("a secret shows".into())
        } else if marker.exists() {
            Some("a database tool ran".into())
        } else if storage.reached() {
            Some("the storage was reached".into())
        } else {
            None
        };
        if let Some(why) = why {
            // Start the next case clean.
            let _ = std::fs::remove_file(&marker);
            while storage.reached() {}
            failures.push(format!("{context}: {why}:\n{text}"));
        }
    }
    failures
}

/// Every setting of every command, with values of every bad kind: empty
/// where a value is required, blank, huge, negative, not UTF-8, out of
/// range, odd unicode; each refused before any I/O with one line naming it.
#[test]
fn every_setting_of_every_command_refuses_bad_values() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_str().unwrap();
    let garbage = tmp.path().join("garbage");
    std::fs::write(&garbage, "not a key\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    let long = "x".repeat(5000);
    let backup: &[&str] = &["backup", "postgresql"];
    let check: &[&str] = &["check", "postgresql"];
    let maria: &[&str] = &["backup", "mariadb"];
    let mut cases = Vec::new();
    // Every backup setting is a check setting too.
    for cmd in [backup, check] {
        let b = |env: &[(&str, &str)], names| bad(cmd, env, names);
        cases.extend([
            b(&[("BACKUP_DATABASES", "app,app")], "BACKUP_DATABASES"),
            b(&[("BACKUP_DATABASES", "*,app")], "BACKUP_DATABASES"),
            b(&[("BACKUP_DATABASES", " ,\t, ")], "BACKUP_DATABASES"),
            b(&[("BACKUP_EXCLUDE", "x")], "BACKUP_EXCLUDE"),
            b(
                &[("BACKUP_DATABASES", "*"), ("BACKUP_EXCLUDE", "[x")],
                "BACKUP_EXCLUDE",
            ),
            b(&[("BACKUP_GLOBALS", "maybe")], "--globals"),
            b(&[("BACKUP_ALL", "2")], "--all"),
            b(&[("BACKUP_ALL", "true")], "BACKUP_ALL"),
            b(&[("UPLOAD_MAX_PARTS", "0")], "UPLOAD_MAX_PARTS"),
            b(&[("UPLOAD_MAX_PARTS", "-5")], "UPLOAD_MAX_PARTS"),
            b(&[("UPLOAD_MAX_PARTS", "10001")], "UPLOAD_MAX_PARTS"),
            b(
                &[("UPLOAD_MAX_PARTS", "18446744073709551616")],
                "UPLOAD_MAX_PARTS",
            ),
            b(&[("BACKUP_FILE_NAME", "%")], "BACKUP_FILE_NAME"),
            b(&[("BACKUP_FILE_NAME", "..")], "BACKUP_FILE_NAME"),
            b(&[("BACKUP_FILE_NAME", "x/")], "BACKUP_FILE_NAME"),
            b(&[("BACKUP_FILE_NAME", &long)], "BACKUP_FILE_NAME"),
            b(
                &[("BACKUP_FILE_NAME", "\u{202e}\u{200b}")],
                "BACKUP_FILE_NAME",
            ),
            b(&[("REMOTE_NAME", " ")], "REMOTE_NAME"),
            b(&[("REMOTE_NAME", ":")], "REMOTE_NAME"),
            b(&[("REMOTE_NAME", "::")], "REMOTE_NAME"),
            b(&[("REMOTE_NAME", "store,")], "REMOTE_NAME"),
            b(&[("REMOTE_NAME", ",x=1:y")], "REMOTE_NAME"),
            b(&[("REMOTE_NAME", "st\tore")], "REMOTE_NAME"),
            b(&[("REMOTE_NAME", "st\u{1F600}re")], "REMOTE_NAME"),
            b(
                &[(
                    "REMOTE_NAME",
                    "store,secret_access_key=bad-input-S-1,a b=1:x",
                )],
                "REMOTE_NAME",
            ),
            b(
                &[("REMOTE_NAME", "store,pass='bad-input-S-2:x")],
                "REMOTE_NAME",
            ),
            b(&[("UPLOAD_PREFIX", "a\nb")], "UPLOAD_PREFIX"),
            b(&[("UPLOAD_PREFIX", "a\u{7}b")], "UPLOAD_PREFIX"),
            b(&[("ENCRYPT_RECIPIENTS", "\u{feff}")], "ENCRYPT_RECIPIENTS"),
            b(
                &[("ENCRYPT_RECIPIENTS_FILE", dir)],
                "ENCRYPT_RECIPIENTS_FILE",
            ),
            b(
                &[("ENCRYPT_RECIPIENTS_FILE", garbage)],
                "ENCRYPT_RECIPIENTS_FILE",
            ),
            b(
                &[("ENCRYPT_RECIPIENTS_FILE", "")],
                "ENCRYPT_RECIPIENTS_FILE",
            ),
            b(&[("COMPRESSION", "brotli")], "COMPRESSION"),
            b(&[("COMPRESSION", " ")], "COMPRESSION"),
            b(
                &[("COMPRESSION", "none"), ("COMPRESSION_LEVEL", "3")],
                "COMPRESSION",
            ),
            b(&[("COMPRESSION_LEVEL", "-3")], "COMPRESSION_LEVEL"),
            b(&[("COMPRESSION_LEVEL", "99")], "COMPRESSION_LEVEL"),
            b(&[("COMPRESSION_LEVEL", "4294967296")], "COMPRESSION_LEVEL"),
            b(
                &[("COMPRESSION", "zstd"), ("COMPRESSION_LEVEL", "0")],
                "COMPRESSION_LEVEL",
            ),
            b(&[("PGPASSWORD_FILE", dir)], "PGPASSWORD_FILE"),
            b(&[("PGPASSWORD_FILE", "")], "PGPASSWORD_FILE"),
            b(&[("BACKUP_KEEP_LAST", "-1")], "keep-last"),
            b(&[("BACKUP_KEEP_DAILY", "4294967296")], "keep-daily"),
            b(&[("BACKUP_KEEP_WEEKLY", "1e3")], "keep-weekly"),
            b(&[("BACKUP_KEEP_MONTHLY", " 3")], "keep-monthly"),
            b(&[("BACKUP_KEEP_YEARLY", "٣")], "keep-yearly"),
            b(&[("BACKUP_KEEP_HOURLY", "0")], "BACKUP_KEEP_"),
            b(
                &[("BACKUP_KEEP_WITHIN", "99999999999w")],
                "BACKUP_KEEP_WITHIN",
            ),
            b(&[("BACKUP_KEEP_WITHIN", "36601d")], "BACKUP_KEEP_WITHIN"),
            // Passed `check`, then panicked when pruning after the backup.
            b(
                &[("BACKUP_KEEP_WITHIN", "1000000000w")],
                "BACKUP_KEEP_WITHIN",
            ),
            b(&[("BACKUP_KEEP_WITHIN", "-1d")], "BACKUP_KEEP_WITHIN"),
            b(&[("BACKUP_KEEP_WITHIN", "0s")], "BACKUP_KEEP_WITHIN"),
            b(&[("BACKUP_KEEP_WITHIN", " ")], "BACKUP_KEEP_WITHIN"),
            b(&[("BACKUP_KEEP_WITHIN", "1y")], "BACKUP_KEEP_WITHIN"),
            b(
                &[("BACKUP_KEEP_WITHIN", "9223372036854775807s")],
                "BACKUP_KEEP_WITHIN",
            ),
            b(&[("BACKUP_KEEP_LAST", "3"), ("TZ", "Mars/Olympus")], "TZ"),
            b(&[("BACKUP_SCHEDULE", "0 0 30 2 *")], "BACKUP_SCHEDULE"),
            b(&[("BACKUP_SCHEDULE", "0 0 0 31 4 *")], "BACKUP_SCHEDULE"),
            b(&[("BACKUP_SCHEDULE", "0 0 1 1 * 2030")], "BACKUP_SCHEDULE"),
            b(&[("BACKUP_SCHEDULE", "* * * *")], "BACKUP_SCHEDULE"),
            b(&[("BACKUP_SCHEDULE", "@reboot")], "BACKUP_SCHEDULE"),
            b(&[("BACKUP_SCHEDULE", "60 * * * *")], "BACKUP_SCHEDULE"),
            b(
                &[("BACKUP_SCHEDULE", "@daily"), ("TZ", "Europe/Nowhere")],
                "TZ",
            ),
            b(&[("TZ", "Mars/Olympus")], "TZ"),
            b(&[("TZ", ":/nonexistent/zone")], "TZ"),
            b(&[("TZ", "CET-1CEST")], "TZ"),
            b(&[("VERIFY_SCHEDULE", "@daily")], "VERIFY_SCHEDULE"),
            b(
                &[
                    ("BACKUP_SCHEDULE", "@daily"),
                    ("VERIFY_SCHEDULE", "0 0 31 11 *"),
                ],
                "VERIFY_SCHEDULE",
            ),
            b(&[("VERIFY_LEVEL", "deep")], "--verify-level"),
            b(
                &[("VERIFY_AFTER_BACKUP", "perhaps")],
                "--verify-after-backup",
            ),
            b(
                &[
                    ("VERIFY_AFTER_BACKUP", "true"),
                    ("ENCRYPT_IDENTITY_FILE", "/nonexistent/key"),
                ],
                "ENCRYPT_IDENTITY_FILE",
            ),
            b(&[("NOTIFY_PING_URL", "ftp://h/x")], "NOTIFY_PING_URL"),
            b(&[("NOTIFY_PING_URL", "http://")], "NOTIFY_PING_URL"),
            b(
                &[("NOTIFY_WEBHOOK_URL", "not a url bad-input-Tok-3")],
                "NOTIFY_WEBHOOK_URL",
            ),
            b(&[("NOTIFY_ON", "sometimes")], "--notify-on"),
            b(
                &[("METRICS_TEXTFILE", "/nonexistent/dir/m.prom")],
                "METRICS_TEXTFILE",
            ),
            b(&[("METRICS_TEXTFILE", dir)], "METRICS_TEXTFILE"),
            b(
                &[("METRICS_PUSHGATEWAY_URL", "gopher://bad-input-Tok-4")],
                "METRICS_PUSHGATEWAY_URL",
            ),
            b(&[("LOG_LEVEL", "loud")], "LOG_LEVEL"),
            b(&[("LOG_FORMAT", "yaml")], "--log-format"),
        ]);
        for (var, names) in [
            ("BACKUP_DATABASES", "BACKUP_DATABASES"),
            ("BACKUP_EXCLUDE", "BACKUP_EXCLUDE"),
            ("BACKUP_GLOBALS", "BACKUP_GLOBALS"),
            ("BACKUP_PARALLELISM", "BACKUP_PARALLELISM"),
            ("UPLOAD_MAX_PARTS", "UPLOAD_MAX_PARTS"),
            ("BACKUP_FILE_NAME", "BACKUP_FILE_NAME"),
            ("REMOTE_NAME", "REMOTE_NAME"),
            ("UPLOAD_PREFIX", "UPLOAD_PREFIX"),
            ("ENCRYPT_RECIPIENTS", "ENCRYPT_RECIPIENTS"),
            ("COMPRESSION", "COMPRESSION"),
            ("COMPRESSION_LEVEL", "COMPRESSION_LEVEL"),
            ("BACKUP_KEEP_LAST", "BACKUP_KEEP_LAST"),
            ("BACKUP_KEEP_WITHIN", "BACKUP_KEEP_WITHIN"),
            ("BACKUP_SCHEDULE", "BACKUP_SCHEDULE"),
            ("VERIFY_LEVEL", "VERIFY_LEVEL"),
            ("TZ", "TZ"),
        ] {
            cases.push(not_utf8(cmd, var, names));
        }
        for value in ["0", "65", "-1", "1.5", "99999999999999999999", "x", "٣"] {
            cases.push(b(&[("BACKUP_PARALLELISM", value)], "BACKUP_PARALLELISM"));
        }
    }
    cases.extend([
        bad(maria, &[("MYSQL_PWD_FILE", dir)], "MYSQL_PWD_FILE"),
        bad(
            &["check", "postgresql"],
            &[("CHECK_STORAGE", "all")],
            "--storage-check",
        ),
        not_utf8(check, "CHECK_STORAGE", "CHECK_STORAGE"),
        bad(&["backup", "oracle"], &[], "oracle"),
        bad(&["backup"], &[], "ENGINE"),
    ]);
    // The commands that act on what is stored.
    let remote_bad: &[(&str, &str)] = &[("REMOTE_NAME", "bad/name")];
    let prefix_bad: &[(&str, &str)] = &[("UPLOAD_PREFIX", "a\rb")];
    for cmd in [
        &["list"][..],
        &["prune", "--keep-last", "3"],
        &["verify", "--all"],
        &["remote", "ls"],
        &["remote", "cat", "x"],
    ] {
        cases.push(bad(cmd, remote_bad, "REMOTE_NAME"));
        cases.push(bad(cmd, prefix_bad, "UPLOAD_PREFIX"));
        cases.push(not_utf8(cmd, "REMOTE_NAME", "REMOTE_NAME"));
        cases.push(not_utf8(cmd, "UPLOAD_PREFIX", "UPLOAD_PREFIX"));
        cases.push(bad(cmd, &[("LOG_LEVEL", "")], "LOG_LEVEL"));
    }
    cases.extend([
        bad(&["list", "--database", ""], &[], "--database"),
        bad(&["list", "--database", " "], &[], "--database"),
        bad(&["list", "--json=yes"], &[], "--json"),
        bad(&["prune"], &[], "keep"),
        bad(&["prune", "--keep-last", "0"], &[], "keep"),
        bad(
            &["prune", "--keep-within", "99999999w"],
            &[],
            "BACKUP_KEEP_WITHIN",
        ),
        bad(&["prune", "--keep-within", "0d"], &[], "BACKUP_KEEP_WITHIN"),
        bad(&["prune", "--keep-daily=-2"], &[], "--keep-daily"),
        bad(
            &["prune", "--keep-last", "1", "--orphans-older-than", "x"],
            &[],
            "--orphans-older-than",
        ),
        bad(
            &[
                "prune",
                "--keep-last",
                "1",
                "--orphans-older-than",
                "9999999999w",
            ],
            &[],
            "--orphans-older-than",
        ),
        bad(
            &["prune", "--keep-last", "1", "--database", ""],
            &[],
            "--database",
        ),
        bad(
            &["prune", "--keep-last", "1"],
            &[("TZ", "Nowhere/Zone")],
            "TZ",
        ),
        not_utf8(&["prune"], "BACKUP_KEEP_LAST", "BACKUP_KEEP_LAST"),
        not_utf8(
            &["prune", "--keep-last", "1"],
            "BACKUP_KEEP_WITHIN",
            "BACKUP_KEEP_WITHIN",
        ),
        bad(&["verify"], &[], "--latest"),
        bad(&["verify", "--latest", ""], &[], "--latest"),
        bad(
            &["verify", "--latest", "app", "--restore-into", " "],
            &[],
            "--restore-into",
        ),
        bad(&["verify", ""], &[], "OBJECT"),
        bad(
            &["verify", "--all", "--quick", "--restore-into", "x"],
            &[],
            "--quick",
        ),
        bad(
            &["verify", "--all"],
            &[("METRICS_TEXTFILE", "/nonexistent/dir/m.prom")],
            "METRICS_TEXTFILE",
        ),
        bad(
            &["verify", "--all"],
            &[("ENCRYPT_IDENTITY_FILE", "/nonexistent/key")],
            "ENCRYPT_IDENTITY_FILE",
        ),
        bad(&["remote", "rm", ""], &[], "PATH"),
        bad(&["remote", "cat", " "], &[], "PATH"),
        bad(&["remote", "put", ""], &[], "PATH"),
        bad(&["remote", "rc", "core/quit"], &[], "core/quit"),
        bad(&["remote", "rc", "options/get", "{"], &[], "JSON"),
        bad(&["remote", "frobnicate"], &[], "frobnicate"),
    ]);
    let failures = refused(&cases);
    println!(
        "bad settings: {} tried, {} refused cleanly (exit 2, one line naming the setting, \
         before any I/O)",
        cases.len(),
        cases.len() - failures.len()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
