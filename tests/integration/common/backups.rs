//! What a backup run leaves in a local directory: object names, manifests
//! checked against the objects' bytes, and nothing at all after a failure.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{NaiveDateTime, Utc};
use dbbr::Manifest;

use super::{
    assert_empty, child_named, files_below, sha256, signal, stderr, wait_at_most, wait_until,
};

/// Whether `name` is `{prefix}YYYY-MM-DDTHH-MM-SSZ{suffix}` with a time
/// within ten minutes of now.
pub fn is_timestamped(name: &str, prefix: &str, suffix: &str) -> bool {
    let Some(stamp) = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_suffix(suffix))
    else {
        return false;
    };
    let shape = "0000-00-00T00-00-00Z";
    let shaped = stamp.len() == shape.len()
        && stamp.chars().zip(shape.chars()).all(|(c, s)| match s {
            '0' => c.is_ascii_digit(),
            _ => c == s,
        });
    let Ok(time) = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%dT%H-%M-%SZ") else {
        return false;
    };
    shaped && (Utc::now().naive_utc() - time).num_seconds().abs() < 600
}

/// The one data object below `dir` (with its manifest and nothing else).
pub fn only_object(dir: &Path) -> String {
    let files = files_below(dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let object = files
        .iter()
        .find(|f| !f.ends_with(".manifest.json"))
        .unwrap_or_else(|| panic!("no data object in {files:?}"))
        .clone();
    assert!(files.contains(&Manifest::object_name(&object)), "{files:?}");
    object
}

/// The manifest stored next to `object` below `dir`, as it is.
pub fn read_manifest(dir: &Path, object: &str) -> Manifest {
    let text = std::fs::read_to_string(dir.join(Manifest::object_name(object))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The manifest stored next to `object` below `dir`, checked against the
/// object's bytes (name, sha256, size) and the `engine` that wrote it.
pub fn checked_manifest(dir: &Path, object: &str, engine: &str) -> Manifest {
    let bytes = std::fs::read(dir.join(object)).unwrap();
    let m = read_manifest(dir, object);
    assert_eq!(m.format, Manifest::FORMAT);
    assert_eq!(m.engine, engine);
    assert_eq!(m.object, object);
    assert_eq!(m.sha256, sha256(&bytes), "sha256 of {object}");
    assert_eq!(m.stored_bytes, bytes.len() as u64, "size of {object}");
    assert!(m.raw_bytes > 0);
    assert!(m.started_at <= m.finished_at);
    let codec = match object.trim_end_matches(".age").rsplit('.').next() {
        Some("gz") => "gzip",
        Some("zst") => "zstd",
        _ => "none",
    };
    assert_eq!(m.codec, codec, "the codec its name says");
    m
}

/// The one backup below `dir`, named `{prefix}<timestamp>{suffix}` and
/// written by `engine`: its object name and checked manifest.
pub fn only_backup(dir: &Path, engine: &str, prefix: &str, suffix: &str) -> (String, Manifest) {
    let object = only_object(dir);
    assert!(is_timestamped(&object, prefix, suffix), "{object}");
    let m = checked_manifest(dir, &object, engine);
    (object, m)
}

/// Checks that the backup `file` with manifest `m` is age-encrypted to
/// `recipient` alone (as the manifest names it: an `age1...` recipient or an
/// ssh key's fingerprint) and that `plain`, a piece of the dump's text, is
/// nowhere in it.
pub fn assert_encrypted(file: &Path, m: &Manifest, recipient: &str, plain: &str) {
    assert!(m.encrypted, "{m:?}");
    assert_eq!(m.recipients, [recipient], "{m:?}");
    let bytes = std::fs::read(file).unwrap();
    assert!(bytes.starts_with(b"age-encryption.org/v1\n"), "not age");
    let plain = plain.as_bytes();
    assert!(
        !bytes.windows(plain.len()).any(|w| w == plain),
        "plain text in {}",
        file.display()
    );
}

/// Starts `backup` (of `database` alone, into the local directory `dir`),
/// waits until its upload is under way (a hidden staging file appears),
/// kills the dump tool `tool` with SIGKILL, and checks that the run fails
/// saying so and leaves nothing behind.
pub fn assert_killed_dump_leaves_nothing(
    backup: &mut Command,
    dir: &Path,
    database: &str,
    tool: &str,
) {
    let mut child = backup
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let staging = || {
        files_below(dir)
            .into_iter()
            .find(|f| f.ends_with(".partial"))
    };
    wait_until(Duration::from_secs(60), || {
        staging().is_some() || child.try_wait().unwrap().is_some()
    });
    assert!(child.try_wait().unwrap().is_none(), "dbbr ended early");
    let staging = staging().expect("no staging file appeared");
    assert!(staging.starts_with(&format!(".{database}-")), "{staging}");
    let dump = child_named(child.id(), tool).expect("the dump runs as a child of dbbr");
    signal(dump, "KILL");
    let out = wait_at_most(child, Duration::from_secs(60));
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("killed by signal 9"), "{err}");
    assert_empty(dir, &err);
}
