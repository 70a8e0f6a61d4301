//! The backup job as an operator runs it: one run (backup, prune, verify,
//! then notify and publish metrics), and the scheduler around it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use chrono::Utc;
use dbbr::{Error, Result, RunId, Verify, Which};

use crate::backup_args::{self, BackupArgs};
use crate::backup_cmd;
use crate::notify::StartPing;
use crate::ops_args::{Ops, VerifyLevelArg};
use crate::outcome::Outcome;
use crate::schedule::{Job, SystemClock};
use crate::summary::RunSummary;

/// `dbbr backup`: one run, or the scheduler with BACKUP_SCHEDULE. A
/// scheduler a signal stopped ends [`Outcome::Failed`], which `main` turns
/// into the signal's exit.
pub fn backup(args: BackupArgs, stop: Arc<AtomicBool>, json: bool) -> Outcome {
    run_or_schedule(args, stop, json).into()
}

/// One run, or the scheduler: whether the run succeeded (a scheduler
/// stopped by a signal: `false`); `Err` for settings rejected before any
/// I/O.
fn run_or_schedule(args: BackupArgs, stop: Arc<AtomicBool>, json: bool) -> Result<bool> {
    let ops = Ops::new(&args.ops, false)?;
    // Everything a run would reject is rejected now, before any I/O.
    backup_args::builder(&args)?.validate()?;
    let (Some(schedule), Some(zone)) = (ops.backup_schedule.clone(), ops.zone) else {
        return backup_run(&args, &ops, &stop, json);
    };
    #[derive(Clone, Copy)]
    enum Kind {
        Backup,
        Verify,
    }
    let mut jobs = vec![Job {
        kind: Kind::Backup,
        schedule,
    }];
    if let Some(schedule) = ops.verify_schedule.clone() {
        jobs.push(Job {
            kind: Kind::Verify,
            schedule,
        });
    }
    crate::logging::set_run_id(&RunId::new());
    for job in &jobs {
        let what = match job.kind {
            Kind::Backup => "backup",
            Kind::Verify => "verify",
        };
        let next = job.schedule.next_after(zone, Utc::now());
        tracing::info!(
            "scheduler: {what} on `{}`, next at {}",
            job.schedule.text,
            next.map_or_else(|| "never".into(), |t| zone.show(t))
        );
    }
    crate::schedule::run_loop(
        &jobs,
        zone,
        &stop,
        &SystemClock,
        |kind| {
            let done = match kind {
                Kind::Backup => backup_run(&args, &ops, &stop, json).map(drop),
                Kind::Verify => verify_run(&args, &ops, &stop).map(drop),
            };
            if let Err(e) = done {
                let message = crate::settings::message(&e, Some(args.engine.engine()));
                tracing::error!("{}", crate::show::one_line(&message));
            }
        },
        |kind, when| {
            let what = match kind {
                Kind::Backup => "backup",
                Kind::Verify => "verify",
            };
            tracing::warn!(
                "skipped the {what} due at {}: the previous run was still going",
                zone.show(when)
            );
        },
    );
    Ok(!stop.load(Ordering::Relaxed))
}

/// One backup run: backup (and prune), verification if asked, then
/// notifications and metrics. Whether everything succeeded.
fn backup_run(args: &BackupArgs, ops: &Ops, stop: &Arc<AtomicBool>, json: bool) -> Result<bool> {
    let run_id = RunId::new();
    crate::logging::set_run_id(&run_id);
    let engine = args.engine.engine();
    let started = Utc::now();
    let start_ping = ops.notifier.started(&run_id);
    let run = backup_args::builder(args)?
        .run_id(run_id.clone())
        .progress(backup_cmd::progress(json))
        .cancel_flag(Arc::clone(stop))
        .run();
    let mut summary = match run {
        Ok(report) => {
            backup_cmd::log_prune(&report);
            let mut summary = RunSummary::of_backup(engine, started, &report);
            let objects: Vec<String> = report
                .databases
                .iter()
                .filter(|d| d.result.is_ok())
                .filter_map(|d| d.object.clone())
                .collect();
            if args.ops.verify_after_backup && !objects.is_empty() && !stop.load(Ordering::Relaxed)
            {
                verify_into(&mut summary, args, ops, Which::Objects(objects));
            }
            summary
        }
        Err(e) => {
            let message = crate::settings::message(&e, Some(engine));
            tracing::error!("{}", crate::show::one_line(&message));
            RunSummary::of_error(&run_id, engine, started, &e)
        }
    };
    // A run a signal stopped did not do all it was asked (a verification or
    // a prune may have been skipped): its end says so, as its exit code does.
    if stop.load(Ordering::Relaxed) && summary.error.is_none() {
        summary.add_error(&Error::Interrupted);
    }
    summary.finish();
    announce_end(ops, &summary, Some(start_ping));
    Ok(summary.ok)
}

/// Sends the end of a run: its notifications and metrics at the same time,
/// so that endpoints that do not answer hold the run up for one bound, not
/// one each (a few seconds once the process is stopping); the start ping
/// (if any) goes first.
fn announce_end(ops: &Ops, summary: &RunSummary, start_ping: Option<StartPing>) {
    if let Some(start_ping) = start_ping {
        start_ping.wait();
    }
    let deadline = crate::http::deadline();
    std::thread::scope(|s| {
        s.spawn(|| ops.metrics.publish(summary, deadline));
        ops.notifier.finished(summary, deadline);
    });
}

/// A scheduled verification of each database's latest backup.
fn verify_run(args: &BackupArgs, ops: &Ops, stop: &AtomicBool) -> Result<bool> {
    let run_id = RunId::new();
    crate::logging::set_run_id(&run_id);
    let started = Utc::now();
    let mut summary = RunSummary::new(&run_id, args.engine.engine(), started);
    let databases: Vec<String> = if args.all {
        vec!["all".into()]
    } else {
        args.databases
            .iter()
            .flat_map(|d| d.split(','))
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect()
    };
    for database in databases {
        if stop.load(Ordering::Relaxed) {
            summary.add_error(&Error::Interrupted);
            break;
        }
        verify_into(&mut summary, args, ops, Which::Latest(database));
    }
    summary.kind = "verify".into();
    summary.finish();
    announce_end(ops, &summary, None);
    Ok(summary.ok)
}

/// Verifies `which` and adds the outcome to `summary`, logging each result.
fn verify_into(summary: &mut RunSummary, args: &BackupArgs, ops: &Ops, which: Which) {
    let kind = if args.all {
        dbbr::Kind::Server
    } else {
        dbbr::Kind::Database
    };
    let mut verify = Verify::new(which.clone())
        .remote(&args.storage.remote_name)
        .prefix(&args.storage.upload_prefix)
        .engine(args.engine.engine());
    if matches!(which, Which::Latest(_)) {
        verify = verify.kind(kind);
    }
    if args.ops.verify_level == VerifyLevelArg::Quick {
        verify = verify.quick();
    }
    if let Some(ids) = &ops.identities {
        verify = verify.identities(Arc::clone(ids));
    }
    match verify.run() {
        Ok(report) => {
            crate::verify_cmd::log_results(&report);
            summary.add_verify(&report);
        }
        Err(e) => {
            tracing::error!(
                "verification failed: {}",
                crate::show::one_line(&e.to_string())
            );
            summary.add_error(&e);
        }
    }
}
