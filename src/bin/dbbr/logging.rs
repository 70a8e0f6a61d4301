//! Log output: human lines on stderr, or JSON lines for clusters.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// The levels a bare `LOG_LEVEL` item may name.
const LEVELS: &[&str] = &["off", "error", "warn", "info", "debug", "trace"];

/// Parses `LOG_LEVEL`: a level, or a filter such as `info,rclone=debug`. A
/// bare word that is not a level (tracing would take it as a target name
/// and quietly log nothing) is refused like any other invalid filter.
pub fn filter(level: &str) -> Result<EnvFilter, String> {
    let bad = |why: String| {
        format!(
            "LOG_LEVEL `{}` is not valid ({why}): use error, warn, info, debug or a filter such \
             as info,rclone=debug",
            level.escape_debug()
        )
    };
    for item in level.split(',').map(str::trim) {
        let bare = !item.contains('=') && !item.contains('[');
        if bare && !LEVELS.contains(&item.to_ascii_lowercase().as_str()) {
            return Err(bad(format!("`{}` is not a level", item.escape_debug())));
        }
    }
    EnvFilter::try_new(level).map_err(|e| bad(e.to_string()))
}

/// Installs the global subscriber with a filter from [`filter`].
pub fn init(format: LogFormat, filter: EnvFilter) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().flatten_event(true).init(),
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .with_target(false)
            .init(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_levels_and_filters() {
        for good in ["info", "DEBUG", "warn,rclone=debug", "dbbr=trace", "off"] {
            assert!(filter(good).is_ok(), "{good}");
        }
        for bad in ["verbose", "info,loud", "rclone=loud", ""] {
            let err = filter(bad).unwrap_err();
            assert!(err.starts_with("LOG_LEVEL"), "{bad}: {err}");
        }
    }
}
