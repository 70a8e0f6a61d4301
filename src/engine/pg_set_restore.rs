//! What restoring a parallel backup set asks of PostgreSQL: what an empty
//! target held before, dropping what a failed restore made, and
//! `pg_restore -j` of the post-data archive.

use std::process::Command;

use serde::Deserialize;

use super::client::{client_environment, env_nonempty, speak_utf8, Connection};
use super::pg_query::dbname_args;
use super::pg_set::{literal, parse_json};
use super::Engine;
use crate::error::Result;

/// What an empty database held before a set was restored into it: what a
/// failed restore must leave. Objects are `classid:objid` of every object
/// of [`OBJECTS`] that is not the system's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Before {
    objects: Vec<String>,
    large_objects: Vec<u32>,
}

/// Every object of a database that a restore can make and that is not a
/// part of another (`classid`, `objid`): one query over the catalogs, the
/// same before a restore and after it. Parts of other objects (columns,
/// indexes, constraints, triggers, rules, policies, row types, array types,
/// statistics) and extensions' members go with what holds them.
const OBJECTS: &str = "SELECT c.classid, c.objid FROM (
  SELECT 'pg_namespace'::regclass AS classid, oid AS objid FROM pg_namespace
  UNION ALL SELECT 'pg_extension'::regclass, oid FROM pg_extension
  UNION ALL SELECT 'pg_class'::regclass, oid FROM pg_class
  UNION ALL SELECT 'pg_proc'::regclass, oid FROM pg_proc
  UNION ALL SELECT 'pg_type'::regclass, oid FROM pg_type
  UNION ALL SELECT 'pg_collation'::regclass, oid FROM pg_collation
  UNION ALL SELECT 'pg_conversion'::regclass, oid FROM pg_conversion
  UNION ALL SELECT 'pg_operator'::regclass, oid FROM pg_operator
  UNION ALL SELECT 'pg_opclass'::regclass, oid FROM pg_opclass
  UNION ALL SELECT 'pg_opfamily'::regclass, oid FROM pg_opfamily
  UNION ALL SELECT 'pg_cast'::regclass, oid FROM pg_cast
  UNION ALL SELECT 'pg_ts_config'::regclass, oid FROM pg_ts_config
  UNION ALL SELECT 'pg_ts_dict'::regclass, oid FROM pg_ts_dict
  UNION ALL SELECT 'pg_ts_parser'::regclass, oid FROM pg_ts_parser
  UNION ALL SELECT 'pg_ts_template'::regclass, oid FROM pg_ts_template
  UNION ALL SELECT 'pg_publication'::regclass, oid FROM pg_publication
  UNION ALL SELECT 'pg_event_trigger'::regclass, oid FROM pg_event_trigger
  UNION ALL SELECT 'pg_foreign_data_wrapper'::regclass, oid FROM pg_foreign_data_wrapper
  UNION ALL SELECT 'pg_foreign_server'::regclass, oid FROM pg_foreign_server
  UNION ALL SELECT 'pg_user_mapping'::regclass, oid FROM pg_user_mapping
  UNION ALL SELECT 'pg_language'::regclass, oid FROM pg_language
  UNION ALL SELECT 'pg_transform'::regclass, oid FROM pg_transform
  UNION ALL SELECT 'pg_am'::regclass, oid FROM pg_am
  UNION ALL SELECT 'pg_default_acl'::regclass, oid FROM pg_default_acl
) c WHERE c.objid >= 16384 AND NOT EXISTS (SELECT 1 FROM pg_depend d
  WHERE d.classid = c.classid AND d.objid = c.objid AND d.objsubid = 0
  AND (d.refclassid, d.refobjid) <> (c.classid, c.objid) AND d.deptype IN ('e', 'i', 'a'))";

/// How many objects a failed restore's clean-up drops in one transaction:
/// each drop locks its object and what goes with it (a table's indexes,
/// its TOAST table, its keys' other table) until the commit, and the
/// server's lock table holds about `max_locks_per_transaction` (64) times
/// its connections; a restore of thousands of tables would not fit in one.
const DROPS_PER_COMMIT: usize = 100;

/// The order in which a failed restore's objects are dropped: event
/// triggers first (they would fire on the drops), then publications, then
/// the rest, and extensions and schemas last: a schema dropped first
/// would take all its tables in one statement, which holds all their
/// locks at once (a schema of a thousand tables fills the server's lock
/// table); dropped last, it is empty but for what goes with it.
const DROP_ORDER: &str = "CASE (pg_identify_object(classid, objid, 0)).type
  WHEN 'event trigger' THEN 0 WHEN 'publication' THEN 1 WHEN 'extension' THEN 3
  WHEN 'schema' THEN 4 ELSE 2 END";

