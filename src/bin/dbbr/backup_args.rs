//! The flags of `dbbr backup postgresql|mariadb [-- DUMP_ARGS...]` (also
//! those `check` checks), and the library's backup they configure.

use std::path::PathBuf;

use clap::Args;
use dbbr::{Backup, Codec, Engine, Error, Result, Setting};

use crate::engine_args::EngineArg;
use crate::settings::parse_bool;

/// Every option is also an environment variable, as in the container images.
#[derive(Debug, Args)]
pub struct BackupArgs {
    /// Database engine.
    pub engine: EngineArg,
    /// Databases to back up, comma separated, one file each; `*` for every
    /// database the user may connect to (templates and system schemas left
    /// out).
    #[arg(long, env = "BACKUP_DATABASES", value_delimiter = ',', value_parser = crate::settings::text())]
    pub databases: Vec<String>,
    /// With BACKUP_DATABASES=*: databases to leave out, names or globs,
    /// comma separated.
    #[arg(long, env = "BACKUP_EXCLUDE", value_delimiter = ',', value_parser = crate::settings::text())]
    pub exclude: Vec<String>,
    /// Also back up roles and tablespaces (pg_dumpall --globals-only) or
    /// MariaDB's users and grants, into their own file ($DB = globals).
    #[arg(long, env = "BACKUP_GLOBALS", num_args = 0..=1, default_missing_value = "true", value_parser = crate::settings::Utf8(parse_bool), default_value = "false")]
    pub globals: bool,
    /// How many databases to dump at once (default 1).
    #[arg(long, env = "BACKUP_PARALLELISM", value_parser = crate::settings::text())]
    pub parallelism: Option<String>,
    /// PostgreSQL: back each database up as a parallel set of this many
    /// streams at one snapshot (default 1: one file per database).
    #[arg(long, env = "BACKUP_JOBS", value_parser = crate::settings::text())]
    pub jobs: Option<String>,
    /// With BACKUP_JOBS > 1: tables larger than this (512Mi, 1Gi, ...) are
    /// cut into page ranges (default 1Gi).
    #[arg(long, env = "BACKUP_SPLIT_SIZE", value_parser = crate::settings::text())]
    pub split_size: Option<String>,
    /// With BACKUP_JOBS > 1: how long to wait for each table's lock before
    /// failing (default 30s).
    #[arg(long, env = "BACKUP_LOCK_TIMEOUT", value_parser = crate::settings::text())]
    pub lock_timeout: Option<String>,
    /// Most parts per multipart upload (S3: 10000; some compatible stores
    /// take 1000); part sizes are chosen so that each dump fits.
    #[arg(long, env = "UPLOAD_MAX_PARTS", value_parser = crate::settings::text())]
    pub max_parts: Option<String>,
    /// Dump every database into one file (pg_dumpall / --all-databases).
    #[arg(long, env = "BACKUP_ALL", num_args = 0..=1, default_missing_value = "true", value_parser = crate::settings::Utf8(parse_bool), default_value = "false")]
    pub all: bool,
    /// Object name: strftime directives, subfolders, $DB for the database.
    #[arg(long, env = "BACKUP_FILE_NAME", value_parser = crate::settings::text())]
    pub file_name: Option<String>,
    #[command(flatten)]
    pub storage: crate::storage_args::StorageArgs,
    /// age recipients (age1..., ssh-ed25519 ..., ssh-rsa ...), comma or newline separated.
    #[arg(long, env = "ENCRYPT_RECIPIENTS", hide_env_values = true, value_parser = crate::settings::text())]
    pub encrypt_recipients: Option<String>,
    /// File of age recipients, one per line (e.g. an id_ed25519.pub).
    #[arg(long, env = "ENCRYPT_RECIPIENTS_FILE")]
    pub encrypt_recipients_file: Option<PathBuf>,
    /// Compression: gzip (standard, multi-member), zstd, or none.
    #[arg(long, env = "COMPRESSION", default_value = "gzip", value_parser = crate::settings::text())]
    pub compression: String,
    /// Compression level: gzip 0-12 (libdeflate's; default 2), zstd 1-19
    /// (default 3).
    #[arg(long, env = "COMPRESSION_LEVEL", value_parser = crate::settings::text())]
    pub compression_level: Option<String>,
    /// PostgreSQL: read the password from this file.
    #[arg(long, env = "PGPASSWORD_FILE")]
    pub pgpassword_file: Option<PathBuf>,
    /// MariaDB: read the password from this file.
    #[arg(long, env = "MYSQL_PWD_FILE")]
    pub mysql_pwd_file: Option<PathBuf>,
    /// After a fully successful run, delete the backups this policy does
    /// not keep.
    #[command(flatten)]
    pub keep: crate::keep_args::KeepArgs,
    /// Schedule, verification, notifications and metrics.
    #[command(flatten)]
    pub ops: crate::ops_args::OpsArgs,
    /// Arguments after `--` go unchanged to the dump tool.
    #[arg(last = true)]
    pub dump_args: Vec<String>,
}

