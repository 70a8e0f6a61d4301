//! A streaming upload: a [`Write`] whose bytes rclone sends as they come;
//! nothing is visible at the destination until [`Upload::commit`].

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{map_error, parse_json, Remote};
use crate::error::{Error, Result};
use crate::ffi::{self, RawError};

/// How many bytes [`Upload`] gathers before handing them to rclone.
const UPLOAD_CHUNK: usize = 1 << 20;

/// A finished upload.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[non_exhaustive]
pub struct Committed {
    /// Where the object is, relative to the remote path and prefix.
    pub path: String,
    /// Its size as the backend reports it.
    pub size: i64,
    /// Its modification time as the backend reports it: with the size, what
    /// tells this upload's object from another written at the same name
    /// later (see [`Remote::delete_committed`]).
    #[serde(deserialize_with = "super::de_time")]
    pub mod_time: Option<DateTime<Utc>>,
}

/// A streaming upload. Write the data, then [`commit`](Upload::commit).
/// [`abort`](Upload::abort), an error, or dropping it without commit leaves
/// nothing at the destination; the end of the input alone never commits.
pub struct Upload {
    handle: u64,
    buf: Vec<u8>,
    /// Why sending failed, as rclone said: every later call fails with it.
    failed: Option<RawError>,
    remote: Remote,
}

impl Upload {
    pub(super) fn new(handle: u64, remote: Remote) -> Upload {
        Upload {
            handle,
            buf: Vec::with_capacity(UPLOAD_CHUNK),
            failed: None,
            remote,
        }
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
        if let Err(e) = self.send_buffer() {
            self.finish_abort();
            return Err(match self.failed.take() {
                Some(raw) => map_error(Some(&self.remote), raw),
                None => Error::Storage(e.to_string()),
            });
        }
        let handle = std::mem::take(&mut self.handle);
        let out = ffi::upload_commit(handle).map_err(|e| map_error(Some(&self.remote), e))?;
        parse_json(&out)
    }

    /// Stops the upload and removes whatever was sent.
    pub fn abort(mut self) {
        self.finish_abort();
    }

    fn finish_abort(&mut self) {
        if self.handle != 0 {
            ffi::upload_abort(std::mem::take(&mut self.handle));
        }
    }

    /// Hands the gathered bytes to rclone.
    /// A send that failed earlier fails every later one, with nothing
    /// buffered too: what rclone received is not the whole stream.
    fn send_buffer(&mut self) -> io::Result<()> {
        if let Some(raw) = &self.failed {
            return Err(self.io_error(raw.clone()));
        }
        if self.buf.is_empty() {
            return Ok(());
        }
        let sent = ffi::upload_write(self.handle, &self.buf);
        self.buf.clear();
        sent.map_err(|raw| {
            self.failed = Some(raw.clone());
            self.io_error(raw)
        })
    }

    /// rclone's error as an I/O error that carries the storage error, kind
    /// and all (see [`Error::io`]).
    fn io_error(&self, raw: RawError) -> io::Error {
        io::Error::other(map_error(Some(&self.remote), raw))
    }
}

impl Write for Upload {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if let Some(raw) = &self.failed {
            return Err(self.io_error(raw.clone()));
        }
        let n = data.len().min(UPLOAD_CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
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
        ffi::upload_abort(self.handle);
    }
}
