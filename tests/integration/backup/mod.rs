//! `dbbr backup` end to end against real servers, one module per engine:
//! what lands in the remote, that it restores with the standard tools to
//! the same data, how the connection is configured, and that failures
//! leave nothing behind. A case both engines have has the same name in
//! both modules.

mod mariadb;
mod postgres;
