//! A backup's settings, and their validation into a [`Plan`]. Everything is
//! checked before any database or network I/O; only local files (password
//! and recipients files) are read.

use std::fmt;
use std::path::PathBuf;

use crate::encode::{Codec, Recipients};
use crate::engine::{Connection, Engine, Target};
use crate::error::{Error, Result, Setting};
use crate::naming::NamePattern;
use crate::redact::redact;
use crate::storage::{Remote, RemoteSpec, Sizing};

/// Which databases a backup covers.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Selection {
    /// These databases, one object each.
    Databases(Vec<String>),
    /// Every database of the server in one object (`pg_dumpall`,
    /// `mariadb-dump --all-databases`).
    All,
    /// Every database the user may connect to, each in its own object,
    /// except templates, the server's own schemas and those matching these
    /// names or globs (`*`, `?`, `[...]`).
    Every {
        /// Names or globs of databases to leave out.
        exclude: Vec<String>,
    },
}

/// The settings a [`crate::Backup`] collects; see its methods. Debug output
/// masks the secrets of the remote and of the dump arguments.
pub(crate) struct Options {
    pub engine: Engine,
    pub selection: Selection,
    /// Databases to leave out of a backup of every database, given apart
    /// from the selection so that the order of the calls does not matter.
    pub exclude: Vec<String>,
    pub file_name: Option<String>,
    pub remote: RemoteSpec,
    pub prefix: String,
    pub recipients_text: Option<String>,
    pub recipients_file: Option<PathBuf>,
    pub recipients: Option<Recipients>,
    pub password_file: Option<PathBuf>,
    pub dump_args: Vec<String>,
    pub codec: Codec,
    pub globals: bool,
    pub parallelism: usize,
    pub max_parts: Option<u64>,
    pub set: SetOptions,
}

/// How a database is cut into a parallel backup set (PostgreSQL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SetOptions {
    /// Streams at once; 1 keeps one object per database.
    pub jobs: usize,
    /// Tables larger than this many bytes are cut into page ranges.
    pub split_size: u64,
    /// How long the coordinator waits for each table's lock.
    pub lock_timeout: std::time::Duration,
}

impl Default for SetOptions {
    fn default() -> Self {
        SetOptions {
            jobs: 1,
            split_size: DEFAULT_SPLIT_SIZE,
            lock_timeout: std::time::Duration::from_secs(30),
        }
    }
}

/// Tables larger than this are cut into page ranges by default: 1 GiB.
pub(crate) const DEFAULT_SPLIT_SIZE: u64 = 1 << 30;

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dump_args: Vec<String> = self.dump_args.iter().map(|a| redact(a)).collect();
        f.debug_struct("Options")
            .field("engine", &self.engine)
            .field("selection", &self.selection)
            .field("file_name", &self.file_name)
            .field("remote", &self.remote)
            .field("prefix", &self.prefix)
            .field("recipients_text", &self.recipients_text)
            .field("recipients_file", &self.recipients_file)
            .field("recipients", &self.recipients)
            .field("password_file", &self.password_file)
            .field("dump_args", &dump_args)
            .field("codec", &self.codec)
            .field("globals", &self.globals)
            .field("parallelism", &self.parallelism)
            .field("max_parts", &self.max_parts)
            .field("set", &self.set)
            .finish()
    }
}

impl Options {
    /// Defaults: no databases yet, remote `store`, no prefix, gzip.
    pub(crate) fn new(engine: Engine) -> Options {
        Options {
            engine,
            selection: Selection::Databases(Vec::new()),
            exclude: Vec::new(),
            file_name: None,
            remote: "store".into(),
            prefix: String::new(),
            recipients_text: None,
            recipients_file: None,
            recipients: None,
            password_file: None,
            dump_args: Vec::new(),
            codec: Codec::default(),
            globals: false,
            parallelism: 1,
            max_parts: None,
            set: SetOptions::default(),
        }
    }

