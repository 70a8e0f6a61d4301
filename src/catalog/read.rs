//! Reading a catalog from storage: one listing, then each manifest and
//! verification record, each read tried a few times; a read that failed
//! is told apart from an object that is absent.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::time::Duration;

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::manifest::{
    Kind, Manifest, SetLayout, Verification, MANIFEST_LIMIT, MANIFEST_SUFFIX, VERIFIED_SUFFIX,
};
use crate::storage::{Entry, Remote};

use super::{Catalog, State, StoredBackup, Stray, StrayKind, Unreadable};

/// Manifests and verification records larger than this are not dbbr's.
const SIDECAR_LIMIT: u64 = MANIFEST_LIMIT;

/// How often a small object is read before its read counts as failed.
const READ_ATTEMPTS: u32 = 3;

impl Catalog {
    /// Reads the catalog of `remote`: one recursive listing, then each
    /// manifest and verification record (each read tried a few times).
    /// `Err` when the listing fails or the run is interrupted; a manifest
    /// that cannot be read is in [`Catalog::unreadable`].
    pub fn read(remote: &Remote) -> Result<Catalog> {
        let entries: Vec<Entry> = remote
            .list("", true)?
            .into_iter()
            .filter(|e| !e.is_dir)
            .collect();
        Catalog::assemble(&entries, |entry| read_bytes(remote, entry))
    }

