//! The encode pipeline: dump bytes -> compression -> optional age encryption
//! -> a counting sha256 hasher -> the upload writer.
//!
//! gzip and zstd run on every core. gzip cuts the dump into 1 MiB blocks,
//! each compressed by libdeflate into a gzip member of its own: standard
//! multi-member gzip, which `gunzip`, `zcat` and `pigz -d` read as one
//! stream. zstd uses its own worker threads.
//!
//! Every stage owns the next one and is finished explicitly by
//! [`Encoder::finish`]; nothing relies on `Drop` to complete a stream (flate2
//! swallows errors there, and an unfinished age stream is truncated).

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

use flate2::Compression;
use gzp::deflate::Mgzip;
use gzp::par::compress::{ParCompress, ParCompressBuilder};
use gzp::ZWriter;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result, Setting};

mod blocks;
mod identities;
mod recipients;
pub use identities::*;
pub use recipients::*;

/// Compression codec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// gzip (RFC 1952), standard multi-member: 1 MiB blocks compressed by
    /// libdeflate on every core.
    Gzip {
        /// libdeflate's level, 0 (store) to 12 (smallest).
        level: u32,
    },
    /// Zstandard (RFC 8878), compressed on every core.
    Zstd {
        /// Level, 1 (fastest) to 19 (smallest).
        level: u32,
    },
    /// Stored as the dump tool wrote it: for dumps that are compressed
    /// already (pg_dump's custom format) or storage that compresses.
    None,
}

/// gzip's default level: libdeflate's level 2, which on dump-like data
/// writes output a few percent smaller than `gzip -6`, about twice as fast
/// as zlib's level 6 (see docs/performance.md).
const GZIP_DEFAULT_LEVEL: u32 = 2;
/// Bytes per zstd worker job.
const ZSTD_JOB: u32 = 2 << 20;

/// zstd's default level, zstd's own.
const ZSTD_DEFAULT_LEVEL: u32 = 3;

impl Codec {
    /// The codec called `name` (`gzip`, `zstd`, `none`) at `level`, or its
    /// default level; an unknown name or a level out of range is a
    /// configuration error.
    pub fn from_name(name: &str, level: Option<u32>) -> Result<Codec> {
        let codec = match name.trim().to_ascii_lowercase().as_str() {
            "gzip" | "gz" => Codec::Gzip {
                level: level.unwrap_or(GZIP_DEFAULT_LEVEL),
            },
            "zstd" | "zst" => Codec::Zstd {
                level: level.unwrap_or(ZSTD_DEFAULT_LEVEL),
            },
            "none" => {
                if level.is_some() {
                    return Err(Error::config(
                        Setting::Compression,
                        "a compression level was given with no compression: drop the level \
                         or choose gzip or zstd",
                    ));
                }
                Codec::None
            }
            other => {
                return Err(Error::config(
                    Setting::Compression,
                    format!(
                        "unknown compression `{}`: use gzip, zstd or none",
                        other.escape_debug()
                    ),
                ))
            }
        };
        codec.check()?;
        Ok(codec)
    }

    /// Fails for a level out of the codec's range.
    fn check(&self) -> Result<()> {
        let (name, level, range) = match *self {
            Codec::Gzip { level } => ("gzip", level, 0..=12),
            Codec::Zstd { level } => ("zstd", level, 1..=19),
            Codec::None => return Ok(()),
        };
        if range.contains(&level) {
            return Ok(());
        }
        Err(Error::config(
            Setting::Compression,
            format!(
                "{name} level {level} is out of range: use {} (fastest) to {} (smallest)",
                range.start(),
                range.end()
            ),
        ))
    }

    /// File extension without dot ("gz", "zst"; "" for none).
    pub fn extension(&self) -> &'static str {
        match self {
            Codec::Gzip { .. } => "gz",
            Codec::Zstd { .. } => "zst",
            Codec::None => "",
        }
    }

    /// Name for manifests ("gzip", "zstd", "none").
    pub fn name(&self) -> &'static str {
        match self {
            Codec::Gzip { .. } => "gzip",
            Codec::Zstd { .. } => "zstd",
            Codec::None => "none",
        }
    }
}

