//! The backup job's operations flags (schedule, verification,
//! notifications and metrics), shared by `backup` and `check`, and the
//! settings they make once checked.

use std::sync::Arc;

use clap::{Args, ValueEnum};
use dbbr::{Error, Identities, Result, Setting};

use crate::identity::IdentityArgs;
use crate::metrics_out::{MetricsArgs, MetricsSink};
use crate::notify::{Notifier, NotifyArgs};
use crate::schedule::{Schedule, Zone};
use crate::settings::parse_bool;

/// How far a scheduled verification goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VerifyLevelArg {
    /// Size and SHA-256 against the manifest.
    Quick,
    /// Also decrypted and decompressed to the end.
    Full,
}

/// Schedule, verification, notifications and metrics of the backup job.
#[derive(Debug, Clone, Args)]
pub struct OpsArgs {
    /// Run as a scheduler: a cron expression (5 fields, 6 with seconds, or
    /// @daily-style) in TZ. Without it, one run and exit.
    #[arg(long, env = "BACKUP_SCHEDULE", value_parser = crate::settings::text())]
    pub schedule: Option<String>,
    /// Verify the backups just written after each backup run.
    #[arg(long, env = "VERIFY_AFTER_BACKUP", num_args = 0..=1, default_missing_value = "true", value_parser = crate::settings::Utf8(parse_bool), default_value = "false")]
    pub verify_after_backup: bool,
    /// With BACKUP_SCHEDULE: also verify each database's latest backup on
    /// this cron schedule.
    #[arg(long, env = "VERIFY_SCHEDULE", value_parser = crate::settings::text())]
    pub verify_schedule: Option<String>,
    /// How far those verifications go.
    #[arg(
        long,
        env = "VERIFY_LEVEL",
        default_value = "full",
        value_parser = crate::settings::Utf8(clap::builder::EnumValueParser::<VerifyLevelArg>::new())
    )]
    pub verify_level: VerifyLevelArg,
    #[command(flatten)]
    pub identity: IdentityArgs,
    #[command(flatten)]
    pub notify: NotifyArgs,
    #[command(flatten)]
    pub metrics: MetricsArgs,
}

/// The validated operations settings.
pub struct Ops {
    /// Where the end of each run is announced.
    pub notifier: Notifier,
    /// Where each run's metrics go.
    pub metrics: MetricsSink,
    /// When backups run (BACKUP_SCHEDULE); `None`: once.
    pub backup_schedule: Option<Schedule>,
    /// When the latest backups are verified (VERIFY_SCHEDULE).
    pub verify_schedule: Option<Schedule>,
    /// The time zone the schedules follow, with a backup schedule.
    pub zone: Option<Zone>,
    /// The identities that decrypt backups, when something will use them.
    pub identities: Option<Arc<Identities>>,
}

impl Ops {
    /// Checks every operations setting before any I/O. The identity file is
    /// read only when something will use it: a verification, or `check`.
    pub fn new(args: &OpsArgs, for_check: bool) -> Result<Ops> {
        let config = |message: String| Error::config(Setting::Selection, message);
        let schedule = |name: &str, value: &Option<String>| {
            value
                .as_deref()
                .filter(|v| !v.trim().is_empty())
                .map(|v| Schedule::parse(name, v))
                .transpose()
                .map_err(config)
        };
        let backup_schedule = schedule("BACKUP_SCHEDULE", &args.schedule)?;
        let verify_schedule = schedule("VERIFY_SCHEDULE", &args.verify_schedule)?;
        if verify_schedule.is_some() && backup_schedule.is_none() {
            return Err(config(
                "VERIFY_SCHEDULE needs BACKUP_SCHEDULE: without it dbbr runs once and exits \
                 (use VERIFY_AFTER_BACKUP=true, or `dbbr verify` from your own scheduler)"
                    .into(),
            ));
        }
        // TZ is checked whether a schedule reads it or not: retention's
        // days follow it too, and a wrong one must not go unnoticed.
        let local = Zone::from_env().map_err(config)?;
        for (name, schedule) in [
            ("BACKUP_SCHEDULE", &backup_schedule),
            ("VERIFY_SCHEDULE", &verify_schedule),
        ] {
            if let Some(schedule) = schedule {
                schedule.check_fires(name, local).map_err(config)?;
            }
        }
        let zone = backup_schedule.as_ref().map(|_| local);
        let verifies = args.verify_after_backup || verify_schedule.is_some();
        let identities = match &args.identity.identity_file {
            Some(path) if !path.as_os_str().is_empty() && (verifies || for_check) => {
                Some(Arc::new(crate::identity::identities(path)?))
            }
            _ => None,
        };
        Ok(Ops {
            notifier: Notifier::new(&args.notify).map_err(config)?,
            metrics: MetricsSink::new(&args.metrics).map_err(config)?,
            backup_schedule,
            verify_schedule,
            zone,
            identities,
        })
    }
}
