//! One backup run: for each database, dump -> compress -> encrypt -> upload,
//! commit only when every stage succeeded, then write the manifest.

use std::io::{self, Read, Write};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::config::{Options, Plan, Selection};
use crate::dump::DumpReader;
use crate::encode::{Codec, Encoder, Recipients};
use crate::engine::{Engine, Target, GLOBALS};
use crate::error::{Error, Result, Setting};
use crate::evidence::DumpInspector;
use crate::manifest::{Kind, Manifest};
use crate::pool;
use crate::prune::Prune;
use crate::report::{BackupStats, DatabaseReport, NoProgress, Progress, Report};
use crate::retention::KeepPolicy;
use crate::run_id::RunId;
use crate::storage::{Sizing, UploadAborter};
use record::Versions;

mod record;
mod set;
mod set_layout;
mod targets;

pub(crate) use set::describe as describe_set;
pub(crate) use targets::{jobs, Job};

/// Bytes read from the dump per step.
const READ_CHUNK: usize = 256 * 1024;
/// How often progress is reported.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);

/// A backup run, configured with chained calls and started with
/// [`run`](Backup::run). Nothing is checked until `run`, which validates
/// every setting before any database or network I/O.
///
/// ```no_run
/// use dbbr::{Backup, Engine};
///
/// let report = Backup::new(Engine::Postgres)
///     .databases(["app", "billing"])
///     .remote(":local:/var/backups")
///     .run()?;
/// assert!(report.all_succeeded());
/// # Ok::<(), dbbr::Error>(())
/// ```
pub struct Backup {
    pub(crate) options: Options,
    pub(crate) keep: Option<KeepPolicy>,
    progress: Arc<dyn Progress>,
    cancel: Arc<AtomicBool>,
    pub(crate) run_id: RunId,
}

impl Backup {
    /// A run for `engine` with default options: no databases yet, remote
    /// `store`, no prefix, gzip, no encryption.
    pub fn new(engine: Engine) -> Backup {
        Backup {
            options: Options::new(engine),
            keep: None,
            progress: Arc::new(NoProgress),
            cancel: Arc::new(AtomicBool::new(false)),
            run_id: RunId::new(),
        }
    }

    /// Databases to dump, one object each. An item may itself be a
    /// comma-separated list. Replaces an earlier [`Backup::all_databases`].
    pub fn databases<I: IntoIterator<Item = S>, S: Into<String>>(mut self, names: I) -> Backup {
        self.options.selection = Selection::Databases(names.into_iter().map(Into::into).collect());
        self
    }

    /// Dump the whole server into one object (`pg_dumpall`,
    /// `mariadb-dump --all-databases`). Replaces an earlier
    /// [`Backup::databases`].
    pub fn all_databases(mut self) -> Backup {
        self.options.selection = Selection::All;
        self
    }

    /// Every database the user may connect to, each into its own object,
    /// except templates and the server's own schemas; see
    /// [`Backup::exclude`]. Replaces an earlier selection.
    pub fn every_database(mut self) -> Backup {
        self.options.selection = Selection::Every {
            exclude: Vec::new(),
        };
        self
    }

    /// With [`Backup::every_database`] (called before or after): leave out
    /// the databases matching these names or globs (`*`, `?`, `[...]`); an
    /// item may itself be a comma-separated list. With another selection,
    /// [`run`](Backup::run) refuses them.
    pub fn exclude<I: IntoIterator<Item = S>, S: Into<String>>(mut self, patterns: I) -> Backup {
        self.options
            .exclude
            .extend(patterns.into_iter().map(Into::into));
        self
    }

    /// Also back up what belongs to the server rather than to a database,
    /// into its own object (`$DB` = `globals`), first: roles and tablespaces
    /// (`pg_dumpall --globals-only`), or MariaDB's users and grants
    /// (`mariadb-dump --system=users`). Per-database backups then lose
    /// nothing a whole-server backup keeps.
    pub fn globals(mut self, yes: bool) -> Backup {
        self.options.globals = yes;
        self
    }

