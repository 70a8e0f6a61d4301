//! A signal while a command's storage requests are stalled: every command
//! (backup once and scheduled, check, list, restore, verify, prune and the
//! remote commands) ends within 5 s with 128 + the signal's number, never
//! 0, and a last line naming what was stopped. The stall is injected by a
//! proxy in front of a real S3 server (the first request, the HEAD or LIST
//! that opens the remote, never gets an answer); one case stalls an SFTP
//! server's handshake instead.

use std::net::TcpListener;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::pg::*;
use crate::common::*;

/// How long a command may take to end after the signal.
const LIMIT: Duration = Duration::from_secs(5);

/// `cmd` with the PostgreSQL server's settings and the remote, its output
/// captured.
fn with_remote(mut cmd: Command, remote: &str) -> Command {
    Server::shared().env(&mut cmd);
    cmd.env("REMOTE_NAME", remote)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    cmd
}

/// `dbbr ARGS...`.
fn dbbr_with(args: &[&str]) -> Command {
    let mut cmd = dbbr();
    cmd.args(args);
    cmd
}

/// Runs `cmd` until `stalled` says it is waiting for storage, sends `sig`
/// and returns its output and how long it took to end after the signal.
fn signal_when(
    mut cmd: Command,
    sig: &str,
    mut stalled: impl FnMut() -> bool,
) -> (Output, Duration) {
    let mut child = cmd.spawn().unwrap();
    let waiting = wait_until(Duration::from_secs(60), || {
        stalled() || child.try_wait().unwrap().is_some()
    });
    assert!(waiting, "the command never reached the stalled request");
    if child.try_wait().unwrap().is_some() {
        let out = child.wait_with_output().unwrap();
        panic!("the command ended before the signal: {}", stderr(&out));
    }
    // Let it sit in the stalled call for a moment, as it would in life.
    std::thread::sleep(Duration::from_millis(300));
    let start = Instant::now();
    signal(child.id(), sig);
    let out = wait_at_most(child, Duration::from_secs(60));
    (out, start.elapsed())
}

/// Asserts that `out` is the end of a command stopped by `sig` (exit
/// `code`) within [`LIMIT`], whose last line names `stopped`.
fn assert_stopped(what: &str, out: &Output, took: Duration, sig: &str, code: i32, stopped: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "{what}: {err}");
    assert!(took < LIMIT, "{what}: took {took:?} after SIG{sig}: {err}");
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.contains(&format!("interrupted by SIG{sig}: {stopped}")),
        "{what}: the last line does not say what was stopped: {err}"
    );
    if !stopped.contains("upload") {
        assert!(!err.contains("upload was aborted"), "{what}: {err}");
    }
    eprintln!("{what}: exit {code} {took:?} after SIG{sig}: {last}");
}

/// Every storage request through the proxy is stalled: the first one, which
/// opens the remote, never gets an answer. The remote's path is below the
/// bucket, so that opening it sends requests (HEAD, then LIST).
fn stalled_everything() -> (Proxy, String) {
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|_| Fault::Stall);
    let remote = s3c_remote_at(&proxy.url(), &format!("{}/backups", unique("open")));
    (proxy, remote)
}

