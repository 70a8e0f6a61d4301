//! Keeps secrets out of messages: every error and log line that can carry
//! text from rclone or a dump tool goes through [`redact`].

use std::sync::RwLock;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Replacement shown where a secret was.
pub const MASK: &str = "***";

/// Option names (rclone options, libpq and MariaDB variables) whose values
/// are secrets.
const SENSITIVE: &[&str] = &[
    "pass",
    "pwd",
    "secret",
    "key",
    "token",
    "sas",
    "credential",
    "auth_url",
    "bearer",
    "cookie",
    "private",
    "signature",
];

/// Whether an option or variable name holds a secret, e.g. `secret_access_key`,
/// `RCLONE_CONFIG_STORE_PASS`, `PGPASSWORD`. `env_auth` is not one.
pub fn is_sensitive_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower != "env_auth" && SENSITIVE.iter().any(|s| lower.contains(s))
}

/// Registers a secret value to be masked in every later message.
pub fn add_secret(value: &str) {
    let value = value.trim();
    if value.len() < 2 {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        // Longest first so that a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Registers the values of sensitive environment variables (rclone remote
/// options, database passwords) as secrets.
pub fn add_env_secrets() {
    for (name, value) in std::env::vars_os() {
        let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
            continue;
        };
        let relevant = name.starts_with("RCLONE_")
            || name.starts_with("PG")
            || name.starts_with("MYSQL")
            || name.starts_with("MARIADB");
        if relevant && is_sensitive_name(name) && !name.ends_with("_FILE") {
            add_secret(value);
        }
    }
}

/// `text` with every registered secret replaced by [`MASK`].
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_names() {
        assert!(is_sensitive_name("secret_access_key"));
        assert!(is_sensitive_name("RCLONE_CONFIG_STORE_PASS"));
        assert!(is_sensitive_name("PGPASSWORD"));
        assert!(is_sensitive_name("MYSQL_PWD"));
        assert!(is_sensitive_name("sas_url"));
        assert!(!is_sensitive_name("env_auth"));
        assert!(!is_sensitive_name("host"));
        assert!(!is_sensitive_name("RCLONE_CONFIG_STORE_TYPE"));
    }

    #[test]
    fn masks_registered_secrets_longest_first() {
        add_secret("hunter2-long");
        add_secret("hunter2");
        let out = redact("pass=hunter2-long other=hunter2 x");
        assert_eq!(out, "pass=*** other=*** x");
    }
}