    /// Dump up to `n` databases at once (default 1). Memory grows with `n`:
    /// each dump has its own compression buffers and upload parts.
    pub fn parallelism(mut self, n: usize) -> Backup {
        self.options.parallelism = n;
        self
    }

    /// Back up each PostgreSQL database as a parallel set of `n` streams
    /// (default 1: one object per database). The set is read at one
    /// exported snapshot: schema by `pg_dump`, table data by `n` concurrent
    /// `COPY` sessions, large tables cut into page ranges (see
    /// [`Backup::split_size`]). Memory grows with `n` times
    /// [`parallelism`](Backup::parallelism): each stream has its own
    /// pipeline. MariaDB and whole-server backups refuse more than one job.
    pub fn jobs(mut self, n: usize) -> Backup {
        self.options.set.jobs = n;
        self
    }

    /// In a set: tables larger than `bytes` (by `pg_relation_size`) are cut
    /// into page ranges that stream in parallel (default 1 GiB; PostgreSQL
    /// 14 and later, older servers keep them whole).
    pub fn split_size(mut self, bytes: u64) -> Backup {
        self.options.set.split_size = bytes;
        self
    }

    /// In a set: how long to wait for each table's `ACCESS SHARE` lock
    /// before the run fails, naming the table and the session holding it
    /// (default 30 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Backup {
        self.options.set.lock_timeout = timeout;
        self
    }

    /// The most parts a multipart upload may have (S3: 10,000, the
    /// default; some compatible stores take 1,000). Part sizes are chosen so
    /// that each dump fits (see [`Sizing`]).
    pub fn max_parts(mut self, n: u64) -> Backup {
        self.options.max_parts = Some(n);
        self
    }

    /// What to back up, as a [`Selection`].
    pub fn selection(mut self, selection: Selection) -> Backup {
        self.options.selection = selection;
        self
    }

    /// Object name pattern: strftime directives, subfolders, `$DB` for the
    /// database name. Default `${DB}-%Y-%m-%dT%H-%M-%SZ.sql.gz`.
    pub fn file_name(mut self, pattern: impl Into<String>) -> Backup {
        self.options.file_name = Some(pattern.into());
        self
    }

    /// rclone remote name, `name:path` or connection string (see
    /// [`crate::Remote::parse`]), or a [`crate::Remote`]. Default `store`.
    pub fn remote(mut self, remote: impl Into<crate::RemoteSpec>) -> Backup {
        self.options.remote = remote.into();
        self
    }

    /// Path prepended to object names, below the remote's own path.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Backup {
        self.options.prefix = prefix.into();
        self
    }

    /// age recipients as text: `age1...`, `ssh-ed25519 ...` or `ssh-rsa ...`,
    /// separated by commas or newlines. Text that names no recipient is an
    /// error, never a plaintext backup.
    pub fn recipients(mut self, recipients: impl Into<String>) -> Backup {
        self.options.recipients_text = Some(recipients.into());
        self
    }

    /// An age recipients file (one recipient per line, `#` comments).
    pub fn recipients_file(mut self, path: impl Into<PathBuf>) -> Backup {
        self.options.recipients_file = Some(path.into());
        self
    }

    /// Recipients already parsed (e.g. [`Recipients::from_x25519`]). Given
    /// with text or a file too, the backup is encrypted to all of them.
    pub fn encrypt_to(mut self, recipients: Recipients) -> Backup {
        self.options.recipients = Some(recipients);
        self
    }

    /// Read the database password from a file. Without it, the file named by
    /// `PGPASSWORD_FILE` / `MYSQL_PWD_FILE` is read if that is set.
    pub fn password_file(mut self, path: impl Into<PathBuf>) -> Backup {
        self.options.password_file = Some(path.into());
        self
    }

    /// Arguments passed unchanged to the dump tool.
    pub fn dump_args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Backup {
        self.options.dump_args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Compression codec.
    pub fn codec(mut self, codec: Codec) -> Backup {
        self.options.codec = codec;
        self
    }

    /// After a run in which every database succeeded, delete the backups of
    /// these databases that `policy` does not keep (never after a failure).
    pub fn keep(mut self, policy: KeepPolicy) -> Backup {
        self.keep = Some(policy);
        self
    }

    /// Where progress goes.
    pub fn progress(mut self, progress: Arc<dyn Progress>) -> Backup {
        self.progress = progress;
        self
    }

    /// A flag that, once set (e.g. by a signal handler), stops the run: the
    /// current dump is killed and its upload aborted.
    pub fn cancel_flag(mut self, flag: Arc<AtomicBool>) -> Backup {
        self.cancel = flag;
        self
    }

    /// The run's id, recorded in each manifest (default: a new one).
    pub fn run_id(mut self, id: RunId) -> Backup {
        self.run_id = id;
        self
    }

    /// Validates everything, then backs up each database (a failure does
    /// not stop the others), [`parallelism`](Backup::parallelism) at a time.
    /// Every object of the run has the run's start time in its name.
    ///
    /// `Err` means the configuration was rejected before any dump: a
    /// configuration error before any database or network I/O, or, when
    /// backing up every database, a listing of them that failed or left
    /// none. Otherwise the [`Report`] says how each database went.
    pub fn run(mut self) -> Result<Report> {
        let started = Utc::now();
        let (mut plan, _) = preflight(&mut self.options, self.keep, started, true)?;
        let kind = plan.engine.kind();
        let jobs = jobs(&plan)?;
        plan.targets = jobs.iter().map(|j| j.target.clone()).collect();
        let objects = object_names(&plan, started)?;
        let context = RunContext {
            plan: &plan,
            versions: Versions {
                dump_tool: kind.tool_version(plan.targets == [Target::All]),
                server: kind.server_version(&plan.connection, &plan.dump_args),
            },
            progress: self.progress.as_ref(),
            cancel: &self.cancel,
            run_id: &self.run_id,
        };
        if let Some(set) = &plan.set {
            // The memory bound: one pipeline per stream.
            let databases = plan.parallelism.min(jobs.len()).max(1);
            tracing::info!(
                "parallel sets: up to {} streams at once ({databases} database(s) x {} jobs), \
                 each with its own compression buffers and upload parts",
                databases * set.jobs,
                set.jobs
            );
        }
        let versions = &context.versions;
        kind.check_versions(versions.dump_tool.as_deref(), versions.server.as_deref())?;
        let mut report = Report {
            run_id: self.run_id.clone(),
            ..Report::default()
        };
        let work: Vec<(&Job, String)> = jobs.iter().zip(objects).collect();
        report.databases = pool::run_all(&work, plan.parallelism, |(job, object)| {
            let target = &job.target;
            let outcome = if self.cancel.load(Ordering::Relaxed) {
                DatabaseReport {
                    database: target.label().to_string(),
                    object: Some(object.clone()),
                    result: Err(Error::Interrupted),
                }
            } else {
                self.progress.started(target.label(), object);
                let result = match (target, &plan.set) {
                    (Target::Database(name), Some(set)) => context.stream_set(name, object, set),
                    _ => context.stream(target, object, &job.sizing),
                };
                DatabaseReport {
                    database: target.label().to_string(),
                    object: Some(object.clone()),
                    result,
                }
            };
            self.progress.finished(&outcome);
            outcome
        });
        if let (Some(policy), true) = (self.keep, report.all_succeeded()) {
            let groups = plan
                .targets
                .iter()
                .map(|t| (plan.engine, kind_of(t), t.label().to_string()))
                .collect();
            report.prune = Some(Prune::new(policy).remote(&plan.remote).groups(groups).run());
        }
        Ok(report)
    }
}

