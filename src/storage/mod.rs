//! Storage: a [`Remote`] (any rclone backend) and what can be done with it —
//! streaming [`Upload`]s, [`Download`]s, listing, stat and delete — on top of
//! the raw calls of [`crate::ffi`]. Errors the Go side reports are mapped to
//! [`Error`] here, with secrets masked.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::error::{Error, Result, Setting};
use crate::ffi::{self, error_kind, RawError};
use crate::redact::redact;

mod download;
mod folder;
#[cfg(feature = "cli")]
mod obscure;
mod remote;
mod sizing;
mod upload;

pub use download::Download;
#[cfg(feature = "cli")]
pub use obscure::obscure;
pub use remote::{Remote, RemoteSpec};
pub use sizing::Sizing;
pub use upload::{Committed, Upload, UploadAborter};

/// The embedded rclone's version, e.g. `v1.76.0`.
pub fn rclone_version() -> &'static str {
    ffi::rclone_version()
}

/// Waits until the embedded Go runtime has started, then registers the
/// secrets the environment holds (see [`crate::add_secret`]). Programs that
/// read the environment from several threads at start-up should call this
/// first: while Go initialises, it briefly hides and restores `RCLONE_*`
/// variables. Every storage operation calls it.
pub fn wait_ready() {
    ffi::wait_ready();
    crate::redact::add_env_secrets();
}

/// Storage requests rclone has retried in this process so far (a 5xx
/// answer, a reset connection).
pub(crate) fn retries() -> u64 {
    ffi::retries()
}

/// Interrupts every run in the process, for a program that is shutting
/// down (e.g. on SIGTERM): every storage call in progress (an upload stalled
/// on a server that stopped answering, rclone waiting to retry) fails at
/// once with [`Error::Interrupted`](crate::Error::Interrupted), and so does
/// every later one, before any I/O; a version probe of a database in
/// progress is stopped. Clean-up still runs, bounded to a few seconds:
/// unfinished uploads are removed.
///
/// It cannot be undone. Call it from a signal handler's thread, set the
/// cancel flag of the runs (see [`Backup::cancel_flag`](crate::Backup::cancel_flag)),
/// and let them unwind.
pub fn interrupt() {
    crate::interrupt::set();
    ffi::interrupt();
}

/// For a program about to exit after [`interrupt`]: waits until the
/// storage calls that the interrupt made the runs give up on have ended and
/// cleaned up after themselves (a claim removed, an upload aborted), for
/// `limit` at most. Whether they all ended; on a server that stopped
/// answering they may not, and what they made is then left to dbbr's
/// leftover clean-up (`Prune::orphans_older_than`).
pub fn finish_cleanup(limit: std::time::Duration) -> bool {
    ffi::drain(u64::try_from(limit.as_millis()).unwrap_or(u64::MAX))
}

/// Initialises the embedded rclone once: routes its logs to `tracing` and
/// applies the `RCLONE_*` environment as the rclone command line does.
///
/// Every storage operation calls it; the environment is read when the process
/// starts (Go takes its copy then), so `RCLONE_*` variables set later from
/// Rust have no effect.
pub(crate) fn init() -> Result<()> {
    static INIT: OnceLock<Result<(), RawError>> = OnceLock::new();
    INIT.get_or_init(|| {
        wait_ready();
        ffi::init(forward_log)?;
        add_config_secrets();
        Ok(())
    })
    .clone()
    .map_err(|e| map_error(None, e))
}

/// While set, the rc layer's debug line echoing the config dump (which
/// holds the secrets not yet registered) is dropped.
static READING_CONFIG: AtomicBool = AtomicBool::new(false);

/// Registers the secrets of the config file's remotes, read through rc's
/// `config/dump` without letting rclone log them first.
fn add_config_secrets() {
    READING_CONFIG.store(true, Ordering::SeqCst);
    let dump = ffi::rpc("config/dump", "{}");
    READING_CONFIG.store(false, Ordering::SeqCst);
    if let Ok((200, dump)) = dump {
        crate::redact::add_config_secrets(&dump);
    }
}

