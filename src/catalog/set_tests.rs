//! Tests of the parent module: sets in a catalog, from a made-up listing.

use std::collections::BTreeMap;

use chrono::TimeZone;

use super::*;
use crate::manifest::MANIFEST_SUFFIX;
use crate::storage::Entry;

/// A listed object of `size` bytes.
fn entry(path: &str, size: i64) -> Entry {
    Entry {
        path: path.into(),
        size,
        mod_time: Some(Utc.with_ymd_and_hms(2026, 12, 6, 2, 0, 0).unwrap()),
        is_dir: false,
    }
}

/// The parts of set `name`: (object, stored bytes).
fn parts(name: &str) -> Vec<(String, u64)> {
    vec![
        (format!("{name}/0000-pre-data.sql.gz"), 100),
        (format!("{name}/0001-data.sql.gz"), 200),
        (format!("{name}/0002-public.orders-1.sql.gz"), 300),
        (format!("{name}/0003-post-data.dump.gz"), 400),
    ]
}

/// The manifest of set `name` of `app`, started at `hour`.
fn set_manifest(name: &str, hour: u32) -> String {
    let parts: Vec<serde_json::Value> = parts(name)
        .into_iter()
        .map(|(object, size)| {
            serde_json::json!({
                "object": object, "section": "table", "raw_bytes": size * 2,
                "stored_bytes": size, "sha256": "ab", "rows": {"public.orders": 1}
            })
        })
        .collect();
    serde_json::json!({
        "format": 3, "dbbr_version": "0.1.0", "rclone_version": "v1", "engine": "postgresql",
        "kind": "set", "database": "app", "object": name, "server_version": null,
        "dump_tool": null, "started_at": format!("2026-12-06T{hour:02}:00:00Z"),
        "finished_at": format!("2026-12-06T{hour:02}:00:01Z"), "raw_bytes": 2000,
        "stored_bytes": 1000, "sha256": "cd", "codec": "gzip", "encrypted": false,
        "recipients": [],
        "set": {"snapshot": "00000003-1", "jobs": 3, "split_size": 1048576,
                "tid_ranges": true, "parts": parts}
    })
    .to_string()
}

/// The manifest of a single-object backup `name` of `app`.
fn plain_manifest(name: &str, hour: u32) -> String {
    serde_json::json!({
        "format": 3, "dbbr_version": "0.1.0", "rclone_version": "v1", "engine": "postgresql",
        "kind": "database", "database": "app", "object": name, "server_version": null,
        "dump_tool": null, "started_at": format!("2026-12-06T{hour:02}:00:00Z"),
        "finished_at": format!("2026-12-06T{hour:02}:00:01Z"), "raw_bytes": 20,
        "stored_bytes": 10, "sha256": "cd", "codec": "gzip", "encrypted": false,
        "recipients": []
    })
    .to_string()
}

const SET: &str = "app-2026-12-06T01-00-00Z.set";
const PLAIN: &str = "app-2026-12-06T00-00-00Z.sql.gz";

/// The listing of a good set and a plain backup, and what their
/// manifests hold.
fn listing() -> (Vec<Entry>, BTreeMap<String, String>) {
    let mut entries: Vec<Entry> = parts(SET)
        .into_iter()
        .map(|(object, size)| entry(&object, size as i64))
        .collect();
    entries.push(entry(&format!("{SET}{MANIFEST_SUFFIX}"), 900));
    entries.push(entry(PLAIN, 10));
    entries.push(entry(&format!("{PLAIN}{MANIFEST_SUFFIX}"), 500));
    let texts = [
        (format!("{SET}{MANIFEST_SUFFIX}"), set_manifest(SET, 1)),
        (
            format!("{PLAIN}{MANIFEST_SUFFIX}"),
            plain_manifest(PLAIN, 0),
        ),
    ]
    .into();
    (entries, texts)
}

/// The catalog of `entries`, manifests read from `texts` (a manifest not
/// in it fails to read).
fn catalog(entries: &[Entry], texts: &BTreeMap<String, String>) -> Catalog {
    Catalog::assemble(entries, |e| {
        Ok(match texts.get(&e.path) {
            Some(text) => Fetched::Parsed(text.clone().into_bytes()),
            None => Fetched::Failed("no answer".into()),
        })
    })
    .unwrap()
}

