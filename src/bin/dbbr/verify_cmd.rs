//! `dbbr verify (OBJECT... | --latest DB | --all) [--quick]
//! [--restore-into SCRATCH_DB]`.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use dbbr::{Result, Verify, Which};

use crate::identity::IdentityArgs;
use crate::outcome::Outcome;
use crate::storage_args::StorageArgs;

/// What to verify, and how far.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["objects", "latest", "all"])))]
pub struct VerifyArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// Backups by object name.
    #[arg(value_parser = crate::settings::text())]
    objects: Vec<String>,
    /// The newest backup of this database.
    #[arg(long, value_name = "DB", value_parser = crate::settings::text())]
    latest: Option<String>,
    /// Only backups of this engine (needed with --latest when the database
    /// has backups of several).
    #[arg(long, value_enum)]
    engine: Option<crate::engine_args::EngineArg>,
    /// Every backup.
    #[arg(long)]
    all: bool,
    /// Only check presence, size and SHA-256 (no identity needed).
    #[arg(long, conflicts_with = "restore_into")]
    quick: bool,
    /// Also restore into this scratch database (created, then dropped) and
    /// compare row counts.
    #[arg(long, value_name = "SCRATCH_DB", value_parser = crate::settings::text())]
    restore_into: Option<String>,
    #[command(flatten)]
    identity: IdentityArgs,
    /// With --restore-into, PostgreSQL: read the password from this file.
    #[arg(long, env = "PGPASSWORD_FILE")]
    pgpassword_file: Option<PathBuf>,
    /// With --restore-into, MariaDB: read the password from this file.
    #[arg(long, env = "MYSQL_PWD_FILE")]
    mysql_pwd_file: Option<PathBuf>,
    /// Do not write NAME.verified.json next to each manifest.
    #[arg(long)]
    no_record: bool,
    #[command(flatten)]
    metrics: crate::metrics_out::MetricsArgs,
}

/// Verifies; [`Outcome::Failed`] when a backup failed.
pub fn run(args: VerifyArgs, run_id: &dbbr::RunId) -> Outcome {
    verified(args, run_id).into()
}

/// Verifies; `Ok(false)` when a backup failed.
fn verified(args: VerifyArgs, run_id: &dbbr::RunId) -> Result<bool> {
    args.storage.remote()?;
    for object in &args.objects {
        crate::settings::name_given("OBJECT", object)?;
    }
    for (flag, name) in [
        ("--latest", &args.latest),
        ("--restore-into", &args.restore_into),
    ] {
        if let Some(name) = name {
            crate::settings::name_given(flag, name)?;
        }
    }
    let metrics = crate::metrics_out::MetricsSink::new(&args.metrics)
        .map_err(|e| dbbr::Error::config(dbbr::Setting::Selection, e))?;
    let which = if let Some(db) = args.latest {
        Which::Latest(db)
    } else if args.all {
        Which::All
    } else {
        Which::Objects(args.objects)
    };
    let mut verify = Verify::new(which)
        .remote(args.storage.remote_name)
        .prefix(args.storage.upload_prefix)
        .record(!args.no_record);
    if let Some(engine) = args.engine {
        verify = verify.engine(engine.engine());
    }
    if args.quick {
        verify = verify.quick();
    }
    if let Some(scratch) = args.restore_into {
        verify = verify.restore_into(scratch);
    }
    if let Some(path) = &args.identity.identity_file {
        verify = verify.identities(crate::identity::identities(path)?);
    }
    if let Some(path) = args.pgpassword_file.or(args.mysql_pwd_file) {
        verify = verify.password_file(path);
    }
    let report = verify.run()?;
    log_results(&report);
    metrics.publish_verify(run_id, &report);
    Ok(report.all_ok())
}

/// One log line per verified backup.
pub fn log_results(report: &dbbr::VerifyReport) {
    for b in &report.backups {
        match &b.result {
            Ok(detail) => {
                tracing::info!(
                    "{} ({}): ok, {}: {detail}",
                    b.object,
                    crate::show::one_line(&b.database),
                    b.level
                )
            }
            Err(e) => tracing::error!(
                "{} ({}): FAILED: {}",
                b.object,
                crate::show::one_line(&b.database),
                crate::show::one_line(&e.to_string())
            ),
        }
    }
}
