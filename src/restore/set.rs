//! Restores a parallel backup set (PostgreSQL): the pre-data, then the
//! data and table parts by up to N concurrent `psql` clients (each part in
//! its own transaction, committed when dbbr says so), the largest tables
//! first, with each table's indexes and constraints built by `pg_restore`
//! as soon as its last part is in, and each foreign key as soon as its two
//! tables are, while the other parts load (the many small tables of one
//! part, and keys ready together, in batches); then the rest of the post-data
//! archive (triggers, partitioned tables' indexes, ...) by `pg_restore -j
//! N`, in an order that respects their dependencies. The archive, DDL
//! only, is decoded into memory and handed to `pg_restore` as a memory
//! file.
//!
//! A set restores into a new or empty database only. A new one is made
//! under a temporary name and renamed into place at the end (dropped on
//! failure); in an empty one, a failure drops what the restore made.
//! `--to-stdout` writes one SQL script that `psql` replays.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use super::client::Finish;
use super::post_data::ForeignKey;
use super::pump::{at_stage, failed_at, pump};
use super::{Context, Sink, Totals, PROGRESS_EVERY};
use crate::decode::Decoder;
use crate::engine::{run_to_end_bytes, DatabaseState, Destination, Input, SetTarget};
use crate::error::{Error, Result, Setting, Stage};
use crate::manifest::{Section, SetLayout, SetPart};
use crate::storage::Download;

/// Bytes of a part restored and read from storage.
type Sizes = (u64, u64);

mod post;
mod queue;

use post::PostData;
use queue::{batches, holds, load_order, tables_of, weight, Queue, Task};