impl Default for Codec {
    /// gzip at libdeflate's level 2 (see [`Codec::from_name`]).
    fn default() -> Self {
        Codec::Gzip {
            level: GZIP_DEFAULT_LEVEL,
        }
    }
}

/// Totals of one encode run.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct EncodeStats {
    /// Bytes written into the encoder (the dump, before compression).
    pub raw_bytes: u64,
    /// Bytes that reached the inner writer (after compression/encryption).
    pub stored_bytes: u64,
    /// Lower-case hex sha256 of the stored bytes.
    pub sha256: String,
}

/// State the innermost stage shares with [`Encoder`], which cannot reach it
/// through the age stage.
#[derive(Debug, Default)]
struct Shared {
    stored: AtomicU64,
    failed: AtomicBool,
}

/// Innermost stage: hashes and counts exactly what reaches `inner`. After a
/// failed write it refuses further writes, so no stage (nor a `Drop`) can
/// append to a stream that already has a hole.
struct Sink<W> {
    inner: W,
    hasher: Sha256,
    shared: Arc<Shared>,
}

impl<W: Write> Write for Sink<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.shared.failed.load(Ordering::Relaxed) {
            return Err(io::Error::other(
                "an earlier write to the backup stream failed",
            ));
        }
        match self.inner.write(buf) {
            Ok(n) if n <= buf.len() => {
                self.hasher.update(&buf[..n]);
                self.shared.stored.fetch_add(n as u64, Ordering::Relaxed);
                Ok(n)
            }
            Ok(_) => {
                self.shared.failed.store(true, Ordering::Relaxed);
                Err(io::Error::other(
                    "the upload writer reported more bytes than given",
                ))
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) => {
                self.shared.failed.store(true, Ordering::Relaxed);
                Err(e)
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The encryption stage: age, or a pass-through.
enum Crypt<W: Write> {
    Plain(Sink<W>),
    Age(age::stream::StreamWriter<Sink<W>>),
}

impl<W: Write> Crypt<W> {
    /// Writes the final age chunk (if encrypting) and returns the sink.
    fn finish(self) -> io::Result<Sink<W>> {
        match self {
            Crypt::Plain(sink) => Ok(sink),
            Crypt::Age(stream) => stream.finish(),
        }
    }
}

impl<W: Write> Write for Crypt<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Crypt::Plain(sink) => sink.write(buf),
            Crypt::Age(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Crypt::Plain(sink) => sink.flush(),
            Crypt::Age(stream) => stream.flush(),
        }
    }
}

/// The compression stage: gzip (inline or on worker threads), zstd, or
/// none.
enum Compressor<W: Write + Send + 'static> {
    Gzip(Box<ParCompress<'static, Mgzip, Crypt<W>>>),
    GzipInline(Box<blocks::GzipBlocks<Crypt<W>>>),
    Zstd(Box<zstd::stream::write::Encoder<'static, Crypt<W>>>),
    Stored(Crypt<W>),
}

/// gzip's block: large enough that independent blocks cost well under 1 %
/// of compression, small enough to keep memory low (threads x 2 blocks).
const GZIP_BLOCK: usize = 1 << 20;

/// dump bytes -> gzip -> (age) -> counting sha256 hasher -> inner writer.
///
/// Write the dump into it, then call [`Encoder::finish`]; dropping it
/// unfinished leaves a truncated stream in `inner`. After a write error the
/// stream is unusable: later writes and `finish` fail too. With several
/// compression threads, an error of `inner` may surface on a later write or
/// only at `finish`.
pub struct Encoder<W: Write + Send + 'static> {
    compressor: Option<Compressor<W>>,
    raw: u64,
    shared: Arc<Shared>,
}

