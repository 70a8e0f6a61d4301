//! The built-in schedule: backups every second until SIGTERM (exit 143),
//! and SIGINT during a blocked backup (exit 130) leaving nothing behind,
//! with the runs that came due meanwhile skipped and logged.

use std::collections::BTreeSet;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::pg::*;
use crate::common::*;

#[test]
fn the_schedule_runs_backups_until_sigterm() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let hook = Recorder::start(200);
    let child = backup_to(dir.path())
        .env("BACKUP_DATABASES", &db.name)
        .env("BACKUP_SCHEDULE", "* * * * * *")
        .env("VERIFY_AFTER_BACKUP", "true")
        .env("VERIFY_SCHEDULE", "*/3 * * * * *")
        .env("VERIFY_LEVEL", "quick")
        .env("NOTIFY_WEBHOOK_URL", format!("{}/hook", hook.url))
        .env("TZ", "Europe/Paris")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let manifests = || {
        files_below(dir.path())
            .into_iter()
            .filter(|f| f.ends_with(".manifest.json"))
            .collect::<Vec<_>>()
    };
    let verified = |s: &serde_json::Value| s["kind"] == "verify";
    let several = wait_until(Duration::from_secs(60), || {
        manifests().len() >= 3 && hook.received().iter().any(|r| verified(&r.json()))
    });
    let term = Instant::now();
    signal(child.id(), "TERM");
    let out = wait_at_most(child, Duration::from_secs(30));
    let stopped_after = term.elapsed();
    let err = stderr(&out);
    assert!(several, "fewer than 3 backups in 60 s: {err}");
    assert_eq!(out.status.code(), Some(143), "{err}");
    assert!(
        stopped_after < Duration::from_secs(10),
        "took {stopped_after:?}"
    );
    assert!(err.contains("scheduler: backup on `* * * * * *`"), "{err}");
    assert!(
        err.contains("+01:00") || err.contains("+02:00"),
        "TZ: {err}"
    );
    assert!(
        err.contains(": ok, quick: "),
        "verified after each backup: {err}"
    );
    assert!(
        err.contains("scheduler: verify on `*/3 * * * * *`"),
        "{err}"
    );

    // Each run is its own: one run id per backup, each backup whole.
    let mut run_ids = BTreeSet::new();
    for manifest in manifests() {
        let object = manifest.trim_end_matches(".manifest.json");
        let m = checked_manifest(dir.path(), object, POSTGRESQL);
        assert!(run_ids.insert(m.run_id.unwrap()), "a run id repeats");
    }
    // One webhook per run: each backup's summary names its manifest's run
    // and was verified; the scheduled verifications checked the latest.
    let summaries: Vec<serde_json::Value> = hook.received().iter().map(|r| r.json()).collect();
    let backups: Vec<&serde_json::Value> =
        summaries.iter().filter(|s| s["kind"] == "backup").collect();
    for s in &backups {
        let run_id = s["run_id"].as_str().unwrap();
        // A run the final SIGTERM stopped before its verification reports
        // itself as failed.
        if s["ok"] == true {
            assert!(run_ids.contains(run_id), "{s}");
            assert_eq!(s["verified"][0]["level"], "quick", "{s}");
            assert_eq!(s["verified"][0]["ok"], true, "{s}");
        }
    }
    assert!(backups.len() >= 3, "{summaries:?}");
    let verify = summaries.iter().find(|s| verified(s)).unwrap();
    assert_eq!(verify["ok"], true, "{verify}");
    assert!(
        verify["databases"].as_array().unwrap().is_empty(),
        "{verify}"
    );
    assert_eq!(
        verify["verified"][0]["database"],
        db.name.as_str(),
        "{verify}"
    );
    assert!(
        !files_below(dir.path())
            .iter()
            .any(|f| f.ends_with(".partial")),
        "{err}"
    );
}

#[test]
fn sigint_stops_a_blocked_scheduled_backup_and_skips_what_came_due() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    // Another session holds an exclusive lock: every dump waits for it.
    let lock = Server::shared().lock_table(&db.name, "t");
    let child = backup_to(dir.path())
        .env("BACKUP_DATABASES", &db.name)
        .env("BACKUP_SCHEDULE", "* * * * * *")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let blocked = wait_until(Duration::from_secs(30), || {
        child_named(child.id(), "pg_dump").is_some()
    });
    assert!(blocked, "no dump started");
    // Let at least two more runs come due while this one is stuck.
    std::thread::sleep(Duration::from_millis(2500));
    let int = Instant::now();
    signal(child.id(), "INT");
    let out = wait_at_most(child, Duration::from_secs(30));
    let stopped_after = int.elapsed();
    drop(lock);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(
        stopped_after < Duration::from_secs(10),
        "took {stopped_after:?}"
    );
    assert!(err.contains("interrupted"), "{err}");
    assert!(
        err.contains("skipped the backup due at") && err.contains("still going"),
        "{err}"
    );
    assert_empty(dir.path(), &err);
}

#[test]
fn a_bad_schedule_or_time_zone_is_rejected_before_any_io() {
    let dir = tempfile::tempdir().unwrap();
    let (path, marker) = tripwire_tools(dir.path());
    let remote = dir.path().join("remote");
    std::fs::create_dir(&remote).unwrap();
    for (schedule, tz, expected) in [
        (
            "61 * * * *",
            "UTC",
            "BACKUP_SCHEDULE `61 * * * *` is not a cron expression",
        ),
        (
            "@daily",
            "Mars/Olympus",
            "TZ `Mars/Olympus` is not a time zone name",
        ),
    ] {
        let err = fail_with(
            backup_to(&remote)
                .env("PATH", &path)
                .env("BACKUP_DATABASES", "app")
                .env("BACKUP_SCHEDULE", schedule)
                .env("TZ", tz),
            2,
        );
        assert!(err.contains(expected), "{err}");
    }
    assert!(!marker.exists(), "a database tool ran");
    assert_empty(&remote, "a rejected schedule");
}
