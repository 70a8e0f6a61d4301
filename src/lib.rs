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

#![warn(missing_docs)]

mod backup;
mod config;
pub mod dump;
pub mod encode;
mod error;
#[allow(dead_code)] // used by the coming verify command and the backup manifest
mod evidence;
pub mod manifest;
pub mod naming;
pub mod rclone;
pub mod redact;
mod remote;
mod report;
#[allow(dead_code)] // used by the coming prune command
mod retention;

pub use backup::Backup;
pub use config::{BackupOptions, Plan};
pub use dump::{Engine, Target};
pub use encode::{Codec, Recipients};
pub use error::{Error, Result};
pub use manifest::Manifest;
pub use rclone::{Committed, Download, Entry, Upload, UploadAborter};
pub use remote::Remote;
pub use report::{BackupStats, DatabaseReport, NoProgress, Progress, Report};
