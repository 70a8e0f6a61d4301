//! What a parallel backup set asks of PostgreSQL when it is taken: the
//! coordinator that locks the tables and exports one snapshot, the list of
//! table data `pg_dump` would write, each table's size and columns, and the
//! commands that dump a section or copy a table (or a page range of it) at
//! that snapshot. Restoring one is in `pg_set_restore`.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};
use std::time::Duration;

use serde::Deserialize;

use super::client::{client_env, client_environment, run_to_end, speak_utf8, Connection, Input};
use super::pg_query::dbname_args;
use super::pg_session::Session;
use super::postgres::INSTALL_HINT;
use super::Engine;
use crate::dump::DumpCommand;
use crate::error::{Error, Result};

/// The first server version with TID range scans.
const TID_RANGES_FROM: u32 = 140_000;

/// The first server version with generated columns.
const GENERATED_FROM: u32 = 120_000;

/// How often a set starts again when tables are made while it starts.
const OPEN_ATTEMPTS: u32 = 3;

/// A table of the set, as the coordinator sees it at the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub(crate) struct TableInfo {
    /// Its oid.
    pub oid: u32,
    /// Its schema, unquoted.
    pub schema: String,
    /// Its name, unquoted.
    pub name: String,
    /// `schema.name`, each quoted as SQL needs (as pg_dump writes them).
    pub quoted: String,
    /// `pg_class.relkind`.
    pub kind: String,
    /// `pg_relation_size`, bytes.
    pub bytes: u64,
    /// The columns a `COPY` writes (not generated, not dropped), quoted and
    /// comma separated.
    pub columns: String,
    /// Whether it belongs to an extension (pg_dump writes only what the
    /// extension marks as configuration, with its condition).
    pub extension: bool,
}

/// The session that holds a set's snapshot: a `REPEATABLE READ READ ONLY`
/// transaction with an `ACCESS SHARE` lock on every table whose data the
/// set holds, open until every stream has ended.
pub(crate) struct Coordinator {
    session: Session,
    /// The exported snapshot's id.
    pub snapshot: String,
    /// `server_version_num`.
    pub version: u32,
    /// The encoding the set is written in (see [`set_encoding`]): the
    /// sections' and the copies' `client_encoding`.
    pub encoding: String,
    /// The server's block size (for page ranges).
    pub block_size: u64,
}

/// Where a set connects: the connection, the user's dump arguments, the
/// database.
#[derive(Clone, Copy)]
pub(crate) struct SetSource<'a> {
    /// Password and options.
    pub conn: &'a Connection,
    /// The user's pg_dump arguments.
    pub dump_args: &'a [String],
    /// The database.
    pub database: &'a str,
    /// How long each session waits for a lock.
    pub lock_timeout: Duration,
}