impl<W: Write + Send + 'static> Encoder<W> {
    /// Starts an encoded stream into `inner`, encrypted to `recipients` if
    /// given, compressing on as many threads as there are cores. With
    /// recipients the age header is written to `inner` at once.
    ///
    /// Fails with [`Error::Config`] for a level out of the codec's range,
    /// before any I/O.
    pub fn new(inner: W, codec: Codec, recipients: Option<&Recipients>) -> Result<Encoder<W>> {
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_THREADS));
        Self::with_threads(inner, codec, recipients, threads)
    }

    /// [`Encoder::new`] with `threads` compression threads (1: inline).
    pub fn with_threads(
        inner: W,
        codec: Codec,
        recipients: Option<&Recipients>,
        threads: usize,
    ) -> Result<Encoder<W>> {
        codec.check()?;
        let shared = Arc::new(Shared::default());
        let sink = Sink {
            inner,
            hasher: Sha256::new(),
            shared: Arc::clone(&shared),
        };
        let crypt = match recipients {
            None => Crypt::Plain(sink),
            Some(recipients) => {
                let encryptor =
                    age::Encryptor::with_recipients(recipients.iter()).map_err(|e| {
                        Error::Encode(format!("age cannot encrypt to the recipients: {e}"))
                    })?;
                let stream = encryptor
                    .wrap_output(sink)
                    .map_err(|e| Error::io("writing the age header", e))?;
                Crypt::Age(stream)
            }
        };
        let compressor = match codec {
            Codec::Gzip { level } if threads > 1 => {
                let builder = ParCompressBuilder::<Mgzip>::new()
                    .num_threads(threads)
                    .and_then(|b| b.buffer_size(GZIP_BLOCK))
                    .map_err(|e| Error::Encode(format!("gzip threads: {e}")))?
                    .compression_level(Compression::new(level));
                Compressor::Gzip(Box::new(builder.from_writer(crypt)))
            }
            // One core: on the calling thread.
            Codec::Gzip { level } => Compressor::GzipInline(Box::new(
                blocks::GzipBlocks::new(crypt, level, GZIP_BLOCK)
                    .map_err(|e| Error::Encode(e.to_string()))?,
            )),
            Codec::Zstd { level } => {
                let mut zstd = zstd::stream::write::Encoder::new(crypt, level as i32)
                    .map_err(|e| Error::Encode(format!("starting zstd: {e}")))?;
                if threads > 1 {
                    zstd.multithread(threads as u32)
                        .map_err(|e| Error::Encode(format!("zstd threads: {e}")))?;
                    // zstd's own job size (4 windows: 8 MiB at level 3)
                    // keeps several jobs' input and output in memory: about
                    // 55 MiB on two workers. Smaller jobs hold a quarter of
                    // that; each still starts from the previous job's data.
                    zstd.set_parameter(zstd::zstd_safe::CParameter::JobSize(ZSTD_JOB))
                        .map_err(|e| Error::Encode(format!("zstd job size: {e}")))?;
                }
                Compressor::Zstd(Box::new(zstd))
            }
            Codec::None => Compressor::Stored(crypt),
        };
        Ok(Encoder {
            compressor: Some(compressor),
            raw: 0,
            shared,
        })
    }

    /// Raw bytes written so far (before compression).
    pub fn raw_bytes(&self) -> u64 {
        self.raw
    }

    /// Stored bytes so far (after compression/encryption; what reached `inner`).
    pub fn stored_bytes(&self) -> u64 {
        self.shared.stored.load(Ordering::Relaxed)
    }

    /// Finishes every stage in order (gzip trailer, age final chunk) and
    /// returns the inner writer and totals. The inner writer is flushed but
    /// not otherwise finished: committing the upload is the caller's job.
    ///
    /// A failure of the inner writer is an [`Error::Io`]; a failure inside
    /// compression or encryption is an [`Error::Encode`].
    pub fn finish(mut self) -> Result<(W, EncodeStats)> {
        let shared = Arc::clone(&self.shared);
        let crypt = match self.compressor.take() {
            Some(Compressor::Gzip(mut gzip)) => gzip.finish().map_err(|e| {
                stage_error(
                    &shared,
                    "finishing the gzip stream",
                    io::Error::other(e.to_string()),
                )
            })?,
            Some(Compressor::GzipInline(gzip)) => gzip
                .finish()
                .map_err(|e| stage_error(&shared, "finishing the gzip stream", e))?,
            Some(Compressor::Zstd(zstd)) => zstd
                .finish()
                .map_err(|e| stage_error(&shared, "finishing the zstd stream", e))?,
            Some(Compressor::Stored(crypt)) => crypt,
            None => {
                return Err(stage_error(
                    &shared,
                    "finishing the stream",
                    io::Error::other(BROKEN),
                ))
            }
        };
        let mut sink = crypt
            .finish()
            .map_err(|e| stage_error(&shared, "finishing the age stream", e))?;
        sink.flush()
            .map_err(|e| Error::io("flushing the encoded backup stream", e))?;
        let stats = EncodeStats {
            raw_bytes: self.raw,
            stored_bytes: shared.stored.load(Ordering::Relaxed),
            sha256: hex::encode(sink.hasher.finalize()),
        };
        Ok((sink.inner, stats))
    }
}

