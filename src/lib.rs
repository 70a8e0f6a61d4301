//! dbbr backs up PostgreSQL and MariaDB/MySQL databases to any storage rclone
//! supports, streaming the dump through compression and optional age
//! encryption into an upload made in this process by an embedded rclone.

#![warn(missing_docs)]

pub mod dump;
pub mod encode;
mod error;
pub mod naming;
pub mod rclone;
pub mod redact;
mod remote;

pub use error::{Error, Result};
pub use rclone::{Committed, Download, Entry, Upload};
pub use remote::Remote;
