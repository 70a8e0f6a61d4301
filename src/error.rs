//! The library's one error type, split by stage.

use std::fmt;
use std::io;

/// Everything that can go wrong in dbbr. Messages are lower case, name the
/// thing and, where there is one, the fix; they never contain a secret.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Configuration or usage rejected before any database or network I/O.
    #[error("{message}")]
    Config {
        /// The setting at fault, so that a front end can name it its own way
        /// (the CLI adds the environment variable).
        setting: Setting,
        /// What is wrong and the fix, in the library's words.
        message: String,
    },

    /// The rclone remote has no configuration.
    #[error(
        "remote `{name}` is not configured: set RCLONE_CONFIG_{env}_TYPE (and its options), \
         define it in the rclone config file, or use a connection string such as `:s3,env_auth:`"
    )]
    RemoteNotConfigured {
        /// The remote's name.
        name: String,
        /// The name as it appears in rclone's environment variables.
        env: String,
    },

    /// The object to write exists already; backups are never overwritten.
    #[error("{0} already exists: refusing to overwrite a backup (choose another object name)")]
    Exists(String),

    /// Another run is writing the object: its claim is there (see
    /// [`Remote::upload`](crate::Remote::upload)).
    #[error(
        "another run is writing {0}: nothing was written (retry when it has finished, or give \
         each run its own object name)"
    )]
    Busy(String),

    /// The object or directory to read is not there.
    #[error("not found: {0}")]
    NotFound(String),

    /// The storage layer (rclone) failed.
    #[error("storage: {0}")]
    Storage(String),

    /// A dump tool failed: its exit status and the tail of its stderr.
    #[error("dump of {database} failed: {message}")]
    Dump {
        /// The database, or `all` for a whole-server dump.
        database: String,
        /// What went wrong, with the tool's last stderr lines.
        message: String,
    },

    /// Compression or encryption failed.
    #[error("encode: {0}")]
    Encode(String),

    /// Reading a backup back failed at one stage of the way back (restore,
    /// verify): `download`, `integrity`, `decrypt` or `decompress`.
    #[error("{stage}: {message}")]
    Decode {
        /// Where it failed.
        stage: Stage,
        /// What went wrong.
        message: String,
    },

    /// A query a restore or verify needed (database state, create, drop,
    /// row counts) failed.
    #[error("{program}: {message}")]
    Database {
        /// The client that ran it.
        program: String,
        /// Its exit status and last error lines.
        message: String,
    },

    /// Verification found a backup damaged: what it is, not the
    /// environment it was checked in.
    #[error("backup {backup} failed at {stage}: {message}")]
    Damaged {
        /// The backup's object name.
        backup: String,
        /// Where: the object, its manifest, integrity, decrypt, decompress,
        /// rows or client (a restore drill).
        stage: Stage,
        /// What was found.
        message: String,
    },

    /// A restore failed; the target was left as it was.
    #[error("restore of {backup} failed at {stage}: {message}")]
    Restore {
        /// The backup's object name.
        backup: String,
        /// Where: download, integrity, decrypt, decompress, client, rows or
        /// output.
        stage: Stage,
        /// What went wrong (with the client's last error lines).
        message: String,
    },

    /// Local or stream I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The run was interrupted (a signal, see [`interrupt`](crate::interrupt),
    /// or its cancel flag): what it was doing was stopped and undone where
    /// it can be. A front end says what that was for its command.
    #[error("interrupted by a signal")]
    Interrupted,
}

/// A stage of the way back from storage, to say where a restore or a
/// verification failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// The stored object is missing (a backup whose manifest is there).
    Object,
    /// The manifest is unreadable.
    Manifest,
    /// Reading the stored object failed.
    Download,
    /// The stored object is not what its manifest records (size, sha256, or
    /// decoded size).
    Integrity,
    /// age decryption failed: no matching identity, a damaged header or
    /// chunk, a truncated stream.
    Decrypt,
    /// Decompression failed: a damaged or truncated stream, a bad checksum,
    /// data after its end, an unknown codec.
    Decompress,
    /// The database client failed or refused the dump.
    Client,
    /// The restored tables' rows differ from what the manifest records.
    Rows,
    /// Writing the dump out (to standard output) failed.
    Output,
}

