//! Invariant 3, command by command: exit 0 only when the whole operation
//! happened (and, for a restore, invariant 2: what its target holds).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::common::{Fault as ProxyFault, RequestKind};

use super::dbs::{DbState, Sums};
use super::invariants::{
    both_engines, damaged_groups, group, latest_source, leaf, removable, v, Observed, Violation,
};
use super::plan::{Target, Variant, VerifyWhich};
use super::prefix::{Health, Role};
use super::world::Kind;

/// A backup that exited 0 stored the source database, whole: one new
/// manifest, its object, with the source's tables and rows, and `dbbr
/// verify` passes.
pub fn backup(o: &Observed, out: &mut Vec<Violation>) {
    if o.outcome.code != Some(0) {
        return;
    }
    let new: Vec<&String> = o
        .after
        .keys()
        .filter(|f| !o.before.contains_key(*f) && f.ends_with(".manifest.json"))
        .collect();
    let [manifest] = new.as_slice() else {
        out.push(v(
            3,
            "backup exited 0 without exactly one new manifest",
            format!("new manifests: {new:?}"),
        ));
        return;
    };
    let object = manifest.trim_end_matches(".manifest.json");
    let text = std::fs::read_to_string(o.layout.root.join(manifest)).unwrap_or_default();
    let parsed: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    let problem = if !o.after.contains_key(object) {
        Some("its object is missing".to_string())
    } else if parsed["database"] != o.world.source(o.case.special())
        || parsed["engine"] != o.case.engine.name()
    {
        Some(format!("its manifest is not the source's: {text:.300}"))
    } else if parsed["sha256"] != o.after[object].1.as_str() {
        Some("its object's SHA-256 is not the manifest's".into())
    } else if let Some(wrong) = wrong_rows(o, &parsed) {
        Some(wrong)
    } else if let Some(Err(e)) = o.backup_verified {
        Some(format!("dbbr verify fails: {e}"))
    } else {
        None
    };
    if let Some(p) = problem {
        out.push(v(
            3,
            "backup exited 0 without a complete backup",
            format!("{object}: {p}"),
        ));
    }
}

/// What the manifest's rows per table (counted while the dump streamed)
/// say against the source's tables, if they differ.
fn wrong_rows(o: &Observed, manifest: &Value) -> Option<String> {
    let rows = manifest["dump"]["rows"].as_object()?;
    let got: BTreeMap<&str, u64> = rows
        .iter()
        .map(|(k, n)| (k.rsplit('.').next().unwrap_or(k), n.as_u64().unwrap_or(0)))
        .collect();
    let sums = &o
        .world
        .template(o.case.engine, o.case.special())
        .source_sums;
    let want: BTreeMap<&str, u64> = sums
        .iter()
        .map(|(t, s)| {
            (
                t.as_str(),
                s.split(':').next().unwrap_or("").parse().unwrap_or(0),
            )
        })
        .collect();
    (rows.len() != want.len() || got != want).then(|| {
        format!("its manifest's rows are not the source's: {rows:?}, the source has {want:?}")
    })
}

