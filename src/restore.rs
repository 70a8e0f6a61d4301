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

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, Lookup, State, StoredBackup, Which};
use crate::decode::Decoder;
use crate::encode::Identities;
use crate::engine::{Connection, DatabaseKind, DatabaseState, Destination, Engine};
use crate::error::{Error, Result, Setting, Stage};
use crate::manifest::Kind;
use crate::report::{NoProgress, Progress};
use crate::run_id::RunId;
use crate::storage::{Remote, RemoteSpec};
use crate::stored::{read_through, Opened};

mod archive;
mod client;
mod commit_check;
mod pg_script;
mod post_data;
mod pump;
mod retarget;
mod roles;
mod set;
mod unmovable;

use archive::ArchiveScript;
use client::{ClientWriter, Finish};
use commit_check::CommitCheck;
use pg_script::PgTransaction;
use pump::{failed_at, pump};
use retarget::Retarget;
use roles::ExistingRoles;
use unmovable::Unmovable;

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
    /// stream whatever `n`.
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

    /// Checks how the settings combine, before any I/O.
    fn check_settings(&self, sink: &Sink) -> Result<()> {
        let selection = |message: &str| Err(Error::config(Setting::Selection, message));
        let name = match &self.source {
            Which::Objects(names) if names.len() == 1 => &names[0],
            Which::Latest(name) => name,
            _ => return selection("a restore reads one backup: name one object, or a database"),
        };
        if name.trim().is_empty() || name.contains('\0') {
            return selection("name the backup to restore: an object name, or a database");
        }
        if self.before.is_some() && !matches!(self.source, Which::Latest(_)) {
            return selection(
                "a time (before) selects among the backups of a database: give the database \
                 (latest) instead of an object name",
            );
        }
        let into_database = matches!(sink, Sink::Database(_));
        if let Sink::Database(target) = sink {
            if target.trim().is_empty() || target.contains('\0') {
                return selection(
                    "the target database name is empty: name the database to restore into",
                );
            }
        }
        if (self.create || self.force) && !into_database {
            return selection(
                "create and force are about a target database: restore into a database",
            );
        }
        if self.with_globals && !into_database {
            return selection(
                "globals are replayed before a database: restore into a database, or restore \
                 the globals backup itself into the server",
            );
        }
        self.check_client_args(None)
    }

    /// Refuses client arguments that carry a password or would redirect
    /// the restore; MariaDB's `-pSECRET` and each client's own options only
    /// once the engine is known (`-p` is psql's port).
    fn check_client_args(&self, engine: Option<(Engine, bool)>) -> Result<()> {
        crate::engine::refuse_passwords(
            &self.client_args,
            engine.is_some_and(|(e, _)| e == Engine::MariaDb),
            Setting::ClientArgs,
            "give the password by the client's environment (PGPASSWORD, MYSQL_PWD) or a \
             password file",
        )?;
        match (engine, self.engine) {
            (Some((engine, archive)), _) => {
                crate::engine::refuse_redirects(engine, archive, &self.client_args)
            }
            // The backup's format is not known yet: what both psql (plain)
            // and pg_restore (archives) refuse now, the rest once it is.
            (None, Some(Engine::Postgres)) => {
                let plain =
                    crate::engine::refuse_redirects(Engine::Postgres, false, &self.client_args);
                let archive =
                    crate::engine::refuse_redirects(Engine::Postgres, true, &self.client_args);
                match (plain, archive) {
                    (Err(e), Err(_)) => Err(e),
                    _ => Ok(()),
                }
            }
            (None, Some(engine)) => {
                crate::engine::refuse_redirects(engine, false, &self.client_args)
            }
            (None, None) => crate::engine::refuse_redirects_any_engine(&self.client_args),
        }
    }

    /// The backup the source names, of a kind the sink takes, intact.
    fn select<'a>(&self, catalog: &'a Catalog, sink: &Sink) -> Result<&'a StoredBackup> {
        let backup = match &self.source {
            Which::Latest(database) => {
                let kinds: &[Kind] = match sink {
                    Sink::Database(_) => &[Kind::Database],
                    Sink::Server => &[Kind::Server, Kind::Globals],
                    Sink::Writer(_) => &[],
                };
                let lookup = Lookup::database(database.clone())
                    .engine(self.engine)
                    .kinds(kinds)
                    .before(self.before);
                let found = match catalog.latest(&lookup) {
                    Err(Error::NotFound(message)) => {
                        return Err(other_kinds(catalog, database, kinds)
                            .unwrap_or(Error::NotFound(message)))
                    }
                    found => found?,
                };
                if let Ok(newest) = catalog.newest(&lookup, false) {
                    if newest.object() != found.object() {
                        tracing::warn!(
                            "the newest backup of {database}, {}, is broken: restoring {}",
                            newest.object(),
                            found.object()
                        );
                    }
                }
                found
            }
            // check_settings let only one object through.
            Which::Objects(names) => match names.as_slice() {
                [name] => catalog.find(name)?,
                _ => return Err(Error::config(Setting::Selection, "name one backup")),
            },
            Which::All => return Err(Error::config(Setting::Selection, "name one backup")),
        };
        match &backup.state {
            State::Ok => Ok(backup),
            State::Missing => Err(Error::NotFound(format!(
                "{} is broken: its manifest is there but its object is missing",
                backup.object()
            ))),
            State::SizeMismatch { size } => Err(Error::Restore {
                backup: backup.object().into(),
                stage: Stage::Integrity,
                message: format!(
                    "stored size {size} differs from the manifest's {}",
                    backup.manifest.stored_bytes
                ),
            }),
        }
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

