//! Restores a backup, from storage alone: the manifest says engine, format,
//! codec and encryption. The way back streams `download -> sha256 check ->
//! age -> decompress -> client stdin`, with no temporary file, and keeps the
//! backup's rule: end of input is not success. On any failure the client is
//! killed before its input ends, so it commits nothing.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, State, StoredBackup};
use crate::decode::{Decoder, Expected, Stage};
use crate::encode::Identities;
use crate::engine::{Connection, DatabaseState, Destination, Engine};
use crate::error::{Error, Result, Setting};
use crate::report::{NoProgress, Progress};
use crate::storage::Remote;

mod client;
mod retarget;
mod roles;

use client::{ClientWriter, Finish};
use retarget::Retarget;
use roles::ExistingRoles;

/// Bytes moved per step.
const CHUNK: usize = 256 * 1024;
/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// Which backup to restore.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Source {
    /// A backup by its object (or manifest) name.
    Object(String),
    /// The newest intact backup of a database, optionally before a time.
    Latest {
        database: String,
        before: Option<DateTime<Utc>>,
    },
}

/// Where the backup goes.
enum Sink {
    Database {
        name: String,
        create: bool,
        force: bool,
    },
    Server,
    Writer(Box<dyn Write + Send>),
}

/// A restore, configured with chained calls and started with
/// [`run`](Restore::run).
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
    source: Source,
    sink: Option<Sink>,
    remote: String,
    prefix: String,
    identity_file: Option<PathBuf>,
    identities: Option<Arc<Identities>>,
    password_file: Option<PathBuf>,
    client_args: Vec<String>,
    verify_first: Option<bool>,
    with_globals: bool,
    progress: Arc<dyn Progress>,
    cancel: Arc<AtomicBool>,
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
        Restore::with_source(Source::Object(object.into()))
    }

    /// Restores the newest intact backup of `database`.
    pub fn latest(database: impl Into<String>) -> Restore {
        Restore::with_source(Source::Latest {
            database: database.into(),
            before: None,
        })
    }

    fn with_source(source: Source) -> Restore {
        Restore {
            source,
            sink: None,
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
        }
    }

    /// With [`Restore::latest`]: the newest backup that started before `time`.
    pub fn before(mut self, time: DateTime<Utc>) -> Restore {
        if let Source::Latest { before, .. } = &mut self.source {
            *before = Some(time);
        }
        self
    }

    /// rclone remote name, `name:path` or connection string. Default `store`.
    pub fn remote(mut self, remote: impl Into<String>) -> Restore {
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
        self.sink = Some(Sink::Database {
            name: name.into(),
            create: false,
            force: false,
        });
        self
    }

    /// Create the target database if it does not exist (and drop it again
    /// if the restore fails).
    pub fn create(mut self, yes: bool) -> Restore {
        if let Some(Sink::Database { create, .. }) = &mut self.sink {
            *create = yes;
        }
        self
    }

    /// Restore into a target database that already has tables.
    pub fn force(mut self, yes: bool) -> Restore {
        if let Some(Sink::Database { force, .. }) = &mut self.sink {
            *force = yes;
        }
        self
    }

    /// Restore a whole-server backup into the server.
    pub fn to_server(mut self) -> Restore {
        self.sink = Some(Sink::Server);
        self
    }

    /// Write the plain dump to `out` instead of running a client.
    pub fn to_writer(mut self, out: impl Write + Send + 'static) -> Restore {
        self.sink = Some(Sink::Writer(Box::new(out)));
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

    /// Arguments passed unchanged to the restore client.
    pub fn client_args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Restore {
        self.client_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Whether to verify the whole backup before the client runs. Default:
    /// yes where the client cannot roll back (MariaDB), no elsewhere.
    pub fn verify_first(mut self, yes: bool) -> Restore {
        self.verify_first = Some(yes);
        self
    }

    /// Where progress goes.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Restore {
        self.progress = progress;
        self
    }

    /// A flag that, once set, stops the restore (the client is killed).
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Restore {
        self.cancel = flag;
        self
    }

    /// Finds the backup, checks the target, and restores.
    ///
    /// [`Error::Config`] means nothing was read or changed (bad settings, an
    /// encrypted backup without identities, a target that is not empty).
    pub fn run(mut self) -> Result<Restored> {
        let sink = self.take_sink()?;
        self.check_client_args(None)?;
        if self.with_globals && !matches!(sink, Sink::Database { .. }) {
            return Err(Error::config(
                Setting::Selection,
                "globals are replayed before a database: restore into a database, or restore \
                 the globals backup itself into the server",
            ));
        }
        let remote = Remote::parse(&self.remote)?.with_prefix(&self.prefix);
        let identities = self.take_identities()?;
        remote.check()?;
        let catalog = Catalog::read(&remote)?;
        let backup = select(&catalog, &self.source)?.clone();
        if self.with_globals {
            let globals = globals_of(&catalog, &backup)?;
            tracing::info!(
                "replaying the globals of the same run, {}, first",
                globals.object()
            );
            self.restore(Sink::Server, &remote, globals, identities.clone())?;
        }
        self.restore(sink, &remote, &backup, identities)
    }

    /// Before restoring into a database, replay the globals backup (roles
    /// and tablespaces, or MariaDB's users and grants) that the backup's
    /// run wrote, so that the owners and grants the dump names exist. Roles
    /// already on the server are kept and given the backup's attributes.
    pub fn with_globals(mut self, yes: bool) -> Restore {
        self.with_globals = yes;
        self
    }

    /// Restores `backup`, already found (and intact) in `remote`'s catalog:
    /// the restore drill of [`crate::Verify`], which has read the catalog.
    pub(crate) fn run_found(mut self, remote: &Remote, backup: &StoredBackup) -> Result<Restored> {
        let sink = self.take_sink()?;
        let identities = self.take_identities()?;
        self.restore(sink, remote, backup, identities)
    }

    /// Refuses client arguments that carry a password; MariaDB's `-pSECRET`
    /// only once the engine is known (`-p` is psql's port).
    fn check_client_args(&self, engine: Option<Engine>) -> Result<()> {
        crate::engine::refuse_passwords(
            &self.client_args,
            engine == Some(Engine::MariaDb),
            Setting::ClientArgs,
            "give the password by the client's environment (PGPASSWORD, MYSQL_PWD) or a \
             password file",
        )
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
        if manifest.encrypted && identities.is_none() {
            return Err(Error::config(
                Setting::IdentityFile,
                format!(
                    "{} is encrypted: give the identity file that decrypts it",
                    backup.object()
                ),
            ));
        }
        let engine = Engine::from_name(&manifest.engine).ok_or_else(|| {
            Error::config(
                Setting::Selection,
                format!(
                    "{} was written for engine `{}`, which this dbbr does not know",
                    backup.object(),
                    manifest.engine
                ),
            )
        })?;
        self.check_client_args(Some(engine))?;
        let connection = match &self.password_file {
            Some(path) => Connection::from_password_file(path)?,
            None => Connection::from_env(engine)?,
        }
        .with_args(&self.client_args);
        let ctx = Context {
            restore: self,
            remote,
            backup,
            identities: identities.as_deref(),
            engine,
            connection,
        };
        ctx.run(sink)
    }
}

