//! What only the `dbbr` command line uses: its diagnostics (`dbbr remote
//! rc`) and the helpers it parses settings with. Built with the `cli`
//! feature; not part of the library's API.

use crate::error::{Error, Result, Setting};

pub use crate::duration::parse_duration;

/// A size such as `512Mi`, `1Gi`, `1GB` or `1048576` (bytes), for
/// `setting`.
pub fn parse_size(text: &str, setting: Setting) -> Result<u64> {
    parse_size::Config::new()
        .with_binary()
        .parse_size(text.trim())
        .map_err(|_| {
            Error::config(
                setting,
                format!(
                    "`{}` is not a size: use a number with a unit such as 512Mi or 1Gi",
                    text.escape_debug()
                ),
            )
        })
}
pub use crate::storage::{obscure, wait_ready};

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

/// Reports as a run gives them, for the command line's tests of what it
/// renders from them (their types cannot be built outside the library).
pub mod samples {
    use std::time::Duration;

    use crate::error::Error;
    use crate::report::{BackupStats, DatabaseReport, Report};
    use crate::run_id::RunId;

    /// A backup of `raw` bytes stored in `stored` bytes in `elapsed`.
    pub fn backup_stats(raw: u64, stored: u64, elapsed: Duration) -> BackupStats {
        BackupStats {
            raw_bytes: raw,
            stored_bytes: stored,
            sha256: "ab".into(),
            manifest: "m.manifest.json".into(),
            elapsed,
            storage_retries: 0,
            parts: 0,
        }
    }

    /// The outcome of `database`'s backup to `object`.
    pub fn database_report(
        database: &str,
        object: Option<&str>,
        result: Result<BackupStats, Error>,
    ) -> DatabaseReport {
        DatabaseReport {
            database: database.into(),
            object: object.map(Into::into),
            result,
        }
    }

    /// A run that backed up `databases`, without pruning.
    pub fn report(databases: Vec<DatabaseReport>) -> Report {
        Report {
            run_id: RunId::new(),
            databases,
            prune: None,
        }
    }
}