/// When `database` names no backup of `kinds` but backups of other kinds,
/// the error that says where those go.
fn other_kinds(catalog: &Catalog, database: &str, kinds: &[Kind]) -> Option<Error> {
    let other = catalog
        .of_database(database)
        .map(StoredBackup::kind)
        .find(|k| !kinds.contains(k))?;
    Some(Error::config(
        Setting::Selection,
        match other {
            Kind::Database | Kind::Set => format!(
                "`{database}` names backups of a database, not of the server: name a database \
                 to restore into"
            ),
            Kind::Server => {
                format!("`{database}` names whole-server backups: restore them into the server")
            }
            _ => format!(
                "`{database}` names backups of the server's globals: restore them into the server"
            ),
        },
    ))
}

/// The intact globals backup that `backup`'s run wrote.
fn globals_of<'a>(catalog: &'a Catalog, backup: &StoredBackup) -> Result<&'a StoredBackup> {
    let run = backup.manifest.run_id.as_deref();
    catalog
        .backups
        .iter()
        .filter(|b| b.kind() == Kind::Globals && b.is_intact())
        .filter(|b| b.manifest.engine == backup.manifest.engine)
        .find(|b| run.is_some() && b.manifest.run_id.as_deref() == run)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "no globals backup from the run that wrote {}: back up with globals \
                 (BACKUP_GLOBALS=true), or restore without them",
                backup.object()
            ))
        })
}

