//! rclone settings that once ended the process from inside rclone (exit 1,
//! no summary) are refused up front, and rclone's log file does not take
//! dbbr's stderr.

use std::net::TcpListener;

use crate::common::*;

#[test]
fn tls_and_log_settings_rclone_would_exit_on_are_refused_up_front() {
    let tmp = tempfile::tempdir().unwrap();
    let garbage = tmp.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let garbage = garbage.to_str().unwrap();
    // An S3 server that is never reached: every case is refused first.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let remote = format!(
        ":s3,provider=Other,endpoint='http://{}',access_key_id=a,secret_access_key=b:bucket",
        listener.local_addr().unwrap()
    );
    let cases: &[(&[(&str, &str)], &str)] = &[
        (
            &[("RCLONE_CA_CERT", "/nonexistent/ca.pem")],
            "RCLONE_CA_CERT",
        ),
        (&[("RCLONE_CA_CERT", garbage)], "RCLONE_CA_CERT"),
        (&[("RCLONE_CLIENT_CERT", garbage)], "RCLONE_CLIENT_KEY"),
        (&[("RCLONE_CLIENT_KEY", garbage)], "RCLONE_CLIENT_CERT"),
        (
            &[
                ("RCLONE_CLIENT_CERT", garbage),
                ("RCLONE_CLIENT_KEY", garbage),
            ],
            "RCLONE_CLIENT_KEY",
        ),
        (&[("RCLONE_SYSLOG", "true")], "RCLONE_SYSLOG"),
        (
            &[
                ("RCLONE_SYSLOG", "true"),
                ("RCLONE_SYSLOG_FACILITY", "NOPE"),
            ],
            "RCLONE_SYSLOG_FACILITY",
        ),
        (&[("RCLONE_LOG_SYSTEMD", "true")], "RCLONE_LOG_SYSTEMD"),
        (
            &[("RCLONE_WINDOWS_EVENT_LOG_LEVEL", "ERROR")],
            "RCLONE_WINDOWS_EVENT_LOG_LEVEL",
        ),
        (
            &[("RCLONE_LOG_FILE", "/nonexistent/dir/rclone.log")],
            "RCLONE_LOG_FILE",
        ),
    ];
    for (env, expected) in cases {
        let err = fail_with(
            dbbr()
                .args(["remote", "ls"])
                .env("REMOTE_NAME", &remote)
                .envs(env.iter().copied()),
            2,
        );
        let lines: Vec<&str> = err.lines().filter(|l| !l.trim().is_empty()).collect();
        assert_eq!(lines.len(), 1, "{env:?}: one line: {err}");
        assert!(err.contains(expected), "{env:?}: {err}");
    }
    assert!(listener.accept().is_err(), "the storage was reached");
}

#[test]
fn rclone_log_file_gets_rclones_lines_masked_and_leaves_stderr_to_dbbr() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("rclone.log");
    let token = "log-file-Header-Token-3391";
    let out = run(dbbr()
        .args(["remote", "cat", "missing.txt"])
        .env("REMOTE_NAME", local_remote(tmp.path()))
        .env("RCLONE_LOG_FILE", &log)
        .env("RCLONE_LOG_LEVEL", "DEBUG")
        .env("RCLONE_HEADER", format!("Authorization: Bearer {token}")));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    // dbbr's own final error line is still on stderr.
    assert!(
        err.contains(" ERROR ") && err.contains("not found: object not found"),
        "stderr: {err:?}"
    );
    let logged = std::fs::read_to_string(&log).unwrap();
    assert!(logged.contains("embedded rclone"), "{logged}");
    assert!(!logged.contains(token) && !err.contains(token), "{logged}");
    assert!(
        !err.contains("embedded rclone"),
        "rclone's lines go to the file: {err}"
    );
}
