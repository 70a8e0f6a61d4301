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

/// Connection string for the S3 server that honours conditional writes,
/// with a fresh bucket, at `endpoint` (the server's own, or a proxy's).
pub fn s3c_remote_at(endpoint: &str, bucket: &str) -> String {
    format!(
        ":s3,provider=Other,endpoint='{endpoint}',access_key_id={},secret_access_key={}:{bucket}",
        setting("DBBR_TEST_S3C_ACCESS_KEY"),
        setting("DBBR_TEST_S3C_SECRET_KEY"),
    )
}

/// [`s3c_remote_at`] the server itself.
pub fn s3c_remote(bucket: &str) -> String {
    s3c_remote_at(&setting("DBBR_TEST_S3C_ENDPOINT"), bucket)
}

/// Where objects of a bucket of the conditional-write S3 server land.
pub fn s3c_bucket_dir(bucket: &str) -> PathBuf {
    Path::new(&setting("DBBR_TEST_S3C_ROOT")).join(bucket)
}

/// The multipart uploads the conditional-write S3 server holds unfinished
/// in `bucket`, as `OBJECT-HASH/UPLOAD-ID`: one directory each below
/// `.sgwtmp/multipart` (empty ones: the parts' data and metadata are in the
/// server's sidecar directory, so listing files would find none).
pub fn s3c_unfinished_uploads(bucket: &str) -> Vec<String> {
    let subdirs = |dir: &Path| -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Vec::new();
        };
        entries
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.is_dir())
            .collect()
    };
    let root = s3c_bucket_dir(bucket).join(".sgwtmp/multipart");
    let mut uploads: Vec<String> = subdirs(&root)
        .iter()
        .flat_map(|object| subdirs(object))
        .map(|upload| upload.strip_prefix(&root).unwrap().display().to_string())
        .collect();
    uploads.sort();
    uploads
}

/// `host:port` of the conditional-write S3 server, for a proxy.
pub fn s3c_address() -> String {
    setting("DBBR_TEST_S3C_ENDPOINT")
        .trim_start_matches("http://")
        .to_string()
}
