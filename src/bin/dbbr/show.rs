//! How the command line shows text and sizes: on one line, and in units
//! people read.

use std::borrow::Cow;

/// `text` on one line: line breaks and other control characters escaped, so
/// that a database name or a tool's output cannot forge a log line.
pub fn one_line(text: &str) -> Cow<'_, str> {
    if text.chars().any(|c| c.is_control() && c != '\t') {
        text.chars()
            .map(|c| {
                if c.is_control() && c != '\t' {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
            .into()
    } else {
        text.into()
    }
}

/// 1234567 -> "1.2 MB".
pub fn bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = n as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{n} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::one_line;

    #[test]
    fn control_characters_cannot_start_a_new_log_line() {
        assert_eq!(one_line("app"), "app");
        assert_eq!(one_line("a\tb"), "a\tb");
        assert_eq!(
            one_line("x\n2026-01-01T00:00:00Z ERROR forged\r"),
            "x\\n2026-01-01T00:00:00Z ERROR forged\\r"
        );
    }
}