/// The library's backup as `args` configure it (no progress, no cancel
/// flag yet).
pub fn builder(args: &BackupArgs) -> Result<Backup> {
    let engine = args.engine.engine();
    args.storage.remote()?;
    let named: Vec<&str> = args
        .databases
        .iter()
        .map(|d| d.trim())
        .filter(|d| !d.is_empty())
        .collect();
    let every = named.contains(&"*");
    let excluding = args.exclude.iter().any(|e| !e.trim().is_empty());
    let mut backup = match (args.all, named.is_empty(), every) {
        (true, false, _) => {
            return Err(Error::config(
                Setting::Databases,
                "BACKUP_ALL and BACKUP_DATABASES are both set: set only one of them",
            ))
        }
        (true, true, _) => Backup::new(engine).all_databases(),
        (false, _, true) if named.len() > 1 => {
            return Err(Error::config(
                Setting::Databases,
                "`*` stands for every database: give it alone, and leave databases out \
                 with BACKUP_EXCLUDE",
            ))
        }
        (false, _, true) => Backup::new(engine)
            .every_database()
            .exclude(args.exclude.clone()),
        (false, _, false) => Backup::new(engine).databases(args.databases.clone()),
    };
    if excluding && !every {
        return Err(Error::config(
            Setting::Exclude,
            "BACKUP_EXCLUDE applies only to a backup of every database: set \
             BACKUP_DATABASES=* or leave BACKUP_EXCLUDE empty",
        ));
    }
    backup = backup.globals(args.globals);
    if let Some(n) = number(args.parallelism.as_deref(), Setting::Parallelism)? {
        backup = backup.parallelism(n as usize);
    }
    if let Some(n) = number(args.jobs.as_deref(), Setting::Jobs)? {
        backup = backup.jobs(n as usize);
    }
    if let Some(text) = args.split_size.as_deref().filter(|t| !t.trim().is_empty()) {
        backup = backup.split_size(dbbr::cli::parse_size(text, Setting::SplitSize)?);
    }
    if let Some(text) = args
        .lock_timeout
        .as_deref()
        .filter(|t| !t.trim().is_empty())
    {
        let timeout = dbbr::cli::parse_duration(text).map_err(|_| {
            Error::config(
                Setting::LockTimeout,
                format!(
                    "`{}` is not a duration: use a number with a unit such as 30s or 2m",
                    text.escape_debug()
                ),
            )
        })?;
        backup = backup.lock_timeout(timeout.to_std().unwrap_or_default());
    }
    if let Some(n) = number(args.max_parts.as_deref(), Setting::UploadParts)? {
        backup = backup.max_parts(n);
    }
    if let Some(pattern) = &args.file_name {
        backup = backup.file_name(pattern);
    }
    let level = match args.compression_level.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(text.parse().map_err(|_| {
            Error::config(
                Setting::Compression,
                format!(
                    "compression level `{}` is not a whole number from 0 up",
                    text.escape_debug()
                ),
            )
        })?),
    };
    backup = backup.codec(Codec::from_name(&args.compression, level)?);
    if let Some(recipients) = &args.encrypt_recipients {
        backup = backup.recipients(recipients);
    }
    if let Some(path) = &args.encrypt_recipients_file {
        backup = backup.recipients_file(path);
    }
    let password_file = match engine {
        Engine::MariaDb => &args.mysql_pwd_file,
        _ => &args.pgpassword_file,
    };
    if let Some(path) = password_file {
        backup = backup.password_file(path);
    }
    if let Some(policy) = args.keep.policy()? {
        backup = backup.keep(policy);
    }
    Ok(backup
        .remote(&args.storage.remote_name)
        .prefix(&args.storage.upload_prefix)
        .dump_args(args.dump_args.clone()))
}

/// A whole number setting; empty is unset.
fn number(text: Option<&str>, setting: Setting) -> Result<Option<u64>> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => text.parse().map(Some).map_err(|_| {
            Error::config(
                setting,
                format!("`{}` is not a whole number", text.escape_debug()),
            )
        }),
    }
}
