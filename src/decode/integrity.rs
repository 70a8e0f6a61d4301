//! The first stage of the way back: counts and hashes the stored bytes as
//! they are downloaded and, at their end, compares them with the manifest.

use std::io::{self, Read};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use sha2::{Digest, Sha256};

use super::{Stage, StageError};

/// What the verifier has seen so far.
enum State {
    /// Still reading.
    Reading,
    /// The stored bytes ended and matched; the lower-case hex sha256.
    Verified(String),
    /// A download or integrity failure, returned again on every read.
    Failed(StageError),
}

/// Counts and hashes the stored bytes. A read returns a clean end only when
/// the bytes ended and matched the expected size and sha256; otherwise the
/// error, again on every later read. Bytes beyond the expected size are
/// never passed on.
pub(super) struct Verifier<R> {
    inner: R,
    hasher: Sha256,
    bytes: u64,
    sha256: Option<[u8; 32]>,
    size: Option<u64>,
    state: State,
}

impl<R: Read> Verifier<R> {
    /// Verifies `inner` against `sha256` and `size` where known.
    pub(super) fn new(inner: R, sha256: Option<[u8; 32]>, size: Option<u64>) -> Self {
        Verifier {
            inner,
            hasher: Sha256::new(),
            bytes: 0,
            sha256,
            size,
            state: State::Reading,
        }
    }

    /// Stored bytes read so far.
    pub(super) fn stored_bytes(&self) -> u64 {
        self.bytes
    }

    /// The sha256 (lower-case hex) once the stored bytes ended and matched.
    pub(super) fn verified(&self) -> Option<&str> {
        match &self.state {
            State::Verified(sha256) => Some(sha256),
            _ => None,
        }
    }

    /// The download or integrity failure, if there was one.
    pub(super) fn failure(&self) -> Option<&StageError> {
        match &self.state {
            State::Failed(error) => Some(error),
            _ => None,
        }
    }

    /// Whether the end has not been reached and nothing failed yet.
    pub(super) fn is_reading(&self) -> bool {
        matches!(self.state, State::Reading)
    }

    /// Reads and discards the rest of the stored bytes, hashing them: the
    /// verdict on the whole object.
    pub(super) fn drain(&mut self) -> Result<(), StageError> {
        let mut buf = vec![0; 64 << 10];
        loop {
            match self.read(&mut buf) {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                // Untagged errors are interruptions: retry.
                Err(e) => {
                    if let Some(error) = StageError::from_io(&e) {
                        return Err(error);
                    }
                }
            }
        }
    }

    fn fail(&mut self, stage: Stage, message: String) -> io::Error {
        let error = StageError::new(stage, message);
        self.state = State::Failed(error.clone());
        error.into_io()
    }

    /// The stored bytes ended: compare.
    fn end(&mut self) -> io::Result<usize> {
        if let Some(size) = self.size.filter(|&size| size != self.bytes) {
            let message = format!(
                "the stored object ends after {} of the {size} bytes its manifest records \
                 (truncated)",
                self.bytes
            );
            return Err(self.fail(Stage::Integrity, message));
        }
        let digest: [u8; 32] = std::mem::take(&mut self.hasher).finalize().into();
        if let Some(expected) = self.sha256.filter(|expected| *expected != digest) {
            let message = format!(
                "sha256 mismatch: the stored object hashes to {}, its manifest records {}",
                hex::encode(digest),
                hex::encode(expected)
            );
            return Err(self.fail(Stage::Integrity, message));
        }
        self.state = State::Verified(hex::encode(digest));
        Ok(0)
    }
}

impl<R: Read> Read for Verifier<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &self.state {
            State::Reading => {}
            State::Verified(_) => return Ok(0),
            State::Failed(error) => return Err(error.clone().into_io()),
        }
        if buf.is_empty() {
            return Ok(0);
        }
        match self.inner.read(buf) {
            Ok(0) => self.end(),
            Ok(n) if n <= buf.len() => {
                self.bytes += n as u64;
                if let Some(size) = self.size.filter(|&size| self.bytes > size) {
                    let message = format!(
                        "the stored object is longer than the {size} bytes its manifest records \
                         (appended or replaced data)"
                    );
                    return Err(self.fail(Stage::Integrity, message));
                }
                self.hasher.update(&buf[..n]);
                Ok(n)
            }
            Ok(_) => {
                let message = "the download reported more bytes than it was asked for".to_owned();
                Err(self.fail(Stage::Download, message))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => Err(self.fail(Stage::Download, e.to_string())),
        }
    }
}

/// A verifier shared between the stage that reads it and the [`Decoder`]
/// that checks (and, to diagnose a failure, drains) it at the end.
///
/// [`Decoder`]: super::Decoder
pub(super) type Shared<R> = Arc<Mutex<Verifier<R>>>;

/// Locks a shared verifier. A panic while it was locked left it consistent
/// (every update is a single assignment), so poisoning is ignored.
pub(super) fn lock<R>(shared: &Shared<R>) -> MutexGuard<'_, Verifier<R>> {
    shared.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The reading end of a [`Shared`] verifier.
pub(super) struct Source<R>(pub(super) Shared<R>);

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        lock(&self.0).read(buf)
    }
}
