//! The `dbbr` command line: flags and environment into library options,
//! errors into exit codes (0 done, 1 failed, 2 rejected before any I/O).

mod logging;
mod remote_cmd;

use std::process::ExitCode;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use clap::{Parser, Subcommand};

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
    #[arg(long, env = "LOG_LEVEL", default_value = "info", global = true)]
    log_level: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Inspect or test the storage remote.
    Remote(remote_cmd::RemoteArgs),
}

/// dbbr's version and the embedded rclone's.
fn version() -> &'static str {
    let text = format!(
        "{} (rclone {})",
        env!("CARGO_PKG_VERSION"),
        dbbr::rclone::rclone_version()
    );
    Box::leak(text.into_boxed_str())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.log_format, &cli.log_level);
    let interrupted = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        if let Err(e) = signal_hook::flag::register(signal, Arc::clone(&interrupted)) {
            tracing::warn!("cannot handle signal {signal}: {e}");
        }
    }
    let result = match cli.command {
        Command::Remote(args) => remote_cmd::run(args, interrupted),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e}");
            ExitCode::from(if e.is_usage() { 2 } else { 1 })
        }
    }
}