/// Runs an rclone rc method (e.g. `options/get`) and returns its JSON reply,
/// redacted value by value (masking the text before parsing it could cut a
/// string short: help texts mention `Authorization:` headers). For
/// diagnostics only.
#[cfg(feature = "cli")]
pub fn rpc(method: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
    rc(method, input)
}

/// [`rpc`], for dbbr's own calls (without the `cli` feature too).
pub(crate) fn rc(method: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
    init()?;
    let (status, out) = ffi::rpc(method, &input.to_string()).map_err(|e| map_error(None, e))?;
    let value: serde_json::Value = serde_json::from_str(&out)
        .map(crate::redact::redact_json)
        .map_err(|e| Error::Storage(format!("rc reply is not JSON: {e}")))?;
    if status != 200 {
        let message = value["error"].as_str().unwrap_or("unknown error");
        return Err(Error::Storage(format!("rc {method:?}: {message}")));
    }
    Ok(value)
}

/// One object or directory in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Entry {
    /// Path relative to the remote path and prefix.
    pub path: String,
    /// Size in bytes (-1 if unknown).
    pub size: i64,
    /// Modification time, if the backend has one.
    #[serde(deserialize_with = "de_time")]
    pub mod_time: Option<DateTime<Utc>>,
    /// Whether this is a directory.
    pub is_dir: bool,
}

impl Remote {
    /// Checks that the remote is configured and its backend exists, without
    /// connecting to it.
    pub fn check(&self) -> Result<()> {
        init()?;
        ffi::check_remote(&self.fs_string()).map_err(|e| map_error(Some(self), e))
    }

    /// Starts a streaming upload to `path` (relative to the prefix). Fails
    /// with [`Error::Exists`] if an object is already there, and with
    /// [`Error::Busy`] if another run is writing one there.
    ///
    /// No run replaces an object another wrote. Before it starts, the upload
    /// writes a small hidden claim next to the name (`.NAME.<id>.claim`,
    /// renewed while it runs, removed at the end) and proceeds only if no
    /// other live claim is there; on commit it puts the object in place
    /// without replacing one: a hard link on local disks and SFTP servers
    /// that have the extension, `If-None-Match: *` on S3.
    pub fn upload(&self, path: &str) -> Result<Upload> {
        self.upload_sized(path, &Sizing::default())
    }

    /// Whether uploads to this remote choose their part size by
    /// [`Sizing`]: S3 remotes whose part size the user did not set.
    pub(crate) fn sizes_parts(&self) -> Result<bool> {
        init()?;
        let probe = ffi::sized_remote(&self.fs_string(), 2 * sizing::MIN_CHUNK, 0)
            .map_err(|e| map_error(Some(self), e))?;
        Ok(probe != self.fs_string())
    }

    /// [`upload`](Self::upload) of a stream of about `sizing`'s size: on
    /// S3, in parts big enough for it to fit (see [`Sizing`]).
    pub fn upload_sized(&self, path: &str, sizing: &Sizing) -> Result<Upload> {
        init()?;
        let fs = match sizing.chunk_size() {
            Some(chunk) => ffi::sized_remote(&self.fs_string(), chunk, sizing.max_parts())
                .map_err(|e| map_error(Some(self), e))?,
            None => self.fs_string(),
        };
        let handle = ffi::upload_start(&fs, path).map_err(|e| map_error(Some(self), e))?;
        Ok(Upload::new(handle, self.clone()))
    }

    /// Opens `path` (relative to the prefix) for reading.
    pub fn download(&self, path: &str) -> Result<Download> {
        init()?;
        let handle =
            ffi::download_start(&self.fs_string(), path).map_err(|e| map_error(Some(self), e))?;
        Ok(Download::new(handle))
    }

