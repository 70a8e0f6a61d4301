//! The backup contract as typed options, and its validation. Everything here
//! is checked before any database or network I/O; only local files (password
//! and recipients files) are read.

use std::path::PathBuf;

use crate::dump::{Connection, Engine, Target};
use crate::encode::{Codec, Recipients};
use crate::error::{Error, Result};
use crate::naming::NamePattern;
use crate::remote::Remote;

/// What to back up and where: the same settings as the container images'
/// environment variables (named in each field's doc).
#[derive(Debug, Clone)]
pub struct BackupOptions {
    /// Database engine.
    pub engine: Engine,
    /// `BACKUP_DATABASES`: databases to dump, one file each.
    pub databases: Vec<String>,
    /// `BACKUP_ALL`: dump every database into one file instead.
    pub all: bool,
    /// `BACKUP_FILE_NAME`: the object name pattern (default per mode).
    pub file_name: Option<String>,
    /// `REMOTE_NAME`: rclone remote name, `name:path` or connection string.
    pub remote_name: String,
    /// `UPLOAD_PREFIX`: path prepended to every object.
    pub upload_prefix: String,
    /// `ENCRYPT_RECIPIENTS`: age recipients given inline.
    pub encrypt_recipients: Option<String>,
    /// `ENCRYPT_RECIPIENTS_FILE`: an age recipients file.
    pub encrypt_recipients_file: Option<PathBuf>,
    /// `PGPASSWORD_FILE` / `MYSQL_PWD_FILE`: read the password from this file.
    pub password_file: Option<PathBuf>,
    /// Arguments passed unchanged to the dump tool.
    pub dump_args: Vec<String>,
    /// Compression.
    pub codec: Codec,
}

impl BackupOptions {
    /// Defaults: no databases yet, remote `store`, no prefix, gzip.
    pub fn new(engine: Engine) -> BackupOptions {
        BackupOptions {
            engine,
            databases: Vec::new(),
            all: false,
            file_name: None,
            remote_name: "store".into(),
            upload_prefix: String::new(),
            encrypt_recipients: None,
            encrypt_recipients_file: None,
            password_file: None,
            dump_args: Vec::new(),
            codec: Codec::default(),
        }
    }

    /// Checks every option and resolves files, without database or network I/O.
    pub fn validate(&self) -> Result<Plan> {
        let databases = parse_databases(&self.databases)?;
        let targets =
            match (self.all, databases.is_empty()) {
                (true, true) => vec![Target::All],
                (false, false) => databases.into_iter().map(Target::Database).collect(),
                (true, false) => {
                    return Err(Error::Config(
                        "BACKUP_ALL and BACKUP_DATABASES are both set: set only one of them".into(),
                    ))
                }
                (false, true) => return Err(Error::Config(
                    "nothing to back up: set BACKUP_DATABASES (comma separated) or BACKUP_ALL=true"
                        .into(),
                )),
            };
        let pattern = match self.file_name.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => NamePattern::parse(p, targets.len())?,
            None => NamePattern::default_for(self.all),
        };
        let remote = Remote::parse(&self.remote_name)?.with_prefix(&self.upload_prefix);
        let recipients = Recipients::from_config(
            self.encrypt_recipients
                .as_deref()
                .filter(|r| !r.trim().is_empty()),
            self.encrypt_recipients_file.as_deref(),
        )?;
        let connection = match &self.password_file {
            Some(path) => Connection::from_password_file(self.engine, path)?,
            None => Connection::from_env(self.engine)?,
        };
        Ok(Plan {
            engine: self.engine,
            targets,
            pattern,
            remote,
            recipients,
            connection,
            dump_args: self.dump_args.clone(),
            codec: self.codec,
        })
    }
}

/// Validated options, ready to run.
#[derive(Debug)]
pub struct Plan {
    /// Database engine.
    pub engine: Engine,
    /// One dump (and one object) per target.
    pub targets: Vec<Target>,
    /// Object name pattern.
    pub pattern: NamePattern,
    /// Destination.
    pub remote: Remote,
    /// Encryption recipients, if encrypting.
    pub recipients: Option<Recipients>,
    /// Password for the dump tool, if given by file.
    pub connection: Connection,
    /// Extra dump tool arguments.
    pub dump_args: Vec<String>,
    /// Compression.
    pub codec: Codec,
}

/// Splits and checks database names (the items of `BACKUP_DATABASES`).
fn parse_databases(items: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in items.iter().flat_map(|i| i.split(',')) {
        let name = item.trim();
        if name.is_empty() {
            continue;
        }
        if name.contains('\0') {
            return Err(Error::Config("BACKUP_DATABASES contains a NUL byte".into()));
        }
        if out.iter().any(|n| n == name) {
            return Err(Error::Config(format!(
                "BACKUP_DATABASES names `{name}` twice: list each database once"
            )));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> BackupOptions {
        let mut o = BackupOptions::new(Engine::Postgres);
        o.remote_name = ":local:/tmp".into();
        o
    }

    fn config_error(o: &BackupOptions) -> String {
        match o.validate() {
            Err(Error::Config(m)) => m,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    #[test]
    fn databases_are_split_on_commas_and_trimmed() {
        let mut o = options();
        o.databases = vec![" app , billing,,".into()];
        o.file_name = Some("$DB".into());
        let plan = o.validate().unwrap();
        assert_eq!(
            plan.targets,
            vec![
                Target::Database("app".into()),
                Target::Database("billing".into())
            ]
        );
    }

    #[test]
    fn nothing_to_back_up_is_rejected() {
        let msg = config_error(&options());
        assert!(
            msg.contains("BACKUP_DATABASES") && msg.contains("BACKUP_ALL"),
            "{msg}"
        );
    }

    #[test]
    fn all_and_databases_together_are_rejected() {
        let mut o = options();
        o.all = true;
        o.databases = vec!["app".into()];
        assert!(config_error(&o).contains("both set"));
    }

    #[test]
    fn duplicate_database_is_rejected() {
        let mut o = options();
        o.databases = vec!["a,a".into()];
        assert!(config_error(&o).contains("twice"));
    }

    #[test]
    fn several_databases_need_db_in_the_name() {
        let mut o = options();
        o.databases = vec!["a,b".into()];
        o.file_name = Some("backup-%Y".into());
        assert!(config_error(&o).contains("$DB"));
    }

    #[test]
    fn all_mode_gets_its_default_pattern() {
        let mut o = options();
        o.all = true;
        let plan = o.validate().unwrap();
        assert_eq!(plan.targets, vec![Target::All]);
        assert!(plan.pattern.as_str().starts_with("all_"));
    }

    #[test]
    fn empty_recipients_file_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("empty.txt");
        std::fs::write(&file, "# nothing here\n").unwrap();
        let mut o = options();
        o.databases = vec!["app".into()];
        o.encrypt_recipients_file = Some(file);
        assert!(config_error(&o).contains("no recipient"));
    }

    #[test]
    fn missing_password_file_is_rejected() {
        let mut o = options();
        o.databases = vec!["app".into()];
        o.password_file = Some("/nonexistent/pw".into());
        assert!(config_error(&o).contains("PGPASSWORD_FILE"));
    }

    #[test]
    fn bad_remote_is_rejected() {
        let mut o = options();
        o.databases = vec!["app".into()];
        o.remote_name = ":s3,no-colon-end".into();
        assert!(config_error(&o).contains("connection string"));
    }
}
