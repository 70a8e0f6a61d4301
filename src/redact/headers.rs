//! HTTP headers that carry credentials, masked wherever they are printed
//! (rclone's `--dump headers,auth`, error messages) whether or not their
//! value was registered: the `Authorization` rclone builds from an obscured
//! password, a signature, a session token.

use super::{is_sensitive_name, MASK};

/// Headers masked wherever they stand in a line.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-auth-token",
    "x-api-key",
    "x-amz-security-token",
];

/// `text` with the value of every credential header masked: anywhere in a
/// line for the [`CREDENTIAL_HEADERS`], at the start of a line for any
/// header whose name says it holds a secret (`X-Storage-Token: ...`). An
/// `Authorization` value keeps its scheme (`Basic ***`).
pub(super) fn mask_headers(text: &str) -> String {
    if !text.contains(':') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches(['\n', '\r']).len();
        out.push_str(&mask_line(&line[..content]));
        out.push_str(&line[content..]);
    }
    out
}

/// One line with its credential header's value masked.
fn mask_line(line: &str) -> String {
    let lower = line.to_ascii_lowercase();
    let mut found = None;
    for name in CREDENTIAL_HEADERS {
        let pattern = format!("{name}:");
        let mut from = 0;
        while let Some(i) = lower[from..].find(&pattern) {
            let at = from + i;
            let standalone = lower[..at]
                .chars()
                .next_back()
                .is_none_or(|c| c.is_whitespace() || "\"'[{(,;".contains(c));
            if standalone && found.is_none_or(|(f, _)| at < f) {
                found = Some((at, pattern.len()));
            }
            from = at + pattern.len();
        }
    }
    if found.is_none() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some((name, _)) = trimmed.split_once(':') {
            let token = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if token && is_sensitive_name(name) {
                found = Some((indent, name.len() + 1));
            }
        }
    }
    let Some((at, len)) = found else {
        return line.to_string();
    };
    let value_start = at + len;
    let value = &line[value_start..];
    let trimmed = value.trim_start();
    let lead = &value[..value.len() - trimmed.len()];
    if trimmed.is_empty() || trimmed.starts_with(MASK) {
        return line.to_string();
    }
    let authorization = lower[at..].starts_with("authorization:")
        || lower[at..].starts_with("proxy-authorization:");
    let kept = match trimmed.split_once(' ') {
        Some((scheme, rest))
            if authorization
                && !rest.trim().is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            format!("{scheme} ")
        }
        _ => String::new(),
    };
    format!("{}{lead}{kept}{MASK}", &line[..value_start])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_headers_are_masked() {
        let dump = "GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: Basic Y2FuYXJ5OnB3\r\n\
                    User-Agent: rclone\r\nX-Amz-Security-Token: tok\r\nX-Storage-Token: st\r\n\
                    Cookie: sid=1\r\n";
        let out = mask_headers(dump);
        assert_eq!(
            out,
            "GET /x HTTP/1.1\r\nHost: h\r\nAuthorization: Basic ***\r\nUser-Agent: rclone\r\n\
             X-Amz-Security-Token: ***\r\nX-Storage-Token: ***\r\nCookie: ***\r\n"
        );
        assert_eq!(
            mask_headers("request failed: authorization: Bearer abc def"),
            "request failed: authorization: Bearer ***"
        );
        assert_eq!(mask_headers("Authorization: tok"), "Authorization: ***");
        assert_eq!(
            mask_headers("Authorization: Basic ***"),
            "Authorization: Basic ***"
        );
    }

    #[test]
    fn other_lines_are_left_alone() {
        for line in [
            "settings: ok: postgresql backup of app",
            "identity: ok: /k decrypts",
            "password file /x: cannot read it",
            "recipients: 1 recipient(s): age1xyz",
            "Content-Type: text/plain",
            "no header here",
            "env_auth: true",
        ] {
            assert_eq!(mask_headers(line), line);
        }
    }
}