#[test]
fn a_signal_while_the_remote_is_opened_ends_every_command() {
    let db = TestDb::small();
    let backup = || {
        let mut cmd = dbbr_with(&["backup", "postgresql"]);
        cmd.env("BACKUP_DATABASES", &db.name);
        cmd
    };
    let scheduled = || {
        let mut cmd = backup();
        // Every second: the first run starts at once.
        cmd.env("BACKUP_SCHEDULE", "* * * * * *").env("TZ", "UTC");
        cmd
    };
    let check = || {
        let mut cmd = dbbr_with(&["check", "postgresql"]);
        cmd.env("BACKUP_DATABASES", &db.name);
        cmd
    };
    let restore = || dbbr_with(&["restore", "--latest", &db.name, "--to", "nowhere_db"]);
    // (what, command, signal, exit code, what the last line says was stopped)
    let cases: Vec<(&str, Command, &str, i32, &str)> = vec![
        (
            "backup",
            backup(),
            "TERM",
            143,
            "the run was stopped: any backup still in progress was aborted and nothing of it was stored",
        ),
        (
            "backup on a schedule",
            scheduled(),
            "TERM",
            143,
            "the scheduler stopped",
        ),
        ("check", check(), "TERM", 143, "the check was not finished"),
        (
            "list",
            dbbr_with(&["list"]),
            "TERM",
            143,
            "the listing was not finished",
        ),
        (
            "list",
            dbbr_with(&["list", "--json"]),
            "INT",
            130,
            "the listing was not finished",
        ),
        ("restore", restore(), "TERM", 143, "the restore was stopped"),
        ("restore", restore(), "INT", 130, "the restore was stopped"),
        (
            "verify",
            dbbr_with(&["verify", "--all"]),
            "TERM",
            143,
            "the verification was not finished",
        ),
        (
            "prune",
            dbbr_with(&["prune", "--keep-last", "1"]),
            "TERM",
            143,
            "the prune was not finished",
        ),
        (
            "remote ls",
            dbbr_with(&["remote", "ls"]),
            "TERM",
            143,
            "the listing was not finished",
        ),
        (
            "remote cat",
            dbbr_with(&["remote", "cat", "x.sql.gz"]),
            "TERM",
            143,
            "the download was stopped",
        ),
        (
            "remote put",
            dbbr_with(&["remote", "put", "x.sql.gz"]),
            "TERM",
            143,
            "the upload was aborted and nothing was stored",
        ),
        (
            "remote rm",
            dbbr_with(&["remote", "rm", "x.sql.gz"]),
            "TERM",
            143,
            "the deletion was stopped",
        ),
    ];
    for (what, cmd, sig, code, stopped) in cases {
        let (proxy, remote) = stalled_everything();
        let cmd = with_remote(cmd, &remote);
        let (out, took) = signal_when(cmd, sig, || !proxy.seen().is_empty());
        assert_stopped(what, &out, took, sig, code, stopped);
        if what == "list" {
            assert!(
                out.stdout.is_empty(),
                "{what}: a listing of nothing was printed: {}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

#[test]
fn list_never_exits_0_after_a_signal() {
    // A real backup, then a listing whose read of its manifest is stalled:
    // the listing cannot be complete, whatever it saw before.
    let db = TestDb::small();
    let bucket = format!("{}/backups", unique("lst"));
    succeed(
        backup_cmd()
            .env("REMOTE_NAME", s3c_remote(&bucket))
            .env("BACKUP_DATABASES", &db.name),
    );
    let proxy = Proxy::start(&s3c_address());
    proxy.set(|line| {
        if line.starts_with("GET ") && line.contains(".manifest.json") {
            Fault::Stall
        } else {
            Fault::Pass
        }
    });
    let cmd = with_remote(dbbr_with(&["list"]), &s3c_remote_at(&proxy.url(), &bucket));
    let (out, took) = signal_when(cmd, "TERM", || {
        proxy.seen().iter().any(|(_, fault)| *fault == Fault::Stall)
    });
    assert_stopped(
        "list stalled on a manifest",
        &out,
        took,
        "TERM",
        143,
        "the listing was not finished",
    );
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        !listed.contains(&db.name),
        "listed as if complete: {listed}"
    );
}

#[test]
fn a_signal_while_an_sftp_server_does_not_answer_ends_the_command() {
    // A "server" that accepts connections and never says a word: the SSH
    // handshake that opens the remote waits for it.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let held = std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in silent.incoming().take(4) {
            held.push(conn);
        }
        held
    });
    let remote = format!(
        ":sftp,host=127.0.0.1,port={port},user=nobody,key_file='{}',known_hosts_file=none:backups",
        setting("DBBR_TEST_SFTP_KEY_FILE"),
    );
    for (cmd, sig, code) in [
        (&["list"][..], "TERM", 143),
        (&["remote", "ls"][..], "INT", 130),
    ] {
        let start = Instant::now();
        let mut child = with_remote(dbbr_with(cmd), &remote).spawn().unwrap();
        // The connection is taken at once; then the handshake waits.
        std::thread::sleep(Duration::from_secs(2));
        assert!(child.try_wait().unwrap().is_none(), "{cmd:?} ended early");
        let term = Instant::now();
        signal(child.id(), sig);
        let out = wait_at_most(child, Duration::from_secs(60));
        assert_stopped(
            &format!("{cmd:?} on sftp"),
            &out,
            term.elapsed(),
            sig,
            code,
            "the listing was not finished",
        );
        assert!(start.elapsed() < Duration::from_secs(30));
    }
    drop(held);
}

