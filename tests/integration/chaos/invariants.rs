//! The invariants every case is held to, judged from what was laid out,
//! what storage and the databases hold before and after, and how the
//! command ended:
//!
//! 1. no intact backup deleted (only a prune may delete one, and only one
//!    that its dry run and the keep policy both remove; never the newest
//!    intact backup of a group, never one of a group with an unreadable
//!    manifest); foreign, young and outside files untouched; a backup whose
//!    manifest cannot be read never deleted;
//! 2. a restore target unchanged unless the restore exited 0, and then equal
//!    to the backup's source; the source database unchanged;
//! 3. exit 0 only when the whole operation happened;
//! 4. a signalled command exits within 5 s, with 143;
//! 5. no canary secret in any output;
//! 6. nothing that lists as a backup is not one;
//! 7. a failed or stopped command leaves nothing behind (but after SIGKILL,
//!    or when deleting is what failed);
//! 8. no panic, no crash, no hang.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{Fault as ProxyFault, RequestKind};

use super::dbs::DbState;
use super::per_command;
use super::plan::{Case, Cmd, Engine, Fault, Variant};
use super::prefix::{Health, Layout, Role, Snapshot, PREFIX};
use super::runner::Outcome;
use super::world::{Kind, World};

/// One invariant broken by a case.
#[derive(Debug, Clone)]
pub struct Violation {
    pub invariant: u8,
    /// What was broken, without the case's names: the same defect gives
    /// the same class in every case.
    pub class: String,
    /// The case's particulars.
    pub detail: String,
}

pub(super) fn v(invariant: u8, class: &str, detail: impl Into<String>) -> Violation {
    Violation {
        invariant,
        class: class.into(),
        detail: detail.into(),
    }
}

/// What a `prune --dry-run` without faults said before the case.
#[derive(Debug, Default)]
pub struct DryRun {
    pub code: Option<i32>,
    /// Known backups it would remove.
    pub remove: BTreeSet<usize>,
    /// Files it would remove as leftovers (relative to the storage root).
    pub leftovers: BTreeSet<String>,
}

/// A restore's target and source, before and after.
#[derive(Debug)]
pub struct RestoreSeen {
    pub target: String,
    pub before: DbState,
    pub after: DbState,
    pub source_after: DbState,
}

/// Everything the judge looks at.
pub struct Observed<'a> {
    pub case: &'a Case,
    pub world: &'a World,
    pub layout: &'a Layout,
    pub before: &'a Snapshot,
    pub after: &'a Snapshot,
    pub outcome: &'a Outcome,
    pub dry_run: Option<&'a DryRun>,
    pub restore: Option<&'a RestoreSeen>,
    /// Backups listed as ok after the case that are new or changed, and
    /// whether they proved to be backups (`dbbr verify --quick` and their
    /// bytes against their manifest).
    pub listed_new: &'a [(String, Result<(), String>)],
    /// For a backup that exited 0: `dbbr verify` of what it wrote.
    pub backup_verified: Option<&'a Result<(), String>>,
    /// Every output of every dbbr command of the case: (what, text).
    pub outputs: &'a [(String, String)],
}

/// Every invariant the case broke.
pub fn judge(o: &Observed) -> Vec<Violation> {
    let mut out = Vec::new();
    files_kept(o, &mut out);
    match o.case.cmd {
        Cmd::Backup => per_command::backup(o, &mut out),
        Cmd::Restore => per_command::restore(o, &mut out),
        Cmd::Verify => per_command::verify(o, &mut out),
        Cmd::List => per_command::list(o, &mut out),
        Cmd::Prune | Cmd::PruneOrphans => per_command::prune(o, &mut out),
        Cmd::Check => per_command::check(o, &mut out),
    }
    signals(o, &mut out);
    for (what, text) in o.outputs {
        for form in o.world.canaries.found_in(text) {
            out.push(v(
                5,
                &format!("a secret shows in the output of {}", generic(what)),
                format!("{form:?} in the output of {what}"),
            ));
        }
    }
    for (object, result) in o.listed_new {
        if let Err(e) = result {
            out.push(v(
                6,
                "something lists as an intact backup but is not one",
                format!("{object}: {e}"),
            ));
        }
    }
    if let Some(child) = &o.outcome.child_killed {
        // A restore may run other clients (probes) besides the one that
        // restores: its target tells whether it restored in full.
        if o.outcome.code == Some(0) && o.case.cmd == Cmd::Backup {
            out.push(v(
                3,
                "exited 0 although its dump tool was killed",
                format!("{} killed at {:.2}s", child.0, child.1.as_secs_f64()),
            ));
        }
    }
    out
}

/// `the command` / `list after` without the case's names.
fn generic(what: &str) -> String {
    what.split(':').next().unwrap_or(what).to_string()
}

