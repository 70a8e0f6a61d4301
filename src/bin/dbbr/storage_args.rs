//! The storage settings every command takes, as flags and variables.

use clap::Args;
use dbbr::{Error, Remote, Result, Setting};

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
        hide_env_values = true,
        value_parser = crate::settings::text()
    )]
    pub remote_name: String,
    /// Path prepended to every object (e.g. bucket/prefix).
    #[arg(long, env = "UPLOAD_PREFIX", default_value = "", value_parser = crate::settings::text())]
    pub upload_prefix: String,
}

impl StorageArgs {
    /// The remote and prefix, checked.
    pub fn remote(&self) -> Result<Remote> {
        remote(&self.remote_name, &self.upload_prefix)
    }
}

/// The remote `name` with `prefix` below it, both checked before any I/O:
/// errors name REMOTE_NAME or UPLOAD_PREFIX and never show the remote (it
/// may hold secrets).
pub fn remote(name: &str, prefix: &str) -> Result<Remote> {
    let remote = Remote::parse(name)?;
    if prefix.chars().any(char::is_control) {
        return Err(Error::config(
            Setting::Selection,
            "UPLOAD_PREFIX contains a control character: give a plain path",
        ));
    }
    Ok(remote.with_prefix(prefix))
}
