//! One way to open a stored backup, shared by restore, verify and the
//! restore drill: the backup as the catalog found it, its engine from the
//! manifest, a connection to that engine's server, and a decoder that
//! checks the stored bytes against the manifest (size, sha256, age, codec).

use std::io::{self, Read};
use std::path::Path;

use crate::catalog::StoredBackup;
use crate::decode::{DecodeStats, Decoder};
use crate::encode::Identities;
use crate::engine::{Connection, Engine};
use crate::error::{Error, Result, Setting};
use crate::manifest::SetPart;
use crate::storage::{Download, Remote};

/// Bytes read from a decoder at a time.
pub(crate) const CHUNK: usize = 256 * 1024;

/// A backup found in a remote's catalog, of an engine this dbbr knows.
#[derive(Clone, Copy)]
pub(crate) struct Opened<'a> {
    /// Where it is stored.
    pub(crate) remote: &'a Remote,
    /// The backup and its manifest.
    pub(crate) backup: &'a StoredBackup,
    /// Its engine, from the manifest.
    pub(crate) engine: Engine,
}

impl<'a> Opened<'a> {
    /// `backup`, stored in `remote`; a configuration error if its manifest
    /// names an engine this dbbr does not know.
    pub(crate) fn new(remote: &'a Remote, backup: &'a StoredBackup) -> Result<Opened<'a>> {
        let engine = Engine::from_name(&backup.manifest.engine).ok_or_else(|| {
            Error::config(
                Setting::Selection,
                format!(
                    "{} was written for engine `{}`, which this dbbr does not know",
                    backup.object(),
                    backup.manifest.engine
                ),
            )
        })?;
        Ok(Opened {
            remote,
            backup,
            engine,
        })
    }

    /// The object's name.
    pub(crate) fn object(&self) -> &'a str {
        self.backup.object()
    }

    /// A connection to the backup's engine: the password from
    /// `password_file` if given, else from the engine's password file
    /// variable (`PGPASSWORD_FILE`, `MYSQL_PWD_FILE`).
    pub(crate) fn connect(&self, password_file: Option<&Path>) -> Result<Connection> {
        match password_file {
            Some(path) => Connection::from_password_file(path),
            None => Connection::from_env(self.engine),
        }
    }

    /// The decoded dump, checked against the manifest as it is read. A
    /// failure to start the download is the storage's error as it is; one
    /// of the stages after it is an [`Error::Decode`] naming the stage.
    /// `identities` are used only if the backup is encrypted.
    pub(crate) fn decoder(&self, identities: Option<&Identities>) -> Result<Decoder<Download>> {
        let manifest = &self.backup.manifest;
        let codec = manifest.stored_codec()?;
        let download = self.remote.download(self.object())?;
        Decoder::new(
            download,
            codec,
            identities.filter(|_| manifest.encrypted),
            manifest.expected(),
        )
    }

    /// The decoded dump of one part of a set, checked against what the
    /// manifest records of that part; errors as [`decoder`](Self::decoder).
    pub(crate) fn part_decoder(
        &self,
        part: &SetPart,
        identities: Option<&Identities>,
    ) -> Result<Decoder<Download>> {
        let manifest = &self.backup.manifest;
        let codec = manifest.stored_codec()?;
        let download = self.remote.download(&part.object)?;
        Decoder::new(
            download,
            codec,
            identities.filter(|_| manifest.encrypted),
            part.expected(),
        )
    }
}

/// Reads `decoder` to its end, giving each piece of the dump to `each`
/// with the decoder (for its counts); [`Error::Interrupted`] as soon as
/// `stop` says so. A read error ends the reading: [`Decoder::finish`] then
/// says which stage failed.
pub(crate) fn read_through<R: Read>(
    mut decoder: Decoder<R>,
    stop: impl Fn() -> bool,
    mut each: impl FnMut(&[u8], &Decoder<R>),
) -> Result<DecodeStats> {
    let mut buf = vec![0u8; CHUNK];
    loop {
        if stop() {
            return Err(Error::Interrupted);
        }
        match decoder.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => each(&buf[..n], &decoder),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    decoder.finish()
}
