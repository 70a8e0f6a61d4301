//! Safe wrapper around the embedded rclone: the only module with `unsafe`.
//!
//! rclone runs in this process (Go, linked as a static archive). Uploads are
//! streamed: [`Upload`] is a [`Write`] whose bytes rclone sends as they come,
//! and nothing is visible at the destination until [`Upload::commit`].

use std::ffi::{c_char, CStr, CString};
use std::io::{self, Read, Write};
use std::sync::OnceLock;

use chrono::{DateTime, Utc};
use librclone_sys as sys;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::redact::redact;
use crate::remote::Remote;

/// How many bytes [`Upload`] gathers before handing them to rclone.
const UPLOAD_CHUNK: usize = 1 << 20;

/// The embedded rclone's version, e.g. `v1.76.0`.
pub fn rclone_version() -> &'static str {
    sys::RCLONE_VERSION
}

/// Waits until the embedded Go runtime has started. Programs that read the
/// environment from several threads at start-up should call this first:
/// while Go initialises, it briefly hides and restores `RCLONE_*` variables.
pub fn wait_ready() {
    // SAFETY: DbbrVersion takes nothing and returns a string we own; like
    // every exported Go call it first waits for the Go runtime to start.
    take_string(unsafe { sys::DbbrVersion() });
}

/// Initialises the embedded rclone once: routes its logs to `tracing` and
/// applies the `RCLONE_*` environment as the rclone command line does.
///
/// Called by every operation; call it early to fail fast on bad `RCLONE_*`
/// settings. The environment is read when the process starts (Go takes its
/// copy then), so `RCLONE_*` variables set later from Rust have no effect.
pub fn init() -> Result<()> {
    static INIT: OnceLock<Result<(), (String, String)>> = OnceLock::new();
    let result = INIT.get_or_init(|| {
        crate::redact::add_env_secrets();
        // SAFETY: log_line is a valid `extern "C"` function for the life of
        // the process; DbbrInit takes no arguments and returns NULL or a
        // string we own.
        let err = unsafe {
            sys::DbbrSetLogger(Some(log_line));
            sys::DbbrInit()
        };
        match take_error(err) {
            None => Ok(()),
            Some(e) => Err((e.kind, e.message)),
        }
    });
    result
        .clone()
        .map_err(|(kind, message)| go_error(None, GoError { kind, message }))
}

/// Runs an rclone rc method (e.g. `options/get`) and returns its JSON reply.
pub fn rpc(method: &str, input: &serde_json::Value) -> Result<serde_json::Value> {
    init()?;
    let method = cstring(method)?;
    let input = cstring(&input.to_string())?;
    let mut status = 0i32;
    // SAFETY: both strings are valid NUL-terminated buffers for the call;
    // the returned string is owned by us and freed by take_string.
    let out = unsafe {
        sys::DbbrRPC(
            method.as_ptr().cast_mut(),
            input.as_ptr().cast_mut(),
            &mut status,
        )
    };
    let out = take_string(out).unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(&out)
        .map_err(|e| Error::Storage(format!("rc reply is not JSON: {e}")))?;
    if status != 200 {
        let message = value["error"].as_str().unwrap_or("unknown error");
        return Err(Error::Storage(redact(&format!("rc {method:?}: {message}"))));
    }
    Ok(value)
}

/// One object or directory in a listing.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
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

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Committed {
    /// Where the object is, relative to the remote path and prefix.
    pub path: String,
    /// Its size as the backend reports it.
    pub size: i64,
}

/// The arguments every remote call takes: the file system string, a path,
/// and where the Go side puts an error.
type CallArgs = (*mut c_char, *mut c_char, *mut *mut c_char);

impl Remote {
    /// Initialises rclone, runs `f` with this remote's file system string,
    /// `path` and an error slot (all valid for the call), and turns an error
    /// the Go side reports into ours.
    fn call<T>(&self, path: &str, f: impl FnOnce(CallArgs) -> T) -> Result<T> {
        init()?;
        let (root, cpath) = (cstring(&self.fs_string())?, cstring(path)?);
        let mut err = std::ptr::null_mut();
        let out = f((
            root.as_ptr().cast_mut(),
            cpath.as_ptr().cast_mut(),
            &mut err,
        ));
        match take_error(err) {
            Some(e) => Err(go_error(Some(self), e)),
            None => Ok(out),
        }
    }

    /// Checks that the remote is configured and its backend exists, without
    /// connecting to it.
    pub fn check(&self) -> Result<()> {
        // SAFETY: valid arguments (see `call`); the result is NULL or an
        // error string we own, stored in the error slot.
        self.call("", |(root, _, err)| unsafe {
            *err = sys::DbbrCheckRemote(root)
        })
    }

