//! What `dbbr backup` logs as the backup runs: each database's progress
//! and result, and what the prune after it did. [`crate::job`] runs the
//! backup, and the verification, notifications and metrics around it.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbbr::{DatabaseReport, Progress, Report};

use crate::show::{bytes, one_line};

/// Progress as log lines (and a live line on a terminal unless `json`).
pub fn progress(json: bool) -> Arc<dyn Progress> {
    let live = !json && std::io::stderr().is_terminal();
    Arc::new(LogProgress {
        live,
        json,
        drawn: Mutex::new(false),
    })
}

/// Logs what the prune after a backup did.
pub fn log_prune(report: &Report) {
    match &report.prune {
        Some(Ok(pruned)) => {
            for d in pruned.decisions.iter().filter(|d| !d.keep) {
                tracing::info!("pruned {} ({})", d.object, d.reasons.join(", "));
            }
        }
        Some(Err(e)) => tracing::error!("prune after the backup failed: {e}"),
        None => {}
    }
}

/// Log lines per database, and a live line on a terminal.
struct LogProgress {
    live: bool,
    /// Structured fields for log collectors; people get them in the message.
    json: bool,
    drawn: Mutex<bool>,
}

impl LogProgress {
    fn clear_line(&self) {
        let mut drawn = self.drawn.lock().unwrap_or_else(|e| e.into_inner());
        if *drawn {
            eprint!("\r\x1b[2K");
            *drawn = false;
        }
    }
}

impl Progress for LogProgress {
    fn started(&self, database: &str, object: &str) {
        let database = &*one_line(database);
        if self.json {
            tracing::info!(database, object, "backing up {database} to {object}");
        } else {
            tracing::info!("backing up {database} to {object}");
        }
    }

    fn advanced(&self, database: &str, raw: u64, stored: u64, elapsed: Duration) {
        let rate = raw as f64 / 1e6 / elapsed.as_secs_f64().max(1e-9);
        if self.live {
            let mut err = std::io::stderr().lock();
            let _ = write!(
                err,
                "\r\x1b[2K{database}: {} dumped, {} stored, {rate:.1} MB/s, {}s",
                bytes(raw),
                bytes(stored),
                elapsed.as_secs()
            );
            let _ = err.flush();
            *self.drawn.lock().unwrap_or_else(|e| e.into_inner()) = true;
        } else {
            tracing::debug!(database, raw_bytes = raw, stored_bytes = stored, "progress");
        }
    }

    fn finished(&self, outcome: &DatabaseReport) {
        self.clear_line();
        let database = &*one_line(&outcome.database);
        let object = outcome.object.as_deref().unwrap_or("");
        match &outcome.result {
            Ok(s) => {
                let mut summary = format!(
                    "{database}: {} in, {} out ({:.1}%), {:.1}s, {:.1} MB/s -> {object}",
                    bytes(s.raw_bytes),
                    bytes(s.stored_bytes),
                    s.ratio() * 100.0,
                    s.elapsed.as_secs_f64(),
                    s.raw_mb_per_second(),
                );
                if s.parts > 0 {
                    summary.push_str(&format!(" (a set of {} parts)", s.parts));
                }
                if s.storage_retries > 0 {
                    summary.push_str(&format!(" ({} storage retries)", s.storage_retries));
                }
                if self.json {
                    tracing::info!(
                        database,
                        object,
                        raw_bytes = s.raw_bytes,
                        stored_bytes = s.stored_bytes,
                        sha256 = s.sha256.as_str(),
                        seconds = s.elapsed.as_secs_f64(),
                        storage_retries = s.storage_retries,
                        parts = s.parts,
                        "{summary}"
                    );
                } else {
                    tracing::info!("{summary}");
                }
            }
            Err(e) => {
                let e = one_line(&e.to_string()).into_owned();
                if self.json {
                    tracing::error!(database, object, "{database}: backup failed: {e}");
                } else {
                    tracing::error!("{database}: backup failed: {e}");
                }
            }
        }
    }
}
