//! Storage faults and signals at each phase of a backup, injected by a
//! proxy in front of a real S3 server (versitygw, which keeps unfinished
//! multipart uploads where the tests can see them): each ends with the
//! documented exit code, a one-line cause, and nothing at the backup's name,
//! no manifest, no claim and no unfinished multipart upload.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::pg::*;
use crate::common::*;

/// A database whose gzip dump is about 7 MiB: larger than one 5 MiB
/// multipart chunk, so parts are sent while the dump runs.
fn large_db() -> TestDb {
    let db = TestDb::create();
    Server::shared().psql(
        &db.name,
        "CREATE TABLE big AS SELECT i, md5(i::text) || md5((i * 7)::text) AS v \
         FROM generate_series(1, 250000) i;",
    );
    db
}

/// A backup of `db` to a fresh bucket through `proxy`.
fn backup_via(proxy: &Proxy, bucket: &str, db: &str) -> Command {
    let mut cmd = backup_cmd();
    cmd.env("REMOTE_NAME", s3c_remote_at(&proxy.url(), bucket))
        .env("BACKUP_DATABASES", db)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// Asserts the bucket holds nothing a user could mistake for a backup (or
/// anything at all) and the server holds no unfinished multipart upload.
fn assert_nothing_left(bucket: &str, context: &str) {
    let left: Vec<String> = files_below(&s3c_bucket_dir(bucket))
        .into_iter()
        .filter(|f| !f.starts_with(".sgwtmp/"))
        .collect();
    assert!(left.is_empty(), "left in the bucket: {left:?}\n{context}");
    let unfinished = s3c_unfinished_uploads(bucket);
    assert!(
        unfinished.is_empty(),
        "unfinished multipart uploads: {unfinished:?}\n{context}"
    );
}

/// The error lines of a run's stderr.
fn error_lines(err: &str) -> Vec<&str> {
    err.lines().filter(|l| l.contains(" ERROR ")).collect()
}

/// Waits until the proxy has seen a request `matches` picks, then sends
/// `sig` to the backup and returns its output and how long it took to end.
fn signal_when(
    proxy: &Proxy,
    mut backup: Child,
    matches: impl Fn(&str) -> bool,
    sig: &str,
) -> (Output, Duration) {
    let seen = wait_until(Duration::from_secs(60), || {
        proxy
            .seen()
            .iter()
            .any(|(line, fault)| *fault == Fault::Stall && matches(line))
            || backup.try_wait().unwrap().is_some()
    });
    assert!(seen, "the backup never reached the stalled request");
    assert!(
        backup.try_wait().unwrap().is_none(),
        "the backup ended before the signal: {:?}",
        proxy.seen()
    );
    // Let it sit in the stalled call for a moment, as it would in life.
    std::thread::sleep(Duration::from_millis(500));
    let start = Instant::now();
    signal(backup.id(), sig);
    let out = wait_at_most(backup, Duration::from_secs(60));
    (out, start.elapsed())
}

/// Whether `line` writes the backup's data object (not a claim, not the
/// manifest).
fn data_put(line: &str) -> bool {
    line.starts_with("PUT ")
        && line.contains(".sql.gz")
        && !line.contains("/.")
        && !line.contains(".manifest.json")
}

#[test]
fn a_signal_at_each_phase_stops_the_run_within_seconds() {
    let small = TestDb::small();
    let large = large_db();
    // (phase, database, the requests stalled, signal, exit code)
    type Pick = fn(&str) -> bool;
    let phases: [(&str, &str, Pick, &str, i32); 5] = [
        ("open", &small.name, |l| l.starts_with("HEAD "), "TERM", 143),
        ("open", &small.name, |l| l.starts_with("HEAD "), "INT", 130),
        (
            "stream",
            &large.name,
            |l| l.starts_with("PUT ") && l.contains("partNumber="),
            "TERM",
            143,
        ),
        ("commit", &small.name, data_put, "TERM", 143),
        (
            "manifest",
            &small.name,
            |l| l.starts_with("PUT ") && l.contains(".manifest.json"),
            "TERM",
            143,
        ),
    ];
    for (phase, db, pick, sig, code) in phases {
        let proxy = Proxy::start(&s3c_address());
        proxy.set(move |line| {
            if pick(line) {
                Fault::Stall
            } else {
                Fault::Pass
            }
        });
        let bucket = unique("sig");
        let backup = backup_via(&proxy, &bucket, db).spawn().unwrap();
        let (out, took) = signal_when(&proxy, backup, pick, sig);
        let err = stderr(&out);
        let context = format!("SIG{sig} at {phase}: {err}");
        assert_eq!(out.status.code(), Some(code), "{context}");
        assert!(took < Duration::from_secs(8), "took {took:?}: {context}");
        assert!(err.contains("interrupted"), "{context}");
        assert_nothing_left(&bucket, &context);
        eprintln!("SIG{sig} at {phase}: exit {code} after {took:?}, nothing left");
    }
}

#[test]
fn a_signal_while_the_database_does_not_answer_stops_the_run() {
    // The version probe connects to a "server" that accepts and never
    // answers: the signal must not wait for the connect timeout.
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let silent = Proxy::start(&format!(
        "{}:{}",
        setting("DBBR_TEST_PG_HOST"),
        setting("DBBR_TEST_PG_PORT")
    ));
    silent.set(|_| Fault::Stall);
    let port = silent.url().rsplit(':').next().unwrap().to_string();
    let backup = backup_to(dir.path())
        .env("BACKUP_DATABASES", &db.name)
        .env("PGPORT", &port)
        .env("PGCONNECT_TIMEOUT", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    let start = Instant::now();
    signal(backup.id(), "TERM");
    let out = wait_at_most(backup, Duration::from_secs(60));
    let took = start.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(took < Duration::from_secs(5), "took {took:?}: {err}");
    assert_empty(dir.path(), &err);
}

#[test]
fn storage_faults_fail_loudly_or_are_retried() {
    let small = TestDb::small();
    let large = large_db();

    // 503 for the first two writes of the data: retried, then stored.
    let proxy = Proxy::start(&s3c_address());
    let mut left = 2;
    proxy.set(move |line| {
        if data_put(line) && left > 0 {
            left -= 1;
            Fault::Status(503)
        } else {
            Fault::Pass
        }
    });
    let bucket = unique("f503");
    let out = exits(&mut backup_via(&proxy, &bucket, &small.name), 0);
    let refused = proxy
        .seen()
        .iter()
        .filter(|(_, f)| *f == Fault::Status(503))
        .count();
    assert_eq!(refused, 2, "{:?}", proxy.seen());
    let object = only_object(&s3c_bucket_dir(&bucket));
    checked_manifest(&s3c_bucket_dir(&bucket), &object, "postgresql");
    // The report counts the retries; rclone's debug lines stay hidden.
    let err = stderr(&out);
    assert!(err.contains("(2 storage retries)"), "{err}");
    assert!(!err.contains("low level retry"), "{err}");
    eprintln!("503 twice: retried and stored, 2 retries reported");

    // 403 on the data: fails at once, nothing left.
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|line| {
        if data_put(line) {
            Fault::Status(403)
        } else {
            Fault::Pass
        }
    });
    let bucket = unique("f403");
    let start = Instant::now();
    let out = run(&mut backup_via(&proxy, &bucket, &small.name));
    let took = start.elapsed();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(20), "403 took {took:?}: {err}");
    let errors = error_lines(&err);
    assert!(
        errors
            .iter()
            .any(|l| l.contains("AccessDenied") || l.contains("403")),
        "{err}"
    );
    assert_nothing_left(&bucket, &err);
    eprintln!("403: exit 1 after {took:?}, nothing left");

    // The server dies mid-upload: every part's connection is cut after
    // 1 MB. rclone's retries run out; the run fails, nothing is left.
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|line| {
        if line.starts_with("PUT ") && line.contains("partNumber=") {
            Fault::CutAfter(1_000_000)
        } else {
            Fault::Pass
        }
    });
    let bucket = unique("fcut");
    let out = run(backup_via(&proxy, &bucket, &large.name)
        .env("RCLONE_LOW_LEVEL_RETRIES", "2")
        .env("RCLONE_RETRIES", "1"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(error_lines(&err).len(), 1, "one line of cause: {err}");
    assert_nothing_left(&bucket, &err);
    eprintln!("connection cut mid-part: exit 1, nothing left");

    // The server accepts connections and never answers: rclone's timeout
    // ends it (RCLONE_TIMEOUT, RCLONE_CONTIMEOUT; 5 minutes by default).
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|_| Fault::Stall);
    let bucket = unique("fmute");
    let start = Instant::now();
    let out = run(backup_via(&proxy, &bucket, &small.name)
        .env("RCLONE_TIMEOUT", "2s")
        .env("RCLONE_LOW_LEVEL_RETRIES", "1")
        .env("RCLONE_RETRIES", "1"));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(start.elapsed() < Duration::from_secs(60), "{err}");
    assert_nothing_left(&bucket, &err);
    eprintln!("silent server: exit 1 after {:?}", start.elapsed());

    // Nothing listens at all.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let start = Instant::now();
    let mut backup = backup_cmd();
    backup
        .env(
            "REMOTE_NAME",
            s3c_remote_at(&format!("http://127.0.0.1:{closed}"), "nowhere"),
        )
        .env("BACKUP_DATABASES", &small.name)
        .env("RCLONE_LOW_LEVEL_RETRIES", "1")
        .env("RCLONE_RETRIES", "1");
    let out = run(&mut backup);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(error_lines(&err).len(), 1, "one line of cause: {err}");
    assert!(err.contains("connection refused"), "{err}");
    eprintln!("unreachable: exit 1 after {:?}", start.elapsed());
}

