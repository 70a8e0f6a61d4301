//! The raw calls into the embedded rclone (Go, linked as a static archive),
//! and the one hook into a client's start that std has no safe form for
//! ([`die_with_parent`]): the crate's only module with `unsafe`.
//!
//! The rclone calls deal in handles, byte buffers and strings only. Every
//! call that can fail returns a [`RawError`] exactly as the Go side reported
//! it; mapping it to the crate's errors, redacting secrets and everything
//! else that gives these calls a meaning is the storage layer's job.

#![allow(unsafe_code)]

use std::ffi::{c_char, CStr, CString};
use std::os::unix::process::CommandExt;
use std::process::Command;
use std::sync::OnceLock;

use librclone_sys as sys;
use serde::Deserialize;

pub(crate) use sys::error_kind;

/// An error as the Go side reports it: one of [`error_kind`] and a message
/// that may contain secrets (redact it before showing it).
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct RawError {
    /// One of [`error_kind`]'s constants.
    pub kind: String,
    /// rclone's message, unredacted.
    pub message: String,
}

/// Raw call result.
pub(crate) type RawResult<T> = Result<T, RawError>;

/// Where rclone's log lines go: its slog level and the line.
pub(crate) type LogSink = fn(level: i32, line: &str);

static LOG_SINK: OnceLock<LogSink> = OnceLock::new();

/// The embedded rclone's version, e.g. `v1.76.0`.
pub(crate) fn rclone_version() -> &'static str {
    sys::RCLONE_VERSION
}

/// Waits until the Go runtime has started (every exported call does).
pub(crate) fn wait_ready() {
    // SAFETY: DbbrVersion takes nothing and returns a string we own.
    take_string(unsafe { sys::DbbrVersion() });
}

/// Routes rclone's log lines to `sink` (the first sink set stays) and runs
/// rclone's start-up from the environment.
pub(crate) fn init(sink: LogSink) -> RawResult<()> {
    let _ = LOG_SINK.set(sink);
    // SAFETY: log_line is a valid `extern "C"` function for the life of the
    // process; DbbrInit takes no arguments and returns NULL or a string we own.
    let err = unsafe {
        sys::DbbrSetLogger(Some(log_line));
        sys::DbbrInit()
    };
    into_result(err, ())
}

/// Waits until every storage call given up on after an interrupt has ended
/// and cleaned up, for `ms` milliseconds at most; whether they all ended.
pub(crate) fn drain(ms: u64) -> bool {
    // SAFETY: DbbrDrain takes a number and returns one.
    unsafe { sys::DbbrDrain(i64::try_from(ms).unwrap_or(i64::MAX)) == 1 }
}

/// Runs an rc method: the HTTP-like status and the JSON reply.
pub(crate) fn rpc(method: &str, input: &str) -> RawResult<(i32, String)> {
    let (method, input) = (cstring(method)?, cstring(input)?);
    let mut status = 0i32;
    // SAFETY: both strings are valid NUL-terminated buffers for the call;
    // the returned string is ours and freed by take_string.
    let out = unsafe {
        sys::DbbrRPC(
            method.as_ptr().cast_mut(),
            input.as_ptr().cast_mut(),
            &mut status,
        )
    };
    Ok((status, take_string(out).unwrap_or_default()))
}

/// Checks that a remote is configured, without network I/O.
pub(crate) fn check_remote(fs: &str) -> RawResult<()> {
    let fs = cstring(fs)?;
    // SAFETY: a valid string for the call; the result is NULL or ours.
    let err = unsafe { sys::DbbrCheckRemote(fs.as_ptr().cast_mut()) };
    into_result(err, ())
}

/// The remote a stream uploads through with parts of `chunk_size` bytes
/// and at most `max_parts` parts (S3 only; see the Go shim's sizing).
pub(crate) fn sized_remote(fs: &str, chunk_size: u64, max_parts: u64) -> RawResult<String> {
    let fs = cstring(fs)?;
    let mut err = std::ptr::null_mut();
    let clamp = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    // SAFETY: a valid string for the call; err and the result are NULL or ours.
    let out = unsafe {
        sys::DbbrSizedRemote(
            fs.as_ptr().cast_mut(),
            clamp(chunk_size),
            clamp(max_parts),
            &mut err,
        )
    };
    let out = take_string(out).unwrap_or_default();
    into_result(err, out)
}

/// Opens a streaming upload of `path` below `fs`; returns its handle.
pub(crate) fn upload_start(fs: &str, path: &str) -> RawResult<u64> {
    let (fs, path) = (cstring(fs)?, cstring(path)?);
    let mut err = std::ptr::null_mut();
    // SAFETY: valid strings for the call; err receives NULL or a string we own.
    let handle =
        unsafe { sys::DbbrUploadStart(fs.as_ptr().cast_mut(), path.as_ptr().cast_mut(), &mut err) };
    into_result(err, handle)
}