    /// Checks every option and resolves files, without database or network I/O.
    pub(crate) fn validate(&mut self) -> Result<Plan> {
        let mut discover = None;
        let mut targets = match &self.selection {
            Selection::All => vec![Target::All],
            Selection::Databases(names) => {
                let names = parse_databases(names)?;
                if names.is_empty() && !self.globals {
                    return Err(Error::config(
                        Setting::Databases,
                        "nothing to back up: name the databases to back up, or select all of them",
                    ));
                }
                names.into_iter().map(Target::Database).collect()
            }
            Selection::Every { exclude } => {
                let all: Vec<String> = exclude.iter().chain(&self.exclude).cloned().collect();
                discover = Some(Exclude::parse(&all)?);
                Vec::new()
            }
        };
        let excluding = self
            .exclude
            .iter()
            .any(|e| e.split(',').any(|p| !p.trim().is_empty()));
        if excluding && !matches!(self.selection, Selection::Every { .. }) {
            return Err(Error::config(
                Setting::Exclude,
                "databases to exclude are for a backup of every database: select every \
                 database, or drop the exclusions",
            ));
        }
        if self.globals {
            if self.selection == Selection::All {
                return Err(Error::config(
                    Setting::Databases,
                    "a whole-server backup holds the globals already: back up globals with \
                     per-database backups only",
                ));
            }
            targets.insert(0, Target::Globals);
        }
        if !(1..=MAX_PARALLELISM).contains(&self.parallelism) {
            return Err(Error::config(
                Setting::Parallelism,
                format!(
                    "{} databases at once is out of range: choose 1 to {MAX_PARALLELISM}",
                    self.parallelism
                ),
            ));
        }
        let set = self.checked_set()?;
        let max_parts = Sizing::checked_max_parts(self.max_parts)?;
        let all = self.selection == Selection::All;
        // A discovery finds any number of databases: `$DB` is needed then.
        let count = if discover.is_some() { 2 } else { targets.len() };
        let pattern = match self.file_name.as_deref().filter(|p| !p.trim().is_empty()) {
            Some(p) => NamePattern::parse(p, count)?,
            None => NamePattern::default_for(all),
        };
        let remote = self.remote.resolve(&self.prefix)?;
        // Recipients that were given but name no one are an error, never
        // plaintext: only a backup that never asked for encryption is plain.
        let from_config = Recipients::from_config(
            self.recipients_text.as_deref(),
            self.recipients_file.as_deref(),
        )?;
        let recipients = match (self.recipients.take(), from_config) {
            (Some(given), Some(more)) => Some(given.merge(more)?),
            (given, more) => given.or(more),
        };
        self.engine.kind().check_dump_args(&self.dump_args)?;
        // An archive the dump tool compresses itself is not compressed twice.
        let archive = self.engine.kind().archive(&self.dump_args);
        let codec = match archive {
            Some((_, true)) => Codec::None,
            _ => self.codec,
        };
        let connection = match &self.password_file {
            Some(path) => Connection::from_password_file(path)?,
            None => Connection::from_env(self.engine)?,
        };
        Ok(Plan {
            engine: self.engine,
            targets,
            discover,
            parallelism: self.parallelism,
            max_parts,
            text_codec: self.codec,
            pattern,
            remote,
            recipients,
            connection,
            dump_args: self.dump_args.clone(),
            codec,
            dump_kind: archive.map_or("sql", |(kind, _)| kind),
            set,
        })
    }