/// Invariant 1 (and 7 for files that appeared).
fn files_kept(o: &Observed, out: &mut Vec<Violation>) {
    let cmd = o.case.cmd;
    let prune = matches!(cmd, Cmd::Prune | Cmd::PruneOrphans);
    let keep_last = match o.case.variant {
        Variant::Prune(n) => n as usize,
        _ => usize::MAX,
    };
    let frozen = unreadable_groups(o);
    let removable = removable(o.layout, keep_last, &frozen);
    let newest = newest_intact(o.layout);
    let dry = o.dry_run.map(|d| &d.remove);
    for (path, role) in &o.layout.files {
        let before = o.before.get(path);
        let after = o.after.get(path);
        let gone = after.is_none();
        if before == after {
            continue;
        }
        let what = if gone { "deleted" } else { "changed" };
        match *role {
            Role::Backup(n) => {
                let k = &o.layout.known[n];
                if !gone {
                    out.push(v(
                        1,
                        "changed a stored backup's file",
                        format!("{path} changed"),
                    ));
                    continue;
                }
                let allowed = prune
                    && match k.health {
                        Health::Unreadable => false,
                        Health::Intact | Health::Flipped => {
                            removable.contains(&n) && dry.is_some_and(|d| d.contains(&n))
                        }
                        Health::Missing | Health::SizeMismatch => true,
                    };
                if allowed {
                    continue;
                }
                let read_failed = o.outcome.requests.iter().any(|(line, f)| {
                    *f != ProxyFault::Pass && line.contains(&format!("/{}.manifest.json", k.object))
                });
                let class = match k.health {
                    Health::Unreadable => "deleted a backup whose manifest cannot be read",
                    _ if read_failed => "deleted an intact backup whose manifest it failed to read",
                    _ if frozen.contains(&group(k)) => {
                        "deleted a backup of a database with an unreadable manifest"
                    }
                    Health::Missing | Health::SizeMismatch => {
                        "deleted a broken backup outside a prune"
                    }
                    _ if newest.contains(&n) => "deleted the newest intact backup of a database",
                    _ if prune => "deleted an intact backup the keep policy keeps",
                    _ => "deleted an intact backup outside a prune",
                };
                out.push(v(
                    1,
                    class,
                    format!(
                        "{path} deleted ({:?} backup of {} {})",
                        k.health,
                        k.engine.name(),
                        k.database
                    ),
                ));
            }
            Role::Foreign => out.push(v(1, &format!("{what} a foreign file"), path.clone())),
            Role::Outside => out.push(v(
                1,
                &format!("{what} a file outside the prefix"),
                path.clone(),
            )),
            Role::Young => out.push(v(
                1,
                &format!(
                    "{what} a young file named like dbbr's (a live run's claim, a new object)"
                ),
                path.clone(),
            )),
            Role::Leftover if !gone => out.push(v(1, "changed a leftover", path.clone())),
            Role::Leftover if cmd != Cmd::PruneOrphans => out.push(v(
                1,
                "removed a leftover without being asked to",
                path.clone(),
            )),
            Role::Leftover => {}
        }
    }
    // Files that appeared.
    let new: Vec<&String> = o
        .after
        .keys()
        .filter(|f| !o.before.contains_key(*f))
        .collect();
    let killed = o.outcome.kill_at.is_some();
    let deleting_failed = matches!(
        o.case.fault,
        Fault::Proxy {
            kind: RequestKind::Delete,
            ..
        }
    );
    let allowed = |f: &str| -> bool {
        match cmd {
            Cmd::Backup => {
                let manifest = format!("{f}.manifest.json");
                let visible = f.starts_with(&format!("{PREFIX}/")) && !is_hidden(f);
                // A signal that came after a backup committed (its manifest
                // written) stops the run, not that backup: it stays, whole,
                // data and manifest both.
                let stopped = o.outcome.code.is_some_and(|c| c > 128);
                let data_of = |m: &str| {
                    m.strip_suffix(".manifest.json")
                        .is_some_and(|d| new.iter().any(|n| n.as_str() == d))
                };
                visible
                    && match o.outcome.code {
                        Some(0) => {
                            f.ends_with(".manifest.json") || new.iter().any(|n| **n == manifest)
                        }
                        _ if stopped => {
                            data_of(f)
                                || (new.iter().any(|n| **n == manifest)
                                    && !f.ends_with(".manifest.json"))
                        }
                        _ => false,
                    }
            }
            Cmd::Verify => o.layout.owner(f).is_some() && f.ends_with(".verified.json"),
            Cmd::Check => o.outcome.code != Some(0) && leaf(f).starts_with(".dbbr-check-"),
            _ => false,
        }
    };
    let unexpected: Vec<&&String> = new.iter().filter(|f| !allowed(f)).collect();
    if !unexpected.is_empty() && !killed && !deleting_failed {
        let class = if o.outcome.code == Some(0) {
            "a successful command left files it should not have written"
        } else {
            "a failed or stopped command left files behind"
        };
        out.push(v(7, class, format!("{unexpected:?}")));
    }
}

