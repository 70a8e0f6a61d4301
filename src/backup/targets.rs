//! What a run backs up, found before any dump: the databases of a backup of
//! every database (listed on the server, less the excluded ones), and each
//! dump's expected size, from which its upload's part size follows.

use crate::config::Plan;
use crate::engine::{Listed, Target};
use crate::error::{Error, Result, Setting};
use crate::storage::Sizing;

/// One dump of a run: what, and how large it is expected to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Job {
    /// What is dumped.
    pub target: Target,
    /// Its upload's sizing.
    pub sizing: Sizing,
}

/// The run's dumps. Lists the server's databases when the plan backs up
/// every one; otherwise only when the remote chooses part sizes (S3), and
/// then a listing that fails only leaves the sizes unknown.
pub(crate) fn jobs(plan: &Plan) -> Result<Vec<Job>> {
    let kind = plan.engine.kind();
    let list = || kind.databases(&plan.connection, &plan.dump_args);
    let (targets, listed) = match &plan.discover {
        Some(exclude) => {
            let listed = list()?;
            let mut targets = plan.targets.clone();
            targets.extend(
                listed
                    .iter()
                    .filter(|d| !exclude.excludes(&d.name))
                    .map(|d| Target::Database(d.name.clone())),
            );
            if !targets.iter().any(|t| matches!(t, Target::Database(_))) {
                return Err(Error::config(
                    Setting::Exclude,
                    format!(
                        "no database left to back up: the server lists {}, all excluded",
                        names(&listed)
                    ),
                ));
            }
            (targets, listed)
        }
        None if plan.remote.sizes_parts()? => (plan.targets.clone(), list().unwrap_or_default()),
        None => (plan.targets.clone(), Vec::new()),
    };
    Ok(targets
        .into_iter()
        .map(|target| {
            let expected = expected_bytes(&target, &listed);
            Job {
                target,
                sizing: Sizing::new(expected, plan.max_parts),
            }
        })
        .collect())
}

/// A dump's size as the server's sizes suggest: a database's size on disk
/// (its dump, without indexes and compressed, is usually smaller), the sum
/// of them for a whole server; unknown if not listed.
fn expected_bytes(target: &Target, listed: &[Listed]) -> Option<u64> {
    match target {
        Target::Database(name) => listed.iter().find(|d| d.name == *name).map(|d| d.bytes),
        Target::All if !listed.is_empty() => Some(listed.iter().map(|d| d.bytes).sum()),
        Target::All => None,
        Target::Globals => Some(0),
    }
}

/// `a, b, c` (at most 10).
fn names(listed: &[Listed]) -> String {
    if listed.is_empty() {
        return "no database".into();
    }
    let mut shown: Vec<&str> = listed.iter().take(10).map(|d| d.name.as_str()).collect();
    if listed.len() > 10 {
        shown.push("...");
    }
    shown.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listed(items: &[(&str, u64)]) -> Vec<Listed> {
        items
            .iter()
            .map(|(name, bytes)| Listed {
                name: name.to_string(),
                bytes: *bytes,
            })
            .collect()
    }

    #[test]
    fn sizes_come_from_the_listing() {
        let l = listed(&[("app", 10), ("shop", 32)]);
        assert_eq!(
            expected_bytes(&Target::Database("shop".into()), &l),
            Some(32)
        );
        assert_eq!(expected_bytes(&Target::Database("gone".into()), &l), None);
        assert_eq!(expected_bytes(&Target::All, &l), Some(42));
        assert_eq!(expected_bytes(&Target::All, &[]), None);
        assert_eq!(expected_bytes(&Target::Globals, &[]), Some(0));
    }

    #[test]
    fn long_listings_are_cut() {
        let many: Vec<(String, u64)> = (0..12).map(|i| (format!("d{i}"), 0)).collect();
        let many: Vec<(&str, u64)> = many.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        let shown = names(&listed(&many));
        assert!(
            shown.starts_with("d0, d1") && shown.ends_with("d9, ..."),
            "{shown}"
        );
        assert_eq!(names(&[]), "no database");
    }
}
