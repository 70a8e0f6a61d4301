//! The `dbbr` command line: flags and environment into library options,
//! each command's [`Outcome`] into the exit code (0 done, 1 failed, 2
//! rejected before any I/O, 128 + N stopped by signal N).

mod backup_args;
mod backup_cmd;
mod check_cmd;
mod engine_args;
mod http;
mod identity;
mod job;
mod keep_args;
mod list_cmd;
mod logging;
mod metrics;
mod metrics_out;
mod notify;
mod ops_args;
mod outcome;
mod prune_cmd;
mod reference;
mod remote_cmd;
mod restore_cmd;
mod schedule;
mod settings;
mod show;
mod storage_args;
mod summary;
mod verify_cmd;

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use dbbr::Engine;
use signal_hook::consts::{SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

use crate::outcome::Outcome;

/// Stream database backups to any rclone remote.
#[derive(Debug, Parser)]
#[command(name = "dbbr", version = version(), about)]
struct Cli {
    /// Log format: `text` for people, `json` for log collectors.
    #[arg(
        long,
        env = "LOG_FORMAT",
        value_enum,
        default_value = "text",
        global = true
    )]
    log_format: logging::LogFormat,
    /// Log level or filter (error, warn, info, debug, or e.g. `info,rclone=debug`).
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true, value_parser = settings::text())]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Back up databases: `dbbr backup postgresql|mariadb [-- DUMP_ARGS...]`
    /// (once, or on BACKUP_SCHEDULE).
    Backup(backup_args::BackupArgs),
    /// Check everything a backup needs without dumping:
    /// `dbbr check postgresql|mariadb [--json] [-- DUMP_ARGS...]`.
    Check(check_cmd::CheckArgs),
    /// List the backups under the remote and prefix.
    List(list_cmd::ListArgs),
    /// Restore a backup into a database, the server, or standard output.
    Restore(restore_cmd::RestoreArgs),
    /// Prove backups: quick, full, or a restore drill.
    Verify(verify_cmd::VerifyArgs),
    /// Delete the backups a keep policy does not keep.
    Prune(prune_cmd::PruneArgs),
    /// Inspect or test the storage remote.
    Remote(remote_cmd::RemoteArgs),
    /// Print the command-line reference in Markdown (docs/reference.md).
    #[command(hide = true)]
    Reference,
}

/// On SIGINT or SIGTERM, sets `interrupted` (the run then stops its dumps
/// and aborts its uploads), interrupts storage, so that no rclone call
/// (opening a remote, an upload stalled on a server that stopped answering,
/// a retry wait) holds the process up, and makes notifications quick.
/// Returns where the signal's number is stored (0 until one arrives). A
/// second signal ends the process at once (128 + its number), clean-up or
/// not.
fn watch_signals(interrupted: Arc<AtomicBool>) -> Arc<AtomicI32> {
    let signalled = Arc::new(AtomicI32::new(0));
    let mut signals = match Signals::new([SIGINT, SIGTERM]) {
        Ok(signals) => signals,
        Err(e) => {
            tracing::warn!("cannot handle SIGINT and SIGTERM: {e}");
            return signalled;
        }
    };
    let store = Arc::clone(&signalled);
    std::thread::spawn(move || {
        let mut forever = signals.forever();
        if let Some(signal) = forever.next() {
            store.store(signal, Ordering::SeqCst);
            interrupted.store(true, Ordering::SeqCst);
            http::stop();
            dbbr::interrupt();
        }
        // Clean-up is bounded, but whoever asks twice does not want to wait.
        if let Some(signal) = forever.next() {
            tracing::error!(
                "{} again: exiting at once, without finishing the clean-up",
                signal_name(signal)
            );
            std::process::exit(128 + signal);
        }
    });
    signalled
}

/// dbbr's version and the embedded rclone's.
fn version() -> &'static str {
    let text = format!(
        "{} (rclone {})",
        env!("CARGO_PKG_VERSION"),
        dbbr::rclone_version()
    );
    Box::leak(text.into_boxed_str())
}