/// What a backup checks before any I/O, the same for [`Backup::run`],
/// [`Backup::validate`] and [`crate::Check`]: every setting, the retention
/// policy, the object names (those of databases yet to be listed once they
/// are), with `tools` that the dump tool is installed (a check reports it
/// instead), and the remote's configuration. The plan and the names.
pub(crate) fn preflight(
    options: &mut Options,
    keep: Option<KeepPolicy>,
    at: DateTime<Utc>,
    tools: bool,
) -> Result<(Plan, Vec<String>)> {
    let plan = options.validate()?;
    if let Some(policy) = keep {
        policy.checked()?;
    }
    let objects = object_names(&plan, at)?;
    if tools {
        tools_installed(&plan)?;
    }
    plan.remote.check()?;
    Ok((plan, objects))
}

/// Whether the dump tool of every target is installed, and of databases
/// yet to be listed.
pub(crate) fn tools_installed(plan: &Plan) -> Result<()> {
    let listed = plan
        .discover
        .as_ref()
        .map(|_| Target::Database("postgres".into()));
    plan.targets.iter().chain(&listed).try_for_each(|target| {
        plan.engine
            .kind()
            .dump_command(target, &plan.dump_args, &plan.connection)
            .check_installed()
    })
}

/// Every object name of the run, rendered before any I/O: a name that does
/// not render, or two databases that would share one, is a configuration
/// error.
pub(crate) fn object_names(plan: &Plan, time: DateTime<Utc>) -> Result<Vec<String>> {
    let encrypted = plan.recipients.is_some();
    let mut names: Vec<String> = Vec::with_capacity(plan.targets.len());
    for target in &plan.targets {
        let (database, kind, codec) = match target {
            // A set is a folder of parts, each named with its own suffix.
            Target::Database(name) if plan.set.is_some() => {
                (Some(name.as_str()), "set", Codec::None)
            }
            Target::Database(name) => (Some(name.as_str()), plan.dump_kind, plan.codec),
            Target::All => (None, plan.dump_kind, plan.codec),
            // SQL text whatever the databases' dump format.
            Target::Globals => (Some(GLOBALS), "sql", plan.text_codec),
        };
        let encrypted = encrypted && kind != "set";
        let name = plan
            .pattern
            .render_as(database, time, kind, codec.extension(), encrypted)?;
        if let Some(i) = names.iter().position(|n| *n == name) {
            return Err(Error::config(
                Setting::FileName,
                format!(
                    "databases `{}` and `{}` would both be stored as `{name}`: put $DB in the \
                     file name pattern or rename one",
                    plan.targets[i].label(),
                    target.label()
                ),
            ));
        }
        names.push(name);
    }
    Ok(names)
}

