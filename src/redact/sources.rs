//! Where secrets come from: settings whose names say they are secret, and
//! those whose names do not but whose values hold one — HTTP headers, URLs
//! with a password, JSON tokens, SSE-C keys in their other encoding.

use std::sync::Once;

use base64::Engine as _;
use percent_encoding::percent_decode_str;

use super::{add_secret, is_sensitive_name, MASK};

/// Environment variable prefixes of storage, cloud and database settings:
/// a variable with one of them and a sensitive name holds a secret.
const SECRET_PREFIXES: &[&str] = &[
    "RCLONE_", "PG", "MYSQL", "MARIADB", "AWS_", "AZURE_", "GOOGLE_", "GCS_", "GCLOUD_", "B2_",
    "OS_", "SWIFT_", "ENCRYPT_",
];

/// Words that make any variable's value a secret, whatever its prefix.
const SECRET_WORDS: &[&str] = &["PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL"];

/// Registers the secrets the process environment holds: values of sensitive
/// settings (rclone remote options, cloud credentials, database passwords),
/// HTTP headers, and passwords in URLs of any variable. Runs once, when
/// storage starts (after the Go runtime, which hides `RCLONE_*` for a
/// moment while it starts).
pub(crate) fn add_env_secrets() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        for (name, value) in std::env::vars_os() {
            let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else {
                continue;
            };
            for secret in env_secrets(name, value) {
                add_secret(&secret);
            }
        }
    });
}

/// Registers the secrets of setting `name` (an rclone option such as
/// `secret_access_key` or `url`, or a variable name) set to `value`.
pub(crate) fn add_setting(name: &str, value: &str) {
    for secret in setting_secrets(name, value) {
        add_secret(&secret);
    }
}

/// Registers the secrets of every remote in rclone's config file, given as
/// the JSON of rclone's `config/dump` (`{"remote": {"option": "value"}}`).
pub(crate) fn add_config_secrets(dump: &str) {
    let Ok(serde_json::Value::Object(remotes)) = serde_json::from_str(dump) else {
        return;
    };
    for options in remotes.values() {
        let Some(options) = options.as_object() else {
            continue;
        };
        for (name, value) in options {
            if let Some(value) = value.as_str() {
                add_setting(name, value);
            }
        }
    }
}

/// The secrets of environment variable `name`: all of a storage or database
/// setting's, only the URL passwords of another variable (`HTTPS_PROXY`...).
fn env_secrets(name: &str, value: &str) -> Vec<String> {
    let upper = name.to_ascii_uppercase();
    let known = SECRET_PREFIXES.iter().any(|p| upper.starts_with(p))
        || SECRET_WORDS.iter().any(|w| upper.contains(w));
    if known {
        setting_secrets(name, value)
    } else {
        let mut out = url_passwords(value);
        out.extend(query_secrets(value));
        out
    }
}

/// The secrets setting `name` = `value` holds.
fn setting_secrets(name: &str, value: &str) -> Vec<String> {
    let value = value.trim();
    let upper = name.to_ascii_uppercase();
    let mut out = url_passwords(value);
    out.extend(query_secrets(value));
    if value.is_empty() || value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false")
    {
        return out;
    }
    if is_sensitive_name(name) && !upper.ends_with("_FILE") {
        out.push(value.to_string());
        out.extend(json_secrets(value));
        let b64 = base64::engine::general_purpose::STANDARD;
        if upper.ends_with("SSE_CUSTOMER_KEY") {
            // rclone sends it base64-encoded.
            out.push(b64.encode(value));
        } else if upper.ends_with("SSE_CUSTOMER_KEY_BASE64") {
            if let Some(key) = b64
                .decode(value)
                .ok()
                .and_then(|k| String::from_utf8(k).ok())
            {
                out.push(key);
            }
        }
    }
    if upper.ends_with("HEADERS") {
        // A backend's `headers` option: "Name,value,Name,value" (CSV).
        out.push(value.to_string());
        out.extend(
            value
                .split(',')
                .skip(1)
                .step_by(2)
                .flat_map(header_value_secrets),
        );
    } else if upper.contains("HEADER") {
        // --header and friends: "Name: value".
        out.push(value.to_string());
        if let Some((_, v)) = value.split_once(':') {
            out.extend(header_value_secrets(v));
        }
    }
    out
}

/// An HTTP header value and, for `Scheme credentials` (`Bearer X`), the
/// credentials alone.
fn header_value_secrets(value: &str) -> Vec<String> {
    let value = value.trim().trim_matches('"');
    let mut out = vec![value.to_string()];
    if let Some((_, credentials)) = value.split_once(' ') {
        out.push(credentials.trim().to_string());
    }
    out
}

