//! S3 (versitygw, which checks access keys) configured by the recipes
//! of docs/storage.md: access keys, the AWS SDK's own credentials (`ENV_AUTH`), and
//! SSE-C.

use std::path::Path;

use crate::common::backend_checks::*;
use crate::common::*;

/// The recipe `name` for a fresh bucket of the test server, the secret key
/// read from a file in `dir`.
fn s3_recipe(
    name: &str,
    dir: &Path,
    bucket: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let secret = dir.join("s3-secret-key");
    write_private(&secret, &setting("DBBR_TEST_S3C_SECRET_KEY"));
    let prefix = format!("UPLOAD_PREFIX={bucket}/postgres");
    let mut swaps = vec![
        ("https://s3.example.com", setting("DBBR_TEST_S3C_ENDPOINT")),
        ("AKIAEXAMPLE", setting("DBBR_TEST_S3C_ACCESS_KEY")),
        (
            "/run/secrets/s3-secret-key",
            secret.to_str().unwrap().to_string(),
        ),
        ("UPLOAD_PREFIX=my-bucket/postgres", prefix),
    ];
    swaps.extend(extra.iter().map(|(f, t)| (*f, t.to_string())));
    let swaps: Vec<(&str, &str)> = swaps.iter().map(|(f, t)| (*f, t.as_str())).collect();
    recipe(name, &swaps)
}

/// What the server holds below `bucket/postgres/` and the multipart
/// uploads it keeps unfinished in the bucket (`unfinished:ID`).
fn backend(vars: Vec<(String, String)>, bucket: &str) -> Backend {
    let bucket = bucket.to_string();
    Backend {
        vars,
        server_view: Box::new(move || {
            let mut view = disk_view(&s3c_bucket_dir(&bucket).join("postgres"));
            view.extend(
                s3c_unfinished_uploads(&bucket)
                    .into_iter()
                    .map(|u| format!("unfinished:{u}")),
            );
            view
        }),
    }
}

#[test]
fn backends_s3_access_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let bucket = unique("s3keys");
    let vars = s3_recipe("s3-keys", tmp.path(), &bucket, &[]);
    let b = backend(vars.clone(), &bucket);
    b.round_trip();
    let endpoint = setting("DBBR_TEST_S3C_ENDPOINT");
    let port = endpoint.rsplit(':').next().unwrap();
    // rclone and the AWS SDK both retry a refused connection, with growing
    // delays: minutes by default (see docs/storage.md). One low-level retry
    // keeps this test short.
    let mut unreachable = with_var(
        &vars,
        "RCLONE_CONFIG_STORE_ENDPOINT",
        &endpoint.replace(port, &closed_port()),
    );
    unreachable.push(("RCLONE_LOW_LEVEL_RETRIES".into(), "1".into()));
    b.fails_cleanly("unreachable", &unreachable, &["connection refused"]);
    b.fails_cleanly(
        "wrong secret key",
        &with_var(
            &vars,
            "RCLONE_CONFIG_STORE_SECRET_ACCESS_KEY",
            "not-the-secret-key-0000",
        ),
        &["StatusCode: 403"],
    );
    b.fails_cleanly(
        "unknown access key",
        &with_var(&vars, "RCLONE_CONFIG_STORE_ACCESS_KEY_ID", "nobody"),
        // versitygw answers a HEAD by an unknown key with 404, and the
        // first write with its own error code.
        &["No user exists with the provided access key ID"],
    );
    b.aborted_upload_leaves_nothing(|view, _| view.iter().any(|f| f.starts_with("unfinished:")));
}

#[test]
fn backends_s3_env_auth() {
    let tmp = tempfile::tempdir().unwrap();
    let bucket = unique("s3env");
    let vars = s3_recipe("s3-env-auth", tmp.path(), &bucket, &[]);
    assert!(vars
        .iter()
        .any(|(k, v)| k == "RCLONE_CONFIG_STORE_ENV_AUTH" && v == "true"));
    let b = backend(vars.clone(), &bucket);
    b.round_trip();
    b.fails_cleanly(
        "wrong AWS_SECRET_ACCESS_KEY",
        &with_var(&vars, "AWS_SECRET_ACCESS_KEY", "not-the-secret-key-0000"),
        &["StatusCode: 403"],
    );
}

/// versitygw accepts the SSE-C headers but does not encrypt (it stores and
/// serves the plain bytes, key or no key), so this proves only that the
/// recipe's settings work end to end, not that a server encrypts: see
/// docs/storage.md.
#[test]
fn backends_s3_sse_c_settings_round_trip() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("sse-c-key");
    write_private(&key, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\n");
    let bucket = unique("s3ssec");
    let vars = s3_recipe(
        "s3-sse-c",
        tmp.path(),
        &bucket,
        &[("/run/secrets/sse-c-key", key.to_str().unwrap())],
    );
    assert!(vars
        .iter()
        .any(|(k, v)| k == "RCLONE_S3_SSE_CUSTOMER_KEY_BASE64" && v.len() == 44));
    backend(vars, &bucket).round_trip();
}