#[test]
fn a_signal_while_a_later_request_is_stalled_ends_the_command() {
    // Two real backups, then commands whose later requests are stalled:
    // the claim of a new backup, reading a backup's data, deleting one.
    let db = TestDb::small();
    let bucket = format!("{}/backups", unique("late"));
    for _ in 0..2 {
        succeed(
            backup_cmd()
                .env("REMOTE_NAME", s3c_remote(&bucket))
                .env("BACKUP_DATABASES", &db.name),
        );
        // Backup names have a resolution of one second.
        std::thread::sleep(Duration::from_millis(1100));
    }
    let stored = || {
        let mut files = files_below(&s3c_bucket_dir(&bucket));
        files.retain(|f| !f.starts_with(".sgwtmp/") && !f.contains("/.sgwtmp/"));
        files
    };
    let before = stored();
    assert_eq!(
        before.len(),
        4,
        "two backups and their manifests: {before:?}"
    );
    let object = before
        .iter()
        .find(|f| f.ends_with(".sql.gz"))
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    let data_get = |l: &str| l.starts_with("GET ") && l.contains(".sql.gz") && !l.contains(".json");
    type Pick = fn(&str) -> bool;
    let backup = || {
        let mut cmd = dbbr_with(&["backup", "postgresql"]);
        cmd.env("BACKUP_DATABASES", &db.name);
        cmd
    };
    // (what, command, the requests stalled, what the last line says)
    let cases: Vec<(&str, Command, Pick, &str)> = vec![
        (
            "backup writing its claim",
            backup(),
            |l| l.starts_with("PUT ") && l.contains(".claim"),
            "the run was stopped: any backup still in progress was aborted",
        ),
        (
            "restore reading the data",
            dbbr_with(&["restore", "--latest", &db.name, "--to-stdout"]),
            data_get,
            "the restore was stopped",
        ),
        (
            "verify reading the data",
            dbbr_with(&["verify", "--all"]),
            data_get,
            "the verification was not finished",
        ),
        (
            "remote cat reading the data",
            dbbr_with(&["remote", "cat", &object]),
            data_get,
            "the download was stopped",
        ),
        (
            "prune deleting",
            dbbr_with(&["prune", "--keep-last", "1"]),
            |l| l.starts_with("DELETE "),
            "the prune was not finished",
        ),
    ];
    for (what, cmd, pick, stopped) in cases {
        let proxy = Proxy::start(&s3c_address());
        proxy.set(move |line| {
            if pick(line) {
                Fault::Stall
            } else {
                Fault::Pass
            }
        });
        let cmd = with_remote(cmd, &s3c_remote_at(&proxy.url(), &bucket));
        let (out, took) = signal_when(cmd, "TERM", || {
            proxy.seen().iter().any(|(_, f)| *f == Fault::Stall)
        });
        assert_stopped(what, &out, took, "TERM", 143, stopped);
    }
    // Nothing was added, and what the stalled DELETE was for is still there.
    let after = stored();
    assert_eq!(after, before, "the bucket changed");
}

#[test]
fn clean_up_after_a_signal_is_bounded_and_a_second_signal_skips_it() {
    let db = TestDb::small();
    for twice in [false, true] {
        // From the backup's data upload on, the server answers nothing: the
        // clean-up after the signal (aborting unfinished uploads, removing
        // the claim) waits for it too.
        let proxy = Proxy::start(&s3c_address());
        let mut dead = false;
        proxy.set(move |line| {
            dead |= line.starts_with("PUT ") && line.contains(".sql.gz") && !line.contains("/.");
            if dead {
                Fault::Stall
            } else {
                Fault::Pass
            }
        });
        let mut cmd = dbbr_with(&["backup", "postgresql"]);
        cmd.env("BACKUP_DATABASES", &db.name);
        let mut child = with_remote(cmd, &s3c_remote_at(&proxy.url(), &unique("cln")))
            .spawn()
            .unwrap();
        let stalled = wait_until(Duration::from_secs(60), || {
            proxy.seen().iter().any(|(_, f)| *f == Fault::Stall)
        });
        assert!(stalled, "the upload never started: {:?}", proxy.seen());
        std::thread::sleep(Duration::from_millis(300));
        let first = Instant::now();
        signal(child.id(), "TERM");
        let mut second = None;
        if twice {
            std::thread::sleep(Duration::from_secs(1));
            assert!(
                child.try_wait().unwrap().is_none(),
                "ended before the clean-up's bound"
            );
            second = Some(Instant::now());
            signal(child.id(), "TERM");
        }
        let out = wait_at_most(child, Duration::from_secs(60));
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(143), "{err}");
        match second {
            // The signal's own 5 s, then the clean-up's own bound (5 s).
            None => {
                let took = first.elapsed();
                assert!(took < Duration::from_secs(12), "took {took:?}: {err}");
                assert!(
                    err.contains("interrupted by SIGTERM: the run was stopped"),
                    "{err}"
                );
                eprintln!("clean-up with a dead server: exit 143 {took:?} after SIGTERM");
            }
            Some(second) => {
                let took = second.elapsed();
                assert!(
                    took < Duration::from_secs(2),
                    "took {took:?} after the second signal: {err}"
                );
                assert!(err.contains("SIGTERM again: exiting at once"), "{err}");
                eprintln!("second SIGTERM: exit 143 {took:?} after it");
            }
        }
    }
}
