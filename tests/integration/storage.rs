//! The storage layer in-process, through the library API, against the local
//! backend, SFTP (OpenSSH) and S3 (`rclone serve s3`).

use std::io::{Read, Write};
use std::path::PathBuf;

use dbbr::{Error, Remote};

use crate::common::*;

/// A remote under test and the directory on this machine where its objects
/// land, to check for leftovers behind the storage layer's back.
struct Backend {
    remote: Remote,
    dir: PathBuf,
    /// Whether a half-written object would be visible (so dbbr stages it).
    stages: bool,
    /// The local backend's directory, removed with the backend.
    _tmp: Option<tempfile::TempDir>,
}

fn local() -> Backend {
    let tmp = tempfile::tempdir().unwrap();
    Backend {
        remote: Remote::parse(&local_remote(tmp.path())).unwrap(),
        dir: tmp.path().to_path_buf(),
        stages: true,
        _tmp: Some(tmp),
    }
}

fn sftp() -> Backend {
    let dir = unique("sftp");
    Backend {
        remote: Remote::parse(&sftp_remote(&dir)).unwrap(),
        dir: sftp_dir(&dir),
        stages: true,
        _tmp: None,
    }
}

fn s3() -> Backend {
    let bucket = unique("bucket");
    Backend {
        remote: Remote::parse(&s3_remote(&bucket)).unwrap(),
        dir: s3_bucket_dir(&bucket),
        stages: false,
        _tmp: None,
    }
}

fn round_trip(b: &Backend) {
    let payload = data(20 * 1024 * 1024 + 12345, 7);
    let mut up = b.remote.upload("nested/dir/object.bin").unwrap();
    // Odd-sized writes, as a compressor would produce.
    for chunk in payload.chunks(70_001) {
        up.write_all(chunk).unwrap();
    }
    let done = up.commit().unwrap();
    assert_eq!(done.size, payload.len() as i64);
    assert_eq!(done.path, "nested/dir/object.bin");

    let mut back = Vec::new();
    b.remote
        .download("nested/dir/object.bin")
        .unwrap()
        .read_to_end(&mut back)
        .unwrap();
    assert_eq!(sha256(&back), sha256(&payload));

    let stat = b
        .remote
        .stat("nested/dir/object.bin")
        .unwrap()
        .expect("object exists");
    assert_eq!(stat.size, payload.len() as i64);
    assert!(stat.mod_time.is_some());
    let listed = b.remote.list("", true).unwrap();
    assert!(
        listed
            .iter()
            .any(|e| e.path == "nested/dir/object.bin" && !e.is_dir),
        "{listed:?}"
    );
    assert_eq!(
        files_below(&b.dir),
        vec!["nested/dir/object.bin".to_string()]
    );

    b.remote.delete("nested/dir/object.bin").unwrap();
    assert_eq!(b.remote.stat("nested/dir/object.bin").unwrap(), None);
}

/// Writes enough to be past rclone's small-file buffering, so a real
/// streaming upload is under way, and checks nothing is visible yet.
fn start_big_upload(b: &Backend, name: &str) -> dbbr::Upload {
    let mut up = b.remote.upload(name).unwrap();
    up.write_all(&data(6 * 1024 * 1024, 3)).unwrap();
    up.flush().unwrap();
    assert_eq!(
        b.remote.stat(name).unwrap(),
        None,
        "an unfinished upload must not be visible under its name"
    );
    if b.stages {
        // The partial data is there, under a hidden staging name.
        std::thread::sleep(std::time::Duration::from_millis(200));
        let files = files_below(&b.dir);
        assert!(files.iter().all(|f| f != name), "{files:?}");
    }
    up
}

fn produce_then_fail(b: &Backend, name: &str) -> Result<(), Error> {
    let mut up = start_big_upload(b, name);
    up.write_all(&data(1024 * 1024, 4))
        .map_err(|e| Error::io("write", e))?;
    // The producer fails (as a dump that crashes would): `?` drops the upload.
    Err(Error::Encode("producer failed".into()))?;
    up.commit()?;
    Ok(())
}

fn aborts_leave_nothing(b: &Backend) {
    start_big_upload(b, "explicit.bin").abort();
    drop(start_big_upload(b, "dropped.bin"));
    match produce_then_fail(b, "failed.bin") {
        Err(Error::Encode(message)) => assert_eq!(message, "producer failed"),
        other => panic!("expected the producer's error, got {other:?}"),
    }
    for name in ["explicit.bin", "dropped.bin", "failed.bin"] {
        assert_eq!(b.remote.stat(name).unwrap(), None, "{name} must not exist");
    }
    assert_eq!(b.remote.list("", true).unwrap(), vec![]);
    assert_empty(&b.dir, "no partial upload may remain");
}