impl Context<'_> {
    /// Restores the set into `sink`: a database (new or empty) or a writer.
    pub(super) fn run_set(&self, sink: Sink) -> Result<Totals> {
        let object = self.opened.object();
        let layout = self.opened.backup.manifest.set.as_ref().ok_or_else(|| {
            self.failed(
                Stage::Manifest,
                format!("{object} is a set whose manifest lists no parts"),
            )
        })?;
        match sink {
            Sink::Writer(out) => {
                let out = out.into_inner().unwrap_or_else(|e| e.into_inner());
                self.set_to_writer(layout, out).map(|(r, s)| (r, s, false))
            }
            Sink::Database(name) => self
                .set_to_database(layout, &name)
                .map(|(r, s)| (r, s, false)),
            Sink::Server => Err(Error::config(
                Setting::Selection,
                format!("{object} is a set of one database: name a database to restore it into"),
            )),
        }
    }

    /// How many parts restore at once: as asked, else as many as the
    /// backup streamed.
    fn set_jobs(&self, layout: &SetLayout) -> usize {
        self.restore.jobs.unwrap_or(layout.jobs).max(1)
    }

    fn set_to_database(&self, layout: &SetLayout, name: &str) -> Result<Sizes> {
        let kind = self.kind();
        let restore = self.restore;
        let state = kind.database_state(name, &self.connection)?;
        match state {
            DatabaseState::Missing if !restore.create && !restore.scratch => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "database `{name}` does not exist: create it, or ask for it to be created"
                    ),
                ))
            }
            DatabaseState::HasTables => {
                return Err(Error::config(
                    Setting::Selection,
                    format!(
                        "database `{name}` already has tables, and a set restores into a new or \
                         empty database only: restore into a new database"
                    ),
                ))
            }
            _ => {}
        }
        let missing = state == DatabaseState::Missing;
        if restore.scratch {
            if missing {
                kind.create_database(name, &self.connection)?;
            }
            return self.set_into(layout, name);
        }
        if missing {
            let staging = self.create_staging()?;
            let done = self.set_into(layout, &staging).and_then(|sizes| {
                kind.rename_database(&staging, name, &self.connection)?;
                Ok(sizes)
            });
            if done.is_err() {
                self.drop_made(&staging);
            }
            return done;
        }
        let target = SetTarget {
            conn: &self.connection,
            database: name,
            check_clients: false,
        };
        let before = target.before()?;
        let done = self.set_into(layout, name);
        if done.is_err() {
            match target.drop_created(&before) {
                Ok(()) => tracing::info!("dropped what the failed restore had made in {name}"),
                Err(e) => tracing::error!(
                    "could not drop what the failed restore had made in {name}: {e} (drop it \
                     by hand)"
                ),
            }
        }
        done
    }

    /// Pre-data, then the data parts `jobs` at once, then post-data.
    fn set_into(&self, layout: &SetLayout, database: &str) -> Result<Sizes> {
        let jobs = self.set_jobs(layout);
        let label = &self.opened.backup.manifest.database;
        self.restore.progress.started(label, self.opened.object());
        self.restore
            .progress
            .sized(label, self.opened.backup.manifest.stored_bytes);
        let stop = AtomicBool::new(false);
        let flow = Flow::default();
        let mut total = (0, 0);
        let add = |total: &mut Sizes, (r, s): Sizes| {
            total.0 += r;
            total.1 += s;
        };
        let to = Destination::Database(database);
        for part in layout
            .parts
            .iter()
            .filter(|p| p.section == Section::PreData)
        {
            add(
                &mut total,
                self.part_into(part, self.client(to)?, &stop, &flow)?,
            );
        }
        let data = load_order(layout);
        let mut target = SetTarget {
            conn: &self.connection,
            database,
            check_clients: false,
        };
        let post = match layout.parts.iter().find(|p| p.section == Section::PostData) {
            Some(part) => {
                target.check_clients = target.checks_clients();
                let tables = data.iter().flat_map(|p| tables_of(p)).collect();
                Some(self.read_post_data(part, &tables, target)?)
            }
            None => None,
        };
        let early = post.as_ref().map_or(0, |p| p.plan.early.len());
        let (results, waiting) = self.load(&data, post.as_ref(), jobs, target, &stop, &flow);
        let keys = post.as_ref().map_or(0, |p| p.plan.keys.len()) - waiting.len();
        let mut first = None;
        for result in results {
            match result {
                Ok(sizes) => add(&mut total, sizes),
                Err(Error::Interrupted) => {
                    first.get_or_insert(Error::Interrupted);
                }
                Err(e) => {
                    if matches!(first, None | Some(Error::Interrupted)) {
                        first = Some(e);
                    }
                }
            }
        }
        if self.restore.cancel.load(Ordering::Relaxed) {
            return Err(Error::Interrupted);
        }
        if let Some(e) = first {
            return Err(e);
        }
        tracing::info!(
            "{label}: schema and {} data parts restored in {:.1}s, {jobs} at once, with the \
             indexes and constraints of {early} tables and {keys} foreign keys; building the rest",
            data.len(),
            flow.clock.elapsed().as_secs_f64()
        );
        if let Some(post) = &post {
            let building = Instant::now();
            self.build_rest(post, &waiting, jobs, target, &stop)?;
            add(&mut total, post.sizes);
            tracing::info!(
                "{label}: the other indexes and constraints built in {:.1}s by pg_restore -j \
                 {jobs}",
                building.elapsed().as_secs_f64()
            );
        }
        Ok(total)
    }

    /// Loads the data parts, `jobs` at once, and builds each table's
    /// indexes and constraints (from `post`) as soon as its last part is
    /// in, and each foreign key between two tables as soon as both are
    /// built, ahead of the parts still waiting. Every task's result, and
    /// the foreign keys not built; after the first failure (which sets
    /// `stop`) no task starts.
    fn load<'p>(
        &self,
        data: &[&'p SetPart],
        post: Option<&'p PostData>,
        jobs: usize,
        target: SetTarget<'_>,
        stop: &AtomicBool,
        flow: &Flow,
    ) -> (Vec<Result<Sizes>>, Vec<&'p ForeignKey>) {
        let mut left: HashMap<&str, usize> = HashMap::new();
        for table in data.iter().flat_map(|p| tables_of(p)) {
            *left.entry(table).or_default() += 1;
        }
        let queue = Mutex::new(Queue {
            tasks: data.iter().map(|p| Task::Part(p)).collect(),
            running: 0,
            jobs,
            left,
            ready: HashSet::new(),
            keys: post.map_or(Vec::new(), |p| p.plan.keys.iter().collect()),
            held: HashSet::new(),
        });
        let changed = Condvar::new();
        let results = Mutex::new(Vec::new());
        let lock = || queue.lock().unwrap_or_else(|e| e.into_inner());
        let worker = || loop {
            let task = {
                let mut q = lock();
                loop {
                    if stop.load(Ordering::Relaxed) || self.restore.cancel.load(Ordering::Relaxed) {
                        return;
                    }
                    if let Some(task) = q.next() {
                        q.running += 1;
                        break task;
                    }
                    if q.running == 0 {
                        return;
                    }
                    q = changed.wait(q).unwrap_or_else(|e| e.into_inner());
                }
            };
            let result = match &task {
                Task::Part(part) => self
                    .client(Destination::Database(target.database))
                    .and_then(|client| self.part_into(part, client, stop, flow)),
                Task::Build(tables) => post
                    .map_or(Ok(()), |post| self.build_tables(post, tables, target, stop))
                    .map(|()| (0, 0)),
                Task::Keys(keys) => post
                    .map_or(Ok(()), |post| self.build_keys(post, keys, target, stop))
                    .map(|()| (0, 0)),
            };
            let mut q = lock();
            q.running -= 1;
            match (&result, task) {
                (Ok(_), Task::Part(part)) => {
                    let mut complete = Vec::new();
                    for table in tables_of(part) {
                        let left = q.left.get_mut(table).expect("counted");
                        *left -= 1;
                        let early = post.is_some_and(|p| p.plan.early.contains_key(table));
                        match (*left, early) {
                            (0, true) => complete.push((table, weight(part, table))),
                            (0, false) => {
                                q.ready.insert(table);
                            }
                            _ => {}
                        }
                    }
                    for batch in batches(complete, jobs).into_iter().rev() {
                        q.tasks.push_front(Task::Build(batch));
                    }
                }
                (Ok(_), Task::Build(tables)) => {
                    q.ready.extend(tables);
                }
                (Ok(_), Task::Keys(keys)) => {
                    for table in keys.iter().flat_map(|key| holds(key)) {
                        q.held.remove(table);
                    }
                }
                (Err(_), _) => stop.store(true, Ordering::Relaxed),
            }
            drop(q);
            results
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(result);
            changed.notify_all();
        };
        std::thread::scope(|scope| {
            for _ in 1..jobs.max(1) {
                scope.spawn(worker);
            }
            worker();
        });
        let waiting = queue.into_inner().unwrap_or_else(|e| e.into_inner()).keys;
        let results = results.into_inner().unwrap_or_else(|e| e.into_inner());
        (results, waiting)
    }

    /// The part's decoded bytes, checked against the manifest as read.
    fn part_decoder(&self, part: &SetPart) -> Result<Decoder<Download>> {
        self.opened
            .part_decoder(part, self.identities)
            .map_err(|e| match e {
                Error::Interrupted => Error::Interrupted,
                e @ Error::Decode { .. } => at_stage(&part.object, e),
                e => part_failed(part, Stage::Download, e.to_string()),
            })
    }

    /// Streams one part into `out`, completed only when every byte was read
    /// and checked; abandoned (its client killed before its input ends) on
    /// any failure, on a cancel, or once `stop` is set by another part.
    fn part_into(
        &self,
        part: &SetPart,
        out: Box<dyn Finish + '_>,
        stop: &AtomicBool,
        flow: &Flow,
    ) -> Result<Sizes> {
        let decoder = self.part_decoder(part)?;
        let label = &self.opened.backup.manifest.database;
        let stopped =
            || stop.load(Ordering::Relaxed) || self.restore.cancel.load(Ordering::Relaxed);
        let mut stored = 0;
        pump(decoder, out, &part.object, &stopped, |n, decoder| {
            let now = decoder.stored_bytes();
            flow.add(n, now - stored);
            stored = now;
            flow.report(self.restore.progress.as_ref(), label);
        })
    }

    /// A part decoded whole into memory (the post-data archive: DDL only).
    fn part_bytes(&self, part: &SetPart) -> Result<(Vec<u8>, u64)> {
        let decoder = self.part_decoder(part)?;
        let mut bytes = Vec::with_capacity(part.raw_bytes.min(1 << 30) as usize);
        let stop = || self.restore.cancel.load(Ordering::Relaxed);
        let stats =
            crate::stored::read_through(decoder, stop, |piece, _| bytes.extend_from_slice(piece))
                .map_err(|e| match e {
                Error::Interrupted => Error::Interrupted,
                e => at_stage(&part.object, e),
            })?;
        Ok((bytes, stats.stored_bytes))
    }

    /// Runs a client to its end, feeding it `input` if given; its stdout
    /// returned. Killed on a cancel, or once `stop` is set by another task;
    /// a failure names the part, the client stage and its last stderr
    /// lines.
    fn run_client(
        &self,
        part: &SetPart,
        cmd: Command,
        program: &str,
        input: Option<&[u8]>,
        stop: &AtomicBool,
    ) -> Result<Vec<u8>> {
        let input = match input {
            Some(bytes) => Input::Bytes(bytes),
            None => Input::From(Stdio::null()),
        };
        let stopped = || {
            (self.restore.cancel.load(Ordering::Relaxed) || stop.load(Ordering::Relaxed))
                .then_some(Error::Interrupted)
        };
        tracing::debug!(target: "dbbr::restore", program, part = part.object, "client runs");
        run_to_end_bytes(cmd, program, input, &stopped).map_err(|e| match e {
            Error::Database { program, message } => {
                part_failed(part, Stage::Client, format!("{program} failed: {message}"))
            }
            e => e,
        })
    }

    /// The set as one SQL script: every SQL part in order, then the
    /// post-data archive as SQL (`pg_restore -f -`).
    fn set_to_writer(&self, layout: &SetLayout, mut out: Box<dyn Write + Send>) -> Result<Sizes> {
        let stop = AtomicBool::new(false);
        let flow = Flow::default();
        let mut total = (0, 0);
        let clock = Instant::now();
        for part in &layout.parts {
            let (raw, stored) = if part.section == Section::PostData {
                let (bytes, stored) = self.part_bytes(part)?;
                let (cmd, program) = self
                    .kind()
                    .archive_script(Destination::Database("-"), &self.restore.client_args)
                    .ok_or_else(|| part_failed(part, Stage::Client, "no archive client".into()))?;
                let script = self.run_client(part, cmd, &program, Some(&bytes), &stop)?;
                out.write_all(&script)
                    .map_err(|e| part_failed(part, Stage::Output, e.to_string()))?;
                (script.len() as u64, stored)
            } else {
                let sink = PartOf(&mut out);
                self.part_into(part, Box::new(sink), &stop, &flow)?
            };
            total.0 += raw;
            total.1 += stored;
        }
        out.flush()
            .map_err(|e| self.failed(Stage::Output, e.to_string()))?;
        tracing::debug!("set written as one script in {:?}", clock.elapsed());
        Ok(total)
    }
}