/// Hands `buf` to an upload; rclone has copied it when this returns.
pub(crate) fn upload_write(handle: u64, buf: &[u8]) -> RawResult<()> {
    let mut err = std::ptr::null_mut();
    // SAFETY: buf is valid for len bytes during the call and Go does not keep
    // it (io.Pipe copies before Write returns); unknown handles are an error.
    let rc =
        unsafe { sys::DbbrUploadWrite(handle, buf.as_ptr() as *mut c_char, buf.len(), &mut err) };
    match (rc, take_error(err)) {
        (0, None) => Ok(()),
        (_, Some(e)) => Err(e),
        (_, None) => Err(RawError {
            kind: error_kind::OTHER.into(),
            message: "upload failed".into(),
        }),
    }
}

/// Ends an upload's input and commits it; returns `{"path","size"}` JSON.
/// The handle is finished either way.
pub(crate) fn upload_commit(handle: u64) -> RawResult<String> {
    let mut err = std::ptr::null_mut();
    // SAFETY: the Go side looks the handle up (unknown ones are an error);
    // err and the result are NULL or strings we own.
    let out = unsafe { sys::DbbrUploadCommit(handle, &mut err) };
    let out = take_string(out).unwrap_or_default();
    into_result(err, out)
}

/// Storage requests rclone has retried in this process so far.
pub(crate) fn retries() -> u64 {
    // SAFETY: takes no arguments; safe from any thread at any time.
    let n = unsafe { sys::DbbrRetries() };
    n.max(0) as u64
}

/// Makes every storage call in progress fail, and every later one.
pub(crate) fn interrupt() {
    // SAFETY: takes no arguments; safe from any thread at any time.
    unsafe { sys::DbbrInterrupt() };
}

/// Aborts an upload; unknown or finished handles are ignored, so this is
/// safe to call at any time, from any thread.
pub(crate) fn upload_abort(handle: u64) {
    // SAFETY: the Go side looks the handle up and ignores unknown ones.
    unsafe { sys::DbbrUploadAbort(handle) };
}

/// Claims `path` below `fs` until [`claim_release`]; returns its handle.
pub(crate) fn claim_hold(fs: &str, path: &str) -> RawResult<u64> {
    let (fs, path) = (cstring(fs)?, cstring(path)?);
    let mut err = std::ptr::null_mut();
    // SAFETY: valid strings for the call; err receives NULL or a string we own.
    let handle =
        unsafe { sys::DbbrClaimHold(fs.as_ptr().cast_mut(), path.as_ptr().cast_mut(), &mut err) };
    into_result(err, handle)
}

/// Removes a claim [`claim_hold`] took; unknown handles are ignored.
pub(crate) fn claim_release(handle: u64) {
    // SAFETY: the Go side looks the handle up and ignores unknown ones.
    unsafe { sys::DbbrClaimRelease(handle) };
}

/// Opens `path` below `fs` for reading; returns its handle.
pub(crate) fn download_start(fs: &str, path: &str) -> RawResult<u64> {
    let (fs, path) = (cstring(fs)?, cstring(path)?);
    let mut err = std::ptr::null_mut();
    // SAFETY: valid strings for the call; err receives NULL or a string we own.
    let handle = unsafe {
        sys::DbbrDownloadStart(fs.as_ptr().cast_mut(), path.as_ptr().cast_mut(), &mut err)
    };
    into_result(err, handle)
}

/// Reads into `buf`: the count, 0 at the verified end.
pub(crate) fn download_read(handle: u64, buf: &mut [u8]) -> RawResult<usize> {
    let mut err = std::ptr::null_mut();
    // SAFETY: buf is valid and writable for buf.len() bytes; unknown handles
    // are an error.
    let n = unsafe {
        sys::DbbrDownloadRead(handle, buf.as_mut_ptr() as *mut c_char, buf.len(), &mut err)
    };
    match take_error(err) {
        Some(e) => Err(e),
        None if n < 0 => Err(RawError {
            kind: error_kind::OTHER.into(),
            message: "download failed".into(),
        }),
        None => Ok(n as usize),
    }
}

/// Releases a download; unknown handles are ignored.
pub(crate) fn download_close(handle: u64) {
    // SAFETY: the Go side looks the handle up and ignores unknown ones.
    unsafe { sys::DbbrDownloadClose(handle) };
}

/// Lists `dir` below `fs` as a JSON array.
pub(crate) fn list(fs: &str, dir: &str, recursive: bool) -> RawResult<String> {
    let (fs, dir) = (cstring(fs)?, cstring(dir)?);
    let mut err = std::ptr::null_mut();
    // SAFETY: valid strings for the call; err and the result are NULL or ours.
    let out = unsafe {
        sys::DbbrList(
            fs.as_ptr().cast_mut(),
            dir.as_ptr().cast_mut(),
            recursive.into(),
            &mut err,
        )
    };
    let out = take_string(out).unwrap_or_default();
    into_result(err, out)
}

/// Describes one object as JSON.
pub(crate) fn stat(fs: &str, path: &str) -> RawResult<String> {
    let (fs, path) = (cstring(fs)?, cstring(path)?);
    let mut err = std::ptr::null_mut();
    // SAFETY: as in `list`.
    let out = unsafe { sys::DbbrStat(fs.as_ptr().cast_mut(), path.as_ptr().cast_mut(), &mut err) };
    let out = take_string(out).unwrap_or_default();
    into_result(err, out)
}

