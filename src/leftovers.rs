//! dbbr's own leftovers, and nothing else: what a killed or failed run can
//! leave under the prefix, recognised by dbbr's exact names. A hidden
//! staging object (`.NAME.<12 hex>.partial`) or claim (`.NAME.<12
//! hex>.claim`) of a name dbbr writes, an object named as backups are named
//! whose manifest is definitely absent (the listing succeeded and did not
//! show it), the verification record of a backup that is gone, and a
//! `dbbr check` probe. Each only when older than the given age (never
//! younger than a claim's staleness) and when no live claim is on its name.
//!
//! The parts of a set whose manifest never came (`NAME.set/NNNN-LABEL.EXT`,
//! `NAME.set` named as sets are named, its manifest definitely absent) and
//! their hidden staging objects and claims are leftovers too, when every
//! stray in the set's folder is older than the age and no live claim is on
//! the set (its run holds one from its start to its manifest), its
//! manifest or any of its parts: a run still writing the set keeps it all.
//! A set's folder that their removal emptied (every object the listing
//! showed in it was one of them) is then removed too, if it is empty.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use regex::Regex;

use crate::catalog::{side_name, Catalog, Stray, StrayKind};
use crate::error::Result;
use crate::manifest::{MANIFEST_SUFFIX, VERIFIED_SUFFIX};
use crate::naming::NamePattern;

/// What `dbbr check` writes and removes: `.dbbr-check-<run id>`.
const CHECK_PROBE: &str = r"^\.dbbr-check-[0-9a-f]{16}$";

/// A set part's name in its folder: a 4-digit index, a dash, a label (see
/// the set layout's slug), and an SQL or archive suffix.
const SET_PART: &str = r"^[0-9]{4}-[A-Za-z0-9_.-]+\.(sql|dump)(\.(gz|zst|lz4))?(\.age)?$";

/// Recognises leftovers.
pub(crate) struct Leftovers {
    /// The names backups' data objects get.
    names: Vec<Regex>,
    /// The names sets get (their folders).
    sets: Vec<Regex>,
    part: Regex,
    probe: Regex,
    age: Duration,
    staleness: Duration,
}

impl Leftovers {
    /// Leftovers of backups named by `patterns`, older than `age`; claims
    /// younger than `staleness` are live.
    pub(crate) fn new(
        patterns: &[NamePattern],
        age: Duration,
        staleness: Duration,
    ) -> Result<Leftovers> {
        Ok(Leftovers {
            names: patterns.iter().map(NamePattern::matcher).collect(),
            sets: patterns.iter().map(NamePattern::set_matcher).collect(),
            part: Regex::new(SET_PART).expect("a fixed expression"),
            probe: Regex::new(CHECK_PROBE).expect("a fixed expression"),
            age,
            staleness,
        })
    }

    /// The strays of `catalog` that are leftovers at time `now`.
    pub(crate) fn find(&self, catalog: &Catalog, now: DateTime<Utc>) -> Vec<Stray> {
        let older =
            |t: Option<DateTime<Utc>>, than: Duration| match (t, now.checked_sub_signed(than)) {
                (Some(t), Some(cutoff)) => t < cutoff,
                _ => false,
            };
        // Names a run is writing now: no leftover of theirs is one.
        let live: BTreeSet<String> = catalog
            .strays
            .iter()
            .filter(|s| s.kind == StrayKind::Claim && !older(s.mod_time, self.staleness))
            .filter_map(|s| side_name(&s.path, ".claim"))
            .map(|(dir, name)| data_name(&format!("{dir}{name}")).to_string())
            .collect();
        // Sets with a manifest (readable or not): their folders are theirs.
        let committed: BTreeSet<&str> = catalog
            .backups
            .iter()
            .map(|b| b.object())
            .chain(catalog.unreadable.iter().map(|u| u.object.as_str()))
            .collect();
        // Sets a run may still be writing: a live claim on the set or a
        // part, or a stray in its folder younger than the age.
        let busy_sets: BTreeSet<&str> = live
            .iter()
            .map(|name| set_of(name).unwrap_or(name))
            .chain(
                catalog
                    .strays
                    .iter()
                    .filter(|s| !older(s.mod_time, self.age))
                    .filter_map(|s| set_of(&s.path)),
            )
            .collect();
        catalog
            .strays
            .iter()
            .filter(|s| older(s.mod_time, self.age))
            .filter(|s| match self.named_object(s) {
                Some(name) => match set_of(&name) {
                    Some(set) => {
                        !committed.contains(set)
                            && !busy_sets.contains(set)
                            && !live.contains(data_name(&name))
                    }
                    None => !live.contains(data_name(&name)),
                },
                None => false,
            })
            .cloned()
            .collect()
    }

