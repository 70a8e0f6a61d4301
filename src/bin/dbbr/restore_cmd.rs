//! `dbbr restore (OBJECT | --latest DB [--before TIME]) (--to DB [--create]
//! [--force] | --to-server | --to-stdout) [-- CLIENT_ARGS]`.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use clap::{ArgGroup, Args};
use dbbr::{Error, Progress, Restore, Result, Setting};

use crate::identity::{identities, IdentityArgs};
use crate::outcome::Outcome;
use crate::storage_args::StorageArgs;

/// Which backup, and where it goes.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("source").required(true).args(["object", "latest"])))]
#[command(group(ArgGroup::new("destination").required(true).args(["to", "to_server", "to_stdout"])))]
pub struct RestoreArgs {
    #[command(flatten)]
    storage: StorageArgs,
    /// The backup's object name (as `dbbr list` shows it).
    object: Option<String>,
    /// The newest intact backup of this database (`all`, `globals` with
    /// --to-server: the newest whole-server or globals backup).
    #[arg(long, value_name = "DB")]
    latest: Option<String>,
    /// Only a backup of this engine (needed when the database has backups
    /// of several).
    #[arg(long, value_enum)]
    engine: Option<crate::engine_args::EngineArg>,
    /// With --latest: the newest backup that started before this time
    /// (RFC 3339, or `YYYY-MM-DD[THH:MM:SS]` in UTC).
    #[arg(long, value_name = "TIME", requires = "latest", value_parser = parse_time)]
    before: Option<DateTime<Utc>>,
    /// Restore into this database (it must be empty, or use --force).
    #[arg(long, value_name = "DB")]
    to: Option<String>,
    /// Create the target database if it does not exist.
    #[arg(long, requires = "to")]
    create: bool,
    /// Restore into a database that already has tables (all or nothing: a
    /// table of the backup that exists there fails the restore).
    #[arg(long, requires = "to")]
    force: bool,
    /// With --to: first replay the globals (roles, users, grants) that the
    /// backup's run stored with BACKUP_GLOBALS=true.
    #[arg(long, requires = "to")]
    with_globals: bool,
    /// Restore a whole-server backup, or a globals backup, into the server.
    #[arg(long)]
    to_server: bool,
    /// Write the plain dump to standard output.
    #[arg(long)]
    to_stdout: bool,
    /// A parallel backup set: restore up to N parts at once and build its
    /// indexes N at a time (default: as many as the backup used).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
    jobs: Option<u16>,
    #[command(flatten)]
    identity: IdentityArgs,
    /// Do not verify the whole backup before running a client that cannot
    /// roll back (MariaDB).
    #[arg(long)]
    no_verify_first: bool,
    /// PostgreSQL: read the password from this file.
    #[arg(long, env = "PGPASSWORD_FILE")]
    pgpassword_file: Option<PathBuf>,
    /// MariaDB: read the password from this file.
    #[arg(long, env = "MYSQL_PWD_FILE")]
    mysql_pwd_file: Option<PathBuf>,
    /// Arguments after `--` go unchanged to the restore client.
    #[arg(last = true)]
    client_args: Vec<String>,
}

fn parse_time(text: &str) -> std::result::Result<DateTime<Utc>, String> {
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Ok(t.with_timezone(&Utc));
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S") {
        return Ok(t.and_utc());
    }
    if let Ok(d) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
    }
    Err(format!(
        "`{text}` is not a time: use RFC 3339 or YYYY-MM-DD[THH:MM:SS] (UTC)"
    ))
}

/// Runs the restore.
pub fn run(args: RestoreArgs, interrupted: Arc<AtomicBool>) -> Outcome {
    restored(args, interrupted).into()
}