/// Why a stream whose parallel compressor shut down cannot go on.
const BROKEN: &str = "an earlier write to the backup stream failed";

/// At most this many compression threads.
const MAX_THREADS: usize = 8;

impl<W: Write + Send + 'static> Drop for Encoder<W> {
    /// An unfinished parallel compressor is stopped here, ignoring errors
    /// (its own `Drop` would panic on one). The stream is abandoned either way.
    fn drop(&mut self) {
        if let Some(Compressor::Gzip(mut gzip)) = self.compressor.take() {
            let _ = gzip.finish();
        }
    }
}

impl<W: Write + Send + 'static> Encoder<W> {
    /// After a failed write or flush the stream is broken: the compressor
    /// is dropped as it is, and later writes and `finish` fail. The parallel
    /// compressor has shut its pipeline down, and any further call on it (a
    /// retry, `finish`, its own `Drop` finishing it) would panic, so for it
    /// even an interrupted call is final and never reported as one to retry.
    fn broken(&mut self, e: io::Error) -> io::Error {
        let parallel = matches!(self.compressor, Some(Compressor::Gzip(_)));
        if e.kind() != io::ErrorKind::Interrupted {
            drop(self.compressor.take());
            e
        } else if parallel {
            drop(self.compressor.take());
            io::Error::other(e)
        } else {
            e
        }
    }
}

/// Tells an inner writer's failure (I/O) from a codec's (encode).
fn stage_error(shared: &Shared, doing: &str, e: io::Error) -> Error {
    if shared.failed.load(Ordering::Relaxed) {
        Error::io(format!("{doing}: writing the encoded backup stream"), e)
    } else {
        Error::Encode(format!("{doing}: {e}"))
    }
}

impl<W: Write + Send + 'static> Write for Encoder<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = match self.compressor.as_mut() {
            Some(Compressor::Gzip(gzip)) => gzip.write(buf),
            Some(Compressor::GzipInline(gzip)) => gzip.write(buf),
            Some(Compressor::Zstd(zstd)) => zstd.write(buf),
            Some(Compressor::Stored(crypt)) => crypt.write(buf),
            None => return Err(io::Error::other(BROKEN)),
        };
        match written {
            Ok(n) => {
                self.raw += n as u64;
                Ok(n)
            }
            Err(e) => Err(self.broken(e)),
        }
    }

    /// Flushes compressed data through every stage. This costs compression
    /// ratio and age still holds back its last partial 64 KiB chunk.
    fn flush(&mut self) -> io::Result<()> {
        let flushed = match self.compressor.as_mut() {
            Some(Compressor::Gzip(gzip)) => gzip.flush(),
            Some(Compressor::GzipInline(gzip)) => gzip.flush(),
            Some(Compressor::Zstd(zstd)) => zstd.flush(),
            Some(Compressor::Stored(crypt)) => crypt.flush(),
            None => return Err(io::Error::other(BROKEN)),
        };
        flushed.map_err(|e| self.broken(e))
    }
}

#[cfg(test)]
mod tests;
