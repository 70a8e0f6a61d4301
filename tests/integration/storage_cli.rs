//! The storage layer through the `dbbr` binary, for what depends on the
//! process environment: RCLONE_* variables, config files and signals.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

#[test]
fn remote_from_environment_variables() {
    let dir = unique("envremote");
    let out = feed(
        dbbr()
            .args(["remote", "put", "hello.txt"])
            .envs(sftp_store_env())
            .env("UPLOAD_PREFIX", sftp_dir(&dir)),
        b"hello over sftp\n",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let written = std::fs::read_to_string(sftp_dir(&dir).join("hello.txt")).unwrap();
    assert_eq!(written, "hello over sftp\n");
}

#[test]
fn remote_from_config_file_named_by_rclone_config() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    let target = tmp.path().join("target");
    std::fs::write(
        &conf,
        "[mine]\ntype = alias\nremote = :local:".to_string() + target.to_str().unwrap() + "\n",
    )
    .unwrap();
    let out = feed(
        dbbr()
            .args(["remote", "put", "f.txt"])
            .env("RCLONE_CONFIG", &conf)
            .env("REMOTE_NAME", "mine"),
        b"via config file",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(target.join("f.txt")).unwrap(),
        "via config file"
    );
}

#[test]
fn global_rclone_options_from_environment_are_in_effect() {
    let out = exits(
        dbbr()
            .args(["remote", "rc", "options/get"])
            .env("RCLONE_MULTI_THREAD_STREAMS", "7")
            .env("RCLONE_BUFFER_SIZE", "3Mi"),
        0,
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["main"]["MultiThreadStreams"], 7, "{v}");
    assert_eq!(v["main"]["BufferSize"], 3 * 1024 * 1024, "{v}");
}

#[test]
fn rclone_log_level_from_environment_reaches_our_log() {
    let tmp = tempfile::tempdir().unwrap();
    let ls = || {
        let mut cmd = dbbr();
        cmd.args(["remote", "--remote-name", &local_remote(tmp.path()), "ls"])
            .env("LOG_LEVEL", "debug");
        cmd
    };
    let err = stderr(&exits(ls().env("RCLONE_LOG_LEVEL", "DEBUG"), 0));
    assert!(err.contains("embedded rclone v1."), "{err}");
    // And without it, rclone's debug lines are not produced.
    let err = stderr(&exits(&mut ls(), 0));
    assert!(!err.contains("embedded rclone v1."), "{err}");
}

#[test]
fn bad_rclone_environment_is_a_usage_error() {
    let ls_with = |var: &str, value: &str| {
        fail_with(
            dbbr()
                .args(["remote", "ls"])
                .env("RCLONE_CONFIG_STORE_TYPE", "local")
                .env(var, value),
            2,
        )
    };
    let err = ls_with("RCLONE_VERBOSE", "lots");
    assert!(err.contains("RCLONE_VERBOSE"), "{err}");
    // The option and the value it could not parse.
    let err = ls_with("RCLONE_TIMEOUT", "soon");
    assert!(err.to_lowercase().contains("timeout"), "{err}");
    assert!(err.contains("soon"), "{err}");
}

#[test]
fn encrypted_config_without_password_fails_without_prompting() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    std::fs::write(&conf, "# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5emFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6\n").unwrap();
    let err = fail_with(
        dbbr()
            .args(["remote", "ls"])
            .env("RCLONE_CONFIG", &conf)
            .stdin(Stdio::null()),
        2,
    );
    assert!(err.contains("RCLONE_CONFIG_PASS"), "{err}");
}

#[test]
fn unknown_remote_is_a_usage_error_naming_the_fix() {
    let err = fail_with(
        dbbr().args(["remote", "ls"]).env("REMOTE_NAME", "nowhere"),
        2,
    );
    assert!(err.contains("RCLONE_CONFIG_NOWHERE_TYPE"), "{err}");
}

#[test]
fn sigterm_during_upload_reaches_rust_and_aborts() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = dbbr()
        .args(["remote", "--remote-name", &local_remote(tmp.path())])
        .args(["put", "stream.bin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let chunk = data(1024 * 1024, 9);
    for _ in 0..8 {
        stdin.write_all(&chunk).unwrap();
    }
    signal(child.id(), "TERM");
    // Keep feeding until the child stops reading.
    for _ in 0..200 {
        if stdin.write_all(&chunk).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    let err = stderr(&out);
    // Our own handler ran: rclone did not exit the process on the signal.
    assert_eq!(out.status.code(), Some(143), "128 + SIGTERM: {err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_empty(tmp.path(), "nothing may remain");
}

#[test]
fn help_never_shows_the_remote_from_the_environment() {
    let canary = "help-canary-secret-4417";
    for command in [
        &["backup", "postgresql", "--help"][..],
        &["list", "--help"],
        &["restore", "--help"],
        &["verify", "--help"],
        &["prune", "--help"],
        &["remote", "ls", "--help"],
    ] {
        let out = dbbr()
            .env(
                "REMOTE_NAME",
                format!(":s3,secret_access_key={canary}:bucket"),
            )
            .args(command)
            .output()
            .unwrap();
        assert!(out.status.success(), "{command:?}: {}", stderr(&out));
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("REMOTE_NAME"), "{command:?}: {text}");
        assert!(!text.contains(canary), "{command:?}: {text}");
    }
}