impl Stage {
    /// Lower-case name: `object`, `manifest`, `download`, `integrity`,
    /// `decrypt`, `decompress`, `client`, `rows` or `output`.
    pub fn name(self) -> &'static str {
        match self {
            Stage::Object => "object",
            Stage::Manifest => "manifest",
            Stage::Download => "download",
            Stage::Integrity => "integrity",
            Stage::Decrypt => "decrypt",
            Stage::Decompress => "decompress",
            Stage::Client => "client",
            Stage::Rows => "rows",
            Stage::Output => "output",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The setting a configuration error is about. The library names settings in
/// its own words; a front end maps them to its flags or variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Setting {
    /// Which databases to back up (a list, or all of them).
    Databases,
    /// The object name pattern.
    FileName,
    /// The rclone remote (name, `name:path` or connection string).
    Remote,
    /// The storage layer's own settings (rclone's configuration).
    Storage,
    /// Encryption recipients given as text.
    Recipients,
    /// An encryption recipients file.
    RecipientsFile,
    /// The database password file.
    PasswordFile,
    /// The age identity file that decrypts backups.
    IdentityFile,
    /// Which backup to read, and where to restore it.
    Selection,
    /// Which backups to keep.
    Retention,
    /// Arguments for the dump tool.
    DumpArgs,
    /// Arguments for the restore client.
    ClientArgs,
    /// The dump tool itself (installed or not).
    DumpTool,
    /// Compression codec or level.
    Compression,
    /// Databases left out of a backup of every database.
    Exclude,
    /// How many databases are dumped at once.
    Parallelism,
    /// The most parts a multipart upload may have.
    UploadParts,
    /// How many streams a parallel backup set uses.
    Jobs,
    /// How large a table grows before a set cuts it into page ranges.
    SplitSize,
    /// How long a set waits for its table locks.
    LockTimeout,
}

impl fmt::Display for Setting {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Setting::Databases => "databases",
            Setting::FileName => "file name pattern",
            Setting::Remote => "remote",
            Setting::Storage => "storage settings",
            Setting::Recipients => "recipients",
            Setting::RecipientsFile => "recipients file",
            Setting::PasswordFile => "password file",
            Setting::IdentityFile => "identity file",
            Setting::Selection => "backup selection",
            Setting::Retention => "retention policy",
            Setting::DumpArgs => "dump arguments",
            Setting::ClientArgs => "client arguments",
            Setting::DumpTool => "dump tool",
            Setting::Compression => "compression",
            Setting::Exclude => "excluded databases",
            Setting::Parallelism => "parallelism",
            Setting::UploadParts => "upload parts",
            Setting::Jobs => "jobs",
            Setting::SplitSize => "split size",
            Setting::LockTimeout => "lock timeout",
        })
    }
}

impl Error {
    /// Whether the error was raised before any I/O (CLI exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            Error::Config { .. } | Error::RemoteNotConfigured { .. }
        )
    }

    /// The setting at fault, for configuration errors.
    pub fn setting(&self) -> Option<Setting> {
        match self {
            Error::Config { setting, .. } => Some(*setting),
            Error::RemoteNotConfigured { .. } => Some(Setting::Remote),
            _ => None,
        }
    }

    /// An [`Error::Config`] about `setting`.
    pub fn config(setting: Setting, message: impl Into<String>) -> Self {
        Error::Config {
            setting,
            message: message.into(),
        }
    }

    /// An [`Error::Io`] with context; an I/O error that carries one of
    /// dbbr's errors (a storage upload or download failed) is that error,
    /// kind and all.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        let source = if source.get_ref().is_some_and(|inner| inner.is::<Error>()) {
            let kind = source.kind();
            match source.into_inner().map(|inner| inner.downcast::<Error>()) {
                Some(Ok(inner)) => return *inner,
                Some(Err(other)) => io::Error::new(kind, other),
                None => io::Error::from(kind),
            }
        } else {
            source
        };
        Error::Io {
            context: context.into(),
            source,
        }
    }

    /// Whether trying again later may succeed: storage that failed or was
    /// busy, or a stored object that could not be read. Settings, damage,
    /// a missing object, a refused overwrite and an interruption are not.
    pub fn is_transient(&self) -> bool {
        match self {
            Error::Storage(_) | Error::Busy(_) => true,
            Error::Decode { stage, .. } | Error::Restore { stage, .. } => *stage == Stage::Download,
            _ => false,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_carried_by_io_keeps_its_kind() {
        let carried = io::Error::other(Error::Busy("x.sql.gz".into()));
        let e = Error::io("streaming the backup of app", carried);
        assert!(
            matches!(e, Error::Busy(ref name) if name == "x.sql.gz"),
            "{e:?}"
        );
        assert!(e.is_transient());
        let plain = Error::io("writing", io::Error::other("disk full"));
        assert!(matches!(plain, Error::Io { .. }), "{plain:?}");
        assert!(!plain.is_transient());
        assert!(Error::Storage("503".into()).is_transient());
        assert!(!Error::Interrupted.is_transient());
        let damaged = Error::Decode {
            stage: Stage::Integrity,
            message: "sha256".into(),
        };
        assert!(!damaged.is_transient());
    }
}
