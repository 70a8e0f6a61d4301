//! Restores a backup, from storage alone: the manifest says engine, kind,
//! format, codec and encryption. The way back streams `download -> sha256
//! check -> age -> decompress -> client stdin`, with no temporary file, and
//! keeps the backup's rule: end of input is not success.
//!
//! The client commits only when dbbr says so. A PostgreSQL restore into a
//! database is one transaction whose `COMMIT` dbbr writes once the whole
//! backup has been read and checked (see `pg_script`), so a failure, a
//! signal or a killed dbbr leaves the target as it was; a new database is
//! restored under a temporary name and renamed into place at the end.
//! MariaDB cannot roll DDL back: its restore is verified in full first, goes
//! into a staging database, and its tables are moved into the target with
//! one atomic `RENAME TABLE` at the end (a backup holding views, triggers,
//! routines or events, which cannot move, is refused). Restores into the
//! server (whole-server and globals backups) cannot be undone: they are
//! verified in full first.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, StoredBackup, Which};
use crate::encode::Identities;
use crate::engine::{Connection, DatabaseKind, Destination, Engine};
use crate::error::{Error, Result, Setting};
use crate::manifest::Kind;
use crate::report::{NoProgress, Progress};
use crate::storage::{Remote, RemoteSpec};
use crate::stored::Opened;

mod archive;
mod client;
mod commit_check;
mod into_database;
mod pg_script;
mod post_data;
mod pump;
mod retarget;
mod roles;
mod selection;
mod set;
mod stream;
mod unmovable;

use roles::ExistingRoles;
use selection::globals_of;

/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// How often a blocked restore looks at its cancel flag.
const CANCEL_POLL: Duration = Duration::from_millis(100);

/// Where the backup goes.
enum Sink {
    Database(String),
    Server,
    /// Behind a lock so that a restore's settings can be shared by the
    /// threads of a set restore.
    Writer(std::sync::Mutex<Box<dyn Write + Send>>),
}

/// A restore, configured with chained calls and started with
/// [`run`](Restore::run). Settings are kept as given; [`run`](Restore::run)
/// checks how they combine before any I/O.
///
/// ```no_run
/// let done = dbbr::Restore::latest("app")
///     .remote("store")
///     .to_database("app_restored")
///     .create(true)
///     .run()?;
/// println!("{} bytes restored from {}", done.raw_bytes, done.object);
/// # Ok::<(), dbbr::Error>(())
/// ```
pub struct Restore {
    source: Which,
    sink: Option<Sink>,
    before: Option<DateTime<Utc>>,
    create: bool,
    force: bool,
    engine: Option<Engine>,
    remote: RemoteSpec,
    prefix: String,
    identity_file: Option<PathBuf>,
    identities: Option<Arc<Identities>>,
    password_file: Option<PathBuf>,
    client_args: Vec<String>,
    verify_first: Option<bool>,
    with_globals: bool,
    progress: Arc<dyn Progress>,
    cancel: Arc<AtomicBool>,
    /// A drill into a scratch database that dbbr made and drops: no
    /// staging needed, and nothing to move.
    scratch: bool,
    /// How many parts of a set restore at once (default: as many as the
    /// backup streamed).
    jobs: Option<usize>,
}

/// What a restore did.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Restored {
    /// The backup's data object.
    pub object: String,
    /// The database the backup is of (`all` for a whole server).
    pub database: String,
    /// Bytes of the plain dump replayed.
    pub raw_bytes: u64,
    /// Bytes read from storage.
    pub stored_bytes: u64,
    /// Whether the backup was verified in full before the client ran.
    pub verified_first: bool,
    /// Wall time.
    pub elapsed: Duration,
}

impl Restore {
    /// Restores the backup stored as `object` (or its manifest's name).
    pub fn object(object: impl Into<String>) -> Restore {
        Restore::new(Which::Objects(vec![object.into()]))
    }

    /// Restores the newest intact backup of `database` (for a server-wide
    /// backup: `all`, or `globals`).
    pub fn latest(database: impl Into<String>) -> Restore {
        Restore::new(Which::Latest(database.into()))
    }

    /// Restores the backup `which` names: one object, or the newest intact
    /// backup of a database ([`run`](Restore::run) refuses any other
    /// selection).
    pub fn new(source: Which) -> Restore {
        Restore {
            source,
            sink: None,
            before: None,
            create: false,
            force: false,
            engine: None,
            remote: "store".into(),
            prefix: String::new(),
            identity_file: None,
            identities: None,
            password_file: None,
            client_args: Vec::new(),
            verify_first: None,
            with_globals: false,
            progress: Arc::new(NoProgress),
            cancel: Arc::new(AtomicBool::new(false)),
            scratch: false,
            jobs: None,
        }
    }

    /// For a parallel backup set: restore up to `n` parts at once, and
    /// build its indexes and constraints `n` at a time (default: as many
    /// as the backup streamed). A backup of one object restores as one
    /// stream whatever `n`, with a warning when `n` > 1.
    pub fn jobs(mut self, n: usize) -> Restore {
        self.jobs = Some(n);
        self
    }