/// The intact globals backup that `backup`'s run wrote.
fn globals_of<'a>(catalog: &'a Catalog, backup: &StoredBackup) -> Result<&'a StoredBackup> {
    let run = backup.manifest.run_id.as_deref();
    catalog
        .backups
        .iter()
        .filter(|b| b.manifest.is_globals() && b.state == State::Ok)
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

/// The backup `source` names, intact.
fn select<'a>(catalog: &'a Catalog, source: &'a Source) -> Result<&'a StoredBackup> {
    let backup = match source {
        Source::Object(name) => catalog.find(name).ok_or_else(|| {
            Error::NotFound(format!(
                "no backup named `{name}` (an object without a manifest is not a backup)"
            ))
        })?,
        Source::Latest { database, before } => {
            catalog.latest(database, *before).ok_or_else(|| {
                Error::NotFound(match before {
                    Some(t) => format!("no intact backup of `{database}` before {t}"),
                    None => format!("no intact backup of `{database}`"),
                })
            })?
        }
    };
    match &backup.state {
        State::Ok => Ok(backup),
        State::Missing => Err(Error::NotFound(format!(
            "{} is broken: its manifest is there but its object is missing",
            backup.object()
        ))),
        State::SizeMismatch { size } => Err(Error::Restore {
            backup: backup.object().into(),
            stage: Stage::Integrity.name().into(),
            message: format!(
                "stored size {size} differs from the manifest's {}",
                backup.manifest.stored_bytes
            ),
        }),
    }
}

