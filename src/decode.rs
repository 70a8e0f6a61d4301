//! The way back: the stored bytes of a backup -> sha256 and size check ->
//! optional age decryption -> decompression -> the plain dump, as a `Read`.
//!
//! The mirror image of [`crate::encode`], under the same rule: **EOF is not
//! success.** age authenticates each 64 KiB chunk, gzip checks its CRC only
//! at the end, and the manifest's sha256 can only be compared once the last
//! byte is in; so [`Decoder`] returns an error from `read` where a failure is
//! detected, never a clean end of input before every check passed, and
//! [`Decoder::finish`] gives the verdict on the whole backup.

use std::fmt;
use std::io::{self, BufReader, Read};
use std::sync::{Arc, Mutex};

use age::stream::StreamReader;
use age::{DecryptError, Decryptor};
use flate2::read::MultiGzDecoder;

use crate::encode::{Codec, Identities};
use crate::error::Stage;
use crate::error::{Error, Result};

mod integrity;

use integrity::{lock, Shared, Source, Verifier};

impl Stage {
    /// The stage a [`Decoder`]'s read error comes from, if it is one.
    pub fn of(error: &io::Error) -> Option<Stage> {
        StageError::from_io(error).map(|e| e.stage)
    }
}

/// What the manifest says the stored object is; `None` skips a check.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expected {
    /// sha256 of the stored bytes, hex.
    pub sha256: Option<String>,
    /// Size of the stored object.
    pub stored_bytes: Option<u64>,
    /// Size of the decoded dump.
    pub raw_bytes: Option<u64>,
}

/// Totals of one decode run, all checked against [`Expected`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeStats {
    /// Bytes of the decoded dump.
    pub raw_bytes: u64,
    /// Bytes of the stored object.
    pub stored_bytes: u64,
    /// Lower-case hex sha256 of the stored bytes.
    pub sha256: String,
    /// Decoded bytes that [`Decoder::finish`] read because the caller had
    /// not: a restore whose client stopped early sees them here.
    pub unread_bytes: u64,
}

/// stored bytes -> sha256/size check -> (age) -> gzip -> the plain dump.
///
/// Read the dump from it, then call [`Decoder::finish`]. A `read` returns
/// `Ok(0)` only after every stage ended and every check passed; any failure
/// is an `io::Error` whose [`Stage::of`] tells the stage, returned again on
/// every later read. Feed a database client with it and kill the client on
/// an error, before it sees the end of its input.
pub struct Decoder<R> {
    output: Output<R>,
    verifier: Shared<R>,
    encrypted: bool,
    /// Whether the stored size or sha256 is known: a failure of a later
    /// stage may then be a damaged object, found by reading it to its end.
    checked: bool,
    expected_raw: Option<u64>,
    raw: u64,
    failed: Option<StageError>,
}

impl<R: Read> Decoder<R> {
    /// Starts decoding `stored` (the downloaded object), compressed with
    /// `codec` (its level does not matter) and, if `identities` are given,
    /// age-encrypted to one of them. Reads the age header and the gzip
    /// header.
    ///
    /// Fails with [`Error::Decode`] for a malformed expected sha256 (before
    /// any I/O), for identities none of which can decrypt the backup, or for
    /// an unreadable or damaged age header.
    pub fn new(
        stored: R,
        codec: Codec,
        identities: Option<&Identities>,
        expected: Expected,
    ) -> Result<Decoder<R>> {
        let sha256 = expected.sha256.as_deref().map(parse_sha256).transpose()?;
        let checked = sha256.is_some() || expected.stored_bytes.is_some();
        let verifier = Arc::new(Mutex::new(Verifier::new(
            stored,
            sha256,
            expected.stored_bytes,
        )));
        let source = Source(Arc::clone(&verifier));
        let plain = match identities {
            None => Plain::Stored(source),
            Some(identities) => match decrypt(source, identities) {
                Ok(stream) => Plain::Age(Box::new(stream)),
                Err(error) if error.stage == Stage::Decrypt && error.no_matching_key => {
                    return Err(error.into())
                }
                Err(error) => return Err(diagnose(&verifier, checked, error).into()),
            },
        };
        let output = match codec {
            Codec::Gzip { .. } => Output::Gzip(Box::new(MultiGzDecoder::new(plain))),
            Codec::Zstd { .. } => {
                Output::Zstd(Box::new(zstd::stream::read::Decoder::new(plain).map_err(
                    |e| StageError::new(Stage::Decompress, format!("starting zstd: {e}")),
                )?))
            }
            Codec::None => Output::Stored(plain),
        };
        Ok(Decoder {
            output,
            verifier,
            encrypted: identities.is_some(),
            checked,
            expected_raw: expected.raw_bytes,
            raw: 0,
            failed: None,
        })
    }

    /// Decoded bytes so far.
    pub fn raw_bytes(&self) -> u64 {
        self.raw
    }

