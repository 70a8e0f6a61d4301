//! Tests of masking by value: forms, short secrets, merging.

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

#[test]
fn masks_quoted_and_escaped_forms() {
    let secret = r#"q\uo"te-d$!' :9"#;
    add_secret(secret);
    let go_quoted = r#"open "q\\uo\"te-d$!' :9": denied"#;
    assert_eq!(redact(go_quoted), r#"open "***": denied"#);
    let json = serde_json::json!({ "pass": secret }).to_string();
    assert_eq!(redact(&json), r#"{"pass":"***"}"#);
    // Go's %q of a JSON document holding it (an rc error echoing input).
    let nested = format!("{:?}", json);
    assert!(!redact(&nested).contains("te-d"), "{}", redact(&nested));
    let encoded = "https://u:q%5Cuo%22te-d%24%21%27%20%3A9@host/";
    assert_eq!(redact(encoded), "https://u:***@host/");
    let query = "?key=q%5Cuo%22te-d%24%21%27+%3A9&x=1";
    assert_eq!(redact(query), "?key=***&x=1");
}

#[test]
fn short_secrets_are_masked_only_as_whole_tokens() {
    // Registered secrets are process-wide: an unlikely pair of letters
    // keeps the other tests' messages as they are.
    add_secret("xj");
    assert_eq!(
        redact("fixjob failed: xj refused"),
        "fixjob failed: *** refused"
    );
    assert_eq!(redact("password=xj;"), "password=***;");
    assert_eq!(redact(r#"PGPASSWORD="xj""#), r#"PGPASSWORD="***""#);
    assert_eq!(redact("xj_1 1xj"), "xj_1 1xj");
    // A short secret that begins and ends with punctuation is masked
    // wherever it is.
    add_secret("%^");
    assert_eq!(redact("ab%^cd"), "ab***cd");
    // Long ones are masked inside words too.
    add_secret("LongSecret99");
    assert_eq!(redact("xLongSecret99y"), "x***y");
}

#[test]
fn overlapping_secrets_are_masked_as_one() {
    add_secret("abc-overlap-def");
    add_secret("overlap-def-ghi");
    assert_eq!(redact("<abc-overlap-def-ghi>"), "<***>");
}

#[test]
fn one_character_values_are_not_secrets() {
    add_secret("z");
    assert_eq!(redact("z z"), "z z");
}
