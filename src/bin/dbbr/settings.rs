//! The command line's names for the library's settings: configuration
//! errors are shown with the environment variable (and flag) to fix. And
//! what every command prints on stdout passes through the secrets' masking
//! here, a second line of defence behind the library's own care.

use std::ffi::OsStr;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};
use dbbr::{Engine, Error, Result, Setting};

/// The variables that set `setting` on the command line, with the fix.
fn hint(setting: Setting, engine: Option<Engine>) -> Option<&'static str> {
    Some(match setting {
        Setting::Databases => {
            "set BACKUP_DATABASES (comma separated, or * for every database) or BACKUP_ALL=true"
        }
        Setting::Exclude => "check BACKUP_EXCLUDE",
        Setting::Parallelism => "check BACKUP_PARALLELISM",
        Setting::UploadParts => "check UPLOAD_MAX_PARTS",
        Setting::Jobs => "check BACKUP_JOBS",
        Setting::SplitSize => "check BACKUP_SPLIT_SIZE",
        Setting::LockTimeout => "check BACKUP_LOCK_TIMEOUT",
        Setting::FileName => "check BACKUP_FILE_NAME",
        Setting::Remote => "check REMOTE_NAME",
        Setting::Storage => "check the RCLONE_* settings",
        Setting::Recipients => "check ENCRYPT_RECIPIENTS",
        Setting::RecipientsFile => "check ENCRYPT_RECIPIENTS_FILE",
        Setting::PasswordFile => match engine {
            Some(Engine::MariaDb) => "check MYSQL_PWD_FILE",
            _ => "check PGPASSWORD_FILE",
        },
        Setting::IdentityFile => "check ENCRYPT_IDENTITY_FILE",
        Setting::Retention => "check the BACKUP_KEEP_* settings",
        Setting::DumpArgs | Setting::ClientArgs => "check the arguments after --",
        Setting::DumpTool => "check PATH",
        Setting::Compression => "check COMPRESSION and COMPRESSION_LEVEL",
        _ => return None,
    })
}

/// The error as the command line shows it: a configuration error names the
/// variable that set the value at fault.
pub fn message(e: &Error, engine: Option<Engine>) -> String {
    match e.setting().and_then(|s| hint(s, engine)) {
        Some(hint) => format!("{e} ({hint})"),
        None => e.to_string(),
    }
}

/// A value parser that refuses a value that is not UTF-8 with a message
/// naming the setting (its variable and flag), then parses it with `P`.
/// (clap's own message names neither.)
#[derive(Clone)]
pub struct Utf8<P>(pub P);

/// Text that must be UTF-8.
pub fn text() -> Utf8<StringValueParser> {
    Utf8(StringValueParser::new())
}

impl<P: TypedValueParser> TypedValueParser for Utf8<P> {
    type Value = P::Value;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> std::result::Result<Self::Value, clap::Error> {
        if value.to_str().is_none() {
            let name = arg.map_or_else(|| "a value".to_string(), setting_name);
            return Err(clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                format!("{name} is not valid UTF-8: give it as UTF-8 text\n"),
            )
            .with_cmd(cmd));
        }
        self.0.parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        self.0.possible_values()
    }
}

/// How an argument is named in messages: `VARIABLE (--flag)`, `--flag`, or
/// its value name for a positional argument.
fn setting_name(arg: &clap::Arg) -> String {
    let flag = arg.get_long().map(|l| format!("--{l}"));
    let env = arg.get_env().map(|e| e.to_string_lossy().into_owned());
    match (env, flag) {
        (Some(env), Some(flag)) => format!("{env} ({flag})"),
        (None, Some(flag)) => flag,
        (Some(env), None) => env,
        (None, None) => arg.get_id().as_str().to_uppercase(),
    }
}

/// `true`/`false` and the usual spellings (`1`, `yes`, `on`, ...).
pub fn parse_bool(v: &str) -> std::result::Result<bool, String> {
    match v.trim().to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "" | "0" | "false" | "no" | "off" => Ok(false),
        other => Err(format!("`{other}` is not true or false")),
    }
}

/// Refuses an empty or blank name given with `flag` (a database, an object,
/// a path): it would select nothing, or everything. (A backup trims the
/// names it is given, so no backup has a blank name.)
pub fn name_given(flag: &str, value: &str) -> Result<()> {
    if value.trim().is_empty() {
        return Err(Error::config(
            Setting::Selection,
            format!("{flag} is empty: give a name"),
        ));
    }
    Ok(())
}

/// `text` with every secret dbbr knows masked, for stdout.
pub fn masked(text: &str) -> String {
    dbbr::redact(text)
}

/// A JSON document with every string in it (keys included) masked, so
/// that it stays valid JSON whatever a secret holds.
pub fn masked_json(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(masked(&s)),
        Value::Array(items) => Value::Array(items.into_iter().map(masked_json).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (masked(&k), masked_json(v)))
                .collect(),
        ),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(backup: dbbr::Backup, engine: Engine) -> String {
        message(&backup.run().unwrap_err(), Some(engine))
    }

    fn pg() -> dbbr::Backup {
        dbbr::Backup::new(Engine::Postgres).remote(":local:/nonexistent")
    }

    #[test]
    fn configuration_errors_name_the_variables() {
        let msg = rejected(pg(), Engine::Postgres);
        assert!(
            msg.starts_with("nothing to back up")
                && msg.contains("BACKUP_DATABASES")
                && msg.contains("BACKUP_ALL"),
            "{msg}"
        );
        let msg = rejected(pg().databases(["a,b"]).file_name("x-%Y"), Engine::Postgres);
        assert!(
            msg.contains("$DB") && msg.ends_with("(check BACKUP_FILE_NAME)"),
            "{msg}"
        );
        let msg = rejected(
            pg().databases(["a"]).password_file("/nonexistent/pw"),
            Engine::Postgres,
        );
        assert!(msg.contains("PGPASSWORD_FILE"), "{msg}");
        let msg = rejected(
            dbbr::Backup::new(Engine::MariaDb)
                .remote(":local:/nonexistent")
                .databases(["a"])
                .password_file("/nonexistent/pw"),
            Engine::MariaDb,
        );
        assert!(msg.contains("MYSQL_PWD_FILE"), "{msg}");
        let msg = rejected(
            pg().databases(["a"]).recipients("not-a-key"),
            Engine::Postgres,
        );
        assert!(msg.contains("ENCRYPT_RECIPIENTS"), "{msg}");
        let msg = rejected(pg().databases(["a"]).remote(""), Engine::Postgres);
        assert!(msg.contains("REMOTE_NAME"), "{msg}");
    }

    #[test]
    fn output_is_masked_and_json_stays_json() {
        dbbr::add_secret(r#"out"put-Secret-\71"#);
        assert_eq!(masked(r#"a out"put-Secret-\71 b"#), "a *** b");
        let doc = serde_json::json!({
            "detail": r#"in out"put-Secret-\71"#,
            "n": 3,
            "list": [r#"out"put-Secret-\71"#, null],
        });
        let out = masked_json(doc).to_string();
        assert!(!out.contains("put-Secret"), "{out}");
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back["detail"], "in ***");
        assert_eq!(back["n"], 3);
    }

    #[test]
    fn other_errors_are_shown_as_they_are() {
        assert_eq!(
            message(&Error::Interrupted, None),
            Error::Interrupted.to_string()
        );
    }
}