    /// With [`Restore::latest`]: the newest backup that started before
    /// `time` (with [`Restore::object`], [`run`](Restore::run) refuses it).
    pub fn before(mut self, time: DateTime<Utc>) -> Restore {
        self.before = Some(time);
        self
    }

    /// Only a backup of this engine: needed with [`Restore::latest`] when
    /// the database has backups of several engines.
    pub fn engine(mut self, engine: Engine) -> Restore {
        self.engine = Some(engine);
        self
    }

    /// rclone remote name, `name:path` or connection string, or a
    /// [`Remote`]. Default `store`.
    pub fn remote(mut self, remote: impl Into<RemoteSpec>) -> Restore {
        self.remote = remote.into();
        self
    }

    /// Path below the remote where the backups are.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Restore {
        self.prefix = prefix.into();
        self
    }

    /// Restore into database `name`: it must exist and have no tables,
    /// unless [`create`](Restore::create) / [`force`](Restore::force).
    pub fn to_database(mut self, name: impl Into<String>) -> Restore {
        self.sink = Some(Sink::Database(name.into()));
        self
    }

    /// With [`to_database`](Restore::to_database): create the target
    /// database if it does not exist. It appears only when the restore has
    /// succeeded: the restore goes into a database of a temporary name
    /// (dropped on failure) that is put in place at the end.
    pub fn create(mut self, yes: bool) -> Restore {
        self.create = yes;
        self
    }

    /// With [`to_database`](Restore::to_database): restore into a database
    /// that already has tables. The backup's objects are added in one
    /// all-or-nothing step; one that exists already fails the restore
    /// (unless the dump drops it first, as `pg_dump --clean` dumps do), and
    /// the target is left as it was. The same on both engines.
    pub fn force(mut self, yes: bool) -> Restore {
        self.force = yes;
        self
    }

    /// Restore a whole-server or globals backup into the server.
    pub fn to_server(mut self) -> Restore {
        self.sink = Some(Sink::Server);
        self
    }

    /// Write the plain dump to `out` instead of running a client.
    pub fn to_writer(mut self, out: impl Write + Send + 'static) -> Restore {
        self.sink = Some(Sink::Writer(std::sync::Mutex::new(Box::new(out))));
        self
    }

    /// The age identity file (or ssh private key) that decrypts the backup.
    pub fn identity_file(mut self, path: impl Into<PathBuf>) -> Restore {
        self.identity_file = Some(path.into());
        self
    }

    /// Identities already loaded (e.g. after asking for a passphrase).
    pub fn identities(mut self, identities: impl Into<Arc<Identities>>) -> Restore {
        self.identities = Some(identities.into());
        self
    }

    /// Read the database password from a file.
    pub fn password_file(mut self, path: impl Into<PathBuf>) -> Restore {
        self.password_file = Some(path.into());
        self
    }

    /// Arguments for the restore client: its options that say how to
    /// connect (`-h`, `-p`, `-U`; MariaDB's `--user`, `--host`, option
    /// files, ...) apply to every connection the restore makes; options that
    /// would send the restore elsewhere (another database, another input,
    /// a transaction of its own) are refused.
    pub fn client_args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Restore {
        self.client_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Whether to verify the whole backup before the client runs. Default:
    /// yes where the client cannot roll back (MariaDB, and restores into the
    /// server), no elsewhere.
    pub fn verify_first(mut self, yes: bool) -> Restore {
        self.verify_first = Some(yes);
        self
    }

    /// Where progress goes.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Restore {
        self.progress = progress;
        self
    }

    /// A flag that, once set, stops the restore (the client is killed
    /// before it commits, what the restore created is dropped).
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Restore {
        self.cancel = flag;
        self
    }

    /// Before restoring into a database, replay the globals backup (roles
    /// and tablespaces, or MariaDB's users and grants) that the backup's
    /// run wrote, so that the owners and grants the dump names exist. Roles
    /// already on the server are kept and given the backup's attributes.
    pub fn with_globals(mut self, yes: bool) -> Restore {
        self.with_globals = yes;
        self
    }

    /// Finds the backup, checks the target, and restores.
    ///
    /// [`Error::Config`] means nothing was changed (bad settings, an
    /// encrypted backup without identities, a target that is not empty, a
    /// backup that cannot be restored all-or-nothing).
    pub fn run(mut self) -> Result<Restored> {
        let sink = self.take_sink()?;
        self.check_settings(&sink)?;
        let remote = self.remote.resolve(&self.prefix)?;
        let identities = self.take_identities()?;
        remote.check()?;
        let catalog = Catalog::read(&remote)?;
        let backup = self.select(&catalog, &sink)?.clone();
        if self.with_globals {
            let globals = globals_of(&catalog, &backup)?.clone();
            tracing::info!(
                "replaying the globals of the same run, {}, first",
                globals.object()
            );
            self.restore(Sink::Server, &remote, &globals, identities.clone())?;
        }
        self.restore(sink, &remote, &backup, identities)
    }

    /// Restores `backup`, already found (and intact) in `remote`'s catalog,
    /// into a scratch database that the caller made: the restore drill of
    /// [`crate::Verify`].
    pub(crate) fn run_drill(mut self, remote: &Remote, backup: &StoredBackup) -> Result<Restored> {
        self.scratch = true;
        let sink = self.take_sink()?;
        self.check_settings(&sink)?;
        let identities = self.take_identities()?;
        self.restore(sink, remote, backup, identities)
    }

    fn take_sink(&mut self) -> Result<Sink> {
        self.sink.take().ok_or_else(|| {
            Error::config(
                Setting::Selection,
                "say where to restore: into a database, into the server, or to a writer",
            )
        })
    }

    fn take_identities(&mut self) -> Result<Option<Arc<Identities>>> {
        Identities::given_or_read(self.identities.take(), self.identity_file.as_deref())
    }

    fn restore(
        &self,
        sink: Sink,
        remote: &Remote,
        backup: &StoredBackup,
        identities: Option<Arc<Identities>>,
    ) -> Result<Restored> {
        let manifest = &backup.manifest;
        let object = backup.object();
        if manifest.encrypted && identities.is_none() {
            return Err(Error::config(
                Setting::IdentityFile,
                format!("{object} is encrypted: give the identity file that decrypts it"),
            ));
        }
        let opened = Opened::new(remote, backup)?;
        let engine = opened.engine;
        if let Some(wanted) = self.engine.filter(|e| *e != engine) {
            return Err(Error::config(
                Setting::Selection,
                format!(
                    "{object} is a {} backup, not {}: name a backup of that engine",
                    engine.name(),
                    wanted.name()
                ),
            ));
        }
        let kind = manifest.kind();
        match (&sink, kind) {
            (Sink::Database(_), Kind::Globals) => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "{object} holds the server's globals (roles, users, grants): restore \
                         it into the server"
                    ),
                ))
            }
            (Sink::Database(_), Kind::Server) => {
                return Err(Error::config(
                    Setting::Selection,
                    format!("{object} is a whole-server backup: restore it into the server"),
                ))
            }
            (Sink::Server, Kind::Database | Kind::Set) => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "{object} is a backup of one database: name a database to restore it into"
                    ),
                ))
            }
            _ => {}
        }
        self.check_client_args(Some((engine, manifest.is_archive())))?;
        let connection = opened
            .connect(self.password_file.as_deref())?
            .with_args(&self.client_args);
        let ctx = Context {
            restore: self,
            opened,
            identities: identities.as_deref(),
            connection,
        };
        let clock = Instant::now();
        let (raw_bytes, stored_bytes, verified_first) = ctx.run(sink)?;
        Ok(Restored {
            object: object.to_string(),
            database: manifest.database.clone(),
            raw_bytes,
            stored_bytes,
            verified_first,
            elapsed: clock.elapsed(),
        })
    }
}

