//! Secrets that once leaked, each in the form that leaked: quoted by rclone,
//! in an rc reply, in a malformed header, in a dump tool's environment.

use std::process::Stdio;
use std::time::Duration;

use crate::common::pg::*;
use crate::common::*;

/// `s` quoted as Go's `%q` quotes it, without the quotes.
fn go_quoted(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Asserts that `text` shows `secret` in none of the forms it can take.
fn assert_hidden(text: &str, secret: &str, context: &str) {
    for form in [secret.to_string(), go_quoted(secret)] {
        assert!(
            !text.contains(&form),
            "{context}: {form:?} shows in:\n{text}"
        );
    }
}

#[test]
fn secrets_quoted_by_rclone_are_masked() {
    let secret = r#"qu\ote"d-S3cret-7781"#;
    // Nothing listens on port 1: the listing fails after rclone logged the
    // remote, quoted, at debug level.
    let remote = format!(
        ":s3,provider=Other,endpoint='http://127.0.0.1:1',access_key_id=ak,\
         secret_access_key='{secret}':bucket"
    );
    let out = run(dbbr()
        .args(["remote", "ls"])
        .env("REMOTE_NAME", &remote)
        .env("RCLONE_LOG_LEVEL", "DEBUG")
        .env("RCLONE_LOW_LEVEL_RETRIES", "1")
        .env("RCLONE_RETRIES", "1")
        .env("LOG_LEVEL", "debug"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_ne!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("***"), "the remote is logged, masked: {text}");
    assert_hidden(&text, secret, "remote ls");
}

#[test]
fn rc_replies_are_redacted() {
    let token = "rc-Header-Token-5521";
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    std::fs::write(
        &conf,
        "[dav]\ntype = webdav\nurl = https://me:rc-Url-Pw-6632@dav.invalid/\n\
         bearer_token = rc-Bearer-7743\n\n[s3]\ntype = s3\nsecret_access_key = rc-S3-8854\n",
    )
    .unwrap();
    let rc = |method: &str| {
        let out = exits(
            dbbr()
                .args(["remote", "rc", method])
                .env("RCLONE_CONFIG", &conf)
                .env("RCLONE_HEADER", format!("Authorization: Bearer {token}")),
            0,
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let options = rc("options/get");
    assert!(options.contains("Timeout"), "{options}");
    assert_hidden(&options, token, "options/get");
    let dump = rc("config/dump");
    assert!(dump.contains("dav.invalid"), "{dump}");
    for secret in ["rc-Url-Pw-6632", "rc-Bearer-7743", "rc-S3-8854", token] {
        assert_hidden(&dump, secret, "config/dump");
    }
    // A reply whose help texts hold `Authorization:` stays JSON.
    let providers: serde_json::Value =
        serde_json::from_str(&rc("config/providers")).expect("config/providers prints JSON");
    assert!(providers["providers"]
        .as_array()
        .is_some_and(|p| p.len() > 10));
    // Methods that would end the process are refused.
    let err = fail_with(dbbr().args(["remote", "rc", "core/quit"]), 2);
    assert!(err.contains("core/quit"), "{err}");
}

#[test]
fn a_malformed_header_never_shows_its_value() {
    let token = "Malformed-Header-Token-9917";
    for (var, log) in [
        ("RCLONE_HEADER", None),
        ("RCLONE_HEADER_UPLOAD", Some("debug")),
        ("RCLONE_HEADER_DOWNLOAD", Some("trace")),
    ] {
        let mut cmd = dbbr();
        cmd.args(["remote", "ls"])
            .env("RCLONE_CONFIG_STORE_TYPE", "local")
            .env(var, format!("Bearer {token}"));
        if let Some(level) = log {
            cmd.env("LOG_LEVEL", level).env("RCLONE_LOG_LEVEL", "DEBUG");
        }
        let out = exits(&mut cmd, 2);
        let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(text.contains(var), "{text}");
        assert_hidden(&text, token, var);
    }
}

/// What `/proc/PID/environ` or `/proc/PID/cmdline` holds, NULs as newlines.
pub fn proc_file(pid: u32, file: &str) -> String {
    let bytes = std::fs::read(format!("/proc/{pid}/{file}")).unwrap_or_default();
    String::from_utf8_lossy(&bytes).replace('\0', "\n")
}

#[test]
fn dump_tools_get_an_allow_listed_environment() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    // Another session holds an exclusive lock, so that the real pg_dump
    // waits while its environment is read.
    let lock = Server::shared().lock_table(&db.name, "t");
    let unrelated = [
        ("AWS_ACCESS_KEY_ID", "AKIA-env-canary-1"),
        ("AWS_SECRET_ACCESS_KEY", "aws-env-canary-2"),
        ("AWS_SESSION_TOKEN", "aws-env-canary-3"),
        ("AZURE_CLIENT_SECRET", "azure-env-canary-4"),
        ("GOOGLE_APPLICATION_CREDENTIALS", "/google-env-canary-5"),
        ("RCLONE_CONFIG_OTHER_PASS", "rclone-env-canary-6"),
        ("ENCRYPT_IDENTITY_FILE", "/encrypt-env-canary-7"),
        ("HTTPS_PROXY", "http://u:proxy-env-canary-8@127.0.0.1:9"),
        ("SOME_APP_SETTING", "other-env-canary-9"),
    ];
    let backup = backup_to(dir.path())
        .env("BACKUP_DATABASES", &db.name)
        .envs(unrelated)
        .env("LC_MESSAGES", "C")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut pid = None;
    let found = wait_until(Duration::from_secs(20), || {
        pid = child_named(backup.id(), "pg_dump");
        pid.is_some_and(|p| proc_file(p, "cmdline").contains(&db.name))
    });
    let Some(pid) = pid.filter(|_| found) else {
        drop(lock);
        let out = wait_at_most(backup, Duration::from_secs(60));
        panic!("no pg_dump child: {}", stderr(&out));
    };
    let environ = proc_file(pid, "environ");
    let cmdline = proc_file(pid, "cmdline");
    drop(lock);
    let out = wait_at_most(backup, Duration::from_secs(60));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));

    let names: Vec<&str> = environ
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, _)| k)
        .collect();
    for (var, value) in unrelated {
        assert!(!names.contains(&var), "{var} reached pg_dump: {names:?}");
        assert!(
            !environ.contains(value) && !cmdline.contains(value),
            "{value}"
        );
    }
    for var in [
        "PATH",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "LC_MESSAGES",
    ] {
        assert!(names.contains(&var), "{var} missing: {names:?}");
    }
    assert!(
        !names
            .iter()
            .any(|n| n.starts_with("RCLONE_") || *n == "REMOTE_NAME"),
        "{names:?}"
    );
    let password = setting("DBBR_TEST_PG_PASSWORD");
    assert!(!cmdline.contains(&password), "{cmdline}");
}

