//! Parallel backup sets as the commands that read storage see them: one
//! backup in `list`, verified part by part (quick and full) with the
//! failing part named, pruned as a whole together with the database's
//! single-object backups, and the parts of a set whose manifest never came
//! cleaned up by `--orphans-older-than` only when old enough.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, SystemTime};

use crate::common::pg::*;
use crate::common::*;

/// `dbbr ARGS` against the shared server and the local remote `dir`.
fn dbbr_at(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = dbbr();
    Server::shared().env(&mut cmd);
    cmd.env("REMOTE_NAME", local_remote(dir)).args(args);
    cmd
}

/// Runs a command that prints on stdout, asserting exit 0.
fn ok(cmd: &mut Command) -> Output {
    exits(cmd, 0)
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A database with small tables and one of about 4 MB, which gets parts
/// of its own (page ranges) at a split size of 1 MiB.
fn database() -> TestDb {
    let db = TestDb::small();
    Server::shared().psql(
        &db.name,
        "CREATE TABLE big AS SELECT g AS id, md5(g::text) || md5((g + 1)::text) AS v \
         FROM generate_series(1, 40000) g; ANALYZE big;",
    );
    db
}

/// Backs `db` up into `dir` as a set (3 jobs, 1 MiB ranges); `name` is
/// the file name pattern (`None`: dbbr's default). The set's name.
fn set_backup(dir: &Path, db: &str, name: Option<&str>) -> String {
    let mut cmd = backup_to(dir);
    cmd.env("BACKUP_DATABASES", db)
        .env("BACKUP_JOBS", "3")
        .env("BACKUP_SPLIT_SIZE", "1Mi");
    if let Some(name) = name {
        cmd.env("BACKUP_FILE_NAME", name);
    }
    let before = files_below(dir);
    succeed(&mut cmd);
    let manifests: Vec<String> = files_below(dir)
        .into_iter()
        .filter(|f| !before.contains(f) && f.ends_with(".set.manifest.json"))
        .collect();
    assert_eq!(manifests.len(), 1, "{manifests:?}");
    manifests[0].trim_end_matches(".manifest.json").to_string()
}

/// Backs `db` up into `dir` as one object named `NAME.sql.gz`.
fn plain_backup(dir: &Path, db: &str, name: &str) -> String {
    succeed(
        backup_to(dir)
            .env("BACKUP_DATABASES", db)
            .env("BACKUP_FILE_NAME", name),
    );
    format!("{name}.sql.gz")
}

/// The parts of set `set` in `dir`, in order.
fn parts(dir: &Path, set: &str) -> Vec<String> {
    let mut parts: Vec<String> = files_below(dir)
        .into_iter()
        .filter(|f| f.starts_with(&format!("{set}/")))
        .collect();
    parts.sort();
    parts
}

/// The first part of a table cut into ranges.
fn range_part(parts: &[String]) -> String {
    parts
        .iter()
        .find(|p| p.contains("public.big-1."))
        .unwrap_or_else(|| panic!("no range part of public.big: {parts:?}"))
        .clone()
}

/// Sets a file's modification time `age` in the past.
fn age_file(path: &Path, age: Duration) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(SystemTime::now() - age).unwrap();
}

