//! A set's post-data archive: decoded into a memory file before the data
//! parts load, cut by table ([`post_data`](crate::restore::post_data)),
//! each table's indexes and constraints built as soon as its parts are in,
//! each foreign key as soon as its two tables are, and the rest built at
//! the end by `pg_restore -j N`.

use std::collections::BTreeSet;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::sync::atomic::AtomicBool;

use super::super::post_data::{plan, ForeignKey, PostDataPlan};
use super::{memory_file, part_failed, Sizes};
use crate::engine::SetTarget;
use crate::error::{Result, Stage};
use crate::manifest::SetPart;
use crate::restore::Context;

/// The post-data archive, in memory, and how it is cut.
pub(super) struct PostData<'p> {
    part: &'p SetPart,
    archive: File,
    /// Which entries are built with which table, and which at the end.
    pub plan: PostDataPlan,
    /// Bytes of the archive, and bytes read from storage.
    pub sizes: Sizes,
}

impl PostData<'_> {
    fn path(file: &File) -> String {
        format!("/proc/{}/fd/{}", std::process::id(), file.as_raw_fd())
    }
}

impl Context<'_> {
    /// Reads the post-data `part` into memory and cuts it by `tables` (the
    /// tables the data parts load), reading its listing and SQL with
    /// `pg_restore`.
    pub(super) fn read_post_data<'p>(
        &self,
        part: &'p SetPart,
        tables: &BTreeSet<&str>,
        target: SetTarget<'_>,
    ) -> Result<PostData<'p>> {
        let (bytes, stored) = self.part_bytes(part)?;
        let archive = memory_file(&bytes, "dbbr-post-data").map_err(|e| {
            part_failed(
                part,
                Stage::Client,
                format!("cannot hold the archive in memory: {e}"),
            )
        })?;
        let path = PostData::path(&archive);
        let read = |listing| {
            let cmd = target.read_archive(&path, listing);
            self.run_client(part, cmd, "pg_restore", None, &AtomicBool::new(false))
        };
        let (listing, script) = (read(true)?, read(false)?);
        let plan = plan(
            &String::from_utf8_lossy(&listing),
            &String::from_utf8_lossy(&script),
            tables,
        );
        Ok(PostData {
            part,
            archive,
            plan,
            sizes: (bytes.len() as u64, stored),
        })
    }

    /// Builds the indexes and constraints of `tables` (one `pg_restore`,
    /// one job: PostgreSQL builds an index with parallel workers of its
    /// own), stopped once `stop` is set.
    pub(super) fn build_tables(
        &self,
        post: &PostData,
        tables: &[&str],
        target: SetTarget<'_>,
        stop: &AtomicBool,
    ) -> Result<()> {
        let entries: Vec<String> = tables
            .iter()
            .flat_map(|table| post.plan.early.get(*table).into_iter().flatten().cloned())
            .collect();
        self.build(post, &entries, 1, target, stop)
    }

    /// Builds foreign keys, one after the other in one session: those that
    /// can be added `NOT VALID`, then validated (see
    /// [`Validated`](crate::restore::post_data::Validated)), by one `psql`;
    /// the others as the archive has them, by one `pg_restore` (one job).
    pub(super) fn build_keys(
        &self,
        post: &PostData,
        keys: &[&ForeignKey],
        target: SetTarget<'_>,
        stop: &AtomicBool,
    ) -> Result<()> {
        let statements: Vec<&str> = keys
            .iter()
            .filter_map(|key| key.validated.as_ref())
            .flat_map(|v| [v.add.as_str(), v.validate.as_str()])
            .collect();
        if !statements.is_empty() {
            let cmd = target.statements(&statements);
            self.run_client(post.part, cmd, "psql", None, stop)?;
        }
        let lines: Vec<String> = keys
            .iter()
            .filter(|key| key.validated.is_none())
            .map(|key| key.line.clone())
            .collect();
        self.build(post, &lines, 1, target, stop)
    }

    /// Builds everything not built with a table, and the foreign keys
    /// `waiting` (not built during the load), `jobs` at once.
    pub(super) fn build_rest(
        &self,
        post: &PostData,
        waiting: &[&ForeignKey],
        jobs: usize,
        target: SetTarget<'_>,
        stop: &AtomicBool,
    ) -> Result<()> {
        let mut entries = post.plan.rest.clone();
        entries.extend(waiting.iter().map(|key| key.line.clone()));
        self.build(post, &entries, jobs, target, stop)
    }

    fn build(
        &self,
        post: &PostData,
        entries: &[String],
        jobs: usize,
        target: SetTarget<'_>,
        stop: &AtomicBool,
    ) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let mut list = entries.join("\n");
        list.push('\n');
        let list = memory_file(list.as_bytes(), "dbbr-post-data-list").map_err(|e| {
            part_failed(
                post.part,
                Stage::Client,
                format!("cannot hold the list in memory: {e}"),
            )
        })?;
        let cmd = target.post_data(&PostData::path(&post.archive), &PostData::path(&list), jobs);
        self.run_client(post.part, cmd, "pg_restore", None, stop)?;
        Ok(())
    }
}