/// The manifest's write lands but its answer is lost (the connection cut
/// before any byte of it came back): the write tried again is refused as
/// the name is taken, by the run's own manifest. The backup is stored
/// whole, and said so; never a manifest whose data the run removed.
#[test]
fn a_manifest_written_whose_answer_was_lost_is_the_runs_own() {
    let small = TestDb::small();
    let proxy = Proxy::start(&s3c_address());
    let mut left = 1;
    proxy.set(move |line| {
        if line.starts_with("PUT ") && line.contains(".manifest.json?") && left > 0 {
            left -= 1;
            Fault::CutReply(0)
        } else {
            Fault::Pass
        }
    });
    let bucket = unique("flost");
    let out = run(&mut backup_via(&proxy, &bucket, &small.name));
    let err = stderr(&out);
    let cut = proxy
        .seen()
        .iter()
        .filter(|(_, f)| *f == Fault::CutReply(0))
        .count();
    assert_eq!(cut, 1, "{:?}", proxy.seen());
    assert_eq!(out.status.code(), Some(0), "{err}");
    let object = only_object(&s3c_bucket_dir(&bucket));
    checked_manifest(&s3c_bucket_dir(&bucket), &object, "postgresql");
    let mut list = dbbr();
    list.env("REMOTE_NAME", s3c_remote(&bucket)).arg("list");
    let listed = exits(&mut list, 0);
    assert!(
        String::from_utf8_lossy(&listed.stdout).contains(&object),
        "{}",
        stderr(&listed)
    );
}