impl SetSource<'_> {
    /// `psql` connected to the database as the dumps are, quiet, unaligned,
    /// stopping at the first error.
    fn psql(&self) -> Command {
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1"]);
        cmd.args(
            self.conn
                .clone()
                .with_args(self.dump_args)
                .connect_args(Engine::Postgres),
        );
        cmd.args(dbname_args(self.database));
        client_environment(&mut cmd, Engine::Postgres, self.conn.env(Engine::Postgres));
        speak_utf8(&mut cmd);
        cmd
    }

    fn lock_ms(&self) -> u128 {
        self.lock_timeout.as_millis().max(1)
    }

    /// `pg_dump` of one section (`pre-data`, `data`, `post-data`) at
    /// `snapshot` (none: as the database is now), in `encoding` (none: the
    /// database's), with the user's arguments, as plain SQL or (`custom`)
    /// a custom archive that dbbr compresses. `skip_data` are the tables
    /// (schema, name) whose data have parts of their own.
    pub(crate) fn section(
        &self,
        snapshot: Option<&str>,
        encoding: Option<&str>,
        section: &str,
        custom: bool,
        skip_data: &[(String, String)],
    ) -> DumpCommand {
        let mut args = vec!["--no-password".to_string()];
        args.extend(snapshot.map(|id| format!("--snapshot={id}")));
        args.extend(encoding.map(|name| format!("--encoding={name}")));
        args.extend([
            format!("--section={section}"),
            format!("--lock-wait-timeout={}ms", self.lock_ms()),
        ]);
        args.extend(dbname_args(self.database));
        if custom {
            args.extend(["-Fc".to_string(), "-Z0".to_string()]);
        }
        args.extend(
            skip_data
                .iter()
                .map(|(schema, name)| format!("--exclude-table-data={}", exact(schema, name))),
        );
        args.extend(self.dump_args.iter().cloned());
        DumpCommand::new(
            client_env(Engine::Postgres, self.conn.env(Engine::Postgres)),
            "pg_dump",
            args,
            self.database,
            INSTALL_HINT,
        )
    }

    /// `psql` writing `COPY (query) TO STDOUT` (or `COPY table (columns) TO
    /// STDOUT`, given as `source`) read at `snapshot`, in the database's
    /// encoding, without row security (as pg_dump reads).
    pub(crate) fn copy(&self, snapshot: &str, encoding: &str, source: &str) -> DumpCommand {
        let mut args: Vec<String> = ["-X", "-q", "-A", "-t", "-w", "-v", "ON_ERROR_STOP=1"]
            .map(String::from)
            .to_vec();
        args.extend(
            self.conn
                .clone()
                .with_args(self.dump_args)
                .connect_args(Engine::Postgres),
        );
        args.extend(dbname_args(self.database));
        for sql in [
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY".to_string(),
            format!("SET TRANSACTION SNAPSHOT {}", literal(snapshot)),
            format!("SET LOCAL lock_timeout = {}", self.lock_ms()),
            "SET LOCAL statement_timeout = 0".to_string(),
            "SET LOCAL row_security = off".to_string(),
            format!("SET LOCAL client_encoding = {}", literal(encoding)),
            format!("COPY {source} TO STDOUT"),
            "COMMIT".to_string(),
        ] {
            args.push("-c".into());
            args.push(sql);
        }
        DumpCommand::new(
            client_env(Engine::Postgres, self.conn.env(Engine::Postgres)),
            "psql",
            args,
            self.database,
            INSTALL_HINT,
        )
    }

    /// Opens a set: lists the tables whose data pg_dump would write now,
    /// starts the coordinator on them ([`SetSource::coordinate`]), then
    /// lists them again at its snapshot. A table listed at the snapshot
    /// but not before (made in between) was not locked: the coordinator is
    /// closed and all starts again, a few times at most. The coordinator
    /// and the tables with data at its snapshot.
    pub(crate) fn open(&self, stop: &dyn Fn() -> bool) -> Result<(Coordinator, Vec<u32>)> {
        for _ in 0..OPEN_ATTEMPTS {
            let before = self
                .table_data(None, stop)
                .map_err(|e| self.listing_lock_error(e))?;
            let coordinator = self.coordinate(&before, stop)?;
            let at_snapshot = self.table_data(Some(&coordinator.snapshot), stop)?;
            let before: BTreeSet<u32> = before.into_iter().collect();
            if at_snapshot.iter().all(|oid| before.contains(oid)) {
                return Ok((coordinator, at_snapshot));
            }
            coordinator.close()?;
            tracing::info!(
                "{}: tables were made while the set started: starting again",
                self.database
            );
        }
        Err(Error::Database {
            program: "pg_dump".into(),
            message: format!(
                "tables of {} were made while the set started, {OPEN_ATTEMPTS} times: run the \
                 backup again",
                self.database
            ),
        })
    }

    /// The oids of the tables whose data `pg_dump --section=data` with the
    /// user's arguments would write (its selection and exclusions, as
    /// pg_dump decides them), at `snapshot` (none: now): the table of
    /// contents of a custom archive, read by `pg_restore -l`, and the dump
    /// stopped there.
    pub(crate) fn table_data(
        &self,
        snapshot: Option<&str>,
        stop: &dyn Fn() -> bool,
    ) -> Result<Vec<u32>> {
        let dump = self.section(snapshot, None, "data", true, &[]);
        let mut dump = dump.spawn()?;
        let mut list = Command::new("pg_restore");
        list.arg("-l");
        client_environment(&mut list, Engine::Postgres, None);
        let toc = feed(&mut dump, list, stop);
        // The archive's data is not wanted: stop the dump. When the listing
        // failed (not stopped), the dump may have failed first (a lock it
        // waited for in vain): its error is the one to report.
        let grace = match &toc {
            Err(e) if !matches!(e, Error::Interrupted) => Duration::from_millis(500),
            _ => Duration::ZERO,
        };
        let ended = dump.end_early(grace);
        let toc = toc.map_err(|e| match ended {
            Err(dump_error) => dump_error,
            Ok(()) => e,
        })?;
        Ok(toc
            .lines()
            .filter(|l| !l.starts_with(';'))
            .filter_map(|line| {
                let fields: Vec<&str> = line.split_whitespace().collect();
                (fields.get(3..5) == Some(&["TABLE", "DATA"][..]))
                    .then(|| fields.get(2)?.parse().ok())
                    .flatten()
            })
            .collect())
    }

    /// Starts the coordinator: opens the transaction, locks the tables
    /// `oids` (those pg_dump would write, and no other: a table left out is
    /// not held from its owners; waiting [`SetSource::lock_timeout`] at
    /// most for each, then failing with the table and the session holding
    /// it), and exports the snapshot. `stop` interrupts it.
    fn coordinate(&self, oids: &[u32], stop: &dyn Fn() -> bool) -> Result<Coordinator> {
        let mut session = Session::start(self.psql())?;
        // Named, so that whoever looks at the server's sessions can tell
        // the one holding a set's snapshot.
        session.query(
            "SET statement_timeout = 0; SET idle_in_transaction_session_timeout = 0; \
             SELECT set_config('application_name', \
             left(current_setting('application_name'), 30) || ' (dbbr set coordinator)', false);",
            stop,
        )?;
        #[derive(Deserialize)]
        struct Listed {
            oid: u32,
            quoted: String,
        }
        let tables: Vec<Listed> = if oids.is_empty() {
            Vec::new()
        } else {
            let list: Vec<String> = oids.iter().map(u32::to_string).collect();
            let listed = session.query(
                &format!(
                    "SELECT coalesce(json_agg(json_build_object('oid', c.oid::int8, 'quoted', \
                     quote_ident(n.nspname) || '.' || quote_ident(c.relname)) ORDER BY c.oid), \
                     '[]') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
                     WHERE c.relkind IN ('r', 'p') AND c.oid IN ({});",
                    list.join(", ")
                ),
                stop,
            )?;
            parse_json(&listed)?
        };
        // Locks before the snapshot: LOCK takes none, so the snapshot the
        // transaction exports sees every table as it is once locked.
        let mut script = format!(
            "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL lock_timeout = {};\n",
            self.lock_ms()
        );
        for (i, table) in tables.iter().enumerate() {
            script.push_str(&format!(
                "LOCK TABLE ONLY {} IN ACCESS SHARE MODE;\n\\echo __dbbr_locked {i}\n",
                table.quoted
            ));
        }
        script.push_str(
            "SELECT pg_export_snapshot(), current_setting('server_version_num'), \
             current_setting('server_encoding'), current_setting('block_size');",
        );
        let out = match session.query(&script, stop) {
            Ok(out) => out,
            Err(Error::Database { message, .. }) => {
                let tail = session.stderr_tail();
                // The table after the last one locked is the one that was not.
                let next = session
                    .partial()
                    .iter()
                    .rev()
                    .find_map(|l| l.strip_prefix("__dbbr_locked ")?.parse::<usize>().ok())
                    .map_or(0, |i| i + 1);
                return Err(match tables.get(next) {
                    Some(t) if tail.contains("lock timeout") => self.lock_error(t.oid, &t.quoted),
                    _ => Error::Database {
                        program: "psql".into(),
                        message,
                    },
                });
            }
            Err(e) => return Err(e),
        };
        let row = out.last().cloned().unwrap_or_default();
        let fields: Vec<&str> = row.split('|').collect();
        let bad = || Error::Database {
            program: "psql".into(),
            message: format!("unexpected snapshot line {row:?}"),
        };
        let [snapshot, version, encoding, block] = fields[..] else {
            return Err(bad());
        };
        Ok(Coordinator {
            snapshot: snapshot.to_string(),
            version: version.parse().map_err(|_| bad())?,
            encoding: set_encoding(encoding).to_string(),
            block_size: block.parse().map_err(|_| bad())?,
            session,
        })
    }

    /// `e`, or, when it is a listing's `pg_dump` that waited in vain for a
    /// table's lock (`LOCK TABLE NAME[, NAME...] IN ACCESS SHARE MODE` in
    /// its message) that another session holds, the same error as the
    /// coordinator's own wait gives: the table and the session.
    fn listing_lock_error(&self, e: Error) -> Error {
        let text = e.to_string();
        let names = text
            .split_once("LOCK TABLE ")
            .and_then(|(_, rest)| rest.split_once(" IN ACCESS SHARE MODE"))
            .map(|(names, _)| names);
        let Some(names) = names.filter(|_| text.contains("timeout")) else {
            return e;
        };
        let names: Vec<String> = names.split(", ").map(literal).collect();
        let query = format!(
            "SELECT c.oid || '|' || quote_ident(n.nspname) || '.' || quote_ident(c.relname) \
             FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
             JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE l.mode = 'AccessExclusiveLock' AND l.granted AND l.pid <> pg_backend_pid() \
             AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database()) \
             AND quote_ident(n.nspname) || '.' || quote_ident(c.relname) IN ({}) LIMIT 1;",
            names.join(", ")
        );
        let held = Session::start(self.psql())
            .and_then(|mut s| s.run(&query))
            .ok()
            .and_then(|lines| lines.into_iter().find(|l| !l.trim().is_empty()));
        let parsed = held.as_deref().and_then(|line| {
            let (oid, table) = line.split_once('|')?;
            Some((oid.parse::<u32>().ok()?, table.to_string()))
        });
        match parsed {
            Some((oid, table)) => self.lock_error(oid, &table),
            None => e,
        }
    }

    /// A lock that did not come in time, with the sessions that hold or
    /// wait for a conflicting one (those the table's `ACCESS EXCLUSIVE`
    /// locks belong to).
    fn lock_error(&self, oid: u32, table: &str) -> Error {
        let query = format!(
            "SELECT string_agg(format('session %s (user %s, application %s, %s%s)', a.pid, \
             a.usename, nullif(a.application_name, ''), a.state, \
             CASE WHEN l.granted THEN ', holding' ELSE ', waiting' END), '; ') \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.relation = {oid} AND l.mode = 'AccessExclusiveLock';"
        );
        let holders = Session::start(self.psql())
            .and_then(|mut s| s.run(&query))
            .ok()
            .and_then(|lines| lines.into_iter().find(|l| !l.trim().is_empty()))
            .unwrap_or_else(|| "a session that has ended since".into());
        Error::Database {
            program: "psql".into(),
            message: format!(
                "could not lock table {table} within {}s: {holders} has an ACCESS EXCLUSIVE \
                 lock on it: end that session, or raise BACKUP_LOCK_TIMEOUT",
                self.lock_timeout.as_secs_f64()
            ),
        }
    }
}

