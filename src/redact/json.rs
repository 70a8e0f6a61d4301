//! Redaction of a JSON document (an rc reply): values under sensitive keys
//! and header lists are masked whole, every other string as text.

use serde_json::Value;

use super::{is_sensitive_name, redact, MASK};

/// `value` with every secret masked: the strings under a sensitive key
/// (`pass`, `secret_access_key`, `token`, ...) or a header key (`header`,
/// `headers`, `header_upload`, ...) replaced by [`MASK`] whatever they hold,
/// and every other string passed through [`redact`].
pub(crate) fn redact_json(value: Value) -> Value {
    walk(value, false)
}

fn walk(value: Value, hide: bool) -> Value {
    match value {
        Value::String(s) if hide && !s.is_empty() => Value::String(MASK.into()),
        Value::String(s) => Value::String(redact(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(|v| walk(v, hide)).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let hide =
                        hide || is_sensitive_name(&k) || k.to_ascii_lowercase().contains("header");
                    let v = walk(v, hide);
                    (k, v)
                })
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn masks_by_key_and_by_value() {
        super::super::add_secret("json-redact-canary-1");
        let v = json!({
            "main": {"Header": ["Authorization: Bearer xyz"], "Timeout": 60},
            "store": {"type": "s3", "secret_access_key": "abc", "pass": "", "url": "https://u:pw@h/"},
            "error": "failed for json-redact-canary-1",
        });
        let out = redact_json(v).to_string();
        for hidden in ["xyz", "abc", ":pw@", "json-redact-canary-1"] {
            assert!(!out.contains(hidden), "{hidden}: {out}");
        }
        assert!(
            out.contains(r#""Timeout":60"#) && out.contains(r#""type":"s3""#),
            "{out}"
        );
        assert!(out.contains(r#""pass":"""#), "{out}");
    }
}