/// A database name of dbbr's own for one restore: where a restore into a
/// new database (PostgreSQL) or a staged restore (MariaDB) goes first.
fn staging_name() -> String {
    format!("dbbr_restore_{}", RunId::new())
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

    /// Restores into database `name`, all or nothing.
    fn to_database(&self, name: &str) -> Result<Totals> {
        let kind = self.kind();
        let restore = self.restore;
        let state = kind.database_state(name, &self.connection)?;
        match state {
            DatabaseState::Missing if !restore.create => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "database `{name}` does not exist: create it, or ask for it to be created"
                    ),
                ))
            }
            DatabaseState::HasTables if !restore.force => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "database `{name}` already has tables: restore into an empty \
                         database, or force it"
                    ),
                ))
            }
            _ => {}
        }
        let missing = state == DatabaseState::Missing;
        let verify = restore
            .verify_first
            .unwrap_or(kind.dump_names_its_database());
        if verify {
            let found = self.verify_whole()?;
            if !found.is_empty() && !restore.scratch && self.opened.engine == Engine::MariaDb {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "{} holds {}, which MariaDB cannot move into place at once, so it \
                         cannot be restored all-or-nothing and nothing was changed: restore it \
                         by hand (`dbbr restore ... --to-stdout | mariadb DB`), which is not \
                         all-or-nothing",
                        self.opened.backup.object(),
                        found.join(", ")
                    ),
                ));
            }
        }
        let totals = if restore.scratch {
            if missing {
                kind.create_database(name, &self.connection)?;
            }
            self.stream(self.client(Destination::Database(name))?)?
        } else {
            match self.opened.engine {
                Engine::Postgres if missing => self.to_new_database(name)?,
                Engine::Postgres => self.stream(self.client(Destination::Database(name))?)?,
                _ => self.staged(name, missing)?,
            }
        };
        Ok((totals.0, totals.1, verify))
    }

    /// PostgreSQL into a database that does not exist: restored into a new
    /// database of a temporary name, renamed into place at the end.
    fn to_new_database(&self, name: &str) -> Result<(u64, u64)> {
        let kind = self.kind();
        let staging = self.create_staging()?;
        let done = self
            .client(Destination::Database(&staging))
            .and_then(|client| self.stream(client))
            .and_then(|totals| {
                kind.rename_database(&staging, name, &self.connection)?;
                Ok(totals)
            });
        if done.is_err() {
            self.drop_made(&staging);
        }
        done
    }

    /// MariaDB: restored into a staging database, whose tables then move
    /// into the target in one atomic `RENAME TABLE`.
    fn staged(&self, name: &str, missing: bool) -> Result<(u64, u64)> {
        let kind = self.kind();
        let staging = self.create_staging()?;
        let done = self
            .client(Destination::Database(&staging))
            .and_then(|client| self.stream(client))
            .and_then(|totals| {
                if missing {
                    kind.create_database(name, &self.connection)?;
                }
                let moved = kind.move_tables(&staging, name, &self.connection);
                if moved.is_err() && missing {
                    self.drop_made(name);
                }
                moved.map(|()| totals)
            });
        self.drop_made(&staging);
        done
    }

    /// Creates a database of dbbr's own name for this restore. If that
    /// fails, the name is dropped too: the client may have been stopped
    /// after the server had made it.
    fn create_staging(&self) -> Result<String> {
        let kind = self.kind();
        let staging = staging_name();
        if let Err(e) = kind.create_database(&staging, &self.connection) {
            if let Err(d) = kind.drop_database(&staging, &self.connection) {
                tracing::error!(
                    "could not drop database {staging}, which the restore may have made: {d} \
                     (drop it by hand if it is there)"
                );
            }
            return Err(e);
        }
        Ok(staging)
    }

    /// Drops a database this restore made, also after a signal (bounded).
    fn drop_made(&self, name: &str) {
        match self.kind().drop_database(name, &self.connection) {
            Ok(()) => tracing::info!("dropped database {name}, which the restore had made"),
            Err(e) => tracing::error!(
                "could not drop database {name}, which the restore had made: {e} (drop it by hand)"
            ),
        }
    }

    /// The client that replays the backup into `to`, as a sink that ends
    /// only when dbbr says so.
    fn client(&self, to: Destination<'_>) -> Result<Box<dyn Finish>> {
        let kind = self.kind();
        let manifest = &self.opened.backup.manifest;
        let archive = manifest.is_archive();
        let args = &self.restore.client_args;
        let (cmd, program) = kind.restore_command(to, archive, args, &self.connection);
        let client = self.start_client(cmd, &program)?;
        let into_database = matches!(to, Destination::Database(_));
        let sink: Box<dyn Finish> = match self.opened.engine {
            // One transaction, whose COMMIT dbbr writes.
            Engine::Postgres if into_database => {
                let conn = self.connection.clone();
                let check =
                    CommitCheck::new(Box::new(move |xid| kind.transaction_committed(xid, &conn)));
                Box::new(
                    PgTransaction::begin_checked(client, check)
                        .map_err(|e| self.failed(Stage::Client, e.to_string()))?,
                )
            }
            Engine::Postgres
                if manifest.kind() == Kind::Globals && kind.globals_recreate_roles() =>
            {
                Box::new(ExistingRoles::new(client))
            }
            _ if kind.dump_names_its_database() && into_database => Box::new(Retarget::new(client)),
            _ => Box::new(client),
        };
        if !archive {
            return Ok(sink);
        }
        match kind.archive_script(to, args) {
            Some((cmd, program)) => ArchiveScript::start(cmd, &program, sink)
                .map(|a| Box::new(a) as Box<dyn Finish>)
                .map_err(|e| self.failed(Stage::Client, not_started(&program, &e))),
            None => Ok(sink),
        }
    }

    fn start_client(&self, cmd: std::process::Command, program: &str) -> Result<ClientWriter> {
        ClientWriter::start(cmd, program)
            .map_err(|e| self.failed(Stage::Client, not_started(program, &e)))
    }

    fn decoder(&self) -> Result<Decoder<crate::storage::Download>> {
        self.opened.decoder(self.identities).map_err(|e| match e {
            Error::Interrupted => Error::Interrupted,
            e @ Error::Decode { .. } => self.decode_failed(e),
            e => self.failed(Stage::Download, e.to_string()),
        })
    }

    /// Reads and checks the whole backup without running a client; for a
    /// MariaDB dump, what it holds that cannot move between databases.
    fn verify_whole(&self) -> Result<Vec<&'static str>> {
        let decoder = self.decoder()?;
        let mut scan = Unmovable::default();
        let scanning = self.opened.engine == Engine::MariaDb;
        let stop = || self.restore.cancel.load(Ordering::Relaxed);
        read_through(decoder, stop, |piece, _| {
            if scanning {
                scan.update(piece);
            }
        })
        .map_err(|e| match e {
            Error::Interrupted => Error::Interrupted,
            e => self.decode_failed(e),
        })?;
        Ok(scan.found().to_vec())
    }

    /// Streams the decoded backup into `out`; the totals on success. `out`
    /// is completed only when every stage succeeded, and abandoned (its
    /// clients killed before their input ends) otherwise. A watcher kills
    /// the clients when the restore is cancelled, so that a client blocked
    /// on a lock cannot hold it up.
    fn stream(&self, out: Box<dyn Finish>) -> Result<(u64, u64)> {
        let decoder = self.decoder()?;
        let label = &self.opened.backup.manifest.database;
        let progress = &self.restore.progress;
        progress.started(label, self.opened.backup.object());
        progress.sized(label, self.opened.backup.manifest.stored_bytes);
        let clock = Instant::now();
        let mut last = Instant::now();
        let cancel = &self.restore.cancel;
        pump(
            decoder,
            out,
            self.opened.backup.object(),
            &|| cancel.load(Ordering::Relaxed),
            |_, decoder| {
                if last.elapsed() >= PROGRESS_EVERY {
                    last = Instant::now();
                    let (raw, stored) = (decoder.raw_bytes(), decoder.stored_bytes());
                    progress.advanced(label, raw, stored, clock.elapsed());
                }
            },
        )
    }

    fn failed(&self, stage: Stage, message: String) -> Error {
        failed_at(self.opened.backup.object(), stage, message)
    }

    fn decode_failed(&self, e: Error) -> Error {
        at_stage(self.opened.backup.object(), e)
    }
}

/// Why a program could not start.
fn not_started(program: &str, e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::NotFound {
        format!("{program} not found: install the database client")
    } else {
        format!("cannot start {program}: {e}")
    }
}

/// A decode failure of backup `object` as a restore error naming the stage;
/// other errors as they are.
pub(crate) fn at_stage(object: &str, e: Error) -> Error {
    match e {
        Error::Decode { stage, message } => Error::Restore {
            backup: object.into(),
            stage,
            message,
        },
        other => other,
    }
}

/// Adds the client's last error lines to a restore error.
fn with_tail(e: Error, tail: &str) -> Error {
    match e {
        Error::Restore {
            backup,
            stage,
            message,
        } if !tail.is_empty() => Error::Restore {
            backup,
            stage,
            message: format!("{message} (client: {tail})"),
        },
        other => other,
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
