//! Notifications after a backup: healthchecks-style pings and the JSON
//! webhook, received by a real HTTP server on loopback; a failing
//! notification changes nothing else, and no secret is sent or logged;
//! endpoints that never answer hold neither a run nor a shutdown for long.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::pg::*;
use crate::common::*;

/// The start ping first, then the end's notifications, which are sent at
/// the same time (in any order): `got`'s (method, path) in that order, the
/// end's sorted.
fn start_then_end(got: &[Received]) -> Vec<(String, String)> {
    let mut paths: Vec<(String, String)> = got
        .iter()
        .map(|r| (r.method.clone(), r.path.clone()))
        .collect();
    if paths.len() > 1 {
        paths[1..].sort();
    }
    paths
}

/// The request of `got` to `path`.
fn to<'a>(got: &'a [Received], path: &str) -> &'a Received {
    got.iter()
        .find(|r| r.path == path)
        .unwrap_or_else(|| panic!("nothing sent to {path}: {got:?}"))
}

#[test]
fn a_successful_backup_pings_start_and_success_and_calls_the_webhook() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let server = Recorder::start(200);
    let out = succeed(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("LOG_FORMAT", "json")
            .env("NOTIFY_PING_URL", format!("{}/ping/tok-5f1e", server.url))
            .env("NOTIFY_WEBHOOK_URL", format!("{}/hook", server.url)),
    );
    let err = stderr(&out);
    assert!(
        !err.contains("tok-5f1e"),
        "the ping URL's token was logged: {err}"
    );
    let (object, m) = only_backup(dir.path(), POSTGRESQL, &format!("{}-", db.name), ".sql.gz");
    let run_id = m.run_id.clone().expect("the manifest records the run id");

    let got = server.wait_for(3);
    let pair = |m: &str, p: &str| (m.to_string(), p.to_string());
    assert_eq!(
        start_then_end(&got),
        [
            pair("POST", "/ping/tok-5f1e/start"),
            pair("POST", "/hook"),
            pair("POST", "/ping/tok-5f1e"),
        ]
    );
    let ping = to(&got, "/ping/tok-5f1e");
    assert!(
        ping.body.contains(&format!("{}: ok", db.name)),
        "{}",
        ping.body
    );
    let hook = to(&got, "/hook");
    assert_eq!(hook.header("content-type"), Some("application/json"));
    let summary = hook.json();
    assert_eq!(summary["schema"], 1);
    assert_eq!(summary["kind"], "backup");
    assert_eq!(summary["ok"], true);
    assert_eq!(summary["run_id"], run_id.as_str());
    assert_eq!(summary["engine"], POSTGRESQL);
    let first = &summary["databases"][0];
    assert_eq!(first["database"], db.name.as_str());
    assert_eq!(first["ok"], true);
    assert_eq!(first["object"], object.as_str());
    assert_eq!(first["stored_bytes"], m.stored_bytes);
    assert_eq!(first["raw_bytes"], m.raw_bytes);
    assert_eq!(first["sha256"], m.sha256.as_str());
    assert!(first["duration_seconds"].as_f64().unwrap() > 0.0);
    assert!(first["error"].is_null());

    // Every log line is JSON and carries the run id of the manifest.
    for line in err.lines() {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert_eq!(v["run_id"], run_id.as_str(), "{line}");
        assert!(
            v["timestamp"].is_string() && v["level"].is_string(),
            "{line}"
        );
        assert!(v["message"].is_string(), "{line}");
    }
}

#[test]
fn a_failed_backup_pings_fail_with_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let server = Recorder::start(200);
    let missing = unique("nosuch");
    let err = fail_with(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &missing)
            .env("NOTIFY_PING_URL", format!("{}/ping", server.url))
            .env("NOTIFY_WEBHOOK_URL", format!("{}/hook", server.url))
            .env("NOTIFY_ON", "failure"),
        1,
    );
    let got = server.wait_for(3);
    let paths: Vec<String> = start_then_end(&got).into_iter().map(|(_, p)| p).collect();
    assert_eq!(paths, ["/ping/start", "/hook", "/ping/fail"], "{err}");
    let fail = &to(&got, "/ping/fail").body;
    assert!(fail.contains("FAILED") && fail.contains(&missing), "{fail}");
    let summary = to(&got, "/hook").json();
    assert_eq!(summary["ok"], false);
    assert_eq!(summary["databases"][0]["ok"], false);
    let error = summary["databases"][0]["error"].as_str().unwrap();
    assert!(error.contains(&missing), "{error}");
    // The text log names the run too.
    let run_id = summary["run_id"].as_str().unwrap();
    assert!(
        err.lines().all(|l| l.contains(&format!("run={run_id}"))),
        "{err}"
    );
    assert_empty(dir.path(), &err);
}

#[test]
fn notify_on_failure_leaves_successful_runs_alone() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let server = Recorder::start(200);
    succeed(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("NOTIFY_WEBHOOK_URL", format!("{}/hook", server.url))
            .env("NOTIFY_ON", "failure"),
    );
    assert!(server.received().is_empty(), "{:?}", server.received());
}