    /// The catalog of a listing's objects (`entries`, no folders), each
    /// manifest and verification record read by `fetch`.
    pub(super) fn assemble(
        entries: &[Entry],
        fetch: impl Fn(&Entry) -> Result<Fetched<Vec<u8>>>,
    ) -> Result<Catalog> {
        let listed: BTreeMap<&str, &Entry> = entries.iter().map(|e| (e.path.as_str(), e)).collect();
        let mut claimed: BTreeSet<&str> = BTreeSet::new();
        let mut catalog = Catalog::default();
        for entry in entries {
            let Some(object) = entry.path.strip_suffix(MANIFEST_SUFFIX) else {
                continue;
            };
            claimed.insert(&entry.path);
            claimed.insert(object);
            // A set's parts are in a folder of the object's name: while
            // its manifest is there (even unreadable), nothing in it is a
            // stray. Parts of a readable manifest are claimed by name below.
            let folder = format!("{object}/");
            let in_folder: Vec<&str> = listed
                .range::<str, _>((
                    std::ops::Bound::Included(folder.as_str()),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(path, _)| path.starts_with(&folder))
                .map(|(path, _)| *path)
                .collect();
            let record = format!("{object}{VERIFIED_SUFFIX}");
            if let Some(e) = listed.get(record.as_str()) {
                claimed.insert(&e.path);
            }
            let fetched = match parse::<Manifest>(fetch(entry)?) {
                // A newer dbbr's: what it means may not be what this one
                // reads (a part, a codec, a kind it does not know).
                Fetched::Parsed(m) if m.format > Manifest::FORMAT => Fetched::Invalid(format!(
                    "its format {} is newer than this dbbr reads ({}): use dbbr {} or later",
                    m.format,
                    Manifest::FORMAT,
                    m.dbbr_version
                )),
                fetched => fetched,
            };
            let failed = matches!(fetched, Fetched::Failed(_));
            let manifest = match fetched {
                Fetched::Parsed(m) => m,
                // Deleted since the listing (a prune): no longer there.
                Fetched::Gone => {
                    claimed.remove(object);
                    continue;
                }
                Fetched::Failed(reason) | Fetched::Invalid(reason) => {
                    claimed.extend(&in_folder);
                    catalog
                        .unreadable
                        .push(unreadable(entry, object, failed, reason));
                    continue;
                }
            };
            let (state, bad_part) = match &manifest.set {
                Some(layout) if manifest.kind() == Kind::Set => {
                    for part in &layout.parts {
                        if let Some(e) = listed.get(part.object.as_str()) {
                            claimed.insert(&e.path);
                        }
                    }
                    let (state, bad) = set_state(layout, &listed);
                    (state, bad.map(str::to_string))
                }
                _ => (
                    object_state(listed.get(object).copied(), manifest.stored_bytes),
                    None,
                ),
            };
            let verified = match listed.get(record.as_str()) {
                Some(e) => match parse::<Verification>(fetch(e)?) {
                    Fetched::Parsed(v) => Some(v),
                    Fetched::Gone => None,
                    Fetched::Failed(why) | Fetched::Invalid(why) => {
                        tracing::warn!("{}: the verification record is unreadable: {why}", e.path);
                        None
                    }
                },
                None => None,
            };
            let kind = manifest.kind();
            catalog.backups.push(StoredBackup {
                manifest: Manifest {
                    object: object.to_string(),
                    declared_kind: Some(kind),
                    ..manifest
                },
                manifest_name: entry.path.clone(),
                state,
                verified,
                bad_part,
            });
        }
        for entry in entries {
            if claimed.contains(entry.path.as_str()) {
                continue;
            }
            let kind = if side_name(&entry.path, ".partial").is_some() {
                StrayKind::Partial
            } else if side_name(&entry.path, ".claim").is_some() {
                StrayKind::Claim
            } else if entry.path.ends_with(VERIFIED_SUFFIX) {
                StrayKind::Record
            } else {
                StrayKind::NoManifest
            };
            catalog.strays.push(stray(entry, kind));
        }
        catalog.backups.sort_by(|a, b| {
            (&a.manifest.engine, a.group_kind(), &a.manifest.database)
                .cmp(&(&b.manifest.engine, b.group_kind(), &b.manifest.database))
                .then(b.time().cmp(&a.time()))
                .then(b.object().cmp(a.object()))
        });
        Ok(catalog)
    }
}

/// Whether an object is there as a manifest records it (`stored_bytes`).
fn object_state(entry: Option<&Entry>, stored_bytes: u64) -> State {
    match entry {
        None => State::Missing,
        Some(e) if e.size >= 0 && e.size as u64 != stored_bytes => {
            State::SizeMismatch { size: e.size }
        }
        Some(_) => State::Ok,
    }
}

/// Whether every part of a set is listed with the size its manifest
/// records; if not, the state of the first part that is not, and its name.
fn set_state<'a>(
    layout: &'a SetLayout,
    listed: &BTreeMap<&str, &Entry>,
) -> (State, Option<&'a str>) {
    for part in &layout.parts {
        let state = object_state(listed.get(part.object.as_str()).copied(), part.stored_bytes);
        if state != State::Ok {
            return (state, Some(&part.object));
        }
    }
    (State::Ok, None)
}

/// The name an upload's hidden side object (`suffix`: `.partial` or
/// `.claim`) is about, if `path` is one: `.NAME.<12 hex digits>SUFFIX`
/// (in the same folder) gives `NAME`.
pub(crate) fn side_name<'a>(path: &'a str, suffix: &str) -> Option<(&'a str, &'a str)> {
    let (dir, leaf) = match path.rfind('/') {
        Some(i) => path.split_at(i + 1),
        None => ("", path),
    };
    let rest = leaf.strip_prefix('.')?.strip_suffix(suffix)?;
    let (name, id) = rest.rsplit_once('.')?;
    let hex = id.len() == 12 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    (hex && !name.is_empty()).then_some((dir, name))
}

fn stray(entry: &Entry, kind: StrayKind) -> Stray {
    Stray {
        path: entry.path.clone(),
        size: entry.size,
        mod_time: entry.mod_time,
        kind,
    }
}

fn unreadable(entry: &Entry, object: &str, read_failed: bool, reason: String) -> Unreadable {
    tracing::warn!("{}: the manifest is unreadable: {reason}", entry.path);
    Unreadable {
        manifest_name: entry.path.clone(),
        object: object.to_string(),
        read_failed,
        reason,
    }
}