    /// Lists `dir` (relative to the prefix; "" for the prefix itself). A
    /// missing directory lists as empty.
    pub fn list(&self, dir: &str, recursive: bool) -> Result<Vec<Entry>> {
        init()?;
        let out =
            ffi::list(&self.fs_string(), dir, recursive).map_err(|e| map_error(Some(self), e))?;
        parse_json(&out)
    }

    /// Describes the object at `path`, or `None` if there is none.
    pub fn stat(&self, path: &str) -> Result<Option<Entry>> {
        init()?;
        match ffi::stat(&self.fs_string(), path) {
            Ok(out) => parse_json(&out).map(Some),
            Err(e) if e.kind == error_kind::NOT_FOUND => Ok(None),
            Err(e) => Err(map_error(Some(self), e)),
        }
    }

    /// Claims `path`, a name this run writes piece by piece (a set's
    /// folder), until the returned [`HeldClaim`] is dropped: other runs
    /// cannot claim it meanwhile, and leftover clean-ups leave what is
    /// under it alone. [`Error::Busy`] when another run holds it.
    pub(crate) fn hold_claim(&self, path: &str) -> Result<HeldClaim> {
        init()?;
        let handle =
            ffi::claim_hold(&self.fs_string(), path).map_err(|e| map_error(Some(self), e))?;
        Ok(HeldClaim(handle))
    }

    /// Deletes the object at `path`.
    pub fn delete(&self, path: &str) -> Result<()> {
        init()?;
        ffi::delete(&self.fs_string(), path).map_err(|e| map_error(Some(self), e))
    }

    /// Deletes a leftover of an earlier run at `path` if it is still the
    /// object a listing showed (`size`, `mod_time`), and not reached through
    /// a symbolic link on a local disk. Stopped by an interrupt.
    pub(crate) fn delete_leftover(
        &self,
        path: &str,
        size: i64,
        mod_time: Option<DateTime<Utc>>,
    ) -> Result<()> {
        init()?;
        let mod_time = mod_time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
            .unwrap_or_default();
        ffi::delete_leftover(&self.fs_string(), path, size, &mod_time)
            .map_err(|e| map_error(Some(self), e))
    }

    /// Deletes the object an upload committed, if it is still the one at its
    /// name: one with another size or modification time was written by
    /// someone else and is left alone (an error). Nothing there is not an
    /// error. Being clean-up, it works after [`interrupt`](crate::interrupt()) too, for a few
    /// seconds at most.
    pub fn delete_committed(&self, committed: &Committed) -> Result<()> {
        init()?;
        let mod_time = committed
            .mod_time
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true))
            .unwrap_or_default();
        ffi::delete_committed(
            &self.fs_string(),
            &committed.path,
            committed.size,
            &mod_time,
        )
        .map_err(|e| map_error(Some(self), e))
    }
}

/// A claim this run holds on a name (see [`Remote::hold_claim`]), renewed
/// until it is dropped, then removed (within the clean-up bound).
#[derive(Debug)]
pub(crate) struct HeldClaim(u64);

impl Drop for HeldClaim {
    fn drop(&mut self) {
        ffi::claim_release(self.0);
    }
}

/// Turns an error the Go side reported into ours, secrets masked.
pub(crate) fn map_error(remote: Option<&Remote>, e: RawError) -> Error {
    let message = redact(&e.message);
    match e.kind.as_str() {
        error_kind::NOT_CONFIGURED => match remote {
            Some(remote) => remote.not_configured(),
            None => Error::config(Setting::Remote, message),
        },
        error_kind::CONFIG => Error::config(Setting::Storage, format!("rclone: {message}")),
        error_kind::EXISTS => Error::Exists(message),
        error_kind::BUSY => Error::Busy(message),
        error_kind::NOT_FOUND => Error::NotFound(message),
        error_kind::INTERRUPTED => Error::Interrupted,
        _ => Error::Storage(message),
    }
}

