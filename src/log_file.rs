//! `RCLONE_LOG_FILE`: where rclone's log lines go, masked, instead of
//! dbbr's log. dbbr's own lines stay on stderr (rclone's command line would
//! point stderr itself at the file).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::{Mutex, OnceLock};

/// Appends one of rclone's log lines (already masked) to `RCLONE_LOG_FILE`
/// if that is set; returns whether it did. `level` is rclone's slog level.
pub(crate) fn append(level: i32, line: &str) -> bool {
    static FILE: OnceLock<Option<Mutex<File>>> = OnceLock::new();
    let file = FILE.get_or_init(|| {
        let path = std::env::var_os("RCLONE_LOG_FILE").filter(|p| !p.is_empty())?;
        // The Go side checked at start-up that it opens.
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()?;
        Some(Mutex::new(file))
    });
    let Some(file) = file else {
        return false;
    };
    let name = match level {
        i32::MIN..=-1 => "DEBUG",
        0..=1 => "INFO",
        2..=3 => "NOTICE",
        4..=7 => "WARNING",
        _ => "ERROR",
    };
    let time = chrono::Local::now().format("%Y/%m/%d %H:%M:%S");
    let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
    // A log line that cannot be written is not worth failing a backup for.
    let _ = writeln!(file, "{time} {name}: {line}");
    true
}