    /// Stored bytes read so far.
    pub fn stored_bytes(&self) -> u64 {
        lock(&self.verifier).stored_bytes()
    }

    /// Reads whatever the caller left unread to the end, and returns the
    /// totals once every stage ended and every check passed.
    ///
    /// After a failure it returns [`Error::Decode`] naming the stage. When
    /// decryption or decompression failed and the manifest's sha256 or size
    /// is known, it first reads the rest of the stored object (hashing only)
    /// so that a damaged or replaced object is reported as `integrity`
    /// rather than as the symptom it caused; drop the decoder instead to
    /// give up without that download.
    pub fn finish(mut self) -> Result<DecodeStats> {
        let mut unread = 0;
        let mut buf = vec![0; 64 << 10];
        while self.failed.is_none() {
            match self.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => unread += n as u64,
                Err(_) => {} // a failure is recorded; interrupted: retry
            }
        }
        if let Some(error) = self.failed.take() {
            return Err(diagnose(&self.verifier, self.checked, error).into());
        }
        let verifier = lock(&self.verifier);
        let Some(sha256) = verifier.verified() else {
            return Err(StageError::new(Stage::Integrity, NOT_VERIFIED.to_owned()).into());
        };
        Ok(DecodeStats {
            raw_bytes: self.raw,
            stored_bytes: verifier.stored_bytes(),
            sha256: sha256.to_owned(),
            unread_bytes: unread,
        })
    }

    /// The last stages ended: make sure the stored bytes did too, and
    /// matched.
    fn check_end(&mut self) -> Result<(), StageError> {
        let mut verifier = lock(&self.verifier);
        if verifier.is_reading() {
            let (stage, format) = if self.encrypted {
                (Stage::Decrypt, "age")
            } else {
                (Stage::Decompress, "gzip")
            };
            let mut probe = [0; 1];
            match verifier.read(&mut probe) {
                Ok(0) => {}
                Ok(_) => {
                    let message = format!("the stored object continues after its {format} stream");
                    return Err(StageError::new(stage, message));
                }
                Err(e) => {
                    let message = format!("reading after the {format} stream: {e}");
                    return Err(
                        StageError::from_io(&e).unwrap_or_else(|| StageError::new(stage, message))
                    );
                }
            }
        }
        if let Some(error) = verifier.failure() {
            return Err(error.clone());
        }
        if verifier.verified().is_none() {
            return Err(StageError::new(Stage::Integrity, NOT_VERIFIED.to_owned()));
        }
        match self.expected_raw {
            Some(expected) if expected != self.raw => Err(StageError::new(
                Stage::Integrity,
                format!(
                    "the backup decodes to {} bytes, its manifest records {expected}",
                    self.raw
                ),
            )),
            _ => Ok(()),
        }
    }

    fn fail(&mut self, error: StageError) -> io::Error {
        self.failed = Some(error.clone());
        error.into_io()
    }
}

impl<R: Read> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some(error) = &self.failed {
            return Err(error.clone().into_io());
        }
        if buf.is_empty() {
            return Ok(0);
        }
        let result = match &mut self.output {
            Output::Gzip(gzip) => gzip.read(buf),
            Output::Zstd(zstd) => zstd.read(buf),
            Output::Stored(plain) => plain.read(buf),
        };
        let codec = match self.output {
            Output::Zstd(_) => "zstd",
            _ => "gzip",
        };
        match result {
            Ok(0) => match self.check_end() {
                Ok(()) => Ok(0),
                Err(error) => Err(self.fail(error)),
            },
            Ok(n) => {
                self.raw += n as u64;
                match self.expected_raw {
                    Some(expected) if self.raw > expected => {
                        let message = format!(
                            "the backup decodes to more than the {expected} bytes its manifest records"
                        );
                        Err(self.fail(StageError::new(Stage::Integrity, message)))
                    }
                    _ => Ok(n),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted && !is_tagged(&e) => Err(e),
            Err(e) => {
                let error = StageError::from_io(&e)
                    .unwrap_or_else(|| StageError::new(Stage::Decompress, format!("{codec}: {e}")));
                Err(self.fail(error))
            }
        }
    }
}

/// Why [`Decoder::finish`] cannot return totals; cannot happen unless a
/// stage stopped reading early.
const NOT_VERIFIED: &str = "the stored object was not read to its end";

/// The last stage: the plain dump.
enum Output<R> {
    /// Standard gzip, one member or several.
    Gzip(Box<MultiGzDecoder<Plain<R>>>),
    /// Zstandard, one frame or several.
    Zstd(Box<zstd::stream::read::Decoder<'static, BufReader<Plain<R>>>>),
    /// Not compressed.
    Stored(Plain<R>),
}

/// The compressed stream: the stored bytes, or their age decryption.
enum Plain<R> {
    Stored(Source<R>),
    Age(Box<StreamReader<BufReader<Source<R>>>>),
}

impl<R: Read> Read for Plain<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Plain::Stored(source) => source.read(buf),
            Plain::Age(stream) => stream.read(buf).map_err(|e| {
                if e.kind() == io::ErrorKind::Interrupted || is_tagged(&e) {
                    e
                } else {
                    StageError::new(Stage::Decrypt, format!("age payload: {e}")).into_io()
                }
            }),
        }
    }
}