/// A restore's target: unchanged unless it exited 0 (or the whole
/// restore after a signal), and then the backup's source; the source
/// unchanged.
pub fn restore(o: &Observed, out: &mut Vec<Violation>) {
    let Some(r) = o.restore else { return };
    let Variant::Restore(which, target) = o.case.variant else {
        return;
    };
    // What the target must hold after exit 0, or why it must not exit 0.
    let expected: Result<(usize, &Sums), String> = match which {
        Some(w) => {
            let n = o.layout.source_backup(o.case.engine, w);
            let k = &o.layout.known[n];
            match (&k.generation, k.health) {
                (Some((g, sums)), Health::Intact) => Ok((*g, sums)),
                (_, h) => Err(format!("the backup is {h:?}")),
            }
        }
        None if both_engines(o) => Err("both engines have backups of that name".into()),
        None => match latest_source(o).map(|n| &o.layout.known[n]) {
            Some(k) if k.health == Health::Intact => {
                let (g, sums) = k.generation.as_ref().unwrap();
                Ok((*g, sums))
            }
            Some(k) => Err(format!("the newest backup is {:?}", k.health)),
            None => Err("there is no intact backup".into()),
        },
    };
    let generation_of = |state: &DbState| -> String {
        let DbState::Tables(t) = state else {
            return "none".into();
        };
        let Some(k) = o.layout.known.iter().find(|k| {
            k.engine == o.case.engine
                && k.generation
                    .as_ref()
                    .is_some_and(|(_, s)| s.get("generation") == t.get("generation"))
        }) else {
            return "none".into();
        };
        format!("generation {}", k.generation.as_ref().unwrap().0)
    };
    if o.outcome.code == Some(0) {
        match expected {
            Err(why) => out.push(v(
                3,
                "restore exited 0 although it could not restore the backup asked for",
                format!("{why}; the target now holds {}", generation_of(&r.after)),
            )),
            Ok((g, sums)) => {
                let mut want = sums.clone();
                if let (DbState::Tables(before), Target::Empty | Target::Occupied) =
                    (&r.before, target)
                {
                    want.extend(before.clone());
                }
                if r.after != DbState::Tables(want) {
                    out.push(v(
                        2,
                        "restore exited 0 but the target is not the backup's source",
                        format!(
                            "expected generation {g}; the target holds {} ({})",
                            generation_of(&r.after),
                            r.after.describe()
                        ),
                    ));
                }
            }
        }
    } else {
        let killed = o.outcome.kill_at.is_some();
        let left_empty = r.before == DbState::Absent && r.after == DbState::Tables(Sums::new());
        // A signal that falls after the client committed leaves the whole
        // restore: atomic, as allowed; a part of it never is.
        let signalled = killed || o.outcome.term_at.is_some();
        let complete = match (&expected, &r.before) {
            (Ok((_, sums)), DbState::Tables(before)) => {
                let mut want = (*sums).clone();
                want.extend(before.clone());
                r.after == DbState::Tables(want)
            }
            (Ok((_, sums)), DbState::Absent) => r.after == DbState::Tables((*sums).clone()),
            _ => false,
        };
        if r.after != r.before && !(killed && left_empty) && !(signalled && complete) {
            out.push(v(
                2,
                if left_empty {
                    "a failed restore left the database it created"
                } else {
                    "a failed restore changed its target"
                },
                format!(
                    "{} was {}, is {} ({}) after {}",
                    r.target,
                    r.before.describe(),
                    r.after.describe(),
                    generation_of(&r.after),
                    o.outcome.status()
                ),
            ));
        }
    }
    let source = &o
        .world
        .template(o.case.engine, o.case.special())
        .source_sums;
    if r.source_after != DbState::Tables(source.clone()) {
        out.push(v(
            2,
            "a restore changed the source database",
            r.source_after.describe(),
        ));
    }
}

/// A verify that exited 0 passed only intact backups (`--latest`: the
/// newest); its records say what the backups are, not what the
/// environment did.
pub fn verify(o: &Observed, out: &mut Vec<Violation>) {
    let Variant::Verify(which) = o.case.variant else {
        return;
    };
    let latest = latest_source(o);
    let scope: Vec<usize> = match which {
        VerifyWhich::Latest => latest.into_iter().collect(),
        VerifyWhich::Object(w) => vec![o.layout.source_backup(o.case.engine, w)],
        VerifyWhich::All | VerifyWhich::AllQuick => (0..o.layout.known.len()).collect(),
    };
    if o.outcome.code == Some(0) {
        if which == VerifyWhich::Latest && both_engines(o) {
            out.push(v(
                3,
                "verify --latest exited 0 although both engines have backups of that name",
                String::new(),
            ));
        }
        for &n in &scope {
            let k = &o.layout.known[n];
            if k.health != Health::Intact {
                out.push(v(
                    3,
                    "verify exited 0 although a backup it covers is damaged",
                    format!("{} is {:?}", k.object, k.health),
                ));
            }
        }
        if scope.is_empty() {
            out.push(v(
                3,
                "verify exited 0 with nothing to verify",
                String::new(),
            ));
        }
    }
    // The records it wrote.
    for k in &o.layout.known {
        let record = k.record();
        let Some(now) = o.after.get(&record) else {
            continue;
        };
        if o.before.get(&record) == Some(now) {
            continue;
        }
        let text = std::fs::read_to_string(o.layout.root.join(&record)).unwrap_or_default();
        let ok = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|j| j["ok"].as_bool());
        match (ok, k.health) {
            (Some(false), Health::Intact) => out.push(v(
                3,
                "verify recorded a failed verification of an intact backup",
                format!("{}: {text:.300}", k.object),
            )),
            (Some(true), h) if h != Health::Intact => out.push(v(
                3,
                "verify recorded a passed verification of a damaged backup",
                format!("{} is {h:?}: {text:.300}", k.object),
            )),
            _ => {}
        }
        // The newest backup, broken or not, is the one to verify: one older
        // than the newest intact backup never is (a newer broken one is,
        // and fails).
        let older = latest.is_some_and(|l| k.time < o.layout.known[l].time);
        let other = k.engine != o.case.engine
            || k.kind != Kind::Database
            || k.database != o.world.source(o.case.special());
        if which == VerifyWhich::Latest && !both_engines(o) && (older || other) {
            out.push(v(
                3,
                "verify --latest verified another backup than the newest one",
                format!("recorded for {}", k.object),
            ));
        }
    }
}

