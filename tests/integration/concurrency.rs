//! Runs that write the same name at the same time, on every backend: a run
//! that exits 0 has its own data (and manifest), intact; no run replaces or
//! deletes what another wrote; nothing is left of the runs that lost.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::pg::*;
use crate::common::*;

/// Where a test writes: the remote dbbr is given, and where its objects
/// land on this machine.
struct Target {
    backend: &'static str,
    remote: String,
    dir: PathBuf,
    _local: Option<tempfile::TempDir>,
}

/// A fresh, empty place on each backend: a local directory, the SFTP
/// server, `rclone serve s3` (ignores conditional writes: only the claims
/// protect) and versitygw (honours If-None-Match).
fn targets() -> Vec<Target> {
    let local = tempfile::tempdir().unwrap();
    let sftp = unique("cc");
    std::fs::create_dir_all(sftp_dir(&sftp)).unwrap();
    let (s3, s3c) = (unique("cc"), unique("cc"));
    vec![
        Target {
            backend: "local",
            remote: local_remote(local.path()),
            dir: local.path().to_path_buf(),
            _local: Some(local),
        },
        Target {
            backend: "sftp",
            remote: sftp_remote(&sftp),
            dir: sftp_dir(&sftp),
            _local: None,
        },
        Target {
            backend: "s3",
            remote: s3_remote(&s3),
            dir: s3_bucket_dir(&s3),
            _local: None,
        },
        Target {
            backend: "s3-conditional",
            remote: s3c_remote(&s3c),
            dir: s3c_bucket_dir(&s3c),
            _local: None,
        },
    ]
}

/// The objects below `dir` as the backend's users see them (the
/// conditional-write server keeps its own state in `.sgwtmp`).
fn objects(dir: &Path) -> Vec<String> {
    files_below(dir)
        .into_iter()
        .filter(|f| !f.starts_with(".sgwtmp/"))
        .collect()
}

/// Starts `dbbr remote put NAME` with its input held open.
fn start_put(remote: &str, name: &str) -> Child {
    dbbr()
        .args(["remote", "put", name])
        .env("REMOTE_NAME", remote)
        .env("LOG_LEVEL", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn concurrent_uploads_of_one_name_never_replace_each_other() {
    const RUNS: usize = 8;
    for target in targets() {
        let inputs: Vec<Vec<u8>> = (0..RUNS).map(|i| data(300_000, i as u64)).collect();
        let mut children: Vec<Child> = (0..RUNS)
            .map(|_| start_put(&target.remote, "x.bin"))
            .collect();
        // Every run has opened its upload and sent a little before any ends.
        for (child, input) in children.iter_mut().zip(&inputs) {
            let _ = child.stdin.as_mut().unwrap().write_all(&input[..1000]);
        }
        std::thread::sleep(Duration::from_secs(1));
        for (child, input) in children.iter_mut().zip(&inputs) {
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(&input[1000..]);
        }
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| wait_at_most(c, Duration::from_secs(90)))
            .collect();
        let stored = std::fs::read(target.dir.join("x.bin")).ok();
        let mut won = 0;
        for (i, out) in outs.iter().enumerate() {
            let err = stderr(out);
            match out.status.code() {
                Some(0) => {
                    won += 1;
                    assert!(
                        stored.as_deref() == Some(&inputs[i][..]),
                        "{}: run {i} exited 0 but x.bin is not its data",
                        target.backend
                    );
                }
                Some(1) => assert!(
                    err.contains("already exists") || err.contains("another run is writing"),
                    "{}: run {i}: {err}",
                    target.backend
                ),
                other => panic!("{}: run {i} exited {other:?}: {err}", target.backend),
            }
        }
        assert_eq!(won, 1, "{}: {won} runs succeeded", target.backend);
        assert_eq!(
            objects(&target.dir),
            vec!["x.bin".to_string()],
            "{}: claims or staging files left behind",
            target.backend
        );
        eprintln!("{}: {RUNS} runs, 1 succeeded, x.bin intact", target.backend);
    }
}

#[test]
fn an_object_written_meanwhile_by_another_tool_is_never_replaced() {
    // A writer that knows nothing of claims puts an object at the name while
    // the upload runs: the upload must fail rather than replace it. This
    // holds where placing the object is atomic (local, SFTP) or the store
    // honours If-None-Match; `rclone serve s3` ignores it, so it is left out.
    for target in targets().into_iter().filter(|t| t.backend != "s3") {
        for size in [50_000, 7_000_000] {
            let name = format!("y{size}.bin");
            let input = data(size, 7);
            let mut child = start_put(&target.remote, &name);
            child
                .stdin
                .as_mut()
                .unwrap()
                .write_all(&input[..1000])
                .unwrap();
            std::thread::sleep(Duration::from_millis(800));
            write_directly(&target, &name, b"theirs");
            let mut stdin = child.stdin.take().unwrap();
            let _ = stdin.write_all(&input[1000..]);
            drop(stdin);
            let out = wait_at_most(child, Duration::from_secs(90));
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{}: {err}", target.backend);
            assert!(err.contains("already exists"), "{}: {err}", target.backend);
            assert_eq!(
                std::fs::read(target.dir.join(&name)).unwrap(),
                b"theirs",
                "{}: replaced",
                target.backend
            );
        }
        assert_eq!(
            objects(&target.dir),
            vec!["y50000.bin".to_string(), "y7000000.bin".to_string()],
            "{}: claims, staging files or the run's own object left behind",
            target.backend
        );
    }
    assert!(s3c_unfinished_uploads_all().is_empty());
}

/// Writes `name` on the target's server without dbbr (and its claims): on
/// disk for local and SFTP, with a plain S3 PUT for the S3 server.
fn write_directly(target: &Target, name: &str, content: &[u8]) {
    if target.backend != "s3-conditional" {
        std::fs::create_dir_all(&target.dir).unwrap();
        std::fs::write(target.dir.join(name), content).unwrap();
        return;
    }
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), content).unwrap();
    let bucket = target.dir.file_name().unwrap().to_string_lossy();
    let out = Command::new("curl")
        .args(["-sS", "-f", "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"])
        .args(["--aws-sigv4", "aws:amz:us-east-1:s3", "--user"])
        .arg(format!(
            "{}:{}",
            setting("DBBR_TEST_S3C_ACCESS_KEY"),
            setting("DBBR_TEST_S3C_SECRET_KEY")
        ))
        .arg("-T")
        .arg(file.path())
        .arg(format!(
            "{}/{bucket}/{name}",
            setting("DBBR_TEST_S3C_ENDPOINT")
        ))
        .output()
        .unwrap();
    assert!(out.status.success(), "PUT {name}: {}", stderr(&out));
}

