//! A database as a parallel backup set (PostgreSQL): a coordinator locks
//! the tables and exports one snapshot; the schema comes from `pg_dump`
//! at that snapshot, the table data from up to N `COPY` sessions that read
//! at it, large tables cut into page ranges. Each part streams through its
//! own compress -> encrypt -> upload pipeline and commits on its own; the
//! manifest, written once every part committed, is the set's commit point.
//! A run that fails removes the parts it committed.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::Utc;

use super::set_layout::{Cut, PartPlan};
use super::RunContext;
use crate::config::SetOptions;
use crate::encode::Encoder;
use crate::engine::{SetSource, Target};
use crate::error::{Error, Result};
use crate::evidence::DumpInspector;
use crate::manifest::{Kind, Manifest, Section, SetLayout, SetPart};
use crate::pool;
use crate::report::{BackupStats, Progress};
use crate::storage::{Committed, Sizing};

/// What a set of `database` would take now, in one line: its tables, the
/// parts, the tables cut into ranges, and whether the server reads page
/// ranges. Opens (and at once closes) the coordinator: the locks and the
/// snapshot are taken as a backup would take them.
pub(crate) fn describe(
    plan: &crate::config::Plan,
    database: &str,
    options: &SetOptions,
) -> Result<String> {
    let source = SetSource {
        conn: &plan.connection,
        dump_args: &plan.dump_args,
        database,
        lock_timeout: options.lock_timeout,
    };
    let (mut coordinator, oids) = source.open(&crate::interrupt::interrupted)?;
    let described = (|| {
        let tables = coordinator.tables(&oids)?;
        let cut = Cut {
            set: "",
            sql_suffix: "",
            archive_suffix: "",
            jobs: options.jobs,
            split_size: options.split_size,
            tid_ranges: coordinator.tid_ranges(),
            block_size: coordinator.block_size,
        };
        let parts = cut.parts(&tables);
        let mut split: std::collections::BTreeMap<&str, usize> = Default::default();
        for part in parts.iter().filter(|p| p.pages.is_some()) {
            if let Some(t) = &part.table {
                *split.entry(t.quoted.as_str()).or_default() += 1;
            }
        }
        let own = parts.iter().filter(|p| p.section == Section::Table).count();
        let split_text = if split.is_empty() {
            "no table cut into page ranges".to_string()
        } else {
            let list: Vec<String> = split.iter().map(|(t, n)| format!("{t} into {n}")).collect();
            format!("cut into page ranges: {}", list.join(", "))
        };
        let ranges = if cut.tid_ranges {
            "page ranges available".to_string()
        } else {
            format!(
                "no page ranges on server {} (PostgreSQL 14 and later): large tables stay whole",
                coordinator.version
            )
        };
        Ok(format!(
            "{} tables with data, {} parts ({own} of tables, {} at once), {split_text}; {ranges}",
            tables.len(),
            parts.len(),
            options.jobs
        ))
    })();
    let closed = coordinator.close();
    described.and_then(|d| closed.map(|()| d))
}

/// What every part of one set shares.
struct SetRun<'a> {
    source: SetSource<'a>,
    snapshot: String,
    encoding: String,
    /// Tables (schema, name) with parts of their own: the data part
    /// leaves them out.
    own_parts: Vec<(String, String)>,
}