    /// The name a leftover is about, if `stray` is one by its name.
    fn named_object(&self, stray: &Stray) -> Option<String> {
        let ours = |name: &str| {
            let data = data_name(name);
            self.names.iter().any(|m| m.is_match(data))
                || self.probe.is_match(name)
                || self.is_set_part(name)
                // A set's manifest or record (staged or claimed), never an
                // object named as the set's folder is.
                || (stray.kind != StrayKind::NoManifest
                    && self.sets.iter().any(|m| m.is_match(data)))
        };
        let name = match stray.kind {
            StrayKind::Partial => {
                side_name(&stray.path, ".partial").map(|(d, n)| format!("{d}{n}"))?
            }
            StrayKind::Claim => side_name(&stray.path, ".claim").map(|(d, n)| format!("{d}{n}"))?,
            StrayKind::Record => stray.path.strip_suffix(VERIFIED_SUFFIX)?.to_string(),
            _ => stray.path.clone(),
        };
        ours(&name).then_some(name)
    }
}

impl Leftovers {
    /// The set folders that `removed` (leftovers of `catalog`, all
    /// deleted) emptied of everything the listing showed in them: each the
    /// folder of a removed leftover, named as sets are named, of no set
    /// with a manifest (readable or not), and holding no other object the
    /// listing showed. Only these may have their (empty) folder removed.
    pub(crate) fn emptied_set_folders(&self, catalog: &Catalog, removed: &[Stray]) -> Vec<String> {
        let gone: BTreeSet<&str> = removed.iter().map(|s| s.path.as_str()).collect();
        let committed: BTreeSet<&str> = catalog
            .backups
            .iter()
            .map(|b| b.object())
            .chain(catalog.unreadable.iter().map(|u| u.object.as_str()))
            .collect();
        let folders: BTreeSet<&str> = removed
            .iter()
            .filter_map(|s| set_of(&s.path))
            .filter(|set| self.sets.iter().any(|m| m.is_match(set)))
            .filter(|set| !committed.contains(set))
            .collect();
        folders
            .into_iter()
            .filter(|set| {
                let inside = format!("{set}/");
                let backups = catalog.backups.iter().flat_map(|b| {
                    let parts = b.manifest.set.iter().flat_map(|s| &s.parts);
                    [b.manifest_name.as_str(), b.object()]
                        .into_iter()
                        .chain(parts.map(|p| p.object.as_str()))
                });
                catalog
                    .strays
                    .iter()
                    .map(|s| s.path.as_str())
                    .chain(backups)
                    .chain(catalog.unreadable.iter().map(|u| u.manifest_name.as_str()))
                    .filter(|path| path.starts_with(&inside))
                    .all(|path| gone.contains(path))
            })
            .map(str::to_string)
            .collect()
    }

    /// Whether `name` is named as a part of a set: `SET/NNNN-LABEL.EXT`,
    /// `SET` named as sets are named.
    fn is_set_part(&self, name: &str) -> bool {
        let Some((set, leaf)) = name.rsplit_once('/') else {
            return false;
        };
        self.part.is_match(leaf) && self.sets.iter().any(|m| m.is_match(set))
    }
}

/// The set folder `name` is in (`SET` of `SET/PART`), if it is in a
/// folder named as a set.
fn set_of(name: &str) -> Option<&str> {
    let (set, _) = name.rsplit_once('/')?;
    set.ends_with(".set").then_some(set)
}

