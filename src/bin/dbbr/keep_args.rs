//! The keep policy as flags and `BACKUP_KEEP_*` variables, shared by
//! `prune` and `backup` (which prunes after a fully successful run).

use clap::Args;
use dbbr::{parse_duration, KeepPolicy, Result};

/// Which backups to keep, per engine and database.
#[derive(Debug, Args)]
pub struct KeepArgs {
    /// Keep the N newest backups.
    #[arg(long, env = "BACKUP_KEEP_LAST", value_name = "N")]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N newest hours.
    #[arg(long, env = "BACKUP_KEEP_HOURLY", value_name = "N")]
    pub keep_hourly: Option<u32>,
    /// Keep the newest backup of each of the N newest days.
    #[arg(long, env = "BACKUP_KEEP_DAILY", value_name = "N")]
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the N newest ISO weeks.
    #[arg(long, env = "BACKUP_KEEP_WEEKLY", value_name = "N")]
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the N newest months.
    #[arg(long, env = "BACKUP_KEEP_MONTHLY", value_name = "N")]
    pub keep_monthly: Option<u32>,
    /// Keep the newest backup of each of the N newest years.
    #[arg(long, env = "BACKUP_KEEP_YEARLY", value_name = "N")]
    pub keep_yearly: Option<u32>,
    /// Keep every backup within this long of the newest (e.g. 7d, 12h, 2w).
    #[arg(long, env = "BACKUP_KEEP_WITHIN", value_name = "DURATION")]
    pub keep_within: Option<String>,
}

impl KeepArgs {
    /// The policy, `None` when no keep option is set at all.
    pub fn policy(&self) -> Result<Option<KeepPolicy>> {
        let policy = KeepPolicy {
            keep_last: self.keep_last,
            keep_hourly: self.keep_hourly,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
            keep_yearly: self.keep_yearly,
            keep_within: self
                .keep_within
                .as_deref()
                .map(parse_duration)
                .transpose()?,
        };
        Ok((policy != KeepPolicy::default()).then_some(policy))
    }
}