/// Unfinished multipart uploads in any bucket of the conditional-write
/// server.
fn s3c_unfinished_uploads_all() -> Vec<String> {
    files_below(Path::new(&setting("DBBR_TEST_S3C_ROOT")))
        .into_iter()
        .filter(|f| f.contains("/.sgwtmp/multipart/"))
        .collect()
}

#[test]
fn concurrent_backups_of_one_name_each_keep_data_and_manifest() {
    const RUNS: usize = 6;
    let db = TestDb::small();
    for target in targets() {
        let start = |_| -> Child {
            let mut cmd: Command = backup_cmd();
            cmd.env("REMOTE_NAME", &target.remote)
                .env("BACKUP_DATABASES", &db.name)
                .env("BACKUP_FILE_NAME", "fixed")
                .stdout(Stdio::null())
                .stderr(Stdio::piped());
            cmd.spawn().unwrap()
        };
        let children: Vec<Child> = (0..RUNS).map(start).collect();
        let outs: Vec<_> = children
            .into_iter()
            .map(|c| wait_at_most(c, Duration::from_secs(120)))
            .collect();
        let won = outs.iter().filter(|o| o.status.code() == Some(0)).count();
        for out in &outs {
            let code = out.status.code();
            assert!(
                code == Some(0) || code == Some(1),
                "{}: {code:?} {}",
                target.backend,
                stderr(out)
            );
        }
        assert!(won <= 1, "{}: {won} runs succeeded", target.backend);
        let found = objects(&target.dir);
        if won == 1 {
            assert_eq!(
                found,
                vec![
                    "fixed.sql.gz".to_string(),
                    "fixed.sql.gz.manifest.json".to_string()
                ],
                "{}",
                target.backend
            );
            // The manifest describes exactly the data next to it.
            checked_manifest(&target.dir, "fixed.sql.gz", "postgresql");
        } else {
            assert!(
                !found.iter().any(|f| f.ends_with(".manifest.json")),
                "{}: a manifest without a successful run: {found:?}",
                target.backend
            );
        }
        eprintln!("{}: {RUNS} backups, {won} succeeded", target.backend);
    }
}