impl Coordinator {
    /// Whether the server reads page ranges (TID range scans).
    pub(crate) fn tid_ranges(&self) -> bool {
        self.version >= TID_RANGES_FROM
    }

    /// Size, columns and kind of the tables `oids`, at the snapshot.
    pub(crate) fn tables(&mut self, oids: &[u32]) -> Result<Vec<TableInfo>> {
        if oids.is_empty() {
            return Ok(Vec::new());
        }
        let generated = if self.version >= GENERATED_FROM {
            "AND a.attgenerated = ''"
        } else {
            ""
        };
        let list: Vec<String> = oids.iter().map(u32::to_string).collect();
        let out = self.session.run(&format!(
            "SELECT coalesce(json_agg(json_build_object('oid', c.oid::int8, 'schema', \
             n.nspname, 'name', c.relname, 'quoted', quote_ident(n.nspname) || '.' || \
             quote_ident(c.relname), 'kind', c.relkind::text, 'bytes', \
             pg_relation_size(c.oid), 'columns', coalesce((SELECT string_agg(\
             quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a \
             WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped {generated}), ''), \
             'extension', EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = \
             'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')) ORDER BY c.oid), \
             '[]') FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE c.oid IN ({});",
            list.join(", ")
        ))?;
        parse_json(&out)
    }

