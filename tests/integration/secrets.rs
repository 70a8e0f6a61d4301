//! Secrets that once leaked, each in the form that leaked: quoted by rclone,
//! in an rc reply, in a malformed header, in a dump tool's environment.

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
