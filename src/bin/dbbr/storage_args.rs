//! The storage settings every command takes, as flags and variables.

use clap::Args;
use dbbr::{Remote, Result};

/// Where backups are.
#[derive(Debug, Args)]
pub struct StorageArgs {
    /// rclone remote name (RCLONE_CONFIG_<NAME>_* or the rclone config
    /// file), `name:path`, or a connection string starting with `:` (its
    /// value is never shown in help: a connection string may hold secrets).
    #[arg(
        long,
        env = "REMOTE_NAME",
        default_value = "store",
        hide_env_values = true
    )]
    pub remote_name: String,
    /// Path prepended to every object (e.g. bucket/prefix).
    #[arg(long, env = "UPLOAD_PREFIX", default_value = "")]
    pub upload_prefix: String,
}

impl StorageArgs {
    /// The remote and prefix.
    pub fn remote(&self) -> Result<Remote> {
        Ok(Remote::parse(&self.remote_name)?.with_prefix(&self.upload_prefix))
    }
}
