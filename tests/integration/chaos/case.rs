//! One case from start to end: lay out its storage, take what the
//! invariants compare against (a prune's dry run, a restore target's
//! tables, every file's bytes), run the command under its fault, look at
//! storage and the databases again (without faults), judge, clean up.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::Duration;

use serde_json::Value;

use crate::common::{setting, unique};

use super::dbs;
use super::invariants::{self, DryRun, Observed, RestoreSeen, Violation};
use super::plan::{Case, Cmd, Target, Variant, VerifyWhich, STORED};
use super::prefix::{Layout, PREFIX};
use super::runner::{self, Outcome};
use super::world::World;

/// How a case went.
pub struct CaseResult {
    pub case: Case,
    /// The command, as a shell line (secrets masked).
    pub command: String,
    pub outcome: Outcome,
    pub violations: Vec<Violation>,
    /// How long the command was expected to take (timed faults fall at a
    /// fraction of it).
    pub expected: Duration,
}

/// Orphans younger than this are never leftovers (dbbr's claims go stale
/// after 3 minutes).
const ORPHAN_AGE: &str = "10m";

/// Runs `case`; timed faults fall at their fraction of `expected`.
pub fn run(world: &World, case: &Case, expected: Duration) -> CaseResult {
    let layout = Layout::build(world, case);
    let mut outputs: Vec<(String, String)> = Vec::new();
    let dry_run = match case.variant {
        Variant::Prune(n) => Some(dry_run(world, case, &layout, n, &mut outputs)),
        _ => None,
    };
    let target = match case.variant {
        Variant::Restore(_, t) => {
            let name = unique("chaost");
            if t != Target::New {
                dbs::create_target(case.engine, &name, t == Target::Occupied);
            }
            Some((name.clone(), dbs::state(case.engine, &name)))
        }
        _ => None,
    };
    let before = layout.snapshot();
    let args = arguments(world, case, &layout, target.as_ref().map(|t| t.0.as_str()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut cmd = world.dbbr(case.engine, &layout.remote, &args);
    cmd.env("LOG_LEVEL", case.log_level);
    if matches!(case.cmd, Cmd::Backup | Cmd::Check) {
        cmd.env("BACKUP_DATABASES", world.source(case.special()))
            .env("NOTIFY_WEBHOOK_URL", &world.canaries.notify_url);
    }
    let command = shell_line(&cmd);
    let notified = world.notify.received().len();
    let mut outcome = runner::run(
        cmd,
        &case.fault,
        expected,
        &world.proxy,
        case.engine.children(case.cmd),
        &layout.known[layout.source_backup(case.engine, STORED - 1)].object,
    );
    if case.fault.timed().is_none() && !case.fault.needs_s3() {
        // Laid out before the command: it always happened.
        outcome.landed = true;
    }
    outputs.push((
        "the command".into(),
        format!("{}\n{}", outcome.stdout, outcome.stderr),
    ));
    for sent in world.notify.received().iter().skip(notified) {
        outputs.push(("a notification's body".into(), sent.body.clone()));
    }
    let after = layout.snapshot();

    // What is there now, seen without faults.
    let listing = dbbr_json(
        world,
        case,
        &layout,
        &["list", "--json", "--all"],
        &mut outputs,
    );
    let listed_new = listed_new(
        world,
        case,
        &layout,
        &listing,
        &before,
        &after,
        &mut outputs,
    );
    let backup_verified = (case.cmd == Cmd::Backup && outcome.code == Some(0))
        .then(|| verify_new_backup(world, case, &layout, &before, &after, &mut outputs));
    let restore = target.as_ref().map(|(name, before)| {
        dbs::wait_idle(case.engine, name, Duration::from_secs(30));
        RestoreSeen {
            target: name.clone(),
            before: before.clone(),
            after: dbs::state(case.engine, name),
            source_after: dbs::state(case.engine, world.source(case.special())),
        }
    });
    let violations = invariants::judge(&Observed {
        case,
        world,
        layout: &layout,
        before: &before,
        after: &after,
        outcome: &outcome,
        dry_run: dry_run.as_ref(),
        restore: restore.as_ref(),
        listed_new: &listed_new,
        backup_verified: backup_verified.as_ref(),
        outputs: &outputs,
    });
    if let Some((name, _)) = &target {
        dbs::drop_db(case.engine, name);
    }
    layout.remove();
    CaseResult {
        case: case.clone(),
        command,
        outcome,
        violations,
        expected,
    }
}

/// The command's arguments.
fn arguments(world: &World, case: &Case, layout: &Layout, target: Option<&str>) -> Vec<String> {
    let mut args: Vec<String> = Vec::new();
    let mut push = |a: &str| args.push(a.to_string());
    match (case.cmd, case.variant) {
        (Cmd::Backup, _) => {
            push("backup");
            push(case.engine.name());
        }
        (Cmd::Check, _) => {
            push("check");
            push(case.engine.name());
        }
        (Cmd::List, _) => {
            push("list");
            push("--json");
            push("--all");
        }
        (Cmd::Restore, Variant::Restore(which, t)) => {
            push("restore");
            match which {
                Some(w) => push(&layout.known[layout.source_backup(case.engine, w)].object),
                None => {
                    push("--latest");
                    push(world.source(case.special()));
                }
            }
            push("--to");
            push(target.expect("a restore has a target"));
            match t {
                Target::New => push("--create"),
                Target::Occupied => push("--force"),
                Target::Empty => {}
            }
        }
        (Cmd::Verify, Variant::Verify(which)) => {
            push("verify");
            match which {
                VerifyWhich::Latest => {
                    push("--latest");
                    push(world.source(case.special()));
                }
                VerifyWhich::Object(w) => {
                    push(&layout.known[layout.source_backup(case.engine, w)].object)
                }
                VerifyWhich::All => push("--all"),
                VerifyWhich::AllQuick => {
                    push("--all");
                    push("--quick");
                }
            }
        }
        (Cmd::Prune | Cmd::PruneOrphans, Variant::Prune(n)) => {
            push("prune");
            push("--keep-last");
            push(&n.to_string());
            if case.cmd == Cmd::PruneOrphans {
                push("--orphans-older-than");
                push(ORPHAN_AGE);
            }
        }
        (cmd, variant) => panic!("{cmd:?} does not go with {variant:?}"),
    }
    args
}

/// `prune --dry-run` with the case's policy, without faults.
fn dry_run(
    world: &World,
    case: &Case,
    layout: &Layout,
    keep_last: u32,
    outputs: &mut Vec<(String, String)>,
) -> DryRun {
    let mut args = vec!["prune", "--dry-run", "--keep-last"];
    let n = keep_last.to_string();
    args.push(&n);
    if case.cmd == Cmd::PruneOrphans {
        args.extend(["--orphans-older-than", ORPHAN_AGE]);
    }
    let out = world
        .dbbr(case.engine, &layout.remote, &args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    outputs.push((
        "prune --dry-run before".into(),
        format!("{stdout}\n{stderr}"),
    ));
    let mut dry = DryRun {
        code: out.status.code(),
        ..DryRun::default()
    };
    for line in stdout.lines().filter(|l| l.starts_with("would remove")) {
        let words: BTreeSet<&str> = line.split_whitespace().collect();
        if words.contains("leftover") {
            if let Some(path) = line.split_whitespace().last() {
                dry.leftovers.insert(format!("{PREFIX}/{path}"));
            }
            continue;
        }
        for (n, k) in layout.known.iter().enumerate() {
            if words.contains(k.object.as_str()) {
                dry.remove.insert(n);
            }
        }
    }
    dry
}

/// `dbbr ARGS` without faults, its stdout as JSON (null if it is not).
fn dbbr_json(
    world: &World,
    case: &Case,
    layout: &Layout,
    args: &[&str],
    outputs: &mut Vec<(String, String)>,
) -> Value {
    let out = world
        .dbbr(case.engine, &layout.remote, args)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    outputs.push((
        format!("{} after", args[0]),
        format!("{stdout}\n{}", String::from_utf8_lossy(&out.stderr)),
    ));
    serde_json::from_str(&stdout).unwrap_or(Value::Null)
}

/// The backups the listing shows as ok whose manifest or object is new or
/// changed, each checked: `dbbr verify --quick`, and its bytes against its
/// manifest.
fn listed_new(
    world: &World,
    case: &Case,
    layout: &Layout,
    listing: &Value,
    before: &super::prefix::Snapshot,
    after: &super::prefix::Snapshot,
    outputs: &mut Vec<(String, String)>,
) -> Vec<(String, Result<(), String>)> {
    let mut out = Vec::new();
    let Some(backups) = listing["backups"].as_array() else {
        return out;
    };
    for b in backups.iter().filter(|b| b["state"]["state"] == "ok") {
        let Some(object) = b["manifest"]["object"].as_str() else {
            continue;
        };
        let data = format!("{PREFIX}/{object}");
        let manifest = format!("{data}.manifest.json");
        let unchanged = |f: &String| before.get(f).is_some() && before.get(f) == after.get(f);
        if unchanged(&data) && unchanged(&manifest) {
            continue;
        }
        let mut result = match (after.get(&data), b["manifest"]["sha256"].as_str()) {
            (Some((_, sha)), Some(want)) if sha == want => Ok(()),
            (None, _) => Err("its object is not there".to_string()),
            (Some((_, sha)), want) => Err(format!(
                "its object's SHA-256 is {sha}, its manifest says {want:?}"
            )),
        };
        let out_v = world
            .dbbr(
                case.engine,
                &layout.remote,
                &["verify", "--quick", "--no-record", object],
            )
            .output()
            .unwrap();
        let text = format!(
            "{}\n{}",
            String::from_utf8_lossy(&out_v.stdout),
            String::from_utf8_lossy(&out_v.stderr)
        );
        if result.is_ok() && !out_v.status.success() {
            result = Err(format!(
                "dbbr verify --quick fails: {}",
                invariants::tail(&text, 2)
            ));
        }
        outputs.push(("verify --quick after".into(), text));
        out.push((object.to_string(), result));
    }
    out
}

/// `dbbr verify OBJECT` (in full) of the backup a backup case wrote.
fn verify_new_backup(
    world: &World,
    case: &Case,
    layout: &Layout,
    before: &super::prefix::Snapshot,
    after: &super::prefix::Snapshot,
    outputs: &mut Vec<(String, String)>,
) -> Result<(), String> {
    let Some(manifest) = after
        .keys()
        .find(|f| !before.contains_key(*f) && f.ends_with(".manifest.json"))
    else {
        return Err("no new manifest".into());
    };
    let object = manifest
        .trim_end_matches(".manifest.json")
        .trim_start_matches(&format!("{PREFIX}/"));
    let out = world
        .dbbr(
            case.engine,
            &layout.remote,
            &["verify", "--no-record", object],
        )
        .output()
        .unwrap();
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    outputs.push(("verify after".into(), text.clone()));
    if out.status.success() {
        Ok(())
    } else {
        Err(invariants::tail(&text, 2))
    }
}

/// `cmd` as a shell line: the settings that matter, then the arguments;
/// the S3 secret masked.
fn shell_line(cmd: &Command) -> String {
    let secret = setting("DBBR_TEST_S3C_SECRET_KEY");
    let mut line = Vec::new();
    for (k, v) in cmd.get_envs() {
        let k = k.to_string_lossy();
        let shown = [
            "REMOTE_NAME",
            "UPLOAD_PREFIX",
            "BACKUP_DATABASES",
            "LOG_LEVEL",
            "PGUSER",
            "PGPASSWORD_FILE",
            "MYSQL_USER",
            "MYSQL_PWD_FILE",
            "NOTIFY_WEBHOOK_URL",
            "RCLONE_LOW_LEVEL_RETRIES",
        ];
        if let (true, Some(v)) = (shown.contains(&k.as_ref()), v) {
            let v = v.to_string_lossy().replace(&secret, "***");
            let v = if k == "NOTIFY_WEBHOOK_URL" {
                v.split("/hook/").next().unwrap_or("").to_string() + "/hook/***"
            } else {
                v
            };
            line.push(format!("{k}='{v}'"));
        }
    }
    line.push("dbbr".into());
    for a in cmd.get_args() {
        line.push(a.to_string_lossy().into_owned());
    }
    line.join(" ")
}