    /// The set options when a set was asked for (more than one job), after
    /// refusing what a set cannot do: MariaDB, a whole-server dump, dump
    /// arguments whose output a set cannot hold, a memory bound beyond
    /// [`MAX_PARALLELISM`] streams.
    fn checked_set(&self) -> Result<Option<SetOptions>> {
        let set = self.set;
        if !(1..=MAX_PARALLELISM).contains(&set.jobs) {
            return Err(Error::config(
                Setting::Jobs,
                format!(
                    "{} jobs is out of range: choose 1 to {MAX_PARALLELISM}",
                    set.jobs
                ),
            ));
        }
        if set.jobs == 1 {
            return Ok(None);
        }
        if self.engine != Engine::Postgres {
            return Err(Error::config(
                Setting::Jobs,
                "parallel backup sets are PostgreSQL-only for now: set the jobs to 1 for                  MariaDB",
            ));
        }
        if self.selection == Selection::All {
            return Err(Error::config(
                Setting::Jobs,
                "a whole-server backup is one pg_dumpall stream: set the jobs to 1, or back up                  each database (with globals) to use parallel sets",
            ));
        }
        let streams = set.jobs * self.parallelism.max(1);
        if streams > MAX_PARALLELISM {
            return Err(Error::config(
                Setting::Jobs,
                format!(
                    "{} databases at once with {} jobs each is {streams} streams, more than                      {MAX_PARALLELISM}: lower the parallelism or the jobs",
                    self.parallelism, set.jobs
                ),
            ));
        }
        if set.split_size < MIN_SPLIT_SIZE {
            return Err(Error::config(
                Setting::SplitSize,
                format!(
                    "a split size of {} bytes is too small: choose at least 1Mi",
                    set.split_size
                ),
            ));
        }
        if set.lock_timeout.is_zero() {
            return Err(Error::config(
                Setting::LockTimeout,
                "a lock timeout of 0 would wait forever: give a duration such as 30s",
            ));
        }
        crate::engine::refuse_set_args(&self.dump_args)?;
        Ok(Some(set))
    }
}

/// The smallest split size: smaller ranges cost more than they gain.
pub(crate) const MIN_SPLIT_SIZE: u64 = 1 << 20;

/// Validated options, ready to run.
#[derive(Debug)]
pub(crate) struct Plan {
    /// Database engine.
    pub engine: Engine,
    /// One dump (and one object) per target; with `discover`, completed by
    /// the run.
    pub targets: Vec<Target>,
    /// Every database is backed up but these: the run lists them.
    pub discover: Option<Exclude>,
    /// How many databases are dumped at once.
    pub parallelism: usize,
    /// The most parts a multipart upload may have.
    pub max_parts: u64,
    /// The codec asked for, which SQL text dumps (globals) keep even when
    /// the databases' own archives are not compressed again.
    pub text_codec: Codec,
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
    /// What the dump is, for object names: `sql`, or an archive kind.
    pub dump_kind: &'static str,
    /// With more than one job: each database is a parallel backup set.
    pub set: Option<SetOptions>,
}

/// The most databases dumped at once.
pub(crate) const MAX_PARALLELISM: usize = 64;

/// Databases left out of a backup of every database: names and globs.
#[derive(Debug, Clone, Default)]
pub(crate) struct Exclude {
    patterns: Vec<glob::Pattern>,
}

impl Exclude {
    /// Parses names and globs (items may hold comma-separated lists).
    pub(crate) fn parse(items: &[String]) -> Result<Exclude> {
        let patterns = items
            .iter()
            .flat_map(|i| i.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                glob::Pattern::new(p).map_err(|e| {
                    Error::config(
                        Setting::Exclude,
                        format!("`{}` is not a name or glob: {e}", p.escape_debug()),
                    )
                })
            })
            .collect::<Result<_>>()?;
        Ok(Exclude { patterns })
    }

    /// Whether database `name` is left out.
    pub(crate) fn excludes(&self, name: &str) -> bool {
        self.patterns.iter().any(|p| p.matches(name))
    }
}

/// Splits and checks database names (items may hold comma-separated lists).
fn parse_databases(items: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for item in items.iter().flat_map(|i| i.split(',')) {
        let name = item.trim();
        if name.is_empty() {
            continue;
        }
        if name.contains('\0') {
            return Err(Error::config(
                Setting::Databases,
                "a database name contains a NUL byte",
            ));
        }
        if out.iter().any(|n| n == name) {
            return Err(Error::config(
                Setting::Databases,
                format!("database `{name}` is named twice: list each database once"),
            ));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