/// A list that exited 0 showed every intact backup and nothing broken.
pub fn list(o: &Observed, out: &mut Vec<Violation>) {
    if o.outcome.code != Some(0) {
        return;
    }
    let listed: Value = serde_json::from_str(&o.outcome.stdout).unwrap_or(Value::Null);
    let ok_objects: BTreeSet<String> = listed["backups"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|b| b["state"]["state"] == "ok")
                .filter_map(|b| b["manifest"]["object"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    for k in &o.layout.known {
        if k.health.lists_ok() && !ok_objects.contains(&k.object) {
            out.push(v(
                3,
                "list exited 0 without an intact backup",
                format!(
                    "{} ({} {}) not listed as ok",
                    k.object,
                    k.engine.name(),
                    k.database
                ),
            ));
        } else if !k.health.lists_ok() {
            out.push(v(
                3,
                &format!(
                    "list exited 0 although a backup is {}",
                    health_words(k.health)
                ),
                k.object.clone(),
            ));
        }
    }
}

fn health_words(h: Health) -> &'static str {
    match h {
        Health::Missing => "broken (object missing)",
        Health::SizeMismatch => "broken (size)",
        Health::Unreadable => "broken (manifest unreadable)",
        _ => "damaged",
    }
}

/// The dry run (without faults) keeps what the policy keeps and touches
/// only leftovers; a prune that exited 0 removed everything its dry run
/// said.
pub fn prune(o: &Observed, out: &mut Vec<Violation>) {
    let Some(dry) = o.dry_run else { return };
    let Variant::Prune(keep_last) = o.case.variant else {
        return;
    };
    // The dry run itself, without faults, against the policy.
    let policy = removable(o.layout, keep_last as usize, &damaged_groups(o.layout));
    let damaged = damaged_groups(o.layout);
    for &n in &dry.remove {
        let k = &o.layout.known[n];
        if k.health.lists_ok() && !policy.contains(&n) {
            let class = if damaged.contains(&group(k)) {
                "prune --dry-run would remove a backup of a database with an unreadable manifest"
            } else {
                "prune --dry-run would remove an intact backup the keep policy keeps"
            };
            out.push(v(
                1,
                class,
                format!("{} ({:?}, keep-last {keep_last})", k.object, k.health),
            ));
        }
    }
    for path in &dry.leftovers {
        if o.layout.files.get(path) != Some(&Role::Leftover) {
            out.push(v(
                1,
                "prune --dry-run would remove a file that is not dbbr's leftover",
                format!("{path} ({:?})", o.layout.files.get(path)),
            ));
        }
    }
    if o.outcome.code != Some(0) {
        return;
    }
    if dry.code != Some(0) {
        out.push(v(
            3,
            "prune exited 0 although its dry run failed",
            format!("dry run: {:?}", dry.code),
        ));
        return;
    }
    for &n in &dry.remove {
        let k = &o.layout.known[n];
        if o.after.contains_key(&k.manifest()) || o.after.contains_key(&k.data()) {
            out.push(v(
                3,
                "prune exited 0 but a backup its dry run removes is still there",
                k.object.clone(),
            ));
        }
    }
    for path in &dry.leftovers {
        if o.after.contains_key(path) {
            out.push(v(
                3,
                "prune exited 0 but a leftover its dry run removes is still there",
                path.clone(),
            ));
        }
    }
}

/// A check that exited 0 wrote, read back and deleted its probe.
pub fn check(o: &Observed, out: &mut Vec<Violation>) {
    if o.outcome.code != Some(0) {
        return;
    }
    let left: Vec<&String> = o
        .after
        .keys()
        .filter(|f| leaf(f).starts_with(".dbbr-check-"))
        .collect();
    if !left.is_empty() {
        out.push(v(
            3,
            "check exited 0 but left its probe",
            format!("{left:?}"),
        ));
    }
    if o.layout.storage == super::plan::Storage::S3 {
        for kind in [RequestKind::Put, RequestKind::GetData, RequestKind::Delete] {
            // Forwarded: a cut may fall after the whole of a small body.
            let done = o.outcome.requests.iter().any(|(line, fault)| {
                !matches!(fault, ProxyFault::Stall | ProxyFault::Status(_))
                    && RequestKind::of(line) == kind
                    && line.contains(".dbbr-check-")
            });
            if !done {
                out.push(v(
                    3,
                    "check exited 0 although its storage probe did not go through",
                    format!("no {} of the probe was forwarded", kind.name()),
                ));
            }
        }
    }
}