/// One restore, resolved.
struct Context<'a> {
    restore: &'a Restore,
    opened: Opened<'a>,
    identities: Option<&'a Identities>,
    connection: Connection,
}

/// Totals of a restore: plain bytes replayed, bytes read, and whether the
/// backup was verified in full first.
type Totals = (u64, u64, bool);

impl Context<'_> {
    fn kind(&self) -> &'static dyn DatabaseKind {
        self.opened.engine.kind()
    }

    fn run(&self, sink: Sink) -> Result<Totals> {
        if self.opened.backup.kind() == Kind::Set {
            return self.run_set(sink);
        }
        if let Some(jobs) = self.restore.jobs.filter(|j| *j > 1) {
            tracing::warn!(
                "{}: one object restores as one stream; jobs ({jobs}) apply to parallel \
                 backup sets only",
                self.opened.backup.object()
            );
        }
        match sink {
            Sink::Writer(out) => {
                let out = out.into_inner().unwrap_or_else(|e| e.into_inner());
                let (raw, stored) = self.stream(Box::new(out))?;
                Ok((raw, stored, false))
            }
            Sink::Server => {
                // Nothing to roll back into the server: verify first.
                let verify = self.restore.verify_first.unwrap_or(true);
                if verify {
                    self.verify_whole()?;
                }
                let client = self.client(Destination::Server)?;
                let (raw, stored) = self.stream(client)?;
                Ok((raw, stored, verify))
            }
            Sink::Database(name) => self.to_database(&name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_restore_reads_exactly_one_backup() {
        for which in [
            Which::All,
            Which::Objects(vec![]),
            Which::Objects(vec!["a.sql.gz".into(), "b.sql.gz".into()]),
        ] {
            let err = Restore::new(which.clone())
                .remote(":local:/nonexistent-dbbr-remote")
                .to_writer(Vec::new())
                .run()
                .unwrap_err();
            assert_eq!(err.setting(), Some(Setting::Selection), "{which:?}: {err}");
        }
    }
}
