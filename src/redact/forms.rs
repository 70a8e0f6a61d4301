//! The forms a secret takes in rclone's and the database tools' output: as
//! it is, quoted the way Go quotes (`%q`, also inside JSON), escaped in JSON
//! (by Go or by serde), and percent-encoded as Go's `net/url` encodes a
//! query, a path segment or a URL's user information.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// What `url.QueryEscape` leaves alone (a space becomes `+`).
const QUERY: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

/// What `url.PathEscape` leaves alone.
const PATH_SEGMENT: &AsciiSet = &QUERY
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b':')
    .remove(b'=')
    .remove(b'@');

/// What `url.UserPassword(..).String()` leaves alone.
const USER_INFO: &AsciiSet = &QUERY
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b',')
    .remove(b';')
    .remove(b'=');

/// Every distinct form of `secret` to mask.
pub(super) fn forms(secret: &str) -> Vec<String> {
    let quoted = [go_quote(secret, false), go_quote(secret, true)];
    let mut out = vec![
        secret.to_string(),
        json_escape(secret, false),
        json_escape(secret, true),
    ];
    for q in &quoted {
        out.push(q.clone());
        out.push(json_escape(q, false));
        out.push(json_escape(q, true));
        out.push(go_quote(q, false));
    }
    let go_json = json_escape(secret, true);
    out.push(go_quote(&go_json, false));
    out.push(json_escape(&go_json, true));
    out.push(utf8_percent_encode(secret, QUERY).to_string());
    out.push(
        utf8_percent_encode(secret, QUERY)
            .to_string()
            .replace("%20", "+"),
    );
    out.push(utf8_percent_encode(secret, PATH_SEGMENT).to_string());
    out.push(utf8_percent_encode(secret, USER_INFO).to_string());
    let mut distinct: Vec<String> = Vec::with_capacity(out.len());
    for form in out {
        if !distinct.contains(&form) {
            distinct.push(form);
        }
    }
    distinct
}

/// `s` as Go's `strconv.Quote` (or `QuoteToASCII`) writes it, without the
/// surrounding quotes.
fn go_quote(s: &str, ascii: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_ascii() || (!ascii && !c.is_control()) => out.push(c),
            c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push_str(&format!("\\U{:08x}", c as u32)),
        }
    }
    out
}

/// `s` as a JSON string's content, escaped as serde does or, with `go`, as
/// Go's `encoding/json` does (which also escapes `<`, `>`, `&`, U+2028 and
/// U+2029).
fn json_escape(s: &str, go: bool) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' if go => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_quoting_matches_go() {
        // strconv.Quote("a\\b\"c\td\x01é") == `"a\\b\"c\td\x01é"`
        assert_eq!(go_quote("a\\b\"c\td\u{1}é", false), r#"a\\b\"c\td\x01é"#);
        assert_eq!(go_quote("é", true), r"\u00e9");
    }

    #[test]
    fn json_escaping_matches_serde_and_go() {
        let s = "a\\b\"<&\u{1}";
        let serde = serde_json::to_string(s).unwrap();
        assert_eq!(format!("\"{}\"", json_escape(s, false)), serde);
        assert_eq!(json_escape(s, true), r#"a\\b\"\u003c\u0026\u0001"#);
    }

    #[test]
    fn percent_forms() {
        let f = forms("p@ss w/rd:$");
        assert!(f.contains(&"p%40ss%20w%2Frd%3A%24".to_string()), "{f:?}");
        assert!(f.contains(&"p%40ss+w%2Frd%3A%24".to_string()), "{f:?}");
        assert!(f.contains(&"p@ss%20w%2Frd:$".to_string()), "{f:?}");
        assert!(f.contains(&"p%40ss%20w%2Frd%3A$".to_string()), "{f:?}");
    }
}