#[test]
fn secrets_from_the_rclone_config_file_are_masked() {
    let token = "config-file-Bearer-2287";
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    // Nothing listens there; with --dump auth rclone logs the request with
    // its Authorization header first.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    std::fs::write(
        &conf,
        format!("[dav]\ntype = webdav\nurl = http://{closed}/\nbearer_token = {token}\n"),
    )
    .unwrap();
    let out = run(dbbr()
        .args(["remote", "ls"])
        .env("REMOTE_NAME", "dav:")
        .env("RCLONE_CONFIG", &conf)
        .env("RCLONE_DUMP", "headers,auth")
        .env("RCLONE_LOW_LEVEL_RETRIES", "1")
        .env("RCLONE_RETRIES", "1")
        .env("LOG_LEVEL", "debug"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("Authorization: Bearer ***"), "{text}");
    assert_hidden(&text, token, "config file");
}

#[test]
fn check_shows_a_connection_string_masked() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let secret = "check-Conn-Secret-4417";
    let remote = format!(":local,pass='{secret}':{}", dir.path().display());
    for json in [false, true] {
        let mut cmd = dbbr();
        Server::shared().env(&mut cmd);
        cmd.args(["check", "postgresql"])
            .env("REMOTE_NAME", &remote)
            .env("BACKUP_DATABASES", &db.name);
        if json {
            cmd.arg("--json");
        }
        let out = exits(&mut cmd, 0);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains(":local,pass='***':"), "{text}");
        assert_hidden(&format!("{text}{}", stderr(&out)), secret, "check");
        if json {
            let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
            assert_eq!(doc["ok"], true, "{text}");
        }
    }
}

#[test]
fn a_named_remote_with_secret_options_works_and_never_shows_them() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("hello.txt"), "hi").unwrap();
    let secret = "named-Opt-Secret-5528";
    let out = exits(
        dbbr()
            .args(["remote", "ls"])
            .env("RCLONE_CONFIG_STORE_TYPE", "local")
            .env(
                "REMOTE_NAME",
                format!("store,copy_links,pass={secret}:{}", dir.path().display()),
            )
            .env("LOG_LEVEL", "debug")
            .env("RCLONE_LOG_LEVEL", "DEBUG"),
        0,
    );
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert!(text.contains("hello.txt"), "{text}");
    assert_hidden(&text, secret, "remote ls");
    // Refused, without showing the remote as given.
    for remote in [
        format!("store,secret_access_key={secret},bad key=1:x"),
        format!("store,secret_access_key='{secret}:x"),
        format!(":s3,secret_access_key={secret}"),
        format!("bad/name,pass={secret}:x"),
    ] {
        let err = fail_with(
            dbbr()
                .args(["remote", "ls"])
                .env("REMOTE_NAME", &remote)
                .env("LOG_LEVEL", "trace"),
            2,
        );
        assert!(err.contains("REMOTE_NAME"), "{err}");
        assert_hidden(&err, secret, &remote);
    }
}
