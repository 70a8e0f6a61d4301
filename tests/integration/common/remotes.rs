//! Remotes for the test storage servers (SFTP, S3) and local directories,
//! and where their objects land on this machine.

use std::path::{Path, PathBuf};

use super::setting;

/// Connection string for a local directory.
pub fn local_remote(dir: &Path) -> String {
    format!(":local:{}", dir.display())
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
    s3_remote_with_secret(bucket, &setting("DBBR_TEST_S3_SECRET_KEY"))
}

/// Connection string for the test S3 server with a fresh bucket, signing
/// with `secret` (the server only accepts its own).
pub fn s3_remote_with_secret(bucket: &str, secret: &str) -> String {
    std::fs::create_dir_all(s3_bucket_dir(bucket)).unwrap();
    format!(
        ":s3,provider=Rclone,endpoint='{}',access_key_id={},secret_access_key={secret}:{bucket}",
        setting("DBBR_TEST_S3_ENDPOINT"),
        setting("DBBR_TEST_S3_ACCESS_KEY"),
    )
}

/// Where objects of the S3 bucket land on this machine.
pub fn s3_bucket_dir(bucket: &str) -> PathBuf {
    Path::new(&setting("DBBR_TEST_S3_ROOT")).join(bucket)
}