/// The application name of this process's sessions restoring a set (its
/// data parts' `psql`, the `pg_restore` runs building indexes and
/// constraints), by which a clean-up finds and stops them.
pub(crate) fn session_name() -> String {
    format!("dbbr restore {}", std::process::id())
}

/// Where a set restores: the connection (with the client arguments) and
/// the database.
#[derive(Clone, Copy)]
pub(crate) struct SetTarget<'a> {
    /// Password and the user's client arguments.
    pub conn: &'a Connection,
    /// The database.
    pub database: &'a str,
    /// Whether the sessions that build indexes and constraints ask the
    /// server to check on their client while a statement runs (see
    /// [`SetTarget::checks_clients`]).
    pub check_clients: bool,
}

/// How often the server checks, while a statement of a set restore's
/// index and constraint builds runs, that its client is still there
/// (`client_connection_check_interval`, milliseconds).
const CLIENT_CHECK_MS: u32 = 1000;

/// Asks the server to check on `cmd`'s client while its statements run;
/// the user's own `PGOPTIONS` come after, and win.
fn ask_client_check(cmd: &mut Command) {
    let mut options = format!("-c client_connection_check_interval={CLIENT_CHECK_MS}");
    if let Some(own) = env_nonempty("PGOPTIONS") {
        options.push(' ');
        options.push_str(&own);
    }
    cmd.env("PGOPTIONS", options);
}

