//! Integration tests against real servers on loopback. Run them with
//! `bash scripts/test`, which installs and starts PostgreSQL, MariaDB, an
//! SFTP server (OpenSSH) and an S3 server and exports their addresses.

mod common;
mod storage;
mod storage_cli;