#[test]
fn a_good_set_is_one_intact_backup_and_claims_its_parts() {
    let (entries, texts) = listing();
    let c = catalog(&entries, &texts);
    assert!(c.strays.is_empty(), "{:?}", c.strays);
    let objects: Vec<(&str, Kind)> = c.backups.iter().map(|b| (b.object(), b.kind())).collect();
    // One group, newest first: the set then the plain backup.
    assert_eq!(objects, [(SET, Kind::Set), (PLAIN, Kind::Database)]);
    assert!(c.backups[0].is_intact() && c.backups[0].bad_part.is_none());
    // A lookup does not refuse to choose between them, and asking for a
    // database's backups finds the set.
    let lookup = Lookup::database("app");
    assert_eq!(c.latest(&lookup).unwrap().object(), SET);
    let databases = Lookup::database("app").kinds(&[Kind::Database]);
    assert_eq!(c.latest(&databases).unwrap().object(), SET);
    let sets = Lookup::database("app").kinds(&[Kind::Set]);
    assert_eq!(c.latest(&sets).unwrap().object(), SET);
    let before = Lookup::database("app")
        .kinds(&[Kind::Set])
        .before(Some(Utc.with_ymd_and_hms(2026, 12, 6, 0, 30, 0).unwrap()));
    assert!(matches!(c.latest(&before), Err(Error::NotFound(_))));
    let servers = Lookup::database("app").kinds(&[Kind::Server]);
    assert!(c.latest(&servers).is_err());
}

#[test]
fn a_missing_or_resized_part_breaks_the_set_and_names_it() {
    let (mut entries, texts) = listing();
    let pre_data = format!("{SET}/0000-pre-data.sql.gz");
    let orders = format!("{SET}/0002-public.orders-1.sql.gz");
    entries.retain(|e| e.path != orders);
    let c = catalog(&entries, &texts);
    assert_eq!(c.backups[0].state, State::Missing);
    assert_eq!(c.backups[0].bad_part.as_deref(), Some(orders.as_str()));
    assert!(c.strays.is_empty());
    // The plain backup is still the latest intact one.
    assert_eq!(c.latest(&Lookup::database("app")).unwrap().object(), PLAIN);

    let (mut entries, texts) = listing();
    entries
        .iter_mut()
        .find(|e| e.path == pre_data)
        .unwrap()
        .size = 99;
    let c = catalog(&entries, &texts);
    assert_eq!(c.backups[0].state, State::SizeMismatch { size: 99 });
    assert_eq!(c.backups[0].bad_part.as_deref(), Some(pre_data.as_str()));
}

#[test]
fn parts_without_their_manifest_are_strays() {
    let (mut entries, texts) = listing();
    entries.retain(|e| !e.path.ends_with(".set.manifest.json"));
    let partial = format!("{SET}/.0004-post-data.dump.gz.0a1b2c3d4e5f.partial");
    entries.push(entry(&partial, 5));
    let c = catalog(&entries, &texts);
    assert_eq!(c.backups.len(), 1);
    let mut strays: Vec<(String, String)> = c
        .strays
        .iter()
        .map(|s| (s.path.clone(), format!("{:?}", s.kind)))
        .collect();
    let mut expected: Vec<(String, String)> = parts(SET)
        .into_iter()
        .map(|(o, _)| (o, "NoManifest".to_string()))
        .collect();
    expected.push((partial, "Partial".to_string()));
    expected.sort();
    strays.sort();
    assert_eq!(strays, expected);
}

#[test]
fn an_unreadable_set_manifest_keeps_its_folder_from_the_strays() {
    let (mut entries, mut texts) = listing();
    texts.remove(&format!("{SET}{MANIFEST_SUFFIX}"));
    entries.push(entry(&format!("{SET}/0009-unknown.sql.gz"), 5));
    let c = catalog(&entries, &texts);
    assert_eq!(c.unreadable.len(), 1);
    assert!(c.strays.is_empty(), "{:?}", c.strays);
    // A readable set claims its parts only: another object in its folder
    // is not a backup.
    let (mut entries, texts) = listing();
    entries.push(entry(&format!("{SET}/notes.txt"), 5));
    let c = catalog(&entries, &texts);
    let strays: Vec<&str> = c.strays.iter().map(|s| s.path.as_str()).collect();
    assert_eq!(strays, [format!("{SET}/notes.txt")]);
}

#[test]
fn a_manifest_of_a_newer_format_is_unreadable_and_says_to_upgrade() {
    let (entries, mut texts) = listing();
    let name = format!("{PLAIN}{MANIFEST_SUFFIX}");
    let newer = plain_manifest(PLAIN, 0).replace("\"format\":3", "\"format\":4");
    assert_ne!(newer, texts[&name]);
    texts.insert(name, newer);
    let c = catalog(&entries, &texts);
    assert_eq!(c.backups.len(), 1, "{:?}", c.backups);
    assert_eq!(c.unreadable.len(), 1);
    let reason = &c.unreadable[0].reason;
    assert!(
        reason.contains("format 4") && reason.contains("0.1.0"),
        "{reason}"
    );
    assert!(c.require_readable().is_err());
}