/// What a signal stops when it ends `command`, for its last log line.
fn what_stops(command: &Command) -> &'static str {
    match command {
        Command::Backup(args)
            if args
                .ops
                .schedule
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty()) =>
        {
            "the scheduler stopped: any backup still in progress was aborted and nothing of it was stored"
        }
        Command::Backup(_) => {
            "the run was stopped: any backup still in progress was aborted and nothing of it was stored"
        }
        Command::Check(_) => "the check was not finished",
        Command::List(_) => "the listing was not finished and may be incomplete",
        Command::Restore(_) => {
            "the restore was stopped and its target database left as it was, unless an error \
             above names what could not be undone (output to standard output is incomplete)"
        }
        Command::Verify(_) => {
            "the verification was not finished: the backups not verified yet got no verdict"
        }
        Command::Prune(_) => {
            "the prune was not finished: backups it would delete may remain (run it again)"
        }
        Command::Remote(args) => match args.action {
            remote_cmd::RemoteAction::Ls { .. } => {
                "the listing was not finished and may be incomplete"
            }
            remote_cmd::RemoteAction::Put { .. } => "the upload was aborted and nothing was stored",
            remote_cmd::RemoteAction::Cat { .. } => {
                "the download was stopped: the output is incomplete"
            }
            remote_cmd::RemoteAction::Rm { .. } => {
                "the deletion was stopped: the object may still be there"
            }
            _ => "the command was stopped",
        },
        Command::Reference => "the reference was not finished",
    }
}

/// What to say of a command that a signal reached after it had done all
/// it was asked, where the usual line would say otherwise.
fn what_finished(command: &Command) -> Option<&'static str> {
    match command {
        Command::Restore(_) => Some(
            "the signal came once the restore had finished: it is complete \
             (a database restored in full, or all of the output written)",
        ),
        _ => None,
    }
}

/// The name of signal number `signal`.
fn signal_name(signal: i32) -> String {
    match signal {
        SIGINT => "SIGINT".into(),
        SIGTERM => "SIGTERM".into(),
        n => format!("signal {n}"),
    }
}

/// The one place where a command's [`Outcome`] becomes the process's exit:
/// `main` logs what the command left to it (the error it stopped on; for
/// a command a signal stopped, one line saying what was stopped, with the
/// error it ended with, and a short wait for storage clean-up), then exits
/// with [`Outcome::exit_code`]. `stops` says what a signal stopped, and
/// `engine` which variables an error names.
fn exit(outcome: Outcome, stops: &str, engine: Option<Engine>) -> ExitCode {
    match &outcome {
        Outcome::Success | Outcome::Failed | Outcome::Rejected => {}
        Outcome::Error(e) => {
            tracing::error!("{}", show::one_line(&settings::message(e, engine)));
        }
        Outcome::Interrupted { signal, error } => {
            // Storage calls given up on still remove what they made (a
            // claim written as the signal came): a short while for them.
            dbbr::finish_cleanup(CLEANUP_AT_EXIT);
            let cause = error
                .as_ref()
                .map(|e| format!(" ({})", settings::message(e, engine)))
                .unwrap_or_default();
            tracing::error!(
                "interrupted by {}: {stops}{}",
                signal_name(*signal),
                show::one_line(&cause)
            );
        }
    }
    outcome.exit_code()
}

/// How long a command a signal stopped waits, before it exits, for the
/// storage calls it gave up on to clean up after themselves.
const CLEANUP_AT_EXIT: std::time::Duration = std::time::Duration::from_secs(2);

fn main() -> ExitCode {
    // Let the embedded Go runtime finish starting before anything else reads
    // the environment (it adjusts RCLONE_* variables while it initialises).
    dbbr::cli::wait_ready();
    let cli = Cli::parse();
    match logging::filter(&cli.log_level) {
        Ok(filter) => logging::init(cli.log_format, filter),
        Err(message) => {
            eprintln!("error: {message}");
            return Outcome::Rejected.exit_code();
        }
    }
    let run_id = dbbr::RunId::new();
    logging::set_run_id(&run_id);
    let interrupted = Arc::new(AtomicBool::new(false));
    let signalled = watch_signals(Arc::clone(&interrupted));
    let json = cli.log_format == logging::LogFormat::Json;
    let engine = match &cli.command {
        Command::Backup(args) => Some(args.engine.engine()),
        _ => None,
    };
    let mut stops = what_stops(&cli.command);
    let finished = what_finished(&cli.command);
    let outcome = match cli.command {
        Command::Backup(args) => job::backup(args, interrupted, json),
        Command::Check(args) => check_cmd::run(args),
        Command::List(args) => list_cmd::run(args),
        Command::Restore(args) => restore_cmd::run(args, interrupted),
        Command::Verify(args) => verify_cmd::run(args, &run_id),
        Command::Prune(args) => prune_cmd::run(args),
        Command::Remote(args) => remote_cmd::run(args, interrupted),
        Command::Reference => Outcome::from(Ok::<bool, dbbr::Error>(reference::print())),
    };
    // Stopped by a signal: whatever the command returned, the exit says
    // so (a restore that had finished says that in its last line).
    let outcome = match signalled.load(Ordering::SeqCst) {
        signal @ 1.. => {
            if let (Outcome::Success, Some(finished)) = (&outcome, finished) {
                stops = finished;
            }
            outcome.interrupted_by(signal)
        }
        _ => outcome,
    };
    exit(outcome, stops, engine)
}
