//! Raw FFI bindings to librclone as built by dbbr: rclone with every storage
//! backend, compiled from Go as a static archive, plus dbbr's streaming C API
//! (see `go/exports.go` for the contract of each function).
//!
//! Use the safe wrapper in the `dbbr` crate rather than this crate directly.

#![allow(non_upper_case_globals, non_camel_case_types, non_snake_case)]
#![allow(missing_docs, clippy::all)]

include!(concat!(env!("OUT_DIR"), "/bindings.rs"));

/// The embedded rclone's version, e.g. "v1.76.0", as required in go.mod.
pub const RCLONE_VERSION: &str = env!("LIBRCLONE_VERSION");

/// The error kinds the Go side reports in `{"kind","message"}` errors.
pub mod error_kind {
    /// Configuration rejected (bad remote, bad RCLONE_* value).
    pub const CONFIG: &str = "config";
    /// The remote has no configuration.
    pub const NOT_CONFIGURED: &str = "not_configured";
    /// The object to write exists already.
    pub const EXISTS: &str = "exists";
    /// The object or directory is not there.
    pub const NOT_FOUND: &str = "not_found";
    /// Anything else.
    pub const OTHER: &str = "other";
    /// Every kind.
    pub const ALL: &[&str] = &[CONFIG, NOT_CONFIGURED, EXISTS, NOT_FOUND, OTHER];
}