/// String values under sensitive keys of a JSON object (an OAuth token's
/// `access_token` and `refresh_token`, a service account's `private_key`).
fn json_secrets(value: &str) -> Vec<String> {
    fn walk(v: &serde_json::Value, sensitive: bool, out: &mut Vec<String>) {
        match v {
            serde_json::Value::String(s) if sensitive => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|i| walk(i, sensitive, out)),
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    walk(v, sensitive || is_sensitive_name(k), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    if value.starts_with('{') {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(value) {
            walk(&v, false, &mut out);
        }
    }
    out
}

/// The values of the secret parameters in the query of a URL in `value`
/// (an Azure SAS URL's `sig=`, a `token=`), as written and
/// percent-decoded: an HTTP client may log the URL with its parameters in
/// another order, so the whole URL would not match.
fn query_secrets(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let Some((_, query)) = value.split_once('?') else {
        return out;
    };
    let query = query.split(['#', ' ', '\'', '"']).next().unwrap_or("");
    for pair in query.split('&') {
        let Some((key, v)) = pair.split_once('=') else {
            continue;
        };
        if v.is_empty() || !(is_sensitive_name(key) || key.eq_ignore_ascii_case("sig")) {
            continue;
        }
        out.push(v.to_string());
        if let Ok(decoded) = percent_decode_str(v).decode_utf8() {
            out.push(decoded.into_owned());
        }
    }
    out
}

/// Byte ranges of the passwords of every `scheme://user:password@host` in
/// `text`.
fn url_password_ranges(text: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = text[from..].find("://") {
        let start = from + i + 3;
        let authority_len = text[start..]
            .find(|c: char| "/?#\"'`<>".contains(c) || c.is_whitespace())
            .unwrap_or(text.len() - start);
        let authority = &text[start..start + authority_len];
        if let Some(at) = authority.rfind('@') {
            if let Some(colon) = authority[..at].find(':') {
                if colon + 1 < at {
                    out.push((start + colon + 1, start + at));
                }
            }
        }
        from = start;
    }
    out
}

/// The passwords of the URLs in `text`, as written and percent-decoded.
fn url_passwords(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (start, end) in url_password_ranges(text) {
        let password = &text[start..end];
        out.push(password.to_string());
        if let Ok(decoded) = percent_decode_str(password).decode_utf8() {
            out.push(decoded.into_owned());
        }
    }
    out
}

/// Whether `text` holds a URL with a password (`scheme://user:password@`).
pub(crate) fn has_url_password(text: &str) -> bool {
    !url_password_ranges(text).is_empty()
}

/// `text` with the password of every URL in it masked, registered or not.
pub(crate) fn mask_url_passwords(text: &str) -> String {
    let ranges: Vec<(usize, usize)> = url_password_ranges(text)
        .into_iter()
        .filter(|&(s, e)| &text[s..e] != MASK)
        .collect();
    super::mask_ranges(text, ranges)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn has(secrets: &[String], s: &str) -> bool {
        secrets.iter().any(|x| x == s)
    }

    #[test]
    fn headers_give_their_values_and_credentials() {
        let s = setting_secrets("RCLONE_HEADER", "Authorization: Bearer tok-123");
        assert!(has(&s, "Authorization: Bearer tok-123"), "{s:?}");
        assert!(has(&s, "Bearer tok-123"), "{s:?}");
        assert!(has(&s, "tok-123"), "{s:?}");
        let s = setting_secrets("RCLONE_WEBDAV_HEADERS", "Cookie,sid=abc123,X-Api,zz-9");
        assert!(has(&s, "sid=abc123") && has(&s, "zz-9"), "{s:?}");
        assert!(!has(&s, "Cookie"), "{s:?}");
    }

    #[test]
    fn urls_give_their_passwords() {
        let s = setting_secrets("RCLONE_CONFIG_DAV_URL", "https://me:p%40ss@dav.example/x");
        assert!(has(&s, "p%40ss") && has(&s, "p@ss"), "{s:?}");
        let s = env_secrets("HTTPS_PROXY", "http://u:proxy-pw@proxy:3128");
        assert_eq!(s, ["proxy-pw", "proxy-pw"]);
        assert!(env_secrets("HOME", "/root").is_empty());
        assert!(setting_secrets("url", "https://dav.example/x").is_empty());
        assert_eq!(
            mask_url_passwords("GET https://me:pw@h/x and ftp://a@b ok"),
            "GET https://me:***@h/x and ftp://a@b ok"
        );
    }

    #[test]
    fn secret_query_parameters_are_secrets_in_any_order() {
        let s = setting_secrets(
            "RCLONE_CONFIG_AZ_SAS_URL",
            "https://a.blob/c?sv=2022&sig=abc%2Bdef&sp=rl",
        );
        assert!(has(&s, "abc%2Bdef") && has(&s, "abc+def"), "{s:?}");
        assert!(!has(&s, "2022") && !has(&s, "rl"), "{s:?}");
        let s = env_secrets("WEBHOOK", "https://h/x?token=t0k3n-9&a=1");
        assert!(has(&s, "t0k3n-9"), "{s:?}");
        assert!(env_secrets("PLAIN", "https://h/x?page=2").is_empty());
    }

    #[test]
    fn config_dump_options_are_settings() {
        add_config_secrets(
            r#"{"dav":{"type":"webdav","bearer_token":"cfg-Tok-6101","url":"https://u:cfg-Pw-6102@h/"}}"#,
        );
        let out = super::super::redact("cfg-Tok-6101 cfg-Pw-6102 webdav");
        assert_eq!(out, "*** *** webdav");
    }

    #[test]
    fn sensitive_names_and_their_other_encodings() {
        let s = setting_secrets(
            "RCLONE_S3_SSE_CUSTOMER_KEY",
            "0123456789abcdef0123456789abcdef",
        );
        assert!(
            has(&s, "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="),
            "{s:?}"
        );
        let s = setting_secrets("sse_customer_key_base64", "c2VjcmV0LWtleS0x");
        assert!(has(&s, "secret-key-1"), "{s:?}");
        let s = setting_secrets(
            "token",
            r#"{"access_token":"at-1","refresh_token":"rt-2","expiry":"x"}"#,
        );
        assert!(has(&s, "at-1") && has(&s, "rt-2") && !has(&s, "x"), "{s:?}");
        assert!(setting_secrets("RCLONE_CONFIG_X_ASK_PASSWORD", "false").is_empty());
        assert!(setting_secrets("RCLONE_SFTP_KEY_FILE", "/k").is_empty());
        assert!(env_secrets("AWS_SECRET_ACCESS_KEY", "aws-s").contains(&"aws-s".to_string()));
        assert!(env_secrets("MY_APP_TOKEN", "t0k3n").contains(&"t0k3n".to_string()));
        assert!(env_secrets("KEYMAP", "us").is_empty());
    }
}
