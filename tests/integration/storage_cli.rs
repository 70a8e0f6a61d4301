//! The storage layer through the `dbbr` binary, for what depends on the
//! process environment: RCLONE_* variables, config files and signals.

use std::io::Write;
use std::process::Stdio;
use std::time::Duration;

use crate::common::*;

#[test]
fn remote_from_environment_variables() {
    let dir = unique("envremote");
    let out = dbbr()
        .args(["remote", "put", "hello.txt"])
        .envs(sftp_store_env())
        .env("UPLOAD_PREFIX", sftp_dir(&dir))
        .stdin_bytes(b"hello over sftp\n");
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
    let out = dbbr()
        .args(["remote", "put", "f.txt"])
        .env("RCLONE_CONFIG", &conf)
        .env("REMOTE_NAME", "mine")
        .stdin_bytes(b"via config file");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        std::fs::read_to_string(target.join("f.txt")).unwrap(),
        "via config file"
    );
}

#[test]
fn global_rclone_options_from_environment_are_in_effect() {
    let out = dbbr()
        .args(["remote", "rc", "options/get"])
        .env("RCLONE_MULTI_THREAD_STREAMS", "7")
        .env("RCLONE_BUFFER_SIZE", "3Mi")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["main"]["MultiThreadStreams"], 7, "{v}");
    assert_eq!(v["main"]["BufferSize"], 3 * 1024 * 1024, "{v}");
}

#[test]
fn rclone_log_level_from_environment_reaches_our_log() {
    let tmp = tempfile::tempdir().unwrap();
    let out = dbbr()
        .args([
            "remote",
            "--remote-name",
            &format!(":local:{}", tmp.path().display()),
            "ls",
        ])
        .env("RCLONE_LOG_LEVEL", "DEBUG")
        .env("LOG_LEVEL", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("embedded rclone v1."),
        "{}",
        stderr(&out)
    );
    // And without it, rclone's debug lines are not produced.
    let quiet = dbbr()
        .args([
            "remote",
            "--remote-name",
            &format!(":local:{}", tmp.path().display()),
            "ls",
        ])
        .env("LOG_LEVEL", "debug")
        .output()
        .unwrap();
    assert!(
        !stderr(&quiet).contains("embedded rclone v1."),
        "{}",
        stderr(&quiet)
    );
}

#[test]
fn bad_rclone_environment_is_a_usage_error() {
    let out = dbbr()
        .args(["remote", "ls"])
        .env("RCLONE_CONFIG_STORE_TYPE", "local")
        .env("RCLONE_VERBOSE", "lots")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("RCLONE_VERBOSE"), "{}", stderr(&out));
    let out = dbbr()
        .args(["remote", "ls"])
        .env("RCLONE_CONFIG_STORE_TYPE", "local")
        .env("RCLONE_TIMEOUT", "soon")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}

#[test]
fn encrypted_config_without_password_fails_without_prompting() {
    let tmp = tempfile::tempdir().unwrap();
    let conf = tmp.path().join("rclone.conf");
    std::fs::write(&conf, "# Encrypted rclone configuration File\n\nRCLONE_ENCRYPT_V0:\nYWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5emFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6\n").unwrap();
    let out = dbbr()
        .args(["remote", "ls"])
        .env("RCLONE_CONFIG", &conf)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("RCLONE_CONFIG_PASS"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn unknown_remote_is_a_usage_error_naming_the_fix() {
    let out = dbbr()
        .args(["remote", "ls"])
        .env("REMOTE_NAME", "nowhere")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("RCLONE_CONFIG_NOWHERE_TYPE"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sigterm_during_upload_reaches_rust_and_aborts() {
    let tmp = tempfile::tempdir().unwrap();
    let mut child = dbbr()
        .args([
            "remote",
            "--remote-name",
            &format!(":local:{}", tmp.path().display()),
            "put",
            "stream.bin",
        ])
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
    // SAFETY-free: signal the child with the kill command.
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
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
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("interrupted"), "{err}");
    assert_eq!(
        files_below(tmp.path()),
        Vec::<String>::new(),
        "nothing may remain"
    );
}

/// `Command::output` with bytes on stdin.
trait StdinBytes {
    fn stdin_bytes(&mut self, bytes: &[u8]) -> std::process::Output;
}

impl StdinBytes for std::process::Command {
    fn stdin_bytes(&mut self, bytes: &[u8]) -> std::process::Output {
        let mut child = self
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(bytes).unwrap();
        child.wait_with_output().unwrap()
    }
}