#[test]
fn a_set_lists_as_one_backup_and_verifies_part_by_part() {
    let db = database();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let set = set_backup(dir, &db.name, Some(&format!("{}-set", db.name)));
    let parts = parts(dir, &set);
    assert!(parts.len() >= 5, "{parts:?}");
    let range = range_part(&parts);

    // One backup of kind set, with its parts and jobs; nothing else.
    let out = ok(&mut dbbr_at(dir, &["list", "--all"]));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().skip(1).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains(" set "), "{text}");
    assert!(lines[0].contains(&set), "{text}");
    assert!(
        lines[0].contains(&format!("(set: {} parts, 3 jobs)", parts.len())),
        "{text}"
    );
    let out = ok(&mut dbbr_at(dir, &["list", "--json", "--all"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["backups"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(json["backups"][0]["manifest"]["kind"], "set");
    assert_eq!(json["backups"][0]["state"]["state"], "ok");
    assert_eq!(
        json["backups"][0]["manifest"]["set"]["parts"]
            .as_array()
            .unwrap()
            .len(),
        parts.len()
    );
    assert!(json["not_backups"].as_array().unwrap().is_empty(), "{json}");

    // Quick and full pass, and the record is written next to the set.
    let out = ok(&mut dbbr_at(dir, &["verify", "--quick", &set]));
    assert!(stderr(&out).contains("size and sha256"), "{}", stderr(&out));
    let out = ok(&mut dbbr_at(dir, &["verify", "--latest", &db.name]));
    assert!(stderr(&out).contains("parts"), "{}", stderr(&out));
    assert!(dir.join(format!("{set}.verified.json")).exists());
    let out = ok(&mut dbbr_at(dir, &["list"]));
    assert!(
        stdout(&out).contains("ok, full verified"),
        "{}",
        stdout(&out)
    );

    // A flipped byte in one part: both levels fail, naming that part.
    let file = dir.join(&range);
    let original = std::fs::read(&file).unwrap();
    let mut flipped = original.clone();
    let middle = flipped.len() / 2;
    flipped[middle] ^= 0x01;
    std::fs::write(&file, &flipped).unwrap();
    for level in [&["--quick"][..], &[][..]] {
        let mut args = vec!["verify", "--no-record"];
        args.extend_from_slice(level);
        args.push(&set);
        let out = exits(&mut dbbr_at(dir, &args), 1);
        let err = stderr(&out);
        assert!(err.contains(&format!("part {range}")), "{level:?}: {err}");
        assert!(err.contains("failed at integrity"), "{level:?}: {err}");
    }
    std::fs::write(&file, &original).unwrap();
    ok(&mut dbbr_at(dir, &["verify", "--no-record", &set]));

    // A missing part: the set is broken in list and verify, naming it.
    std::fs::remove_file(&file).unwrap();
    let out = exits(&mut dbbr_at(dir, &["list"]), 1);
    assert!(
        stdout(&out).contains(&format!("BROKEN: part {range} missing")),
        "{}",
        stdout(&out)
    );
    for level in [&["--quick"][..], &[][..]] {
        let mut args = vec!["verify", "--no-record"];
        args.extend_from_slice(level);
        args.push(&set);
        let out = exits(&mut dbbr_at(dir, &args), 1);
        let err = stderr(&out);
        assert!(
            err.contains(&format!("part {range} is missing")),
            "{level:?}: {err}"
        );
    }
}

#[test]
fn prune_keeps_and_removes_whole_sets_among_plain_backups() {
    let db = database();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain_old = plain_backup(dir, &db.name, &format!("{}-0", db.name));
    let set_old = set_backup(dir, &db.name, Some(&format!("{}-1", db.name)));
    let plain_new = plain_backup(dir, &db.name, &format!("{}-2", db.name));
    let set_new = set_backup(dir, &db.name, Some(&format!("{}-3", db.name)));
    ok(&mut dbbr_at(dir, &["verify", "--quick", "--all"]));
    let old_parts = parts(dir, &set_old);
    let new_parts = parts(dir, &set_new);
    assert!(dir.join(format!("{set_old}.verified.json")).exists());

    // One group: the two newest (a set and a plain backup) are kept.
    let out = ok(&mut dbbr_at(dir, &["prune", "--keep-last", "2"]));
    let text = stdout(&out);
    let files = files_below(dir);
    for kept in [&plain_new, &set_new] {
        assert!(
            files.contains(&format!("{kept}.manifest.json")),
            "{text}\n{files:?}"
        );
    }
    for part in &new_parts {
        assert!(files.contains(part), "{files:?}");
    }
    assert!(files.contains(&plain_new), "{files:?}");
    // The old set went as a whole: manifest, every part, its record.
    for gone in [
        format!("{set_old}.manifest.json"),
        format!("{set_old}.verified.json"),
        plain_old.clone(),
        format!("{plain_old}.manifest.json"),
    ] {
        assert!(!files.contains(&gone), "{gone}: {files:?}");
    }
    for part in &old_parts {
        assert!(!files.contains(part), "{part}: {files:?}");
    }
    // Its folder too, now empty; the kept set's stays.
    assert!(!dir.join(&set_old).exists(), "{set_old}: {text}");
    assert!(dir.join(&set_new).is_dir(), "{set_new}");
    // No stray left behind.
    let out = ok(&mut dbbr_at(dir, &["list", "--json", "--all"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(json["not_backups"].as_array().unwrap().is_empty(), "{json}");

    // A broken set is neither counted nor removed: the plain backup is the
    // newest intact one and stays, the set is reported and left in place.
    let set_last = set_backup(dir, &db.name, Some(&format!("{}-4", db.name)));
    let last_parts = parts(dir, &set_last);
    let missing = range_part(&last_parts);
    std::fs::remove_file(dir.join(&missing)).unwrap();
    let out = exits(&mut dbbr_at(dir, &["prune", "--keep-last", "1"]), 1);
    let text = stdout(&out);
    assert!(text.contains(&set_last), "{text}");
    assert!(
        text.contains(&format!("part {missing} is missing")),
        "{text}"
    );
    let files = files_below(dir);
    assert!(
        files.contains(&format!("{set_last}.manifest.json")),
        "{files:?}"
    );
    // keep-last 1 among intact ones: set_new is the newest intact.
    assert!(
        files.contains(&format!("{set_new}.manifest.json")),
        "{text}\n{files:?}"
    );
    assert!(
        !files.contains(&format!("{plain_new}.manifest.json")),
        "{text}\n{files:?}"
    );
}

#[test]
fn parts_of_a_set_without_manifest_are_leftovers_only_when_old() {
    let db = database();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // Default names, which --orphans-older-than knows.
    let dead = set_backup(dir, &db.name, None);
    std::thread::sleep(Duration::from_millis(1100));
    let young = set_backup(dir, &db.name, None);
    std::thread::sleep(Duration::from_millis(1100));
    let kept = set_backup(dir, &db.name, None);
    let dead_parts = parts(dir, &dead);
    let young_parts = parts(dir, &young);
    // Two runs that never wrote their manifest.
    std::fs::remove_file(dir.join(format!("{dead}.manifest.json"))).unwrap();
    std::fs::remove_file(dir.join(format!("{young}.manifest.json"))).unwrap();
    // Foreign files, in and next to the dead set's folder.
    let foreign = [
        format!("{dead}/notes.txt"),
        "photos.set/0000-pre-data.sql.gz".to_string(),
        format!("{dead}/0099-extra.sql.gz.bak"),
    ];
    for f in &foreign {
        let path = dir.join(f);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "not dbbr's").unwrap();
    }
    for f in files_below(dir) {
        if !f.starts_with(&format!("{young}/")) {
            age_file(&dir.join(f), Duration::from_secs(3 * 3600));
        }
    }
    // An empty folder named as sets are, with no leftover in it: not
    // dbbr's to remove, and no backup or stray either.
    let empty = format!("{}-2020-01-01T00-00-00Z.set", db.name);
    std::fs::create_dir(dir.join(&empty)).unwrap();
    // The catalog shows them as strays, not backups.
    let out = ok(&mut dbbr_at(dir, &["list", "--json", "--all"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["backups"].as_array().unwrap().len(), 1, "{json}");
    let strays = json["not_backups"].as_array().unwrap().len();
    assert_eq!(
        strays,
        dead_parts.len() + young_parts.len() + foreign.len(),
        "{json}"
    );

    let before = files_below(dir);
    ok(&mut dbbr_at(
        dir,
        &["prune", "--keep-last", "1", "--orphans-older-than", "1h"],
    ));
    let after = files_below(dir);
    let removed: Vec<&String> = before.iter().filter(|f| !after.contains(f)).collect();
    let mut expected: Vec<&String> = dead_parts.iter().collect();
    expected.sort();
    let mut removed_sorted = removed.clone();
    removed_sorted.sort();
    assert_eq!(removed_sorted, expected);
    // The young set's parts, the foreign files and the kept set stay.
    for f in young_parts.iter().chain(&foreign) {
        assert!(after.contains(f), "{f}: {after:?}");
    }
    assert!(after.contains(&format!("{kept}.manifest.json")));
    ok(&mut dbbr_at(dir, &["verify", "--quick", &kept]));
    // The dead set's folder stays: it still holds the foreign files.
    assert!(dir.join(&dead).is_dir(), "{dead}");
    assert!(dir.join(&empty).is_dir(), "{empty}");

    // Once old, the young set's parts go, and its emptied folder with
    // them; the empty folder that held no leftover stays.
    for part in &young_parts {
        age_file(&dir.join(part), Duration::from_secs(3 * 3600));
    }
    ok(&mut dbbr_at(
        dir,
        &["prune", "--keep-last", "1", "--orphans-older-than", "1h"],
    ));
    let last = files_below(dir);
    for part in &young_parts {
        assert!(!last.contains(part), "{part}: {last:?}");
    }
    assert!(!dir.join(&young).exists(), "{young}: {last:?}");
    assert!(dir.join(&dead).is_dir(), "{dead}");
    assert!(dir.join(&empty).is_dir(), "{empty}");
    for f in &foreign {
        assert!(last.contains(f), "{f}: {last:?}");
    }
    let out = ok(&mut dbbr_at(dir, &["list", "--json", "--all"]));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["backups"].as_array().unwrap().len(), 1, "{json}");
    assert_eq!(
        json["not_backups"].as_array().unwrap().len(),
        foreign.len(),
        "{json}"
    );
}

#[test]
fn a_backup_runs_retention_over_its_sets_and_plain_backups_together() {
    let db = database();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let plain = plain_backup(dir, &db.name, &format!("{}-0", db.name));
    // The run's own prune: its group (Database) holds the set too.
    let mut cmd = backup_to(dir);
    cmd.env("BACKUP_DATABASES", &db.name)
        .env("BACKUP_JOBS", "3")
        .env("BACKUP_SPLIT_SIZE", "1Mi")
        .env("BACKUP_FILE_NAME", format!("{}-1", db.name))
        .env("BACKUP_KEEP_LAST", "1");
    succeed(&mut cmd);
    let set = format!("{}-1.set", db.name);
    let files = files_below(dir);
    assert!(files.contains(&format!("{set}.manifest.json")), "{files:?}");
    assert!(!files.contains(&plain), "{files:?}");
    assert!(
        !files.contains(&format!("{plain}.manifest.json")),
        "{files:?}"
    );
    ok(&mut dbbr_at(dir, &["verify", "--quick", &set]));
}
