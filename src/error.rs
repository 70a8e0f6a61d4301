//! The library's one error type, split by stage.

use std::io;

/// Everything that can go wrong in dbbr. Messages are lower case, name the
/// thing and, where there is one, the fix; they never contain a secret.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Configuration or usage rejected before any database or network I/O.
    #[error("{0}")]
    Config(String),

    /// The rclone remote has no configuration.
    #[error(
        "remote `{name}` is not configured: set RCLONE_CONFIG_{env}_TYPE (and its options), \
         define it in the rclone config file, or set REMOTE_NAME to a connection string such as \
         `:s3,env_auth:`"
    )]
    RemoteNotConfigured {
        /// The remote's name.
        name: String,
        /// The name as it appears in environment variables.
        env: String,
    },

    /// The object to write exists already; backups are never overwritten.
    #[error(
        "{0} already exists: refusing to overwrite a backup (choose another BACKUP_FILE_NAME)"
    )]
    Exists(String),

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
        stage: crate::decode::Stage,
        /// What went wrong.
        message: String,
    },

    /// Local I/O failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done.
        context: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// The run was interrupted by a signal.
    #[error("interrupted by a signal: the upload was aborted")]
    Interrupted,
}

impl Error {
    /// Whether the error was raised before any I/O (CLI exit code 2).
    pub fn is_usage(&self) -> bool {
        matches!(self, Error::Config(_) | Error::RemoteNotConfigured { .. })
    }

    /// An [`Error::Io`] with context.
    pub fn io(context: impl Into<String>, source: io::Error) -> Self {
        Error::Io {
            context: context.into(),
            source,
        }
    }
}

/// Result with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
