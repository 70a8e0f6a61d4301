//! Metrics: a textfile that keeps the last success across a failed run,
//! and pushes to a real Pushgateway, read back over HTTP.

use std::collections::BTreeMap;
use std::io::Read;

use crate::common::pg::*;
use crate::common::*;

/// `name{labels} value` lines of `text` whose labels include `label`:
/// metric name -> (line, value).
fn series(text: &str, label: &str) -> BTreeMap<String, (String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && l.contains(label))
        .map(|l| {
            let (name, _) = l.split_once('{').unwrap();
            let value = l.rsplit_once(' ').unwrap().1.parse().unwrap();
            (name.to_string(), (l.to_string(), value))
        })
        .collect()
}

fn value(series: &BTreeMap<String, (String, f64)>, name: &str) -> f64 {
    series
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in {series:?}"))
        .1
}

#[test]
fn the_textfile_keeps_the_last_success_across_a_failure() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let metrics_dir = tempfile::tempdir().unwrap();
    let file = metrics_dir.path().join("dbbr.prom");
    let backup = || {
        let mut cmd = backup_to(dir.path());
        cmd.env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", "$DB")
            .env("METRICS_TEXTFILE", &file);
        cmd
    };
    succeed(&mut backup());
    let m = checked_manifest(dir.path(), &format!("{}.sql.gz", db.name), POSTGRESQL);
    let label = format!("engine=\"postgresql\",database=\"{}\"", db.name);
    let first = series(&std::fs::read_to_string(&file).unwrap(), &label);
    assert_eq!(value(&first, "dbbr_backup_last_result"), 1.0);
    assert_eq!(
        value(&first, "dbbr_backup_stored_bytes"),
        m.stored_bytes as f64
    );
    assert_eq!(value(&first, "dbbr_backup_raw_bytes"), m.raw_bytes as f64);
    assert!(value(&first, "dbbr_backup_duration_seconds") > 0.0);
    let run_line = &first["dbbr_backup_last_run_info"].0;
    assert!(
        run_line.contains(&format!("run_id=\"{}\"", m.run_id.as_deref().unwrap())),
        "{run_line}"
    );
    let success = value(&first, "dbbr_backup_last_success_timestamp_seconds");
    assert!((success - chrono::Utc::now().timestamp() as f64).abs() < 600.0);

    // The same name again: refused (backups are never overwritten).
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let err = fail_with(&mut backup(), 1);
    assert!(err.contains("already exists"), "{err}");
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.contains("# TYPE dbbr_backup_last_result gauge"),
        "{text}"
    );
    let second = series(&text, &label);
    assert_eq!(value(&second, "dbbr_backup_last_result"), 0.0);
    assert_eq!(
        value(&second, "dbbr_backup_stored_bytes"),
        m.stored_bytes as f64
    );
    assert_eq!(
        value(&second, "dbbr_backup_last_success_timestamp_seconds"),
        success
    );
    assert!(value(&second, "dbbr_backup_last_attempt_timestamp_seconds") > success);
    assert!(!second["dbbr_backup_last_run_info"]
        .0
        .contains(m.run_id.as_deref().unwrap()));
    let leftovers: Vec<_> = std::fs::read_dir(metrics_dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the metrics file is there");
}

/// The Pushgateway's own exposition of what was pushed.
fn pushgateway_metrics() -> String {
    let url = format!("{}/metrics", setting("DBBR_TEST_PUSHGATEWAY_URL"));
    let mut body = String::new();
    ureq::get(&url)
        .call()
        .unwrap()
        .into_body()
        .into_reader()
        .read_to_string(&mut body)
        .unwrap();
    body
}

#[test]
fn backups_and_verifications_are_pushed_to_a_pushgateway() {
    let db = TestDb::small();
    let dir = tempfile::tempdir().unwrap();
    let gateway = setting("DBBR_TEST_PUSHGATEWAY_URL");
    succeed(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("METRICS_PUSHGATEWAY_URL", &gateway),
    );
    let object = only_object(dir.path());
    let m = checked_manifest(dir.path(), &object, POSTGRESQL);
    let label = format!("database=\"{}\",engine=\"postgresql\"", db.name);
    let pushed = series(&pushgateway_metrics(), &label);
    assert_eq!(value(&pushed, "dbbr_backup_last_result"), 1.0);
    assert_eq!(
        value(&pushed, "dbbr_backup_stored_bytes"),
        m.stored_bytes as f64
    );
    assert!(pushed["dbbr_backup_stored_bytes"]
        .0
        .contains("job=\"dbbr\""));
    assert!(pushed["dbbr_backup_last_run_info"]
        .0
        .contains(m.run_id.as_deref().unwrap()));
    assert!(!pushed.contains_key("dbbr_verify_level"));

    // A failed run for the same database keeps the last success's sizes.
    let err = fail_with(
        backup_to(dir.path())
            .env("BACKUP_DATABASES", &db.name)
            .env("BACKUP_FILE_NAME", &object)
            .env("METRICS_PUSHGATEWAY_URL", &gateway),
        1,
    );
    assert!(err.contains("already exists"), "{err}");
    let pushed = series(&pushgateway_metrics(), &label);
    assert_eq!(value(&pushed, "dbbr_backup_last_result"), 0.0);
    assert_eq!(
        value(&pushed, "dbbr_backup_stored_bytes"),
        m.stored_bytes as f64
    );

    // A verification reports when the latest backup was proven, and how.
    exits(
        dbbr()
            .args(["verify", "--latest", &db.name])
            .env("REMOTE_NAME", local_remote(dir.path()))
            .env("METRICS_PUSHGATEWAY_URL", &gateway),
        0,
    );
    let pushed = series(&pushgateway_metrics(), &label);
    assert_eq!(value(&pushed, "dbbr_verify_level"), 2.0, "full");
    assert_eq!(value(&pushed, "dbbr_verify_last_result"), 1.0);
    let proven = value(&pushed, "dbbr_verify_last_success_timestamp_seconds");
    assert!((proven - chrono::Utc::now().timestamp() as f64).abs() < 600.0);
    // The backup's series are still there.
    assert_eq!(
        value(&pushed, "dbbr_backup_stored_bytes"),
        m.stored_bytes as f64
    );
}
