//! The keep policy as flags and `BACKUP_KEEP_*` variables, shared by
//! `prune` and `backup` (which prunes after a fully successful run).

use clap::Args;
use dbbr::cli::parse_duration;
use dbbr::{Error, KeepPolicy, Result, Setting};

/// Which backups to keep, per engine and database.
#[derive(Debug, Args)]
pub struct KeepArgs {
    /// Keep the N newest backups.
    #[arg(long, env = "BACKUP_KEEP_LAST", value_name = "N", value_parser = crate::settings::Utf8(clap::value_parser!(u32)))]
    pub keep_last: Option<u32>,
    /// Keep the newest backup of each of the N newest hours.
    #[arg(long, env = "BACKUP_KEEP_HOURLY", value_name = "N", value_parser = crate::settings::Utf8(clap::value_parser!(u32)))]
    pub keep_hourly: Option<u32>,
    /// Keep the newest backup of each of the N newest days.
    #[arg(long, env = "BACKUP_KEEP_DAILY", value_name = "N", value_parser = crate::settings::Utf8(clap::value_parser!(u32)))]
    pub keep_daily: Option<u32>,
    /// Keep the newest backup of each of the N newest ISO weeks.
    #[arg(long, env = "BACKUP_KEEP_WEEKLY", value_name = "N", value_parser = crate::settings::Utf8(clap::value_parser!(u32)))]
    pub keep_weekly: Option<u32>,
    /// Keep the newest backup of each of the N newest months.
    #[arg(long, env = "BACKUP_KEEP_MONTHLY", value_name = "N", value_parser = crate::settings::Utf8(clap::value_parser!(u32)))]
    pub keep_monthly: Option<u32>,
    /// Keep the newest backup of each of the N newest years.
    #[arg(long, env = "BACKUP_KEEP_YEARLY", value_name = "N", value_parser = crate::settings::Utf8(clap::value_parser!(u32)))]
    pub keep_yearly: Option<u32>,
    /// Keep every backup within this long of the newest (e.g. 7d, 12h, 2w).
    #[arg(long, env = "BACKUP_KEEP_WITHIN", value_name = "DURATION", value_parser = crate::settings::text())]
    pub keep_within: Option<String>,
}

impl KeepArgs {
    /// The policy, `None` when no keep option is set at all. With a policy,
    /// `TZ` is checked too: the calendar rules count days in it.
    pub fn policy(&self) -> Result<Option<KeepPolicy>> {
        let within = self
            .keep_within
            .as_deref()
            .filter(|w| !w.is_empty())
            .map(|w| {
                parse_duration(w).map_err(|e| {
                    Error::config(Setting::Retention, format!("BACKUP_KEEP_WITHIN: {e}"))
                })
            })
            .transpose()?;
        let policy = KeepPolicy {
            keep_last: self.keep_last,
            keep_hourly: self.keep_hourly,
            keep_daily: self.keep_daily,
            keep_weekly: self.keep_weekly,
            keep_monthly: self.keep_monthly,
            keep_yearly: self.keep_yearly,
            keep_within: within,
        };
        if policy == KeepPolicy::default() {
            return Ok(None);
        }
        crate::schedule::Zone::from_env()
            .map_err(|message| Error::config(Setting::Selection, message))?;
        Ok(Some(policy))
    }
}