    /// Starts a streaming upload to `path` (relative to the prefix). Fails
    /// with [`Error::Exists`] if an object is already there.
    pub fn upload(&self, path: &str) -> Result<Upload> {
        // SAFETY: valid arguments (see `call`).
        let handle = self.call(path, |(root, p, err)| unsafe {
            sys::DbbrUploadStart(root, p, err)
        })?;
        Ok(Upload {
            handle,
            path: path.to_string(),
            buf: Vec::with_capacity(UPLOAD_CHUNK),
            written: 0,
            failed: None,
            remote: self.clone(),
        })
    }

    /// Opens `path` (relative to the prefix) for reading.
    pub fn download(&self, path: &str) -> Result<Download> {
        // SAFETY: valid arguments (see `call`).
        let handle = self.call(path, |(root, p, err)| unsafe {
            sys::DbbrDownloadStart(root, p, err)
        })?;
        Ok(Download {
            handle,
            done: false,
        })
    }

    /// Lists `dir` (relative to the prefix; "" for the prefix itself). A
    /// missing directory lists as empty.
    pub fn list(&self, dir: &str, recursive: bool) -> Result<Vec<Entry>> {
        // SAFETY: valid arguments (see `call`); the result is NULL or a
        // string we own.
        let out = self.call(dir, |(root, d, err)| unsafe {
            sys::DbbrList(root, d, recursive.into(), err)
        })?;
        parse_json(&take_string(out).unwrap_or_default())
    }