/// The bytes restored from every part so far, reported about once a
/// second as the set's progress.
struct Flow {
    raw: AtomicU64,
    stored: AtomicU64,
    clock: Instant,
    last: Mutex<Instant>,
}

impl Default for Flow {
    fn default() -> Self {
        Flow {
            raw: AtomicU64::new(0),
            stored: AtomicU64::new(0),
            clock: Instant::now(),
            last: Mutex::new(Instant::now()),
        }
    }
}

impl Flow {
    fn add(&self, raw: u64, stored: u64) {
        self.raw.fetch_add(raw, Ordering::Relaxed);
        self.stored.fetch_add(stored, Ordering::Relaxed);
    }

    /// Reports to `progress` if a second has passed since the last report.
    fn report(&self, progress: &dyn crate::report::Progress, label: &str) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        if last.elapsed() < PROGRESS_EVERY {
            return;
        }
        *last = Instant::now();
        let (raw, stored) = (
            self.raw.load(Ordering::Relaxed),
            self.stored.load(Ordering::Relaxed),
        );
        progress.advanced(label, raw, stored, self.clock.elapsed());
    }
}

/// The writer of a whole set, lent to one part: completing a part does not
/// end the script.
struct PartOf<'a>(&'a mut Box<dyn Write + Send>);

impl Write for PartOf<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0.flush()
    }
}

impl Finish for PartOf<'_> {
    fn complete(self: Box<Self>) -> std::result::Result<(), String> {
        self.0.flush().map_err(|e| e.to_string())
    }

    fn abandon(&mut self) -> String {
        String::new()
    }

    fn killers(&self) -> Vec<super::client::ClientKiller> {
        Vec::new()
    }

    fn stage(&self) -> Stage {
        Stage::Output
    }
}

/// A restore error about one part of a set.
fn part_failed(part: &SetPart, stage: Stage, message: String) -> Error {
    failed_at(&part.object, stage, message)
}

/// An anonymous file in memory holding `bytes`, for a client that reads a
/// file by name (`/proc/PID/fd/N`).
fn memory_file(bytes: &[u8], name: &str) -> io::Result<File> {
    let fd = rustix::fs::memfd_create(name, rustix::fs::MemfdFlags::CLOEXEC)?;
    let mut file = File::from(fd);
    file.write_all(bytes)?;
    Ok(file)
}
