//! dbbr backs up PostgreSQL and MariaDB/MySQL databases to any storage rclone
//! supports (S3 and compatibles, Azure, GCS, SFTP, SMB, WebDAV, ...).
//!
//! The dump tool runs as a child process; its output streams through gzip and
//! optional [age](https://age-encryption.org) encryption straight into an
//! upload made in this process by an embedded rclone. There is no temporary
//! file and memory stays bounded whatever the database size. An object is
//! committed only when the dump exited 0 and every stage finished; then a
//! manifest (`NAME.manifest.json`) is written next to it.
//!
//! ```no_run
//! use dbbr::{Backup, Engine};
//!
//! // Connection settings come from libpq's environment (PGHOST, PGUSER, ...),
//! // the remote from rclone's (RCLONE_CONFIG_STORE_TYPE=s3, ...).
//! let report = Backup::new(Engine::Postgres)
//!     .databases(["app"])
//!     .remote("store")
//!     .prefix("my-bucket/nightly")
//!     .recipients("age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p")
//!     .run()?;
//! for db in &report.databases {
//!     match &db.result {
//!         Ok(stats) => println!("{}: {} bytes stored", db.database, stats.stored_bytes),
//!         Err(e) => eprintln!("{}: {e}", db.database),
//!     }
//! }
//! # Ok::<(), dbbr::Error>(())
//! ```
//!
//! The storage layer is usable on its own:
//!
//! ```
//! use std::io::{Read, Write};
//!
//! let dir = tempfile::tempdir().unwrap();
//! let remote = dbbr::Remote::parse(&format!(":local:{}", dir.path().display()))?;
//! let mut upload = remote.upload("hello.txt")?;
//! upload.write_all(b"hello").unwrap();
//! assert_eq!(remote.stat("hello.txt")?, None); // nothing visible before commit
//! upload.commit()?;
//! let mut text = String::new();
//! remote.download("hello.txt")?.read_to_string(&mut text).unwrap();
//! assert_eq!(text, "hello");
//! # Ok::<(), dbbr::Error>(())
//! ```

//! # After the backup
//!
//! Everything is read back from storage alone, trusting the manifests:
//! [`Catalog::read`] lists committed backups (and manifests it could not
//! read, and objects that are not backups), [`Restore`] streams one back
//! into a database all or nothing (the client commits only when dbbr says
//! so), [`Verify`] proves backups (quick, full, or a restore drill) and
//! [`Prune`] applies a [`KeepPolicy`] to intact backups.
//!
//! ```no_run
//! let catalog = dbbr::Catalog::read(&dbbr::Remote::parse("store")?)?;
//! // Err when a manifest could not be read: which is the latest is unknown.
//! let latest = catalog.latest(&dbbr::Lookup::database("app"))?;
//! dbbr::Restore::object(latest.object())
//!     .identity_file("/etc/dbbr/key.txt")
//!     .to_database("app_copy")
//!     .create(true)
//!     .run()?;
//! # Ok::<(), dbbr::Error>(())
//! ```
//!
//! # Secrets
//!
//! Every message the library produces and every rclone log line it forwards
//! is masked with one process-wide list of secrets: values of sensitive
//! `RCLONE_*`, `PG*` and `MYSQL*` variables (registered when storage is first
//! used), secret options of connection strings (when a [`Remote`] is parsed)
//! and passwords read from password files. The list is global because rclone
//! logs from its own threads with no way to tell which remote a line is
//! about.
//!
//! # Errors
//!
//! One [`Error`] type. Configuration errors carry the [`Setting`] at fault so
//! that a front end can name it in its own terms (the `dbbr` command line
//! adds its environment variables).

#![deny(unsafe_code)]

mod backup;
mod catalog;
mod check;
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
mod client_stop;
mod config;
mod decode;
mod dump;
mod duration;
mod encode;
mod engine;
mod error;
mod evidence;
mod ffi;
mod interrupt;
mod leftovers;
mod log_file;
mod manifest;
mod naming;
mod pool;
mod prune;
mod redact;
mod report;
mod restore;
mod retention;
mod run_id;
mod storage;
mod stored;
mod verify;

pub use backup::Backup;
pub use catalog::{Catalog, Lookup, State, StoredBackup, Stray, StrayKind, Unreadable, Which};
pub use check::{Check, CheckItem, CheckReport, CheckStatus, StorageProbe};
pub use config::Selection;
pub use decode::{DecodeStats, Decoder, Expected};
pub use encode::{Codec, EncodeStats, Encoder, Identities, Recipients};
pub use engine::Engine;
pub use error::{Error, Result, Setting, Stage};
pub use evidence::{Completion, DumpFormat, DumpInspector, Evidence};
pub use manifest::{
    Kind, Manifest, Section, SetLayout, SetPart, Verification, VerifyLevel, MANIFEST_SUFFIX,
    VERIFIED_SUFFIX,
};
pub use prune::{Prune, PruneDecision, PruneReport, CLAIM_STALENESS};
pub use redact::{add_secret, redact};
pub use report::{BackupStats, DatabaseReport, NoProgress, Progress, Report};
pub use restore::{Restore, Restored};
pub use retention::KeepPolicy;
pub use run_id::RunId;
pub use storage::{
    finish_cleanup, interrupt, rclone_version, Committed, Download, Entry, Remote, RemoteSpec,
    Sizing, Upload, UploadAborter,
};
pub use verify::{Verified, Verify, VerifyReport};
