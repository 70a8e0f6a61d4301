//! Shared helpers: server settings from the environment, remotes, data.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};

use sha2::{Digest, Sha256};

/// A setting exported by scripts/services; tests cannot run without it.
pub fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests with `bash scripts/test`")
    })
}

/// A name unique within this test run, for buckets, folders and databases.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Connection string for the test SFTP server, rooted at `dir` inside it.
pub fn sftp_remote(dir: &str) -> String {
    format!(
        ":sftp,host={},port={},user={},key_file='{}':{}/{dir}",
        setting("DBBR_TEST_SFTP_HOST"),
        setting("DBBR_TEST_SFTP_PORT"),
        setting("DBBR_TEST_SFTP_USER"),
        setting("DBBR_TEST_SFTP_KEY_FILE"),
        setting("DBBR_TEST_SFTP_ROOT"),
    )
}

/// `RCLONE_CONFIG_STORE_*` variables that make the default remote `store`
/// the test SFTP server.
pub fn sftp_store_env() -> Vec<(&'static str, String)> {
    vec![
        ("RCLONE_CONFIG_STORE_TYPE", "sftp".into()),
        ("RCLONE_CONFIG_STORE_HOST", setting("DBBR_TEST_SFTP_HOST")),
        ("RCLONE_CONFIG_STORE_PORT", setting("DBBR_TEST_SFTP_PORT")),
        ("RCLONE_CONFIG_STORE_USER", setting("DBBR_TEST_SFTP_USER")),
        (
            "RCLONE_CONFIG_STORE_KEY_FILE",
            setting("DBBR_TEST_SFTP_KEY_FILE"),
        ),
    ]
}

/// Where files of `sftp_remote(dir)` land on this machine.
pub fn sftp_dir(dir: &str) -> PathBuf {
    Path::new(&setting("DBBR_TEST_SFTP_ROOT")).join(dir)
}

/// Connection string for the test S3 server with a fresh bucket.
pub fn s3_remote(bucket: &str) -> String {
    std::fs::create_dir_all(s3_bucket_dir(bucket)).unwrap();
    format!(
        ":s3,provider=Rclone,endpoint='{}',access_key_id={},secret_access_key={}:{bucket}",
        setting("DBBR_TEST_S3_ENDPOINT"),
        setting("DBBR_TEST_S3_ACCESS_KEY"),
        setting("DBBR_TEST_S3_SECRET_KEY"),
    )
}

/// Where objects of the S3 bucket land on this machine.
pub fn s3_bucket_dir(bucket: &str) -> PathBuf {
    Path::new(&setting("DBBR_TEST_S3_ROOT")).join(bucket)
}

/// Every file below `dir` (recursively), as paths relative to it.
pub fn files_below(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(base, &p, out);
            } else {
                out.push(p.strip_prefix(base).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    walk(dir, dir, &mut out);
    out.sort();
    out
}

/// Deterministic, poorly compressible test data.
pub fn data(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The dbbr binary built for these tests.
pub fn dbbr() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dbbr"));
    // Start from a clean slate: no inherited remote or log settings.
    for (k, _) in std::env::vars() {
        if k.starts_with("RCLONE_")
            || k == "REMOTE_NAME"
            || k == "UPLOAD_PREFIX"
            || k == "LOG_FORMAT"
        {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Output's stderr as text.
pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Runs `cmd` with `input` on stdin (written from a thread, so a command
/// that writes a lot first cannot deadlock) and collects its output.
pub fn feed(cmd: &mut Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap();
    out
}
