//! Notifications after a backup: healthchecks-style pings and the JSON
//! webhook, received by a real HTTP server on loopback; a failing
//! notification changes nothing else, and no secret is sent or logged.

use crate::common::*;
use crate::pg::*;

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
    let paths: Vec<(&str, &str)> = got
        .iter()
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        paths,
        [
            ("POST", "/ping/tok-5f1e/start"),
            ("POST", "/ping/tok-5f1e"),
            ("POST", "/hook")
        ]
    );
    assert!(
        got[1].body.contains(&format!("{}: ok", db.name)),
        "{}",
        got[1].body
    );
    let hook = &got[2];
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
    let paths: Vec<&str> = got.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/ping/start", "/ping/fail", "/hook"], "{err}");
    let fail = &got[1].body;
    assert!(fail.contains("FAILED") && fail.contains(&missing), "{fail}");
    let summary = got[2].json();
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
