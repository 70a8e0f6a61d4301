//! A download as a [`Read`] that checks the backend's hash at the end.

use std::io::{self, Read};

use crate::ffi;

/// A download; [`Read`] reports an error rather than a clean end if the
/// backend's hash of the object does not match what was read.
pub struct Download {
    handle: u64,
    done: bool,
}

impl Download {
    pub(super) fn new(handle: u64) -> Download {
        Download {
            handle,
            done: false,
        }
    }
}

impl Read for Download {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.done || buf.is_empty() {
            return Ok(0);
        }
        let n = ffi::download_read(self.handle, buf)
            .map_err(|e| io::Error::other(super::map_error(None, e)))?;
        if n == 0 {
            self.done = true;
        }
        Ok(n)
    }
}

impl Drop for Download {
    fn drop(&mut self) {
        ffi::download_close(self.handle);
    }
}