/// What a backup of `target` holds.
fn kind_of(target: &Target) -> Kind {
    match target {
        Target::Database(_) => Kind::Database,
        Target::All => Kind::Server,
        Target::Globals => Kind::Globals,
    }
}

/// What every database of a run shares.
struct RunContext<'a> {
    plan: &'a Plan,
    versions: Versions,
    progress: &'a dyn Progress,
    cancel: &'a AtomicBool,
    run_id: &'a RunId,
}

impl RunContext<'_> {
    /// Streams one dump into `object` and writes its manifest.
    fn stream(&self, target: &Target, object: &str, sizing: &Sizing) -> Result<BackupStats> {
        let plan = self.plan;
        let label = target.label();
        let started_at = Utc::now();
        let clock = Instant::now();
        let retries_before = crate::storage::retries();

        let globals = *target == Target::Globals;
        let codec = if globals { plan.text_codec } else { plan.codec };
        // The upload starts first: a name collision fails before dumping.
        let upload = plan.remote.upload_sized(object, sizing)?;
        let aborter = upload.aborter();
        let mut encoder = Encoder::new(upload, codec, plan.recipients.as_ref())?;
        let command = plan
            .engine
            .kind()
            .dump_command(target, &plan.dump_args, &plan.connection);
        let dump = command.spawn()?;

        // Any early return below drops the encoder and with it the upload,
        // which aborts it: nothing is left at the name.
        let mut inspector = DumpInspector::new();
        self.copy_all(label, dump, &mut encoder, &mut inspector, &aborter, clock)?;
        let evidence = inspector.finish();
        if evidence.completion_line == Some(false) {
            return Err(Error::Dump {
                database: label.into(),
                message: "the dump exited 0 but ended without its completion line: it is \
                          incomplete, so it was not stored"
                    .into(),
            });
        }
        let (upload, encoded) = encoder.finish()?;
        let committed = upload.commit()?;

        let manifest = self.manifest(target, object, codec, started_at, &encoded, evidence);
        let manifest_name = Manifest::object_name(object);
        if let Err(e) = self.write_manifest(&manifest_name, &manifest) {
            // Without its manifest the data object is not a backup: remove it
            // rather than leave something that looks like one, but only if it
            // is still the object this run wrote.
            if let Err(cleanup) = plan.remote.delete_committed(&committed) {
                tracing::error!("could not remove {object} after its manifest failed: {cleanup}");
            }
            return Err(e);
        }
        Ok(BackupStats {
            raw_bytes: encoded.raw_bytes,
            stored_bytes: encoded.stored_bytes,
            sha256: encoded.sha256,
            manifest: manifest_name,
            elapsed: clock.elapsed(),
            storage_retries: crate::storage::retries().saturating_sub(retries_before),
            parts: 0,
        })
    }

    /// Copies the whole dump into the encoder ([`copy_watched`]) and
    /// checks that the dump tool ended well; on any failure, or when the
    /// run is cancelled, the dump is killed.
    ///
    /// [`copy_watched`]: Self::copy_watched
    fn copy_all<W: Write + Send + 'static>(
        &self,
        label: &str,
        mut dump: DumpReader,
        encoder: &mut Encoder<W>,
        inspector: &mut DumpInspector,
        aborter: &UploadAborter,
        clock: Instant,
    ) -> Result<()> {
        if let Err(e) = self.copy_watched(label, &mut dump, encoder, inspector, aborter, clock) {
            dump.kill();
            return Err(e);
        }
        // A terminal's Ctrl-C reaches the dump tool too: report the
        // interruption rather than the dump's death.
        if self.cancel.load(Ordering::Relaxed) {
            dump.kill();
            return Err(Error::Interrupted);
        }
        dump.finish()
    }

    /// [`copy`](Self::copy) with a watcher that, when the run is cancelled,
    /// kills the dump and aborts the upload, so that neither a dump blocked
    /// without output (waiting for a lock) nor a stalled upload can hold the
    /// run up.
    fn copy_watched<W: Write + Send + 'static>(
        &self,
        label: &str,
        dump: &mut DumpReader,
        encoder: &mut Encoder<W>,
        inspector: &mut DumpInspector,
        aborter: &UploadAborter,
        clock: Instant,
    ) -> Result<()> {
        let killer = dump.killer();
        let copying = AtomicBool::new(true);
        std::thread::scope(|scope| {
            scope.spawn(|| {
                while copying.load(Ordering::Relaxed) {
                    if self.cancel.load(Ordering::Relaxed) {
                        // The upload first: the dump may take its grace.
                        aborter.abort();
                        killer.kill();
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            });
            let _done = crate::interrupt::ClearOnDrop(&copying);
            self.copy(label, dump, encoder, inspector, clock)
        })
    }

    /// Copies the dump into the encoder, reporting progress and honouring
    /// the cancel flag.
    fn copy<W: Write + Send + 'static>(
        &self,
        label: &str,
        dump: &mut DumpReader,
        encoder: &mut Encoder<W>,
        inspector: &mut DumpInspector,
        clock: Instant,
    ) -> Result<()> {
        let mut buf = vec![0u8; READ_CHUNK];
        let mut last_report = Instant::now();
        loop {
            if self.cancel.load(Ordering::Relaxed) {
                return Err(Error::Interrupted);
            }
            let n = match dump.read(&mut buf) {
                Ok(0) if self.cancel.load(Ordering::Relaxed) => return Err(Error::Interrupted),
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(Error::io(format!("reading the dump of {label}"), e)),
            };
            inspector.update(&buf[..n]);
            if let Err(e) = encoder.write_all(&buf[..n]) {
                if self.cancel.load(Ordering::Relaxed) {
                    return Err(Error::Interrupted);
                }
                return Err(Error::io(format!("streaming the backup of {label}"), e));
            }
            if last_report.elapsed() >= PROGRESS_EVERY {
                last_report = Instant::now();
                self.progress.advanced(
                    label,
                    encoder.raw_bytes(),
                    encoder.stored_bytes(),
                    clock.elapsed(),
                );
            }
        }
    }
}

#[cfg(test)]
mod tests;