/// Deletes the object an upload committed if it is unchanged (see
/// `DbbrDeleteCommitted`).
pub(crate) fn delete_committed(fs: &str, path: &str, size: i64, mod_time: &str) -> RawResult<()> {
    let (fs, path, mod_time) = (cstring(fs)?, cstring(path)?, cstring(mod_time)?);
    // SAFETY: valid strings for the call; the result is NULL or ours.
    let err = unsafe {
        sys::DbbrDeleteCommitted(
            fs.as_ptr().cast_mut(),
            path.as_ptr().cast_mut(),
            size,
            mod_time.as_ptr().cast_mut(),
        )
    };
    into_result(err, ())
}

/// Deletes an earlier run's leftover at `path` if it is still the object a
/// listing showed (`size`, `mod_time`) and not reached through a symbolic
/// link.
pub(crate) fn delete_leftover(fs: &str, path: &str, size: i64, mod_time: &str) -> RawResult<()> {
    let (fs, path, mod_time) = (cstring(fs)?, cstring(path)?, cstring(mod_time)?);
    // SAFETY: valid strings for the call; the result is NULL or ours.
    let err = unsafe {
        sys::DbbrDeleteLeftover(
            fs.as_ptr().cast_mut(),
            path.as_ptr().cast_mut(),
            size,
            mod_time.as_ptr().cast_mut(),
        )
    };
    into_result(err, ())
}

/// Deletes one object.
pub(crate) fn delete(fs: &str, path: &str) -> RawResult<()> {
    let (fs, path) = (cstring(fs)?, cstring(path)?);
    // SAFETY: valid strings for the call; the result is NULL or ours.
    let err = unsafe { sys::DbbrDelete(fs.as_ptr().cast_mut(), path.as_ptr().cast_mut()) };
    into_result(err, ())
}

/// Receives rclone's log lines (on Go threads) and hands them to the sink.
extern "C" fn log_line(level: i32, text: *const c_char, len: usize) {
    let Some(sink) = LOG_SINK.get() else { return };
    if text.is_null() {
        return;
    }
    // SAFETY: Go passes a buffer of len bytes that lives for this call.
    let bytes = unsafe { std::slice::from_raw_parts(text.cast::<u8>(), len) };
    sink(level, &String::from_utf8_lossy(bytes));
}

/// A C string, or a configuration error for text with a NUL byte (which is
/// not quoted: it may be a secret).
fn cstring(s: &str) -> RawResult<CString> {
    CString::new(s).map_err(|_| RawError {
        kind: error_kind::CONFIG.into(),
        message: "a remote or path contains a NUL byte".into(),
    })
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
    // SAFETY: as above; freed once.
    unsafe { sys::DbbrFree(ptr) };
    Some(s)
}

/// Parses an error string the Go side returned, if any.
fn take_error(ptr: *mut c_char) -> Option<RawError> {
    let text = take_string(ptr)?;
    Some(serde_json::from_str(&text).unwrap_or(RawError {
        kind: error_kind::OTHER.into(),
        message: text,
    }))
}

/// `Ok(value)` unless the Go side set an error.
fn into_result<T>(err: *mut c_char, value: T) -> RawResult<T> {
    match take_error(err) {
        Some(e) => Err(e),
        None => Ok(value),
    }
}

/// Makes the child that `cmd` starts get SIGKILL when the thread that starts
/// it ends, dbbr killed included (Linux's parent-death signal), and not
/// start at all if dbbr is already gone by then: a client whose parent was
/// killed starts nothing more. Only for a child that the same thread waits
/// for to its end, as the signal comes when that thread ends.
pub(crate) fn die_with_parent(cmd: &mut Command) {
    let parent = rustix::process::getpid();
    let hook = move || {
        rustix::process::set_parent_process_death_signal(Some(rustix::process::Signal::KILL))?;
        // Killed between fork and the call above: reparented already.
        if rustix::process::getppid() != Some(parent) {
            return Err(rustix::io::Errno::SRCH.into());
        }
        Ok(())
    };
    // SAFETY: the hook runs in the child between fork and exec and only
    // makes system calls (prctl, getppid) that are async-signal-safe; it
    // allocates nothing, takes no lock and touches no shared state.
    unsafe {
        cmd.pre_exec(hook);
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Command;
    use std::time::{Duration, Instant};

    use super::die_with_parent;

    #[test]
    fn a_client_gets_sigkill_when_the_thread_that_started_it_ends() {
        let mut child = std::thread::spawn(|| {
            let mut cmd = Command::new("sleep");
            cmd.arg("30");
            die_with_parent(&mut cmd);
            cmd.spawn().unwrap()
        })
        .join()
        .unwrap();
        let clock = Instant::now();
        let status = child.wait().unwrap();
        assert_eq!(status.signal(), Some(9), "{status}");
        assert!(clock.elapsed() < Duration::from_secs(10));
    }
}