/// What reading a small JSON object gave.
pub(super) enum Fetched<T> {
    Parsed(T),
    /// Not found any more (deleted since the listing).
    Gone,
    /// Reading it failed, every time it was tried.
    Failed(String),
    /// It was read and is not what it should be.
    Invalid(String),
}

/// Downloads a small object (a manifest, a verification record), trying
/// a failed read again a few times. `Err` only when the run is
/// interrupted.
fn read_bytes(remote: &Remote, entry: &Entry) -> Result<Fetched<Vec<u8>>> {
    if entry.size > SIDECAR_LIMIT as i64 {
        return Ok(Fetched::Invalid(format!(
            "{} bytes is larger than a manifest can be",
            entry.size
        )));
    }
    let mut last = String::new();
    for attempt in 1..=READ_ATTEMPTS {
        if attempt > 1 {
            std::thread::sleep(Duration::from_millis(200 * u64::from(attempt)));
        }
        match read_small(remote, &entry.path) {
            Ok(text) => return Ok(Fetched::Parsed(text)),
            Err(Error::NotFound(_)) => return Ok(Fetched::Gone),
            Err(Error::Interrupted) => return Err(Error::Interrupted),
            Err(e) if crate::interrupt::interrupted() => {
                tracing::debug!("reading {} stopped: {e}", entry.path);
                return Err(Error::Interrupted);
            }
            Err(e) => last = e.to_string(),
        }
    }
    Ok(Fetched::Failed(format!(
        "reading it failed {READ_ATTEMPTS} times: {last}"
    )))
}

/// A small JSON object's bytes, parsed.
fn parse<T: for<'de> Deserialize<'de>>(fetched: Fetched<Vec<u8>>) -> Fetched<T> {
    match fetched {
        Fetched::Parsed(text) => match serde_json::from_slice(&text) {
            Ok(value) => Fetched::Parsed(value),
            Err(e) => Fetched::Invalid(format!("not a valid dbbr manifest: {e}")),
        },
        Fetched::Gone => Fetched::Gone,
        Fetched::Failed(why) => Fetched::Failed(why),
        Fetched::Invalid(why) => Fetched::Invalid(why),
    }
}

/// An object of at most [`SIDECAR_LIMIT`] bytes (a manifest, a
/// verification record): a larger one is an error.
pub(crate) fn read_small(remote: &Remote, path: &str) -> Result<Vec<u8>> {
    let mut text = Vec::new();
    remote
        .download(path)?
        .take(SIDECAR_LIMIT + 1)
        .read_to_end(&mut text)
        .map_err(|e| Error::io(format!("reading {path}"), e))?;
    if text.len() as u64 > SIDECAR_LIMIT {
        return Err(Error::Storage(format!(
            "{path} is larger than a manifest can be"
        )));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn side_objects_have_exact_names() {
        let partial = |p| side_name(p, ".partial");
        assert_eq!(
            partial(".app.sql.gz.0a1b2c3d4e5f.partial"),
            Some(("", "app.sql.gz"))
        );
        assert_eq!(
            partial("sub/.app.sql.gz.0a1b2c3d4e5f.partial"),
            Some(("sub/", "app.sql.gz"))
        );
        assert_eq!(partial("app.sql.gz"), None);
        assert_eq!(partial("sub.partial/app.sql.gz"), None);
        // Other programs' hidden files: not dbbr's exact format.
        assert_eq!(partial(".app.sql.gz.partial"), None);
        assert_eq!(partial(".app.sql.gz.0A1B2C3D4E5F.partial"), None);
        assert_eq!(partial(".app.sql.gz.0a1b2c3d4e5.partial"), None);
        assert_eq!(partial("..0a1b2c3d4e5f.partial"), None);
        assert_eq!(
            side_name("sub/.app.sql.gz.0a1b2c3d4e5f.claim", ".claim"),
            Some(("sub/", "app.sql.gz"))
        );
        assert_eq!(
            side_name("sub/app.sql.gz.0a1b2c3d4e5f.claim", ".claim"),
            None
        );
    }
}