/// The data object a side object's name is about: `NAME.manifest.json` and
/// `NAME.verified.json` are about `NAME`.
fn data_name(name: &str) -> &str {
    name.strip_suffix(MANIFEST_SUFFIX)
        .or_else(|| name.strip_suffix(VERIFIED_SUFFIX))
        .unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn stray(path: &str, kind: StrayKind, minutes_old: i64) -> Stray {
        Stray {
            path: path.into(),
            size: 1,
            mod_time: Some(now() - Duration::minutes(minutes_old)),
            kind,
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).unwrap()
    }

    #[test]
    fn only_dbbrs_exact_names_old_enough_and_unclaimed() {
        let backup = "app-2026-11-01T00-00-00Z.sql.gz";
        let busy = "app-2026-11-30T23-00-00Z.sql.gz";
        let strays = vec![
            stray(backup, StrayKind::NoManifest, 60),
            stray(
                &format!(".{backup}.0a1b2c3d4e5f.partial"),
                StrayKind::Partial,
                60,
            ),
            stray(
                &format!(".{backup}.manifest.json.0a1b2c3d4e5f.claim"),
                StrayKind::Claim,
                60,
            ),
            stray(&format!("{backup}.verified.json"), StrayKind::Record, 60),
            stray(".dbbr-check-0123456789abcdef", StrayKind::NoManifest, 60),
            // Too young.
            stray("app-2026-11-30T23-55-00Z.sql.gz", StrayKind::NoManifest, 5),
            // Not dbbr's names.
            stray("schema.sql", StrayKind::NoManifest, 600),
            stray("photos.tar", StrayKind::NoManifest, 600),
            stray("dump.sql.gz.age", StrayKind::NoManifest, 600),
            stray(".foo.partial", StrayKind::NoManifest, 600),
            stray(".bar.claim", StrayKind::NoManifest, 600),
            stray(".schema.sql.0a1b2c3d4e5f.partial", StrayKind::Partial, 600),
            stray("notes.verified.json", StrayKind::Record, 600),
            // A live run writes `busy`: its old partial is not a leftover.
            stray(busy, StrayKind::NoManifest, 60),
            stray(
                &format!(".{busy}.0a1b2c3d4e5f.partial"),
                StrayKind::Partial,
                60,
            ),
            stray(
                &format!(".{busy}.manifest.json.aaaaaaaaaaaa.claim"),
                StrayKind::Claim,
                1,
            ),
        ];
        let catalog = Catalog {
            strays,
            ..Catalog::default()
        };
        let patterns = [
            NamePattern::default_for(false),
            NamePattern::default_for(true),
        ];
        let leftovers =
            Leftovers::new(&patterns, Duration::minutes(30), Duration::minutes(3)).unwrap();
        let found: Vec<String> = leftovers
            .find(&catalog, now())
            .into_iter()
            .map(|s| s.path)
            .collect();
        assert_eq!(
            found,
            [
                backup.to_string(),
                format!(".{backup}.0a1b2c3d4e5f.partial"),
                format!(".{backup}.manifest.json.0a1b2c3d4e5f.claim"),
                format!("{backup}.verified.json"),
                ".dbbr-check-0123456789abcdef".to_string(),
            ]
        );
        // An age beyond the calendar finds nothing rather than failing.
        let all_time = Leftovers::new(&patterns, Duration::MAX, Duration::minutes(3)).unwrap();
        assert!(all_time.find(&catalog, now()).is_empty());
    }

    #[test]
    fn parts_of_a_set_without_manifest_old_enough_and_unclaimed() {
        let dead = "app-2026-11-01T00-00-00Z.set";
        let young = "app-2026-11-02T00-00-00Z.set";
        let claimed = "app-2026-11-03T00-00-00Z.set";
        let committed = "app-2026-11-04T00-00-00Z.set";
        let held = "app-2026-11-05T00-00-00Z.set";
        let strays = vec![
            stray(
                &format!("{dead}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
            stray(
                &format!("{dead}/0002-public.orders-1.sql.gz.age"),
                StrayKind::NoManifest,
                60,
            ),
            stray(
                &format!("{dead}/.0003-public.orders-2.sql.gz.0a1b2c3d4e5f.partial"),
                StrayKind::Partial,
                60,
            ),
            stray(
                &format!("{dead}/.0003-public.orders-2.sql.gz.0a1b2c3d4e5f.claim"),
                StrayKind::Claim,
                60,
            ),
            stray(
                &format!(".{dead}.manifest.json.0a1b2c3d4e5f.claim"),
                StrayKind::Claim,
                60,
            ),
            stray(&format!("{dead}.verified.json"), StrayKind::Record, 60),
            // The claim its run held on the set, not renewed since.
            stray(&format!(".{dead}.0a1b2c3d4e5f.claim"), StrayKind::Claim, 60),
            // Not named as parts are: left alone.
            stray(&format!("{dead}/notes.txt"), StrayKind::NoManifest, 600),
            stray(
                &format!("{dead}/0004-post-data.dump.gz.bak"),
                StrayKind::NoManifest,
                600,
            ),
            stray(
                &format!("{dead}/12-data.sql.gz"),
                StrayKind::NoManifest,
                600,
            ),
            stray(
                "photos.set/0000-pre-data.sql.gz",
                StrayKind::NoManifest,
                600,
            ),
            // An object named as a set's folder is not one of dbbr's.
            stray(dead, StrayKind::NoManifest, 600),
            // A part written within the age: the whole set may be live.
            stray(
                &format!("{young}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
            stray(
                &format!("{young}/0001-data.sql.gz"),
                StrayKind::NoManifest,
                5,
            ),
            // A live claim on one part keeps the set.
            stray(
                &format!("{claimed}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
            stray(
                &format!("{claimed}/.0001-data.sql.gz.aaaaaaaaaaaa.claim"),
                StrayKind::Claim,
                1,
            ),
            // A live claim on the set keeps it, though none of its parts
            // has one (all committed, the manifest not yet written).
            stray(
                &format!("{held}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
            stray(&format!(".{held}.aaaaaaaaaaaa.claim"), StrayKind::Claim, 1),
            // A set whose manifest is there (it is in the catalog): an
            // extra part-like object in its folder is not a leftover.
            stray(
                &format!("{committed}/0009-extra.sql.gz"),
                StrayKind::NoManifest,
                600,
            ),
        ];
        let unreadable = vec![crate::catalog::Unreadable {
            manifest_name: format!("{committed}.manifest.json"),
            object: committed.into(),
            read_failed: true,
            reason: "no answer".into(),
        }];
        let catalog = Catalog {
            strays,
            unreadable,
            ..Catalog::default()
        };
        let patterns = [NamePattern::default_for(false)];
        let leftovers =
            Leftovers::new(&patterns, Duration::minutes(30), Duration::minutes(3)).unwrap();
        let found: Vec<String> = leftovers
            .find(&catalog, now())
            .into_iter()
            .map(|s| s.path)
            .collect();
        assert_eq!(
            found,
            [
                format!("{dead}/0000-pre-data.sql.gz"),
                format!("{dead}/0002-public.orders-1.sql.gz.age"),
                format!("{dead}/.0003-public.orders-2.sql.gz.0a1b2c3d4e5f.partial"),
                format!("{dead}/.0003-public.orders-2.sql.gz.0a1b2c3d4e5f.claim"),
                format!(".{dead}.manifest.json.0a1b2c3d4e5f.claim"),
                format!("{dead}.verified.json"),
                format!(".{dead}.0a1b2c3d4e5f.claim"),
            ]
        );
    }

    #[test]
    fn only_set_folders_emptied_of_everything_listed() {
        let emptied = "app-2026-11-01T00-00-00Z.set";
        let foreign = "app-2026-11-02T00-00-00Z.set";
        let strays = vec![
            stray(
                &format!("{emptied}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
            stray(
                &format!("{emptied}/.0001-data.sql.gz.0a1b2c3d4e5f.claim"),
                StrayKind::Claim,
                60,
            ),
            stray(
                &format!("{foreign}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
            // Someone else's file: the folder is not emptied.
            stray(&format!("{foreign}/notes.txt"), StrayKind::NoManifest, 60),
            // A leftover next to the folders, in none.
            stray("app-2026-11-03T00-00-00Z.sql.gz", StrayKind::NoManifest, 60),
        ];
        let catalog = Catalog {
            strays,
            ..Catalog::default()
        };
        let patterns = [NamePattern::default_for(false)];
        let leftovers =
            Leftovers::new(&patterns, Duration::minutes(30), Duration::minutes(3)).unwrap();
        let removed = leftovers.find(&catalog, now());
        assert_eq!(removed.len(), 4, "{removed:?}");
        assert_eq!(
            leftovers.emptied_set_folders(&catalog, &removed),
            [emptied.to_string()]
        );
        // One of its leftovers not removed: not emptied.
        assert!(leftovers
            .emptied_set_folders(&catalog, &removed[1..])
            .is_empty());
        // A folder not named as sets are, or of a set with a manifest
        // (unreadable here), is never one, whatever was removed.
        let other = vec![
            stray("photos.set/0000-pre-data.sql.gz", StrayKind::NoManifest, 60),
            stray(
                &format!("{emptied}/0000-pre-data.sql.gz"),
                StrayKind::NoManifest,
                60,
            ),
        ];
        let catalog = Catalog {
            strays: other.clone(),
            unreadable: vec![crate::catalog::Unreadable {
                manifest_name: format!("{emptied}.manifest.json"),
                object: emptied.into(),
                read_failed: true,
                reason: "no answer".into(),
            }],
            ..Catalog::default()
        };
        assert!(leftovers.emptied_set_folders(&catalog, &other).is_empty());
    }
}
