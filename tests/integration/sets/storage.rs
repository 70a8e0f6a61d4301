//! Sets on S3 (versitygw) through a proxy that fails requests: a part
//! refused fails the run and leaves nothing (no object, no unfinished
//! multipart upload); a request of any kind failed once is retried and the
//! set is stored whole; a download failed once is retried by a restore,
//! and a part that cannot be read restores nothing.

use std::process::Command;

use super::*;
use crate::common::pg::{Server, TestDb};

/// A set backup of `db` to `bucket` through `proxy`.
fn backup_via(s: &Server, proxy: &Proxy, bucket: &str, db: &str) -> Command {
    let mut cmd = set_backup(s, db, Path::new("/nonexistent"), "2");
    cmd.env("REMOTE_NAME", s3c_remote_at(&proxy.url(), bucket));
    cmd
}

/// What the bucket holds (the server's own temporary files left out).
fn held(bucket: &str) -> Vec<String> {
    files_below(&s3c_bucket_dir(bucket))
        .into_iter()
        .filter(|f| !f.starts_with(".sgwtmp/"))
        .collect()
}

#[test]
fn storage_faults_on_a_set_fail_cleanly_or_are_retried() {
    let s = Server::shared();
    let db = TestDb::create();
    fill(&s, &db.name, 30_000);

    // One table part refused (403): exit 1, nothing of the set left.
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|line| {
        if line.starts_with("PUT ") && line.contains("-public.orders-2.") {
            Fault::Status(403)
        } else {
            Fault::Pass
        }
    });
    let bucket = unique("set403");
    let out = run(&mut backup_via(&s, &proxy, &bucket, &db.name));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("403") || err.contains("AccessDenied"), "{err}");
    assert_eq!(held(&bucket), Vec::<String>::new(), "{err}");
    assert_eq!(s3c_unfinished_uploads(&bucket), Vec::<String>::new());

    // Each kind of request failed once (503): retried, the set is whole.
    for kind in [
        RequestKind::Head,
        RequestKind::List,
        RequestKind::Put,
        RequestKind::Post,
        RequestKind::Delete,
    ] {
        let proxy = Proxy::start(&s3c_address());
        let mut left = 1;
        proxy.set(move |line| {
            if RequestKind::of(line) == kind && left > 0 {
                left -= 1;
                Fault::Status(503)
            } else {
                Fault::Pass
            }
        });
        let bucket = unique("set503");
        let out = run(&mut backup_via(&s, &proxy, &bucket, &db.name));
        let err = stderr(&out);
        let failed = proxy
            .seen()
            .iter()
            .filter(|(_, f)| *f == Fault::Status(503))
            .count();
        assert_eq!(failed, 1, "{}: {:?}", kind.name(), proxy.seen());
        assert_eq!(out.status.code(), Some(0), "{}: {err}", kind.name());
        let mut verify = dbbr();
        verify
            .env("REMOTE_NAME", s3c_remote(&bucket))
            .args(["verify", "--latest", &db.name]);
        succeed(&mut verify);
    }

    // Restores through the proxy: a part's download failed once is
    // retried; a part that cannot be read restores nothing.
    let bucket = unique("setget");
    let direct = Proxy::start(&s3c_address());
    succeed(&mut backup_via(&s, &direct, &bucket, &db.name));
    for (fault, code) in [(Fault::Status(503), 0), (Fault::Status(403), 1)] {
        let proxy = Proxy::start(&s3c_address());
        let mut left = if code == 0 { 1 } else { u32::MAX };
        proxy.set(move |line| {
            let part =
                RequestKind::of(line) == RequestKind::GetData && line.contains("-public.orders-1.");
            if part && left > 0 {
                left -= 1;
                fault
            } else {
                Fault::Pass
            }
        });
        let target = unique("setget");
        let mut cmd = dbbr();
        s.env(&mut cmd)
            .env("REMOTE_NAME", s3c_remote_at(&proxy.url(), &bucket))
            .env("RCLONE_LOW_LEVEL_RETRIES", "2")
            .args(["restore", "--latest", &db.name, "--to", &target, "--create"]);
        let out = run(&mut cmd);
        assert_eq!(out.status.code(), Some(code), "{fault:?}: {}", stderr(&out));
        let _restored = TestDb {
            name: target.clone(),
        };
        if code == 0 {
            assert_eq!(checksums(&s, &target), checksums(&s, &db.name));
        } else {
            assert!(!exists(&s, &target), "{fault:?}");
        }
    }
}

/// SFTP finds out which hashes it can check on its first upload; a set's
/// parts start uploading at once on a new remote, and each must still be
/// checked and stored.
#[test]
fn a_set_goes_to_sftp_and_comes_back() {
    let s = Server::shared();
    let db = TestDb::create();
    s.psql(
        &db.name,
        "CREATE TABLE t AS SELECT i, md5(i::text) AS h FROM generate_series(1, 100000) i;",
    );
    let folder = unique("setsftp");
    let remote = sftp_remote(&folder);
    for _ in 0..3 {
        let mut cmd = set_backup(&s, &db.name, Path::new("/nonexistent"), "3");
        cmd.env("REMOTE_NAME", &remote);
        succeed(&mut cmd);
    }
    let sets = files_below(&sftp_dir(&folder))
        .into_iter()
        .filter(|f| f.ends_with(".set.manifest.json"))
        .count();
    assert_eq!(sets, 3);
    let target = unique("setsftpr");
    let mut cmd = dbbr();
    s.env(&mut cmd)
        .env("REMOTE_NAME", &remote)
        .args(["restore", "--latest", &db.name, "--to", &target, "--create"]);
    succeed(&mut cmd);
    let restored = TestDb { name: target };
    assert_eq!(checksums(&s, &restored.name), checksums(&s, &db.name));
}
