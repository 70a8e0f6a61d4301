//! Integration tests against real servers on loopback. Run them with
//! `bash scripts/test`, which installs and starts PostgreSQL, MariaDB, an
//! SFTP server (OpenSSH) and an S3 server and exports their addresses.
//! Helpers every test shares are in `common`; PostgreSQL's and MariaDB's
//! own are in `common::pg` and `common::mariadb`. A case run once per
//! engine has the same name in a `postgres` and a `mariadb` module (as in
//! `backup::postgres` and `backup::mariadb`).

mod backend_azure;
mod backend_s3;
mod backend_sftp;
mod backend_smb;
mod backend_webdav;
mod backup;
mod bad_input;
mod chaos;
mod common;
mod concurrency;
mod docs;
mod dump_env;
mod every_database;
mod faults_dump;
mod faults_storage;
mod faults_stored;
mod lifecycle;
mod ops_check;
mod ops_metrics;
mod ops_notify;
mod ops_schedule;
mod passwords;
mod pg_dump_version;
mod rclone_settings;
mod restore_atomic;
mod secrets;
mod secrets_canary;
mod sets;
mod sets_catalog;
mod signals;
mod signals_open;
mod storage;
mod storage_cli;
mod upload_parts;