#[test]
fn a_failing_notification_changes_nothing_and_leaks_nothing() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let broken = Recorder::start(500);
    let password = "hook-Secret-8817";
    let hook = broken
        .url
        .replace("http://", &format!("http://alerts:{password}@"));
    let out = succeed(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("NOTIFY_WEBHOOK_URL", format!("{hook}/hook"))
            // Nothing listens there.
            .env("NOTIFY_PING_URL", "http://127.0.0.1:9/ping"),
    );
    let err = stderr(&out);
    assert!(err.contains("webhook notification failed"), "{err}");
    assert!(err.contains("ping notification failed"), "{err}");
    assert!(!err.contains(password), "{err}");
    let got = broken.wait_for(3);
    assert_eq!(got.len(), 3, "a 500 is retried: {got:?}");
    let expected = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("alerts:{password}")
        )
    );
    assert_eq!(got[0].header("authorization"), Some(expected.as_str()));
    assert!(!got[0].body.contains(password));
    only_object(dir.path());
}

#[test]
fn a_bad_notification_url_is_rejected_before_any_io() {
    let dir = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(dir.path());
    let remote = dir.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    let err = fail_with(
        backup_to(&remote)
            .env("PATH", &path)
            .env("BACKUP_DATABASES", "app")
            .env(
                "NOTIFY_WEBHOOK_URL",
                "ftp://user:pw-Secret-1@example.invalid/x",
            ),
        2,
    );
    assert!(
        err.contains("NOTIFY_WEBHOOK_URL is not a valid http(s) URL"),
        "{err}"
    );
    assert!(!err.contains("pw-Secret-1"), "{err}");
    assert!(!marker.exists(), "a database tool ran");
    assert_empty(&remote, &err);
}

/// Endpoints that take every request and never answer: ping, webhook and
/// Pushgateway all at one, seen by the returned proxy.
fn hung_endpoints(cmd: &mut std::process::Command) -> Proxy {
    let hung = Proxy::start("127.0.0.1:9");
    hung.set(|_| Fault::Stall);
    cmd.env("NOTIFY_PING_URL", format!("{}/ping/tok-3c9a", hung.url()))
        .env("NOTIFY_WEBHOOK_URL", format!("{}/hook", hung.url()))
        .env("METRICS_PUSHGATEWAY_URL", hung.url());
    hung
}

/// The request lines `hung` took, without the HTTP version.
fn taken(hung: &Proxy) -> Vec<String> {
    hung.seen()
        .into_iter()
        .map(|(line, _)| line.trim_end_matches(" HTTP/1.1").to_string())
        .collect()
}

#[test]
fn endpoints_that_never_answer_hold_a_quick_backup_only_briefly() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let mut backup = backup_to(dir.path());
    backup.env("BACKUP_DATABASES", &db.name);
    let hung = hung_endpoints(&mut backup);
    let start = Instant::now();
    let out = succeed(&mut backup);
    let took = start.elapsed();
    let err = stderr(&out);
    // The start ping's bound, then the end's: each notification is bounded
    // in all (its tries included) and the end's are sent at once, so their
    // bounds do not add up (it took over 2 minutes when they did).
    assert!(took < Duration::from_secs(30), "took {took:?}: {err}");
    only_object(dir.path());
    let lines = taken(&hung);
    for sent in [
        "POST /ping/tok-3c9a/start",
        "POST /ping/tok-3c9a",
        "POST /hook",
    ] {
        assert!(
            lines.iter().any(|l| l == sent),
            "{sent} not sent: {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("POST /metrics/job/dbbr/")),
        "no metrics pushed: {lines:?}"
    );
    assert_eq!(lines[0], "POST /ping/tok-3c9a/start", "{lines:?}");
    for what in ["ping", "webhook"] {
        assert!(
            err.contains(&format!("{what} notification failed")),
            "{what}: {err}"
        );
    }
    assert!(err.contains("metrics not pushed"), "{err}");
    assert!(!err.contains("tok-3c9a"), "{err}");
    eprintln!("a quick backup with hung endpoints ended after {took:?}");
}

#[test]
fn a_signal_during_a_run_with_endpoints_that_never_answer_ends_it_quickly() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    // Another session holds an exclusive lock: the dump waits for it, so the
    // run is still going when the signal comes.
    let lock = Server::shared().lock_table(&db.name, "t");
    let mut backup = backup_to(dir.path());
    backup
        .env("BACKUP_DATABASES", &db.name)
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let hung = hung_endpoints(&mut backup);
    let child = backup.spawn().unwrap();
    let blocked = wait_until(Duration::from_secs(30), || {
        child_named(child.id(), "pg_dump").is_some()
            && taken(&hung).iter().any(|l| l.ends_with("/start"))
    });
    assert!(blocked, "the run did not start: {:?}", taken(&hung));
    std::thread::sleep(Duration::from_millis(500));
    let term = Instant::now();
    signal(child.id(), "TERM");
    let out = wait_at_most(child, Duration::from_secs(60));
    let took = term.elapsed();
    drop(lock);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(143), "{err}");
    // One quick try each after a signal, at the same time: well within
    // Kubernetes' 30 s grace (it took 37 s).
    assert!(took < Duration::from_secs(15), "took {took:?}: {err}");
    let lines = taken(&hung);
    for sent in ["POST /ping/tok-3c9a/fail", "POST /hook"] {
        assert!(
            lines.iter().any(|l| l == sent),
            "{sent} not tried: {lines:?}"
        );
    }
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("POST /metrics/job/dbbr/")),
        "no metrics push tried: {lines:?}"
    );
    // One try each: nothing was sent twice.
    let mut unique = lines.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        lines.len(),
        "retried after the signal: {lines:?}"
    );
    assert_empty(dir.path(), &err);
    eprintln!("SIGTERM with hung endpoints: exit 143 after {took:?}");
}
