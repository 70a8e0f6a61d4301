//! Part sizes of streaming uploads to S3: chosen from the database's size
//! so that the dump fits the store's part limit (`UPLOAD_MAX_PARTS`), unless
//! the user set rclone's own chunk size. The parts are counted on the wire,
//! through a proxy in front of the S3 server.

use std::process::Stdio;

use crate::common::pg::*;
use crate::common::*;

/// Backs up `db` (about 13 MB of dump, stored as it is) through a proxy
/// with `vars`; the number of parts uploaded.
fn parts_of_backup(db: &str, vars: &[(&str, &str)]) -> usize {
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|_| Fault::Pass);
    let bucket = unique("parts");
    let mut cmd = backup_cmd();
    cmd.env("REMOTE_NAME", s3c_remote_at(&proxy.url(), &bucket))
        .env("BACKUP_DATABASES", db)
        .env("COMPRESSION", "none")
        .stdout(Stdio::null());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    exits(&mut cmd, 0);
    let stored: u64 = files_below(&s3c_bucket_dir(&bucket))
        .iter()
        .filter(|f| f.ends_with(".sql"))
        .map(|f| {
            std::fs::metadata(s3c_bucket_dir(&bucket).join(f))
                .unwrap()
                .len()
        })
        .sum();
    assert!(stored > 12_000_000, "{vars:?}: {stored} bytes stored");
    proxy
        .seen()
        .iter()
        .filter(|(line, _)| line.starts_with("PUT ") && line.contains("partNumber="))
        .count()
}

#[test]
fn parts_are_sized_for_the_database_unless_the_user_sized_them() {
    let db = TestDb::create();
    Server::shared().psql(
        &db.name,
        "CREATE TABLE t AS SELECT i, md5(i::text) || md5((i * 7)::text) AS v \
         FROM generate_series(1, 200000) i",
    );
    // rclone's 5 MiB parts.
    assert_eq!(parts_of_backup(&db.name, &[]), 3);
    // Two parts at most: parts large enough for twice the database.
    assert!(parts_of_backup(&db.name, &[("UPLOAD_MAX_PARTS", "2")]) < 2);
    // The user's part size stands.
    assert_eq!(
        parts_of_backup(
            &db.name,
            &[("UPLOAD_MAX_PARTS", "2"), ("RCLONE_S3_CHUNK_SIZE", "10Mi")]
        ),
        2
    );
}