fn never_overwrites(b: &Backend) {
    let mut up = b.remote.upload("once.bin").unwrap();
    up.write_all(b"first").unwrap();
    up.commit().unwrap();
    match b.remote.upload("once.bin") {
        Err(Error::Exists(path)) => assert!(path.contains("once.bin"), "{path}"),
        Err(e) => panic!("expected Exists, got {e}"),
        Ok(_) => panic!("expected Exists, got an upload"),
    }
    let mut back = String::new();
    b.remote
        .download("once.bin")
        .unwrap()
        .read_to_string(&mut back)
        .unwrap();
    assert_eq!(back, "first");
}

/// The storage tests every backend must pass, as `BACKEND::TEST`.
macro_rules! on_every_backend {
    ($($backend:ident),+) => {$(
        mod $backend {
            #[test]
            fn round_trip() {
                super::round_trip(&super::$backend());
            }

            #[test]
            fn aborts_leave_nothing() {
                super::aborts_leave_nothing(&super::$backend());
            }

            #[test]
            fn never_overwrites() {
                super::never_overwrites(&super::$backend());
            }
        }
    )+};
}

on_every_backend!(local, sftp, s3);

#[test]
fn empty_upload_commits_an_empty_object() {
    let b = local();
    let done = b.remote.upload("empty").unwrap().commit().unwrap();
    assert_eq!(done.size, 0);
    assert_eq!(files_below(&b.dir), vec!["empty".to_string()]);
}

#[test]
fn download_of_missing_object_is_not_found() {
    let b = local();
    assert!(matches!(b.remote.download("nope"), Err(Error::NotFound(_))));
}

#[test]
fn unknown_remote_says_how_to_configure_it() {
    let remote = Remote::parse("nosuchremote").unwrap();
    let err = remote.upload("x").err().expect("must fail");
    assert!(err.is_usage());
    match &err {
        Error::RemoteNotConfigured { name, env } => {
            assert_eq!(
                (name.as_str(), env.as_str()),
                ("nosuchremote", "NOSUCHREMOTE")
            );
        }
        other => panic!("expected RemoteNotConfigured, got {other:?}"),
    }
    let msg = err.to_string();
    assert!(msg.contains("RCLONE_CONFIG_NOSUCHREMOTE_TYPE"), "{msg}");
}

#[test]
fn errors_do_not_show_connection_string_secrets() {
    let secret = "Sup3rSecretValue-4471";
    // The S3 server rejects the wrong secret; rclone's error may echo its
    // configuration.
    let remote = Remote::parse(&s3_remote_with_secret(&unique("bucket"), secret)).unwrap();
    let err = remote.list("", false).expect_err("must fail");
    let msg = err.to_string();
    assert!(!msg.contains(secret), "{msg}");
    assert!(matches!(err, Error::Storage(_)), "{err:?}");
    assert!(msg.contains("SignatureDoesNotMatch"), "{msg}");
    let bad = Remote::parse(&format!(":nosuchbackend,password={secret}:x")).unwrap();
    let err = bad.upload("x").err().expect("must fail");
    let msg = err.to_string();
    assert!(!msg.contains(secret), "{msg}");
    assert!(msg.contains("nosuchbackend"), "{msg}");
    // A configuration error, not a remote without configuration.
    assert!(err.is_usage(), "{err:?}");
    assert!(!matches!(err, Error::RemoteNotConfigured { .. }), "{err:?}");
    assert!(msg.contains("didn't find backend called"), "{msg}");
}

#[test]
fn aborting_from_another_thread_fails_the_upload_and_leaves_nothing() {
    for b in [sftp(), s3()] {
        let mut up = start_big_upload(&b, "aborted-elsewhere.bin");
        let aborter = up.aborter();
        std::thread::spawn(move || aborter.abort()).join().unwrap();
        // Writes and the commit now fail, whatever the writer does next.
        let more = up
            .write_all(&data(2 * 1024 * 1024, 5))
            .and_then(|()| up.flush());
        assert!(more.is_err(), "a write after the abort must fail");
        match up.commit() {
            Err(Error::Storage(_)) => {}
            Err(e) => panic!("expected a storage error, got {e:?}"),
            Ok(done) => panic!("an aborted upload cannot commit: {done:?}"),
        }
        assert_eq!(b.remote.stat("aborted-elsewhere.bin").unwrap(), None);
        assert_empty(&b.dir, "no partial upload may remain");
    }
}