    /// Describes the object at `path`, or `None` if there is none.
    pub fn stat(&self, path: &str) -> Result<Option<Entry>> {
        // SAFETY: as in `list`.
        match self.call(path, |(root, p, err)| unsafe {
            sys::DbbrStat(root, p, err)
        }) {
            Ok(out) => parse_json(&take_string(out).unwrap_or_default()).map(Some),
            Err(Error::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Deletes the object at `path`.
    pub fn delete(&self, path: &str) -> Result<()> {
        // SAFETY: as in `check`.
        self.call(path, |(root, p, err)| unsafe {
            *err = sys::DbbrDelete(root, p)
        })
    }
}

/// A streaming upload. Write the data, then [`commit`](Upload::commit).
/// [`abort`](Upload::abort), an error, or dropping it without commit leaves
/// nothing at the destination; the end of the input alone never commits.
pub struct Upload {
    handle: u64,
    path: String,
    buf: Vec<u8>,
    written: u64,
    failed: Option<String>,
    remote: Remote,
}

impl Upload {
    /// The object's path relative to the remote path and prefix.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Bytes written so far.
    pub fn bytes_written(&self) -> u64 {
        self.written
    }

    /// A handle that aborts this upload from another thread, e.g. when a
    /// signal arrives while a write is blocked on a stalled network.
    pub fn aborter(&self) -> UploadAborter {
        UploadAborter {
            handle: self.handle,
        }
    }

    /// Ends the input and makes the object visible under its name.
    pub fn commit(mut self) -> Result<Committed> {
        if let Some(message) = self.failed.take() {
            self.finish_abort();
            return Err(Error::Storage(message));
        }
        if let Err(e) = self.send_buffer() {
            self.finish_abort();
            return Err(Error::Storage(e.to_string()));
        }
        let mut err = std::ptr::null_mut();
        // SAFETY: the handle is live (never committed or aborted: commit
        // consumes self and Drop skips a zero handle).
        let out = unsafe { sys::DbbrUploadCommit(self.handle, &mut err) };
        self.handle = 0;
        if let Some(e) = take_error(err) {
            return Err(go_error(Some(&self.remote), e));
        }
        parse_json(&take_string(out).unwrap_or_default())
    }

    /// Stops the upload and removes whatever was sent.
    pub fn abort(mut self) {
        self.finish_abort();
    }

    fn finish_abort(&mut self) {
        if self.handle != 0 {
            // SAFETY: live handle, released here exactly once.
            unsafe { sys::DbbrUploadAbort(self.handle) };
            self.handle = 0;
        }
    }

    /// Hands the gathered bytes to rclone.
    fn send_buffer(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        if let Some(message) = &self.failed {
            return Err(io::Error::other(message.clone()));
        }
        let mut err = std::ptr::null_mut();
        // SAFETY: buf is valid for len bytes during the call and rclone does
        // not keep it (io.Pipe copies before Write returns).
        let rc = unsafe {
            sys::DbbrUploadWrite(
                self.handle,
                self.buf.as_ptr() as *mut c_char,
                self.buf.len(),
                &mut err,
            )
        };
        self.buf.clear();
        if rc != 0 {
            let message =
                take_error(err).map_or_else(|| "upload failed".to_string(), |e| redact(&e.message));
            self.failed = Some(message.clone());
            return Err(io::Error::other(message));
        }
        Ok(())
    }
}

impl Write for Upload {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(message) = &self.failed {
            return Err(io::Error::other(message.clone()));
        }
        let n = data.len().min(UPLOAD_CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        self.written += n as u64;
        if self.buf.len() == UPLOAD_CHUNK {
            self.send_buffer()?;
        }
        Ok(n)
    }

    /// Sends buffered bytes to rclone. It does not commit.
    fn flush(&mut self) -> io::Result<()> {
        self.send_buffer()
    }
}

impl Drop for Upload {
    fn drop(&mut self) {
        self.finish_abort();
    }
}

/// Aborts an [`Upload`] from another thread; see [`Upload::aborter`].
/// A blocked or later write, and the commit, then fail; nothing is left.
#[derive(Debug, Clone, Copy)]
pub struct UploadAborter {
    handle: u64,
}

impl UploadAborter {
    /// Aborts the upload if it is still running (a no-op once committed or
    /// aborted).
    pub fn abort(&self) {
        // SAFETY: the Go side looks handles up in its registry: an unknown
        // or finished handle is ignored, so this is safe at any time.
        unsafe { sys::DbbrUploadAbort(self.handle) };
    }
}

/// A download; [`Read`] reports an error rather than a clean end if the
/// backend's hash of the object does not match what was read.
pub struct Download {
    handle: u64,
    done: bool,
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let mut err = std::ptr::null_mut();
        // SAFETY: buf is valid and writable for buf.len() bytes; live handle.
        let n = unsafe {
            sys::DbbrDownloadRead(
                self.handle,
                buf.as_mut_ptr() as *mut c_char,
                buf.len(),
                &mut err,
            )
        };
        if n < 0 {
            let message = take_error(err)
                .map_or_else(|| "download failed".to_string(), |e| redact(&e.message));
            return Err(io::Error::other(message));
        }
        if n == 0 {
            self.done = true;
        }
        Ok(n as usize)
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        // SAFETY: live handle, released exactly once.
        unsafe { sys::DbbrDownloadClose(self.handle) };
    }
}

/// An error as the Go side reports it.
#[derive(Debug, Deserialize)]
struct GoError {
    kind: String,
    message: String,
}

fn go_error(remote: Option<&Remote>, e: GoError) -> Error {
    let message = redact(&e.message);
    match (e.kind.as_str(), remote) {
        ("not_configured", Some(remote)) => remote.not_configured(),
        ("config", _) => Error::Config(format!("rclone: {message}")),
        ("exists", _) => Error::Exists(
            message
                .trim_end_matches(": refusing to overwrite it")
                .to_string(),
        ),
        ("not_found", _) => Error::NotFound(message),
        _ => Error::Storage(message),
    }
}

/// Receives rclone's log lines (on Go threads) and forwards them to tracing.
extern "C" fn log_line(level: i32, text: *const c_char, len: usize) {
    if text.is_null() {
        return;
    }
    // SAFETY: Go passes a buffer of len bytes that lives for this call.
    let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
    let line = redact(String::from_utf8_lossy(bytes).trim_end());
    let line = strip_log_prefix(&line);
    // slog levels: debug -4, info 0, notice 2, warning 4, error 8.
    match level {
        i32::MIN..=-1 => tracing::debug!(target: "rclone", "{line}"),
        0..=3 => tracing::info!(target: "rclone", "{line}"),
        4..=7 => tracing::warn!(target: "rclone", "{line}"),
        _ => tracing::error!(target: "rclone", "{line}"),
    }
}

/// Drops rclone's own "2026/01/02 03:04:05 NOTICE : " prefix.
fn strip_log_prefix(line: &str) -> &str {
    match line.find(" : ") {
        Some(i)
            if line[..i]
                .split_whitespace()
                .last()
                .is_some_and(|w| w.chars().all(|c| c.is_ascii_uppercase())) =>
        {
            &line[i + 3..]
        }
        _ => line,
    }
}

fn cstring(s: &str) -> Result<CString> {
    CString::new(s).map_err(|_| Error::Config(format!("{:?} contains a NUL byte", redact(s))))
}

/// Takes ownership of a string returned by the Go side.
fn take_string(ptr: *mut c_char) -> Option<String> {
    if ptr.is_null() {
        return None;
    }
    // SAFETY: non-NULL strings from the Go side are NUL-terminated and ours
    // to free with DbbrFree, exactly once (here).
    let s = unsafe { CStr::from_ptr(ptr) }
        .to_string_lossy()
        .into_owned();
    unsafe { sys::DbbrFree(ptr) };
    Some(s)
}

fn take_error(ptr: *mut c_char) -> Option<GoError> {
    let text = take_string(ptr)?;
    Some(serde_json::from_str(&text).unwrap_or(GoError {
        kind: "other".into(),
        message: text,
    }))
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
    use super::strip_log_prefix;

    #[test]
    fn strips_rclone_log_prefix() {
        assert_eq!(
            strip_log_prefix("2026/01/02 03:04:05 NOTICE : a: b"),
            "a: b"
        );
        assert_eq!(strip_log_prefix("no prefix : here"), "no prefix : here");
    }
}
