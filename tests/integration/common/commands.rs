//! Running commands: the dbbr binary with a clean environment and its
//! expected outcome, tools that must succeed, input on stdin, and restore
//! pipelines through the standard tools.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use super::test_secrets;

/// The dbbr binary built for these tests, with none of dbbr's or rclone's
/// settings inherited from the test process.
pub fn dbbr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbbr"));
    for (k, _) in std::env::vars() {
        let dbbr_setting = [
            "RCLONE_", "BACKUP_", "ENCRYPT_", "LOG_", "NOTIFY_", "METRICS_", "VERIFY_", "CHECK_",
        ]
        .iter()
        .any(|p| k.starts_with(p))
            || [
                "REMOTE_NAME",
                "UPLOAD_PREFIX",
                "PGPASSWORD_FILE",
                "MYSQL_PWD_FILE",
            ]
            .contains(&k.as_str());
        if dbbr_setting {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Output's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs the dbbr command `cmd` and asserts that none of the test servers'
/// secrets shows in its output.
pub fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let (so, se) = (String::from_utf8_lossy(&out.stdout), stderr(&out));
    for secret in test_secrets() {
        assert!(
            !so.contains(&secret) && !se.contains(&secret),
            "a secret leaked:\n{so}\n{se}"
        );
    }
    out
}

/// [`run`], asserting exit code `code`.
pub fn exits(cmd: &mut Command, code: i32) -> Output {
    let out = run(cmd);
    assert_eq!(out.status.code(), Some(code), "{}", stderr(&out));
    out
}

/// [`run`] for a command that reports on stderr only (a backup): asserts
/// exit code 0 and nothing on stdout.
pub fn succeed(cmd: &mut Command) -> Output {
    let out = exits(cmd, 0);
    assert!(out.stdout.is_empty(), "the backup writes nothing on stdout");
    out
}

/// [`run`], asserting exit code `code`; returns stderr.
pub fn fail_with(cmd: &mut Command, code: i32) -> String {
    stderr(&exits(cmd, code))
}

/// Runs the tool `cmd` with no input and panics with its stderr if it
/// fails; returns stdout.
pub fn run_ok(cmd: &mut Command) -> String {
    let out = cmd.stdin(Stdio::null()).output().unwrap();
    assert!(out.status.success(), "{cmd:?}: {}", stderr(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `cmd` with `input` on stdin (written from a thread, so a command
/// that writes a lot first cannot deadlock) and collects its output.
pub fn feed(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        // A command may exit without reading everything: its output says why.
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}

/// PATH with `bin` first, so its programs stand in for the real ones.
pub fn path_with(bin: &Path) -> String {
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// Decoder of a plain backup for [`pipeline`]: `$1` is the object.
pub const GUNZIP: &str = r#"gunzip -c "$1""#;
/// Decoder of an encrypted backup for [`pipeline`]: `$1` is the object,
/// `$2` the age (or ssh) identity.
pub const AGE_GUNZIP: &str = r#"age -d -i "$2" "$1" | gunzip"#;

/// A bash command running `decode | client` with `pipefail`, so a failing
/// decoder fails it too; both see `args` as `$1`, `$2`, ...
pub fn pipeline(decode: &str, client: &str, args: &[&Path]) -> Command {
    let mut cmd = Command::new("bash");
    cmd.args([
        "-c",
        &format!("set -euo pipefail; {decode} | {client}"),
        "pipeline",
    ])
    .args(args)
    .stdin(Stdio::null());
    cmd
}