/// Runs the restore; `Err` when it failed.
fn restored(args: RestoreArgs, interrupted: Arc<AtomicBool>) -> Result<()> {
    // The remote and prefix are checked before anything else.
    args.storage.remote()?;
    let mut restore = match (args.object, args.latest) {
        (Some(object), None) => Restore::object(object),
        (None, Some(database)) => Restore::latest(database),
        _ => {
            return Err(Error::config(
                Setting::Selection,
                "name one backup: an object name or --latest DB",
            ))
        }
    };
    // The library refuses a time with an object name.
    if let Some(time) = args.before {
        restore = restore.before(time);
    }
    restore = if let Some(db) = args.to {
        restore
            .to_database(db)
            .create(args.create)
            .force(args.force)
    } else if args.to_server {
        restore.to_server()
    } else {
        restore.to_writer(io::stdout())
    };
    if let Some(engine) = args.engine {
        restore = restore.engine(engine.engine());
    }
    if let Some(jobs) = args.jobs {
        restore = restore.jobs(jobs.into());
    }
    if let Some(path) = &args.identity.identity_file {
        restore = restore.identities(identities(path)?);
    }
    if let Some(path) = args.pgpassword_file.or(args.mysql_pwd_file) {
        restore = restore.password_file(path);
    }
    if args.no_verify_first {
        restore = restore.verify_first(false);
    }
    restore = restore.with_globals(args.with_globals);
    let live = io::stderr().is_terminal();
    let done = restore
        .remote(args.storage.remote_name)
        .prefix(args.storage.upload_prefix)
        .client_args(args.client_args)
        .progress(Arc::new(RestoreProgress {
            live,
            total: Mutex::new(0),
        }))
        .cancel_flag(interrupted)
        .run()?;
    if live {
        eprint!("\r\x1b[2K");
    }
    tracing::info!(
        "restored {} ({} of dump, {} read) in {:.1}s{}",
        done.object,
        crate::show::bytes(done.raw_bytes),
        crate::show::bytes(done.stored_bytes),
        done.elapsed.as_secs_f64(),
        if done.verified_first {
            ", verified in full first"
        } else {
            ""
        }
    );
    Ok(())
}

/// A live line on a terminal: bytes, rate and time left; quiet otherwise.
struct RestoreProgress {
    live: bool,
    total: Mutex<u64>,
}

impl Progress for RestoreProgress {
    fn sized(&self, _database: &str, stored_bytes: u64) {
        *self.total.lock().unwrap_or_else(|e| e.into_inner()) = stored_bytes;
    }

    fn advanced(&self, database: &str, raw: u64, stored: u64, elapsed: Duration) {
        if !self.live {
            return;
        }
        let total = *self.total.lock().unwrap_or_else(|e| e.into_inner());
        let rate = stored as f64 / elapsed.as_secs_f64().max(1e-9);
        let left = total.saturating_sub(stored) as f64 / rate.max(1.0);
        let mut err = io::stderr().lock();
        let _ = write!(
            err,
            "\r\x1b[2K{database}: {} of {} read, {} restored, {:.1} MB/s, about {:.0}s left",
            crate::show::bytes(stored),
            crate::show::bytes(total),
            crate::show::bytes(raw),
            rate / 1e6,
            left
        );
        let _ = err.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::parse_time;

    #[test]
    fn times() {
        let t = |text: &str| parse_time(text).map(|t| t.to_rfc3339());
        assert_eq!(t("2026-11-30").unwrap(), "2026-11-30T00:00:00+00:00");
        assert_eq!(
            t("2026-11-30T02:03:04").unwrap(),
            "2026-11-30T02:03:04+00:00"
        );
        assert_eq!(
            t("2026-11-30T02:03:04+01:00").unwrap(),
            "2026-11-30T01:03:04+00:00"
        );
        for bad in [
            "",
            "yesterday",
            "2026-02-30",
            "2026-11-30T25:00:00",
            "+999999-01-01",
        ] {
            assert!(t(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Any text is a time or refused, never a panic; a time shown in
        /// RFC 3339 parses back to itself.
        #[test]
        fn any_time_parses_or_is_refused(
            text in "([0-9]{1,6}|[-:+T.Z ]|\\PC){0,24}",
            seconds in -62_000_000_000i64..250_000_000_000,
        ) {
            let _ = parse_time(&text);
            let time = chrono::DateTime::from_timestamp(seconds, 0).unwrap();
            proptest::prop_assert_eq!(parse_time(&time.to_rfc3339()), Ok(time));
        }
    }
}
