//! Evidence gathered from a dump while it streams, stored in the backup's
//! manifest and checked again when the backup is verified: the dump's
//! format, whether the dump tool wrote its completion line, rows per table,
//! and the byte count.
//!
//! A [`DumpInspector`] sees every byte once, in chunks cut anywhere (in the
//! middle of a line, a quoted string or an escape), keeps at most the capped
//! start of one line, and allocates only per table or statement, not per
//! byte:
//!
//! - the format comes from the first bytes: `PGDMP` (pg_dump custom archive),
//!   `ustar` at offset 257 (pg_dump tar archive), else plain SQL text;
//! - in plain PostgreSQL dumps, rows are the lines of each `COPY ... FROM
//!   stdin;` block up to `\.`, keyed by the table name as written after
//!   `COPY` (`public."My Table"`); `INSERT` statements (`pg_dump --inserts`)
//!   count in table-data sections only, not in function bodies;
//! - in MariaDB/MySQL dumps, rows are the top-level tuples of `INSERT` /
//!   `INSERT IGNORE` / `REPLACE` statements, keyed by the table name without
//!   backticks, as `db.table` once a `USE` line named the database; inserts
//!   between `DELIMITER ;;` lines (trigger and routine bodies) do not count;
//! - the completion line is one of
//!   `-- PostgreSQL database dump complete`,
//!   `-- PostgreSQL database cluster dump complete` (the only one that
//!   completes a pg_dumpall dump) or `-- Dump completed on ...` (MariaDB;
//!   without a date under `--skip-dump-date`), seen outside any data.
//!
//! The same table named twice sums; so do tables of the same name in
//! different databases of a pg_dumpall dump (it has no `USE` lines). Row
//! counts are evidence that the dump still holds what it held when it was
//! written, for verify to compare, not a census of the database.

mod insert;
mod name;
mod text;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use text::TextScanner;

/// How many leading bytes decide the format (`ustar` ends at offset 262).
const SNIFF_LEN: usize = 262;

/// A dump's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DumpFormat {
    /// SQL text (pg_dump plain format, pg_dumpall, mariadb-dump).
    Plain,
    /// pg_dump's custom archive format (`-Fc`).
    Custom,
    /// pg_dump's tar archive format (`-Ft`).
    Tar,
}

/// Which dump tool's completion line was seen last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Completion {
    /// `-- PostgreSQL database dump complete` (pg_dump; also after each
    /// database of a pg_dumpall dump).
    Postgresql,
    /// `-- PostgreSQL database cluster dump complete` (pg_dumpall).
    PostgresqlCluster,
    /// `-- Dump completed on ...` (mariadb-dump, mysqldump).
    Mariadb,
}

/// What a dump was seen to contain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Evidence {
    /// The format, from the first bytes.
    pub format: DumpFormat,
    /// Bytes seen.
    pub raw_bytes: u64,
    /// Whether the dump tool's completion line was seen; `None` for archive
    /// formats, which have none. In a pg_dumpall dump (which says so in its
    /// first lines) only the cluster line counts.
    pub completion_line: Option<bool>,
    /// Which completion line was seen last, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion: Option<Completion>,
    /// Rows per table (plain format only; empty for archives).
    pub rows: BTreeMap<String, u64>,
}

/// Gathers [`Evidence`] from dump bytes fed in chunks of any size: call
/// [`update`](Self::update) with each chunk as it streams past, then
/// [`finish`](Self::finish).
#[derive(Debug)]
pub struct DumpInspector {
    raw_bytes: u64,
    /// The first bytes, held until they decide the format.
    sniff: Vec<u8>,
    format: Option<DumpFormat>,
    text: TextScanner,
}

impl Default for DumpInspector {
    fn default() -> Self {
        Self::new()
    }
}

impl DumpInspector {
    /// An inspector that has seen nothing yet.
    pub fn new() -> Self {
        DumpInspector {
            raw_bytes: 0,
            sniff: Vec::with_capacity(SNIFF_LEN),
            format: None,
            text: TextScanner::new(),
        }
    }

    /// Looks at the next bytes of the dump.
    pub fn update(&mut self, chunk: &[u8]) {
        self.raw_bytes += chunk.len() as u64;
        match self.format {
            Some(DumpFormat::Plain) => self.text.feed(chunk),
            Some(DumpFormat::Custom | DumpFormat::Tar) => {}
            None => {
                let taken = (SNIFF_LEN - self.sniff.len()).min(chunk.len());
                self.sniff.extend_from_slice(&chunk[..taken]);
                if let Some(format) = sniff(&self.sniff, false) {
                    self.decide(format);
                    if format == DumpFormat::Plain {
                        self.text.feed(&chunk[taken..]);
                    }
                }
            }
        }
    }

    /// The evidence, once the dump has ended.
    pub fn finish(mut self) -> Evidence {
        if self.format.is_none() {
            let format = sniff(&self.sniff, true).unwrap_or(DumpFormat::Plain);
            self.decide(format);
        }
        let format = self.format.unwrap_or(DumpFormat::Plain);
        let found = self.text.finish();
        let plain = format == DumpFormat::Plain;
        Evidence {
            format,
            raw_bytes: self.raw_bytes,
            completion_line: plain.then_some(found.complete),
            completion: found.completion,
            rows: found.rows,
        }
    }

    /// Settles the format; plain text replays the bytes held so far.
    fn decide(&mut self, format: DumpFormat) {
        self.format = Some(format);
        let held = std::mem::take(&mut self.sniff);
        if format == DumpFormat::Plain {
            self.text.feed(&held);
        }
    }
}

/// The format the first bytes show, `None` while too few are known (with
/// `ended`, the dump has no more).
fn sniff(head: &[u8], ended: bool) -> Option<DumpFormat> {
    const CUSTOM_MAGIC: &[u8] = b"PGDMP";
    const TAR_MAGIC: &[u8] = b"ustar";
    if head.starts_with(CUSTOM_MAGIC) {
        return Some(DumpFormat::Custom);
    }
    if head.len() < CUSTOM_MAGIC.len() && CUSTOM_MAGIC.starts_with(head) && !ended {
        return None;
    }
    match head.get(257..262) {
        Some(magic) if magic == TAR_MAGIC => Some(DumpFormat::Tar),
        Some(_) => Some(DumpFormat::Plain),
        None if ended => Some(DumpFormat::Plain),
        None => None,
    }
}

#[cfg(test)]
mod tests;