impl SetTarget<'_> {
    /// Whether the build sessions can ask the server to end a statement
    /// whose client is gone without waiting for its end
    /// (`client_connection_check_interval`, PostgreSQL 14 and later, set
    /// through `PGOPTIONS`): a build whose `pg_restore` died with a killed
    /// dbbr then stops within a second instead of running on for as long
    /// as the build takes. A probe connects with the option: an older
    /// server refuses it, and so does a connection pooler that passes no
    /// options (PgBouncer: "unsupported startup parameter"); then the
    /// builds connect without it, as before.
    pub(crate) fn checks_clients(&self) -> bool {
        let args = self.psql_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut cmd = super::pg_query::psql_command(self.conn, &args, &[]);
        ask_client_check(&mut cmd);
        let shown = super::client::run_query_as(
            cmd,
            "psql",
            "SHOW client_connection_check_interval;",
            super::client::QueryMode::Normal,
        );
        match shown {
            Ok(_) => true,
            Err(e) => {
                tracing::debug!("the index builds connect without a client check: {e}");
                false
            }
        }
    }

    /// [`ask_client_check`] on `cmd` if the connection takes it.
    fn check_client(&self, cmd: &mut Command) {
        if self.check_clients {
            ask_client_check(cmd);
        }
    }

    fn psql_args(&self) -> Vec<String> {
        let mut args = self.conn.connect_args(Engine::Postgres);
        args.extend(dbname_args(self.database));
        args
    }

    /// The objects and large objects the database holds now.
    pub(crate) fn before(&self) -> Result<Before> {
        let args = self.psql_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let query = format!(
            "SELECT json_build_object('objects', (SELECT coalesce(json_agg(classid::oid::text \
             || ':' || objid::text), '[]') FROM ({OBJECTS}) o), 'large_objects', \
             (SELECT coalesce(json_agg(oid::int8), '[]') FROM pg_largeobject_metadata));"
        );
        let out = super::pg_query::psql(self.conn, &args, self.database, &query)?;
        parse_json(&[out])
    }

    /// Drops what a failed restore made in a database that held `before`:
    /// every object of [`OBJECTS`] it did not have (with what depends on
    /// it) and its large objects, also after a signal, bounded, after
    /// stopping its sessions still running (a part's client, an index
    /// build), committing every [`DROPS_PER_COMMIT`] drops. Fails, naming
    /// them, if objects the restore made are left.
    pub(crate) fn drop_created(&self, before: &Before) -> Result<()> {
        let objects: Vec<String> = before.objects.iter().map(|o| literal(o)).collect();
        let made = format!(
            "SELECT classid, objid FROM ({OBJECTS}) o WHERE classid::oid::text || ':' || \
             objid::text <> ALL (ARRAY[{}]::text[])",
            objects.join(", ")
        );
        let large_objects: Vec<String> = before.large_objects.iter().map(u32::to_string).collect();
        // A killed pg_restore's server session goes on building an index
        // (it does not read from its client), holding the table's lock.
        let script = format!(
            r#"SELECT count(pg_catalog.pg_terminate_backend(pid)) FROM pg_catalog.pg_stat_activity
  WHERE datname = current_database() AND application_name = {app}
  AND pid <> pg_catalog.pg_backend_pid();
DO $dbbr$
DECLARE
  r record;
  still boolean;
  dropped int := 0;
BEGIN
  FOR r IN SELECT classid, objid, (pg_identify_object(classid, objid, 0)).*
      FROM ({made}) m ORDER BY {DROP_ORDER} LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s WHERE oid = $1)', r.classid::regclass)
      INTO still USING r.objid;
    CONTINUE WHEN NOT still OR r.type NOT IN ('event trigger', 'extension', 'schema',
      'publication', 'table', 'view', 'materialized view', 'sequence', 'foreign table',
      'function', 'procedure', 'aggregate', 'type', 'collation', 'conversion', 'operator',
      'operator class', 'operator family', 'cast', 'text search configuration',
      'text search dictionary', 'text search parser', 'text search template',
      'foreign-data wrapper', 'server', 'language', 'access method');
    EXECUTE 'DROP ' || CASE r.type WHEN 'foreign-data wrapper' THEN 'FOREIGN DATA WRAPPER'
      ELSE upper(r.type) END || ' ' || r.identity || ' CASCADE';
    dropped := dropped + 1;
    IF dropped % {DROPS_PER_COMMIT} = 0 THEN COMMIT; END IF;
  END LOOP;
  FOR r IN SELECT oid FROM pg_largeobject_metadata
      WHERE oid <> ALL (ARRAY[{large_objects}]::oid[]) LOOP
    PERFORM pg_catalog.lo_unlink(r.oid);
    dropped := dropped + 1;
    IF dropped % {DROPS_PER_COMMIT} = 0 THEN COMMIT; END IF;
  END LOOP;
END
$dbbr$;
SELECT (pg_identify_object(classid, objid, 0)).type || ' ' ||
  (pg_identify_object(classid, objid, 0)).identity FROM ({made}) m;"#,
            large_objects = large_objects.join(", "),
            app = literal(&session_name()),
        );
        let args = self.psql_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let left = super::pg_query::psql_as(
            self.conn,
            &args,
            &[("db", self.database)],
            &script,
            super::client::QueryMode::Cleanup,
        )?;
        // The first line counts the sessions stopped.
        let left: Vec<&str> = left.lines().skip(1).filter(|l| !l.is_empty()).collect();
        if left.is_empty() {
            return Ok(());
        }
        Err(crate::error::Error::Database {
            program: "psql".into(),
            message: format!("left in place: {}", left.join(", ")),
        })
    }

    /// `pg_restore` of the custom archive at `path` into the database,
    /// `jobs` at once, stopping at the first error: the entries the file
    /// at `list` names (`-L`).
    pub(crate) fn post_data(&self, path: &str, list: &str, jobs: usize) -> Command {
        let mut cmd = Command::new("pg_restore");
        cmd.args(["--exit-on-error", "--no-password"]);
        cmd.arg(format!("--jobs={}", jobs.max(1)));
        cmd.arg(format!("--use-list={list}"));
        cmd.env("PGAPPNAME", session_name());
        cmd.args(self.conn.connect_args(Engine::Postgres));
        cmd.args(dbname_args(self.database));
        cmd.arg(path);
        client_environment(&mut cmd, Engine::Postgres, self.conn.env(Engine::Postgres));
        self.check_client(&mut cmd);
        cmd
    }

    /// `psql` running `statements` one after the other, each a
    /// transaction of its own, in a session set up as `pg_restore` sets
    /// up its own (no timeouts, no row security, an empty search path),
    /// under this restore's session name; it stops at the first error.
    pub(crate) fn statements(&self, statements: &[&str]) -> Command {
        let mut cmd = Command::new("psql");
        cmd.args(["-X", "-q", "-w", "-v", "ON_ERROR_STOP=1"]);
        cmd.env("PGAPPNAME", session_name());
        cmd.args(self.conn.connect_args(Engine::Postgres));
        cmd.args(dbname_args(self.database));
        cmd.args([
            "-c",
            "SET statement_timeout = 0; SET lock_timeout = 0; \
             SET idle_in_transaction_session_timeout = 0; \
             SET standard_conforming_strings = on; SET client_min_messages = warning; \
             SET row_security = off; SELECT pg_catalog.set_config('search_path', '', false);",
        ]);
        for statement in statements {
            cmd.args(["-c", statement]);
        }
        client_environment(&mut cmd, Engine::Postgres, self.conn.env(Engine::Postgres));
        speak_utf8(&mut cmd);
        self.check_client(&mut cmd);
        cmd
    }

    /// `pg_restore` reading the custom archive at `path` without a
    /// database: its listing (`-l`), or else its SQL (`-f -`).
    pub(crate) fn read_archive(&self, path: &str, listing: bool) -> Command {
        let mut cmd = Command::new("pg_restore");
        cmd.arg(if listing { "--list" } else { "--file=-" });
        cmd.arg(path);
        client_environment(&mut cmd, Engine::Postgres, self.conn.env(Engine::Postgres));
        cmd
    }
}