/// Reads the age header and finds the file key with `identities`.
fn decrypt<R: Read>(
    source: Source<R>,
    identities: &Identities,
) -> Result<StreamReader<BufReader<Source<R>>>, StageError> {
    let header_error = |e: DecryptError| {
        let message = match e {
            DecryptError::Io(e) => {
                return StageError::from_io(&e).unwrap_or_else(|| {
                    StageError::new(Stage::Decrypt, format!("reading the age header: {e}"))
                })
            }
            DecryptError::NoMatchingKeys => {
                let mut error = StageError::new(
                    Stage::Decrypt,
                    format!(
                        "no identity in {} can decrypt this backup: use the private key of one \
                         of the recipients its manifest lists",
                        identities.source()
                    ),
                );
                error.no_matching_key = true;
                return error;
            }
            DecryptError::InvalidHeader | DecryptError::UnknownFormat => {
                "the stored object does not start with an age header: it is damaged, \
                 or not encrypted"
                    .to_owned()
            }
            DecryptError::InvalidMac => {
                "the age header fails its MAC check: the stored object is damaged".to_owned()
            }
            other => format!("age header: {other}"),
        };
        StageError::new(Stage::Decrypt, message)
    };
    let decryptor = Decryptor::new_buffered(BufReader::new(source)).map_err(header_error)?;
    if decryptor.is_scrypt() {
        return Err(StageError::new(
            Stage::Decrypt,
            "the backup is encrypted with a passphrase, which dbbr never does: \
             decrypt it with `age -d`"
                .to_owned(),
        ));
    }
    decryptor.decrypt(identities.iter()).map_err(header_error)
}

/// A failure of decryption or decompression may be the symptom of a damaged
/// or replaced object: when its size or sha256 is known, read it to its end
/// and report `integrity` if it does not match.
fn diagnose<R: Read>(verifier: &Shared<R>, checked: bool, error: StageError) -> StageError {
    if !checked || !matches!(error.stage, Stage::Decrypt | Stage::Decompress) {
        return error;
    }
    match lock(verifier).drain() {
        Err(found) if found.stage == Stage::Integrity => StageError::new(
            Stage::Integrity,
            format!(
                "{} ({} had failed first: {})",
                found.message, error.stage, error.message
            ),
        ),
        _ => error,
    }
}

/// Parses the manifest's hex sha256.
/// Reads `stored` to its end and checks its size and sha256 against
/// `expected`, without decrypting or decompressing (no identity needed).
/// A mismatch is an [`Error::Decode`] at [`Stage::Integrity`].
pub fn check_stored<R: Read>(stored: R, expected: &Expected) -> Result<()> {
    let sha256 = expected.sha256.as_deref().map(parse_sha256).transpose()?;
    Verifier::new(stored, sha256, expected.stored_bytes)
        .drain()
        .map_err(Error::from)
}

fn parse_sha256(text: &str) -> Result<[u8; 32]> {
    let mut digest = [0; 32];
    hex::decode_to_slice(text, &mut digest).map_err(|_| {
        Error::from(StageError::new(
            Stage::Integrity,
            "the manifest's sha256 is not 64 hex digits: the manifest is damaged".to_owned(),
        ))
    })?;
    Ok(digest)
}

/// A failure at one stage, carried inside an `io::Error` through the stages
/// above it.
#[derive(Debug, Clone)]
struct StageError {
    stage: Stage,
    message: String,
    /// The identities match none of the recipients: not a symptom of damage.
    no_matching_key: bool,
}

impl StageError {
    fn new(stage: Stage, message: String) -> StageError {
        StageError {
            stage,
            message,
            no_matching_key: false,
        }
    }

    fn from_io(error: &io::Error) -> Option<StageError> {
        error.get_ref()?.downcast_ref::<StageError>().cloned()
    }

    fn into_io(self) -> io::Error {
        let kind = match self.stage {
            Stage::Download => io::ErrorKind::Other,
            _ => io::ErrorKind::InvalidData,
        };
        io::Error::new(kind, self)
    }
}

/// Whether an `io::Error` already carries its stage.
fn is_tagged(error: &io::Error) -> bool {
    error.get_ref().is_some_and(|e| e.is::<StageError>())
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.stage, self.message)
    }
}

impl std::error::Error for StageError {}

impl From<StageError> for Error {
    fn from(error: StageError) -> Error {
        Error::Decode {
            stage: error.stage,
            message: error.message,
        }
    }
}

#[cfg(test)]
mod codec_tests;
#[cfg(test)]
mod tests;
