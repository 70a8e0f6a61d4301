//! `dbbr remote ...`: look at and test the configured storage directly.

use std::io::{self, Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Args, Subcommand};
use dbbr::{Error, Remote, Result, Setting};

use crate::outcome::Outcome;

/// Where the remote commands operate.
#[derive(Debug, Args)]
pub struct RemoteArgs {
    /// rclone remote name (configured by RCLONE_CONFIG_<NAME>_* or the rclone
    /// config file), `name:path`, or a connection string starting with `:`.
    #[arg(
        long,
        env = "REMOTE_NAME",
        default_value = "store",
        global = true,
        hide_env_values = true,
        value_parser = crate::settings::text()
    )]
    pub remote_name: String,
    /// Path prepended to every object path (e.g. bucket/prefix).
    #[arg(long, env = "UPLOAD_PREFIX", default_value = "", global = true, value_parser = crate::settings::text())]
    pub upload_prefix: String,
    #[command(subcommand)]
    pub action: RemoteAction,
}

/// A storage operation.
#[derive(Debug, Subcommand)]
pub enum RemoteAction {
    /// List objects below DIR (relative to the prefix).
    Ls {
        /// Directory to list.
        #[arg(default_value = "", value_parser = crate::settings::text())]
        dir: String,
        /// List recursively.
        #[arg(short = 'R', long)]
        recursive: bool,
    },
    /// Upload standard input to PATH; commits only at the end of the input.
    Put {
        /// Object path relative to the prefix.
        #[arg(value_parser = crate::settings::text())]
        path: String,
    },
    /// Write the object at PATH to standard output.
    Cat {
        /// Object path relative to the prefix.
        #[arg(value_parser = crate::settings::text())]
        path: String,
    },
    /// Delete the object at PATH.
    Rm {
        /// Object path relative to the prefix.
        #[arg(value_parser = crate::settings::text())]
        path: String,
    },
    /// Print a password obscured as rclone's configuration wants it (the
    /// `PASS` of SMB, WebDAV, SFTP, FTP, ...), as `rclone obscure` does. The
    /// password is read from standard input (one line), never from the
    /// command line.
    Obscure,
    /// Run an rclone rc method and print its JSON reply (e.g. `options/get`).
    #[command(hide = true)]
    Rc {
        /// Method name.
        #[arg(value_parser = crate::settings::text())]
        method: String,
        /// JSON input.
        #[arg(default_value = "{}", value_parser = crate::settings::text())]
        input: String,
    },
}

/// Runs one remote command.
pub fn run(args: RemoteArgs, interrupted: Arc<AtomicBool>) -> Outcome {
    action(args, interrupted).into()
}

/// Runs one remote command; `Err` when it failed.
fn action(args: RemoteArgs, interrupted: Arc<AtomicBool>) -> Result<()> {
    if let RemoteAction::Obscure = args.action {
        return obscure_stdin();
    }
    let remote = crate::storage_args::remote(&args.remote_name, &args.upload_prefix)?;
    if let RemoteAction::Put { path } | RemoteAction::Cat { path } | RemoteAction::Rm { path } =
        &args.action
    {
        // An empty path is the prefix itself: `rm ''` would delete it.
        crate::settings::name_given("PATH", path)?;
    }
    match args.action {
        RemoteAction::Ls { dir, recursive } => {
            let mut out = io::stdout().lock();
            for e in remote.list(&dir, recursive)? {
                let time = e.mod_time.map(|t| t.to_rfc3339()).unwrap_or_default();
                let kind = if e.is_dir { "dir" } else { "file" };
                let line = format!(
                    "{kind}\t{}\t{time}\t{}",
                    e.size,
                    crate::show::one_line(&e.path)
                );
                writeln!(out, "{}", crate::settings::masked(&line))
                    .map_err(|e| Error::io("stdout", e))?;
            }
            Ok(())
        }
        RemoteAction::Put { path } => put(&remote, &path, &interrupted),
        RemoteAction::Cat { path } => {
            let mut download = remote.download(&path)?;
            io::copy(&mut download, &mut io::stdout().lock())
                .map_err(|e| Error::io(format!("copying {path} to standard output"), e))?;
            Ok(())
        }
        RemoteAction::Rm { path } => remote.delete(&path),
        RemoteAction::Obscure => unreachable!("handled above: it needs no remote"),
        RemoteAction::Rc { method, input } => {
            let input = serde_json::from_str(&input).map_err(|e| {
                Error::config(Setting::Storage, format!("rc input is not JSON: {e}"))
            })?;
            let reply = dbbr::cli::rpc(&method, &input)?;
            println!("{:#}", crate::settings::masked_json(reply));
            Ok(())
        }
    }
}

/// Streams stdin into an upload, aborting on a read error or a signal.
fn put(remote: &Remote, path: &str, interrupted: &AtomicBool) -> Result<()> {
    let mut upload = remote.upload(path)?;
    let mut stdin = io::stdin().lock();
    let mut buf = vec![0u8; 256 * 1024];
    loop {
        if interrupted.load(Ordering::Relaxed) {
            upload.abort();
            return Err(Error::Interrupted);
        }
        let n = match stdin.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                upload.abort();
                return Err(Error::io("reading standard input", e));
            }
        };
        if let Err(e) = upload.write_all(&buf[..n]) {
            upload.abort();
            // A signal cancels the upload under the write: say so.
            if interrupted.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            return Err(Error::io(format!("uploading {path}"), e));
        }
    }
    let done = upload.commit()?;
    tracing::info!(path = %done.path, size = done.size, "uploaded");
    Ok(())
}

/// Reads one password from standard input and prints it obscured.
fn obscure_stdin() -> Result<()> {
    let mut input = String::new();
    io::stdin().lock().read_to_string(&mut input).map_err(|e| {
        Error::config(
            Setting::Storage,
            format!("cannot read the password from standard input: {e}"),
        )
    })?;
    let clear = input
        .strip_suffix('\n')
        .map(|s| s.strip_suffix('\r').unwrap_or(s))
        .unwrap_or(&input);
    if clear.contains('\n') {
        return Err(Error::config(
            Setting::Storage,
            "standard input has several lines: give the password alone, on one line",
        ));
    }
    println!("{}", dbbr::cli::obscure(clear)?);
    Ok(())
}