impl RunContext<'_> {
    /// Backs `database` up as the set `name`.
    pub(super) fn stream_set(
        &self,
        database: &str,
        name: &str,
        options: &SetOptions,
    ) -> Result<BackupStats> {
        let plan = self.plan;
        let started_at = Utc::now();
        let clock = Instant::now();
        let retries_before = crate::storage::retries();
        let source = SetSource {
            conn: &plan.connection,
            dump_args: &plan.dump_args,
            database,
            lock_timeout: options.lock_timeout,
        };
        let stop = || self.cancel.load(Ordering::Relaxed) || crate::interrupt::interrupted();
        // Held until the manifest is written or the parts are removed: a
        // prune's clean-up of leftovers leaves the folder's parts alone
        // while it is, also between the last part's commit and the
        // manifest's, when no part has a claim of its own.
        let _claim = plan.remote.hold_claim(name)?;
        let (mut coordinator, oids) = source.open(&stop)?;
        let tables = coordinator.tables(&oids)?;
        let encrypted = plan.recipients.is_some();
        let age = if encrypted { ".age" } else { "" };
        let ext = plan.codec.extension();
        let dot = if ext.is_empty() { "" } else { "." };
        let sql_suffix = format!("sql{dot}{ext}{age}");
        let archive_suffix = format!("dump{dot}{ext}{age}");
        let cut = Cut {
            set: name,
            sql_suffix: &sql_suffix,
            archive_suffix: &archive_suffix,
            jobs: options.jobs,
            split_size: options.split_size,
            tid_ranges: coordinator.tid_ranges(),
            block_size: coordinator.block_size,
        };
        let parts = cut.parts(&tables);
        if !cut.tid_ranges && tables.iter().any(|t| t.bytes > options.split_size) {
            tracing::warn!(
                "{database}: PostgreSQL {} cannot read page ranges (14 and later can): tables \
                 larger than the split size stay whole",
                coordinator.version
            );
        }
        let run = SetRun {
            source,
            snapshot: coordinator.snapshot.clone(),
            encoding: coordinator.encoding.clone(),
            own_parts: parts
                .iter()
                .filter_map(|p| p.table.as_ref())
                .map(|t| (t.schema.clone(), t.name.clone()))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect(),
        };
        tracing::info!(
            "{database}: a set of {} parts at snapshot {}, {} at once",
            parts.len(),
            run.snapshot,
            options.jobs
        );
        let streamed = self.stream_parts(database, &run, &parts, options.jobs);
        let closed = coordinator.close();
        let committed = match (streamed, closed) {
            (Ok(committed), Ok(())) => committed,
            (Ok(committed), Err(e)) => {
                self.remove_parts(name, &committed);
                return Err(e);
            }
            (Err((e, committed)), _) => {
                self.remove_parts(name, &committed);
                return Err(e);
            }
        };
        let records: Vec<SetPart> = committed.iter().map(|(p, _)| p.clone()).collect();
        let layout = SetLayout {
            snapshot: run.snapshot.clone(),
            jobs: options.jobs,
            split_size: options.split_size,
            tid_ranges: cut.tid_ranges,
            parts: records,
        };
        let manifest = self.set_manifest(database, name, started_at, layout);
        let manifest_name = Manifest::object_name(name);
        if let Err(e) = self.write_manifest(&manifest_name, &manifest) {
            self.remove_parts(name, &committed);
            return Err(e);
        }
        Ok(BackupStats {
            raw_bytes: manifest.raw_bytes,
            stored_bytes: manifest.stored_bytes,
            sha256: manifest.sha256.clone(),
            manifest: manifest_name,
            elapsed: clock.elapsed(),
            storage_retries: crate::storage::retries().saturating_sub(retries_before),
            parts: committed.len(),
        })
    }

    /// Streams every part, `jobs` at once, largest first; the first failure
    /// stops the others. The parts committed (all of them, in restore
    /// order, or those committed before the failure).
    #[allow(clippy::type_complexity)]
    fn stream_parts(
        &self,
        database: &str,
        run: &SetRun<'_>,
        parts: &[PartPlan],
        jobs: usize,
    ) -> std::result::Result<Vec<(SetPart, Committed)>, (Error, Vec<(SetPart, Committed)>)> {
        let stopped = AtomicBool::new(false);
        let progress = SetProgress::new(self.progress, database, parts.len());
        let part_context = RunContext {
            plan: self.plan,
            versions: self.versions.clone(),
            progress: &progress,
            cancel: &stopped,
            run_id: self.run_id,
        };
        // Schema first (small, and they lock every table early), then the
        // largest data first.
        let mut order: Vec<usize> = (0..parts.len()).collect();
        order.sort_by_key(|&i| match parts[i].section {
            Section::PreData => (0, 0),
            Section::PostData => (1, 0),
            _ => (2, u64::MAX - parts[i].expected),
        });
        let running = AtomicBool::new(true);
        let results = std::thread::scope(|scope| {
            scope.spawn(|| {
                while running.load(Ordering::Relaxed) {
                    if self.cancel.load(Ordering::Relaxed) {
                        stopped.store(true, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            });
            let _done = crate::interrupt::ClearOnDrop(&running);
            pool::run_all(&order, jobs, |&i| {
                if stopped.load(Ordering::Relaxed) {
                    return (i, Err(Error::Interrupted));
                }
                let result = part_context.stream_part(run, &parts[i], i);
                if result.is_err() {
                    stopped.store(true, Ordering::Relaxed);
                }
                (i, result)
            })
        });
        let mut committed: Vec<Option<(SetPart, Committed)>> = vec![None; parts.len()];
        let mut first_error = None;
        for (i, result) in results {
            match result {
                Ok(done) => committed[i] = Some(done),
                // The part that failed first says why; the others were
                // stopped by it.
                Err(Error::Interrupted) => {}
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        let done: Vec<(SetPart, Committed)> = committed.into_iter().flatten().collect();
        let error = if self.cancel.load(Ordering::Relaxed) {
            Some(Error::Interrupted)
        } else if done.len() < parts.len() {
            Some(first_error.unwrap_or(Error::Interrupted))
        } else {
            None
        };
        match error {
            Some(e) => Err((e, done)),
            None => Ok(done),
        }
    }

    /// Streams one part into its object and commits it.
    fn stream_part(
        &self,
        run: &SetRun<'_>,
        part: &PartPlan,
        index: usize,
    ) -> Result<(SetPart, Committed)> {
        let plan = self.plan;
        let label = format!("{}#{index}", run.source.database);
        let sizing = Sizing::new(Some(part.expected), plan.max_parts);
        let upload = plan.remote.upload_sized(&part.object, &sizing)?;
        let aborter = upload.aborter();
        let mut encoder = Encoder::new(upload, plan.codec, plan.recipients.as_ref())?;
        let mut inspector = DumpInspector::new();
        // A section of the schema or the small tables' data, at the set's
        // snapshot and in its encoding.
        let section = |name: &str, custom: bool, skip_data: &[(String, String)]| {
            let dump = run.source.section(
                Some(&run.snapshot),
                Some(&run.encoding),
                name,
                custom,
                skip_data,
            );
            (dump, None)
        };
        let (command, header) = match (&part.section, &part.table) {
            (Section::PreData, _) => section("pre-data", false, &[]),
            (Section::Data, _) => section("data", false, &run.own_parts),
            (Section::PostData, _) => section("post-data", true, &[]),
            (_, Some(table)) => {
                let (source, header) =
                    copy_statements(table, part.pages, &run.snapshot, &run.encoding);
                (
                    run.source.copy(&run.snapshot, &run.encoding, &source),
                    Some(header),
                )
            }
            (_, None) => unreachable!("a table part names its table"),
        };
        let dump = command.spawn()?;
        let write = |encoder: &mut Encoder<_>, inspector: &mut DumpInspector, bytes: &[u8]| {
            inspector.update(bytes);
            encoder
                .write_all(bytes)
                .map_err(|e| Error::io(format!("streaming {}", part.object), e))
        };
        if let Some(header) = &header {
            write(&mut encoder, &mut inspector, header.as_bytes())?;
        }
        let clock = Instant::now();
        self.copy_all(&label, dump, &mut encoder, &mut inspector, &aborter, clock)?;
        if header.is_some() {
            write(&mut encoder, &mut inspector, b"\\.\n\n")?;
        }
        let evidence = inspector.finish();
        let from_pg_dump = header.is_none() && part.section != Section::PostData;
        if from_pg_dump && evidence.completion_line != Some(true) {
            return Err(Error::Dump {
                database: run.source.database.into(),
                message: format!(
                    "pg_dump exited 0 but its {} ended without its completion line: it is \
                     incomplete, so the set was not stored",
                    part.object
                ),
            });
        }
        let (upload, encoded) = encoder.finish()?;
        let committed = upload.commit()?;
        Ok((
            SetPart {
                object: part.object.clone(),
                section: part.section,
                table: part.table.as_ref().map(|t| t.quoted.clone()),
                pages: part.pages,
                rows: evidence.rows,
                raw_bytes: encoded.raw_bytes,
                stored_bytes: encoded.stored_bytes,
                sha256: encoded.sha256,
            },
            committed,
        ))
    }

    /// Removes the parts a failed run committed (only those it wrote), then
    /// the set's folder `name` if that left it empty (on backends with
    /// folders; after a signal too, bounded).
    fn remove_parts(&self, name: &str, committed: &[(SetPart, Committed)]) {
        for (part, handle) in committed {
            if let Err(e) = self.plan.remote.delete_committed(handle) {
                tracing::error!("could not remove {} of a failed set: {e}", part.object);
            }
        }
        let bound = Duration::from_secs(5);
        if let Err(e) = self.plan.remote.remove_empty_folder_within(name, bound) {
            tracing::debug!("left the folder {name} of a failed set in place: {e}");
        }
    }

    /// The manifest of set `name` of `database`.
    fn set_manifest(
        &self,
        database: &str,
        name: &str,
        started_at: chrono::DateTime<Utc>,
        layout: SetLayout,
    ) -> Manifest {
        let plan = self.plan;
        let mut evidence = DumpInspector::new().finish();
        evidence.rows = layout.rows();
        evidence.raw_bytes = layout.parts.iter().map(|p| p.raw_bytes).sum();
        evidence.completion_line = None;
        let encoded = crate::encode::EncodeStats {
            raw_bytes: evidence.raw_bytes,
            stored_bytes: layout.parts.iter().map(|p| p.stored_bytes).sum(),
            sha256: layout.digest(),
        };
        let target = Target::Database(database.to_string());
        let mut manifest = self.manifest(&target, name, plan.codec, started_at, &encoded, evidence);
        manifest.declared_kind = Some(Kind::Set);
        manifest.set = Some(layout);
        manifest
    }
}

/// What a table part copies (`COPY` source, to `TO STDOUT`) and the header
/// that makes its output a script psql replays (`COPY ... FROM stdin;`):
/// its rows are in the set's `encoding`, as the copy reads them and as
/// pg_dump writes the set's sections.
fn copy_statements(
    table: &crate::engine::TableInfo,
    pages: Option<(u64, Option<u64>)>,
    snapshot: &str,
    encoding: &str,
) -> (String, String) {
    let list = if table.columns.is_empty() {
        String::new()
    } else {
        format!(" ({})", table.columns)
    };
    let source = match pages {
        None => format!("{}{list}", table.quoted),
        Some((first, end)) => {
            let upper = end.map_or(String::new(), |end| format!(" AND ctid < '({end},0)'::tid"));
            format!(
                "(SELECT {} FROM ONLY {} WHERE ctid >= '({first},0)'::tid{upper})",
                table.columns, table.quoted
            )
        }
    };
    let range = match pages {
        None => String::new(),
        Some((first, None)) => format!(", pages {first} to the end"),
        Some((first, Some(end))) => format!(", pages {first} to {end}"),
    };
    let header = format!(
        "--\n-- dbbr set part: data of {}{range}, at snapshot {snapshot}\n--\n\n\
         SET client_encoding = '{}';\nSET standard_conforming_strings = on;\n\n\
         COPY {}{list} FROM stdin;\n",
        table.quoted,
        encoding.replace('\'', "''"),
        table.quoted
    );
    (source, header)
}

/// A set's progress as one database: the parts' bytes summed.
struct SetProgress<'a> {
    inner: &'a dyn Progress,
    database: String,
    parts: Mutex<Vec<(u64, u64)>>,
    clock: Instant,
}

impl<'a> SetProgress<'a> {
    fn new(inner: &'a dyn Progress, database: &str, parts: usize) -> Self {
        SetProgress {
            inner,
            database: database.to_string(),
            parts: Mutex::new(vec![(0, 0); parts]),
            clock: Instant::now(),
        }
    }
}

impl Progress for SetProgress<'_> {
    fn advanced(&self, label: &str, raw: u64, stored: u64, _elapsed: Duration) {
        let Some(i) = label
            .rsplit_once('#')
            .and_then(|(_, i)| i.parse::<usize>().ok())
        else {
            return;
        };
        let (raw, stored) = {
            let mut parts = self.parts.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(slot) = parts.get_mut(i) {
                *slot = (raw, stored);
            }
            parts
                .iter()
                .fold((0, 0), |(r, s), (pr, ps)| (r + pr, s + ps))
        };
        self.inner
            .advanced(&self.database, raw, stored, self.clock.elapsed());
    }
}