pub(super) fn leaf(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn is_hidden(path: &str) -> bool {
    leaf(path).starts_with('.')
}

/// The (engine, database) groups that hold an unreadable manifest:
/// nothing of them may be deleted.
pub(super) fn damaged_groups(layout: &Layout) -> BTreeSet<Group> {
    layout
        .known
        .iter()
        .filter(|k| k.health == Health::Unreadable)
        .map(group)
        .collect()
}

/// A retention group: engine, kind and database.
pub(super) type Group = (Engine, Kind, String);

pub(super) fn group(k: &super::prefix::Known) -> Group {
    (k.engine, k.kind, k.database.clone())
}

/// [`damaged_groups`], and the groups of manifests whose every read the
/// proxy failed during the command.
pub(super) fn unreadable_groups(o: &Observed) -> BTreeSet<Group> {
    let mut groups = damaged_groups(o.layout);
    if let Fault::Proxy {
        kind: RequestKind::GetManifest,
        once: false,
        ..
    } = o.case.fault
    {
        for (line, fault) in &o.outcome.requests {
            if *fault == ProxyFault::Pass {
                continue;
            }
            for k in &o.layout.known {
                if line.contains(&format!("/{}.manifest.json", k.object)) {
                    groups.insert(group(k));
                }
            }
        }
    }
    groups
}

/// What the keep policy `--keep-last N` may remove, from what the
/// storage shows: per engine, kind and database, the listable backups but
/// the N newest; nothing of a group in `frozen`.
pub fn removable(layout: &Layout, keep_last: usize, frozen: &BTreeSet<Group>) -> BTreeSet<usize> {
    let mut groups: BTreeMap<Group, Vec<usize>> = BTreeMap::new();
    for (n, k) in layout.known.iter().enumerate() {
        if k.health.lists_ok() {
            groups.entry(group(k)).or_default().push(n);
        }
    }
    let mut out = BTreeSet::new();
    for (group, mut members) in groups {
        if frozen.contains(&group) {
            continue;
        }
        members.sort_by_key(|&n| std::cmp::Reverse(layout.known[n].time));
        out.extend(members.into_iter().skip(keep_last));
    }
    out
}

/// The newest intact backup of each group.
pub(super) fn newest_intact(layout: &Layout) -> BTreeSet<usize> {
    let mut newest: BTreeMap<Group, usize> = BTreeMap::new();
    for (n, k) in layout.known.iter().enumerate() {
        if k.health != Health::Intact {
            continue;
        }
        let e = newest.entry(group(k)).or_insert(n);
        if layout.known[*e].time < k.time {
            *e = n;
        }
    }
    newest.into_values().collect()
}

/// The newest backup of the source database on the case's engine that a
/// listing shows as intact.
pub(super) fn latest_source(o: &Observed) -> Option<usize> {
    (0..o.layout.known.len())
        .filter(|&n| {
            let k = &o.layout.known[n];
            k.engine == o.case.engine
                && k.kind == Kind::Database
                && k.database == o.world.source(o.case.special())
                && k.health.lists_ok()
        })
        .max_by_key(|&n| o.layout.known[n].time)
}

pub(super) fn both_engines(o: &Observed) -> bool {
    o.case.fault == Fault::BothEngines
}

/// Invariants 4 and 8.
fn signals(o: &Observed, out: &mut Vec<Violation>) {
    let r = o.outcome;
    if let Some(term) = r.term_at {
        let took = r.elapsed.saturating_sub(term);
        if r.hung {
            out.push(v(
                4,
                "did not exit within 15 s of SIGTERM",
                format!("killed {:.1}s after SIGTERM", took.as_secs_f64()),
            ));
        } else {
            if took > Duration::from_secs(5) {
                out.push(v(
                    4,
                    "took more than 5 s to exit after SIGTERM",
                    format!("{:.1}s", took.as_secs_f64()),
                ));
            }
            let fine = matches!(
                (r.code, r.killed_by),
                (Some(143) | Some(0), _) | (None, Some(15))
            );
            if !fine {
                out.push(v(
                    4,
                    "exited with another code than 143 after SIGTERM",
                    r.status(),
                ));
            }
        }
    } else if r.hung {
        out.push(v(8, "ran for more than 150 s", String::new()));
    }
    // A panic in any thread, whether or not it ended the process.
    let lines: Vec<&str> = r.stderr.lines().collect();
    let at = lines.iter().position(|l| l.contains("panicked at"));
    if r.code == Some(101) || at.is_some() {
        // The panic's place and message, not its backtrace.
        let message = at.map_or_else(
            || tail(&r.stderr, 3),
            |i| lines[i..lines.len().min(i + 2)].join(" "),
        );
        out.push(v(8, "panicked", message));
    }
    if let Some(s) = r.killed_by {
        let ours = r.kill_at.is_some() || (r.term_at.is_some() && s == 15);
        if !ours {
            out.push(v(8, "crashed", format!("killed by signal {s}")));
        }
    }
    if !r.stragglers.is_empty() {
        out.push(v(
            8,
            "a child process outlived dbbr by more than 15 s",
            r.stragglers.join(", "),
        ));
    }
}

/// The last `n` lines of `text`.
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}