    /// Ends the transaction (its locks and snapshot go with it). `Err`
    /// when the session had ended before: the snapshot was not held to the
    /// end, so what was read after that cannot be trusted.
    pub(crate) fn close(mut self) -> Result<()> {
        let alive = self.session.run("SELECT 1;");
        self.session.close("COMMIT;");
        alive.map(drop).map_err(|e| Error::Database {
            program: "psql".into(),
            message: format!(
                "the session holding the set's snapshot ended before the set was complete: {e}"
            ),
        })
    }
}

/// A pg_dump pattern that matches exactly `schema.name`.
fn exact(schema: &str, name: &str) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!("{}.{}", quote(schema), quote(name))
}

/// The encoding a set of a database whose encoding is `server` is written
/// in: UTF-8, to which every server encoding converts, so that the names in
/// the statements dbbr writes (UTF-8, as all its text) mean what they say
/// in every part; a `SQL_ASCII` database's bytes are not converted by the
/// server, so its set stays `SQL_ASCII`, as pg_dump writes it.
fn set_encoding(server: &str) -> &'static str {
    if server.eq_ignore_ascii_case("SQL_ASCII") {
        "SQL_ASCII"
    } else {
        "UTF8"
    }
}

/// An SQL string literal.
pub(super) fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

pub(super) fn parse_json<T: for<'de> Deserialize<'de>>(lines: &[String]) -> Result<T> {
    let text = lines.join("\n");
    serde_json::from_str(&text).map_err(|e| Error::Database {
        program: "psql".into(),
        message: format!("unexpected answer from the server: {e}"),
    })
}

/// Runs `program` with the dump's output on its stdin and returns its
/// stdout, as [`run_to_end`] does; [`Error::Interrupted`] once `stop` says
/// so, since the dump may wait for locks.
fn feed(
    dump: &mut crate::dump::DumpReader,
    program: Command,
    stop: &dyn Fn() -> bool,
) -> Result<String> {
    let input = dump.take_stdout().ok_or_else(|| Error::Database {
        program: "pg_restore".into(),
        message: "the dump's output is gone".into(),
    })?;
    let stop = || stop().then_some(Error::Interrupted);
    run_to_end(
        program,
        "pg_restore",
        Input::From(Stdio::from(input)),
        &stop,
    )
}
