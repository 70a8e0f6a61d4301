//! Helpers shared by every integration test, whatever the engine: settings
//! of the test servers, remotes, files, running commands and processes, the
//! backups a run leaves, and keys. Engine-specific helpers are in `pg` and
//! `mariadb`, and what every storage backend is put through in
//! `backend_checks`: those are used by their module path, not re-exported,
//! since both engines name their helpers alike.

pub mod backend_checks;
pub mod mariadb;
pub mod pg;

mod backups;
mod commands;
mod files;
mod http_server;
mod keys;
mod processes;
mod proxy;
mod recipes;
mod remotes;

use std::sync::atomic::{AtomicU32, Ordering};

pub use backups::*;
pub use commands::*;
pub use files::*;
pub use http_server::*;
pub use keys::*;
pub use processes::*;
pub use proxy::*;
pub use recipes::*;
pub use remotes::*;

/// A setting exported by scripts/services; tests cannot run without it.
pub fn setting(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| {
        panic!("{name} is not set: run the integration tests with `bash scripts/test`")
    })
}

/// A name unique within this test run, for buckets, folders and databases.
pub fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}{}x{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// The secrets of the test servers (database passwords, S3 secret keys,
/// the SMB and WebDAV passwords, the Azure key and SAS signature): none of
/// them may ever show in what dbbr prints.
pub fn test_secrets() -> Vec<String> {
    let sas = setting("DBBR_TEST_AZURE_SAS_URL");
    let signature = sas.split_once("&sig=").map_or("", |(_, s)| s).to_string();
    vec![
        setting("DBBR_TEST_PG_PASSWORD"),
        setting("DBBR_TEST_MYSQL_PASSWORD"),
        setting("DBBR_TEST_S3_SECRET_KEY"),
        setting("DBBR_TEST_S3C_SECRET_KEY"),
        setting("DBBR_TEST_SMB_PASSWORD"),
        setting("DBBR_TEST_WEBDAV_PASSWORD"),
        setting("DBBR_TEST_AZURE_KEY"),
        signature,
    ]
    .into_iter()
    .filter(|s| !s.is_empty())
    .collect()
}
