//! Removing an empty folder: what deleting a set's parts leaves on backends
//! with real directories (a local disk, SFTP, SMB, WebDAV). Done by rclone's
//! own `operations/rmdir` through its rc API, which refuses a folder that
//! holds anything and does nothing on bucket backends (S3, Azure Blob,
//! GCS), whose folders are only name prefixes.

use std::time::Duration;

use serde_json::json;

use super::Remote;
use crate::error::{Error, Result};
use crate::ffi;

/// The longest pause between two looks at a running rmdir.
const POLL_MAX: Duration = Duration::from_millis(100);

impl Remote {
    /// Removes the folder `path` (relative to the prefix) if it is empty,
    /// with rclone's own rmdir: a folder that holds anything (a hidden
    /// object included) is left in place and reported as an error, and on
    /// bucket backends, where folders are only name prefixes, nothing is
    /// done. `path` must be a plain path below the prefix: the prefix
    /// itself, an absolute path or one with `.` or `..` segments is refused
    /// before any I/O. Stopped by an interrupt, which stops the rmdir too.
    pub(crate) fn remove_empty_folder(&self, path: &str) -> Result<()> {
        self.rmdir(path, None)
    }

    /// [`remove_empty_folder`](Self::remove_empty_folder) as clean-up after
    /// a failed or interrupted run: it runs after an interrupt too, for
    /// `bound` at most.
    pub(crate) fn remove_empty_folder_within(&self, path: &str, bound: Duration) -> Result<()> {
        self.rmdir(path, Some(std::time::Instant::now() + bound))
    }

    /// rmdir of `path`, stopped by an interrupt, or else at `deadline`.
    fn rmdir(&self, path: &str, deadline: Option<std::time::Instant>) -> Result<()> {
        let stopped = || match deadline {
            None => crate::interrupt::interrupted(),
            Some(deadline) => std::time::Instant::now() >= deadline,
        };
        if !plain_folder(path) {
            return Err(Error::Storage(format!(
                "{path:?} is not a plain folder path below the prefix: left in place"
            )));
        }
        if stopped() {
            return Err(Error::Interrupted);
        }
        // Asynchronously, as an rc job: rc calls are not stopped by an
        // interrupt, but a job is, by job/stop.
        let input = json!({ "fs": self.fs_string(), "remote": path, "_async": true });
        let started = super::rc("operations/rmdir", &input)?;
        let Some(id) = started["jobid"].as_i64() else {
            return Err(Error::Storage(
                "rclone's rmdir did not start as a job".into(),
            ));
        };
        let mut pause = Duration::from_millis(1);
        loop {
            if stopped() {
                let _ = ffi::rpc("job/stop", &json!({ "jobid": id }).to_string());
                return Err(Error::Interrupted);
            }
            let status = super::rc("job/status", &json!({ "jobid": id }))?;
            if status["finished"].as_bool() == Some(true) {
                return match status["success"].as_bool() {
                    Some(true) => Ok(()),
                    // Masked already, as every rc reply.
                    _ => Err(Error::Storage(
                        status["error"].as_str().unwrap_or("rmdir failed").into(),
                    )),
                };
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(POLL_MAX);
        }
    }
}

/// Whether `path` names a folder strictly below the prefix: not empty, not
/// absolute, no empty, `.` or `..` segment, no backslash.
fn plain_folder(path: &str) -> bool {
    !path.is_empty()
        && !path.contains('\\')
        && path
            .split('/')
            .all(|segment| !matches!(segment, "" | "." | ".."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_folders_below_the_prefix() {
        for ok in ["app.set", "sub/app-2026-12-06T01-00-00Z.set", ".hidden.set"] {
            assert!(plain_folder(ok), "{ok}");
        }
        for bad in [
            "",
            "/",
            "/abs.set",
            "a.set/",
            "a//b.set",
            ".",
            "..",
            "../a.set",
            "a/../b.set",
            "a/./b.set",
            "a\\b.set",
        ] {
            assert!(!plain_folder(bad), "{bad}");
        }
    }

    #[test]
    fn a_path_that_is_not_plain_is_refused_before_any_io() {
        let remote = Remote::parse("nowhere-configured").unwrap();
        for bad in ["", "../x.set"] {
            let err = remote.remove_empty_folder(bad).unwrap_err();
            assert!(err.to_string().contains("not a plain folder path"), "{err}");
        }
    }
}
