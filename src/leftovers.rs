//! dbbr's own leftovers, and nothing else: what a killed or failed run can
//! leave under the prefix, recognised by dbbr's exact names. A hidden
//! staging object (`.NAME.<12 hex>.partial`) or claim (`.NAME.<12
//! hex>.claim`) of a name dbbr writes, an object named as backups are named
//! whose manifest is definitely absent (the listing succeeded and did not
//! show it), the verification record of a backup that is gone, and a
//! `dbbr check` probe. Each only when older than the given age (never
//! younger than a claim's staleness) and when no live claim is on its name.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, Utc};
use regex::Regex;

use crate::catalog::{side_name, Catalog, Stray, StrayKind};
use crate::error::Result;
use crate::manifest::{MANIFEST_SUFFIX, VERIFIED_SUFFIX};
use crate::naming::NamePattern;

/// What `dbbr check` writes and removes: `.dbbr-check-<run id>`.
const CHECK_PROBE: &str = r"^\.dbbr-check-[0-9a-f]{16}$";

/// Recognises leftovers.
pub(crate) struct Leftovers {
    /// The names backups' data objects get.
    names: Vec<Regex>,
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
        catalog
            .strays
            .iter()
            .filter(|s| older(s.mod_time, self.age))
            .filter(|s| match self.named_object(s) {
                Some(name) => !live.contains(data_name(&name)),
                None => false,
            })
            .cloned()
            .collect()
    }

    /// The name a leftover is about, if `stray` is one by its name.
    fn named_object(&self, stray: &Stray) -> Option<String> {
        let ours = |name: &str| {
            let data = data_name(name);
            self.names.iter().any(|m| m.is_match(data)) || self.probe.is_match(name)
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
}
