//! Diagnostics for the `dbbr` command line (`dbbr remote rc`); not a stable
//! API.

use crate::error::{Error, Result, Setting};

/// rc methods that would end or replace the process (`core/quit` and
/// `rc/fatal` exit it, `core/command` runs `argv[0]` as rclone).
const REFUSED: &[&str] = &["core/quit", "core/command", "rc/fatal", "rc/panic"];

/// Runs an rclone rc method (e.g. `options/get`) and returns its JSON reply
/// with every secret masked: values under sensitive keys and HTTP headers
/// whole, registered secrets in every other string. Methods that would end
/// the process are refused.
pub fn rpc(method: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
    if REFUSED.contains(&method.trim_matches('/')) {
        return Err(Error::config(
            Setting::Storage,
            format!("rc method {method:?} would end the process: it is not available here"),
        ));
    }
    crate::storage::rpc(method, input)
}
