//! The command line's names for the library's settings: configuration
//! errors are shown with the environment variable (and flag) to fix.

use dbbr::{Engine, Error, Setting};

/// The variables that set `setting` on the command line, with the fix.
fn hint(setting: Setting, engine: Option<Engine>) -> Option<&'static str> {
    Some(match setting {
        Setting::Databases => {
            "set BACKUP_DATABASES (comma separated, or * for every database) or BACKUP_ALL=true"
        }
        Setting::Exclude => "check BACKUP_EXCLUDE",
        Setting::Parallelism => "check BACKUP_PARALLELISM",
        Setting::UploadParts => "check UPLOAD_MAX_PARTS",
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
    fn other_errors_are_shown_as_they_are() {
        assert_eq!(
            message(&Error::Interrupted, None),
            Error::Interrupted.to_string()
        );
    }
}