/// Forwards one of rclone's log lines (on a Go thread) to tracing.
fn forward_log(level: i32, line: &str) {
    if READING_CONFIG.load(Ordering::SeqCst) && line.contains("rc: \"config/dump\"") {
        return;
    }
    let line = redact(line.trim_end());
    let line = strip_log_prefix(&line);
    if crate::log_file::append(level, line) {
        return;
    }
    // slog levels: debug -4, info 0, notice 2, warning 4, error 8.
    match level {
        i32::MIN..=-1 => tracing::debug!(target: "rclone", "{line}"),
        0..=3 => tracing::info!(target: "rclone", "{line}"),
        4..=7 => tracing::warn!(target: "rclone", "{line}"),
        _ => tracing::error!(target: "rclone", "{line}"),
    }
}

/// Drops rclone's own prefix: an optional `2026/01/02 03:04:05 ` and the
/// level (`NOTICE: `, `ERROR : `), which dbbr's log line carries itself.
fn strip_log_prefix(line: &str) -> &str {
    let shaped = |text: &str, sep: char| {
        text.len() >= 8 && text.chars().all(|c| c.is_ascii_digit() || c == sep)
    };
    let rest = match line.splitn(3, ' ').collect::<Vec<_>>()[..] {
        [date, time, rest] if shaped(date, '/') && shaped(time, ':') => rest,
        _ => line,
    };
    let level = rest.find(|c: char| !c.is_ascii_uppercase()).unwrap_or(0);
    if level < 4 {
        return line;
    }
    let after = &rest[level..];
    after
        .strip_prefix(": ")
        .or_else(|| after.strip_prefix(" : "))
        .unwrap_or(line)
}

fn parse_json<T: serde::de::DeserializeOwned>(text: &str) -> Result<T> {
    serde_json::from_str(text)
        .map_err(|e| Error::Storage(format!("unexpected reply from rclone: {e}")))
}

fn de_time<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    let s = String::deserialize(d)?;
    Ok(DateTime::parse_from_rfc3339(&s)
        .ok()
        .map(|t| t.with_timezone(&Utc)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strips_rclone_log_prefix() {
        assert_eq!(
            strip_log_prefix("2026/01/02 03:04:05 NOTICE : a: b"),
            "a: b"
        );
        assert_eq!(strip_log_prefix("no prefix : here"), "no prefix : here");
        // rclone v1.76's own format: the level directly followed by ": ".
        assert_eq!(
            strip_log_prefix("2026/11/30 13:30:06 NOTICE: :sftp{q5YMs}: No host key validation"),
            ":sftp{q5YMs}: No host key validation"
        );
        assert_eq!(strip_log_prefix("ERROR : x: failed"), "x: failed");
        assert_eq!(strip_log_prefix("OK: fine"), "OK: fine");
    }

    #[test]
    fn every_go_error_kind_maps_to_its_error() {
        let raw = |kind: &str| RawError {
            kind: kind.into(),
            message: "m".into(),
        };
        let remote = Remote::parse("nowhere").unwrap();
        for kind in error_kind::ALL {
            let e = map_error(Some(&remote), raw(kind));
            let ok = match *kind {
                error_kind::NOT_CONFIGURED => matches!(e, Error::RemoteNotConfigured { .. }),
                error_kind::CONFIG => matches!(
                    e,
                    Error::Config {
                        setting: Setting::Storage,
                        ..
                    }
                ),
                error_kind::EXISTS => matches!(e, Error::Exists(_)),
                error_kind::BUSY => matches!(e, Error::Busy(_)),
                error_kind::NOT_FOUND => matches!(e, Error::NotFound(_)),
                error_kind::INTERRUPTED => matches!(e, Error::Interrupted),
                error_kind::OTHER => matches!(e, Error::Storage(_)),
                other => panic!("error kind {other} has no mapping test"),
            };
            assert!(ok, "{kind} -> {e:?}");
        }
    }
}
