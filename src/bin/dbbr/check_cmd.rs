//! `dbbr check postgresql|mariadb [--json] [-- DUMP_ARGS...]`: everything
//! a backup needs, without dumping; one line per check.

use clap::{Args, ValueEnum};
use dbbr::{Check, CheckItem, CheckReport, CheckStatus, Result, StorageProbe};

use crate::backup_args::BackupArgs;
use crate::outcome::Outcome;

/// How far the storage check goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StorageCheck {
    /// Write a probe object under the prefix, read it back, delete it.
    Write,
    /// Write and read back a probe, and leave it (credentials that may not
    /// delete).
    NoDelete,
    /// Only list the prefix (read-only credentials).
    List,
}

/// The backup's settings, and how to report.
#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    backup: BackupArgs,
    /// One JSON document instead of lines.
    #[arg(long)]
    json: bool,
    /// How far the storage check goes.
    #[arg(
        long,
        env = "CHECK_STORAGE",
        default_value = "write",
        value_parser = crate::settings::Utf8(clap::builder::EnumValueParser::<StorageCheck>::new())
    )]
    storage_check: StorageCheck,
}

/// Runs the checks and prints them: [`Outcome::Success`] when all passed,
/// [`Outcome::Failed`] when one failed, [`Outcome::Rejected`] when the
/// settings were.
pub fn run(args: CheckArgs) -> Outcome {
    let engine = args.backup.engine.engine();
    let json = args.json;
    let result = checked(args);
    let (report, rejected) = match result {
        Ok(report) => (report, None),
        Err(e) => {
            let message = crate::settings::message(&e, Some(engine));
            (None, Some(dbbr::redact(&message)))
        }
    };
    let items: Vec<CheckItem> = report
        .as_ref()
        .map(|r| r.checks.clone())
        .unwrap_or_default();
    if json {
        let document = serde_json::json!({
            "schema": 1,
            "ok": rejected.is_none() && report.as_ref().is_some_and(CheckReport::ok),
            "run_id": report.as_ref().map(|r| r.run_id.clone()),
            "checks": match &rejected {
                Some(message) => serde_json::json!([{
                    "check": "settings", "database": null, "status": "failed", "detail": message
                }]),
                None => serde_json::to_value(&items).unwrap_or_default(),
            },
        });
        println!("{:#}", crate::settings::masked_json(document));
    } else if let Some(message) = &rejected {
        println!("settings: failed: {}", crate::show::one_line(message));
    } else {
        for item in &items {
            let status = match item.status {
                CheckStatus::Ok => "ok",
                CheckStatus::Failed => "FAILED",
                _ => "skipped",
            };
            let what = match &item.database {
                Some(db) => format!("{} {}", item.check, crate::show::one_line(db)),
                None => item.check.to_string(),
            };
            let line = format!("{what}: {status}: {}", crate::show::one_line(&item.detail));
            println!("{}", crate::settings::masked(&line));
        }
    }
    match (rejected, report) {
        (Some(_), _) => Outcome::Rejected,
        (None, Some(r)) if r.ok() => Outcome::Success,
        _ => Outcome::Failed,
    }
}

fn checked(args: CheckArgs) -> Result<Option<CheckReport>> {
    // The operations settings are checked too: a bad schedule or URL would
    // stop the first run.
    let ops = crate::ops_args::Ops::new(&args.backup.ops, true)?;
    let backup = crate::backup_args::builder(&args.backup)?;
    let mut check = Check::new(backup).storage_probe(match args.storage_check {
        StorageCheck::Write => StorageProbe::Write,
        StorageCheck::NoDelete => StorageProbe::NoDelete,
        StorageCheck::List => StorageProbe::List,
    });
    if let Some(ids) = ops.identities {
        check = check.identities(ids);
    }
    check.run().map(Some)
}
