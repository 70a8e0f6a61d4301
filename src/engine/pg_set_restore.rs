//! What restoring a parallel backup set asks of PostgreSQL: what an empty
//! target held before, dropping what a failed restore made, and
//! `pg_restore -j` of the post-data archive.

use std::process::Command;

use serde::Deserialize;

use super::client::{client_environment, Connection};
use super::pg_set::{literal, parse_json};
use super::postgres::dbname_args;
use super::Engine;
use crate::error::Result;

/// What an empty database held before a set was restored into it: what a
/// failed restore must leave.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct Before {
    schemas: Vec<String>,
    extensions: Vec<String>,
    large_objects: Vec<u32>,
}

/// Where a set restores: the connection (with the client arguments) and
/// the database.
#[derive(Clone, Copy)]
pub(crate) struct SetTarget<'a> {
    /// Password and the user's client arguments.
    pub conn: &'a Connection,
    /// The database.
    pub database: &'a str,
}

impl SetTarget<'_> {
    fn psql_args(&self) -> Vec<String> {
        let mut args = self.conn.connect_args(Engine::Postgres);
        args.extend(dbname_args(self.database));
        args
    }

    /// The schemas and extensions the database holds now.
    pub(crate) fn before(&self) -> Result<Before> {
        let args = self.psql_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = super::postgres::psql(
            self.conn,
            &args,
            self.database,
            "SELECT json_build_object('schemas', (SELECT coalesce(json_agg(nspname), '[]') \
             FROM pg_namespace WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'), \
             'extensions', (SELECT coalesce(json_agg(extname), '[]') FROM pg_extension), \
             'large_objects', (SELECT coalesce(json_agg(oid::int8), '[]') \
             FROM pg_largeobject_metadata));",
        )?;
        parse_json(&[out])
    }

    /// Drops what a failed restore made in a database that held `before`:
    /// extensions, schemas and large objects it did not have, and the
    /// tables, views, sequences, routines and types in the schemas it had
    /// (also after a signal, bounded).
    pub(crate) fn drop_created(&self, before: &Before) -> Result<()> {
        let array = |items: &[String]| {
            let quoted: Vec<String> = items.iter().map(|s| literal(s)).collect();
            format!("ARRAY[{}]::text[]", quoted.join(", "))
        };
        let (schemas, extensions) = (array(&before.schemas), array(&before.extensions));
        let large_objects = format!(
            "ARRAY[{}]::oid[]",
            before
                .large_objects
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(", ")
        );
        let script = format!(
            r#"DO $dbbr$
DECLARE
  item text;
BEGIN
  FOREACH item IN ARRAY coalesce((SELECT array_agg(quote_ident(extname)) FROM pg_extension
      WHERE extname <> ALL ({extensions})), '{{}}') LOOP
    EXECUTE 'DROP EXTENSION IF EXISTS ' || item || ' CASCADE';
  END LOOP;
  FOREACH item IN ARRAY coalesce((SELECT array_agg(quote_ident(nspname)) FROM pg_namespace
      WHERE nspname !~ '^pg_' AND nspname <> 'information_schema'
      AND nspname <> ALL ({schemas})), '{{}}') LOOP
    EXECUTE 'DROP SCHEMA IF EXISTS ' || item || ' CASCADE';
  END LOOP;
  FOREACH item IN ARRAY coalesce((SELECT array_agg(CASE x.relkind WHEN 'v' THEN 'VIEW '
      WHEN 'm' THEN 'MATERIALIZED VIEW ' WHEN 'f' THEN 'FOREIGN TABLE ' WHEN 'S' THEN 'SEQUENCE '
      ELSE 'TABLE ' END || 'IF EXISTS ' || quote_ident(n.nspname) || '.' || quote_ident(x.relname))
      FROM pg_class x JOIN pg_namespace n ON n.oid = x.relnamespace
      WHERE n.nspname = ANY ({schemas}) AND x.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
      AND d.objid = x.oid AND d.refobjid <> x.oid AND d.deptype IN ('e', 'i', 'a'))), '{{}}') LOOP
    EXECUTE 'DROP ' || item || ' CASCADE';
  END LOOP;
  FOREACH item IN ARRAY coalesce((SELECT array_agg(x.oid::regprocedure::text)
      FROM pg_proc x JOIN pg_namespace n ON n.oid = x.pronamespace
      WHERE n.nspname = ANY ({schemas}) AND NOT EXISTS (SELECT 1 FROM pg_depend d
      WHERE d.classid = 'pg_proc'::regclass AND d.objid = x.oid AND d.deptype = 'e')), '{{}}') LOOP
    EXECUTE 'DROP ROUTINE IF EXISTS ' || item || ' CASCADE';
  END LOOP;
  FOREACH item IN ARRAY coalesce((SELECT array_agg(quote_ident(n.nspname) || '.' || quote_ident(x.typname))
      FROM pg_type x JOIN pg_namespace n ON n.oid = x.typnamespace
      WHERE n.nspname = ANY ({schemas}) AND x.typtype IN ('c', 'd', 'e', 'r')
      AND (x.typrelid = 0 OR (SELECT relkind FROM pg_class WHERE oid = x.typrelid) = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_type'::regclass
      AND d.objid = x.oid AND d.deptype = 'e')), '{{}}') LOOP
    EXECUTE 'DROP TYPE IF EXISTS ' || item || ' CASCADE';
  END LOOP;
  PERFORM pg_catalog.lo_unlink(oid) FROM pg_largeobject_metadata
    WHERE oid <> ALL ({large_objects});
END
$dbbr$;"#
        );
        let args = self.psql_args();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        super::postgres::psql_as(
            self.conn,
            &args,
            &[("db", self.database)],
            &script,
            super::client::QueryMode::Cleanup,
        )
        .map(drop)
    }

    /// `pg_restore` of the custom archive at `path` into the database,
    /// `jobs` at once, stopping at the first error.
    pub(crate) fn post_data(&self, path: &str, jobs: usize) -> Command {
        let mut cmd = Command::new("pg_restore");
        cmd.args(["--exit-on-error", "--no-password"]);
        cmd.arg(format!("--jobs={}", jobs.max(1)));
        cmd.args(self.conn.connect_args(Engine::Postgres));
        cmd.args(dbname_args(self.database));
        cmd.arg(path);
        client_environment(&mut cmd, Engine::Postgres, self.conn.env(Engine::Postgres));
        cmd
    }
}