/// One restore, resolved.
struct Context<'a> {
    restore: &'a Restore,
    remote: &'a Remote,
    backup: &'a StoredBackup,
    identities: Option<&'a Identities>,
    engine: Engine,
    connection: Connection,
}

impl Context<'_> {
    fn run(&self, sink: Sink) -> Result<Restored> {
        let clock = Instant::now();
        let manifest = &self.backup.manifest;
        let whole_server = manifest.is_whole_server() || manifest.is_globals();
        let object = self.backup.object();
        match (&sink, whole_server) {
            (Sink::Database { .. }, true) if manifest.is_globals() => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "{object} holds the server's globals (roles, users, grants): restore \
                         it into the server"
                    ),
                ))
            }
            (Sink::Database { .. }, true) => {
                return Err(Error::config(
                    Setting::Selection,
                    format!("{object} is a whole-server backup: restore it into the server"),
                ))
            }
            (Sink::Server, false) => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "{object} is a backup of one database: name a database to restore it into"
                    ),
                ))
            }
            _ => {}
        }
        let kind = self.engine.kind();
        let verify_first = matches!(sink, Sink::Database { .. } | Sink::Server)
            && self
                .restore
                .verify_first
                .unwrap_or(kind.dump_names_its_database());
        let mut created: Option<String> = None;
        if let Sink::Database {
            name,
            create,
            force,
        } = &sink
        {
            match kind.database_state(name, &self.connection)? {
                DatabaseState::Missing if *create => created = Some(name.clone()),
                DatabaseState::Missing => {
                    return Err(Error::config(
                        Setting::Selection,
                        format!(
                        "database `{name}` does not exist: create it, or ask for it to be created"
                    ),
                    ))
                }
                DatabaseState::HasTables if !force => {
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
        }
        if verify_first {
            self.verify_whole()?;
        }
        if let Some(name) = &created {
            kind.create_database(name, &self.connection)?;
        }
        let result = self.stream(sink);
        if let (Err(_), Some(name)) = (&result, &created) {
            if let Err(e) = kind.drop_database(name, &self.connection) {
                tracing::error!(
                    "could not drop database {name} created for the failed restore: {e}"
                );
            }
        }
        let (raw_bytes, stored_bytes) = result?;
        Ok(Restored {
            object: object.to_string(),
            database: self.backup.manifest.database.clone(),
            raw_bytes,
            stored_bytes,
            verified_first: verify_first,
            elapsed: clock.elapsed(),
        })
    }

    fn decoder(&self) -> Result<Decoder<crate::storage::Download>> {
        let manifest = &self.backup.manifest;
        let download = self
            .remote
            .download(self.backup.object())
            .map_err(|e| self.failed(Stage::Download.name(), e.to_string()))?;
        Decoder::new(
            download,
            &manifest.codec,
            self.identities.filter(|_| manifest.encrypted),
            Expected::from_manifest(manifest),
        )
        .map_err(|e| self.decode_failed(e))
    }

    /// Reads and checks the whole backup without running a client.
    fn verify_whole(&self) -> Result<()> {
        let mut decoder = self.decoder()?;
        let copied = io::copy(&mut decoder, &mut io::sink());
        match (copied, decoder.finish()) {
            (_, Err(e)) => Err(self.decode_failed(e)),
            (Err(e), Ok(_)) => Err(self.failed("download", e.to_string())),
            (Ok(_), Ok(_)) => Ok(()),
        }
    }

    /// Streams the backup into the sink; the totals on success.
    fn stream(&self, sink: Sink) -> Result<(u64, u64)> {
        let decoder = self.decoder()?;
        match sink {
            Sink::Writer(out) => self.copy(decoder, out, None),
            Sink::Database { name, .. } => {
                let kind = self.engine.kind();
                let (cmd, program) = kind.restore_command(
                    Destination::Database(&name),
                    self.backup.manifest.is_archive(),
                    &self.restore.client_args,
                    &self.connection,
                );
                let client = self.start_client(cmd, &program)?;
                if kind.dump_names_its_database() {
                    self.copy(decoder, Retarget::new(client), Some(()))
                } else {
                    self.copy(decoder, client, Some(()))
                }
            }
            Sink::Server => {
                let (cmd, program) = self.engine.kind().restore_command(
                    Destination::Server,
                    self.backup.manifest.is_archive(),
                    &self.restore.client_args,
                    &self.connection,
                );
                let client = self.start_client(cmd, &program)?;
                let kind = self.engine.kind();
                if self.backup.manifest.is_globals() && kind.globals_recreate_roles() {
                    self.copy(decoder, ExistingRoles::new(client), Some(()))
                } else {
                    self.copy(decoder, client, Some(()))
                }
            }
        }
    }

    fn start_client(&self, cmd: std::process::Command, program: &str) -> Result<ClientWriter> {
        ClientWriter::start(cmd, program).map_err(|e| {
            self.failed(
                "client",
                if e.kind() == io::ErrorKind::NotFound {
                    format!("{program} not found: install the database client")
                } else {
                    format!("cannot start {program}: {e}")
                },
            )
        })
    }

    /// Copies the decoded dump into `out`. With a client (`client` is
    /// `Some`), `out` is finished only when every stage succeeded, and
    /// killed otherwise.
    fn copy<W: Finish>(
        &self,
        mut decoder: Decoder<crate::storage::Download>,
        mut out: W,
        client: Option<()>,
    ) -> Result<(u64, u64)> {
        let label = &self.backup.manifest.database;
        self.restore.progress.started(label, self.backup.object());
        let clock = Instant::now();
        let mut last = Instant::now();
        let mut buf = vec![0u8; CHUNK];
        loop {
            if self.restore.cancel.load(Ordering::Relaxed) {
                out.abandon();
                return Err(Error::Interrupted);
            }
            let n = match decoder.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => {
                    // Kill the client first: it must not see end of input.
                    // The decoder then says which stage failed.
                    let tail = out.abandon();
                    let err = match decoder.finish() {
                        Err(e) => self.decode_failed(e),
                        Ok(_) => self.failed("download", "the stream failed".into()),
                    };
                    return Err(with_tail(err, &tail));
                }
            };
            if let Err(e) = out.write_all(&buf[..n]) {
                let tail = out.abandon();
                let stage = if client.is_some() { "client" } else { "output" };
                return Err(with_tail(self.failed(stage, e.to_string()), &tail));
            }
            if last.elapsed() >= PROGRESS_EVERY {
                last = Instant::now();
                self.restore.progress.advanced(
                    label,
                    decoder.raw_bytes(),
                    decoder.stored_bytes(),
                    clock.elapsed(),
                );
            }
        }
        let stats = match decoder.finish() {
            Ok(stats) => stats,
            Err(e) => {
                let tail = out.abandon();
                return Err(with_tail(self.decode_failed(e), &tail));
            }
        };
        out.complete().map_err(|message| {
            self.failed(if client.is_some() { "client" } else { "output" }, message)
        })?;
        Ok((stats.raw_bytes, stats.stored_bytes))
    }

    fn failed(&self, stage: &str, message: String) -> Error {
        Error::Restore {
            backup: self.backup.object().into(),
            stage: stage.into(),
            message,
        }
    }

    fn decode_failed(&self, e: Error) -> Error {
        at_stage(self.backup.object(), e)
    }
}

/// A decode failure of backup `object` as a restore error naming the stage;
/// other errors as they are.
pub(crate) fn at_stage(object: &str, e: Error) -> Error {
    match e {
        Error::Decode { stage, message } => Error::Restore {
            backup: object.into(),
            stage: stage.name().into(),
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
