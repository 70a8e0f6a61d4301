//! Keeps secrets out of messages: every error and log line that can carry
//! text from rclone or a dump tool goes through [`redact`].
//!
//! Secrets are registered by value ([`add_secret`], [`add_setting`],
//! [`add_env_secrets`]) and masked in every form rclone and the database
//! tools print them in: as they are, quoted by Go (`%q`), escaped in JSON,
//! and percent-encoded (see `forms`). A secret shorter than
//! [`SHORT_SECRET`] characters is masked only where it stands as a whole
//! token: masking it inside unrelated words (`in` inside `connecting`) would
//! show it to anyone reading the log. Passwords in URLs (`scheme://user:pass@`)
//! and the values of credential headers (`Authorization: Basic ...`, which
//! rclone builds from an obscured password) are masked whether registered
//! or not.

use std::sync::RwLock;

use aho_corasick::{AhoCorasick, MatchKind};

mod forms;
mod headers;
mod json;
mod sources;

pub(crate) use json::redact_json;
pub(crate) use sources::{
    add_config_secrets, add_env_secrets, add_setting, has_url_password, mask_url_passwords,
};

/// Replacement shown where a secret was.
pub const MASK: &str = "***";

/// Secrets with fewer characters than this are masked only as whole tokens.
pub const SHORT_SECRET: usize = 8;

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

/// The registered secrets and a matcher for all their forms.
struct Registry {
    secrets: Vec<String>,
    matcher: Option<Matcher>,
}

/// Every form of every secret, searched for at once.
struct Matcher {
    automaton: AhoCorasick,
    /// Per pattern: whether it matches only as a whole token.
    whole_token: Vec<bool>,
}

static REGISTRY: RwLock<Registry> = RwLock::new(Registry {
    secrets: Vec::new(),
    matcher: None,
});

/// Registers a secret value to be masked in every later message. Values of
/// fewer than two characters are ignored: no masking could hide them without
/// showing them.
pub fn add_secret(value: &str) {
    let value = value.trim();
    if value.chars().count() < 2 {
        return;
    }
    let mut registry = REGISTRY.write().unwrap_or_else(|e| e.into_inner());
    if registry.secrets.iter().any(|s| s == value) {
        return;
    }
    registry.secrets.push(value.to_string());
    registry.matcher = Matcher::new(&registry.secrets);
}

impl Matcher {
    fn new(secrets: &[String]) -> Option<Matcher> {
        let mut patterns: Vec<String> = Vec::new();
        let mut whole_token = Vec::new();
        for secret in secrets {
            let short = secret.chars().count() < SHORT_SECRET;
            for form in forms::forms(secret) {
                if !patterns.contains(&form) {
                    patterns.push(form);
                    whole_token.push(short);
                }
            }
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .build(&patterns)
            .ok()?;
        Some(Matcher {
            automaton,
            whole_token,
        })
    }

    /// Byte ranges of `text` to mask, sorted and merged.
    fn ranges(&self, text: &str) -> Vec<(usize, usize)> {
        let mut ranges: Vec<(usize, usize)> = self
            .automaton
            .find_overlapping_iter(text)
            .filter(|m| {
                !self.whole_token[m.pattern().as_usize()] || is_token(text, m.start(), m.end())
            })
            .map(|m| (m.start(), m.end()))
            .collect();
        ranges.sort_unstable();
        let mut merged: Vec<(usize, usize)> = Vec::with_capacity(ranges.len());
        for (start, end) in ranges {
            match merged.last_mut() {
                Some(last) if start < last.1 => last.1 = last.1.max(end),
                _ => merged.push((start, end)),
            }
        }
        merged
    }
}

/// Whether `text[start..end]` stands alone: no letter, digit or `_` joins it
/// to a neighbour on a side where it begins or ends with one.
fn is_token(text: &str, start: usize, end: usize) -> bool {
    let word = |c: char| c.is_alphanumeric() || c == '_';
    let inner = &text[start..end];
    let before = text[..start].chars().next_back();
    let after = text[end..].chars().next();
    let open = !inner.chars().next().is_some_and(word) || !before.is_some_and(word);
    let close = !inner.chars().next_back().is_some_and(word) || !after.is_some_and(word);
    open && close
}

/// `text` with every registered secret, in each of its forms, every
/// password in a URL and the value of every credential header
/// (`Authorization: Basic ...`) replaced by `***`.
pub fn redact(text: &str) -> String {
    let registry = REGISTRY.read().unwrap_or_else(|e| e.into_inner());
    let masked = match &registry.matcher {
        Some(matcher) => mask_ranges(text, matcher.ranges(text)),
        None => text.to_string(),
    };
    drop(registry);
    headers::mask_headers(&mask_url_passwords(&masked))
}

/// `text` with each of `ranges` (sorted, not overlapping byte ranges)
/// replaced by [`MASK`].
fn mask_ranges(text: &str, ranges: impl IntoIterator<Item = (usize, usize)>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (start, end) in ranges {
        out.push_str(&text[at..start]);
        out.push_str(MASK);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests;
